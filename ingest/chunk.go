package ingest

import (
	"context"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Chunking defaults, in runes.
const (
	DefaultChunkSize    = 1000
	DefaultChunkOverlap = 150
)

// Chunker splits parsed text into pieces small enough to embed and cite.
// Size and Overlap are in characters (runes). A zero Size means
// DefaultChunkSize; a zero Overlap means DefaultChunkOverlap, or 15% of Size
// when that is smaller; a negative Overlap means none.
type Chunker struct {
	Size, Overlap int
}

// Piece is one chunk's text with its provenance, before it gets an ID.
type Piece struct {
	Text    string `json:"text"`
	Page    int    `json:"page"`    // 1-based page, 0 when the source has no pages
	Section string `json:"section"` // the section's heading path, "" when none
}

// Split cuts every section of p into pieces of at most c.Size runes, each
// carrying its section's page and heading path. A section is cut at the
// strongest boundaries that make its pieces fit: paragraphs, then lines,
// sentences, clauses, words and, for a word longer than Size, between
// runes; for TypeMarkdown, the end of a code block and a horizontal rule
// come first. Consecutive pieces of a section share up to Overlap runes.
// Pieces are trimmed, never empty and never longer than Size.
func (c Chunker) Split(contentType string, p Parsed) ([]Piece, error) {
	return c.SplitContext(context.Background(), contentType, p)
}

// SplitContext is Split that gives up, between sections, once ctx is done.
func (c Chunker) SplitContext(ctx context.Context, contentType string, p Parsed) ([]Piece, error) {
	size, overlap, err := c.sizes()
	if err != nil {
		return nil, err
	}
	levels := textLevels()
	if mt, _, _ := mime.ParseMediaType(contentType); mt == TypeMarkdown {
		levels = markdownLevels()
	}

	pieces := make([]Piece, 0, len(p.Sections))
	for _, s := range p.Sections {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ingest: split: %w", err)
		}
		text := strings.TrimSpace(s.Text)
		if text == "" {
			continue
		}
		parts := []string{text} // the common case for short sections
		if utf8.RuneCountInString(text) > size {
			sp := splitter{text: text, size: size, overlap: overlap, levels: levels}
			parts = sp.split()
		}
		for _, part := range parts {
			pieces = append(pieces, Piece{Text: part, Page: s.Page, Section: s.Heading})
		}
	}
	return pieces, nil
}

// sizes applies the defaults and checks the configuration.
func (c Chunker) sizes() (size, overlap int, err error) {
	size, overlap = c.Size, c.Overlap
	if size == 0 {
		size = DefaultChunkSize
	}
	if overlap == 0 {
		overlap = min(DefaultChunkOverlap, size*15/100)
	}
	overlap = max(overlap, 0)
	if size < 1 || overlap >= size {
		return 0, 0, fmt.Errorf("ingest: chunker: size %d and overlap %d: want 0 <= overlap < size", c.Size, c.Overlap)
	}
	return size, overlap, nil
}

// ChunkID is the deterministic ID of a chunk: a UUIDv5 of the tenant, the
// document ID, the document version and the chunk's index, so that a
// retried job overwrites its chunks instead of duplicating them.
func ChunkID(tenant, documentID string, version, index int) string {
	// Length-prefixed fields: no two argument lists give the same name.
	name := make([]byte, 0, len(tenant)+len(documentID)+48)
	for _, f := range [...]string{tenant, documentID, strconv.Itoa(version), strconv.Itoa(index)} {
		name = strconv.AppendInt(name, int64(len(f)), 10)
		name = append(name, ':')
		name = append(name, f...)
	}
	return uuid.NewSHA1(chunkNamespace(), name).String()
}

// chunkNamespace is the fixed UUIDv5 namespace of chunk IDs. Changing it
// changes every chunk ID.
func chunkNamespace() uuid.UUID {
	return uuid.UUID{0xf3, 0x7b, 0x83, 0x23, 0xf3, 0xf3, 0x43, 0x90, 0xb4, 0x7d, 0x22, 0x45, 0x8f, 0xe7, 0x8c, 0xa9}
}
