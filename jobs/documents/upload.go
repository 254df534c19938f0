package documents

import (
	"context"
	"encoding/json"
	"io"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// Upload is content a client sent, whose bytes StoreBytes has put in the
// blob store: what Create makes a new document of, or NewVersion a new
// version. Whoever holds an Upload owns its bytes until it hands it to
// Create or NewVersion (or discards it with DiscardBytes).
type Upload struct {
	Tenant string
	// Title is the title the client gave ("": none). A new document is then
	// titled DefaultTitle; a new version keeps the document's title.
	Title        string
	DefaultTitle string
	// Source says where the content came from ("upload:report.pdf", "text").
	Source      string
	ContentType string
	Blob        ragqueue.BlobInfo
	// Metadata is a JSON object CheckMetadata accepted, or nil.
	Metadata json.RawMessage
	// Callback is a URL jobs.CheckCallback accepted, notified when the
	// ingest job ends ("": none).
	Callback string
}

// Created is what Create did: Document is the new document, queued for
// ingestion, or, Duplicate, the tenant's document that already holds the
// same bytes (nothing to ingest).
type Created struct {
	Document  ragqueue.Document
	Duplicate bool
}

// StoreBytes copies r into the blob store, at most maxBytes (over it
// nothing is stored and the error is ETOOLARGE). The caller owns the bytes
// until it passes them to Create or NewVersion, or to DiscardBytes.
func (s *Service) StoreBytes(ctx context.Context, r io.Reader, maxBytes int64) (ragqueue.BlobInfo, error) {
	return s.cfg.Blobs.Put(ctx, r, maxBytes)
}

// DiscardBytes deletes stored bytes that will not become a document (no
// key: nothing to do), even when ctx is canceled (the client went away). A
// failure is logged: the bytes only take space.
func (s *Service) DiscardBytes(ctx context.Context, blob ragqueue.BlobInfo) {
	if blob.Key == "" {
		return
	}
	if err := s.cfg.Blobs.Delete(context.WithoutCancel(ctx), blob.Key); err != nil {
		s.cfg.Logger.Warn("could not delete refused upload", "error", err)
	}
}

// Create records u as a new document of u.Tenant (the store gives it its ID
// and times, and {} as metadata when there is none) and enqueues its
// ingestion, or reports the tenant's document that already holds the same
// bytes. Whenever no document is created, u's bytes are deleted.
func (s *Service) Create(ctx context.Context, u Upload) (Created, error) {
	title := u.Title
	if title == "" {
		title = u.DefaultTitle
	}
	doc, created, err := CreateDocument(ctx, s.cfg.Store, s.cfg.Blobs, ragqueue.Document{
		Tenant: u.Tenant, Title: title, Source: u.Source,
		ContentType: u.ContentType, SHA256: u.Blob.SHA256, Size: u.Blob.Size, BlobKey: u.Blob.Key,
		Status: ragqueue.StatusQueued, Version: 1, JobID: uuid.NewString(), Metadata: u.Metadata,
	}, s.cfg.Logger.Warn)
	if err != nil {
		return Created{}, err
	}
	if !created {
		return Created{Document: doc, Duplicate: true}, nil
	}
	s.enqueueAccepted(ctx, doc, u.Callback)
	return Created{Document: doc}, nil
}

// enqueueAccepted hands a recorded document (version) to the workers, with
// callback ("": none). A queue that cannot take it is only logged: the
// document is recorded as queued, and the database is the truth: the
// reconciler enqueues it once the queue is back.
func (s *Service) enqueueAccepted(ctx context.Context, doc ragqueue.Document, callback string) {
	var opts []jobs.EnqueueOption
	if callback != "" {
		opts = append(opts, jobs.WithCallback(callback))
	}
	if err := s.EnqueueIngest(ctx, doc, opts...); err != nil {
		s.cfg.Logger.Warn("enqueue failed; the reconciler will retry", "doc_id", doc.ID, "error", err)
	}
}

// CreateDocument records d, whose bytes are already stored under
// d.BlobKey, as a new document through store.CreateDocument. When no
// document is created (an error, or the tenant already holds the same
// bytes: created is false and the existing document comes back), the bytes
// just stored are deleted, as nothing refers to them. It is the one
// creation path of uploads (Create), crawled pages and the evaluation tool;
// the caller enqueues (or runs) the ingestion.
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
