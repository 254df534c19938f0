package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

// get sends a GET with optional bearer key and extra headers, returning the
// response with its body read.
func (b *testBundle) get(t *testing.T, path, key string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return b.send(t, req)
}

func (b *testBundle) send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	client := *b.http
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

// monitoringSession signs in with key and returns the session cookie.
func (b *testBundle) monitoringSession(t *testing.T, key string) *http.Cookie {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+"/v1/admin/monitoring-session", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, body := b.send(t, req)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	require.Len(t, resp.Cookies(), 1)
	return resp.Cookies()[0]
}

func cookieHeader(c *http.Cookie) http.Header {
	return http.Header{"Cookie": {c.Name + "=" + c.Value}}
}

// TestMonitoring covers the Asynq UI's access rules and that its API shows
// ragqueue's queues, in embedded mode and against a real Redis.
func TestMonitoring(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name string
		env  func(t *testing.T) map[string]string
	}{
		{"embedded", func(*testing.T) map[string]string { return nil }},
		{"redis", func(t *testing.T) map[string]string {
			needServers(t)
			opt := testRedis.NewDB(t)
			return map[string]string{"RAGQ_REDIS_URL": fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB), "RAGQ_RUN_WORKERS": "true"}
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mode.env(t))
			writer := b.newKey(t, "acme", "writer")
			id, _ := b.postText(t, writer, "", "Queues are visible in the monitoring UI.")
			require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)

			html := http.Header{"Accept": {"text/html,application/xhtml+xml"}}
			tests := []struct {
				name, path, key string
				header          http.Header
				want            int
				wantBody        string
			}{
				{"no key", "/monitoring/api/queues", "", nil, 401, `"unauthorized"`},
				{"no key browser gets the form", "/monitoring/", "", html, 401, `<form method="post" action="/v1/admin/monitoring-session">`},
				{"unknown key", "/monitoring/", "rq_nope", nil, 401, `"unauthorized"`},
				{"writer", "/monitoring/api/queues", writer, nil, 403, `"forbidden"`},
				{"bad cookie", "/monitoring/api/queues", "", http.Header{"Cookie": {sessionCookie + "=forged.value"}}, 401, "sign in again"},
				{"admin ui", "/monitoring/", testAdminKey, html, 200, "<title>Asynq - Monitoring</title>"},
				{"admin api", "/monitoring/api/queues", testAdminKey, nil, 200, `"queues"`},
			}
			resp, _ := b.get(t, "/monitoring", "", html)
			require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
			require.Equal(t, "/monitoring/", resp.Header.Get("Location"))
			for _, tt := range tests {
				resp, body := b.get(t, tt.path, tt.key, tt.header)
				require.Equal(t, tt.want, resp.StatusCode, "%s: %s", tt.name, body)
				require.Contains(t, body, tt.wantBody, tt.name)
			}

			// The UI's API lists ragqueue's queues, read from the same Redis.
			cookie := b.monitoringSession(t, testAdminKey)
			require.True(t, cookie.HttpOnly)
			require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
			require.Equal(t, "/monitoring", cookie.Path)
			require.False(t, cookie.Secure, "plain HTTP on loopback")
			var body string
			require.Positive(t, cookie.MaxAge)
			var queues struct {
				Queues []struct {
					Queue  string `json:"queue"`
					Paused bool   `json:"paused"`
				} `json:"queues"`
			}
			resp, body = b.get(t, "/monitoring/api/queues", "", cookieHeader(cookie))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.NoError(t, json.Unmarshal([]byte(body), &queues))
			names := map[string]bool{}
			for _, q := range queues.Queues {
				names[q.Queue] = true
			}
			require.True(t, names[jobs.QueueIngest], "queues: %s", body)

			// Actions work through the session: pause the ingest queue.
			req, err := http.NewRequest(http.MethodPost, b.base+"/monitoring/api/queues/"+jobs.QueueIngest+":pause", nil)
			require.NoError(t, err)
			req.Header.Set("Cookie", cookie.Name+"="+cookie.Value)
			req.Header.Set("Origin", "https://evil.example.com")
			resp, body = b.send(t, req)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "cross-origin action: %s", body)
			req, err = http.NewRequest(http.MethodPost, b.base+"/monitoring/api/queues/"+jobs.QueueIngest+":pause", nil)
			require.NoError(t, err)
			req.Header.Set("Cookie", cookie.Name+"="+cookie.Value)
			req.Header.Set("Origin", b.base)
			resp, body = b.send(t, req)
			require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
			_, body = b.get(t, "/monitoring/api/queues", testAdminKey, nil)
			require.NoError(t, json.Unmarshal([]byte(body), &queues))
			for _, q := range queues.Queues {
				require.Equal(t, q.Queue == jobs.QueueIngest, q.Paused, q.Queue)
			}
		})
	}
}

