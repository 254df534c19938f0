package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/jobs/keys"
)

type createKeyRequest struct {
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
}

// createKey makes a key for any tenant; the secret is in this response only.
func (s *server) createKey(c *gin.Context) {
	var req createKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.keys.Create(c.Request.Context(), actor(c), req.Tenant, req.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, mintedJSON(m))
}

func (s *server) listKeys(c *gin.Context) {
	ks, err := s.keys.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"keys": ks})
}

// deleteKey revokes a key. Revoking the key that makes the request is
// refused, so an operator cannot lock themselves out by accident.
func (s *server) deleteKey(c *gin.Context) {
	if err := s.keys.Revoke(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateKey gives a key a new secret, keeping its ID, tenant and role; the
// old secret stops working at once, and so do monitoring sessions opened
// with it. The new secret is in this response only.
func (s *server) rotateKey(c *gin.Context) {
	m, err := s.keys.Rotate(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, mintedJSON(m))
}

// mintedJSON is a created or rotated key as the client sees it, secret
// included.
func mintedJSON(m keys.Minted) gin.H {
	k := m.Key
	return gin.H{"id": k.ID, "key": m.Secret, "tenant": k.Tenant, "role": k.Role, "prefix": k.Prefix, "created_at": k.CreatedAt}
}

// actor is who makes the request, as the audit log records it.
func actor(c *gin.Context) keys.Actor {
	return keys.Actor{Key: key(c), RemoteAddr: c.RemoteIP(), RequestID: c.GetString(ctxRequestID)}
}
