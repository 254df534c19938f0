package sqlstore

import (
	"context"
	"database/sql"
	"errors"

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
	_, err = s.w.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Tenant, k.Role, k.Hash, k.Prefix, s.d.time(k.CreatedAt))
	if s.conflict(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "key %s already exists", k.ID)
	} else if err != nil {
		return s.errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByHash returns the key whose secret hashes to hash, ENOTFOUND if none.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (ragqueue.Key, error) {
	k, err := scanKey(s.r.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key not found")
	} else if err != nil {
		return ragqueue.Key{}, s.errorf("key by hash: %w", err)
	}
	return k, nil
}

// ListKeys returns every tenant's keys, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]ragqueue.Key, error) {
	keys, err := list(ctx, s.r, scanKey, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.errorf("list keys: %w", err)
	}
	return keys, nil
}

// DeleteKey removes a key, ENOTFOUND if there is none with that ID.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.w.Exec(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return s.errorf("delete key %s: %w", id, err)
	}
	return s.mustAffect(res, "key %s not found", id)
}

// CountKeys returns how many keys exist across tenants (zero means the
// server still needs its first admin key).
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRow(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, s.errorf("count keys: %w", err)
	}
	return n, nil
}

// RotateKey gives key id a new secret (its hash and display prefix),
// keeping its ID, tenant, role and creation time; the old secret stops
// working at once. ENOTFOUND if there is no such key, ECONFLICT if the hash
// belongs to another key.
func (s *Store) RotateKey(ctx context.Context, id string, hash []byte, prefix string) (ragqueue.Key, error) {
	if id == "" || len(hash) == 0 {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.EINVALID, "key id and hash are required")
	}
	k, err := scanKey(s.w.QueryRow(ctx, `UPDATE api_keys SET hash = ?, prefix = ? WHERE id = ? RETURNING `+keyColumns, hash, prefix, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key %s not found", id)
	case s.conflict(err):
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ECONFLICT, "the new secret of key %s collides with another key", id)
	case err != nil:
		return ragqueue.Key{}, s.errorf("rotate key %s: %w", id, err)
	}
	return k, nil
}

// scanKey reads one row of keyColumns.
func scanKey(sc scanner) (ragqueue.Key, error) {
	var k ragqueue.Key
	if err := sc.Scan(&k.ID, &k.Tenant, &k.Role, &k.Hash, &k.Prefix, timeCol{&k.CreatedAt}); err != nil {
		return ragqueue.Key{}, err
	}
	return k, nil
}
