package documents

// Ingest stages, as clients see them in a job's progress.
const (
	stageParse = "parse"
	stageEmbed = "embed"
	stageDone  = "done"
)

// ingestProgress is an ingest job's progress as clients see it in
// GET /v1/jobs/{id}, enough to draw a progress bar: pages_parsed of pages
// while parsing (pages is 0 for formats without pages), then
// chunks_embedded of chunks while embedding.
type ingestProgress struct {
	Stage       string `json:"stage"`
	Pages       int    `json:"pages"`
	PagesParsed int    `json:"pages_parsed"`
	Chunks      int    `json:"chunks"`
	// ChunksEmbedded counts the chunks that have their vector, whether the
	// embedder made it or it was reused.
	ChunksEmbedded int `json:"chunks_embedded"`
	// ChunksReused counts, of those, the chunks whose vector was reused
	// from an earlier version (or an earlier attempt) with the same text.
	ChunksReused int `json:"chunks_reused"`
}

// ingestResult is an ingest job's result.
type ingestResult struct {
	DocumentID   string `json:"document_id"`
	Version      int    `json:"version"`
	Chunks       int    `json:"chunks"`
	ChunksReused int    `json:"chunks_reused"`
}

// noTextWarning is a ready PDF's error field when none of its pages has
// text: the document is kept, but nothing in it can be searched.
const noTextWarning = "warning: no page of this PDF has a text layer (scanned images?); it is stored but nothing in it is searchable"
