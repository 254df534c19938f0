package ragqueue

import (
	"encoding/json"
	"time"
)

// Status is where a document is in its life.
type Status string

// Document statuses. queued and processing are unfinished: the reconciler
// re-enqueues them at start. ready, failed and rejected are terminal.
const (
	StatusQueued     Status = "queued"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"   // may succeed if retried
	StatusRejected   Status = "rejected" // the input itself is unusable; never retried
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusQueued, StatusProcessing, StatusReady, StatusFailed, StatusRejected:
		return true
	}
	return false
}

// Document is one ingested source within one tenant. The metadata database
// is its source of truth.
type Document struct {
	ID          string          `json:"id"`
	Tenant      string          `json:"-"`
	Title       string          `json:"title"`
	Source      string          `json:"source"`       // "upload:<filename>", "text", or a URL
	ContentType string          `json:"content_type"` // canonical: text/plain, text/markdown, text/html
	SHA256      string          `json:"sha256"`       // hex of the content bytes; unique per tenant
	Size        int64           `json:"size"`
	BlobKey     string          `json:"-"` // server-made name in the blob store
	Status      Status          `json:"status"`
	Error       string          `json:"error"`
	Pages       int             `json:"pages"`
	Chunks      int             `json:"chunks"`
	Version     int             `json:"version"`
	JobID       string          `json:"job_id"` // the job that last (re)ingested it
	Metadata    json.RawMessage `json:"metadata"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Chunk is a piece of a document's text small enough to embed and cite. Its
// ID is deterministic (see ChunkID) so that a retried job overwrites rather
// than duplicates.
type Chunk struct {
	ID         string `json:"id"`
	Tenant     string `json:"-"`
	DocumentID string `json:"document_id"`
	Version    int    `json:"version"`
	Index      int    `json:"index"`
	Text       string `json:"text"`
	Page       int    `json:"page"`    // 1-based page, 0 when the source has no pages
	Section    string `json:"section"` // heading path for Markdown/HTML, "" when none
}

// DocumentFilter selects documents for a listing. Cursor is opaque to
// callers: it is the NextCursor of the previous page.
type DocumentFilter struct {
	Status Status // "" for any
	Limit  int
	Cursor string
}
