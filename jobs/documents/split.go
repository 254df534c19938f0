package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
)

// split parses and chunks doc's bytes (or pre, the text already extracted
// from them), returning the pieces, the title parsing found and, for PDFs,
// the page count. Errors that say the input is unusable come back as
// rejections. pdfProgress, unless nil, hears of the pages of a PDF parsed
// so far (parsePDF).
func (s *Service) split(ctx context.Context, doc ragqueue.Document, pre *ingest.Parsed, pdfProgress func(pagesParsed int)) (pieces []ingest.Piece, title string, pages int, err error) {
	var parsed ingest.Parsed
	if pre != nil {
		parsed = *pre
	} else if parsed, err = s.parseBlob(ctx, doc, pdfProgress); err != nil {
		return nil, "", 0, err
	}
	pieces, err = s.cfg.Chunker.SplitContext(ctx, doc.ContentType, parsed)
	if err != nil {
		if isInputError(err) {
			return nil, "", 0, rejection{fmt.Errorf("documents: chunk document %s: %w", doc.ID, err)}
		}
		return nil, "", 0, fmt.Errorf("documents: chunk document %s: %w", doc.ID, err)
	}
	if len(pieces) == 0 && doc.ContentType != ingest.TypePDF {
		// A PDF without text (scanned pages) is not an error: it becomes
		// ready with no chunks and a warning (see embed).
		return nil, "", 0, rejection{ragqueue.Errorf(ragqueue.EINVALID, "the document contains no text")}
	}
	return pieces, parsed.Title, len(parsed.Sections), nil
}

// parseBlob reads and parses doc's stored bytes. An HTML page fetched from
// the web is extracted as the crawler extracts it (main content first), so
// that a retry indexes what the first attempt did. pdfProgress is parsePDF's.
func (s *Service) parseBlob(ctx context.Context, doc ragqueue.Document, pdfProgress func(pagesParsed int)) (ingest.Parsed, error) {
	rc, err := s.cfg.Blobs.Open(ctx, doc.BlobKey)
	if ragqueue.IsNotFound(err) {
		return ingest.Parsed{}, jobs.Permanent(fmt.Errorf("documents: open content of document %s: %w", doc.ID,
			ragqueue.Errorf(ragqueue.ENOTFOUND, "the document's content is missing; upload it again")))
	} else if err != nil {
		return ingest.Parsed{}, fmt.Errorf("documents: open content of document %s: %w", doc.ID, err)
	}
	defer func() { _ = rc.Close() }()
	var parsed ingest.Parsed
	switch {
	case doc.ContentType == ingest.TypePDF:
		parsed, err = s.parsePDF(ctx, rc, pdfProgress)
	case doc.ContentType == ingest.TypeHTML && web.IsWebSource(doc.Source):
		var body []byte
		if body, err = readAtMost(rc, s.cfg.MaxParseBytes); err == nil {
			parsed, err = web.ExtractHTML(ctx, body, doc.Source)
		}
	default:
		parsed, err = ingest.Parse(ctx, doc.ContentType, rc, s.cfg.MaxParseBytes)
	}
	if err != nil {
		if isInputError(err) {
			return ingest.Parsed{}, rejection{fmt.Errorf("documents: parse document %s: %w", doc.ID, err)}
		}
		return ingest.Parsed{}, fmt.Errorf("documents: parse document %s: %w", doc.ID, err)
	}
	return parsed, nil
}

// readAtMost reads r to the end, failing with a ragqueue ETOOLARGE error
// when it holds more than max bytes (max ≤ 0: no limit).
func readAtMost(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		return io.ReadAll(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ragqueue.Errorf(ragqueue.ETOOLARGE, "the document is larger than %s", ingest.FormatBytes(max))
	}
	return b, nil
}

// parsePDF runs the PDF parser on a document's bytes, telling progress
// (unless nil) of the pages parsed while it runs, at most every
// jobs.ProgressEvery.
func (s *Service) parsePDF(ctx context.Context, rc io.Reader, progress func(pagesParsed int)) (ingest.Parsed, error) {
	if s.cfg.PDF == nil {
		return ingest.Parsed{}, jobs.Permanent(errors.New("documents: PDF parsing is not configured in this worker"))
	}
	f, ok := rc.(*os.File)
	if !ok {
		// The parser hands the file to its child process as a descriptor;
		// bytes from elsewhere are spooled to a temporary file first.
		tmp, err := os.CreateTemp("", "ragqueue-pdf-*")
		if err != nil {
			return ingest.Parsed{}, fmt.Errorf("documents: spool PDF: %w", err)
		}
		defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
		if _, err := io.Copy(tmp, rc); err != nil {
			return ingest.Parsed{}, fmt.Errorf("documents: spool PDF: %w", err)
		}
		f = tmp
	}
	var last time.Time
	return s.cfg.PDF.ParsePDFProgress(ctx, f, func(n int) {
		if progress == nil || time.Since(last) < jobs.ProgressEvery {
			return
		}
		last = time.Now()
		progress(n)
	})
}

// PDFParser extracts a PDF's pages, reporting pages parsed as it goes.
// *pdf.Parser (package ingest/pdf) implements it.
type PDFParser interface {
	ParsePDFProgress(ctx context.Context, f *os.File, progress func(pagesParsed int)) (ingest.Parsed, error)
}
