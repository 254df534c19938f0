// Package retrieval finds and answers: embedders, the search request and
// result types, the one ranking policy every index gets (Search, Fuse),
// and generators that turn passages into cited answers. Index
// implementations live in storage and satisfy Index.
package retrieval

import (
	"context"

	"github.com/ragqueue/ragqueue"
)

// Embedder turns texts into vectors of a fixed dimension.
type Embedder interface {
	// Name identifies the embedding space, e.g. "hash-256"; vectors from
	// embedders with different names must never be mixed in one index.
	Name() string
	// Dim is the length of every vector Embed returns.
	Dim() int
	// Embed returns one vector per text, in order. It stops early with an
	// error when ctx ends.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// IndexedChunk is what an index stores for one chunk: the text for lexical
// search, the vector for dense search, and what a citation needs.
type IndexedChunk struct {
	ID         string
	Tenant     string
	DocumentID string
	// Version is the document version the chunk belongs to; PublishVersion
	// switches a document from one version's chunks to another's.
	Version int
	Index   int
	Text    string
	Page    int
	Title   string
	Source  string
	Vector  []float32
	// ContentHash identifies Text within one embedding space, so that a new
	// version of a document can reuse the vectors of unchanged chunks
	// (VectorsByHash) instead of embedding them again. "" means none.
	ContentHash string
	// Staged chunks are stored but not searchable until PublishVersion
	// publishes their version. Upserting a chunk that is already searchable
	// keeps it searchable, staged or not, so a re-run of a finished job
	// never hides what answers.
	Staged bool
}

// Query is one search against an index. Tenant is mandatory: index
// implementations refuse a query without it.
type Query struct {
	Tenant string
	Text   string
	Vector []float32
	TopK   int
	// DocumentIDs, when set, restricts the search to these documents.
	DocumentIDs []string
}

// Passage is a search hit: a chunk with its fused score.
type Passage struct {
	DocumentID string  `json:"document_id"`
	ChunkID    string  `json:"chunk_id"`
	Text       string  `json:"text"`
	Score      float64 `json:"score"`
	Source     string  `json:"source"`
	Title      string  `json:"title"`
	Page       int     `json:"page"`
}

// Index stores chunks per tenant and finds search candidates among them,
// lexical and dense, which the Fusion it is handed ranks: the index
// retrieves, retrieval ranks. Upserts are idempotent on chunk ID.
// retrieval/indextest is the contract suite every implementation must pass.
type Index interface {
	// Upsert stores chunks, replacing any chunk with the same ID.
	Upsert(ctx context.Context, chunks []IndexedChunk) error
	// DeleteDocument removes every chunk of one document of one tenant,
	// staged or searchable; deleting what does not exist is not an error.
	DeleteDocument(ctx context.Context, tenant, documentID string) error
	// PublishVersion switches one document of one tenant to version in a
	// single step, as searchers see it: the staged chunks of version become
	// searchable and every chunk of an older version is removed, so that at
	// no moment does the document answer from neither version or from both.
	// Chunks of newer versions are left alone (they belong to a job still
	// running). Publishing a version older than one already searchable does
	// nothing; publishing again is harmless.
	PublishVersion(ctx context.Context, tenant, documentID string, version int) error
	// VectorsByHash returns, keyed by content hash, the stored vectors of
	// the document's chunks (any version, staged or not) whose ContentHash
	// is among hashes. Hashes without a stored vector are absent from the
	// map; an empty hashes gives an empty map.
	VectorsByHash(ctx context.Context, tenant, documentID string, hashes []string) (map[string][]float32, error)
	// Search finds what each retriever finds for q among q.Tenant's
	// searchable chunks (restricted to q.DocumentIDs when set): BM25 over
	// q.Text and nearest vectors to q.Vector, each list best first and at
	// most SearchSizes(q.TopK)'s candidates long, with only the fields a
	// Candidate has. It ranks them by fuse alone, fuse(candidates, k) with k
	// from SearchSizes(q.TopK), and returns the chunks fuse chose, in its
	// order, as passages with every stored field and Score the fused score;
	// a chosen chunk deleted meanwhile is left out. Callers search through
	// retrieval.Search, which hands it Fuse. A query without a tenant fails
	// with a ragqueue EINVALID error.
	Search(ctx context.Context, q Query, fuse Fusion) ([]Passage, error)
	// Ping checks that the index's backend answers.
	Ping(ctx context.Context) error
}

// Answer is a generated answer with the citations its [n] markers refer to.
type Answer struct {
	Text      string              `json:"answer"`
	Citations []ragqueue.Citation `json:"citations"`
	Generator string              `json:"generator"`
	// Usage is what the model provider reported for this answer; nil when
	// it reported nothing (and always nil for the extractive generator).
	Usage *Usage `json:"usage,omitempty"`
}

// Usage counts the tokens a model provider billed for one answer.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Generator writes an answer to question from passages, citing them as [n]
// where n is the 1-based position in passages.
type Generator interface {
	// Name identifies the generator in Answer.Generator.
	Name() string
	// Generate answers from the passages only. When they do not answer the
	// question it returns NoAnswerText with empty citations.
	Generate(ctx context.Context, question string, passages []Passage) (Answer, error)
}

// StreamingGenerator is a Generator that can also hand out the answer's text
// as the model produces it, for SSE/WebSocket clients. Callers type-assert
// for it and fall back to Generate.
type StreamingGenerator interface {
	Generator
	// GenerateStream is Generate that calls onToken with each piece of text
	// in order as it arrives. The pieces are the model's raw output; the
	// returned Answer is authoritative (its Text may differ, e.g. citation
	// markers to passages that were not given are removed). An error from
	// onToken aborts the generation and is returned.
	GenerateStream(ctx context.Context, question string, passages []Passage, onToken func(token string) error) (Answer, error)
}
