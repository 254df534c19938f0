package main

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// versionResponse is the answer to PUT /v1/documents/{id}.
type versionResponse struct {
	Document  ragqueue.Document `json:"document"`
	JobID     string            `json:"job_id"`
	Version   int               `json:"version"`
	Unchanged bool              `json:"unchanged"`
}

// putDocument gives a document new content as its next version. The current
// version keeps answering searches and questions until the new one is
// ready; then the index switches over in one step and the old chunks and
// bytes go. The same bytes as the current version change nothing (200,
// unchanged); bytes another document of the tenant has are refused (409).
// While a version is still queued or processing, a new one is refused
// (409): one version is ingested at a time.
func (s *server) putDocument(c *gin.Context) {
	ctx := c.Request.Context()
	t, id := tenant(c), c.Param("id")
	cur, err := s.docs.GetDocument(ctx, t, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	u, metadata, err := s.readVersion(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	kept := false
	defer func() {
		if !kept {
			s.deleteBlobs(c, []*pendingUpload{u})
		}
	}()

	// Compared first, so that a client repeating a PUT whose answer it lost
	// hears "unchanged" rather than a conflict with its own version.
	if u.blob.SHA256 == cur.SHA256 {
		c.JSON(http.StatusOK, versionResponse{Document: cur, JobID: cur.JobID, Version: cur.Version, Unchanged: true})
		return
	}
	if cur.Status == ragqueue.StatusQueued || cur.Status == ragqueue.StatusProcessing {
		s.fail(c, ragqueue.Errorf(ragqueue.ECONFLICT,
			"version %d of document %s is still %s; wait until it finishes (GET /v1/documents/%s) and send the new content again",
			cur.Version, id, cur.Status, id))
		return
	}
	title := u.title
	if title == "" {
		title = cur.Title // a version of a document keeps its name unless given another
	}
	doc, err := documents.ReplaceContent(ctx, s.docs, s.blobs, cur, ragqueue.Document{
		Title: title, Source: u.source, ContentType: u.contentType,
		SHA256: u.blob.SHA256, Size: u.blob.Size, BlobKey: u.blob.Key,
		JobID: uuid.NewString(), Metadata: metadata,
	}, s.logger.Warn)
	if err != nil {
		s.fail(c, err)
		return
	}
	kept = true
	s.enqueueIngest(c, doc)
	logAttr(c, "job_id", doc.JobID)
	c.JSON(http.StatusAccepted, versionResponse{Document: doc, JobID: doc.JobID, Version: doc.Version})
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
// new job. A rejected document cannot be retried: its content is the
// problem, and PUT is how to send other content.
func (s *server) retryDocument(c *gin.Context) {
	ctx := c.Request.Context()
	t, id := tenant(c), c.Param("id")
	doc, err := s.docs.GetDocument(ctx, t, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	switch doc.Status {
	case ragqueue.StatusFailed:
	case ragqueue.StatusRejected:
		s.fail(c, ragqueue.Errorf(ragqueue.ECONFLICT,
			"rejected documents cannot be retried: %s; send other content with PUT /v1/documents/%s", doc.Error, id))
		return
	default:
		s.fail(c, ragqueue.Errorf(ragqueue.ECONFLICT,
			"document %s is %s; only failed documents can be retried", id, doc.Status))
		return
	}
	doc, err = s.docs.RetryDocument(ctx, t, id, doc.Version, uuid.NewString())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.enqueueIngest(c, doc) // a retry request sets no callback
	logAttr(c, "job_id", doc.JobID)
	c.JSON(http.StatusAccepted, gin.H{"job_id": doc.JobID, "document": doc})
}
