package ragqueue

import (
	"encoding/json"
	"time"
)

// per tenant and per embedding space (Space: the name of the space Vector
// belongs to); Key is the normalised question (retrieval.NormalizeQuestion).
type CacheEntry struct {
	ID       string
	Tenant   string
	Space    string
	Key      string
	Question string
	// Vector is the question's embedding in Space, for semantic matches.
	Vector []float32
	// Result is the query job's result as it was first answered.
	Result json.RawMessage
	// DocumentIDs are the documents the answer cites: a change to any of
	// them removes the entry.
	DocumentIDs []string
	CreatedAt   time.Time
}
