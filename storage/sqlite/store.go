package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ragqueue/ragqueue"
)

// Store is the metadata store of embedded mode: documents, chunk text, jobs
// and API keys in the SQLite file that DB opened. It is safe for concurrent
// use.
type Store struct {
	db  *sql.DB // writes (one connection)
	rdb *sql.DB // reads
}

// The store implements every store interface of the domain.
var (
	_ ragqueue.DocumentStore     = (*Store)(nil)
	_ ragqueue.ChunkStore        = (*Store)(nil)
	_ ragqueue.JobStore          = (*Store)(nil)
	_ ragqueue.CrawlStore        = (*Store)(nil)
	_ ragqueue.ConversationStore = (*Store)(nil)
	_ ragqueue.CacheStore        = (*Store)(nil)
	_ ragqueue.KeyStore          = (*Store)(nil)
	_ ragqueue.AuditStore        = (*Store)(nil)
)

// NewStore returns the metadata store over db. db's migrations have already
// created its tables.
func NewStore(db *DB) *Store { return &Store{db: db.sql, rdb: db.read} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// now is the store's clock: UTC, truncated to the microsecond precision both
// SQLite and PostgreSQL keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func nanos(t time.Time) int64 { return t.Truncate(time.Microsecond).UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// mustAffect turns "no row changed" into ENOTFOUND with the given message.
func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: rows affected: %w", err)
	}
	if n == 0 {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, format, args...)
	}
	return nil
}

func isConstraint(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
