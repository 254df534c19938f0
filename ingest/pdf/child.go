package pdf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// Child exit codes (the status record says more).
const (
	childExitOK    = 0
	childExitSetup = 2 // no arguments, no descriptors: not started by a Parser
	childExitCPU   = 3 // the CPU limit was reached
)

// childGCPercent is the child's GOGC.
const childGCPercent = 400

// maxChildStack bounds a goroutine's stack in the child, so that runaway
// recursion in the library dies quickly ("stack overflow") instead of
// growing to the runtime's 1 GB default.
const maxChildStack = 64 << 20

// childMain is ChildMain.
func childMain() int {
	var args childArgs
	if err := json.Unmarshal([]byte(os.Getenv(argsEnv)), &args); err != nil {
		fmt.Fprintln(os.Stderr, "ingest: pdf child: bad arguments:", err)
		return childExitSetup
	}
	in, out := os.NewFile(pdfFD, "pdf"), os.NewFile(recordFD, "records")
	if _, err := in.Stat(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest: pdf child: no PDF on fd 3:", err)
		return childExitSetup
	}
	if _, err := out.Stat(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest: pdf child: no record pipe on fd 4:", err)
		return childExitSetup
	}
	w := newRecordWriter(out)
	if err := applyChildLimits(args); err != nil {
		_ = w.writeJSON(recStatus, status{Code: statusInternal, Message: err.Error()})
		return childExitSetup
	}
	watchCPULimit(w, args)
	debug.SetMaxStack(maxChildStack)
	// A child lives for one document under a hard memory limit: collect
	// less often (about 10% less CPU on the R manuals) and let the soft
	// limit set by applyChildLimits rein the heap in when it grows.
	debug.SetGCPercent(childGCPercent)
	debug.SetPanicOnFault(true) // a fault reading the mapped file becomes a panic
	st := runChild(args, in, w)
	_ = w.writeJSON(recStatus, st)
	return childExitOK
}

// watchCPULimit writes a status and exits when the soft CPU limit's
// SIGXCPU arrives (Go ignores the signal unless asked).
func watchCPULimit(w *recordWriter, args childArgs) {
	ch := make(chan os.Signal, 1)
	if !notifyCPULimit(ch) {
		return
	}
	go func() {
		<-ch
		// The main goroutine may hold the writer, blocked on a full pipe;
		// then the exit code alone tells the parent.
		w.tryWriteJSON(recStatus, statusOf(errTookTooLong(time.Duration(args.CPUSeconds)*time.Second)))
		os.Exit(childExitCPU)
	}()
}

// statusOf turns an error into a status record.
func statusOf(err error) status {
	var e *ragqueue.Error
	if errors.As(err, &e) {
		return status{Code: e.Code, Message: e.Message}
	}
	return status{Code: statusInternal, Message: err.Error()}
}

// runChild parses the PDF on in and sends its records; it returns the
// final status.
func runChild(args childArgs, in *os.File, w *recordWriter) (st status) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, errReadBudget) {
				st = statusOf(ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: its objects refer to each other in a loop"))
				return
			}
			st = statusOf(ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: %s", panicReason(r)))
		}
	}()
	data, unmap, err := mapFile(in, args.Size)
	if err != nil {
		return statusOf(fmt.Errorf("ingest: pdf: read input: %w", err))
	}
	defer unmap()

	maxContent := args.MemoryBytes
	doc, err := openPDF(data, maxContent)
	if err != nil {
		return statusOf(err)
	}
	pages, declared, err := doc.pages(args.MaxPages)
	if err != nil {
		return statusOf(err)
	}
	if args.Pages > 0 && len(pages) != args.Pages {
		return statusOf(fmt.Errorf("ingest: pdf: child %d found %d pages, child 0 found %d", args.Index, len(pages), args.Pages))
	}
	if err := w.writeJSON(recHeader, header{Pages: len(pages), Declared: declared, Title: doc.title()}); err != nil {
		return statusOf(err)
	}

	budget := args.MaxTextBytes
	for _, rg := range pageRanges(len(pages), effectiveParallelism(len(pages), args.Parallelism)) {
		if rg.owner != args.Index {
			continue
		}
		for n := rg.first; n <= rg.last; n++ {
			text, err := doc.pageText(pages[n-1], int(min(budget, 1<<31-1)))
			switch {
			case errors.Is(err, errTextTooLarge):
				return statusOf(errTextLimit(args.MaxTextBytes))
			case errors.Is(err, errStreamTooLarge):
				return statusOf(ragqueue.Errorf(ragqueue.ETOOLARGE, "PDF exceeds the %s parse limit (the content of page %d inflates past it)",
					ingest.FormatBytes(args.MemoryBytes), n))
			case err != nil:
				st.Skipped++
				if st.Reason == "" {
					st.Reason = fmt.Sprintf("page %d: %s", n, shortReason(err.Error()))
				}
			}
			budget -= int64(len(text))
			if err := w.write(recPage, n, []byte(text)); err != nil {
				return statusOf(err) // the parent has gone
			}
		}
	}
	return st
}

// panicReason describes a recovered panic for a client message: the
// library's own parse errors say what is wrong; a runtime error says only
// that the library tripped over the file.
func panicReason(r any) string {
	if _, ok := r.(runtime.Error); ok {
		return "its structure could not be read"
	}
	return shortReason(fmt.Sprint(r))
}

// title returns the document's Info /Title, cleaned for display.
func (d *document) title() (t string) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, errReadBudget) {
				panic(r)
			}
			t = ""
		}
	}()
	return ingest.CleanLine(d.r.Trailer().Key("Info").Key("Title").Text(), ingest.MaxTitleRunes)
}
