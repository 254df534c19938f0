package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
)

// PageOutcome says what storing a fetched page did.
type PageOutcome string

const (
	PageCreated   PageOutcome = "created"   // a new document
	PageUpdated   PageOutcome = "updated"   // a new version of the URL's document
	PageUnchanged PageOutcome = "unchanged" // same bytes as the URL's document
	PageDuplicate PageOutcome = "duplicate" // same bytes as another document of the tenant
	PageBusy      PageOutcome = "busy"      // the URL's document is still being ingested
)

// StorePage records a fetched page as a document of tenant, deduplicated by
// URL: the URL's document with the same bytes, or one still being
// ingested, is left alone (versionRule, as for PUT /v1/documents/{id}); with
// other bytes it gets a new version (ReplaceContent); a new URL becomes a new
// document. Bytes that another document of the tenant already holds (the
// same page under two URLs) are that document: outcome duplicate. The
// returned document needs ingesting when outcome is created or updated.
func (s *Service) StorePage(ctx context.Context, tenant string, p web.Page) (ragqueue.Document, PageOutcome, error) {
	body := p.Body // as received: the ingest job parses it like an upload
	cur, err := s.cfg.Store.DocumentBySource(ctx, tenant, p.URL)
	found := err == nil
	if err != nil && !ragqueue.IsNotFound(err) {
		return ragqueue.Document{}, "", fmt.Errorf("documents: find document of %s: %w", p.URL, err)
	}
	if found {
		if outcome := versionRule(cur, sha256Hex(body)); outcome != "" {
			return cur, outcome, nil
		}
	}
	blob, err := s.cfg.Blobs.Put(ctx, bytes.NewReader(body), int64(len(body))+1)
	if err != nil {
		return ragqueue.Document{}, "", fmt.Errorf("documents: store page %s: %w", p.URL, err)
	}
	key := blob.Key
	next := ragqueue.Document{
		Tenant: tenant, Title: p.Title, Source: p.URL, ContentType: p.ContentType,
		SHA256: blob.SHA256, Size: blob.Size, BlobKey: key, JobID: uuid.NewString(), Version: 1,
		// The caller ingests a new document at once, in its own task: it is
		// processing from the start (one write fewer per page), which also
		// tells the reconciler that a task has it.
		Status: ragqueue.StatusProcessing,
	}
	if found {
		doc, err := ReplaceContent(ctx, s.cfg.Store, s.cfg.Blobs, cur, next, s.cfg.Logger.Warn)
		if err != nil {
			_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), key)
			if ragqueue.ErrorCode(err) == ragqueue.ECONFLICT {
				return cur, PageDuplicate, nil
			}
			return ragqueue.Document{}, "", fmt.Errorf("documents: new version of %s: %w", p.URL, err)
		}
		return doc, PageUpdated, nil
	}
	doc, created, err := CreateDocument(ctx, s.cfg.Store, s.cfg.Blobs, next, s.cfg.Logger.Warn)
	if err != nil {
		return ragqueue.Document{}, "", fmt.Errorf("documents: create document for %s: %w", p.URL, err)
	}
	if !created {
		return doc, PageDuplicate, nil
	}
	return doc, PageCreated, nil
}

// sha256Hex is the hex SHA-256 of b, as the blob store reports it.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
