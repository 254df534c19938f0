// Package storetest is the contract test suite of the metadata stores: every
// adapter (storage/sqlite, storage/postgres) runs the same Run so that they
// behave alike down to error codes, ordering and pagination.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

// Store is what a metadata store adapter offers: the jobs layer's store plus
// the API keys that cmd/api manages and a health check.
type Store interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.JobStore
	ragqueue.CrawlStore
	ragqueue.ConversationStore
	ragqueue.CacheStore
	// CreateKey stores k; a duplicate ID or hash is ECONFLICT.
	CreateKey(ctx context.Context, k ragqueue.Key) error
	// KeyByHash finds a key by the SHA-256 of its secret; ENOTFOUND if none.
	KeyByHash(ctx context.Context, hash []byte) (ragqueue.Key, error)
	// ListKeys lists all tenants' keys, oldest first.
	ListKeys(ctx context.Context) ([]ragqueue.Key, error)
	// DeleteKey removes a key; ENOTFOUND if none.
	DeleteKey(ctx context.Context, id string) error
	// CountKeys counts all tenants' keys.
	CountKeys(ctx context.Context) (int, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Small blobs: storage.FileBlobs keeps them in the metadata database.
	storage.SmallBlobStore
}

// Run runs the contract suite. newStore must return a store over a fresh,
// empty database that is cleaned up with t; it is called once per subtest,
// and subtests run in parallel (bounded by go test -parallel).
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"documents", documentTests()},
		{"versions", versionTests()},
		{"chunks", chunkTests()},
		{"jobs", jobTests()},
		{"keys", keyTests()},
		{"crawls", crawlTests()},
		{"audit", auditTests()},
		{"conversations", conversationTests()},
		{"cache", cacheTests()},
		{"blobs", blobTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.fn(t, newStore(t))
				})
			}
		})
	}
}

// test is one contract rule checked against a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s Store)
}

// requireCode asserts that err carries the ragqueue error code.
func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, ragqueue.ErrorCode(err), "error: %v", err)
}

// requireTime asserts that got is want, in UTC.
func requireTime(t *testing.T, want, got time.Time) {
	t.Helper()
	require.Equal(t, time.UTC, got.Location(), "time %v is not UTC", got)
	require.True(t, want.Equal(got), "want %v, got %v", want, got)
}

// requireRecent asserts that got was set by the store just now, in UTC.
func requireRecent(t *testing.T, got time.Time) {
	t.Helper()
	require.Equal(t, time.UTC, got.Location(), "time %v is not UTC", got)
	require.WithinDuration(t, time.Now(), got, time.Minute)
}

// at returns a fixed, microsecond-exact instant offset by seconds.
func at(seconds int) time.Time {
	return time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC).Add(time.Duration(seconds) * time.Second)
}

// BenchmarkReplaceChunks measures storing one document's worth of chunks in
// s, a fresh store: 1000 chunks of about 1 KB each, replacing the previous
// set every time.
func BenchmarkReplaceChunks(b *testing.B, s Store) {
	ctx := context.Background()
	doc, _, err := s.CreateDocument(ctx, ragqueue.Document{Tenant: "acme", SHA256: "bench", Version: 1})
	require.NoError(b, err)
	chunks := make([]ragqueue.Chunk, 1000)
	text := strings.Repeat("lorem ipsum dolor sit amet, ", 37) // ~1 KB
	for i := range chunks {
		chunks[i] = ragqueue.Chunk{ID: fmt.Sprintf("%s-%d", doc.ID, i), Index: i, Text: text, Page: i / 10, Section: "Body"}
	}
	b.SetBytes(int64(len(chunks) * len(text)))
	for b.Loop() {
		if err := s.ReplaceChunks(ctx, "acme", doc.ID, 1, 0, chunks); err != nil {
			b.Fatal(err)
		}
	}
}
