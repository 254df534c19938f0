package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the SQL databases the Store runs on. The
// Store writes its SQL once, with ? placeholders and the fragments below
// spliced in where the dialects part ways.
type Dialect struct {
	// Name prefixes the Store's errors ("sqlite", "postgres").
	Name string
	// Numbered rewrites the ? placeholders as $1, $2, … (PostgreSQL).
	Numbered bool
	// Time encodes a time as the database's time columns hold it: Unix
	// nanoseconds for SQLite, a timestamptz for PostgreSQL. The Store hands
	// it UTC times truncated to microseconds.
	Time func(t time.Time) any
	// IsConflict reports whether err is a constraint violation: a duplicate
	// key, the only one the Store's statements can meet.
	IsConflict func(err error) bool
	// Unavailable classifies an error of the database: one that says the
	// database cannot be reached comes back wrapping
	// ragqueue.ErrStoreUnavailable, others as they are. nil leaves every error
	// as it is.
	Unavailable func(err error) error
	// Copy bulk-inserts n rows into table's columns inside tx (PostgreSQL's
	// COPY); row appends the values of row i to dst. nil: multi-row INSERTs.
	Copy func(ctx context.Context, tx *Tx, table string, columns []string, n int, row func(dst []any, i int) []any) error

	// SQL fragments and statements of one dialect only.

	// ForUpdate ends a SELECT that must lock the row it reads until the
	// transaction ends (" FOR UPDATE"); "" where transactions are serialised
	// anyway (SQLite's single writer).
	ForUpdate string
	// JSONCast and TimeCast type a parameter that the database cannot infer
	// a type for ("::jsonb", "::timestamptz"); "" where it needs none.
	JSONCast, TimeCast string
	// SourceIndex follows "FROM documents" in the lookup by source, to name
	// the index that serves it (SQLite's planner picks a worse one).
	SourceIndex string
	// LockCache, when not "", takes a lock on a tenant's answer cache, the
	// tenant being its one parameter, until the transaction ends; puts and
	// invalidations of a tenant then take turns.
	LockCache string
}

// rebind writes q's placeholders as the dialect wants them. A ? inside a
// quoted literal is left alone.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// classify passes err through Unavailable.
func (d *Dialect) classify(err error) error {
	if err == nil || d.Unavailable == nil {
		return err
	}
	return d.Unavailable(err)
}

// time encodes t for a parameter.
func (d *Dialect) time(t time.Time) any { return d.Time(t.UTC().Truncate(time.Microsecond)) }

// nullTime encodes an optional time for a parameter: nil is NULL.
func (d *Dialect) nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.time(*t)
}
