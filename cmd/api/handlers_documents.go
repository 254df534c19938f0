package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/storage"
)

// maxMetadataBytes caps the metadata object stored with a document.
const maxMetadataBytes = 16 << 10

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

// pendingUpload is a file whose bytes are in the blob store but which has no
// document yet.
type pendingUpload struct {
	filename string
	// title is the one the client gave (a file name, a JSON title), or "";
	// defaultTitle is what a new document is titled when title is "".
	title        string
	defaultTitle string
	source       string
	contentType  string
	blob         storage.BlobInfo
	err          error // set when the file was refused
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

// readMultipart reads a multipart upload: each "file" part is sniffed and
// streamed into the blob store (a refused file comes back with err set), and
// the optional "metadata" part, wherever it comes, applies to all of them.
// More than maxFiles file parts fail with tooMany. On error it deletes every
// blob it stored; otherwise the caller owns them.
func (s *server) readMultipart(c *gin.Context, maxFiles int, tooMany string) (uploads []*pendingUpload, metadata json.RawMessage, err error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, nil, invalid("the multipart body cannot be read: %v", err)
	}
	// Whatever goes wrong below, bytes of files that will not become
	// documents must not stay on disk.
	defer func() {
		if err != nil {
			s.deleteBlobs(c, uploads)
			uploads = nil
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return uploads, nil, readErr(err, "the multipart body is malformed: %v")
		}
		switch part.FormName() {
		case "file", "files":
			if len(uploads) >= maxFiles {
				return uploads, nil, invalid("%s", tooMany)
			}
			u, err := s.storePart(c, part)
			if err != nil { // the whole request is broken (too large, cut off)
				return uploads, nil, err
			}
			uploads = append(uploads, u)
		case "metadata":
			raw, err := io.ReadAll(io.LimitReader(part, maxMetadataBytes+1))
			if err != nil {
				return uploads, nil, readErr(err, "the metadata part cannot be read: %v")
			}
			if metadata, err = parseMetadata(raw); err != nil {
				return uploads, nil, err
			}
		case "callback_url":
			raw, err := io.ReadAll(io.LimitReader(part, jobs.MaxCallbackURL+1))
			if err != nil {
				return uploads, nil, readErr(err, "the callback_url part cannot be read: %v")
			}
			if err := s.setCallback(c, string(raw)); err != nil {
				return uploads, nil, err
			}
		default:
			return uploads, nil, invalid("unknown form field %q: send files as \"file\" parts, an optional \"metadata\" JSON object and an optional \"callback_url\"", part.FormName())
		}
	}
	if len(uploads) == 0 {
		return nil, nil, invalid("no file parts: send each file as a multipart part named \"file\"")
	}
	return uploads, metadata, nil
}

// deleteBlobs removes the stored bytes of uploads that will not become
// documents, even when the client has gone away.
func (s *server) deleteBlobs(c *gin.Context, uploads []*pendingUpload) {
	ctx := context.WithoutCancel(c.Request.Context())
	for _, u := range uploads {
		if u.blob.Key != "" {
			if err := s.blobs.Delete(ctx, u.blob.Key); err != nil {
				s.logger.Warn("could not delete refused upload", "error", err)
			}
			u.blob.Key = ""
		}
	}
}

