package redis

import (
	"context"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// RunMiniredisClock makes an in-process miniredis (embedded mode) expire keys
// with the wall clock, as a real Redis does: left alone, miniredis ages TTLs
// only when FastForward is called, so Asynq's unique locks, leases, server
// heartbeats and other TTL keys would never expire. Every tick it fast-
// forwards by the real time elapsed, until ctx ends. tick must be positive.
//
// A ticker rather than miniredis' ClockTTL: ClockTTL fast-forwards on every
// command, and each fast-forward sorts all keys, which made embedded
// ingestion spend a third of its CPU sorting key names. TTLs are then exact
// to within one tick, which is all Asynq needs.
func RunMiniredisClock(ctx context.Context, m *miniredis.Miniredis, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.FastForward(now.Sub(last))
			last = now
		}
	}
}
