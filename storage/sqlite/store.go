package sqlite

import (
	"errors"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ragqueue/ragqueue/storage/sqlstore"
)

// Store is the metadata store of embedded mode: documents, chunk text, jobs
// and API keys in the SQLite file that DB opened. It is the shared SQL
// store (storage/sqlstore) in SQLite's dialect, writing through DB's one
// write connection and reading through its read pool. It is safe for
// concurrent use.
type Store struct{ *sqlstore.Store }

var _ sqlstore.Interfaces = (*Store)(nil)

// NewStore returns the metadata store over db. db's migrations have already
// created its tables.
func NewStore(db *DB) *Store { return &Store{sqlstore.New(dialect(), db.sql, db.read)} }

// dialect is SQLite's side of the SQL the stores share.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name: "sqlite",
		// Times are INTEGER columns of Unix nanoseconds.
		Time:       func(t time.Time) any { return t.UnixNano() },
		IsConflict: isConstraint,
		// Left to itself, the planner prefers the (tenant, created_at)
		// index that serves the ORDER BY of a lookup by source, and scans
		// every document of the tenant; a URL has one or two documents.
		SourceIndex: " INDEXED BY documents_tenant_source",
	}
}

func isConstraint(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
