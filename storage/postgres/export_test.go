package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Begin opens a transaction on s's pool as the store's methods do, for
// tests of what its statements return.
func Begin(ctx context.Context, s *Store) (pgx.Tx, error) { return s.pool.Begin(ctx) }

// Query runs sql on s's pool as the store's methods do.
func Query(ctx context.Context, s *Store, sql string, args ...any) (pgx.Rows, error) {
	return s.pool.Query(ctx, sql, args...)
}

// QueryRow runs sql on s's pool as the store's methods do.
func QueryRow(ctx context.Context, s *Store, sql string, args ...any) pgx.Row {
	return s.pool.QueryRow(ctx, sql, args...)
}
