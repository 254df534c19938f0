package queries_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// rewritingGenerator is the extractive generator with a model's follow-up
// rewriting: it returns standalone (or err) and records what it was given.
type rewritingGenerator struct {
	retrieval.Generator
	standalone string
	err        error

	mu      sync.Mutex
	history [][]retrieval.ConversationTurn
}

func (g *rewritingGenerator) Rewrite(_ context.Context, history []retrieval.ConversationTurn, _ string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.history = append(g.history, history)
	return g.standalone, g.err
}

// TestConversationRewriter checks who rewrites a follow-up: the generator
// when it is a retrieval.Rewriter, given the earlier turns; the rule when
// it fails; and that each turn is recorded once, even when a task runs
// twice.
func TestConversationRewriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  *rewritingGenerator
		want string
	}{
		{"model", &rewritingGenerator{standalone: "How is error E42 fixed on the pump?"}, "How is error E42 fixed on the pump?"},
		{"rule when the model fails", &rewritingGenerator{err: errors.New("model down")}, "error code e42 mean: how do I fix it?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupPipeline(t)
			d := b.Deps(&recorder{})
			tt.gen.Generator = retrieval.NewExtractive()
			d.Generator = tt.gen
			mux := b.WorkerMux(d)
			ask := func(jobID, question string) map[string]any {
				t.Helper()
				job := ragqueue.Job{ID: jobID, Tenant: b.tenant, Type: ragqueue.KindQuery, State: ragqueue.StateQueued}
				require.NoError(t, b.Store.CreateJob(t.Context(), job))
				task, err := jobs.NewTask(jobs.QueryArgs{Tenant: b.tenant, JobID: jobID, Question: question, ConversationID: "c1"})
				require.NoError(t, err)
				require.NoError(t, mux.ProcessTask(t.Context(), task))
				require.NoError(t, mux.ProcessTask(t.Context(), task), "a repeated delivery")
				got := b.GetJob(t, b.tenant, jobID)
				var res map[string]any
				require.NoError(t, json.Unmarshal(got.Result, &res))
				return res
			}
			first := ask("q1", "What does error code E42 mean?")
			require.Equal(t, "What does error code E42 mean?", first["standalone_question"], "nothing to rewrite from")
			require.Empty(t, tt.gen.history, "no history, no rewrite call")

			second := ask("q2", "how do I fix it?")
			require.Equal(t, tt.want, second["standalone_question"])
			require.Equal(t, "c1", second["conversation_id"])
			require.NotEmpty(t, tt.gen.history)
			require.Equal(t, []retrieval.ConversationTurn{{
				Question: "What does error code E42 mean?", Standalone: "What does error code E42 mean?", Answer: first["answer"].(string),
			}}, tt.gen.history[0], "the earlier turn")
			for _, h := range tt.gen.history {
				require.Len(t, h, 1, "never this job's own turn from an earlier delivery")
			}

			conv, err := b.Store.GetConversation(t.Context(), b.tenant, "c1")
			require.NoError(t, err)
			require.Len(t, conv.Turns, 2)
			require.Equal(t, tt.want, conv.Turns[1].Standalone)
		})
	}
}
