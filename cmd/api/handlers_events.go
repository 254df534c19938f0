package main

import (
	"encoding/json"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// jobEvents relays a job's events as Server-Sent Events, from after the
// Last-Event-ID header (or ?last_event_id=) when given.
func (s *server) jobEvents(c *gin.Context) {
	ctx := c.Request.Context()
	job, err := s.jobs.Job(ctx, tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	lastID := c.GetHeader("Last-Event-ID")
	if lastID == "" {
		lastID = c.Query("last_event_id")
	}
	if lastID != "" && !ragqueue.ValidEventID(lastID) {
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
	finished, err := s.feed.Follow(ctx, tenant, jobID, lastID, func(e ragqueue.EventEntry) error {
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
		s.queries.Cancel(c.Request.Context(), tenant, jobID)
	}
}

// lastIDOr is the last event ID of a client that sent id:
// ragqueue.EventIDStart for none.
func lastIDOr(id string) string {
	if id == "" {
		return ragqueue.EventIDStart
	}
	return id
}

// mustJSON encodes plain structs, where an error is a bug.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(ragqueue.Errorf(ragqueue.EINTERNAL, "encode %T: %v", v, err))
	}
	return b
}
