// Package retrieval finds and answers: embedders, the search request and
// result types, rank fusion, and generators that turn passages into cited
// answers. Index implementations live in storage and satisfy Index.
package retrieval

import (
	"context"
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
	Index      int
	Text       string
	Page       int
	Title      string
	Source     string
	Vector     []float32
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

// Index stores chunks per tenant and searches them with lexical and dense
// retrieval fused into one ranking. Upserts are idempotent on chunk ID.
// retrieval/indextest is the contract suite every implementation must pass.
type Index interface {
	// Upsert stores chunks, replacing any chunk with the same ID.
	Upsert(ctx context.Context, chunks []IndexedChunk) error
	// DeleteDocument removes every chunk of one document of one tenant;
	// deleting what does not exist is not an error.
	DeleteDocument(ctx context.Context, tenant, documentID string) error
	// Search returns at most q.TopK passages of q.Tenant, best first. A
	// query without a tenant fails with a ragqueue EINVALID error.
	Search(ctx context.Context, q Query) ([]Passage, error)
	// Ping checks that the index's backend answers.
	Ping(ctx context.Context) error
}

// Citation points from an answer's [n] marker to the passage that supports it.
type Citation struct {
	Index      int    `json:"index"`
	DocumentID string `json:"document_id"`
	ChunkID    string `json:"chunk_id"`
	Source     string `json:"source"`
	Title      string `json:"title"`
	Page       int    `json:"page"`
	Snippet    string `json:"snippet"`
}

// Answer is a generated answer with the citations its [n] markers refer to.
type Answer struct {
	Text      string     `json:"answer"`
	Citations []Citation `json:"citations"`
	Generator string     `json:"generator"`
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
