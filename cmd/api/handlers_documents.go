package main

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// maxFilesPerRequest bounds one multipart upload.
const maxFilesPerRequest = 100

// uploadResult is one entry of POST /v1/documents' response: the document
// it created or found, or why this file was refused.
type uploadResult struct {
	ID        string       `json:"id,omitempty"`
	Status    string       `json:"status,omitempty"`
	JobID     string       `json:"job_id,omitempty"`
	Duplicate bool         `json:"duplicate"`
	Filename  string       `json:"filename,omitempty"`
	Error     *errorDetail `json:"error,omitempty"`
}

// createDocuments accepts multipart file parts or a JSON text body.
func (s *server) createDocuments(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "multipart/form-data":
		s.uploadMultipart(c)
	case "application/json":
		s.uploadJSON(c)
	default:
		s.fail(c, errUploadType(mt))
	}
}

// errUploadType refuses a request body that is neither form of upload.
func errUploadType(mt string) error {
	return ragqueue.Errorf(ragqueue.EUNSUPPORTED,
		"send multipart/form-data with one or more \"file\" parts, or application/json {\"title\",\"text\",\"metadata\"}; got %q", mt)
}

func (s *server) uploadMultipart(c *gin.Context) {
	uploads, metadata, err := s.readMultipart(c, maxFilesPerRequest, fmt.Sprintf("at most %d files per request", maxFilesPerRequest))
	if err != nil {
		s.fail(c, err)
		return
	}
	// Bytes that did not become documents must not stay on disk, also when
	// a handler below panics.
	defer s.discardUploads(c, uploads)
	results := make([]uploadResult, len(uploads))
	var firstErr error
	accepted := 0
	for i, u := range uploads {
		if u.err == nil {
			results[i], u.err = s.createDocument(c, u, metadata)
		}
		if u.err == nil {
			accepted++
			continue
		}
		if firstErr == nil {
			firstErr = u.err
		}
		detail := errorDetail{Code: ragqueue.ErrorCode(u.err), Message: ragqueue.ErrorMessage(u.err)}
		results[i] = uploadResult{Filename: u.filename, Error: &detail} // no bytes stay: none stored, or Create deleted them
	}
	if accepted == 0 {
		// Nothing was accepted: answer with the first file's problem, and the
		// per-file reasons beside it.
		err := normalize(firstErr)
		code, status := statusOf(err)
		if status >= 500 {
			s.fail(c, err)
			return
		}
		c.JSON(status, gin.H{
			"error":     errorDetail{Code: code, Message: ragqueue.ErrorMessage(err)},
			"documents": results,
		})
		return
	}
	var docIDs, jobIDs []string
	for _, r := range results {
		if r.ID != "" {
			docIDs = append(docIDs, r.ID)
		}
		if r.JobID != "" {
			jobIDs = append(jobIDs, r.JobID)
		}
	}
	logAttr(c, "doc_id", docIDs...)
	logAttr(c, "job_id", jobIDs...)
	c.JSON(http.StatusAccepted, gin.H{"documents": results})
}

func (s *server) uploadJSON(c *gin.Context) {
	u, metadata, err := s.readTextUpload(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.createDocument(c, u, metadata)
	if err != nil {
		s.fail(c, err)
		return
	}
	logAttr(c, "doc_id", res.ID)
	logAttr(c, "job_id", res.JobID)
	c.JSON(http.StatusAccepted, gin.H{"documents": []uploadResult{res}})
}

// createDocument records a stored upload as a document of the caller's
// tenant and enqueues its ingestion (documents.Create), or reports the
// tenant's existing document with the same bytes. From the call on, the
// upload's bytes are the use case's: it deletes them whenever no document
// is created.
func (s *server) createDocument(c *gin.Context, u *pendingUpload, metadata json.RawMessage) (uploadResult, error) {
	up := u.up
	up.Tenant, up.Metadata, up.Callback = tenant(c), metadata, callbackOf(c)
	created, err := s.ingest.Create(c.Request.Context(), up)
	u.up.Blob.Key = "" // owned by the document, or deleted
	if err != nil {
		return uploadResult{}, err
	}
	doc := created.Document
	return uploadResult{ID: doc.ID, Status: string(doc.Status), JobID: doc.JobID, Duplicate: created.Duplicate, Filename: u.filename}, nil
}

// listDocuments pages through the tenant's documents, newest first.
func (s *server) listDocuments(c *gin.Context) {
	page, err := s.ingest.List(c.Request.Context(), documents.Listing{
		Tenant: tenant(c), Status: ragqueue.Status(c.Query("status")),
		Limit: limitParam(c.Query("limit")), Cursor: c.Query("cursor"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	var nextCursor *string
	if page.Next != "" {
		nextCursor = &page.Next
	}
	c.JSON(http.StatusOK, gin.H{"documents": page.Documents, "next_cursor": nextCursor})
}

// limitParam parses a limit query parameter for documents.List: nil when
// absent; one that is not a whole number becomes 0, which List refuses
// with the message that says what to send.
func limitParam(v string) *int {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		n = 0
	}
	return &n
}

func (s *server) getDocument(c *gin.Context) {
	doc, err := s.ingest.Get(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, doc)
}

// deleteDocument removes a document's chunks from search, its record, the
// answers citing it and its bytes (documents.Delete).
func (s *server) deleteDocument(c *gin.Context) {
	if err := s.ingest.Delete(c.Request.Context(), tenant(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
