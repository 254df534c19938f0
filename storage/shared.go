package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// Rules both metadata stores apply the same way, kept here so that SQLite
// and PostgreSQL cannot drift apart.

// Listing limits for keyset-paginated listings.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// DefaultScanLimit is the page size of the reconciler's scans (unfinished
// jobs and documents, ready documents) when they ask for none.
const DefaultScanLimit = 100

// ScanLimit is n, or DefaultScanLimit when n <= 0.
func ScanLimit(n int) int {
	if n <= 0 {
		return DefaultScanLimit
	}
	return n
}

// ClampLimit turns a requested page size into one within bounds.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

// PrepareDocument validates a document about to be created and fills its
// defaults: a new UUID for an empty ID, queued for an empty status, now
// (UTC, microseconds) for zero times. It returns the metadata as a JSON
// object string ("{}" when empty).
func PrepareDocument(d ragqueue.Document, now time.Time) (ragqueue.Document, string, error) {
	if d.Tenant == "" {
		return ragqueue.Document{}, "", ragqueue.Errorf(ragqueue.EINVALID, "document tenant is required")
	}
	if d.SHA256 == "" {
		return ragqueue.Document{}, "", ragqueue.Errorf(ragqueue.EINVALID, "document sha256 is required")
	}
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	if d.Status == "" {
		d.Status = ragqueue.StatusQueued
	}
	if err := CheckDocumentStatus(d.Status); err != nil {
		return ragqueue.Document{}, "", err
	}
	meta, err := JSONObject(d.Metadata)
	if err != nil {
		return ragqueue.Document{}, "", err
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	return d, meta, nil
}

// CheckDocumentStatus refuses a status that is not one of ingest's, as a
// document's, a status update's or a listing filter's.
func CheckDocumentStatus(status ragqueue.Status) error {
	if !status.Valid() {
		return ragqueue.Errorf(ragqueue.EINVALID, "document status %q is not valid", status)
	}
	return nil
}

// JSONObject checks that raw is a JSON object and returns it as a string;
// empty or null is "{}".
func JSONObject(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "{}", nil
	}
	if t[0] != '{' || !json.Valid(t) {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "metadata must be a JSON object")
	}
	return string(t), nil
}

// EncodeCursor makes the opaque keyset cursor of a listing ordered by
// creation time and id.
func EncodeCursor(created time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(created.UnixNano(), 10) + "." + id))
}

// DecodeCursor reads a cursor EncodeCursor made; anything else is EINVALID.
func DecodeCursor(c string) (time.Time, string, error) {
	bad := ragqueue.Errorf(ragqueue.EINVALID, "cursor is not valid; pass next_cursor from the previous page")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(b), ".")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return time.Time{}, "", bad
	}
	return time.Unix(0, n).UTC(), id, nil
}

// Page cuts a listing fetched with limit+1 rows to limit and returns the
// cursor of the next page: "" when no row was left over, else the cursor of
// the last row kept, whose creation time and id key returns.
func Page[T any](rows []T, limit int, key func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, EncodeCursor(key(rows[limit-1]))
}

// PrepareVersion validates the next version of a document and returns the
// metadata to store: nil (SQL NULL, keeping the stored metadata) when next
// has none, else the JSON object as JSONObject returns it.
func PrepareVersion(next ragqueue.Document) (meta any, err error) {
	if next.SHA256 == "" {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "document sha256 is required")
	}
	if next.Metadata == nil {
		return nil, nil
	}
	return JSONObject(next.Metadata)
}
