package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// sseWriter writes Server-Sent Events to a response and flushes each one.
type sseWriter struct {
	w  io.Writer
	fl http.Flusher
}

// startSSE answers 200 with the event-stream headers and returns a writer.
func startSSE(c *gin.Context) *sseWriter {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	w := &sseWriter{w: c.Writer, fl: c.Writer}
	w.fl.Flush()
	return w
}

// event writes one event: its id, its type and its data on one line
// (JSON is compacted so that it holds no line breaks).
func (w *sseWriter) event(id, typ string, data []byte) error {
	if bytes.ContainsAny(data, "\r\n") {
		var buf bytes.Buffer
		if json.Compact(&buf, data) == nil {
			data = buf.Bytes()
		} else {
			data = []byte(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(string(data)))
		}
	}
	if len(data) == 0 {
		data = []byte("{}")
	}
	if _, err := fmt.Fprintf(w.w, "id: %s\nevent: %s\ndata: %s\n\n", id, typ, data); err != nil {
		return err
	}
	w.fl.Flush()
	return nil
}

// comment writes a comment line, which clients ignore: the heartbeat that
// keeps proxies from closing an idle stream.
func (w *sseWriter) comment(text string) error {
	if _, err := fmt.Fprintf(w.w, ": %s\n\n", text); err != nil {
		return err
	}
	w.fl.Flush()
	return nil
}

// wantsEventStream reports whether the client asked for Server-Sent Events.
func wantsEventStream(c *gin.Context) bool {
	for _, part := range strings.Split(c.GetHeader("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

// shutdownSignal tells long-lived streams that the server is shutting down,
// so that they end (clients reconnect elsewhere with Last-Event-ID) instead
// of holding http.Server.Shutdown until its timeout. The zero value is ready.
type shutdownSignal struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func (s *shutdownSignal) init() {
	s.once.Do(func() { s.ctx, s.cancel = context.WithCancel(context.Background()) })
}

// Context is done once the server shuts down.
func (s *shutdownSignal) Context() context.Context {
	s.init()
	return s.ctx
}

// Fire signals the shutdown; for http.Server.RegisterOnShutdown.
func (s *shutdownSignal) Fire() {
	s.init()
	s.cancel()
}

// streamContext is ctx, also ended by the server's shutdown. Call stop when
// done with it.
func (s *server) streamContext(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.streamsDown.Context(), cancel)
	return ctx, func() { unhook(); cancel() }
}
