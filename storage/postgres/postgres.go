// Package postgres is the server-mode metadata store: documents, chunk text,
// jobs and API keys in PostgreSQL. It is the shared SQL store
// (storage/sqlstore) in PostgreSQL's dialect, over database/sql on a pgx
// connection pool. Its schema is managed by goose migrations embedded in the
// binary and applied by Open.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ragqueue/ragqueue/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL metadata store. It is safe for concurrent use;
// Close it when done.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	db   *sql.DB
}

var _ sqlstore.Interfaces = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and migrates its schema. Processes opening the same database at
// once take turns: migrations run under a session advisory lock.
func Open(ctx context.Context, dsn string) (*Store, error) {
	p, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres: ping: %w", unavailable(err))
	}
	// database/sql on the pool: the pool keeps its limits and health
	// checks, and the shared store its one code path.
	db := stdlib.OpenDBFromPool(p)
	// database/sql keeps two idle connections by default: under load every
	// other request would hand its connection back to the pool and wrap a
	// new one. Keep as many as the pool may open.
	db.SetMaxOpenConns(int(p.Config().MaxConns))
	db.SetMaxIdleConns(int(p.Config().MaxConns))
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		p.Close()
		return nil, err
	}
	return &Store{Store: sqlstore.New(dialect(), db, db), pool: p, db: db}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	// Retry the advisory lock every second for up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Close closes the database handle and its connection pool.
func (s *Store) Close() {
	_ = s.db.Close()
	s.pool.Close()
}
