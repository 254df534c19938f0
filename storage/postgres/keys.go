package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const keyColumns = `id, tenant, role, hash, prefix, created_at`

// CreateKey stores k. A zero CreatedAt becomes now. A duplicate ID or hash
// is ECONFLICT.
func (s *Store) CreateKey(ctx context.Context, k ragqueue.Key) error {
	k, err := storage.PrepareKey(k, now())
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Tenant, k.Role, k.Hash, k.Prefix, ts(k.CreatedAt))
	if isUniqueViolation(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "key %s already exists", k.ID)
	} else if err != nil {
		return fmt.Errorf("postgres: create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByHash returns the key whose secret hashes to hash, ENOTFOUND if none.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (ragqueue.Key, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash)
	k, err := scanKey(row)
	if isNoRows(err) {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key not found")
	} else if err != nil {
		return ragqueue.Key{}, fmt.Errorf("postgres: key by hash: %w", err)
	}
	return k, nil
}

// ListKeys returns every tenant's keys, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]ragqueue.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys: %w", err)
	}
	defer rows.Close()
	keys := []ragqueue.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list keys: %w", err)
	}
	return keys, nil
}

// DeleteKey removes a key, ENOTFOUND if there is none with that ID.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete key %s: %w", id, err)
	}
	return mustAffect(tag, "key %s not found", id)
}

// CountKeys returns how many keys exist across tenants (zero means the
// server still needs its first admin key).
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count keys: %w", err)
	}
	return n, nil
}

func scanKey(row pgx.Row) (ragqueue.Key, error) {
	var k ragqueue.Key
	if err := row.Scan(&k.ID, &k.Tenant, &k.Role, &k.Hash, &k.Prefix, &k.CreatedAt); err != nil {
		return ragqueue.Key{}, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}
