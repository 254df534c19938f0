package documents

import (
	"context"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// Versioned is what NewVersion did: Document is the new version, queued
// for ingestion, or, Unchanged, the current one, left alone as the new
// content is the same bytes.
type Versioned struct {
	Document  ragqueue.Document
	Unchanged bool
}

// versionRule says what new content whose hex SHA-256 is sum does to
// document cur, the one rule of PUT /v1/documents/{id} and of crawled
// pages: the same bytes change nothing (PageUnchanged; compared first, so
// that a client repeating a request whose answer it lost hears
// "unchanged" rather than a conflict with its own version); while a
// version is still queued or processing, none is made (PageBusy: one
// version is ingested at a time); otherwise "" (a new version may be made).
func versionRule(cur ragqueue.Document, sum string) PageOutcome {
	switch {
	case cur.SHA256 == sum:
		return PageUnchanged
	case cur.Status == ragqueue.StatusQueued || cur.Status == ragqueue.StatusProcessing:
		return PageBusy
	}
	return ""
}

// NewVersion gives document cur the content u (whose bytes StoreBytes
// stored) as its next version and enqueues its ingestion under a new job,
// with u.Callback. The current version keeps answering until the new one is
// ready. The same bytes as cur change nothing (Unchanged); while cur is
// still being ingested the new content is refused (ECONFLICT), as are bytes
// another document of the tenant holds. A version keeps cur's title unless
// u gives one. Whenever no version is made, u's bytes are deleted.
func (s *Service) NewVersion(ctx context.Context, cur ragqueue.Document, u Upload) (Versioned, error) {
	kept := false
	defer func() {
		if !kept {
			s.DiscardBytes(ctx, u.Blob)
		}
	}()
	switch versionRule(cur, u.Blob.SHA256) {
	case PageUnchanged:
		return Versioned{Document: cur, Unchanged: true}, nil
	case PageBusy:
		return Versioned{}, ragqueue.Errorf(ragqueue.ECONFLICT,
			"version %d of document %s is still %s; wait until it finishes (GET /v1/documents/%s) and send the new content again",
			cur.Version, cur.ID, cur.Status, cur.ID)
	}
	title := u.Title
	if title == "" {
		title = cur.Title // a version of a document keeps its name unless given another
	}
	doc, err := ReplaceContent(ctx, s.cfg.Store, s.cfg.Blobs, cur, ragqueue.Document{
		Title: title, Source: u.Source, ContentType: u.ContentType,
		SHA256: u.Blob.SHA256, Size: u.Blob.Size, BlobKey: u.Blob.Key,
		JobID: uuid.NewString(), Metadata: u.Metadata,
	}, s.cfg.Logger.Warn)
	if err != nil {
		return Versioned{}, err
	}
	kept = true
	s.enqueueAccepted(ctx, doc, u.Callback)
	return Versioned{Document: doc}, nil
}

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