// TestMonitoringSessions covers the sign-in routes and that revoking or
// rotating a key ends its sessions; every sign-in is audited.
func TestMonitoringSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	writer := b.newKey(t, "acme", "writer")
	admin2 := b.newKey(t, "default", "admin")

	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodPost, "/v1/admin/monitoring-session", writer, nil, "", nil))
	require.Equal(t, http.StatusUnauthorized, b.do(t, http.MethodPost, "/v1/admin/monitoring-session", "", nil, "", nil))

	// The HTML form: a good key redirects to the UI with the cookie set.
	form := func(key string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, b.base+"/v1/admin/monitoring-session", strings.NewReader(url.Values{"key": {key}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.send(t, req)
	}
	resp, body := form(testAdminKey)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	require.Equal(t, "/monitoring/", resp.Header.Get("Location"))
	require.Len(t, resp.Cookies(), 1)
	resp, _ = b.get(t, "/monitoring/api/queues", "", cookieHeader(resp.Cookies()[0]))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body = form("rq_wrong")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "unknown or revoked API key")
	require.Empty(t, resp.Cookies())
	resp, body = form(writer)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, "needs an admin key")

	// Behind a TLS-terminating proxy the cookie is Secure.
	req, err := http.NewRequest(http.MethodPost, b.base+"/v1/admin/monitoring-session", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, body = b.send(t, req)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	require.Len(t, resp.Cookies(), 1)
	require.True(t, resp.Cookies()[0].Secure)

	// Rotating the key that opened a session ends the session.
	cookie := b.monitoringSession(t, admin2)
	resp, _ = b.get(t, "/monitoring/api/queues", "", cookieHeader(cookie))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	admin2ID := keyIDOf(t, b, admin2)
	var rotated struct {
		ID, Key, Tenant, Role string
	}
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/admin/keys/"+admin2ID+"/rotate", testAdminKey, nil, &rotated))
	resp, _ = b.get(t, "/monitoring/api/queues", "", cookieHeader(cookie))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = b.get(t, "/monitoring/api/queues", "", cookieHeader(b.monitoringSession(t, rotated.Key)))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var audit auditResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/admin/audit?limit=500", testAdminKey, nil, "", &audit))
	logins := 0
	for _, e := range audit.Entries {
		if e.Action == "monitoring.login" {
			logins++
		}
	}
	require.Equal(t, 4, logins, "the bearer and form sign-ins that succeeded")
}

type auditResp struct {
	Entries []struct {
		ID          string `json:"id"`
		ActorKeyID  string `json:"actor_key_id"`
		ActorTenant string `json:"actor_tenant"`
		Action      string `json:"action"`
		Target      string `json:"target"`
		Detail      string `json:"detail"`
		RemoteAddr  string `json:"remote_addr"`
		RequestID   string `json:"request_id"`
	} `json:"entries"`
	NextCursor *string `json:"next_cursor"`
}

