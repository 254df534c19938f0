// Package postgres is the server-mode metadata store: documents, chunk text,
// jobs and API keys in PostgreSQL, through a pgx connection pool. Its schema
// is managed by goose migrations embedded in the binary and applied by Open.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ragqueue/ragqueue"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL metadata store. It is safe for concurrent use;
// Close it when done.
type Store struct {
	pool pool
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
	if err := migrate(ctx, p); err != nil {
		p.Close()
		return nil, err
	}
	return &Store{pool: pool{p}}, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() // leaves the pool open
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

// Close closes the connection pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// now is the store's clock: UTC, microseconds, as TIMESTAMPTZ keeps it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// ts prepares a time for a TIMESTAMPTZ parameter.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// mustAffect turns "no row changed" into ENOTFOUND with the given message.
func mustAffect(tag pgconn.CommandTag, format string, args ...any) error {
	if tag.RowsAffected() == 0 {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, format, args...)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique or primary key violation.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
