package pdf

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// This file says why a parse failed: the input errors that parent and
// child share, and how a child that died without a status died (out of
// memory, out of CPU time, a crash), told from its exit and its stderr.

// errTookTooLong is the error for a parse past its time limit.
func errTookTooLong(d time.Duration) error {
	return ragqueue.Errorf(ragqueue.ETOOLARGE, "PDF parsing took longer than %s", d)
}

// errParseLimit is the error for a parse past its memory limit.
func errParseLimit(limit int64) error {
	return ragqueue.Errorf(ragqueue.ETOOLARGE, "PDF exceeds the %s parse limit", ingest.FormatBytes(limit))
}

// errTextLimit is the error for text past MaxTextBytes.
func errTextLimit(limit int64) error {
	return ragqueue.Errorf(ragqueue.ETOOLARGE, "the PDF's text exceeds the %s limit", ingest.FormatBytes(limit))
}

// childFailure explains why child c ended without success: the error it
// reported, or what its exit and stderr say. r.mu is held.
func (r *parseRun) childFailure(c *child) error {
	if st := c.status; st != nil && st.Code != "" {
		if st.Code == statusInternal {
			return fmt.Errorf("ingest: pdf: child %d: %s", c.index, st.Message)
		}
		return &ragqueue.Error{Code: st.Code, Message: st.Message}
	}
	if r.runCtx.Err() != nil {
		return r.contextError()
	}
	if !c.done {
		return fmt.Errorf("ingest: pdf: child %d stopped sending", c.index)
	}
	return classifyCrash(c.cmd.ProcessState, c.stderr.String(), r.p.limits)
}

// classifyCrash maps a child that died without a status to an error.
func classifyCrash(ps *os.ProcessState, stderr string, lim Limits) error {
	ctxInfo := fmt.Sprintf("child %v; stderr: %q", ps, trimForLog(stderr))
	switch {
	case strings.Contains(stderr, "out of memory"), strings.Contains(stderr, "cannot allocate memory"),
		strings.Contains(stderr, "failed to create new OS thread"), strings.Contains(stderr, "runtime: cannot map pages"),
		// The race detector's runtime words it differently.
		strings.Contains(stderr, "failed to allocate"), strings.Contains(stderr, "address space collisions"):
		return fmt.Errorf("ingest: pdf: %s: %w", ctxInfo, errParseLimit(lim.MemoryBytes))
	case cpuExceeded(ps, lim), ps != nil && ps.ExitCode() == childExitCPU:
		return fmt.Errorf("ingest: pdf: %s: %w", ctxInfo, errTookTooLong(time.Duration(lim.CPUSeconds)*time.Second))
	case strings.Contains(stderr, "stack overflow"), strings.Contains(stderr, "stack exceeds"):
		return fmt.Errorf("ingest: pdf: %s: %w", ctxInfo,
			ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: it nests objects too deeply to parse"))
	case strings.Contains(stderr, "panic:"), strings.Contains(stderr, "fatal error:"), strings.Contains(stderr, "goroutine "):
		return fmt.Errorf("ingest: pdf: %s: %w", ctxInfo,
			ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: the parser crashed on it"))
	}
	return fmt.Errorf("ingest: pdf: %s", ctxInfo)
}

// trimForLog shortens stderr for an error's log context: its start holds
// the fatal error or panic and the first goroutine's top frames.
func trimForLog(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// headTail keeps the first and last few KiB written to it: enough of a
// child's stderr to recognise "fatal error: out of memory" or a panic and
// to log, without holding whatever else the child prints.
type headTail struct {
	head, tail []byte
	n          int64
}

// headTail sizes.
const (
	stderrHead = 2 << 10
	stderrTail = 6 << 10
)

// Write implements io.Writer.
func (h *headTail) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	q := p
	if room := stderrHead - len(h.head); room > 0 {
		k := min(room, len(q))
		h.head = append(h.head, q[:k]...)
		q = q[k:]
	}
	if len(q) > 0 {
		h.tail = append(h.tail, q...)
		if len(h.tail) > stderrTail {
			h.tail = append(h.tail[:0], h.tail[len(h.tail)-stderrTail:]...)
		}
	}
	return len(p), nil
}

// String returns what was kept, with a marker where bytes were dropped.
func (h *headTail) String() string {
	if int64(len(h.head)+len(h.tail)) < h.n {
		return string(h.head) + "\n…\n" + string(h.tail)
	}
	return string(h.head) + string(h.tail)
}
