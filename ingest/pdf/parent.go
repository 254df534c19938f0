package pdf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragqueue/ragqueue"
)

// maxAheadBytes bounds the text the parent holds for pages that arrived
// before the page it delivers next (from children ahead in the document).
// A child whose pages would go past it waits: the pipe fills and its
// writes block.
const maxAheadBytes = 16 << 20

// childWaitDelay is how long Wait waits for a killed child's pipes.
const childWaitDelay = 2 * time.Second

// childStats describes one child that exited, for tests and benchmarks.
type childStats struct {
	Index  int
	MaxRSS int64 // peak resident set, bytes
	State  *os.ProcessState
}

// parseRun is one Parse: its children and the pages they have sent.
type parseRun struct {
	p      *Parser
	ctx    context.Context // ctx of the caller
	runCtx context.Context // ctx with the Timeout; children die with it
	f      *os.File
	size   int64

	mu       sync.Mutex
	cond     *sync.Cond
	children []*child
	ranges   []pageRange
	header   *header
	next     int   // the page to deliver next
	ahead    int64 // bytes of queued pages
	total    int64 // bytes of text received
	failed   error // the first failure; ends the run
}

// child is one child process and what it has sent.
type child struct {
	index  int
	cmd    *exec.Cmd
	stderr *headTail
	pages  int // the page count its header gave
	queue  []receivedPage
	status *status
	done   bool // its records are read and the process has exited
}

// receivedPage is one page's text as received.
type receivedPage struct {
	n    int
	text string
}

