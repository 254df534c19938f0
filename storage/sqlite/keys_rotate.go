package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ragqueue/ragqueue"
)

// RotateKey gives key id a new secret (its hash and display prefix),
// keeping its ID, tenant, role and creation time; the old secret stops
// working at once. ENOTFOUND if there is no such key, ECONFLICT if the hash
// belongs to another key.
func (s *Store) RotateKey(ctx context.Context, id string, hash []byte, prefix string) (ragqueue.Key, error) {
	if id == "" || len(hash) == 0 {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.EINVALID, "key id and hash are required")
	}
	row := s.db.QueryRowContext(ctx, `UPDATE api_keys SET hash = ?, prefix = ? WHERE id = ? RETURNING `+keyColumns, hash, prefix, id)
	k, err := scanKey(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key %s not found", id)
	case isConstraint(err):
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ECONFLICT, "the new secret of key %s collides with another key", id)
	case err != nil:
		return ragqueue.Key{}, fmt.Errorf("sqlite: rotate key %s: %w", id, err)
	}
	return k, nil
}
