package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Validation, defaults and JSON encoding of the records both metadata
// stores keep. Only the SQL differs between the adapters.

// PrepareJob validates a job about to be created and fills its defaults:
// queued for an empty State, now for zero times, and now as CompletedAt of a
// terminal job that has none. It returns Progress and Result as JSONValue
// does.
func PrepareJob(j ragqueue.Job, now time.Time) (job ragqueue.Job, progress, result any, err error) {
	if j.ID == "" || j.Tenant == "" {
		return ragqueue.Job{}, nil, nil, ragqueue.Errorf(ragqueue.EINVALID, "job id and tenant are required")
	}
	if j.State == "" {
		j.State = ragqueue.StateQueued
	}
	if progress, err = JSONValue(j.Progress, "job progress"); err != nil {
		return ragqueue.Job{}, nil, nil, err
	}
	if result, err = JSONValue(j.Result, "job result"); err != nil {
		return ragqueue.Job{}, nil, nil, err
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	if j.CompletedAt == nil && j.State.Terminal() {
		j.CompletedAt = &now
	}
	return j, progress, result, nil
}

// JSONValue validates a job's JSON field (what names it in the error): nil,
// empty or null become a nil (SQL NULL) value, anything else must be valid
// JSON and is returned as a string.
func JSONValue(raw json.RawMessage, what string) (any, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if !json.Valid(t) {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "%s is not valid JSON", what)
	}
	return string(t), nil
}

// PrepareJobUpdate validates u: a State given must not be empty, and
// Progress and Result, when given (non-empty), must be JSON. It returns them
// as JSONValue does; the stores set a field only when u gives it.
func PrepareJobUpdate(u ragqueue.JobUpdate) (progress, result any, err error) {
	if u.State != nil && *u.State == "" {
		return nil, nil, ragqueue.Errorf(ragqueue.EINVALID, "job state must not be empty")
	}
	if progress, err = JSONValue(u.Progress, "job progress"); err != nil {
		return nil, nil, err
	}
	if result, err = JSONValue(u.Result, "job result"); err != nil {
		return nil, nil, err
	}
	return progress, result, nil
}

// CheckChunks validates the chunks of documentID about to be stored: each
// needs an ID, and its Text and Section must be valid UTF-8 without NUL
// bytes, which PostgreSQL cannot store; both adapters refuse them alike.
func CheckChunks(documentID string, chunks []ragqueue.Chunk) error {
	for _, c := range chunks {
		if c.ID == "" {
			return ragqueue.Errorf(ragqueue.EINVALID, "chunk %d of document %s has no id", c.Index, documentID)
		}
		if !isText(c.Text) || !isText(c.Section) {
			return ragqueue.Errorf(ragqueue.EINVALID, "chunk %d of document %s is not valid UTF-8 text", c.Index, documentID)
		}
	}
	return nil
}

// CheckIndexedChunks validates chunks about to be written to a search index
// of dim dimensions: each needs an ID, a tenant and a vector of dim
// dimensions. Both indexes (sqlite, qdrant) refuse the same chunks alike.
func CheckIndexedChunks(chunks []retrieval.IndexedChunk, dim int) error {
	for _, c := range chunks {
		switch {
		case c.ID == "":
			return ragqueue.Errorf(ragqueue.EINVALID, "upsert: chunk without an ID")
		case c.Tenant == "":
			return ragqueue.Errorf(ragqueue.EINVALID, "upsert: chunk %s has no tenant", c.ID)
		case len(c.Vector) != dim:
			return ragqueue.Errorf(ragqueue.EINVALID,
				"upsert: chunk %s has a %d-dimensional vector, the index holds %d dimensions", c.ID, len(c.Vector), dim)
		}
	}
	return nil
}

// CheckQuery validates a search of an index of dim dimensions: it needs a
// tenant, and its vector, when it has one, dim dimensions.
func CheckQuery(q retrieval.Query, dim int) error {
	if q.Tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "search needs a tenant")
	}
	if len(q.Vector) != 0 && len(q.Vector) != dim {
		return ragqueue.Errorf(ragqueue.EINVALID,
			"search: the query vector has %d dimensions, the index holds %d", len(q.Vector), dim)
	}
	return nil
}

// isText reports whether s can be stored as text by every adapter: valid
// UTF-8 without NUL bytes.
func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// PrepareKey validates a key about to be created; a zero CreatedAt becomes
// now.
func PrepareKey(k ragqueue.Key, now time.Time) (ragqueue.Key, error) {
	if k.ID == "" || k.Tenant == "" || len(k.Hash) == 0 {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.EINVALID, "key id, tenant and hash are required")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	return k, nil
}

// PrepareCrawl validates a crawl about to be created and fills its defaults:
// queued for an empty Status, now for a zero CreatedAt.
func PrepareCrawl(c ragqueue.Crawl, now time.Time) (ragqueue.Crawl, error) {
	if c.ID == "" || c.Tenant == "" || c.JobID == "" {
		return ragqueue.Crawl{}, ragqueue.Errorf(ragqueue.EINVALID, "crawl id, tenant and job id are required")
	}
	if c.Status == "" {
		c.Status = ragqueue.StateQueued
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	return c, nil
}

// CrawlJSON encodes a crawl's JSON columns; nil lists become [].
func CrawlJSON(c ragqueue.Crawl) (spec, docs, errs string, err error) {
	if c.Documents == nil {
		c.Documents = []string{}
	}
	if c.Errors == nil {
		c.Errors = []ragqueue.URLError{}
	}
	b1, err1 := json.Marshal(c.Spec)
	b2, err2 := json.Marshal(c.Documents)
	b3, err3 := json.Marshal(c.Errors)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", "", "", fmt.Errorf("storage: encode crawl %s: %w", c.ID, err)
	}
	return string(b1), string(b2), string(b3), nil
}

