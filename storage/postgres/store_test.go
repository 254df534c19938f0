package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/jackc/pgx/v5"
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

// TestTxUnavailable: a connection that drops inside a transaction makes its
// statements fail as unavailable, as a refused connection does, so that the
// workers retry the task without spending its retries.
func TestTxUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := cluster.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(s.Close)

	tx, err := postgres.Begin(ctx, s)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	var pid int
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))

	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer func() { _ = admin.Close(ctx) }()
	var killed bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
	require.True(t, killed)

	_, err = tx.Exec(ctx, `SELECT 1`)
	require.ErrorIs(t, err, ragqueue.ErrStoreUnavailable)
}

// TestTimeoutIsNotUnavailable: a statement that runs out of its caller's
// time on a connected server is that statement's failure, not an outage:
// a task failing so spends its retries.
func TestTimeoutIsNotUnavailable(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(context.Background(), cluster.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var v any
	err = postgres.QueryRow(ctx, s, `SELECT pg_sleep(5)`).Scan(&v)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ragqueue.ErrStoreUnavailable)
}

// TestRowsUnavailable: a connection that drops while a result is being
// read fails the read as unavailable, like a refused connection.
func TestRowsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := cluster.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(s.Close)

	// Enough rows that the server is still sending when its backend dies.
	rows, err := postgres.Query(ctx, s, `SELECT pg_backend_pid(), g FROM generate_series(1, 5000000) g`)
	require.NoError(t, err)
	defer rows.Close()
	require.True(t, rows.Next())
	var pid, g int
	require.NoError(t, rows.Scan(&pid, &g))

	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer func() { _ = admin.Close(ctx) }()
	var killed bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
	require.True(t, killed)

	for rows.Next() {
	}
	require.ErrorIs(t, rows.Err(), ragqueue.ErrStoreUnavailable)
}
