package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// maxConversationIDLen bounds a client-chosen conversation ID.
const maxConversationIDLen = 128

// checkConversationID accepts "" (no conversation) or an ID of 1 to 128
// letters, digits and . _ : - characters. IDs are chosen by the client and
// scoped by tenant: a question with an unknown ID starts that conversation.
func checkConversationID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) > maxConversationIDLen {
		return invalid("conversation_id is longer than %d characters", maxConversationIDLen)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-'
		if !ok {
			return invalid("conversation_id may only hold letters, digits and . _ : - (got %q)", id)
		}
	}
	return nil
}

// getConversation returns a conversation of the caller's tenant with its
// turns, oldest first, each with the standalone question retrieval used,
// the answer and its citations.
func (s *server) getConversation(c *gin.Context) {
	conv, err := s.convos.GetConversation(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, conv)
}

// deleteConversation forgets a conversation of the caller's tenant; the
// ID may then start a new one.
func (s *server) deleteConversation(c *gin.Context) {
	if err := s.convos.DeleteConversation(c.Request.Context(), tenant(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
