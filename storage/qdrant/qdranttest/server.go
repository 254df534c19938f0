// Package qdranttest is an in-memory Qdrant gRPC server for tests: the
// collection, alias and point RPCs that ragqueue's Qdrant adapter uses,
// served on a loopback port from go-client's generated server interfaces.
// It checks the arguments of every call the way ragqueue promises to make
// them (every search and every delete filtered by tenant, writes with
// wait=true, bounded batches) and fails the test that started it when a
// call breaks a rule. It is not a Qdrant: it searches by brute force.
package qdranttest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Limits the fake enforces on the adapter's calls.
const (
	// MaxUpsertBatch is the most points one Upsert may carry.
	MaxUpsertBatch = 256
	// MaxLimit is the most points one Query, Scroll or Get may ask for.
	MaxLimit = 1000
)

// Version is what the fake's health check reports.
const Version = "1.17.0"

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	qc.UnimplementedQdrantServer

	addr string
	grpc *grpc.Server

	mu          sync.RWMutex
	collections map[string]*collection // guarded by mu
	aliases     map[string]string      // alias → collection; guarded by mu
	violations  []string               // guarded by mu
	calls       map[string]int         // RPC name → count; guarded by mu
}

// Start starts a fake on 127.0.0.1 and returns its address ("host:port").
// It stops when the test ends, and fails the test if any call broke one of
// the fake's rules.
func Start(tb testing.TB) string {
	tb.Helper()
	return New(tb).Addr()
}

// New starts a fake like Start and returns it, for tests that inspect
// calls or stop the server early.
func New(tb testing.TB) *Server {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("qdranttest: listen: %v", err)
	}
	s := &Server{
		addr:        lis.Addr().String(),
		grpc:        grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20)),
		collections: make(map[string]*collection),
		aliases:     make(map[string]string),
		calls:       make(map[string]int),
	}
	qc.RegisterCollectionsServer(s.grpc, collectionsService{Server: s})
	qc.RegisterPointsServer(s.grpc, pointsService{Server: s})
	qc.RegisterQdrantServer(s.grpc, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.grpc.Serve(lis)
	}()
	tb.Cleanup(func() {
		s.Stop()
		<-done
		for _, v := range s.Violations() {
			tb.Errorf("qdranttest: rule broken: %s", v)
		}
	})
	return s
}

// collectionsService serves the Collections RPCs on the server's state.
type collectionsService struct {
	qc.UnimplementedCollectionsServer
	*Server
}

// pointsService serves the Points RPCs on the server's state.
type pointsService struct {
	qc.UnimplementedPointsServer
	*Server
}

// Addr is the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Stop stops serving at once; calls after it fail with Unavailable.
func (s *Server) Stop() { s.grpc.Stop() }

// Violations returns the rule breaks recorded so far.
func (s *Server) Violations() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.violations...)
}

// TakeViolations returns the rule breaks recorded so far and forgets them,
// for tests that break a rule on purpose.
func (s *Server) TakeViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// Calls returns how often the RPC named method (e.g. "Upsert") was called.
func (s *Server) Calls(method string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.calls[method]
}

// PointCount returns the number of points in a collection (0 when it does
// not exist).
func (s *Server) PointCount(collectionName string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.collections[collectionName]; c != nil {
		return len(c.points)
	}
	return 0
}

// violate records a broken rule and returns the InvalidArgument error the
// call fails with. Callers hold mu.
func (s *Server) violate(method, format string, args ...any) error {
	msg := method + ": " + fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	return status.Error(codes.InvalidArgument, "qdranttest: "+msg)
}

// count records a call. Callers hold mu for writing.
func (s *Server) count(method string) { s.calls[method]++ }

// HealthCheck implements qc.QdrantServer.
func (s *Server) HealthCheck(context.Context, *qc.HealthCheckRequest) (*qc.HealthCheckReply, error) {
	s.mu.Lock()
	s.count("HealthCheck")
	s.mu.Unlock()
	return &qc.HealthCheckReply{Title: "qdranttest", Version: Version}, nil
}

// resolve returns the collection a name or alias refers to. Callers hold mu.
func (s *Server) resolve(name string) (*collection, error) {
	if target, ok := s.aliases[name]; ok {
		name = target
	}
	c := s.collections[name]
	if c == nil {
		return nil, status.Errorf(codes.NotFound, "Collection `%s` doesn't exist!", name)
	}
	return c, nil
}