// keyIDOf returns the ID of the key whose secret is secret (by its prefix).
func keyIDOf(t *testing.T, b *testBundle, secret string) string {
	t.Helper()
	var keys struct {
		Keys []struct{ ID, Prefix string } `json:"keys"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/admin/keys", testAdminKey, nil, "", &keys))
	for _, k := range keys.Keys {
		if k.Prefix != "" && strings.HasPrefix(secret, k.Prefix) {
			return k.ID
		}
	}
	t.Fatalf("no key with the secret's prefix")
	return ""
}

// TestKeyRotationAndAudit rotates a key and reads the audit trail back.
func TestKeyRotationAndAudit(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	old := b.newKey(t, "acme", "writer")
	id := keyIDOf(t, b, old)

	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodPost, "/v1/admin/keys/"+id+"/rotate", old, nil, "", nil))
	var e apiError
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodPost, "/v1/admin/keys/nope/rotate", testAdminKey, nil, "", &e))
	require.Equal(t, "not_found", e.Error.Code)

	var rotated struct {
		ID, Key, Tenant, Role, Prefix string
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodPost, "/v1/admin/keys/"+id+"/rotate", testAdminKey, nil, "", &rotated))
	require.Equal(t, id, rotated.ID)
	require.Equal(t, "acme", rotated.Tenant)
	require.Equal(t, "writer", rotated.Role)
	require.NotEqual(t, old, rotated.Key)
	require.True(t, strings.HasPrefix(rotated.Key, rotated.Prefix))
	require.Equal(t, http.StatusUnauthorized, b.do(t, http.MethodGet, "/v1/documents", old, nil, "", nil))
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents", rotated.Key, nil, "", nil))
	require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/admin/keys/"+id, testAdminKey, nil, "", nil))

	// Newest first, one page at a time.
	var actions []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 10)
		var a auditResp
		path := "/v1/admin/audit?limit=1"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, path, testAdminKey, nil, "", &a))
		require.Len(t, a.Entries, 1)
		got := a.Entries[0]
		require.Equal(t, id, got.Target)
		require.Equal(t, "default", got.ActorTenant)
		require.NotEmpty(t, got.ActorKeyID)
		require.Equal(t, "127.0.0.1", got.RemoteAddr)
		require.NotEmpty(t, got.RequestID)
		actions = append(actions, got.Action)
		if a.NextCursor == nil {
			break
		}
		cursor = *a.NextCursor
	}
	require.Equal(t, []string{"key.revoke", "key.rotate", "key.create"}, actions)
	require.Equal(t, http.StatusBadRequest, b.do(t, http.MethodGet, "/v1/admin/audit?cursor=bad", testAdminKey, nil, "", nil))
	require.Equal(t, http.StatusUnauthorized, b.do(t, http.MethodGet, "/v1/admin/audit", rotated.Key, nil, "", nil), "revoked")
}

// TestMetrics checks who may read /metrics and that it carries the HTTP,
// queue and pipeline figures, on the main router and on RAGQ_METRICS_ADDR.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_METRICS_ADDR": "127.0.0.1:0"})
	writer := b.newKey(t, "acme", "writer")
	docID, _ := b.postText(t, writer, "", "Metrics count this request.")
	b.waitStatus(t, writer, docID)

	require.Equal(t, http.StatusUnauthorized, b.do(t, http.MethodGet, "/metrics", "", nil, "", nil))
	require.Equal(t, http.StatusForbidden, b.do(t, http.MethodGet, "/metrics", writer, nil, "", nil))
	resp, body := b.get(t, "/metrics", testAdminKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	for _, want := range []string{
		`ragqueue_http_requests_total{method="GET",route="/v1/documents/:id",status="200"}`,
		`ragqueue_http_requests_total{method="POST",route="/v1/documents",status="202"}`,
		`ragqueue_http_requests_total{method="GET",route="/metrics",status="403"}`,
		`ragqueue_http_request_duration_seconds_bucket{method="GET",route="/v1/documents/:id",status="200",le="+Inf"}`,
		`asynq_queue_size{queue="` + jobs.QueueIngest + `"}`,
		`asynq_tasks_processed_total{queue="` + jobs.QueueIngest + `"}`,
		"ragqueue_pipeline_pages_parsed_total 1",
		"ragqueue_pipeline_chunks_embedded_total 1",
		"ragqueue_pipeline_embed_seconds_count",
		"go_goroutines",
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, docID, "ids never become labels")

	// The separate address serves the same registry without a key.
	separate := &testBundle{base: "http://" + b.inst.metricsSrv.Addr(), http: b.http}
	resp, body = separate.get(t, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `asynq_queue_size{queue="`+jobs.QueueIngest+`"}`)
	resp, _ = separate.get(t, "/v1/documents", testAdminKey, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "only /metrics is served there")
}

// TestRateLimit exhausts a key's budgets and checks the 429 and headers.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{
		"RAGQ_RATE_LIMIT_RPS": "1", "RAGQ_RATE_LIMIT_BURST": "3", "RAGQ_RATE_LIMIT_EXPENSIVE_RPM": "1",
	})
	reader := b.newKey(t, "acme", "reader")

	resp, _ := b.get(t, "/v1/documents", reader, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "3", resp.Header.Get("RateLimit-Limit"))
	require.Equal(t, "2", resp.Header.Get("RateLimit-Remaining"))
	require.NotEmpty(t, resp.Header.Get("RateLimit-Reset"))
	require.Empty(t, resp.Header.Get("Retry-After"))

	// The budget refills at one request a second, so a 429 comes within a
	// few quick requests.
	var limited *http.Response
	var body string
	for range 20 {
		resp, b := b.get(t, "/v1/documents", reader, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited, body = resp, b
			break
		}
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.NotNil(t, limited, "never limited")
	var e apiError
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Equal(t, "rate_limited", e.Error.Code)
	require.Contains(t, e.Error.Message, "RAGQ_RATE_LIMIT_RPS")
	retry, err := strconv.Atoi(limited.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, retry, 1)
	require.Equal(t, "0", limited.Header.Get("RateLimit-Remaining"))

	// Another key has its own budget; unauthenticated routes have none.
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents", testAdminKey, nil, "", nil))
	resp, _ = b.get(t, "/healthz", "", nil)
	require.Empty(t, resp.Header.Get("RateLimit-Limit"))

	// Queries have their own, smaller budget: one a minute.
	admin2 := b.newKey(t, "ops", "admin")
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", admin2, map[string]any{"question": "anything?"}, nil))
	e = apiError{}
	require.Equal(t, http.StatusTooManyRequests, b.doJSON(t, http.MethodPost, "/v1/queries", admin2, map[string]any{"question": "again?"}, &e))
	require.Contains(t, e.Error.Message, "RAGQ_RATE_LIMIT_EXPENSIVE_RPM")
}

// TestSecurityHeadersAndCORS checks the hardening headers and that CORS is
// off by default and exact when configured.
func TestSecurityHeadersAndCORS(t *testing.T) {
	t.Parallel()
	off := setup(t, nil)
	on := setup(t, map[string]string{"RAGQ_CORS_ORIGINS": "https://app.example.com"})

	resp, _ := off.get(t, "/healthz", "", http.Header{"Origin": {"https://app.example.com"}})
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.Equal(t, apiCSP, resp.Header.Get("Content-Security-Policy"))
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	resp, _ = off.get(t, "/monitoring/", testAdminKey, nil)
	require.Equal(t, monitoringCSP, resp.Header.Get("Content-Security-Policy"))

	preflight := func(b *testBundle, origin string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, b.base+"/v1/documents", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, _ := b.send(t, req)
		return resp
	}
	resp = preflight(on, "https://app.example.com")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
	resp = preflight(on, "https://evil.example.com")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	resp = preflight(off, "https://app.example.com")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	resp, _ = on.get(t, "/v1/documents", testAdminKey, http.Header{"Origin": {"https://app.example.com"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After")
}

// TestOperatorScope checks that only admin keys of the default tenant (the
// operators') reach the platform: an admin of another tenant cannot list or
// make keys, read the audit log, re-index, read metrics or open the Asynq
// UI, and keeps a writer's rights in its own tenant.
func TestOperatorScope(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tenantAdmin := b.newKey(t, "beta", "admin")
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/admin/keys"},
		{http.MethodPost, "/v1/admin/keys"},
		{http.MethodGet, "/v1/admin/audit"},
		{http.MethodPost, "/v1/admin/reindex"},
		{http.MethodPost, "/v1/admin/monitoring-session"},
		{http.MethodGet, "/metrics"},
		{http.MethodGet, "/monitoring/api/queues"},
	} {
		var e apiError
		require.Equal(t, http.StatusForbidden, b.doJSON(t, r.method, r.path, tenantAdmin, map[string]any{"tenant": "default", "role": "admin"}, &e), "%s %s", r.method, r.path)
		require.Contains(t, e.Error.Message, "default", "%s %s", r.method, r.path)
	}
	id, _ := b.postText(t, tenantAdmin, "Own", "A tenant admin still writes in its own tenant.")
	require.Equal(t, "ready", b.waitStatus(t, tenantAdmin, id).Status)
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/admin/keys", testAdminKey, nil, "", nil))
}
