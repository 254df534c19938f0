package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
)

// TestQdrantIndexEndToEnd runs ragqueue with RAGQ_QDRANT_URL pointing at
// the in-process Qdrant (which checks every call's arguments, the tenant
// filter included): documents are indexed there, searched per tenant, and
// deleted from it.
func TestQdrantIndexEndToEnd(t *testing.T) {
	t.Parallel()
	q := qdranttest.New(t)
	b := setup(t, map[string]string{"RAGQ_QDRANT_URL": "http://" + q.Addr()})
	alpha := b.newKey(t, "alpha", "writer")
	beta := b.newKey(t, "beta", "writer")
	id, _ := b.postText(t, alpha, "Kilns", "A salt-glazed stoneware jar gets its orange-peel surface from salt thrown into the hot kiln.")
	require.Equal(t, "ready", b.waitStatus(t, alpha, id).Status)
	require.Equal(t, 1, q.PointCount("ragqueue_hash-384"))

	var sr struct {
		searchResp
		Space string `json:"space"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("salt glazed stoneware"), alpha, nil, "", &sr))
	require.Equal(t, "hash-384", sr.Space)
	require.NotEmpty(t, sr.Results)
	require.Equal(t, id, sr.Results[0].DocumentID)
	require.Positive(t, q.Calls("Query")+q.Calls("QueryBatch"), "the search ran on Qdrant")

	sr = struct {
		searchResp
		Space string `json:"space"`
	}{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("salt glazed stoneware"), beta, nil, "", &sr))
	require.Empty(t, sr.Results, "another tenant sees nothing")

	require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/documents/"+id, alpha, nil, "", nil))
	require.Equal(t, 0, q.PointCount("ragqueue_hash-384"), "no vectors left behind")
	require.Empty(t, q.TakeViolations())
}
