// Package storage holds what the storage adapters share: API key records
// and the blob store for uploaded bytes. The adapters themselves live in
// storage/sqlite and storage/postgres and implement the interfaces that
// jobs, retrieval and cmd/api declare where they use them.
package storage

import "time"

// Key is a stored API key. The secret itself is never stored: Hash is its
// SHA-256.
type Key struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Role      string    `json:"role"`
	Hash      []byte    `json:"-"`
	Prefix    string    `json:"prefix"` // first characters of the secret, to tell keys apart in listings
	CreatedAt time.Time `json:"created_at"`
}

// VersionBlobs decides, for the metadata stores, what happens to a
// document's bytes when a new version replaces the current one. The bytes of
// the last ready version answer until the new version is ready, so they are
// kept: the current ones when the document is ready, otherwise the ones kept
// before. Every other key is released, for the caller to delete: the
// current bytes of a version that never became ready, or a kept key that a
// finished switch has already deleted (deleting again is harmless).
func VersionBlobs(readyNow bool, blobKey, prevBlobKey string) (keep string, released []string) {
	if readyNow {
		keep = blobKey
		if prevBlobKey != "" && prevBlobKey != blobKey {
			released = append(released, prevBlobKey)
		}
		return keep, released
	}
	if blobKey != "" && blobKey != prevBlobKey {
		released = append(released, blobKey)
	}
	return prevBlobKey, released
}