// run parses f, delivering pages in order to onPage; it returns the header.
func (p *Parser) run(ctx context.Context, f *os.File, onPage func(int, string) error) (header, error) {
	if err := childSupported(); err != nil {
		return header{}, err
	}
	if f == nil {
		return header{}, errors.New("ingest: pdf: no file")
	}
	fi, err := f.Stat()
	if err != nil {
		return header{}, fmt.Errorf("ingest: pdf: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return header{}, fmt.Errorf("ingest: pdf: %s is not a regular file", fi.Name())
	}
	if fi.Size() == 0 {
		return header{}, ragqueue.Errorf(ragqueue.EINVALID, "the PDF is empty")
	}
	if err := ctx.Err(); err != nil {
		return header{}, fmt.Errorf("ingest: pdf: %w", err)
	}

	runCtx, cancel := context.WithTimeout(ctx, p.limits.Timeout)
	defer cancel()
	r := &parseRun{p: p, ctx: ctx, runCtx: runCtx, f: f, size: fi.Size(), next: 1}
	r.cond = sync.NewCond(&r.mu)
	stop := context.AfterFunc(runCtx, func() {
		r.mu.Lock()
		r.fail(r.contextError())
		r.mu.Unlock()
	})
	defer stop()

	err = r.deliver(onPage)
	if err != nil {
		cancel() // kills the children
	}
	r.waitChildren()
	if err != nil {
		return header{}, err
	}
	if err := r.result(); err != nil {
		return header{}, err
	}
	return *r.header, nil
}

// preStartBytes is the file size from which all children start at once:
// each walks the page tree itself, so starting the others only after the
// first has counted the pages would leave them idle that long. Smaller
// files (likely few pages) wait, so as not to start children for nothing.
const preStartBytes = 512 << 10

// deliver starts the children and hands pages to onPage in order.
func (r *parseRun) deliver(onPage func(int, string) error) error {
	par := r.p.limits.Parallelism
	early := 1
	if par > 1 && r.size >= preStartBytes {
		early = par
	}
	for i := range early {
		if err := r.start(i, 0); err != nil {
			return r.failStart(err)
		}
	}
	r.mu.Lock()
	for r.header == nil && r.failed == nil {
		r.cond.Wait()
	}
	if r.failed != nil {
		err := r.failed
		r.mu.Unlock()
		return err
	}
	n := r.header.Pages
	children := effectiveParallelism(n, par)
	r.ranges = pageRanges(n, children)
	r.cond.Broadcast()
	r.mu.Unlock()

	for i := early; i < children; i++ {
		if err := r.start(i, n); err != nil {
			return r.failStart(err)
		}
	}

	for {
		r.mu.Lock()
		pg, err := r.nextPage(n)
		r.mu.Unlock()
		if err != nil || pg.n == 0 {
			return err
		}
		if err := onPage(pg.n, pg.text); err != nil {
			r.mu.Lock()
			r.fail(err)
			r.mu.Unlock()
			return err
		}
	}
}

// failStart records a child that could not start and returns the error.
func (r *parseRun) failStart(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail(err)
	return r.failed
}

// nextPage waits for the page to deliver next; pg.n is 0 after the last.
// r.mu is held.
func (r *parseRun) nextPage(n int) (receivedPage, error) {
	for {
		if r.failed != nil {
			return receivedPage{}, r.failed
		}
		if r.next > n {
			return receivedPage{}, nil
		}
		c := r.owner(r.next)
		if c == nil {
			r.fail(fmt.Errorf("ingest: pdf: no child parses page %d", r.next))
			continue
		}
		if len(c.queue) > 0 {
			pg := c.queue[0]
			c.queue[0] = receivedPage{}
			c.queue = c.queue[1:]
			r.ahead -= int64(len(pg.text))
			if pg.n != r.next {
				r.fail(fmt.Errorf("ingest: pdf: child %d sent page %d, want page %d", c.index, pg.n, r.next))
				continue
			}
			r.next++
			r.cond.Broadcast()
			return pg, nil
		}
		if c.done {
			r.fail(r.childFailure(c))
			continue
		}
		r.cond.Wait()
	}
}

// owner returns the child that parses page n. r.mu is held.
func (r *parseRun) owner(n int) *child {
	for _, rg := range r.ranges {
		if n >= rg.first && n <= rg.last {
			if rg.owner < len(r.children) {
				return r.children[rg.owner]
			}
			return nil
		}
	}
	return nil
}

// fail records the run's first failure and wakes everyone. r.mu is held.
func (r *parseRun) fail(err error) {
	if r.failed == nil {
		r.failed = err
	}
	r.cond.Broadcast()
}

// contextError is the failure when runCtx ends: the caller's cancellation
// (a plain error) or the Timeout (an input error).
func (r *parseRun) contextError() error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("ingest: pdf: %w", err)
	}
	return errTookTooLong(r.p.limits.Timeout)
}

// start starts child index; pages is the page count, or 0 when the child
// starts before it is known.
func (r *parseRun) start(index, pages int) error {
	lim := r.p.limits
	args, err := json.Marshal(childArgs{
		Index: index, Parallelism: lim.Parallelism, Pages: pages, Size: r.size,
		MemoryBytes: lim.MemoryBytes, CPUSeconds: lim.CPUSeconds,
		MaxTextBytes: lim.MaxTextBytes, MaxPages: lim.MaxPages,
	})
	if err != nil {
		return fmt.Errorf("ingest: pdf: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("ingest: pdf: start child: %w", err)
	}
	cmd := exec.CommandContext(r.runCtx, r.p.exe)
	// A minimal environment: the child parses hostile input and needs none
	// of the worker's settings or secrets.
	cmd.Env = []string{childEnv + "=1", argsEnv + "=" + string(args),
		// Children share the machine's cores; each parses on one goroutine.
		"GOMAXPROCS=" + strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/lim.Parallelism))}
	cmd.ExtraFiles = []*os.File{r.f, pw} // fds 3 and 4: pdfFD, recordFD
	c := &child{index: index, cmd: cmd, stderr: &headTail{}}
	cmd.Stderr = c.stderr // stdout stays /dev/null
	cmd.SysProcAttr = childSysProcAttr()
	cmd.Cancel = func() error { return killChild(cmd) }
	cmd.WaitDelay = childWaitDelay
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		if r.runCtx.Err() != nil {
			return r.contextError()
		}
		return fmt.Errorf("ingest: pdf: start child: %w", err)
	}
	r.mu.Lock()
	r.children = append(r.children, c)
	r.mu.Unlock()
	go r.read(c, pr)
	return nil
}

