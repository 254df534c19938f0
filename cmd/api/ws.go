package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/queries"
)

// WebSocket protocol (/v1/ws).
//
// Authentication is the API key, as everywhere: "Authorization: Bearer
// <key>" on the upgrade request, or, for browsers (which cannot set headers
// on a WebSocket), the subprotocols "ragqueue" and "bearer.<key>" (in JS:
// new WebSocket(url, ["ragqueue", "bearer." + key])). Keys never go in the
// URL, where logs and proxies would keep them.
//
// Client messages:
//
//	{"type":"query","question":"...","top_k":5,"urls":[...],"mode":"sync|async",
//	 "conversation_id":"...","cache":true,"callback_url":"..."}
//	{"type":"subscribe","job_id":"...","last_event_id":"..."}
//
// A query is checked as POST /v1/queries checks its body (queries.Check:
// the same fields, rules and messages; conversation_id keeps it in a
// conversation, "cache":false turns the answer cache off) and answered
// with {"type":"job","job_id":"..."} and then its events. The job always
// runs on a worker, which consults the answer cache, so that the events
// carry the answer. Job events are {"type":"token|citation|progress|result|error|done",
// "job_id":"...","id":"<stream entry id>","data":{...}}, as over SSE. A
// request the server refuses is answered with {"type":"error","job_id"?:...,
// "error":{"code":"...","message":"..."}} (no "id": it is not a job event).
// Closing the connection cancels the unfinished queries it started, unless
// they were sent with "mode":"async".

// Limits of one WebSocket connection.
const (
	wsMaxMessage     = 64 << 10
	wsMaxFollows     = 32
	wsWriteTimeout   = 10 * time.Second
	wsBearerProtocol = "bearer."
)

// wsMessage is a client's message.
type wsMessage struct {
	Type     string   `json:"type"`
	Question string   `json:"question"`
	TopK     *int     `json:"top_k"`
	URLs     []string `json:"urls"`
	Mode     string   `json:"mode"`
	// ConversationID and Cache are as in POST /v1/queries' body.
	ConversationID string `json:"conversation_id"`
	Cache          *bool  `json:"cache"`
	JobID          string `json:"job_id"`
	LastEventID    string `json:"last_event_id"`
	CallbackURL    string `json:"callback_url"`
}

