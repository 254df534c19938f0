package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/postgres"
	"github.com/ragqueue/ragqueue/storage/postgres/pgtest"
	"github.com/ragqueue/ragqueue/storage/storetest"
)

// cluster is the one PostgreSQL server this package's tests share.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// newStore opens a store on a fresh database of the shared cluster.
func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), cluster.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return newStore(t) })
}

// TestOpenConcurrent opens one database from several "processes" at once:
// the migration lock makes them take turns instead of failing.
func TestOpenConcurrent(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDatabase(t)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
}

func TestOpenBadDSN(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2")
	require.ErrorContains(t, err, "postgres: ")
}

// BenchmarkReplaceChunks: see storetest.BenchmarkReplaceChunks.
func BenchmarkReplaceChunks(b *testing.B) {
	s, err := postgres.Open(context.Background(), cluster.NewDatabase(b))
	require.NoError(b, err)
	b.Cleanup(s.Close)
	storetest.BenchmarkReplaceChunks(b, s)
}
