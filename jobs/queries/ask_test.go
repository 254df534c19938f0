package queries_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// fixedBudget is a TokenBudget whose Allow always answers err.
type fixedBudget struct{ err error }

func (b fixedBudget) Allow(context.Context, string) error             { return b.err }
func (b fixedBudget) Add(context.Context, string, int) (int64, error) { return 0, nil }

func intPtr(n int) *int { return &n }

// TestCheckOrder: a question with several faults hears about the first in
// today's order: question, length, mode, top_k, urls, callback,
// conversation, budget.
func TestCheckOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	spent := ragqueue.Errorf(ragqueue.ERATELIMIT, "the daily token budget is spent")
	base := e.Deps(e.Asynq).Queries(e.Client)
	svc := func(maxURLs int, budget queries.TokenBudget) *queries.Service {
		return queries.ReconfigureForTest(base, func(c *queries.Config) { c.MaxURLs, c.TokenBudget = maxURLs, budget })
	}
	tests := []struct {
		name    string
		maxURLs int
		budget  queries.TokenBudget
		q       queries.Question
		want    string // "" accepts
		code    string
	}{
		{"empty", 3, fixedBudget{spent}, queries.Question{Text: "  ", Mode: "bogus"}, "question is required", ragqueue.EINVALID},
		{"too long", 3, fixedBudget{spent}, queries.Question{Text: strings.Repeat("é", queries.MaxQuestionRunes+1), Mode: "bogus"}, "longer than 4000", ragqueue.EINVALID},
		{"mode before top_k", 3, nil, queries.Question{Text: "q", Mode: "stream", TopK: intPtr(0)}, `mode must be "sync" or "async"`, ragqueue.EINVALID},
		{"explicit zero top_k", 3, nil, queries.Question{Text: "q", TopK: intPtr(0), URLs: []string{"file:///x"}}, "top_k must be from 1 to 50", ragqueue.EINVALID},
		{"top_k too big", 3, nil, queries.Question{Text: "q", TopK: intPtr(51)}, "top_k must be from 1 to 50", ragqueue.EINVALID},
		{"urls before callback", 3, nil, queries.Question{Text: "q", URLs: []string{"file:///x"}, Callback: "https://hooks.example/x"}, "not an absolute http or https URL", ragqueue.EINVALID},
		{"urls turned off", 0, nil, queries.Question{Text: "q", URLs: []string{"https://a.example/"}}, "turned off", ragqueue.EINVALID},
		{"urls in text while off are text", 0, nil, queries.Question{Text: "see https://a.example/"}, "", ""},
		{"callback before conversation", 3, nil, queries.Question{Text: "q", Callback: "https://hooks.example/x", ConversationID: "bad id!"}, "RAGQ_WEBHOOK_SECRET", ragqueue.EINVALID},
		{"conversation before budget", 3, fixedBudget{spent}, queries.Question{Text: "q", ConversationID: "bad id!"}, "conversation_id may only hold", ragqueue.EINVALID},
		{"budget spent", 3, fixedBudget{spent}, queries.Question{Text: "q"}, "budget is spent", ragqueue.ERATELIMIT},
		{"budget unreadable", 3, fixedBudget{ragqueue.Errorf(ragqueue.EUNAVAILABLE, "redis down")}, queries.Question{Text: "q"}, "", ""},
		{"defaults", 3, nil, queries.Question{Text: " q ", Mode: "async"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.q.Tenant = "acme"
			_, err := svc(tt.maxURLs, tt.budget).Check(t.Context(), tt.q)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
			require.Equal(t, tt.code, ragqueue.ErrorCode(err))
		})
	}
}

// TestAskFastPath: a question the answer cache holds is answered without a
// job round trip, except in a conversation, with URLs, with the cache off,
// with a callback, or for a streaming face: those are queued.
func TestAskFastPath(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	d := b.Deps(b.Asynq)
	d.Cache = queries.NewAnswerCache(b.Store, queries.CacheOptions{}, b.Logger)
	d.InlineEmbedChunks = 0
	b.StartWorker(t, d)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, doc.JobID).State)

	svc := queries.ReconfigureForTest(d.Queries(b.Client), func(c *queries.Config) { c.Signed = true })
	ask := func(q queries.Question) queries.Asked {
		t.Helper()
		q.Tenant = b.tenant
		checked, err := svc.Check(t.Context(), q)
		require.NoError(t, err)
		asked, err := svc.Ask(t.Context(), checked)
		require.NoError(t, err)
		return asked
	}
	const question = "What does error code E42 mean?"
	first := ask(queries.Question{Text: question})
	require.False(t, first.Cached, "nothing is cached yet")
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, first.Job.ID).State)

	hit := ask(queries.Question{Text: question})
	require.True(t, hit.Cached)
	require.Equal(t, ragqueue.StateSucceeded, hit.Job.State)
	require.Contains(t, string(hit.Job.Result), "flow sensor")

	for name, q := range map[string]queries.Question{
		"conversation": {Text: question, ConversationID: "c1"},
		"urls":         {Text: question, URLs: []string{"https://docs.example/e42"}},
		"cache off":    {Text: question, NoCache: true},
		"callback":     {Text: question, Callback: "https://hooks.example/done"},
		"streaming":    {Text: question, Streaming: true},
	} {
		asked := ask(q)
		require.False(t, asked.Cached, name)
		require.Equal(t, ragqueue.StateQueued, asked.Job.State, name)
	}
}

// taskLog records what a TaskCanceler was asked.
type taskLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *taskLog) DeleteTask(queue, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "delete "+queue+" "+id)
	return nil
}

func (l *taskLog) CancelProcessing(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "cancel "+id)
	return nil
}

// TestCancel: a query whose streaming client left is recorded canceled,
// its followers are told, and its task is deleted from the query queue
// and canceled, even though the client's context has ended.
func TestCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	log, tasks := &eventLog{}, &taskLog{}
	svc := queries.ReconfigureForTest(e.Deps(e.Asynq).Queries(e.Client), func(c *queries.Config) {
		c.Canceler = jobs.NewCanceler(e.Store, log, tasks, e.Logger)
	})
	job, err := e.EnqueueQuery(t.Context(), "acme", "how long do I boil water?", 0)
	require.NoError(t, err)

	left, cancel := context.WithCancel(t.Context())
	cancel()
	svc.Cancel(left, "acme", job.ID)
	got := e.GetJob(t, "acme", job.ID)
	require.Equal(t, ragqueue.StateCanceled, got.State)
	require.Contains(t, got.Error, "disconnected")
	require.Equal(t, []string{ragqueue.EventError, ragqueue.EventDone}, log.Types("acme", job.ID))
	require.Equal(t, []string{"delete " + jobs.QueueQueries + " " + job.ID, "cancel " + job.ID}, tasks.calls)

	svc.Cancel(t.Context(), "acme", job.ID) // finished: left alone
	require.Len(t, tasks.calls, 2)
}
