package main

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

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
	if !tenantPattern.MatchString(req.Tenant) {
		s.fail(c, invalid("tenant must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"))
		return
	}
	if !ragqueue.ValidRole(req.Role) {
		s.fail(c, invalid("role must be one of admin, writer, reader"))
		return
	}
	secret, err := newKeySecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	k := keyRecord(secret, req.Tenant, req.Role)
	if err := s.keys.CreateKey(c.Request.Context(), k); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "key.create", k.ID, "tenant="+k.Tenant+" role="+k.Role)
	c.JSON(http.StatusCreated, gin.H{"id": k.ID, "key": secret, "tenant": k.Tenant, "role": k.Role, "prefix": k.Prefix, "created_at": k.CreatedAt})
}

func (s *server) listKeys(c *gin.Context) {
	keys, err := s.keys.ListKeys(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if keys == nil {
		keys = []ragqueue.Key{}
	}
	c.JSON(http.StatusOK, gin.H{"keys": keys})
}

// deleteKey revokes a key. Revoking the key that makes the request is
// refused, so an operator cannot lock themselves out by accident.
func (s *server) deleteKey(c *gin.Context) {
	id := c.Param("id")
	if id == key(c).ID {
		s.fail(c, ragqueue.Errorf(ragqueue.ECONFLICT, "this is the key you are using; revoke it with another admin key"))
		return
	}
	if err := s.keys.DeleteKey(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "key.revoke", id, "")
	c.Status(http.StatusNoContent)
}

// rotateKey gives a key a new secret, keeping its ID, tenant and role; the
// old secret stops working at once, and so do monitoring sessions opened
// with it. The new secret is in this response only.
func (s *server) rotateKey(c *gin.Context) {
	secret, err := newKeySecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	fresh := keyRecord(secret, "", "")
	k, err := s.admin.RotateKey(c.Request.Context(), c.Param("id"), fresh.Hash, fresh.Prefix)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "key.rotate", k.ID, "tenant="+k.Tenant+" role="+k.Role)
	c.JSON(http.StatusOK, gin.H{"id": k.ID, "key": secret, "tenant": k.Tenant, "role": k.Role, "prefix": k.Prefix, "created_at": k.CreatedAt})
}
