package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/ragqueue/ragqueue"
)

// Defaults for FeedOptions.
const (
	DefaultFeedHeartbeat = 15 * time.Second
	// DefaultFeedSettle is how long a finished job's record must have been
	// final before a stream that lacks the job's outcome is completed from
	// the record: the worker publishes the outcome just after recording it.
	DefaultFeedSettle = 2 * time.Second
)

// EventSource holds jobs' event streams (storage/redis.Streams, through a
// small adapter in cmd/internal/app).
type EventSource interface {
	// Subscribe reads the job's stream after lastID (ragqueue.EventIDStart:
	// from the beginning); a stream that does not exist yet is no error.
	Subscribe(ctx context.Context, tenant, jobID, lastID string) (Subscription, error)
	// Exists reports whether the job has a stream whose events have not
	// expired.
	Exists(ctx context.Context, tenant, jobID string) (bool, error)
}

// Subscription reads one job's stream, in order, up to its done event.
type Subscription interface {
	// Next returns the next entries, waiting up to wait for some; none and
	// no error when wait passes.
	Next(ctx context.Context, wait time.Duration) ([]ragqueue.EventEntry, error)
	Close()
}

// FeedOptions tune a Feed. Zero values mean the defaults.
type FeedOptions struct {
	// Heartbeat is how long a follower waits for an event before it is
	// given a heartbeat (and the job record is checked again).
	Heartbeat time.Duration
	// Settle is how long a job must have been final before its record
	// stands in for the events its stream lacks.
	Settle time.Duration
	// Logger receives failures to read the job record; nil discards.
	Logger *slog.Logger
}

// Feed replays and follows jobs' events for any face that streams them
// (SSE, WebSocket): the stream's entries after the client's last one, and
// for a job that finished without its outcome in the stream, events made
// from its record.
type Feed struct {
	events EventSource
	jobs   ragqueue.JobStore
	opts   FeedOptions
	logger *slog.Logger
}

// NewFeed returns a Feed over the job streams in events and the records in
// store.
func NewFeed(events EventSource, store ragqueue.JobStore, opts FeedOptions) *Feed {
	if events == nil || store == nil {
		panic("jobs: NewFeed needs an event source and a job store")
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultFeedHeartbeat
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultFeedSettle
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Feed{events: events, jobs: store, opts: opts, logger: logger}
}

// Follow hands a job's events after lastID ("" for all) to emit, calling
// beat when nothing happened for a heartbeat interval, until the done event
// (finished is true), ctx ends, or emit or beat fail. A job that finished
// without a stream (its events expired, or it predates them) gets events
// made from its record: the result or error, then done.
func (f *Feed) Follow(ctx context.Context, tenant, jobID, lastID string, emit func(ragqueue.EventEntry) error, beat func() error) (finished bool, err error) {
	sub, err := f.events.Subscribe(ctx, tenant, jobID, lastID)
	if err != nil {
		return false, err
	}
	defer sub.Close()
	if lastID == "" {
		lastID = ragqueue.EventIDStart
	}
	// The record is first consulted as soon as the backlog is read, so
	// that a job without a stream is told at once; then at each heartbeat.
	backlogRead := false
	for {
		wait := f.opts.Heartbeat
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
		if done, err := f.finishFromRecord(ctx, tenant, jobID, lastID, emit); done || err != nil {
			return done, err
		}
	}
}

// finishFromRecord ends a stream from the job record when the job finished
// a while ago and the stream never got its outcome: its events expired, it
// predates them, or whatever ended it (a restart failing interrupted
// queries, a lost publish) wrote only the record. lastID is the last event
// the client has, ragqueue.EventIDStart for none.
func (f *Feed) finishFromRecord(ctx context.Context, tenant, jobID, lastID string, emit func(ragqueue.EventEntry) error) (bool, error) {
	job, err := f.jobs.GetJob(ctx, tenant, jobID)
	if err != nil {
		// The stream goes on (heartbeats, new events); the record is tried
		// again at the next check.
		f.logger.WarnContext(ctx, "read the job record of an event stream", "tenant", tenant, "job_id", jobID, "error", err)
		return false, nil
	}
	if !job.State.Terminal() || time.Since(job.UpdatedAt) < f.opts.Settle {
		return false, nil
	}
	exists, err := f.events.Exists(ctx, tenant, jobID)
	if err != nil {
		return false, err
	}
	// Made-up events get IDs right after the last one the client has (or,
	// without a stream, below any real entry's), so that resuming from one
	// of them works.
	base := lastID
	if !exists {
		base = ragqueue.EventIDStart
	}
	evs := recordEvents(job)
	for i, id := range ragqueue.NextEventIDs(base, len(evs)) {
		if !ragqueue.EventIDAfter(id, lastID) {
			continue
		}
		if err := emit(ragqueue.EventEntry{ID: id, Event: evs[i]}); err != nil {
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
	return UpdateEvents(u)
}
