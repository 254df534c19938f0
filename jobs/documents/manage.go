package documents

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// Get returns document id of tenant (ENOTFOUND when the tenant has none).
func (s *Service) Get(ctx context.Context, tenant, id string) (ragqueue.Document, error) {
	return s.cfg.Store.GetDocument(ctx, tenant, id)
}

// Listing is a List request: the tenant's documents in Status ("": any),
// Limit at a time (nil: 50; from 1 to 500), from Cursor ("": the newest).
type Listing struct {
	Tenant string
	Status ragqueue.Status
	Limit  *int
	Cursor string
}

// Listed is one page of a listing; Next is the cursor of the next page
// ("": none).
type Listed struct {
	Documents []ragqueue.Document
	Next      string
}

// List pages through a tenant's documents, newest first. It checks the
// status, then the limit.
func (s *Service) List(ctx context.Context, l Listing) (Listed, error) {
	f := ragqueue.DocumentFilter{Status: l.Status, Limit: 50, Cursor: l.Cursor}
	if f.Status != "" && !f.Status.Valid() {
		return Listed{}, ragqueue.Errorf(ragqueue.EINVALID, "status %q is not one of queued, processing, ready, failed, rejected", f.Status)
	}
	if l.Limit != nil {
		if *l.Limit < 1 || *l.Limit > 500 {
			return Listed{}, ragqueue.Errorf(ragqueue.EINVALID, "limit must be a whole number from 1 to 500")
		}
		f.Limit = *l.Limit
	}
	docs, next, err := s.cfg.Store.ListDocuments(ctx, l.Tenant, f)
	if err != nil {
		return Listed{}, err
	}
	if docs == nil {
		docs = []ragqueue.Document{}
	}
	return Listed{Documents: docs, Next: next}, nil
}

// Retry ingests a failed document's current version again, under a new job
// (without a callback). A rejected document cannot be retried: its content
// is the problem, and a new version is how to send other content; nor can
// one that has not failed (ECONFLICT both).
func (s *Service) Retry(ctx context.Context, tenant, id string) (ragqueue.Document, error) {
	doc, err := s.cfg.Store.GetDocument(ctx, tenant, id)
	if err != nil {
		return ragqueue.Document{}, err
	}
	switch doc.Status {
	case ragqueue.StatusFailed:
	case ragqueue.StatusRejected:
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ECONFLICT,
			"rejected documents cannot be retried: %s; send other content with PUT /v1/documents/%s", doc.Error, id)
	default:
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ECONFLICT,
			"document %s is %s; only failed documents can be retried", id, doc.Status)
	}
	doc, err = s.cfg.Store.RetryDocument(ctx, tenant, id, doc.Version, uuid.NewString())
	if err != nil {
		return ragqueue.Document{}, err
	}
	s.enqueueAccepted(ctx, doc, "")
	return doc, nil
}

// Delete removes a document of tenant: its chunks from search (every
// version, in every embedding space: the one answering, one still being
// processed, one a re-index builds), its record, the cached answers citing
// it, and its bytes. The order matters when an ingest job is still running:
// index first (nothing answers from it any more), then the record (the
// job's final version-guarded update then fails and it removes what it
// wrote), then the index again for anything the job wrote in between.
// Failures after the record is gone are logged, not returned.
func (s *Service) Delete(ctx context.Context, tenant, id string) error {
	if _, err := s.cfg.Store.GetDocument(ctx, tenant, id); err != nil {
		return err
	}
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return jobs.Unavailable("the search index", err)
	}
	index := snap.Index()
	if err := index.DeleteDocument(ctx, tenant, id); err != nil {
		return jobs.Unavailable("the search index", fmt.Errorf("documents: delete chunks of %s: %w", id, err))
	}
	blobs, err := s.cfg.Store.DeleteDocument(ctx, tenant, id)
	if err != nil {
		return err
	}
	InvalidateCache(ctx, s.cfg.Store, s.cfg.Logger, tenant, id) // answers citing it are gone with it
	if err := index.DeleteDocument(ctx, tenant, id); err != nil {
		s.cfg.Logger.Error("second index delete failed; chunks may remain until the job's cleanup", "doc_id", id, "error", err)
	}
	for _, key := range blobs {
		if err := s.cfg.Blobs.Delete(ctx, key); err != nil {
			s.cfg.Logger.Error("could not delete document bytes", "doc_id", id, "error", err)
		}
	}
	return nil
}
