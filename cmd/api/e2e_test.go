package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	gardenMD = `# Tomato growing guide

Tomatoes need at least six hours of direct sunlight every day.
Water them deeply twice a week so the roots grow down.

## Pests

Aphids can be washed off with a strong jet of water. Marigolds planted
nearby keep whiteflies away from the tomato plants.
`
	volcanoHTML = `<!doctype html><html><head><title>Volcanoes</title><script>var secretTracker = 1;</script></head>
<body><nav>Home | About | Contact</nav><main><h1>Volcanoes</h1>
<p>A volcano erupts when magma rises through the crust and escapes at the surface.</p>
<p>Mount Etna in Sicily is one of the most active volcanoes in Europe.</p></main>
<footer>Copyright footer text</footer></body></html>`
)

type searchResp struct {
	Results []struct {
		DocumentID string  `json:"document_id"`
		ChunkID    string  `json:"chunk_id"`
		Text       string  `json:"text"`
		Score      float64 `json:"score"`
		Source     string  `json:"source"`
		Title      string  `json:"title"`
		Page       int     `json:"page"`
	} `json:"results"`
}

type answerResp struct {
	Answer    string `json:"answer"`
	Generator string `json:"generator"`
	JobID     string `json:"job_id"`
	Citations []struct {
		Index      int    `json:"index"`
		DocumentID string `json:"document_id"`
		Source     string `json:"source"`
		Title      string `json:"title"`
		Snippet    string `json:"snippet"`
	} `json:"citations"`
}

// TestEndToEndEmbedded drives the real HTTP server in embedded mode through
// a document's whole life, and across a restart on the same data dir.
func TestEndToEndEmbedded(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	key := testAdminKey

	// Upload a Markdown and an HTML file in one request, plus a JSON text.
	body, ct := multipartBody(t, []filePart{
		{name: "../../garden.md", body: gardenMD},
		{name: "volcano.html", contentType: "text/html", body: volcanoHTML},
	}, `{"team":"docs"}`)
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", key, body, ct, &up))
	require.Len(t, up.Documents, 2)
	for _, d := range up.Documents {
		require.Nil(t, d.Error)
		require.Equal(t, "queued", d.Status)
		require.NotEmpty(t, d.JobID)
		require.False(t, d.Duplicate)
	}
	require.Equal(t, "garden.md", up.Documents[0].Filename, "path tricks are stripped from the name")
	var textUp uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", key,
		map[string]any{"title": "Bread", "text": "Sourdough bread rises slowly because wild yeast ferments the dough overnight."}, &textUp))
	require.Len(t, textUp.Documents, 1)

	garden := b.waitStatus(t, key, up.Documents[0].ID)
	require.Equal(t, "ready", garden.Status, garden.Error)
	require.Equal(t, "Tomato growing guide", garden.Title, "the Markdown heading titles an uploaded file")
	require.Equal(t, "text/markdown", garden.ContentType)
	require.Positive(t, garden.Chunks)
	require.Len(t, garden.SHA256, 64)
	require.JSONEq(t, `{"team":"docs"}`, string(garden.Metadata))
	volcano := b.waitStatus(t, key, up.Documents[1].ID)
	require.Equal(t, "ready", volcano.Status, volcano.Error)
	require.Equal(t, "ready", b.waitStatus(t, key, textUp.Documents[0].ID).Status)

	// The ingest job reports success.
	var job struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		State string `json:"state"`
	}
	// The document is the truth and is written first; its job follows.
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+up.Documents[0].JobID, key, nil, "", &job))
		return job.State == "succeeded"
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "ingest", job.Type)

	// Search finds the right chunk; navigation and scripts were not indexed.
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("Mount Etna Sicily")+"&top_k=3", key, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, volcano.ID, sr.Results[0].DocumentID)
	require.Contains(t, sr.Results[0].Text, "Etna")
	require.Equal(t, "Volcanoes", sr.Results[0].Title)
	for _, r := range sr.Results {
		require.NotContains(t, r.Text, "secretTracker")
		require.NotContains(t, r.Text, "Home | About")
	}

	// A sync question gets an extractive answer citing the garden guide.
	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", key,
		map[string]any{"question": "How much sunlight do tomatoes need?"}, &ans))
	require.Equal(t, "extractive", ans.Generator)
	require.NotEmpty(t, ans.JobID)
	require.Contains(t, ans.Answer, "six hours")
	require.Contains(t, ans.Answer, "[1]")
	require.NotEmpty(t, ans.Citations)
	require.Equal(t, garden.ID, ans.Citations[0].DocumentID)

	// An async question: 202 and a job that ends with the answer.
	var async struct {
		JobID string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/queries", key,
		map[string]any{"question": "Which volcano is active in Europe?", "mode": "async", "top_k": 3}, &async))
	var qjob struct {
		State  string     `json:"state"`
		Result answerResp `json:"result"`
	}
	require.Eventually(t, func() bool {
		b.do(t, http.MethodGet, "/v1/jobs/"+async.JobID, key, nil, "", &qjob)
		return qjob.State == "succeeded"
	}, 30e9, 20e6)
	require.Contains(t, qjob.Result.Answer, "Etna")

	// A question nothing answers says so instead of inventing.
	var none answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", key,
		map[string]any{"question": "quantum chromodynamics lattice gauge"}, &none))
	require.Empty(t, none.Citations)

	// The same bytes again: the existing document, nothing re-ingested.
	body, ct = multipartBody(t, []filePart{{name: "copy-of-garden.md", body: gardenMD}}, "")
	var dup uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", key, body, ct, &dup))
	require.True(t, dup.Documents[0].Duplicate)
	require.Equal(t, garden.ID, dup.Documents[0].ID)

	// Listing pages through all three.
	var list struct {
		Documents  []docResp `json:"documents"`
		NextCursor *string   `json:"next_cursor"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents?limit=2", key, nil, "", &list))
	require.Len(t, list.Documents, 2)
	require.NotNil(t, list.NextCursor)
	cursor := *list.NextCursor
	list.NextCursor = nil
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents?limit=2&cursor="+url.QueryEscape(cursor), key, nil, "", &list))
	require.Len(t, list.Documents, 1)
	require.Nil(t, list.NextCursor)

	// Delete: gone from reads and from search.
	require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/documents/"+volcano.ID, key, nil, "", nil))
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/documents/"+volcano.ID, key, nil, "", nil))
	sr = searchResp{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=Etna+volcano+magma", key, nil, "", &sr))
	for _, r := range sr.Results {
		require.NotEqual(t, volcano.ID, r.DocumentID)
	}

	// Restart on the same data dir: documents, chunks and keys are still there.
	reader := b.newKey(t, "default", "reader")
	b.stop(t)
	b.start(t)
	d := docResp{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+garden.ID, reader, nil, "", &d))
	require.Equal(t, "ready", d.Status)
	sr = searchResp{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=tomato+sunlight", reader, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, garden.ID, sr.Results[0].DocumentID)
	require.True(t, strings.Contains(sr.Results[0].Text, "sunlight"))
}
