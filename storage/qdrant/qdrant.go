// Package qdrant is the Qdrant adapter of ragqueue's search index: one
// collection per embedding space, each holding a tenant's chunks as points
// with a dense vector ("dense", cosine) and a BM25 sparse vector ("sparse",
// IDF applied by Qdrant), searched through the Query API one retriever at
// a time: retrieval fuses the two candidate lists, as it fuses the embedded
// index's. It speaks gRPC through github.com/qdrant/go-client.
package qdrant

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue"
)

// DefaultPort is Qdrant's gRPC port, used when an address names none.
const DefaultPort = 6334

// DefaultCollectionPrefix names the collections when Config leaves the
// prefix empty.
const DefaultCollectionPrefix = "ragqueue"

// Config is how to reach Qdrant and which collections are ragqueue's.
type Config struct {
	// Addr is the gRPC address, "host:port" (the port defaults to 6334).
	Addr string
	// APIKey is sent as the api-key header when set. Without UseTLS it
	// travels in plaintext.
	APIKey string
	// UseTLS dials with TLS (system roots, TLS 1.3 at least).
	UseTLS bool
	// CollectionPrefix prefixes every collection and the live alias:
	// space "hash-384" lives in "<prefix>_hash-384", the live pointer is the
	// alias "<prefix>_live". Several ragqueue deployments can share one
	// Qdrant with different prefixes. Empty means DefaultCollectionPrefix.
	CollectionPrefix string
}

// ConfigFromURL builds a Config from a URL such as RAGQ_QDRANT_URL:
// "http://host:6334" or "grpc://host" dial in plaintext, "https://…" or
// "grpcs://…" with TLS; a bare "host" or "host:port" is plaintext. The port
// defaults to 6334 (the gRPC port, not the REST port 6333).
func ConfigFromURL(raw, apiKey string) (Config, error) {
	cfg := Config{APIKey: apiKey}
	hostport := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return Config{}, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: URL %q: want scheme://host[:port]", raw)
		}
		switch u.Scheme {
		case "http", "grpc":
		case "https", "grpcs":
			cfg.UseTLS = true
		default:
			return Config{}, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: URL scheme %q: want http, https, grpc or grpcs", u.Scheme)
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, strconv.Itoa(DefaultPort)
	}
	if host == "" {
		return Config{}, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: address %q has no host", raw)
	}
	cfg.Addr = net.JoinHostPort(strings.Trim(host, "[]"), port)
	return cfg, nil
}

// Open connects to Qdrant, checks that it answers, and returns the spaces
// kept there under cfg.CollectionPrefix. Close it when done.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Spaces, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prefix := cfg.CollectionPrefix
	if prefix == "" {
		prefix = DefaultCollectionPrefix
	}
	if !validName(prefix) {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: collection prefix %q: use lower-case letters, digits, '-' and '_'", prefix)
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		host, portStr = cfg.Addr, strconv.Itoa(DefaultPort)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: address %q: bad port", cfg.Addr)
	}
	client, err := qc.NewClient(&qc.Config{
		Host:   host,
		Port:   port,
		APIKey: cfg.APIKey,
		UseTLS: cfg.UseTLS,
		// The check logs through slog.Default; Open logs the version itself.
		SkipCompatibilityCheck: true,
		PoolSize:               1,
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: connect %s: %w", cfg.Addr, err)
	}
	s := &Spaces{client: client, prefix: prefix, logger: logger}
	reply, err := client.HealthCheck(ctx)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("qdrant: open %s: %w", cfg.Addr, mapErr(err))
	}
	logger.Info("qdrant connected", "addr", cfg.Addr, "version", reply.GetVersion(), "prefix", prefix)
	return s, nil
}

// Close closes the connection to Qdrant. Indexes opened from s stop working.
func (s *Spaces) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("qdrant: close: %w", err)
	}
	return nil
}

// Ping checks that Qdrant answers its health check.
func (s *Spaces) Ping(ctx context.Context) error {
	if _, err := s.client.HealthCheck(ctx); err != nil {
		return fmt.Errorf("qdrant: ping: %w", mapErr(err))
	}
	return nil
}

// validName reports whether name is safe in a collection name: lower-case
// ASCII letters, digits, '-' and '_', 1 to 100 bytes.
func validName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
