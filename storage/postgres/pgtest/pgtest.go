// Package pgtest starts a throwaway PostgreSQL server for tests: one cluster
// per test binary (see Main), one fresh database per test (NewDatabase).
//
// It needs the PostgreSQL server binaries (initdb, postgres), found through
// RAGQ_PG_BINDIR, `pg_config --bindir` or /usr/lib/postgresql/15/bin. As
// root, which initdb and postgres refuse, they run as the `postgres` system
// user. When the server cannot start, tests skip, except under CI=true where
// the test binary fails.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Cluster is a running throwaway PostgreSQL server, or, when Main could not
// start one, the reason why (then NewDatabase skips or fails the test).
type Cluster struct {
	err error // why there is no server; nil when it runs

	dir   string // temp dir: data directory, socket, log
	port  int
	cmd   *exec.Cmd
	done  chan struct{} // closed when the server process has exited
	admin *pgxpool.Pool // connected to the "postgres" database

	// What Resume needs to start the server again.
	bindir, data string
	cred         *syscall.Credential

	stopOnce sync.Once
}

// InCI reports whether the tests run in CI (CI=true), where a server that
// cannot start is a failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Main is TestMain for a package whose tests share one cluster: it starts the
// server, stores it in *c, runs the tests, stops the server and exits. When
// the server cannot start it exits non-zero under CI=true; otherwise it runs
// the tests with a cluster whose NewDatabase skips.
func Main(m *testing.M, c **Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cl, err := Start(ctx)
	cancel()
	if err != nil {
		if InCI() {
			fmt.Fprintf(os.Stderr, "pgtest: cannot start PostgreSQL (CI=true, so this fails): %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL unavailable, its tests will skip: %v\n", err)
		cl = &Cluster{err: err}
	}
	*c = cl
	code := m.Run()
	cl.Stop()
	os.Exit(code)
}

// Start initialises a cluster in a temp dir and runs a server on a free
// loopback port. Stop it with Stop.
func Start(ctx context.Context) (*Cluster, error) {
	bindir, err := binDir(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", "ragq-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temp dir: %w", err)
	}
	data := filepath.Join(dir, "data")
	c := &Cluster{dir: dir, bindir: bindir, data: data, cred: cred}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			c.Stop()
			return nil, fmt.Errorf("pgtest: chown %s to postgres: %w", dir, err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bindir, "initdb"),
		"-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C", "-D", data)
	initdb.Dir = dir // the caller's working directory may be closed to the postgres user
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}

	// The free port can be taken by someone else before the server binds
	// it; then try another.
	for attempt := 1; ; attempt++ {
		err = c.startServer(ctx, bindir, data, cred)
		if err == nil {
			break
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			c.Stop()
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(c.dsn("postgres"))
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	cfg.MaxConns = 4
	c.admin, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("pgtest: connect: %w", err)
	}
	return c, nil
}

var errPortTaken = errors.New("pgtest: port taken")

// startServer runs postgres on a fresh port and waits until it accepts
// connections.
func (c *Cluster) startServer(ctx context.Context, bindir, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	return c.startOn(ctx, bindir, data, cred, port)
}

// startOn runs postgres on port and waits until it accepts connections.
func (c *Cluster) startOn(ctx context.Context, bindir, data string, cred *syscall.Credential, port int) error {
	logPath := filepath.Join(c.dir, fmt.Sprintf("postgres-%d.log", port))
	// Appended to: a resumed server (Resume) logs after the paused one.
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(filepath.Join(bindir, "postgres"),
		"-D", data, "-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
		"-c", "max_connections=200")
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: a test binary that dies (panic, timeout) takes the server
	// with it instead of leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.cmd, c.done, c.port = cmd, done, port

	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.dsn("postgres")+"&connect_timeout=2")
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-done:
			c.cmd, c.done = nil, nil
			log, _ := os.ReadFile(logPath)
			if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("already in use")) {
				return errPortTaken
			}
			return fmt.Errorf("pgtest: postgres exited: %s", tail(log))
		case <-ctx.Done():
			return fmt.Errorf("pgtest: waiting for postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres not ready after 30s: %v: %s", err, tail(log))
		}
	}
}

// Stop shuts the server down, killing it if it does not stop promptly, and
// removes its files. It is safe to call more than once and on a cluster
// that never started.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.admin != nil {
			c.admin.Close()
		}
		if c.cmd != nil {
			// SIGQUIT is an immediate shutdown: nothing here is worth keeping.
			c.shutdown(syscall.SIGQUIT, 10*time.Second)
		}
		if c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// shutdown sends sig to the running server, kills it if it has not exited
// within grace, and waits until it has exited.
func (c *Cluster) shutdown(sig syscall.Signal, grace time.Duration) {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd, c.done = nil, nil
}

// NewDatabase creates an empty database with a unique name, drops it when tb
// ends, and returns its DSN. Without a running server it skips tb, or fails
// it under CI=true.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	if c == nil || c.err != nil {
		reason := "no cluster: use pgtest.Main in TestMain"
		if c != nil {
			reason = c.err.Error()
		}
		if InCI() {
			tb.Fatalf("PostgreSQL unavailable under CI=true: %s", reason)
		}
		tb.Skipf("PostgreSQL unavailable: %s", reason)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()
	ctx := context.Background()
	if _, err := c.admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := c.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.dsn(name)
}

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// removeStale deletes the clusters of test binaries that died without
// Stop (a panic, a timeout): their server, killed with them, left its
// postmaster.pid naming a process that no longer exists.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "ragq-pg-*"))
	for _, dir := range dirs {
		pidFile := filepath.Join(dir, "data", "postmaster.pid")
		fi, err := os.Stat(pidFile)
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// binDir finds the server binaries.
func binDir(ctx context.Context) (string, error) {
	var tried []string
	candidates := []string{os.Getenv("RAGQ_PG_BINDIR")}
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	candidates = append(candidates, "/usr/lib/postgresql/15/bin")
	for _, dir := range candidates {
		if dir == "" {
			continue
		}
		tried = append(tried, dir)
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: no initdb and postgres in %s (install postgresql-15 or set RAGQ_PG_BINDIR)",
		strings.Join(tried, ", "))
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// credential returns who to run initdb and postgres as: nil (ourselves)
// unless we are root, which they refuse; then the postgres system user.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a postgres system user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort asks the kernel for a loopback port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of a server log for an error message.
func tail(log []byte) string {
	const n = 2000
	if len(log) > n {
		log = log[len(log)-n:]
	}
	return string(log)
}
