package jobs

import (
	"context"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// RunMiniredisClock makes an in-process miniredis (embedded mode) expire keys
// with the wall clock, as a real Redis does. Left alone, miniredis ages TTLs
// only when FastForward is called, so Asynq's unique locks, server heartbeats
// and other TTL keys would never expire. It switches m to clock-driven TTLs
// (miniredis' ClockTTL, which ages them by the real time elapsed whenever a
// command touches the data: exact, and with no ticker), blocks until ctx
// ends, then switches back. tick is ignored: it is kept from the ticker-based
// design so that callers need not change.
func RunMiniredisClock(ctx context.Context, m *miniredis.Miniredis, tick time.Duration) {
	_ = tick
	m.ClockTTL(true)
	<-ctx.Done()
	m.ClockTTL(false)
}
