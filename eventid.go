package ragqueue

import (
	"strconv"
	"strings"
)

// EventIDStart is the ID before a job's first event: resuming after it
// replays every event the job's stream holds.
const EventIDStart = "0-0"

// EventEntry is one event of a job's stream with its ID. IDs are Redis
// stream entry IDs ("ms-seq"); SSE clients send the last one they got back
// in Last-Event-ID to resume after it.
type EventEntry struct {
	ID    string
	Event Event
}

// ValidEventID reports whether id is an event ID ("ms-seq", both decimal),
// as a client may send to resume a stream.
func ValidEventID(id string) bool {
	_, _, ok := parseEventID(id)
	return ok
}

// EventIDAfter reports whether event ID a comes after b. An ID that is not
// valid counts as its parts that parse (a missing part as 0).
func EventIDAfter(a, b string) bool {
	am, as, _ := parseEventID(a)
	bm, bs, _ := parseEventID(b)
	return am > bm || (am == bm && as > bs)
}

// NextEventIDs returns the n IDs right after last, in the same millisecond:
// "ms-(seq+1)" … "ms-(seq+n)". They name events made up for a stream that
// lacks them (a job finished without its outcome published), so that a
// client can resume after one of them.
func NextEventIDs(last string, n int) []string {
	ms, seq, _ := parseEventID(last)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+uint64(i)+1, 10)
	}
	return ids
}

// parseEventID splits an "ms-seq" ID; ok is false unless both parts parse.
func parseEventID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}
