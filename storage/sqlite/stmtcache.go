package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// The stores run the same few dozen statements over and over, each through
// database/sql's Exec/Query with the SQL text. modernc.org/sqlite prepares
// the text on every such call (tokenize, parse, plan), which profiles of a
// crawl storing a thousand pages put at a tenth of the process's CPU. These
// wrappers keep each connection's prepared statements by SQL text, so a
// statement is compiled once per connection and afterwards only bound,
// stepped and reset. SQLite re-prepares a cached statement by itself when
// the schema changes under it (sqlite3_prepare_v2), so a cached statement
// never runs against a stale plan.

// maxCachedStmts bounds each connection's cache; the stores use far fewer
// distinct statements, so eviction only guards against unbounded growth
// from statements built at run time (IN lists of varying length).
const maxCachedStmts = 256

// cachingConnector opens connections of the wrapped connector with a
// statement cache.
type cachingConnector struct {
	base driver.Connector
}

// Connect implements driver.Connector.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

// Driver implements driver.Connector.
func (c cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// baseConn is what cachingConn needs of the driver's connection.
type baseConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
}

// cachingConn is a driver connection whose Exec and Query run cached
// prepared statements. database/sql uses a connection from one goroutine
// at a time, but a rows object can be closed from another (context
// cancellation), so the cache has its own lock.
type cachingConn struct {
	base baseConn

	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

// cachedStmt is a prepared statement and whether a rows object still
// reads from it (it cannot be run again until that rows is closed).
type cachedStmt struct {
	stmt stmtRunner
	busy bool
}

// stmtRunner is what a statement of the wrapped driver must offer; it is
// checked once, when the statement is prepared.
type stmtRunner interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func newCachingConn(conn driver.Conn) (*cachingConn, error) {
	bc, ok := conn.(baseConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T cannot prepare with a context or begin transactions", conn)
	}
	return &cachingConn{base: bc, stmts: make(map[string]*cachedStmt)}, nil
}

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// Prepare implements driver.Conn. Statements database/sql prepares
// explicitly (sql.DB.Prepare) are its own to close: not cached.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.base.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.PrepareContext(ctx, query)
}

// Begin implements driver.Conn.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.base.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.BeginTx(ctx, opts)
}

// Ping implements driver.Pinger.
func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.base.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter.
func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *cachingConn) IsValid() bool {
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close implements driver.Conn: the cached statements first, then the
// connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return errors.Join(append(errs, c.base.Close())...)
}

// acquire returns the statement for query, prepared once, and marks it
// busy. A statement already busy (a query over it is still being read, and
// the caller runs the same SQL meanwhile) is not shared: the caller gets a
// fresh one it must close (owned).
func (c *cachingConn) acquire(ctx context.Context, query string) (cs *cachedStmt, owned bool, err error) {
	c.mu.Lock()
	cs, ok := c.stmts[query]
	if ok && !cs.busy {
		cs.busy = true
		c.mu.Unlock()
		return cs, false, nil
	}
	c.mu.Unlock()
	st, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	run, runs := st.(stmtRunner)
	if !runs {
		_ = st.Close()
		return nil, false, fmt.Errorf("sqlite: driver statement %T cannot run with a context", st)
	}
	cs = &cachedStmt{stmt: run, busy: true}
	if ok { // the cached one is busy: this one is for this call only
		return cs, true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stmts) >= maxCachedStmts {
		for q, old := range c.stmts { // any idle one: the map's order is as good as any
			if !old.busy {
				_ = old.stmt.Close()
				delete(c.stmts, q)
				break
			}
		}
	}
	if len(c.stmts) >= maxCachedStmts {
		return cs, true, nil
	}
	c.stmts[query] = cs
	return cs, false, nil
}

// release ends a use of cs: an owned statement is closed, a cached one is
// free again.
func (c *cachingConn) release(cs *cachedStmt, owned bool) error {
	if owned {
		return cs.stmt.Close()
	}
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
	return nil
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, owned, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := cs.stmt.ExecContext(ctx, args)
	return res, joinErr(err, c.release(cs, owned))
}

// QueryContext implements driver.QueryerContext. The statement stays busy
// until the rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, owned, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, joinErr(err, c.release(cs, owned))
	}
	return &cachedRows{Rows: rows, done: func() error { return c.release(cs, owned) }}, nil
}

// cachedRows releases its statement when closed, and passes on the column
// type information the driver's rows offer.
type cachedRows struct {
	driver.Rows
	done   func() error
	closed bool
}

// Close implements driver.Rows.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.closed {
		return err
	}
	r.closed = true
	return joinErr(err, r.done())
}

// joinErr is err, with also when there is one. err is returned as is
// otherwise: database/sql and the stores inspect the driver's errors.
func joinErr(err, also error) error {
	if also == nil {
		return err
	}
	return errors.Join(err, also)
}

var (
	_ driver.RowsColumnTypeScanType         = (*cachedRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*cachedRows)(nil)
	_ driver.RowsColumnTypeLength           = (*cachedRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*cachedRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*cachedRows)(nil)
)

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
