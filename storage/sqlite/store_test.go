package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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

// BenchmarkReplaceChunks: see storetest.BenchmarkReplaceChunks.
func BenchmarkReplaceChunks(b *testing.B) { storetest.BenchmarkReplaceChunks(b, newStore(b)) }
