package main

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// versionResponse is the answer to PUT /v1/documents/{id}.
type versionResponse struct {
	Document  ragqueue.Document `json:"document"`
	JobID     string            `json:"job_id"`
	Version   int               `json:"version"`
	Unchanged bool              `json:"unchanged"`
}

// putDocument gives a document new content as its next version
// (documents.NewVersion). The current version keeps answering searches and
// questions until the new one is ready; then the index switches over in
// one step and the old chunks and bytes go. The same bytes as the current
// version change nothing (200, unchanged); bytes another document of the
// tenant has are refused (409). While a version is still queued or
// processing, a new one is refused (409): one version is ingested at a
// time. The document is read before the body, so that a missing one is
// refused without storing anything.
func (s *server) putDocument(c *gin.Context) {
	ctx := c.Request.Context()
	cur, err := s.ingest.Get(ctx, tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	u, metadata, err := s.readVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Bytes that did not become a version must not stay, also on a panic.
	defer s.discardUploads(c, []*pendingUpload{u})
	up := u.up
	up.Tenant, up.Metadata, up.Callback = cur.Tenant, metadata, callbackOf(c)
	v, err := s.ingest.NewVersion(ctx, cur, up)
	u.up.Blob.Key = "" // owned by the version, or deleted
	switch {
	case err != nil:
		s.fail(c, err)
	case v.Unchanged:
		c.JSON(http.StatusOK, versionResponse{Document: v.Document, JobID: v.Document.JobID, Version: v.Document.Version, Unchanged: true})
	default:
		logAttr(c, "job_id", v.Document.JobID)
		c.JSON(http.StatusAccepted, versionResponse{Document: v.Document, JobID: v.Document.JobID, Version: v.Document.Version})
	}
}

// readVersion reads a PUT body, in either of POST's forms: multipart with
// exactly one "file" part (and an optional "metadata" part), or the JSON
// text form. The bytes are in the blob store when it returns without error.
func (s *server) readVersion(c *gin.Context) (*pendingUpload, json.RawMessage, error) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "multipart/form-data":
		uploads, metadata, err := s.readMultipart(c, 1,
			`send exactly one "file" part: PUT /v1/documents/{id} replaces one document's content`)
		if err != nil {
			return nil, nil, err
		}
		if err := uploads[0].err; err != nil {
			return nil, nil, err // a refused file stored no bytes
		}
		return uploads[0], metadata, nil
	case "application/json":
		return s.readTextUpload(c)
	default:
		return nil, nil, ragqueue.Errorf(ragqueue.EUNSUPPORTED,
			"send multipart/form-data with one \"file\" part, or application/json {\"title\",\"text\",\"metadata\"}; got %q", mt)
	}
}

// retryDocument ingests a failed document's current version again, under a
// new job (documents.Retry). A rejected document cannot be retried: its
// content is the problem, and PUT is how to send other content.
func (s *server) retryDocument(c *gin.Context) {
	doc, err := s.ingest.Retry(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	logAttr(c, "job_id", doc.JobID)
	c.JSON(http.StatusAccepted, gin.H{"job_id": doc.JobID, "document": doc})
}
