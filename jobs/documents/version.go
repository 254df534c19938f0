package documents

import (
	"context"

	"github.com/ragqueue/ragqueue"
)

// ReplaceContent gives document cur new content (next's Title, Source,
// ContentType, SHA256, Size, BlobKey, JobID, Metadata) as its next version
// through store.NewVersion, then deletes the blobs the store released. It is
// the one versioning path: PUT /v1/documents/{id}, crawls and questions
// naming URLs all use it. The caller enqueues (or runs) the ingestion.
func ReplaceContent(ctx context.Context, store ragqueue.DocumentStore, blobs BlobDeleter, cur, next ragqueue.Document, logf func(msg string, args ...any)) (ragqueue.Document, error) {
	doc, released, err := store.NewVersion(ctx, cur.Tenant, cur.ID, cur.Version, next)
	if err != nil {
		return ragqueue.Document{}, err
	}
	for _, key := range released {
		if err := blobs.Delete(context.WithoutCancel(ctx), key); err != nil && logf != nil {
			logf("could not delete replaced document bytes", "doc_id", cur.ID, "error", err)
		}
	}
	return doc, nil
}

// BlobDeleter deletes stored bytes; a missing blob is not an error.
type BlobDeleter interface {
	Delete(ctx context.Context, key string) error
}
