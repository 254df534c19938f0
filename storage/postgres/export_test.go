package postgres

import (
	"context"

	"github.com/ragqueue/ragqueue/storage/sqlstore"
)

// Begin opens a transaction on s's database as the store's methods do, for
// tests of what its statements return.
func Begin(ctx context.Context, s *Store) (*sqlstore.Tx, error) { return s.Write().Begin(ctx) }

// Query runs sql on s's database as the store's methods do.
func Query(ctx context.Context, s *Store, sql string, args ...any) (*sqlstore.Rows, error) {
	return s.Write().Query(ctx, sql, args...)
}

// QueryRow runs sql on s's database as the store's methods do.
func QueryRow(ctx context.Context, s *Store, sql string, args ...any) *sqlstore.Row {
	return s.Write().QueryRow(ctx, sql, args...)
}
