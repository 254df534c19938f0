package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
)

// isoCanary is a word only tenant A ever writes: in a document's text,
// title and metadata, in a crawled page and in a question.
const isoCanary = "zqxcanary7731"

// isoFixture is one api with tenant A's data in place and tenant B's keys.
type isoFixture struct {
	b *testBundle
	s *site
	// Keys by name: "a" is A's writer; "b-reader", "b-writer" are B's.
	keys map[string]string
	// A's identifiers, by placeholder name (see isoRow.path).
	ids map[string]string
}

// isoRow is one request tenant B makes. path may hold placeholders
// {doc}, {doc_job}, {query_job}, {crawl}, {crawl_job}, {crawl_doc}: A's
// identifiers. Every answer must be free of the canary; an answer to a
// path without a placeholder must also be free of all of A's identifiers.
type isoRow struct {
	name   string
	method string
	path   string
	body   any
	key    string // "b-reader" or "b-writer"
	want   []int  // acceptable statuses
	// follow, when set, gets the answer and returns more bodies to check
	// (e.g. polling the job an async request started).
	follow func(t *testing.T, f *isoFixture, body string) []string
}

// isolationRows are every read path tenant B can take towards A's data.
// New read paths get a row here.
func isolationRows() []isoRow {
	notFound := []int{http.StatusNotFound}
	ok := []int{http.StatusOK}
	forbidden := []int{http.StatusForbidden}
	rows := []isoRow{
		// Documents.
		{name: "list documents", method: http.MethodGet, path: "/v1/documents?limit=500", key: "b-reader", want: ok},
		{name: "list ready documents", method: http.MethodGet, path: "/v1/documents?status=ready", key: "b-reader", want: ok},
		{name: "get A's document", method: http.MethodGet, path: "/v1/documents/{doc}", key: "b-reader", want: notFound},
		{name: "get A's crawled document", method: http.MethodGet, path: "/v1/documents/{crawl_doc}", key: "b-reader", want: notFound},
		{name: "new version of A's document", method: http.MethodPut, path: "/v1/documents/{doc}", key: "b-writer",
			body: map[string]any{"text": "B overwrites nothing."}, want: notFound},
		{name: "retry A's document", method: http.MethodPost, path: "/v1/documents/{doc}/retry", key: "b-writer", body: map[string]any{}, want: notFound},
		{name: "delete A's document", method: http.MethodDelete, path: "/v1/documents/{doc}", key: "b-writer", want: notFound},
		// Search, every mode, by the canary and by the words around it.
		{name: "question: A's canary", method: http.MethodPost, path: "/v1/queries", key: "b-reader",
			body: map[string]any{"question": "What is the vault code of the Ostrava branch?"}, want: ok},
		{name: "question, async, then its job", method: http.MethodPost, path: "/v1/queries", key: "b-reader",
			body: map[string]any{"question": "Which vault code does the Ostrava branch use?", "mode": "async"},
			want: []int{http.StatusAccepted}, follow: followJob},
		// Jobs and crawls.
		{name: "A's ingest job", method: http.MethodGet, path: "/v1/jobs/{doc_job}", key: "b-reader", want: notFound},
		{name: "A's query job", method: http.MethodGet, path: "/v1/jobs/{query_job}", key: "b-reader", want: notFound},
		{name: "A's crawl job", method: http.MethodGet, path: "/v1/jobs/{crawl_job}", key: "b-reader", want: notFound},
		{name: "A's crawl", method: http.MethodGet, path: "/v1/crawls/{crawl}", key: "b-reader", want: notFound},
		// Job events (SSE) of A's job.
		{name: "A's job events", method: http.MethodGet, path: "/v1/jobs/{query_job}/events", key: "b-reader", want: notFound},
		// Conversations: A's is not B's; B asking under the same ID starts
		// a conversation of its own, without A's turns.
		{name: "A's conversation", method: http.MethodGet, path: "/v1/conversations/vault-chat", key: "b-reader", want: notFound},
		{name: "delete A's conversation", method: http.MethodDelete, path: "/v1/conversations/vault-chat", key: "b-reader", want: notFound},
		{name: "question in A's conversation ID", method: http.MethodPost, path: "/v1/queries", key: "b-reader",
			body: map[string]any{"question": "and what about the vault code there?", "conversation_id": "vault-chat"}, want: ok},
		// Admin and operator routes refuse non-admin keys.
		{name: "list keys", method: http.MethodGet, path: "/v1/admin/keys", key: "b-writer", want: forbidden},
		{name: "audit log", method: http.MethodGet, path: "/v1/admin/audit", key: "b-writer", want: forbidden},
		{name: "create a key for A", method: http.MethodPost, path: "/v1/admin/keys", key: "b-writer",
			body: map[string]any{"tenant": "alpha", "role": "reader"}, want: forbidden},
		{name: "reindex", method: http.MethodPost, path: "/v1/admin/reindex", key: "b-writer", body: map[string]any{}, want: forbidden},
		{name: "metrics", method: http.MethodGet, path: "/metrics", key: "b-writer", want: forbidden},
		{name: "monitoring UI", method: http.MethodGet, path: "/monitoring/api/queues", key: "b-writer", want: forbidden},
	}
	for _, mode := range []string{"hybrid", "lexical", "dense"} {
		for _, q := range []string{isoCanary, "vault code Ostrava branch"} {
			rows = append(rows, isoRow{name: "search " + mode + ": " + q, method: http.MethodGet,
				path: "/v1/search?top_k=100&mode=" + mode + "&q=" + url.QueryEscape(q), key: "b-reader", want: ok})
		}
	}
	return rows
}

