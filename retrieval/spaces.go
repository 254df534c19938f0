package retrieval

import "context"

// Space describes one embedding space: the index of the vectors that one
// embedder produces. Vectors of different spaces never share an index.
type Space struct {
	// Name identifies the space and is safe as a collection or table
	// suffix: lower-case letters, digits, '-' and '_' only, e.g.
	// "hash-384" or "openai-text-embedding-3-small-1536".
	Name string `json:"name"`
	// Embedder is the configuration string that builds the embedder of this
	// space (RAGQ_EMBEDDER syntax, e.g. "openai:text-embedding-3-small"), so
	// that a process configured for another space can still embed queries
	// for this one while a re-index runs.
	Embedder string `json:"embedder"`
	// Dim is the vector length of the space.
	Dim int `json:"dim"`
}

// Spaces keeps one index per embedding space and a pointer, the live space,
// naming the one searches use. A new space can be built in the background
// while the live one keeps answering; SetLive then switches every searcher
// in one step (Qdrant: an alias; the embedded index: one row). Every
// implementation passes retrieval/indextest.RunSpaces.
type Spaces interface {
	// Open returns the index of space, creating it empty when it does not
	// exist. Opening an existing space with another Dim fails with a
	// ragqueue EINVALID error.
	Open(ctx context.Context, space Space) (Index, error)
	// Live returns the live space; ok is false when none has been set.
	Live(ctx context.Context) (space Space, ok bool, err error)
	// SetLive makes space (which must have been opened) the live one.
	SetLive(ctx context.Context, space Space) error
	// List returns every space that exists, live or not.
	List(ctx context.Context) ([]Space, error)
	// Drop deletes a space and everything in it. Dropping the live space
	// fails with a ragqueue ECONFLICT error; dropping a missing one does
	// nothing.
	Drop(ctx context.Context, name string) error
}
