package obs

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP is the request figures of an HTTP server, labelled by method, route
// template (never the raw path, which would make the series unbounded) and
// status code.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewHTTP makes the HTTP metrics and registers them on reg (nil: not
// exported).
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency, by method, route template and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	register(reg, h.requests, h.duration, h.inFlight)
	return h
}

// Start marks a request as in flight; call the returned function with its
// route template and status when it is answered.
func (h *HTTP) Start(method string) func(route string, status int) {
	start := time.Now()
	method = knownMethod(method)
	h.inFlight.Inc()
	return func(route string, status int) {
		h.inFlight.Dec()
		if route == "" {
			route = "unmatched"
		}
		s := strconv.Itoa(status)
		h.requests.WithLabelValues(method, route, s).Inc()
		h.duration.WithLabelValues(method, route, s).Observe(time.Since(start).Seconds())
	}
}

// knownMethod keeps the method label bounded: a client can send any
// method name.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "OTHER"
}
