package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAnswerCache follows one tenant's cache through hits and misses: a
// repeated question is an exact hit answered in the API process (its job
// is recorded as succeeded), a reworded one a semantic hit, an unrelated
// one a miss; "cache": false and questions naming URLs bypass it; another
// tenant never gets the answer; a new version or a delete of the cited
// document removes the entry.
func TestAnswerCache(t *testing.T) {
	t.Parallel()
	for name, env := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			e["RAGQ_CACHE_SIMILARITY"] = "0.9"
			b := setup(t, e)
			key := b.newKey(t, "cache-a", "writer")
			x100, _ := b.postText(t, key, "X100", x100Text)
			z9, _ := b.postText(t, key, "Z9", z9Text)
			require.Equal(t, "ready", b.waitStatus(t, key, x100).Status)
			require.Equal(t, "ready", b.waitStatus(t, key, z9).Status)
			const question = "How fast does the X100 printer print?"

			first := b.ask(t, key, map[string]any{"question": question})
			require.Equal(t, "miss", first.cache())
			require.True(t, first.cited(x100), "%+v", first)

			exact := b.ask(t, key, map[string]any{"question": "  how FAST does the x100 printer print  "})
			require.Equal(t, "exact", exact.cache())
			require.Equal(t, first.Answer, exact.Answer)
			require.NotEqual(t, first.JobID, exact.JobID, "a cache hit is its own job")
			job := b.waitJob(t, key, exact.JobID)
			require.Equal(t, "succeeded", job.State)
			require.JSONEq(t, `"exact"`, string(jsonField(t, job.Result, "cache")))

			// Same content words, other wording: the hash embedder maps it
			// to the same vector, so it is a semantic hit.
			semantic := b.ask(t, key, map[string]any{"question": "The X100 printer: how fast does it print?"})
			require.Equal(t, "semantic", semantic.cache())
			require.Equal(t, first.Answer, semantic.Answer)

			async := map[string]any{}
			require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/queries", key,
				map[string]any{"question": question, "mode": "async"}, &async))
			require.Equal(t, "succeeded", async["state"], "an async cache hit is done at once")

			miss := b.ask(t, key, map[string]any{"question": "What does the Z9 warranty not cover?"})
			require.Equal(t, "miss", miss.cache())
			require.True(t, miss.cited(z9))

			off := b.ask(t, key, map[string]any{"question": question, "cache": false})
			require.Empty(t, off.cache(), "cache: false neither reads nor says")
			withURL := b.ask(t, key, map[string]any{"question": question + " See http://127.0.0.1:1/x100"})
			require.Empty(t, withURL.cache(), "questions naming URLs are not cached")

			// Tenant isolation: the same document and question in another
			// tenant are answered afresh.
			other := b.newKey(t, "cache-b", "writer")
			otherDoc, _ := b.postText(t, other, "X100", x100Text)
			require.Equal(t, "ready", b.waitStatus(t, other, otherDoc).Status)
			theirs := b.ask(t, other, map[string]any{"question": question})
			require.Equal(t, "miss", theirs.cache())
			require.True(t, theirs.cited(otherDoc))
			require.Equal(t, "exact", b.ask(t, other, map[string]any{"question": question}).cache())

			// A new version of the cited document invalidates.
			var vr versionResp
			b.putText(t, key, x100, map[string]any{"text": "The X100 printer prints sixty pages per minute since its firmware update."}, &vr)
			require.Equal(t, 2, vr.Version)
			require.Equal(t, "ready", b.waitStatus(t, key, x100).Status)
			updated := b.ask(t, key, map[string]any{"question": question})
			require.Equal(t, "miss", updated.cache())
			require.Contains(t, updated.Answer, "sixty")
			require.Equal(t, "exact", b.ask(t, key, map[string]any{"question": question}).cache())
			require.Equal(t, "exact", b.ask(t, key, map[string]any{"question": "What does the Z9 warranty not cover?"}).cache())

			// Deleting it invalidates too, and only what cites it.
			require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/documents/"+x100, key, nil, "", nil))
			gone := b.ask(t, key, map[string]any{"question": question})
			require.NotEqual(t, "exact", gone.cache())
			require.NotEqual(t, "semantic", gone.cache())
			require.False(t, gone.cited(x100))
			require.Equal(t, "exact", b.ask(t, key, map[string]any{"question": "What does the Z9 warranty not cover?"}).cache())
			require.Equal(t, "exact", b.ask(t, other, map[string]any{"question": question}).cache(), "the other tenant's entry stays")
		})
	}
}

// jsonField returns one top-level field of a JSON object.
func jsonField(t testing.TB, raw []byte, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[name]
}
