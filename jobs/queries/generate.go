package queries

import (
	"context"

	"github.com/ragqueue/ragqueue"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// generate has the generator answer, publishing the answer's text as token
// events while it is written (when the generator streams; otherwise the
// whole text as one token) and then one citation event per citation. The
// result and done events follow when the outcome is recorded (Tracker).
func (s *Service) generate(ctx context.Context, a jobs.QueryArgs, question string, passages []retrieval.Passage) (retrieval.Answer, error) {
	if !s.cfg.Tracker.Following() {
		return s.cfg.Generator.Generate(ctx, question, passages)
	}
	var (
		answer retrieval.Answer
		err    error
	)
	streamed := false
	sg, streaming := s.cfg.Generator.(retrieval.StreamingGenerator)
	if streaming {
		answer, err = sg.GenerateStream(ctx, question, passages, func(tok string) error {
			if tok == "" {
				return nil
			}
			streamed = true
			// A failed publish loses followers some text; the record keeps the answer.
			s.cfg.Tracker.Publish(ctx, a.Tenant, a.JobID, jobs.NewEvent(ragqueue.EventToken, ragqueue.TokenEvent{Text: tok}))
			return nil
		})
	} else {
		answer, err = s.cfg.Generator.Generate(ctx, question, passages)
	}
	if err != nil && streamed {
		// Followers have part of an answer: running the job again would
		// start another one under it. The job fails with the provider's
		// message instead; asking again is the client's choice.
		return answer, jobs.Permanent(err)
	} else if err != nil {
		return answer, err
	}
	text := answer.Text
	if streaming {
		text = "" // published token by token
	}
	s.publishAnswer(ctx, a, text, answer.Citations)
	return answer, nil
}

// publishAnswer publishes text as one token event (none when it is empty,
// as when it was streamed), then one citation event per citation.
func (s *Service) publishAnswer(ctx context.Context, a jobs.QueryArgs, text string, citations []ragqueue.Citation) {
	if text != "" {
		s.cfg.Tracker.Publish(ctx, a.Tenant, a.JobID, jobs.NewEvent(ragqueue.EventToken, ragqueue.TokenEvent{Text: text}))
	}
	for _, c := range citations {
		s.cfg.Tracker.Publish(ctx, a.Tenant, a.JobID, jobs.NewEvent(ragqueue.EventCitation, c))
	}
}

// queryCanceled reports whether the query's job was canceled (a streaming
// client went away): such a job is neither run nor retried.
func (s *Service) queryCanceled(ctx context.Context, a jobs.QueryArgs) bool {
	job, err := s.cfg.Tracker.Get(ctx, a.Tenant, a.JobID)
	return err == nil && job.State == ragqueue.StateCanceled
}
