package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	_, err = s.db.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Tenant, k.Role, k.Hash, k.Prefix, nanos(k.CreatedAt))
	if isConstraint(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "key %s already exists", k.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByHash returns the key whose secret hashes to hash, ENOTFOUND if none.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (ragqueue.Key, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key not found")
	} else if err != nil {
		return ragqueue.Key{}, fmt.Errorf("sqlite: key by hash: %w", err)
	}
	return k, nil
}

// ListKeys returns every tenant's keys, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]ragqueue.Key, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	defer rows.Close()
	keys := []ragqueue.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	return keys, nil
}

// DeleteKey removes a key, ENOTFOUND if there is none with that ID.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete key %s: %w", id, err)
	}
	return mustAffect(res, "key %s not found", id)
}

// CountKeys returns how many keys exist across tenants (zero means the
// server still needs its first admin key).
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count keys: %w", err)
	}
	return n, nil
}

func scanKey(sc scanner) (ragqueue.Key, error) {
	var (
		k       ragqueue.Key
		created int64
	)
	if err := sc.Scan(&k.ID, &k.Tenant, &k.Role, &k.Hash, &k.Prefix, &created); err != nil {
		return ragqueue.Key{}, err
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}
