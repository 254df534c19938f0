package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// pendingUpload is a file whose bytes are in the blob store (up.Blob) but
// which has no document yet.
type pendingUpload struct {
	filename string
	up       documents.Upload
	err      error // set when the file was refused (then no bytes are stored)
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
			s.discardUploads(c, uploads)
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
			raw, err := io.ReadAll(io.LimitReader(part, documents.MaxMetadataBytes+1))
			if err != nil {
				return uploads, nil, readErr(err, "the metadata part cannot be read: %v")
			}
			if metadata, err = documents.CheckMetadata(raw); err != nil {
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

// discardUploads removes the stored bytes of uploads that will not become
// documents, even when the client has gone away.
func (s *server) discardUploads(c *gin.Context, uploads []*pendingUpload) {
	for _, u := range uploads {
		s.ingest.DiscardBytes(c.Request.Context(), u.up.Blob)
		u.up.Blob.Key = ""
	}
}

// storePart streams one file part into the blob store, sniffing its type
// from the first bytes. A refused file is returned with err set and no bytes
// stored; an error return means the request as a whole cannot go on.
func (s *server) storePart(c *gin.Context, part *multipart.Part) (*pendingUpload, error) {
	name := part.FileName()
	u := &pendingUpload{filename: ingest.CleanTitle(name)}
	u.up = documents.Upload{Title: u.filename, DefaultTitle: "untitled", Source: "upload:" + u.filename}
	if u.filename == "" {
		u.up.Source = "upload"
	}
	br := bufio.NewReaderSize(part, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, readErr(err, "the upload was cut off: %v")
	}
	if len(head) == 0 {
		u.err = invalid("file %q is empty", u.filename)
	} else {
		u.up.ContentType, u.err = ingest.DetectContentType(name, part.Header.Get("Content-Type"), head)
	}
	if u.err != nil { // refused: skip its bytes and go on with the next part
		if _, err := io.Copy(io.Discard, br); err != nil {
			return nil, readErr(err, "the upload was cut off: %v")
		}
		return u, nil
	}
	if u.up.Blob, err = s.ingest.StoreBytes(c.Request.Context(), br, s.cfg.MaxUploadBytes); err != nil {
		return nil, readErr(err, "the upload could not be stored: %v")
	}
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
		if metadata, err = documents.CheckMetadata(req.Metadata); err != nil {
			return nil, nil, err
		}
	}
	if err := s.setCallback(c, req.CallbackURL); err != nil {
		return nil, nil, err
	}
	blob, err := s.ingest.StoreBytes(c.Request.Context(), strings.NewReader(req.Text), s.cfg.MaxUploadBytes)
	if err != nil {
		return nil, nil, err
	}
	u = &pendingUpload{up: documents.Upload{
		Title: ingest.CleanTitle(req.Title), DefaultTitle: documents.TitleFromText(req.Text),
		Source: "text", ContentType: ct, Blob: blob,
	}}
	return u, metadata, nil
}
