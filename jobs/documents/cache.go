package documents

import (
	"context"
	"log/slog"

	"github.com/ragqueue/ragqueue"
)

// InvalidateCache removes the tenant's cached answers that cite the
// document: it is called when a new version of the document is ready and
// when it is deleted. A failure is logged, not returned: the document
// change must go on, and an entry's TTL bounds how long it can outlive it.
func InvalidateCache(ctx context.Context, store ragqueue.CacheStore, logger *slog.Logger, tenant, documentID string) {
	if err := store.InvalidateDocumentCache(ctx, tenant, documentID); err != nil && logger != nil {
		logger.ErrorContext(ctx, "answer cache: invalidate", "tenant", tenant, "doc_id", documentID, "error", err)
	}
}
