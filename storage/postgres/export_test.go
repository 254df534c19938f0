package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Begin opens a transaction on s's pool as the store's methods do, for
// tests of what its statements return.
func Begin(ctx context.Context, s *Store) (pgx.Tx, error) { return s.pool.Begin(ctx) }
