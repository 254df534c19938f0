package obs

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric ragqueue defines itself.
const Namespace = "ragqueue"

// NewRegistry returns a registry holding the Go runtime and process
// collectors, ready for the HTTP, pipeline and queue metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// register registers cs on reg; a nil reg leaves them unregistered, which
// tests use to get working metrics without exporting them.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) {
	if reg == nil {
		return
	}
	reg.MustRegister(cs...)
}
