package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ragqueue/ragqueue/obs"
)

// newMetrics makes this process's metrics registry: Go runtime and process
// figures, the Asynq queues' sizes, latency and failures (read from Redis
// at each scrape), and the pipeline figures the jobs record, which it
// returns for them.
func (a *App) newMetrics() (*prometheus.Registry, *obs.Pipeline) {
	reg := obs.NewRegistry()
	reg.MustRegister(metrics.NewQueueMetricsCollector(a.inspector))
	return reg, obs.NewPipeline(reg)
}

// MetricsServer serves /metrics on its own address (RAGQ_METRICS_ADDR),
// without authentication: bind it to an address only Prometheus reaches.
type MetricsServer struct {
	srv    *http.Server
	ln     net.Listener
	served chan error
}

// StartMetricsServer listens on addr and serves reg's metrics at /metrics
// until Shutdown.
func StartMetricsServer(addr string, reg prometheus.Gatherer, logger *slog.Logger) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("app: listen on %s (RAGQ_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", MetricsHandler(reg, logger))
	m := &MetricsServer{
		ln: ln, served: make(chan error, 1),
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}
	go func() { m.served <- m.srv.Serve(ln) }()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return m, nil
}

// Addr is the address the metrics server listens on.
func (m *MetricsServer) Addr() string { return m.ln.Addr().String() }

// Shutdown stops the metrics server.
func (m *MetricsServer) Shutdown(ctx context.Context) error {
	err := m.srv.Shutdown(ctx)
	if serr := <-m.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// MetricsHandler serves reg in the Prometheus text format; a collector that
// fails (Redis away) is logged and the rest is still served.
func MetricsHandler(reg prometheus.Gatherer, logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}
