package main

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiJSON is the OpenAPI 3 description of every route; a test checks
// that each registered route is in it.
//
//go:embed openapi.json
var openapiJSON []byte

func (s *server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiJSON)
}
