package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/storage/redis"
)

// taskCanceler stops queued and running tasks. *asynq.Inspector is one.
type taskCanceler interface {
	CancelProcessing(id string) error
	DeleteTask(queue, id string) error
}

var _ taskCanceler = (*asynq.Inspector)(nil)

// eventSettle is how long a finished job's record must have been final
// before a stream that lacks the job's outcome is completed from the record:
// the worker publishes the outcome just after recording it.
const eventSettle = 2 * time.Second

// cancelTimeout bounds the cancellation of a job whose client went away.
const cancelTimeout = 5 * time.Second

// jobEvents relays a job's events as Server-Sent Events, from after the
// Last-Event-ID header (or ?last_event_id=) when given.
func (s *server) jobEvents(c *gin.Context) {
	ctx := c.Request.Context()
	job, err := s.jobs.GetJob(ctx, tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	lastID := c.GetHeader("Last-Event-ID")
	if lastID == "" {
		lastID = c.Query("last_event_id")
	}
	if lastID != "" && !redis.ValidStreamID(lastID) {
		s.fail(c, invalid("Last-Event-ID %q is not an event id this server sent", lastID))
		return
	}
	s.relaySSE(c, tenant(c), job.ID, lastID, false)
}

// relaySSE streams a job's events to the client as SSE until the done event
// or the client leaves. With cancelOnLeave, a client that leaves first
// cancels the job (it started the query and nobody else waits for it).
func (s *server) relaySSE(c *gin.Context, tenant, jobID, lastID string, cancelOnLeave bool) {
	ctx, stop := s.streamContext(c.Request.Context())
	defer stop()
	w := startSSE(c)
	finished, err := s.follow(ctx, tenant, jobID, lastID, func(e redis.StreamEntry) error {
		return w.event(e.ID, e.Event.Type, e.Event.Data)
	}, func() error { return w.comment("ping") })
	if err != nil && ctx.Err() == nil {
		// The stream has started: an error can only be told as an event.
		s.logger.WarnContext(ctx, "relay job events", "job_id", jobID, "error", err)
		_ = w.event(lastIDOr(lastID), ragqueue.EventError, mustJSON(ragqueue.ErrorEvent{Error: "the event stream failed; reconnect with Last-Event-ID"}))
	}
	// The client left, unless the stream ended because the server shuts
	// down: then the query runs on and the client can resume elsewhere.
	if !finished && cancelOnLeave && c.Request.Context().Err() != nil && s.streamsDown.Context().Err() == nil {
		s.cancelQuery(tenant, jobID)
	}
}

// follow hands a job's events after lastID to emit, calling beat when
// nothing happened for a heartbeat interval, until the done event (finished
// is true), ctx ends, or emit or beat fail. A job that finished without a
// stream (its events expired, or it predates them) gets events made from
// its record: the result or error, then done.
func (s *server) follow(ctx context.Context, tenant, jobID, lastID string, emit func(redis.StreamEntry) error, beat func() error) (finished bool, err error) {
	sub, err := s.events.Subscribe(ctx, tenant, jobID, lastID)
	if err != nil {
		return false, err
	}
	defer sub.Close()
	lastID = lastIDOr(lastID)
	// The record is first consulted as soon as the backlog is read, so
	// that a job without a stream is told at once; then at each heartbeat.
	backlogRead := false
	for {
		wait := s.cfg.SSEHeartbeat
		if !backlogRead {
			wait = time.Millisecond
		}
		entries, err := sub.Next(ctx, wait)
		if err != nil {
			return false, err
		}
		for _, e := range entries {
			if err := emit(e); err != nil {
				return false, err
			}
			lastID = e.ID
			if e.Event.Type == ragqueue.EventDone {
				return true, nil
			}
		}
		if len(entries) > 0 {
			continue
		}
		if backlogRead {
			if err := beat(); err != nil {
				return false, err
			}
		}
		backlogRead = true
		if done, err := s.finishFromRecord(ctx, tenant, jobID, lastID, emit); done || err != nil {
			return done, err
		}
	}
}

// finishFromRecord ends a stream from the job record when the job finished
// a while ago and the stream never got its outcome: its events expired, it
// predates them, or whatever ended it (a restart failing interrupted
// queries, a lost publish) wrote only the record. lastID is the last event
// the client has, "0-0" for none.
func (s *server) finishFromRecord(ctx context.Context, tenant, jobID, lastID string, emit func(redis.StreamEntry) error) (bool, error) {
	job, err := s.jobs.GetJob(ctx, tenant, jobID)
	if err != nil {
		// The stream goes on (heartbeats, new events); the record is tried
		// again at the next check.
		s.logger.WarnContext(ctx, "read the job record of an event stream", "tenant", tenant, "job_id", jobID, "error", err)
		return false, nil
	}
	if !job.State.Terminal() || time.Since(job.UpdatedAt) < eventSettle {
		return false, nil
	}
	exists, err := s.events.Exists(ctx, tenant, jobID)
	if err != nil {
		return false, err
	}
	// Made-up events get IDs right after the last one the client has (or,
	// without a stream, below any real entry's), so that resuming from one
	// of them works.
	ms, seq := splitID(lastID)
	if !exists {
		ms, seq = 0, 0
	}
	for i, ev := range recordEvents(job) {
		id := strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+uint64(i)+1, 10)
		if !afterID(id, lastID) {
			continue
		}
		if err := emit(redis.StreamEntry{ID: id, Event: ev}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// recordEvents are the events a finished job's record stands for.
func recordEvents(job ragqueue.Job) []ragqueue.Event {
	u := ragqueue.JobUpdate{State: &job.State, Result: job.Result}
	if job.Error != "" {
		u.Error = &job.Error
	}
	return jobs.UpdateEvents(u)
}

// afterID reports whether stream ID a comes after b ("ms-seq" IDs).
func afterID(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am > bm || (am == bm && as > bs)
}

func splitID(id string) (uint64, uint64) {
	msText, seqText, ok := strings.Cut(id, "-")
	if !ok {
		return 0, 0
	}
	ms, _ := strconv.ParseUint(msText, 10, 64)
	seq, _ := strconv.ParseUint(seqText, 10, 64)
	return ms, seq
}

func lastIDOr(id string) string {
	if id == "" {
		return "0-0"
	}
	return id
}

// cancelQuery cancels a query job whose streaming client went away: the
// record says canceled (and its followers are told), a queued task is
// deleted and a running one is cancelled, which cancels the provider call.
func (s *server) cancelQuery(tenant, jobID string) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
	defer cancel()
	job, err := s.jobs.GetJob(ctx, tenant, jobID)
	if err != nil || job.State.Terminal() {
		return
	}
	st, msg := ragqueue.StateCanceled, "canceled: the client that started the query disconnected"
	u := ragqueue.JobUpdate{State: &st, Error: &msg}
	if err := s.jobs.UpdateJob(ctx, tenant, jobID, u); err != nil {
		s.logger.WarnContext(ctx, "cancel query job", "job_id", jobID, "error", err)
		return
	}
	jobs.PublishUpdate(ctx, s.events, s.logger, tenant, jobID, u)
	if s.tasks == nil {
		return
	}
	if err := s.tasks.DeleteTask(jobs.QueueQueries, jobID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		s.logger.DebugContext(ctx, "delete canceled query task", "job_id", jobID, "error", err)
	}
	if err := s.tasks.CancelProcessing(jobID); err != nil {
		s.logger.WarnContext(ctx, "cancel query task", "job_id", jobID, "error", err)
	}
	s.logger.InfoContext(ctx, "query canceled: its streaming client went away", "job_id", jobID, "tenant", tenant)
}

// mustJSON encodes plain structs, where an error is a bug.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(ragqueue.Errorf(ragqueue.EINTERNAL, "encode %T: %v", v, err))
	}
	return b
}
