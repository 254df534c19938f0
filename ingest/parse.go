// Package ingest turns sources into text: content-type detection, parsing
// of text, Markdown and HTML, and chunking; PDFs are parsed in sandboxed
// child processes by the package ingest/pdf, into this package's Parsed.
// It does no I/O against the queue or the stores.
package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/ragqueue/ragqueue"
)

// Section is a run of a document's text with its provenance: the heading
// path it sits under and its page, for citations.
type Section struct {
	Heading string `json:"heading"` // "Install > Linux"; "" before the first heading or when the format has none
	Page    int    `json:"page"`    // 1-based page, 0 when the source has no pages
	Text    string `json:"text"`
}

// Parsed is a document's extracted, readable text, ready to be chunked.
type Parsed struct {
	Title    string    `json:"title"` // from the content; "" when it has none (use CleanTitle of the file name)
	Sections []Section `json:"sections"`
}

// Parse extracts readable text from r, whose canonical content type is
// contentType (TypeText, TypeMarkdown or TypeHTML; parameters such as an
// HTML charset are honoured). At most maxBytes are read (0 or less: no
// limit). Errors that are the input's fault are *ragqueue.Error with
// EINVALID, EUNSUPPORTED or ETOOLARGE, and retrying will not help; any
// other error (a failed read, a cancelled ctx) is a plain wrapped error.
func Parse(ctx context.Context, contentType string, r io.Reader, maxBytes int64) (Parsed, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Parsed{}, ragqueue.Errorf(ragqueue.EUNSUPPORTED, "content type %s cannot be parsed; %s", quote(contentType), supportedList)
	}
	switch mt {
	case TypeText, TypeMarkdown, TypeHTML:
	case TypePDF:
		// PDFs are untrusted binary input: only pdf.Parser, in a child
		// process, reads them.
		return Parsed{}, ragqueue.Errorf(ragqueue.EUNSUPPORTED, "Parse does not read PDFs; pdf.Parser parses them in a child process")
	default:
		return Parsed{}, ragqueue.Errorf(ragqueue.EUNSUPPORTED, "content type %s is not supported; %s", quote(mt), supportedList)
	}

	data, err := readAll(ctx, r, maxBytes)
	if err != nil {
		return Parsed{}, err
	}

	var p Parsed
	switch mt {
	case TypeText:
		p, err = parseText(ctx, data)
	case TypeMarkdown:
		p, err = parseMarkdown(ctx, data)
	case TypeHTML:
		p, err = parseHTML(ctx, data, params["charset"])
	}
	return withText(p, err)
}

// withText passes on a parser's result, refusing a document in which it
// found no text.
func withText(p Parsed, err error) (Parsed, error) {
	if err != nil {
		return Parsed{}, err
	}
	if len(p.Sections) == 0 {
		return Parsed{}, ragqueue.Errorf(ragqueue.EINVALID, "the document contains no text")
	}
	return p, nil
}

// readAll reads r to the end, refusing more than maxBytes (when > 0) and
// giving up when ctx is done.
func readAll(ctx context.Context, r io.Reader, maxBytes int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ingest: read document: %w", err)
	}
	r = ctxReader{ctx: ctx, r: r}
	if maxBytes > 0 {
		r = io.LimitReader(r, maxBytes+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ingest: read document: %w", err)
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return nil, ragqueue.Errorf(ragqueue.ETOOLARGE, "the document is larger than the limit of %s", FormatBytes(maxBytes))
	}
	return data, nil
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// FormatBytes renders a byte count for people: "512 bytes", "10 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	units := [...]string{"KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n)/unit, 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".") + " " + units[i]
}

// errNotUTF8 is the client-facing error for text that is not UTF-8.
func errNotUTF8() error {
	return ragqueue.Errorf(ragqueue.EINVALID, "the file is not valid UTF-8 text")
}

// checkEvery is how many lines or tokens a parser handles between ctx checks.
const checkEvery = 4096

// ctxErr wraps a done context's error for return from a parser.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ingest: parse: %w", err)
	}
	return nil
}

// utf8Text turns the bytes of a UTF-8 text file (BOM optional) into
// normalized text; it fails when they are not valid UTF-8.
func utf8Text(ctx context.Context, data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	if !utf8.Valid(data) {
		return "", errNotUTF8()
	}
	return normalizeText(ctx, string(data))
}

// parseText handles TypeText: one section, titled by its first line.
func parseText(ctx context.Context, data []byte) (Parsed, error) {
	text, err := utf8Text(ctx, data)
	if err != nil {
		return Parsed{}, err
	}
	if text == "" {
		return Parsed{}, nil
	}
	first, _, _ := strings.Cut(text, "\n")
	return Parsed{
		Title:    CleanLine(first, MaxTitleRunes),
		Sections: []Section{{Text: text}},
	}, nil
}

// normalizeText makes plain text uniform: CRLF and CR become LF, control
// characters other than tab and newline go, trailing spaces are trimmed from
// every line, runs of more than two blank lines shrink to two, and blank
// lines at either end go. s must be valid UTF-8 without a BOM.
func normalizeText(ctx context.Context, s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	blank := 0 // blank lines seen since the last non-blank line
	for i := 0; s != ""; i++ {
		if i%checkEvery == 0 {
			if err := ctxErr(ctx); err != nil {
				return "", err
			}
		}
		var line string
		end := strings.IndexAny(s, "\r\n")
		switch {
		case end < 0:
			line, s = s, ""
		case s[end] == '\r' && end+1 < len(s) && s[end+1] == '\n':
			line, s = s[:end], s[end+2:]
		default:
			line, s = s[:end], s[end+1:]
		}
		line = strings.TrimRight(cleanControls(line), " \t")
		if line == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
			b.WriteString(strings.Repeat("\n", min(blank, 2)))
		}
		blank = 0
		b.WriteString(line)
	}
	return b.String(), nil
}

// cleanControls removes control characters other than tab (C0, DEL, C1) and
// stray byte order marks from one line of valid UTF-8.
func cleanControls(line string) string {
	if !hasControls(line) {
		return line
	}
	var b strings.Builder
	b.Grow(len(line))
	for _, r := range line {
		if r == '\t' || !isControl(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasControls is a fast byte scan for anything cleanControls would remove.
func hasControls(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 && c != '\t', c == 0x7F:
			return true
		case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F: // C1 controls
			return true
		case c == 0xEF && strings.HasPrefix(s[i:], utf8BOM):
			return true
		}
	}
	return false
}

// isControl reports whether r is a control character or a byte order mark.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7F && r <= 0x9F || r == 0xFEFF
}
