// Package storage holds what the storage adapters share: record validation,
// cursors, vector encoding and the blob store for uploaded bytes. The
// adapters themselves live in storage/sqlite, storage/postgres (whose
// metadata store is the SQL of storage/sqlstore, written once for both) and
// storage/qdrant and implement the interfaces of the root package and of
// retrieval.
package storage

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