// followJob polls the job an async query answered with, as B.
func followJob(t *testing.T, f *isoFixture, body string) []string {
	t.Helper()
	var started struct {
		JobID string `json:"job_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &started), body)
	require.NotEmpty(t, started.JobID)
	j := f.b.waitJob(t, f.keys["b-reader"], started.JobID)
	require.Equal(t, "succeeded", j.State, j.Error)
	_, raw := rawCall(t, f.b, http.MethodGet, "/v1/jobs/"+started.JobID, f.keys["b-reader"], nil)
	return []string{raw}
}

// TestTenantIsolation puts a canary in tenant A's documents, crawl and
// question, and checks every read path of tenant B (isolationRows): the
// canary never shows, A's identifiers give 404, and B's writes to A's
// documents touch nothing. It runs over each metadata store and index.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		env  func(t *testing.T) map[string]string
	}{
		{"embedded", func(*testing.T) map[string]string { return nil }},
		{"redis+postgres", func(t *testing.T) map[string]string {
			needServers(t)
			r := testRedis.NewDB(t)
			return map[string]string{"RAGQ_REDIS_URL": fmt.Sprintf("redis://%s/%d", r.Addr, r.DB),
				"RAGQ_DATABASE_URL": testPG.NewDatabase(t), "RAGQ_RUN_WORKERS": "true"}
		}},
		{"qdrant", func(t *testing.T) map[string]string {
			return map[string]string{"RAGQ_QDRANT_URL": "http://" + qdranttest.Start(t)}
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			f := newIsoFixture(t, backend.env(t))
			for _, row := range isolationRows() {
				checkIsoRow(t, f, row)
			}
			f.checkAIntact(t)
			f.checkSharedContent(t)
		})
	}
}

func newIsoFixture(t *testing.T, env map[string]string) *isoFixture {
	t.Helper()
	s := newSite(t)
	s.set("/vault", page("Vault "+isoCanary, "The vault code of the Ostrava branch is "+isoCanary+"; it changes every spring."))
	full := fetchEnv("127.0.0.0/8", s.port())
	for k, v := range env {
		full[k] = v
	}
	b := setup(t, full)
	f := &isoFixture{b: b, s: s, ids: map[string]string{}, keys: map[string]string{
		"a":        b.newKey(t, "alpha", "writer"),
		"b-reader": b.newKey(t, "beta", "reader"),
		"b-writer": b.newKey(t, "beta", "writer"),
	}}
	a := f.keys["a"]

	// A's document, with the canary in its text, title and metadata.
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", a, map[string]any{
		"title":    "Branch codes " + isoCanary,
		"text":     "The vault code of the Ostrava branch is " + isoCanary + ". Only the branch manager may open the vault.",
		"metadata": map[string]any{"secret": isoCanary},
	}, &up))
	f.ids["doc"], f.ids["doc_job"] = up.Documents[0].ID, up.Documents[0].JobID
	require.Equal(t, "ready", b.waitStatus(t, a, f.ids["doc"]).Status)

	// A's crawl of a page with the canary.
	c := b.crawl(t, a, map[string]any{"urls": []string{s.url("/vault")}, "max_depth": 0, "max_pages": 1})
	require.Equal(t, "succeeded", c.Status, "%+v", c)
	require.Len(t, c.Documents, 1)
	f.ids["crawl"], f.ids["crawl_job"], f.ids["crawl_doc"] = c.ID, c.JobID, c.Documents[0]
	require.Equal(t, "ready", b.waitStatus(t, a, f.ids["crawl_doc"]).Status)

	// A's question naming the canary, whose answer quotes it.
	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", a,
		map[string]any{"question": "Is " + isoCanary + " the vault code of the Ostrava branch?", "conversation_id": "vault-chat"}, &ans))
	require.Contains(t, ans.Answer+fmt.Sprint(ans.Citations), isoCanary, "A itself sees its canary")
	f.ids["query_job"] = ans.JobID
	require.NotEmpty(t, ans.JobID)

	// A asks and searches first exactly what B will (isolationRows), so
	// that a cache shared across tenants would hand B A's answer.
	for _, q := range []string{"What is the vault code of the Ostrava branch?", "Which vault code does the Ostrava branch use?"} {
		ans = answerResp{}
		require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", a, map[string]any{"question": q}, &ans))
		require.Contains(t, ans.Answer+fmt.Sprint(ans.Citations), isoCanary, "A's own answer quotes its canary")
	}
	for _, mode := range []string{"hybrid", "lexical", "dense"} {
		for _, q := range []string{isoCanary, "vault code Ostrava branch"} {
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?top_k=100&mode="+mode+"&q="+url.QueryEscape(q), a, nil, "", nil))
		}
	}

	// B's own document, so that B's searches and questions have an answer.
	id, _ := b.postText(t, f.keys["b-writer"], "Brno", "The Brno branch keeps its ledgers in the basement vault next to the boiler.")
	require.Equal(t, "ready", b.waitStatus(t, f.keys["b-writer"], id).Status)
	return f
}

// checkIsoRow makes row's request as B and checks every answer it leads to.
func checkIsoRow(t *testing.T, f *isoFixture, row isoRow) {
	t.Helper()
	path := row.path
	for name, id := range f.ids {
		path = strings.ReplaceAll(path, "{"+name+"}", id)
	}
	code, body := rawCall(t, f.b, row.method, path, f.keys[row.key], row.body)
	require.Contains(t, row.want, code, "%s: %s %s: %s", row.name, row.method, path, body)
	bodies := []string{body}
	if row.follow != nil {
		bodies = append(bodies, row.follow(t, f, body)...)
	}
	for _, body := range bodies {
		require.NotContains(t, strings.ToLower(body), isoCanary, "%s: tenant B sees A's canary: %s", row.name, body)
		if path == row.path { // no placeholder: nothing of A's may show
			for name, id := range f.ids {
				require.NotContains(t, body, id, "%s: tenant B sees A's %s", row.name, name)
			}
		}
	}
}

// checkAIntact: B's attempts on A's document changed nothing.
func (f *isoFixture) checkAIntact(t *testing.T) {
	t.Helper()
	var d docResp
	require.Equal(t, http.StatusOK, f.b.do(t, http.MethodGet, "/v1/documents/"+f.ids["doc"], f.keys["a"], nil, "", &d))
	require.Equal(t, "ready", d.Status)
	require.Equal(t, 1, d.Version)
	hits := f.b.searchTexts(t, f.keys["a"], isoCanary)
	require.True(t, answers(hits, f.ids["doc"], isoCanary), "A still finds its canary")
}

// checkSharedContent: when B uploads the very bytes A has, or crawls the
// page A crawled, B gets documents of its own, never a pointer to A's
// (deduplication is per tenant).
func (f *isoFixture) checkSharedContent(t *testing.T) {
	t.Helper()
	var up uploadResp
	code := f.b.doJSON(t, http.MethodPost, "/v1/documents", f.keys["b-writer"], map[string]any{
		"title": "Branch codes " + isoCanary,
		"text":  "The vault code of the Ostrava branch is " + isoCanary + ". Only the branch manager may open the vault.",
	}, &up)
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, up.Documents, 1)
	require.False(t, up.Documents[0].Duplicate, "a duplicate of another tenant's document")
	for _, id := range f.ids {
		require.NotEqual(t, id, up.Documents[0].ID)
		require.NotEqual(t, id, up.Documents[0].JobID)
	}
	require.Equal(t, "ready", f.b.waitStatus(t, f.keys["b-writer"], up.Documents[0].ID).Status)

	c := f.b.crawl(t, f.keys["b-writer"], map[string]any{"urls": []string{f.s.url("/vault")}, "max_depth": 0, "max_pages": 1})
	require.Equal(t, "succeeded", c.Status, "%+v", c)
	require.Len(t, c.Documents, 1)
	require.NotEqual(t, f.ids["crawl_doc"], c.Documents[0], "B's crawl got A's document")
	var d docResp
	require.Equal(t, http.StatusOK, f.b.do(t, http.MethodGet, "/v1/documents/"+c.Documents[0], f.keys["b-reader"], nil, "", &d))
	require.Equal(t, "ready", f.b.waitStatus(t, f.keys["b-reader"], c.Documents[0]).Status)
}
