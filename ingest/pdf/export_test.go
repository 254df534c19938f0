package pdf

import (
	"os"
	"time"
)

// ChildStats is what tests learn about a PDF child that exited.
type ChildStats struct {
	Index  int
	MaxRSS int64         // peak resident set, bytes
	CPU    time.Duration // user + system time
	Exit   *os.ProcessState
}

// ObserveChildren has p report each child that exits to fn (which must
// be safe for concurrent use).
func ObserveChildren(p *Parser, fn func(ChildStats)) {
	p.observe = func(s childStats) {
		var cpu time.Duration
		if s.State != nil {
			cpu = s.State.UserTime() + s.State.SystemTime()
		}
		fn(ChildStats{Index: s.Index, MaxRSS: s.MaxRSS, CPU: cpu, Exit: s.State})
	}
}

// RaceAddressFactor is how much more address space children get under
// the race detector (1 without it).
const RaceAddressFactor = raceAddressFactor
