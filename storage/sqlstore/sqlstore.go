// Package sqlstore is the metadata store both SQL adapters share: documents,
// chunk text, jobs, crawls, conversations, the answer cache, API keys, the
// audit log and small blobs, written once over database/sql. What differs
// between SQLite and PostgreSQL is a Dialect that storage/sqlite and
// storage/postgres hand to New with their open databases.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

// Store is the metadata store over one SQL database. It is safe for
// concurrent use.
type Store struct {
	w DB // writes, and reads inside transactions
	r DB // reads
	d *Dialect
}

// Interfaces is every store interface of the domain: what Store, and each
// adapter built on it, implements.
type Interfaces interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.JobStore
	ragqueue.CrawlStore
	ragqueue.ConversationStore
	ragqueue.CacheStore
	ragqueue.KeyStore
	ragqueue.AuditStore
}

var _ Interfaces = (*Store)(nil)

// New returns the store over write, which takes every write, and read,
// which serves reads outside transactions (the same pool, or SQLite's
// query-only connections). Their schema is migrated already.
func New(d Dialect, write, read *sql.DB) *Store {
	dp := &d
	return &Store{w: DB{db: write, d: dp}, r: DB{db: read, d: dp}, d: dp}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.Ping(ctx); err != nil {
		return s.errorf("ping: %w", err)
	}
	return nil
}

// Write is the handle on which the store writes, for tests and for
// statements of one dialect only.
func (s *Store) Write() DB { return s.w }

// now is the store's clock: UTC, truncated to the microsecond precision both
// SQLite and PostgreSQL keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// errorf is fmt.Errorf with the dialect's name as prefix.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.Name+": "+format, args...)
}

// mustAffect turns "no row changed" into ENOTFOUND with the given message.
func (s *Store) mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, format, args...)
	}
	return nil
}

// conflict reports whether err is a constraint violation.
func (s *Store) conflict(err error) bool { return err != nil && s.d.IsConflict(err) }

// newestFirst ends q, a listing with args, as the query of a page of limit
// rows newest first by (col, id): those after the row cursor names, if any,
// and one row more, which tells whether another page follows. and joins the
// cursor's condition to q's: " WHERE " or " AND ".
func (s *Store) newestFirst(q string, args []any, and, col, cursor string, limit int) (string, []any, error) {
	if cursor != "" {
		at, id, err := storage.DecodeCursor(cursor)
		if err != nil {
			return "", nil, err
		}
		q += and + `(` + col + `, id) < (?, ?)`
		args = append(args, s.d.time(at), id)
	}
	return q + ` ORDER BY ` + col + ` DESC, id DESC LIMIT ?`, append(args, limit+1), nil
}
