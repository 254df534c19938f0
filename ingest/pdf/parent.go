package pdf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
