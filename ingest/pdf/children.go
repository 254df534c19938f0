package pdf

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
)

// This file starts the children of a parse and takes their records: one
// reader goroutine per child files its header, pages and status with the
// run.

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
