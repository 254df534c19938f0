// Package sqlite is the embedded-mode storage adapter: the metadata store
// (documents, chunks, jobs, keys) and the search index (chunks stored here,
// their BM25 postings and vectors kept in memory per tenant) in one SQLite
// file, through the cgo-free modernc.org/sqlite driver.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open ragqueue SQLite database with its schema migrated. Store and
// Index share it, so that metadata and index live in one file.
//
// It holds two pools on the file. Writes go through sql, which has a single
// connection: SQLite admits one writer at a time anyway, and queueing
// writers in Go is far cheaper than SQLite's busy handler, which sleeps in
// growing steps (profiles of concurrent ingestion showed the process idle
// half the time). Reads go through read, several query-only connections
// that WAL lets run beside the writer.
type DB struct {
	sql  *sql.DB
	read *sql.DB
}

// readConns is how many connections serve reads at once.
const readConns = 4

// Open opens (creating if needed) the database at path and applies the
// embedded migrations. path ":memory:" is not supported: use a temp file.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	// WAL lets searches read while ingestion writes; busy_timeout makes
	// concurrent writers wait instead of failing; immediate transactions take
	// the write lock up front so two writers never deadlock on upgrade.
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Searches read chunk rows and reload vector caches: map the file and
	// keep a larger page cache instead of paying a pread per page.
	q.Add("_pragma", "mmap_size(268435456)")
	q.Add("_pragma", "cache_size(-65536)")
	// Checkpoint the WAL every 8,000 pages (32 MiB) rather than 1,000:
	// ingestion rewrites the same hot b-tree pages commit after commit, and
	// each checkpoint writes them back (and syncs) once however often they
	// changed, so rarer checkpoints write and sync far less.
	q.Add("_pragma", "wal_autocheckpoint(8000)")
	q.Set("_txlock", "immediate")
	db, err := open("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: ping %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	// query_only makes an accidental write through the read pool fail
	// loudly instead of contending for the write lock.
	q.Add("_pragma", "query_only(1)")
	q.Del("_txlock")
	read, err := open("file:" + path + "?" + q.Encode())
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(readConns)
	return &DB{sql: db, read: read}, nil
}

// open returns a pool on dsn whose connections cache their prepared
// statements (stmtcache.go).
func open(dsn string) (*sql.DB, error) {
	c, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{base: c}), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// SQL exposes the handle for adapters in this package and for tests.
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error { return errors.Join(db.read.Close(), db.sql.Close()) }
