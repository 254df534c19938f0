package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval/provider"
	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// sseEvent is one event (or comment) read from a raw SSE stream.
type sseEvent struct {
	ID, Event, Data string
	Comment         string
}

// sseStream reads a raw text/event-stream response.
type sseStream struct {
	resp *http.Response
	r    *bufio.Reader
}

// next reads the next event or comment, field by field as the wire has it.
func (s *sseStream) next() (sseEvent, error) {
	var ev sseEvent
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if seen {
				return ev, nil
			}
			continue
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.Comment = value
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			ev.Data = value
		default:
			return ev, fmt.Errorf("unexpected SSE line %q", line)
		}
	}
}

// nextEvent skips comments.
func (s *sseStream) nextEvent(t testing.TB) sseEvent {
	t.Helper()
	for {
		ev, err := s.next()
		require.NoError(t, err)
		if ev.Comment == "" {
			return ev
		}
	}
}

// untilDone reads events up to and including done.
func (s *sseStream) untilDone(t testing.TB) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		ev := s.nextEvent(t)
		out = append(out, ev)
		if ev.Event == ragqueue.EventDone {
			return out
		}
	}
}

// openSSE sends a request expecting an event stream; the stream is closed
// when the test ends or ctx is cancelled.
func (b *eventsBundle) openSSE(t testing.TB, ctx context.Context, method, path, key, body string, header map[string]string) *sseStream {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{}).Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	return &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// eventsBundle is an API whose generator is an OpenAI-compatible model
// served on loopback, with one tenant's key and one indexed document.
type eventsBundle struct {
	*testBundle
	key string
}

const eventsDoc = "The sky looks blue because air scatters short blue wavelengths of sunlight more than red ones."

func setupEvents(t testing.TB, modelURL string, env map[string]string) *eventsBundle {
	t.Helper()
	gen, err := provider.NewGenerator(context.Background(), "openai:fake-model", provider.GenOptions{
		BaseURL: modelURL, APIKey: "test-key", Retry: provider.Retry{MaxRetries: -1}, Logger: discardLogger(),
	})
	require.NoError(t, err)
	b := setup(t, env, app.WithGenerator(gen))
	eb := &eventsBundle{testBundle: b, key: b.newKey(t, "acme", "writer")}
	body, ct := multipartBody(t, []filePart{{name: "sky.txt", contentType: "text/plain", body: eventsDoc}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", eb.key, body, ct, &up))
	require.Equal(t, "ready", b.waitStatus(t, eb.key, up.Documents[0].ID).Status)
	return eb
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireWellFormed checks that every event has an increasing stream id.
func requireWellFormed(t testing.TB, evs []sseEvent) {
	t.Helper()
	prev := "0-0"
	for _, ev := range evs {
		require.True(t, ragqueue.ValidEventID(ev.ID), "event %+v has no stream id", ev)
		require.True(t, ragqueue.EventIDAfter(ev.ID, prev), "id %s does not follow %s", ev.ID, prev)
		prev = ev.ID
		require.True(t, json.Valid([]byte(ev.Data)), "data of %s is not JSON: %s", ev.Event, ev.Data)
	}
}

// kinds summarises event types, collapsing runs: token… citation… result done.
func kinds(evs []sseEvent) []string {
	var out []string
	for _, ev := range evs {
		if len(out) > 0 && out[len(out)-1] == ev.Event && (ev.Event == ragqueue.EventToken || ev.Event == ragqueue.EventCitation || ev.Event == ragqueue.EventProgress) {
			continue
		}
		out = append(out, ev.Event)
	}
	return out
}

func tokenText(t testing.TB, evs []sseEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Event == ragqueue.EventToken {
			var tok ragqueue.TokenEvent
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &tok))
			b.WriteString(tok.Text)
		}
	}
	return b.String()
}

