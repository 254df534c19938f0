package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// Persistent is a dedicated redis-server for fault-injection tests: it
// writes an append-only file (appendonly yes, appendfsync everysec, as the
// deploy configs do) to its own directory, and the test can kill it and
// start it again on the same port and directory, so that clients configured
// with its address find it again with whatever the AOF kept.
type Persistent struct {
	bin  string
	dir  string
	port int

	mu  sync.Mutex
	cur *Server // the running process; nil while killed
}

// StartPersistent starts a dedicated redis-server with AOF on a free
// loopback port, in a temp dir, and kills it when tb ends. It skips tb when
// redis-server is missing, or fails it under CI=true.
func StartPersistent(tb testing.TB) *Persistent {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redistest: redis-server not found under CI=true: %v", err)
		}
		tb.Skipf("redistest: redis-server not found: %v", err)
	}
	p := &Persistent{bin: bin, dir: tb.TempDir()}
	var lastErr error
	for range 3 { // the free port may be taken before the server binds it
		if p.port, err = freePort(); err != nil {
			tb.Fatalf("%v", err)
		}
		if lastErr = p.Start(tb.Context()); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("redistest: %v", lastErr)
	}
	tb.Cleanup(p.Kill)
	return p
}

// Addr is the server's host:port; it stays the same across restarts.
func (p *Persistent) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Dir is the server's working directory, where the AOF lives.
func (p *Persistent) Dir() string { return p.dir }

// Opt is the connection option for database db, for Asynq.
func (p *Persistent) Opt(db int) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: p.Addr(), DB: db}
}

// Start runs redis-server on the Persistent's port and directory (loading
// the AOF left there, if any) and waits until it answers PING. It is an
// error to start a server that runs.
func (p *Persistent) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		return fmt.Errorf("redistest: redis-server on %s already runs", p.Addr())
	}
	logPath := filepath.Join(p.dir, "redis.log")
	cmd := exec.Command(p.bin,
		"--port", strconv.Itoa(p.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "everysec",
		"--maxmemory-policy", "noeviction",
		"--databases", strconv.Itoa(databases),
		"--dir", p.dir,
		"--logfile", logPath,
	)
	cmd.SysProcAttr = sysProcAttr()
	s := &Server{cmd: cmd, addr: p.Addr(), exited: make(chan struct{})}
	if err := s.run(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		_ = cmd.Process.Kill()
		<-s.exited
		logTail, _ := os.ReadFile(logPath)
		return fmt.Errorf("redistest: redis-server on %s: %w; log:\n%s", s.addr, err, tail(string(logTail), 2000))
	}
	p.cur = s
	return nil
}

// Kill sends SIGKILL to the running server, as a crash would, and waits
// until it has exited; its directory and AOF stay. It does nothing while
// the server is not running.
func (p *Persistent) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return
	}
	_ = p.cur.cmd.Process.Kill()
	<-p.cur.exited
	p.cur = nil
}
