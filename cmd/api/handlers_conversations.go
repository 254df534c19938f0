package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// getConversation returns a conversation of the caller's tenant with its
// turns, oldest first, each with the standalone question retrieval used,
// the answer and its citations.
func (s *server) getConversation(c *gin.Context) {
	conv, err := s.queries.Conversation(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, conv)
}

// deleteConversation forgets a conversation of the caller's tenant; the
// ID may then start a new one.
func (s *server) deleteConversation(c *gin.Context) {
	if err := s.queries.DeleteConversation(c.Request.Context(), tenant(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
