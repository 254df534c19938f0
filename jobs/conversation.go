package jobs

import (
	"context"
	"time"

	"github.com/ragqueue/ragqueue/retrieval"
)

// Turn is one question and its answer in a conversation. Standalone is the
// question as retrieval saw it: a follow-up rewritten with what the earlier
// turns were about (the question itself when there was nothing to add).
type Turn struct {
	ConversationID string               `json:"-"`
	Tenant         string               `json:"-"`
	Seq            int                  `json:"seq"`
	Question       string               `json:"question"`
	Standalone     string               `json:"standalone_question"`
	Answer         string               `json:"answer"`
	Citations      []retrieval.Citation `json:"citations"`
	JobID          string               `json:"job_id"`
	CreatedAt      time.Time            `json:"created_at"`
}

// Conversation is a tenant's history of turns under a client-chosen ID.
type Conversation struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Turns     []Turn    `json:"turns"`
}

// ConversationStore keeps conversation history in the metadata database.
// Conversation IDs are scoped by tenant: two tenants may use the same ID and
// never see each other's turns.
type ConversationStore interface {
	// AddTurn appends t to its conversation, creating the conversation when
	// it is new, and returns t with Seq (1, 2, …) and CreatedAt set. It is
	// idempotent on the job: a turn whose JobID the conversation already
	// holds is returned as stored, not added again (a retried job).
	AddTurn(ctx context.Context, t Turn) (Turn, error)
	// RecentTurns returns the last n turns of a conversation, oldest first;
	// none (and no error) for an unknown conversation.
	RecentTurns(ctx context.Context, tenant, conversationID string, n int) ([]Turn, error)
	// GetConversation returns a conversation with all its turns, oldest
	// first; ENOTFOUND when the tenant has none with that ID.
	GetConversation(ctx context.Context, tenant, id string) (Conversation, error)
	// DeleteConversation removes a conversation and its turns; ENOTFOUND
	// when the tenant has none with that ID.
	DeleteConversation(ctx context.Context, tenant, id string) error
}
