package ragqueue

import (
	"time"
)

// Turn is one question and its answer in a conversation. Standalone is the
// question as retrieval saw it: a follow-up rewritten with what the earlier
// turns were about (the question itself when there was nothing to add).
type Turn struct {
	ConversationID string     `json:"-"`
	Tenant         string     `json:"-"`
	Seq            int        `json:"seq"`
	Question       string     `json:"question"`
	Standalone     string     `json:"standalone_question"`
	Answer         string     `json:"answer"`
	Citations      []Citation `json:"citations"`
	JobID          string     `json:"job_id"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Conversation is a tenant's history of turns under a client-chosen ID.
type Conversation struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Turns     []Turn    `json:"turns"`
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
