package queries

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// MaxQuestionRunes bounds a question or search text.
const MaxQuestionRunes = 4000

// maxTopK bounds the passages a question may ask for.
const maxTopK = 50

// Question is a question as a client asks it (POST /v1/queries, the
// WebSocket "query" message). Check validates it; Ask answers it.
type Question struct {
	Tenant string
	// Text is the question; URLs written in it are fetched too.
	Text string
	// TopK is how many passages to answer from: nil for the default (5);
	// an explicit value must be from 1 to 50.
	TopK *int
	// URLs are pages to fetch and answer from.
	URLs []string
	// ConversationID keeps the question in a conversation ("": none).
	ConversationID string
	// NoCache turns the answer cache off for this question.
	NoCache bool
	// Mode is how the face waits: "", "sync" or "async". It is checked
	// here so that every face refuses alike.
	Mode string
	// Callback is the URL notified when the job ends ("": none).
	Callback string
	// Streaming says the face follows the job's events (SSE, WebSocket):
	// then the answer cache is not consulted before a job is made (the
	// worker looks it up), so that the events come from the job.
	Streaming bool
}

// Checked is a Question that Check accepted, normalised: only Check makes
// one, so Ask answers nothing unchecked.
type Checked struct {
	q    Question
	topK int
	urls []string
}

// Asked is how a question was taken on: a query job, queued for a worker,
// or, Cached, already answered by the answer cache (a succeeded job whose
// Result is the answer).
type Asked struct {
	Job    ragqueue.Job
	Cached bool
}

// Check validates q in this order, the first failure winning: the question
// (trimmed; required, at most MaxQuestionRunes), Mode, TopK, the URLs (those
// given and those written in the question; Config.MaxURLs as configured, 0
// refusing them), the callback, the conversation ID, and last the tenant's
// token budget (ERATELIMIT once the day's tokens are spent; a budget that
// cannot be read does not refuse).
func (s *Service) Check(ctx context.Context, q Question) (Checked, error) {
	q.Text = strings.TrimSpace(q.Text)
	switch {
	case q.Text == "":
		return Checked{}, ragqueue.Errorf(ragqueue.EINVALID, "question is required")
	case utf8.RuneCountInString(q.Text) > MaxQuestionRunes:
		return Checked{}, ragqueue.Errorf(ragqueue.EINVALID, "question is longer than %d characters", MaxQuestionRunes)
	case q.Mode != "" && q.Mode != "sync" && q.Mode != "async":
		return Checked{}, ragqueue.Errorf(ragqueue.EINVALID, "mode must be \"sync\" or \"async\"")
	}
	c := Checked{topK: defaultTopK}
	if q.TopK != nil {
		if *q.TopK < 1 || *q.TopK > maxTopK {
			return Checked{}, ragqueue.Errorf(ragqueue.EINVALID, "top_k must be from 1 to %d", maxTopK)
		}
		c.topK = *q.TopK
	}
	var err error
	if c.urls, err = QuestionURLs(q.Text, q.URLs, s.maxURLs); err != nil {
		return Checked{}, err
	}
	if q.Callback, err = jobs.CheckCallback(q.Callback, s.cfg.Signed); err != nil {
		return Checked{}, err
	}
	if err := CheckConversationID(q.ConversationID); err != nil {
		return Checked{}, err
	}
	if err := s.checkBudget(ctx, q.Tenant); err != nil {
		return Checked{}, err
	}
	c.q = q
	return c, nil
}

// checkBudget refuses a question of tenant, before a job is made, when the
// tenant's tokens for the day are spent (the worker checks again before
// each model call). A budget that cannot be read does not refuse.
func (s *Service) checkBudget(ctx context.Context, tenant string) error {
	if s.cfg.TokenBudget == nil {
		return nil
	}
	if err := s.cfg.TokenBudget.Allow(ctx, tenant); ragqueue.ErrorCode(err) == ragqueue.ERATELIMIT {
		return err
	}
	return nil
}

// Ask answers a checked question: from the answer cache when it may
// (fastPath), otherwise by a new query job for the workers. A job that
// cannot be recorded or enqueued is an EUNAVAILABLE error.
func (s *Service) Ask(ctx context.Context, c Checked) (Asked, error) {
	args, job, cached := s.fastPath(ctx, c)
	if cached {
		return Asked{Job: job, Cached: true}, nil
	}
	var opts []jobs.EnqueueOption
	if c.q.Callback != "" {
		opts = append(opts, jobs.WithCallback(c.q.Callback))
	}
	job, err := s.Enqueue(ctx, args, opts...)
	if err != nil {
		return Asked{}, jobs.Unavailable("the job queue", err)
	}
	return Asked{Job: job}, nil
}