func (s *server) uploadMultipart(c *gin.Context) {
	uploads, metadata, err := s.readMultipart(c, maxFilesPerRequest, fmt.Sprintf("at most %d files per request", maxFilesPerRequest))
	if err != nil {
		s.fail(c, err)
		return
	}
	// Bytes that did not become documents must not stay on disk, also when
	// a handler below panics.
	defer s.deleteBlobs(c, uploads)
	results := make([]uploadResult, len(uploads))
	var firstErr error
	accepted := 0
	for i, u := range uploads {
		if u.err == nil {
			results[i], u.err = s.createDocument(c, u, metadata)
		}
		if u.err == nil {
			u.blob.Key = "" // owned by the document (or already deleted as a duplicate)
			accepted++
			continue
		}
		if firstErr == nil {
			firstErr = u.err
		}
		detail := errorDetail{Code: ragqueue.ErrorCode(u.err), Message: ragqueue.ErrorMessage(u.err)}
		results[i] = uploadResult{Filename: u.filename, Error: &detail}
		s.deleteBlobs(c, []*pendingUpload{u})
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

// storePart streams one file part into the blob store, sniffing its type
// from the first bytes. A refused file is returned with err set and no bytes
// stored; an error return means the request as a whole cannot go on.
func (s *server) storePart(c *gin.Context, part *multipart.Part) (*pendingUpload, error) {
	name := part.FileName()
	u := &pendingUpload{filename: ingest.CleanTitle(name), defaultTitle: "untitled"}
	u.title = u.filename
	u.source = "upload:" + u.filename
	if u.filename == "" {
		u.source = "upload"
	}
	br := bufio.NewReaderSize(part, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, readErr(err, "the upload was cut off: %v")
	}
	if len(head) == 0 {
		u.err = invalid("file %q is empty", u.filename)
	} else {
		u.contentType, u.err = ingest.DetectContentType(name, part.Header.Get("Content-Type"), head)
	}
	if u.err != nil { // refused: skip its bytes and go on with the next part
		if _, err := io.Copy(io.Discard, br); err != nil {
			return nil, readErr(err, "the upload was cut off: %v")
		}
		return u, nil
	}
	info, err := s.blobs.Put(c.Request.Context(), br, s.cfg.MaxUploadBytes)
	if err != nil {
		return nil, readErr(err, "the upload could not be stored: %v")
	}
	u.blob = info
	return u, nil
}

// readErr classifies an error from reading the request body: over the limit
// is 413, a client that went away or sent garbage is 400.
func readErr(err error, format string) error {
	if err := normalize(err); ragqueue.ErrorCode(err) != ragqueue.EINTERNAL {
		return err
	}
	return invalid(format, err)
}

// textUpload is the JSON form of POST /v1/documents.
type textUpload struct {
	Title       string          `json:"title"`
	Text        string          `json:"text"`
	ContentType string          `json:"content_type"`
	Metadata    json.RawMessage `json:"metadata"`
	CallbackURL string          `json:"callback_url"`
}

func (s *server) uploadJSON(c *gin.Context) {
	u, metadata, err := s.readTextUpload(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.createDocument(c, u, metadata)
	if err != nil {
		s.deleteBlobs(c, []*pendingUpload{u})
		s.fail(c, err)
		return
	}
	logAttr(c, "doc_id", res.ID)
	logAttr(c, "job_id", res.JobID)
	c.JSON(http.StatusAccepted, gin.H{"documents": []uploadResult{res}})
}

// readTextUpload reads the JSON form of an upload and stores its text as a
// blob. Without a title, a new document is titled by the text's first line.
func (s *server) readTextUpload(c *gin.Context) (u *pendingUpload, metadata json.RawMessage, err error) {
	var req textUpload
	if err := decodeJSON(c, &req); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, nil, invalid("text is required and must not be blank")
	}
	if !utf8.ValidString(req.Text) {
		return nil, nil, invalid("text must be valid UTF-8")
	}
	ct := req.ContentType
	switch ct {
	case "":
		ct = ingest.TypeText
	case ingest.TypeText, ingest.TypeMarkdown, ingest.TypeHTML:
	default:
		return nil, nil, ragqueue.Errorf(ragqueue.EUNSUPPORTED, "content_type %q is not supported; use text/plain, text/markdown or text/html", ct)
	}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		if metadata, err = parseMetadata(req.Metadata); err != nil {
			return nil, nil, err
		}
	}
	if err := s.setCallback(c, req.CallbackURL); err != nil {
		return nil, nil, err
	}
	info, err := s.blobs.Put(c.Request.Context(), strings.NewReader(req.Text), s.cfg.MaxUploadBytes)
	if err != nil {
		return nil, nil, err
	}
	u = &pendingUpload{
		title: ingest.CleanTitle(req.Title), defaultTitle: firstLine(req.Text, 80),
		source: "text", contentType: ct, blob: info,
	}
	return u, metadata, nil
}

// createDocument records a stored upload as a document and enqueues its
// ingestion, or reports the tenant's existing document with the same bytes.
// The store gives the document its ID and times, and {} as metadata when
// there is none.
func (s *server) createDocument(c *gin.Context, u *pendingUpload, metadata json.RawMessage) (uploadResult, error) {
	ctx := c.Request.Context()
	title := u.title
	if title == "" {
		title = u.defaultTitle
	}
	doc, created, err := documents.CreateDocument(ctx, s.docs, s.blobs, ragqueue.Document{
		Tenant: tenant(c), Title: title, Source: u.source,
		ContentType: u.contentType, SHA256: u.blob.SHA256, Size: u.blob.Size, BlobKey: u.blob.Key,
		Status: ragqueue.StatusQueued, Version: 1, JobID: uuid.NewString(), Metadata: metadata,
	}, s.logger.Warn)
	if err != nil {
		return uploadResult{}, err
	}
	if !created {
		// Same bytes as an existing document of this tenant: nothing to ingest.
		return uploadResult{ID: doc.ID, Status: string(doc.Status), JobID: doc.JobID, Duplicate: true, Filename: u.filename}, nil
	}
	s.enqueueIngest(c, doc)
	return uploadResult{ID: doc.ID, Status: string(doc.Status), JobID: doc.JobID, Filename: u.filename}, nil
}

// enqueueIngest hands a recorded document (version) to the workers, with
// the request's callback. A queue that cannot take it is only logged: the
// document is recorded as queued, and the database is the truth: the
// reconciler enqueues it once the queue is back.
func (s *server) enqueueIngest(c *gin.Context, doc ragqueue.Document) {
	if err := s.ingest.EnqueueIngest(c.Request.Context(), doc, enqueueOpts(c)...); err != nil {
		s.logger.Warn("enqueue failed; the reconciler will retry", "doc_id", doc.ID, "error", err)
	}
}

// listDocuments pages through the tenant's documents, newest first.
func (s *server) listDocuments(c *gin.Context) {
	f := ragqueue.DocumentFilter{Status: ragqueue.Status(c.Query("status")), Cursor: c.Query("cursor")}
	if f.Status != "" && !f.Status.Valid() {
		s.fail(c, invalid("status %q is not one of queued, processing, ready, failed, rejected", f.Status))
		return
	}
	var err error
	if f.Limit, err = intParam(c.Query("limit"), 50, 1, 500, "limit"); err != nil {
		s.fail(c, err)
		return
	}
	docs, next, err := s.docs.ListDocuments(c.Request.Context(), tenant(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	if docs == nil {
		docs = []ragqueue.Document{}
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	c.JSON(http.StatusOK, gin.H{"documents": docs, "next_cursor": nextCursor})
}

func (s *server) getDocument(c *gin.Context) {
	doc, err := s.docs.GetDocument(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, doc)
}

// deleteDocument removes a document's chunks from search (every version:
// the one answering and one still being processed), its record and its
// bytes. The order matters when an ingest job is still running: index first
// (nothing answers from it any more), then the record (the job's final
// version-guarded update then fails and it removes what it wrote), then the
// index again for anything the job wrote in between.
func (s *server) deleteDocument(c *gin.Context) {
	ctx := c.Request.Context()
	t, id := tenant(c), c.Param("id")
	if _, err := s.docs.GetDocument(ctx, t, id); err != nil {
		s.fail(c, err)
		return
	}
	snap, err := s.spaces.Snapshot(ctx)
	if err != nil {
		s.fail(c, unavailable("the search index", err))
		return
	}
	// Every embedding space, including one a re-index is building.
	index := snap.Index()
	if err := index.DeleteDocument(ctx, t, id); err != nil {
		s.fail(c, unavailable("the search index", err))
		return
	}
	blobs, err := s.docs.DeleteDocument(ctx, t, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	documents.InvalidateCache(ctx, s.cacheStore, s.logger, t, id) // answers citing it are gone with it
	if err := index.DeleteDocument(ctx, t, id); err != nil {
		s.logger.Error("second index delete failed; chunks may remain until the job's cleanup", "doc_id", id, "error", err)
	}
	for _, key := range blobs {
		if err := s.blobs.Delete(ctx, key); err != nil {
			s.logger.Error("could not delete document bytes", "doc_id", id, "error", err)
		}
	}
	c.Status(http.StatusNoContent)
}

// parseMetadata checks that raw is a JSON object of bounded size.
func parseMetadata(raw []byte) (json.RawMessage, error) {
	if len(raw) > maxMetadataBytes {
		return nil, invalid("metadata is larger than %d bytes", maxMetadataBytes)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, invalid("metadata must be a JSON object, e.g. {\"team\":\"docs\"}")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalid("metadata must be a JSON object: %v", err)
	}
	return buf.Bytes(), nil
}

// firstLine returns the first non-blank line of s, at most n runes.
func firstLine(s string, n int) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if r := []rune(line); len(r) > n {
				return string(r[:n])
			}
			return line
		}
	}
	return "untitled"
}
