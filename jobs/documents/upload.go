package documents

import (
	"context"

	"github.com/ragqueue/ragqueue"
)

// CreateDocument records d, whose bytes are already stored under
// d.BlobKey, as a new document through store.CreateDocument. When no
// document is created (an error, or the tenant already holds the same
// bytes: created is false and the existing document comes back), the bytes
// just stored are deleted, as nothing refers to them. It is the one
// creation path of uploads, crawled pages and the evaluation tool; the
// caller enqueues (or runs) the ingestion.
func CreateDocument(ctx context.Context, store ragqueue.DocumentStore, blobs BlobDeleter, d ragqueue.Document, logf func(msg string, args ...any)) (doc ragqueue.Document, created bool, err error) {
	doc, created, err = store.CreateDocument(ctx, d)
	if err == nil && created {
		return doc, true, nil
	}
	if derr := blobs.Delete(context.WithoutCancel(ctx), d.BlobKey); derr != nil && logf != nil {
		logf("could not delete the bytes of a document not created", "blob_key", d.BlobKey, "error", derr)
	}
	return doc, false, err
}