// wsEvent is a job event as the server sends it.
type wsEvent struct {
	Type  string          `json:"type"`
	JobID string          `json:"job_id"`
	ID    string          `json:"id,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *errorDetail    `json:"error,omitempty"`
}

// wsKeyFromProtocol lets a browser send its API key as a "bearer.<key>"
// subprotocol: when the request has no Authorization header, it gets one.
func wsKeyFromProtocol() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader("Authorization") == "" {
			for _, h := range c.Request.Header.Values("Sec-WebSocket-Protocol") {
				for _, p := range strings.Split(h, ",") {
					if k, ok := strings.CutPrefix(strings.TrimSpace(p), wsBearerProtocol); ok && k != "" {
						c.Request.Header.Set("Authorization", "Bearer "+k)
					}
				}
			}
		}
		c.Next()
	}
}

// wsConn is one client's WebSocket and the jobs it follows.
type wsConn struct {
	s      *server
	conn   *websocket.Conn
	tenant string
	ctx    context.Context
	wg     sync.WaitGroup
	mu     sync.Mutex
	active int
}

// ws upgrades to a WebSocket carrying job events (see the protocol above).
func (s *server) ws(c *gin.Context) {
	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{
		Subprotocols: []string{"ragqueue"},
		// The API key authenticates, not cookies, so another site's page
		// cannot ride on a user's session: any origin may connect.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has answered the client
	}
	conn.SetReadLimit(wsMaxMessage)
	ctx, stop := s.streamContext(context.WithoutCancel(c.Request.Context()))
	w := &wsConn{s: s, conn: conn, tenant: tenant(c), ctx: ctx}
	defer func() {
		stop()
		w.wg.Wait()
		if s.streamsDown.Context().Err() != nil {
			_ = conn.Close(websocket.StatusGoingAway, "server shutting down; reconnect and subscribe with last_event_id")
			return
		}
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}()
	go w.heartbeat()
	for {
		var m wsMessage
		typ, raw, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText || json.Unmarshal(raw, &m) != nil {
			w.refuse("", invalid("messages are JSON objects with a \"type\": query or subscribe"))
			continue
		}
		w.handle(m)
	}
}

func (w *wsConn) handle(m wsMessage) {
	switch m.Type {
	case "query":
		w.query(m)
	case "subscribe":
		if m.LastEventID != "" && !ragqueue.ValidEventID(m.LastEventID) {
			w.refuse(m.JobID, invalid("last_event_id %q is not an event id this server sent", m.LastEventID))
			return
		}
		if _, err := w.s.jobs.Job(w.ctx, w.tenant, m.JobID); err != nil {
			w.refuse(m.JobID, err)
			return
		}
		if err := w.reserve(); err != nil {
			w.refuse(m.JobID, err)
			return
		}
		w.follow(m.JobID, m.LastEventID, false)
	default:
		w.refuse("", invalid("unknown message type %q: want query or subscribe", m.Type))
	}
}

// query asks a question (queries.Check, then Ask, as POST /v1/queries
// does) and follows its job, which is canceled if the connection closes
// first, unless it was sent with "mode":"async". A streaming face, it never
// takes the cache's fast path: the job's events carry the answer.
func (w *wsConn) query(m wsMessage) {
	checked, err := w.s.queries.Check(w.ctx, queries.Question{
		Tenant: w.tenant, Text: m.Question, TopK: m.TopK, URLs: m.URLs,
		ConversationID: m.ConversationID, NoCache: m.Cache != nil && !*m.Cache,
		Mode: m.Mode, Callback: m.CallbackURL, Streaming: true,
	})
	if err != nil {
		w.refuse("", err)
		return
	}
	if err := w.reserve(); err != nil {
		w.refuse("", err)
		return
	}
	asked, err := w.s.queries.Ask(w.ctx, checked)
	if err != nil {
		w.release()
		w.refuse("", err)
		return
	}
	if err := w.send(wsEvent{Type: "job", JobID: asked.Job.ID}); err != nil {
		w.release()
		return
	}
	w.follow(asked.Job.ID, "", m.Mode != "async")
}

// follow relays a job's events in the background. With cancelOnLeave, the
// job is canceled if the connection closes before it is done.
func (w *wsConn) follow(jobID, lastID string, cancelOnLeave bool) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.release()
		finished, err := w.s.feed.Follow(w.ctx, w.tenant, jobID, lastID, func(e ragqueue.EventEntry) error {
			return w.send(wsEvent{Type: e.Event.Type, JobID: jobID, ID: e.ID, Data: e.Event.Data})
		}, func() error { return nil })
		if err != nil && w.ctx.Err() == nil {
			w.s.logger.WarnContext(w.ctx, "relay job events over websocket", "job_id", jobID, "error", err)
			w.refuse(jobID, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "the event stream failed; subscribe again with last_event_id"))
		}
		if !finished && cancelOnLeave && w.ctx.Err() != nil && w.s.streamsDown.Context().Err() == nil {
			w.s.queries.Cancel(w.ctx, w.tenant, jobID)
		}
	}()
}

// reserve takes one of the connection's wsMaxFollows follows; release
// gives it back.
func (w *wsConn) reserve() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active >= wsMaxFollows {
		return ragqueue.Errorf(ragqueue.ERATELIMIT, "at most %d jobs may be followed on one connection", wsMaxFollows)
	}
	w.active++
	return nil
}

func (w *wsConn) release() {
	w.mu.Lock()
	w.active--
	w.mu.Unlock()
}

func (w *wsConn) send(ev wsEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(w.ctx, wsWriteTimeout)
	defer cancel()
	return w.conn.Write(ctx, websocket.MessageText, b)
}

// refuse tells the client a request failed.
func (w *wsConn) refuse(jobID string, err error) {
	err = normalize(err)
	code, _ := statusOf(err)
	_ = w.send(wsEvent{Type: "error", JobID: jobID, Error: &errorDetail{Code: code, Message: ragqueue.ErrorMessage(err)}})
}

// heartbeat pings the client every heartbeat interval so that idle
// connections survive proxies; a client that does not answer is dropped.
func (w *wsConn) heartbeat() {
	t := time.NewTicker(w.s.cfg.SSEHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(w.ctx, wsWriteTimeout+w.s.cfg.SSEHeartbeat)
			err := w.conn.Ping(ctx)
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				_ = w.conn.Close(websocket.StatusPolicyViolation, "no pong")
				return
			}
		}
	}
}
