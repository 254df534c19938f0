package queries

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
)

// MaxConversationIDLen bounds a client-chosen conversation ID.
const MaxConversationIDLen = 128

// CheckConversationID accepts "" (no conversation) or an ID of 1 to 128
// letters, digits and . _ : - characters. IDs are chosen by the client and
// scoped by tenant: a question with an unknown ID starts that conversation.
func CheckConversationID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) > MaxConversationIDLen {
		return ragqueue.Errorf(ragqueue.EINVALID, "conversation_id is longer than %d characters", MaxConversationIDLen)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-'
		if !ok {
			return ragqueue.Errorf(ragqueue.EINVALID, "conversation_id may only hold letters, digits and . _ : - (got %q)", id)
		}
	}
	return nil
}

// Conversation returns the tenant's conversation id with its turns, oldest
// first, each with the standalone question retrieval used, the answer and
// its citations. An unknown conversation is an ENOTFOUND error.
func (s *Service) Conversation(ctx context.Context, tenant, id string) (ragqueue.Conversation, error) {
	conv, err := s.cfg.Conversations.GetConversation(ctx, tenant, id)
	if err != nil {
		return ragqueue.Conversation{}, fmt.Errorf("queries: conversation %s: %w", id, err)
	}
	return conv, nil
}

// DeleteConversation forgets the tenant's conversation id; the ID may then
// start a new one.
func (s *Service) DeleteConversation(ctx context.Context, tenant, id string) error {
	if err := s.cfg.Conversations.DeleteConversation(ctx, tenant, id); err != nil {
		return fmt.Errorf("queries: delete conversation %s: %w", id, err)
	}
	return nil
}
