package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynqmon"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/crawls"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/jobs/keys"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/jobs/spaces"
	"github.com/ragqueue/ragqueue/obs"
)

// server holds what the HTTP handlers use: the use cases the app hands
// over, and what HTTP itself needs.
type server struct {
	cfg    app.Config
	logger *slog.Logger
	keys   *keys.Service
	// jobs reads job records and waits for jobs to end.
	jobs *jobs.Client
	// ingest is the document use cases: uploads, versions, retries,
	// deletes, listing.
	ingest *documents.Service
	// queries checks, answers, searches and cancels questions, and keeps
	// their conversations.
	queries *queries.Service
	// crawler checks, enqueues and shows crawls.
	crawler *crawls.Service
	// reindexer builds another embedding space (POST /v1/admin/reindex).
	reindexer *spaces.Service
	ready     func(ctx context.Context) map[string]error

	// Operations; any may be nil (the OpenAPI test builds routes only).
	httpMetrics *obs.HTTP
	metrics     http.Handler // /metrics on the main router, admin keys only
	limiter     ragqueue.RateLimiter
	monitor     http.Handler // the Asynq web UI under /monitoring/
	sessionKey  []byte       // signs monitoring session cookies

	// feed relays job events (SSE, WebSocket).
	feed        *jobs.Feed
	streamsDown shutdownSignal // ends SSE and WebSocket streams at shutdown
}

// newServer makes the handlers' server from the use cases the app built.
func newServer(cfg app.Config, logger *slog.Logger, svc app.Services) *server {
	return &server{
		cfg: cfg, logger: logger,
		keys: svc.Keys, jobs: svc.Jobs, feed: svc.Feed, limiter: svc.Limiter, ready: svc.Ready,
		ingest: svc.Documents, queries: svc.Queries, crawler: svc.Crawler, reindexer: svc.Reindexer,
	}
}

// instance is a running ragqueue API process: HTTP server, and in embedded
// mode (or with RAGQ_RUN_WORKERS) the workers too.
type instance struct {
	app         *app.App
	srv         *http.Server
	ln          net.Listener
	stopWorkers func()
	metricsSrv  *app.MetricsServer
	monitor     *asynqmon.HTTPHandler
	served      chan error
	cancel      context.CancelFunc
}

// start opens everything, bootstraps the admin key, starts the workers when
// this process runs them, and serves HTTP on cfg.Addr. out receives the
// one-time admin key notice; opts adjust the app (tests slow the embedder
// down).
func start(ctx context.Context, cfg app.Config, logger *slog.Logger, out io.Writer, opts ...app.Option) (inst *instance, err error) {
	// The app's background loops (embedded Redis clock) live as long as the
	// instance, not as long as the caller's ctx.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	inst = &instance{cancel: cancel, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			inst.close()
		}
	}()
	a, err := app.Open(bg, cfg, logger, opts...)
	if err != nil {
		return nil, err
	}
	inst.app = a
	svc := a.Services()
	embedder, generator := a.Models()
	logger.Info("ragqueue api starting", "mode", a.Mode(), "addr", cfg.Addr, "data_dir", cfg.DataDir,
		"database", map[bool]string{true: "postgres", false: "sqlite"}[cfg.DatabaseURL != ""],
		"embedder", embedder, "generator", generator, "run_workers", cfg.RunWorkers)

	if err := svc.Keys.Bootstrap(ctx, cfg.AdminKey, out); err != nil {
		return nil, err
	}
	if cfg.RunWorkers {
		if inst.stopWorkers, err = a.StartWorkers(bg); err != nil {
			return nil, err
		}
	}
	s := newServer(cfg, logger, svc)
	if s.sessionKey, err = sessionKey(cfg.SessionSecret); err != nil {
		return nil, err
	}
	// The pipeline figures are recorded by the workers this process runs
	// (StartWorkers), on the same registry.
	reg := svc.Registry
	s.httpMetrics = obs.NewHTTP(reg)
	s.metrics = app.MetricsHandler(reg, logger)
	inst.monitor = asynqmon.New(asynqmon.Options{RootPath: monitoringRoot, RedisConnOpt: svc.RedisOpt})
	s.monitor = inst.monitor
	if cfg.MetricsAddr != "" {
		if inst.metricsSrv, err = app.StartMetricsServer(cfg.MetricsAddr, reg, logger); err != nil {
			return nil, err
		}
	}
	inst.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (RAGQ_ADDR): %w", cfg.Addr, err)
	}
	inst.srv = newHTTPServer(cfg, s.routes(), logger)
	inst.srv.RegisterOnShutdown(s.streamsDown.Fire)
	go func() { inst.served <- inst.srv.Serve(inst.ln) }()
	logger.Info("ragqueue api listening", "addr", inst.ln.Addr().String())
	return inst, nil
}

// newHTTPServer sets the limits that keep slow or oversized clients from
// holding connections: headers must arrive within 10 s, the whole request
// (uploads included) within RAGQ_HTTP_READ_TIMEOUT, headers stay under
// 64 KiB, and idle keep-alive connections close after 2 minutes. There is
// no write timeout: sync queries wait up to RAGQ_QUERY_TIMEOUT and event
// streams stay open.
func newHTTPServer(cfg app.Config, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.HTTPReadTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Addr is the address the API listens on.
func (i *instance) Addr() string { return i.ln.Addr().String() }

// shutdown stops accepting requests, lets running ones finish within ctx,
// stops the workers (running jobs finish or go back to Redis), and closes
// everything.
func (i *instance) shutdown(ctx context.Context) error {
	var errs []error
	if i.srv != nil {
		if err := i.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-i.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if i.metricsSrv != nil {
		if err := i.metricsSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
		}
		i.metricsSrv = nil
	}
	errs = append(errs, i.close())
	return errors.Join(errs...)
}

func (i *instance) close() error {
	if i.metricsSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = i.metricsSrv.Shutdown(ctx)
		cancel()
		i.metricsSrv = nil
	}
	if i.monitor != nil {
		_ = i.monitor.Close()
		i.monitor = nil
	}
	if i.stopWorkers != nil {
		i.stopWorkers()
		i.stopWorkers = nil
	}
	var err error
	if i.app != nil {
		err = i.app.Close()
		i.app = nil
	}
	i.cancel()
	return err
}
