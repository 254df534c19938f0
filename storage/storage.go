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
