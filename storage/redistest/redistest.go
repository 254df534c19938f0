// Package redistest runs a real redis-server for tests: one process per test
// package, and a Redis database per test from a pool, so that tests running
// in parallel never see each other's queues. It also hands out in-process
// miniredis instances for embedded-mode tests.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue/storage/redis"
	goredis "github.com/redis/go-redis/v9"
)

// databases is how many Redis databases the server has, and so how many
// tests can hold one at a time.
const databases = 64

// Server is a redis-server process started for a test package. Start it in
// TestMain and Stop it after m.Run.
type Server struct {
	cmd  *exec.Cmd
	dir  string
	addr string
	// exited is closed when the process has exited.
	exited chan struct{}
	// dbs holds the free database numbers.
	dbs chan int
	// skip, when not empty, is why tests must skip: redis-server could not
	// be started and we are not in CI.
	skip string
}

// Start launches redis-server on a free loopback port with persistence off
// and waits until it answers PING. When redis-server is missing or does not
// come up, it returns an error if the environment says CI=true (so that the
// test binary fails loudly); otherwise it returns a Server whose NewDB skips
// the calling test with the reason.
func Start(ctx context.Context) (*Server, error) {
	s, err := start(ctx)
	if err == nil {
		return s, nil
	}
	if os.Getenv("CI") == "true" {
		return nil, err
	}
	return &Server{skip: err.Error()}, nil
}

func start(ctx context.Context) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found in PATH (install redis-server, e.g. apt-get install redis-server): %w", err)
	}
	// The free port is found by binding :0 and releasing it; another process
	// may grab it meanwhile, so try a few times.
	var lastErr error
	for range 3 {
		s, err := startOnce(ctx, bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-*")
	if err != nil {
		return nil, fmt.Errorf("redistest: temp dir: %w", err)
	}
	logPath := filepath.Join(dir, "goredis.log")
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--databases", strconv.Itoa(databases),
		"--dir", dir,
		"--logfile", logPath,
	)
	cmd.SysProcAttr = sysProcAttr()
	s := &Server{
		cmd:    cmd,
		dir:    dir,
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		exited: make(chan struct{}),
		dbs:    make(chan int, databases),
	}
	if err := s.run(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("redistest: start redis-server: %w", err)
	}
	for i := range databases {
		s.dbs <- i
	}
	if err := s.waitReady(ctx, 10*time.Second); err != nil {
		logTail, _ := os.ReadFile(logPath)
		s.Stop()
		return nil, fmt.Errorf("redistest: redis-server on %s: %w; log:\n%s", s.addr, err, tail(string(logTail), 2000))
	}
	return s, nil
}

// run starts s.cmd and returns once it has started (or failed to); s.exited
// is closed when the process has exited.
func (s *Server) run() error {
	started := make(chan error, 1)
	go func() {
		defer close(s.exited)
		// The parent-death signal fires when the starting thread exits, not
		// the process: keep this goroutine on its thread while the server
		// runs. A server may exit mid-test (Persistent.Kill): unlock before
		// returning, or Go would end the thread, and with it every other
		// child process (a PostgreSQL, a worker) that happened to be started
		// from that thread.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = s.cmd.Wait()
	}()
	return <-started
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls PING until the server answers, exits, or time runs out.
func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := goredis.NewClient(&goredis.Options{Addr: s.addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer func() { _ = c.Close() }()
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return fmt.Errorf("no PING reply: %w", err)
		case <-time.After(delay):
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Stop kills the server and removes its directory. It is safe on a Server
// that never started.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	_ = os.RemoveAll(s.dir)
}

// NewDB hands the test a Redis database of its own, empty, and returns the
// connection option for Asynq. It blocks while all databases are in use. At
// the end of the test the database is flushed and returned to the pool (register
// cleanups that must run first, such as stopping an asynq.Server, after
// calling NewDB). The test is skipped when redis-server is unavailable.
func (s *Server) NewDB(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	if s.skip != "" {
		t.Skipf("redistest: no redis-server: %s", s.skip)
	}
	var db int
	select {
	case db = <-s.dbs:
	case <-t.Context().Done():
		t.Fatalf("redistest: no free database: %v", t.Context().Err())
	}
	if err := s.flush(t.Context(), db); err != nil {
		s.dbs <- db
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.flush(ctx, db); err != nil {
			t.Errorf("redistest: %v", err)
			return // a dirty database is not handed out again
		}
		s.dbs <- db
	})
	return asynq.RedisClientOpt{Addr: s.addr, DB: db}
}

// Flush empties the test's database (as if Redis had lost its data).
func Flush(ctx context.Context, opt asynq.RedisClientOpt) error {
	c := goredis.NewClient(&goredis.Options{Addr: opt.Addr, DB: opt.DB, Password: opt.Password})
	defer func() { _ = c.Close() }()
	if err := c.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush database %d: %w", opt.DB, err)
	}
	return nil
}

func (s *Server) flush(ctx context.Context, db int) error {
	return Flush(ctx, asynq.RedisClientOpt{Addr: s.addr, DB: db})
}

// Miniredis starts an in-process miniredis for the test, with TTLs following
// the wall clock as in embedded mode (see redis.RunMiniredisClock), and
// returns the connection option for Asynq. It is closed when the test ends.
func Miniredis(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatalf("redistest: start miniredis: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		redis.RunMiniredisClock(ctx, m, 100*time.Millisecond)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	return asynq.RedisClientOpt{Addr: m.Addr()}
}
