package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"
)

// countingConnector counts the statements its connections prepare.
type countingConnector struct {
	driver.Connector
	prepares *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{baseConn: conn.(baseConn), prepares: c.prepares}, nil
}

type countingConn struct {
	baseConn
	prepares *atomic.Int64
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.prepares.Add(1)
	return c.baseConn.PrepareContext(ctx, q)
}

// openCounting opens a one-connection caching pool on a new file and
// returns it with its prepare counter.
func openCounting(t *testing.T) (*sql.DB, *atomic.Int64) {
	t.Helper()
	base, err := msqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	var n atomic.Int64
	db := sql.OpenDB(cachingConnector{base: countingConnector{Connector: base, prepares: &n}})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	_, err = db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	require.NoError(t, err)
	return db, &n
}

func TestStmtCachePreparesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, prepares := openCounting(t)
	before := prepares.Load()
	for i := range 50 {
		_, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
		require.NoError(t, err)
		var v string
		require.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM t WHERE id = ?`, i).Scan(&v))
		require.Equal(t, fmt.Sprint("v", i), v)
	}
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, 50, "in tx")
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.Equal(t, int64(2), prepares.Load()-before, "one prepare per distinct statement, in or out of a transaction")
}

func TestStmtCacheSameQueryWhileReading(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openCounting(t)
	for i := range 3 {
		_, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
		require.NoError(t, err)
	}
	// The same SQL run again while its first rows are still being read
	// must not reset the statement under them.
	const q = `SELECT id, v FROM t WHERE id >= ? ORDER BY id`
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, q, 0)
	require.NoError(t, err)
	var outer, inner []int
	for rows.Next() {
		var id int
		var v string
		require.NoError(t, rows.Scan(&id, &v))
		outer = append(outer, id)
		var n int
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+`)`, id).Scan(&n))
		in, err := tx.QueryContext(ctx, q, id)
		require.NoError(t, err)
		for in.Next() {
			var iid int
			require.NoError(t, in.Scan(&iid, &v))
			inner = append(inner, iid)
		}
		require.NoError(t, in.Err())
		require.NoError(t, in.Close())
		require.Equal(t, 3-id, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []int{0, 1, 2}, outer)
	require.Equal(t, []int{0, 1, 2, 1, 2, 2}, inner)
}

func TestStmtCacheSeesSchemaChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openCounting(t)
	_, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (1, 'a')`)
	require.NoError(t, err)
	columns := func() []string {
		rows, err := db.QueryContext(ctx, `SELECT * FROM t`)
		require.NoError(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		require.NoError(t, err)
		return cols
	}
	require.Equal(t, []string{"id", "v"}, columns())
	_, err = db.ExecContext(ctx, `ALTER TABLE t ADD COLUMN w TEXT`)
	require.NoError(t, err)
	require.Equal(t, []string{"id", "v", "w"}, columns(), "a cached statement is re-prepared after a schema change")
}

func TestStmtCacheBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, prepares := openCounting(t)
	for i := range maxCachedStmts + 50 {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&n))
		require.Equal(t, i, n)
	}
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	require.NoError(t, conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		c.mu.Lock()
		defer c.mu.Unlock()
		require.LessOrEqual(t, len(c.stmts), maxCachedStmts)
		return nil
	}))
	require.NoError(t, conn.Close()) // the pool's only connection
	// Still correct, and cached, after evictions.
	before := prepares.Load()
	for range 3 {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT 7`).Scan(&n))
		require.Equal(t, 7, n)
	}
	require.LessOrEqual(t, prepares.Load()-before, int64(1))
}

func TestStmtCacheCancelledStatementReusable(t *testing.T) {
	t.Parallel()
	db, _ := openCounting(t)
	const q = `SELECT count(*) FROM t WHERE v = ?`
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n int
	require.ErrorIs(t, db.QueryRowContext(ctx, q, "x").Scan(&n), context.Canceled)
	require.NoError(t, db.QueryRowContext(context.Background(), q, "x").Scan(&n))
	require.Zero(t, n)
}