// DecodeCrawlJSON decodes the JSON columns CrawlJSON made into c; the lists
// are empty, not nil, when the columns hold none.
func DecodeCrawlJSON(c *ragqueue.Crawl, spec, docs, errs []byte) error {
	c.Documents, c.Errors = []string{}, []ragqueue.URLError{}
	if err := errors.Join(json.Unmarshal(spec, &c.Spec), json.Unmarshal(docs, &c.Documents), json.Unmarshal(errs, &c.Errors)); err != nil {
		return fmt.Errorf("decode crawl %s: %w", c.ID, err)
	}
	return nil
}

// StoredMetadata is a document's metadata as read back from its column:
// an empty column is "{}".
func StoredMetadata(raw []byte) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(raw)
}

// BlobKeys lists the non-empty, distinct keys among a document's current and
// kept blob keys, for the caller to delete with the document.
func BlobKeys(blob, prev string) []string {
	keys := make([]string, 0, 2)
	if blob != "" {
		keys = append(keys, blob)
	}
	if prev != "" && prev != blob {
		keys = append(keys, prev)
	}
	return keys
}

// ErrVersionMoved is the compare-and-set failure of a document update that
// expected another version.
func ErrVersionMoved(id string, version, expected int) error {
	return ragqueue.Errorf(ragqueue.ECONFLICT,
		"document %s changed meanwhile (it is at version %d, not %d); fetch it and send the new content again", id, version, expected)
}

// ErrSameBytes is the conflict of a new version whose bytes another
// document of the tenant, other (empty when unknown), already holds.
func ErrSameBytes(other string) error {
	if other == "" {
		other = "another document"
	}
	return ragqueue.Errorf(ragqueue.ECONFLICT,
		"document %s already has exactly these bytes; update or delete that document instead", other)
}

// ErrNotRetryable says why a retry of doc at version was refused: the
// document moved to another version, or it is not failed.
func ErrNotRetryable(doc ragqueue.Document, version int) error {
	if doc.Version != version {
		return ErrVersionMoved(doc.ID, doc.Version, version)
	}
	return ragqueue.Errorf(ragqueue.ECONFLICT, "document %s is %s, not failed; only failed documents can be retried", doc.ID, doc.Status)
}

// PrepareCacheEntry validates an answer-cache entry about to be stored and
// fills its defaults: a new UUID for an empty ID, now for a zero CreatedAt.
// It also returns the entry's document IDs sorted and without repeats.
func PrepareCacheEntry(e ragqueue.CacheEntry, now time.Time) (ragqueue.CacheEntry, []string, error) {
	if e.Tenant == "" || e.Space == "" || e.Key == "" || len(e.Result) == 0 {
		return ragqueue.CacheEntry{}, nil, ragqueue.Errorf(ragqueue.EINVALID, "a cache entry needs a tenant, a space, a key and a result")
	}
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	return e, slices.Compact(slices.Sorted(slices.Values(e.DocumentIDs))), nil
}

// PrepareTurn validates a conversation turn about to be added and returns
// its citations encoded as JSON; nil citations become [].
func PrepareTurn(t ragqueue.Turn) (ragqueue.Turn, string, error) {
	if t.Tenant == "" || t.ConversationID == "" || t.JobID == "" {
		return ragqueue.Turn{}, "", ragqueue.Errorf(ragqueue.EINVALID, "a turn needs a tenant, a conversation ID and a job ID")
	}
	if t.Citations == nil {
		t.Citations = []ragqueue.Citation{}
	}
	cites, err := json.Marshal(t.Citations)
	if err != nil {
		return ragqueue.Turn{}, "", fmt.Errorf("storage: encode citations of turn: %w", err)
	}
	return t, string(cites), nil
}

// DecodeCitations decodes the citations column PrepareTurn made into t.
func DecodeCitations(t *ragqueue.Turn, cites []byte) error {
	if err := json.Unmarshal(cites, &t.Citations); err != nil {
		return fmt.Errorf("citations of turn %d: %w", t.Seq, err)
	}
	return nil
}

// CrawlCompletion is the completion time UpdateCrawl stores for c: its own
// CompletedAt when given, else now for a terminal status, else nil (not
// completed). The stores keep an earlier completion time over a non-nil one.
func CrawlCompletion(c ragqueue.Crawl, now time.Time) *time.Time {
	switch {
	case c.CompletedAt != nil:
		return c.CompletedAt
	case c.Status.Terminal():
		return &now
	}
	return nil
}

// DistinctHashes returns the non-empty content hashes of hashes, each once,
// in first-seen order: what an index looks up in VectorsByHash.
func DistinctHashes(hashes []string) []string {
	want := make([]string, 0, len(hashes))
	seen := make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		if _, dup := seen[h]; h == "" || dup {
			continue
		}
		seen[h] = struct{}{}
		want = append(want, h)
	}
	return want
}