func TestSSEQueryStreamsTokensThenOutcome(t *testing.T) {
	t.Parallel()
	tokens := []string{"Air", " scatters", " blue", " light", " [1]."}
	fake := providertest.NewOpenAI(t, providertest.Options{Tokens: tokens})
	b := setupEvents(t, fake.URL, nil)
	ctx := testCtx(t)

	s := b.openSSE(t, ctx, http.MethodPost, "/v1/queries", b.key, `{"question":"why is the sky blue?"}`, nil)
	jobID := s.resp.Header.Get("X-Job-ID")
	require.NotEmpty(t, jobID)
	evs := s.untilDone(t)
	requireWellFormed(t, evs)
	require.Equal(t, []string{"token", "citation", "result", "done"}, kinds(evs))
	require.Equal(t, strings.Join(tokens, ""), tokenText(t, evs))
	require.GreaterOrEqual(t, len(evs), len(tokens)+3, "one token event per streamed piece")

	var res struct {
		Answer    string `json:"answer"`
		JobID     string `json:"job_id"`
		Generator string `json:"generator"`
		Citations []struct {
			Index int `json:"index"`
		} `json:"citations"`
	}
	require.NoError(t, json.Unmarshal([]byte(evs[len(evs)-2].Data), &res))
	require.Equal(t, jobID, res.JobID)
	require.Equal(t, "openai:fake-model", res.Generator)
	require.Contains(t, res.Answer, "scatters blue light")
	require.Len(t, res.Citations, 1)
	require.JSONEq(t, `{"state":"succeeded"}`, evs[len(evs)-1].Data)

	// The same result is in the job record.
	var job struct {
		State  string          `json:"state"`
		Result json.RawMessage `json:"result"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+jobID, b.key, nil, "", &job))
	require.Equal(t, "succeeded", job.State)
	require.JSONEq(t, evs[len(evs)-2].Data, string(job.Result))

	// A late subscriber gets the whole backlog, the same events with the
	// same ids; one resuming after an id gets exactly what followed it.
	late := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/"+jobID+"/events", b.key, "", nil).untilDone(t)
	require.Equal(t, evs, late)
	for _, i := range []int{0, 2, len(evs) - 2} {
		rest := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/"+jobID+"/events", b.key, "",
			map[string]string{"Last-Event-ID": evs[i].ID}).untilDone(t)
		require.Equal(t, evs[i+1:], rest, "resume after event %d", i)
	}

	// Another tenant cannot see the job or its events.
	other := b.newKey(t, "globex", "reader")
	var e apiError
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/jobs/"+jobID+"/events", other, nil, "", &e))
	require.Equal(t, "not_found", e.Error.Code)
	require.Equal(t, http.StatusBadRequest, b.do(t, http.MethodGet, "/v1/jobs/"+jobID+"/events?last_event_id=nope", b.key, nil, "", &e))
}

// A client that drops mid-stream and reconnects with Last-Event-ID gets
// every remaining event once.
func TestSSEResumeMidStream(t *testing.T) {
	t.Parallel()
	tokens := make([]string, 12)
	for i := range tokens {
		tokens[i] = fmt.Sprintf(" w%d", i)
	}
	tokens[len(tokens)-1] = " [1]."
	release := make(chan struct{})
	fake := providertest.NewOpenAI(t, providertest.Options{Tokens: tokens, Hold: func(n int, path string) <-chan struct{} {
		if strings.HasSuffix(path, "/chat/completions") {
			return release
		}
		return nil
	}})
	b := setupEvents(t, fake.URL, nil)
	ctx := testCtx(t)

	var q struct {
		JobID string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/queries", b.key,
		map[string]any{"question": "why is the sky blue?", "mode": "async"}, &q))
	first, cancel := context.WithCancel(ctx)
	s := b.openSSE(t, first, http.MethodGet, "/v1/jobs/"+q.JobID+"/events", b.key, "", nil)
	close(release)
	var got []sseEvent
	for range 3 {
		got = append(got, s.nextEvent(t))
	}
	cancel() // the connection drops mid-answer
	rest := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/"+q.JobID+"/events", b.key, "",
		map[string]string{"Last-Event-ID": got[2].ID}).untilDone(t)
	got = append(got, rest...)
	requireWellFormed(t, got)
	require.Equal(t, strings.Join(tokens, ""), tokenText(t, got), "no token lost or repeated")
	require.Equal(t, []string{"token", "citation", "result", "done"}, kinds(got))
	all := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/"+q.JobID+"/events", b.key, "", nil).untilDone(t)
	require.Equal(t, all, got)
}

func TestSSEHeartbeatWhileIdle(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	arrived := make(chan int, 1)
	fake := providertest.NewOpenAI(t, providertest.Options{Arrived: arrived, Hold: func(n int, path string) <-chan struct{} {
		if strings.HasSuffix(path, "/chat/completions") {
			return release
		}
		return nil
	}})
	b := setupEvents(t, fake.URL, map[string]string{"RAGQ_SSE_HEARTBEAT": "30ms"})
	ctx := testCtx(t)
	s := b.openSSE(t, ctx, http.MethodPost, "/v1/queries", b.key, `{"question":"why is the sky blue?"}`, nil)
	<-arrived
	// The model is silent: the stream carries heartbeats, then the answer.
	beats := 0
	for beats < 2 {
		ev, err := s.next()
		require.NoError(t, err)
		require.Equal(t, "ping", ev.Comment, "nothing but heartbeats while the model is held: %+v", ev)
		beats++
	}
	close(release)
	evs := s.untilDone(t)
	require.Equal(t, []string{"token", "citation", "result", "done"}, kinds(evs))
}

// cancelFake is an OpenAI-compatible chat endpoint that streams one token
// and then holds the stream until released or the caller goes away, which
// it reports.
type cancelFake struct {
	URL      string
	arrived  chan struct{}
	gone     chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	requests int
}

func newCancelFake(t testing.TB) *cancelFake {
	f := &cancelFake{arrived: make(chan struct{}, 8), gone: make(chan struct{}, 8), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Air [1]"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		f.arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			f.gone <- struct{}{}
			return
		case <-f.release:
		}
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(func() { close(f.release); srv.Close() })
	f.URL = srv.URL + "/v1"
	return f
}

func (f *cancelFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// jobState polls a job's state.
func (b *eventsBundle) jobState(t testing.TB, id string) string {
	var job struct {
		State string `json:"state"`
	}
	b.do(t, http.MethodGet, "/v1/jobs/"+id, b.key, nil, "", &job)
	return job.State
}

func TestSSEDisconnectCancelsQuery(t *testing.T) {
	t.Parallel()
	fake := newCancelFake(t)
	b := setupEvents(t, fake.URL, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	s := b.openSSE(t, ctx, http.MethodPost, "/v1/queries", b.key, `{"question":"why is the sky blue?"}`, nil)
	jobID := s.resp.Header.Get("X-Job-ID")
	<-fake.arrived
	require.Equal(t, "token", s.nextEvent(t).Event)
	cancel() // the client goes away mid-answer

	select {
	case <-fake.gone: // the provider call's context was cancelled
	case <-time.After(30 * time.Second):
		t.Fatal("the provider call was never cancelled")
	}
	require.Eventually(t, func() bool { return b.jobState(t, jobID) == "canceled" }, 30*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, fake.count(), "a canceled query is not retried")

	// Its followers were told: error (canceled), then done.
	evs := b.openSSE(t, testCtx(t), http.MethodGet, "/v1/jobs/"+jobID+"/events", b.key, "", nil).untilDone(t)
	require.Equal(t, []string{"token", "error", "done"}, kinds(evs))
	require.JSONEq(t, `{"state":"canceled"}`, evs[len(evs)-1].Data)
}

func TestSSEDisconnectLeavesAsyncQuery(t *testing.T) {
	t.Parallel()
	fake := newCancelFake(t)
	b := setupEvents(t, fake.URL, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	s := b.openSSE(t, ctx, http.MethodPost, "/v1/queries", b.key, `{"question":"why is the sky blue?","mode":"async"}`, nil)
	jobID := s.resp.Header.Get("X-Job-ID")
	<-fake.arrived
	require.Equal(t, "token", s.nextEvent(t).Event)
	cancel()
	// Give a wrongful cancellation every chance to happen first: the
	// request's end is seen by the server before the job may finish.
	require.Eventually(t, func() bool {
		resp, err := http.Get(b.base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)
	select {
	case <-fake.gone:
		t.Fatal("an async query's provider call was cancelled by the disconnect")
	default:
	}
	fake.release <- struct{}{}
	require.Eventually(t, func() bool { return b.jobState(t, jobID) == "succeeded" }, 30*time.Second, 10*time.Millisecond)
}

// Ingestion progress reaches SSE subscribers too.
func TestSSEIngestProgress(t *testing.T) {
	t.Parallel()
	fake := providertest.NewOpenAI(t, providertest.Options{})
	b := setupEvents(t, fake.URL, nil)
	body, ct := multipartBody(t, []filePart{{name: "b.txt", contentType: "text/plain", body: "Grass is green because chlorophyll reflects green light."}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", b.key, body, ct, &up))
	evs := b.openSSE(t, testCtx(t), http.MethodGet, "/v1/jobs/"+up.Documents[0].JobID+"/events", b.key, "", nil).untilDone(t)
	requireWellFormed(t, evs)
	require.Equal(t, []string{"progress", "result", "done"}, kinds(evs))
	require.Contains(t, evs[0].Data, `"stage":"parse"`)
}

// A job that finished before its events were kept (or after they expired)
// is told from its record.
func TestSSEJobWithoutStream(t *testing.T) {
	t.Parallel()
	fake := providertest.NewOpenAI(t, providertest.Options{})
	// No heartbeat comes within the test: the record is read at once.
	b := setupEvents(t, fake.URL, map[string]string{"RAGQ_SSE_HEARTBEAT": "1h"})
	ctx := testCtx(t)
	old := time.Now().Add(-time.Hour).UTC()
	require.NoError(t, b.inst.app.Store().CreateJob(ctx, ragqueue.Job{
		ID: "old-job", Tenant: "acme", Type: ragqueue.KindQuery, State: ragqueue.StateFailed, Error: "the model was down",
		CreatedAt: old, UpdatedAt: old, CompletedAt: &old,
	}))
	evs := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/old-job/events", b.key, "", nil).untilDone(t)
	requireWellFormed(t, evs)
	require.Equal(t, []string{"error", "done"}, kinds(evs))
	require.JSONEq(t, `{"error":"the model was down","state":"failed"}`, evs[0].Data)
	rest := b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/old-job/events", b.key, "", map[string]string{"Last-Event-ID": evs[0].ID}).untilDone(t)
	require.Equal(t, evs[1:], rest)

	// A stream that never got its outcome (the job was ended by something
	// that wrote only the record) is completed from the record.
	require.NoError(t, b.inst.app.Store().CreateJob(ctx, ragqueue.Job{
		ID: "cut-job", Tenant: "acme", Type: ragqueue.KindQuery, State: ragqueue.StateFailed, Error: "interrupted by a restart",
		CreatedAt: old, UpdatedAt: old, CompletedAt: &old,
	}))
	_, err := b.inst.app.Streams().Publish(ctx, "acme", "cut-job", jobs.NewEvent(ragqueue.EventToken, ragqueue.TokenEvent{Text: "Air"}))
	require.NoError(t, err)
	evs = b.openSSE(t, ctx, http.MethodGet, "/v1/jobs/cut-job/events", b.key, "", nil).untilDone(t)
	requireWellFormed(t, evs)
	require.Equal(t, []string{"token", "error", "done"}, kinds(evs))
	require.JSONEq(t, `{"error":"interrupted by a restart","state":"failed"}`, evs[1].Data)
}

// TestSSEAcrossProcesses follows a query answered by a separate worker
// process (the real cmd/worker binary): the events travel through Redis.
func TestSSEAcrossProcesses(t *testing.T) {
	t.Parallel()
	needServers(t)
	redisOpt := testRedis.NewDB(t)
	b := setup(t, map[string]string{
		"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", redisOpt.Addr, redisOpt.DB),
		"RAGQ_DATABASE_URL": testPG.NewDatabase(t),
	})
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ragqueue/ragqueue/cmd/worker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	ctx, cancel := context.WithCancel(context.Background())
	w := exec.CommandContext(ctx, bin)
	w.Env = os.Environ()
	for k, v := range b.env {
		w.Env = append(w.Env, k+"="+v)
	}
	w.Cancel = func() error { return w.Process.Signal(syscall.SIGTERM) }
	w.WaitDelay = 20 * time.Second
	require.NoError(t, w.Start())
	t.Cleanup(func() {
		cancel()
		_ = w.Wait()
	})

	_, jobID := b.postText(t, testAdminKey, "Sky", eventsDoc)
	eb := &eventsBundle{testBundle: b, key: testAdminKey}
	tctx := testCtx(t)
	ingest := eb.openSSE(t, tctx, http.MethodGet, "/v1/jobs/"+jobID+"/events", testAdminKey, "", nil).untilDone(t)
	require.Equal(t, []string{"progress", "result", "done"}, kinds(ingest))

	s := eb.openSSE(t, tctx, http.MethodPost, "/v1/queries", testAdminKey, `{"question":"why does the sky look blue?"}`, nil)
	evs := s.untilDone(t)
	requireWellFormed(t, evs)
	require.Equal(t, []string{"token", "citation", "result", "done"}, kinds(evs))
	require.Contains(t, tokenText(t, evs), "scatters short blue wavelengths")
}

// Shutting down ends open streams at once (clients resume elsewhere with
// Last-Event-ID) rather than holding the shutdown, and does not cancel the
// queries they follow.
func TestSSEShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	fake := newCancelFake(t)
	b := setupEvents(t, fake.URL, map[string]string{"RAGQ_SHUTDOWN_TIMEOUT": "20s"})
	s := b.openSSE(t, testCtx(t), http.MethodPost, "/v1/queries", b.key, `{"question":"why is the sky blue?"}`, nil)
	<-fake.arrived
	require.Equal(t, "token", s.nextEvent(t).Event)
	ended := make(chan error, 1)
	go func() {
		for {
			ev, err := s.next()
			if err != nil {
				ended <- err
				return
			}
			if ev.Event == ragqueue.EventDone {
				ended <- fmt.Errorf("unexpected done: %+v", ev)
				return
			}
		}
	}()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.stop(t)
	}()
	select {
	case err := <-ended:
		require.ErrorIs(t, err, io.EOF, "the stream ends without done")
	case <-time.After(15 * time.Second):
		t.Fatal("shutdown did not end the open stream")
	}
	select {
	case <-fake.gone:
		t.Fatal("shutting down canceled the query")
	default:
	}
	fake.release <- struct{}{} // the worker finishes the query, then stops
	<-stopped
}

// TestSSECachedAnswer checks that a question answered from the cache still
// reaches a streaming client as events, not as a JSON body.
func TestSSECachedAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id, _ := b.postText(t, testAdminKey, "Sky", "The sky is blue because air scatters blue light more than red light.")
	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, id).Status)
	for i := range 2 { // the second time from the answer cache
		req, err := http.NewRequest(http.MethodPost, b.base+"/v1/queries", strings.NewReader(`{"question":"Why is the sky blue?"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.http.Do(req)
		require.NoError(t, err)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream", "attempt %d", i)
		s := &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
		var types []string
		for {
			ev := s.nextEvent(t)
			types = append(types, ev.Event)
			if ev.Event == ragqueue.EventDone {
				break
			}
		}
		_ = resp.Body.Close()
		require.Equal(t, ragqueue.EventToken, types[0], "attempt %d: %v", i, types)
		require.Contains(t, types, ragqueue.EventResult, "attempt %d: %v", i, types)
	}
}

// TestStreamBrokenAfterTokensFails checks that a model stream that breaks
// after tokens reached the client fails the job with the provider's
// message, without running it again under the tokens already sent.
func TestStreamBrokenAfterTokensFails(t *testing.T) {
	t.Parallel()
	fake := providertest.NewOpenAI(t, providertest.Options{Tokens: []string{"Air ", "scatters ", "blue ", "light [1]."}, CutAfter: 2})
	eb := setupEvents(t, fake.URL, nil)
	req, err := http.NewRequest(http.MethodPost, eb.base+"/v1/queries", strings.NewReader(`{"question":"Why is the sky blue?","cache":false}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+eb.key)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Content-Type", "application/json")
	resp, err := eb.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	evs := (&sseStream{resp: resp, r: bufio.NewReader(resp.Body)}).untilDone(t)
	var tokens, errs int
	for _, ev := range evs {
		switch ev.Event {
		case ragqueue.EventToken:
			tokens++
		case ragqueue.EventError:
			errs++
			require.Contains(t, ev.Data, "failed")
		}
	}
	require.Equal(t, 2, tokens, "the two tokens sent before the break, once: %+v", evs)
	require.Equal(t, 1, errs)
	require.Contains(t, evs[len(evs)-1].Data, `"failed"`)
	require.Len(t, fake.RequestsTo("/chat/completions"), 1, "not run again")
}
