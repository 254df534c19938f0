package sqlstore

import (
	"context"
	"database/sql"
)

// DB is a database handle as the Store uses it: statements are written
// with ? placeholders and rebound for the dialect, and every error the
// database returns, down to a row's Scan, passes through the dialect's
// Unavailable.
type DB struct {
	db *sql.DB
	d  *Dialect
}

// Exec runs a statement that returns no rows.
func (h DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := h.db.ExecContext(ctx, h.d.rebind(q), args...)
	return res, h.d.classify(err)
}

// Query runs a statement that returns rows.
func (h DB) Query(ctx context.Context, q string, args ...any) (*Rows, error) {
	r, err := h.db.QueryContext(ctx, h.d.rebind(q), args...)
	if err != nil {
		return nil, h.d.classify(err)
	}
	return &Rows{Rows: r, d: h.d}, nil
}

// QueryRow runs a statement that returns at most one row.
func (h DB) QueryRow(ctx context.Context, q string, args ...any) *Row {
	return &Row{row: h.db.QueryRowContext(ctx, h.d.rebind(q), args...), d: h.d}
}

// Begin starts a transaction on a connection of its own, which Rollback
// gives back: call it (deferred) after Commit too.
func (h DB) Begin(ctx context.Context) (*Tx, error) {
	conn, err := h.db.Conn(ctx)
	if err != nil {
		return nil, h.d.classify(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		_ = conn.Close()
		return nil, h.d.classify(err)
	}
	return &Tx{tx: tx, conn: conn, d: h.d}, nil
}

// Ping checks that the database answers.
func (h DB) Ping(ctx context.Context) error { return h.d.classify(h.db.PingContext(ctx)) }

// Tx is a transaction, with the errors of its statements classified as
// DB's are: the connection can drop after Begin.
type Tx struct {
	tx   *sql.Tx
	conn *sql.Conn
	d    *Dialect
}

// Exec runs a statement that returns no rows.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.d.rebind(q), args...)
	return res, t.d.classify(err)
}

// Query runs a statement that returns rows.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*Rows, error) {
	r, err := t.tx.QueryContext(ctx, t.d.rebind(q), args...)
	if err != nil {
		return nil, t.d.classify(err)
	}
	return &Rows{Rows: r, d: t.d}, nil
}

// QueryRow runs a statement that returns at most one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *Row {
	return &Row{row: t.tx.QueryRowContext(ctx, t.d.rebind(q), args...), d: t.d}
}

// Raw runs f on the driver's connection of the transaction, for what
// database/sql cannot say (PostgreSQL's COPY); its statements are part of
// the transaction.
func (t *Tx) Raw(f func(driverConn any) error) error { return t.d.classify(t.conn.Raw(f)) }

// Commit commits the transaction.
func (t *Tx) Commit() error { return t.d.classify(t.tx.Commit()) }

// Rollback aborts the transaction unless it is committed already, and
// gives its connection back.
func (t *Tx) Rollback() error {
	err := t.tx.Rollback()
	_ = t.conn.Close()
	return err
}

// Row is the result of QueryRow; its error shows at Scan.
type Row struct {
	row *sql.Row
	d   *Dialect
}

// Scan copies the row's columns into dest; sql.ErrNoRows when there is no
// row.
func (r *Row) Scan(dest ...any) error { return r.d.classify(r.row.Scan(dest...)) }

// Rows is the result of Query; the connection can drop after its first
// rows, so Scan's and Err's errors are classified too.
type Rows struct {
	*sql.Rows
	d *Dialect
}

// Scan copies the current row's columns into dest.
func (r *Rows) Scan(dest ...any) error { return r.d.classify(r.Rows.Scan(dest...)) }

// Err is the error that ended the iteration, if any.
func (r *Rows) Err() error { return r.d.classify(r.Rows.Err()) }

// querier is what DB and Tx have in common, for reads that run in or out of
// a transaction.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (*Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *Row
}

// scanner is a row to scan: a *Row or the current row of *Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query and scans each of its rows with scan; no rows is an
// empty, not nil, slice.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
