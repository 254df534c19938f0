package ragqueue

// BlobInfo describes bytes the blob store holds: the key they are stored
// under, their hex SHA-256 and their size. Storing an upload or a fetched
// page returns one; a Document records its fields.
type BlobInfo struct {
	Key    string
	SHA256 string // hex
	Size   int64
}