// read takes a child's records until its pipe closes, then waits for it.
func (r *parseRun) read(c *child, pr *os.File) {
	defer func() {
		pr.Close()
		_ = c.cmd.Wait()
		if obs := r.p.observe; obs != nil {
			obs(childStats{Index: c.index, MaxRSS: maxRSS(c.cmd.ProcessState), State: c.cmd.ProcessState})
		}
		r.mu.Lock()
		c.done = true
		if c.status == nil || c.status.Code != "" {
			r.fail(r.childFailure(c))
		}
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	br := bufio.NewReaderSize(pr, 64<<10)
	for {
		kind, page, payload, err := readRecord(br, r.p.limits.MaxTextBytes)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.mu.Lock()
				r.fail(fmt.Errorf("ingest: pdf: read from child %d: %w", c.index, err))
				r.mu.Unlock()
			}
			return
		}
		r.mu.Lock()
		ok := r.accept(c, kind, page, payload)
		r.mu.Unlock()
		if !ok {
			return
		}
	}
}

// accept files one record from c; it reports whether to keep reading.
// r.mu is held.
func (r *parseRun) accept(c *child, kind byte, page int, payload string) bool {
	defer r.cond.Broadcast()
	switch kind {
	case recHeader:
		var h header
		if err := json.Unmarshal([]byte(payload), &h); err != nil || h.Pages <= 0 {
			r.fail(fmt.Errorf("ingest: pdf: child %d sent a bad header", c.index))
			return false
		}
		c.pages = h.Pages
		if c.index == 0 {
			r.header = &h
		}
		// Children that started early counted the pages themselves.
		for _, o := range r.children {
			if r.header != nil && o.pages != 0 && o.pages != r.header.Pages {
				r.fail(fmt.Errorf("ingest: pdf: child %d found %d pages, child 0 found %d", o.index, o.pages, r.header.Pages))
				return false
			}
		}
	case recStatus:
		var st status
		if err := json.Unmarshal([]byte(payload), &st); err != nil {
			r.fail(fmt.Errorf("ingest: pdf: child %d sent a bad status", c.index))
			return false
		}
		c.status = &st
		if st.Code != "" {
			r.fail(r.childFailure(c))
		}
	case recPage:
		// Hold pages ahead of the one needed next only within the budget;
		// the owner of the next page is never held back.
		for r.failed == nil && r.ahead > min(maxAheadBytes, r.p.limits.MaxTextBytes) && r.owner(r.next) != c {
			r.cond.Wait()
		}
		if r.failed != nil {
			return false
		}
		r.total += int64(len(payload))
		if r.total > r.p.limits.MaxTextBytes {
			r.fail(errTextLimit(r.p.limits.MaxTextBytes))
			return false
		}
		r.ahead += int64(len(payload))
		c.queue = append(c.queue, receivedPage{n: page, text: payload})
	}
	return true
}

// waitChildren waits until every started child has exited.
func (r *parseRun) waitChildren() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		all := true
		for _, c := range r.children {
			all = all && c.done
		}
		if all {
			return
		}
		r.cond.Wait()
	}
}

// result is the outcome once every page was delivered and every child
// exited: the first failure, or an error when no page could be read.
func (r *parseRun) result() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return r.failed
	}
	skipped, reason := 0, ""
	for _, c := range r.children {
		if c.status == nil {
			return r.childFailure(c)
		}
		skipped += c.status.Skipped
		if reason == "" || c.index == 0 && c.status.Reason != "" {
			reason = c.status.Reason
		}
	}
	if r.header != nil && skipped >= r.header.Pages {
		return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: no page could be read (%s)", reason)
	}
	return nil
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
