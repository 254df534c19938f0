package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
)

// TestReindexEndToEnd re-embeds every tenant's documents into another
// embedding space through POST /v1/admin/reindex, on the embedded index and
// on Qdrant: searches answer from the old space until the switch and from
// the new one after, in every tenant, and the old space is dropped.
func TestReindexEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		testReindex(t, nil, nil)
	})
	t.Run("qdrant", func(t *testing.T) {
		t.Parallel()
		q := qdranttest.New(t)
		testReindex(t, map[string]string{"RAGQ_QDRANT_URL": "http://" + q.Addr()}, func(t *testing.T) {
			require.Zero(t, q.PointCount("ragqueue_hash-384"), "the old collection is gone")
			require.Equal(t, 2, q.PointCount("ragqueue_hash-128"))
			require.Empty(t, q.TakeViolations())
		})
	})
}

func testReindex(t *testing.T, env map[string]string, after func(t *testing.T)) {
	b := setup(t, env)
	alpha := b.newKey(t, "alpha", "writer")
	beta := b.newKey(t, "beta", "writer")
	a1, _ := b.postText(t, alpha, "Bells", "Change ringing rings church bells in permutations called methods.")
	b1, _ := b.postText(t, beta, "Organs", "A pipe organ's stops select ranks of pipes of different timbre.")
	require.Equal(t, "ready", b.waitStatus(t, alpha, a1).Status)
	require.Equal(t, "ready", b.waitStatus(t, beta, b1).Status)

	space := func(key, q, wantDoc string) string {
		t.Helper()
		var sr struct {
			searchResp
			Space string `json:"space"`
		}
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?mode=dense&q="+url.QueryEscape(q), key, nil, "", &sr))
		require.NotEmpty(t, sr.Results)
		require.Equal(t, wantDoc, sr.Results[0].DocumentID)
		return sr.Space
	}
	require.Equal(t, "hash-384", space(alpha, "church bells permutations", a1))

	require.Equal(t, http.StatusForbidden, b.doJSON(t, http.MethodPost, "/v1/admin/reindex", alpha, map[string]any{"embedder": "hash:128"}, nil))
	var bad apiError
	require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/admin/reindex", testAdminKey, map[string]any{"embedder": "word2vec:x"}, &bad))
	require.Contains(t, bad.Error.Message, "openai:MODEL")

	var started struct {
		JobID string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/admin/reindex", testAdminKey, map[string]any{"embedder": "hash:128"}, &started))
	// Searches keep answering while the new space is built.
	require.Equal(t, "hash-384", space(beta, "pipe organ stops ranks", b1))
	job := b.waitJob(t, testAdminKey, started.JobID)
	require.Equal(t, "succeeded", job.State, "%+v", job)
	var res struct {
		Space     string `json:"space"`
		Documents int    `json:"documents"`
	}
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Equal(t, "hash-128", res.Space)
	require.Equal(t, 2, res.Documents, "every tenant's documents")

	require.Eventually(t, func() bool {
		return space(alpha, "church bells permutations", a1) == "hash-128"
	}, 10*time.Second, 50*time.Millisecond, "searches move to the new space")
	require.Equal(t, "hash-128", space(beta, "pipe organ stops ranks", b1))
	if after != nil {
		after(t)
	}
}
