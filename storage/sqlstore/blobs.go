package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ragqueue/ragqueue"
)

// PutBlob stores data under key (storage.SmallBlobStore). The key is new:
// an existing one is ECONFLICT, never overwritten.
func (s *Store) PutBlob(ctx context.Context, key string, data []byte) error {
	if data == nil {
		data = []byte{} // an empty blob is a zero-length value, not NULL
	}
	_, err := s.w.Exec(ctx, `INSERT INTO blobs (key, data, created_at) VALUES (?, ?, ?)`,
		key, data, s.d.time(now()))
	if s.conflict(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "blob %s already exists", key)
	} else if err != nil {
		return s.errorf("put blob %s: %w", key, err)
	}
	return nil
}

// GetBlob returns the bytes stored under key, ENOTFOUND if none.
func (s *Store) GetBlob(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := s.r.QueryRow(ctx, `SELECT data FROM blobs WHERE key = ?`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "blob %q not found", key)
	} else if err != nil {
		return nil, s.errorf("get blob %s: %w", key, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// DeleteBlob removes the blob under key. A missing blob is not an error, so
// that deletes can be retried.
func (s *Store) DeleteBlob(ctx context.Context, key string) error {
	if _, err := s.w.Exec(ctx, `DELETE FROM blobs WHERE key = ?`, key); err != nil {
		return s.errorf("delete blob %s: %w", key, err)
	}
	return nil
}
