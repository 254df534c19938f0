package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSearchModes checks GET /v1/search's mode: lexical finds an exact
// rare word, dense and hybrid answer too, and a bad mode is a 400 that
// names the accepted ones.
func TestSearchModes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	writer := b.newKey(t, "modes", "writer")
	id, _ := b.postText(t, writer, "Kiln notes", "The anagama kiln is fired for five days with wood; ash glaze forms on the pots.")
	require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)

	for _, mode := range []string{"hybrid", "lexical", "dense"} {
		t.Run(mode, func(t *testing.T) {
			var sr struct {
				searchResp
				Mode  string `json:"mode"`
				Space string `json:"space"`
			}
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?mode="+mode+"&q="+url.QueryEscape("anagama kiln"), writer, nil, "", &sr))
			require.Equal(t, mode, sr.Mode)
			require.Equal(t, "hash-384", sr.Space)
			require.NotEmpty(t, sr.Results)
			require.Equal(t, id, sr.Results[0].DocumentID)
		})
	}
	var e apiError
	require.Equal(t, http.StatusBadRequest, b.do(t, http.MethodGet, "/v1/search?mode=fuzzy&q=kiln", writer, nil, "", &e))
	require.Contains(t, e.Error.Message, "hybrid, lexical or dense")
}
