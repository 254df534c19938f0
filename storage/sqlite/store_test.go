package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/storage/sqlite"
	"github.com/ragqueue/ragqueue/storage/storetest"
)

// newStore opens a fresh database file in tb's temp dir.
func newStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ragqueue.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return sqlite.NewStore(db)
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return newStore(t) })
}

// BenchmarkReplaceChunks measures storing one document's worth of chunks:
// 1000 chunks of about 1 KB each, replacing the previous set every time.
func BenchmarkReplaceChunks(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	doc, _, err := s.CreateDocument(ctx, ingest.Document{Tenant: "acme", SHA256: "bench", Version: 1})
	require.NoError(b, err)
	chunks := make([]ingest.Chunk, 1000)
	text := strings.Repeat("lorem ipsum dolor sit amet, ", 37) // ~1 KB
	for i := range chunks {
		chunks[i] = ingest.Chunk{ID: fmt.Sprintf("%s-%d", doc.ID, i), Index: i, Text: text, Page: i / 10, Section: "Body"}
	}
	b.SetBytes(int64(len(chunks) * len(text)))
	for b.Loop() {
		if err := s.ReplaceChunks(ctx, "acme", doc.ID, 1, chunks); err != nil {
			b.Fatal(err)
		}
	}
}
