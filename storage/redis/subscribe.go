package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ragqueue/ragqueue"

	goredis "github.com/redis/go-redis/v9"
)

// Subscription reads one job's stream from after a given entry: the
// backlog first, then new entries as they are published, until the
// terminal done event. It is for one goroutine; Close releases it.
type Subscription struct {
	s   *Streams
	key string
	// last is the ID of the last entry returned by Next.
	last string
	// done: the done event was returned; Next answers io.EOF.
	done bool

	// Guarded by s.mu: what the fan-out loop hands over.
	queue    []ragqueue.EventEntry
	catchUp  bool // read (last, +] from Redis before the queue
	signal   chan struct{}
	isClosed bool
}

// Subscribe starts reading the job's stream after lastID; "" or "0" reads
// it from the beginning. It never fails for a stream that does not exist
// (yet): entries are returned once they are published.
func (s *Streams) Subscribe(ctx context.Context, tenant, jobID, lastID string) (*Subscription, error) {
	if lastID == "" || lastID == "0" {
		lastID = ragqueue.EventIDStart
	}
	if !ragqueue.ValidEventID(lastID) {
		return nil, fmt.Errorf("redis: %q is not a stream entry ID", lastID)
	}
	sub := &Subscription{s: s, key: s.Key(tenant, jobID), last: lastID, signal: make(chan struct{}, 1)}
	// Registering before reading the backlog means nothing published in
	// between is missed; what is read twice is dropped by ID.
	if err := s.register(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// Next returns the next entries, waiting up to wait for some (wait ≤ 0:
// until there are some or ctx ends). It returns no entries and no error
// when wait passes; io.EOF after the done event has been returned.
func (sub *Subscription) Next(ctx context.Context, wait time.Duration) ([]ragqueue.EventEntry, error) {
	if sub.done {
		return nil, io.EOF
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		s := sub.s
		s.mu.Lock()
		if sub.isClosed {
			s.mu.Unlock()
			return nil, errClosed
		}
		catchUp := sub.catchUp
		sub.catchUp = false
		queued := sub.queue
		sub.queue = nil
		s.mu.Unlock()

		var got []ragqueue.EventEntry
		if catchUp {
			msgs, err := s.rdb.XRangeN(ctx, sub.key, "("+sub.last, "+", rangeBatch).Result()
			if err != nil {
				sub.putBack(queued)
				return nil, fmt.Errorf("redis: read %s: %w", sub.key, err)
			}
			for _, m := range msgs {
				got = sub.accept(got, entryOf(m))
			}
			if len(msgs) == rangeBatch {
				// There may be more before what the loop queued: read
				// those first, next time.
				sub.putBack(queued)
				return got, nil
			}
		}
		for _, e := range queued {
			got = sub.accept(got, e)
		}
		if len(got) > 0 || sub.done {
			return got, nil
		}
		select {
		case <-sub.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout:
			return nil, nil
		}
	}
}

// putBack returns what Next took from the loop but did not hand out, ahead
// of anything queued since, and has the next call catch up from Redis
// first.
func (sub *Subscription) putBack(queued []ragqueue.EventEntry) {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	sub.catchUp = true
	sub.queue = append(queued, sub.queue...)
}

// accept appends e unless it was already returned or comes after done.
func (sub *Subscription) accept(got []ragqueue.EventEntry, e ragqueue.EventEntry) []ragqueue.EventEntry {
	if sub.done || !ragqueue.EventIDAfter(e.ID, sub.last) {
		return got
	}
	sub.last = e.ID
	if e.Event.Type == ragqueue.EventDone {
		sub.done = true
	}
	return append(got, e)
}

// Close stops the subscription.
func (sub *Subscription) Close() {
	sub.s.unregister(sub)
}

// register adds sub to the fan-out loop, starting the loop if needed.
func (s *Streams) register(ctx context.Context, sub *Subscription) error {
	// A stream new to the loop is read from its current end: the
	// subscriber's catch-up, which comes after, covers the backlog.
	cursor := sub.last
	tail, err := s.rdb.XRevRangeN(ctx, sub.key, "+", "-", 1).Result()
	if err != nil {
		return fmt.Errorf("redis: read %s: %w", sub.key, err)
	} else if len(tail) == 1 && ragqueue.EventIDAfter(tail[0].ID, cursor) {
		cursor = tail[0].ID
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	// Catch-up reads (last, +] from Redis, which covers whatever lies
	// between last and the loop's cursor; entries read twice are dropped
	// by accept.
	sub.catchUp = true
	w := s.keys[sub.key]
	fresh := w == nil
	if fresh {
		w = &watched{cursor: cursor, subs: make(map[*Subscription]struct{})}
		s.keys[sub.key] = w
	}
	w.subs[sub] = struct{}{}
	start := !s.running
	s.running = true
	s.mu.Unlock()

	if start {
		s.loopWG.Add(1)
		go s.loop()
	}
	if fresh {
		s.wake(ctx)
	}
	return nil
}

func (s *Streams) unregister(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.isClosed = true
	sub.queue = nil
	if w := s.keys[sub.key]; w != nil {
		delete(w.subs, sub)
		if len(w.subs) == 0 {
			delete(s.keys, sub.key)
		}
	}
}

// wake makes the loop start a new XREAD that includes a newly added stream:
// locally when it is idle, through its wake stream when it is blocked.
func (s *Streams) wake(ctx context.Context) {
	select {
	case s.idle <- struct{}{}:
	default:
	}
	pipe := s.rdb.Pipeline()
	pipe.XAdd(ctx, &goredis.XAddArgs{Stream: s.wakeKey, MaxLen: 16, Approx: true, Values: []any{"w", "1"}})
	pipe.Expire(ctx, s.wakeKey, time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		s.logger.WarnContext(ctx, "wake event loop", "error", err)
	}
}

// loop reads every watched stream in one XREAD BLOCK and hands the entries
// to their subscribers, until Close.
func (s *Streams) loop() {
	defer s.loopWG.Done()
	ctx := s.stopCtx
	wakeCursor := "0-0"
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		s.mu.Lock()
		streams := make([]string, 0, 2*len(s.keys)+2)
		ids := make([]string, 0, len(s.keys)+1)
		for k, w := range s.keys {
			streams = append(streams, k)
			ids = append(ids, w.cursor)
		}
		s.mu.Unlock()
		if len(ids) == 0 {
			select {
			case <-s.idle:
			case <-ctx.Done():
			}
			continue
		}
		streams = append(streams, s.wakeKey)
		ids = append(ids, wakeCursor)
		res, err := s.rdb.XRead(ctx, &goredis.XReadArgs{Streams: append(streams, ids...), Count: rangeBatch, Block: s.opts.Block}).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		} else if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.logger.Warn("read event streams", "error", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff = min(2*backoff, 2*time.Second)
			// Subscribers catch up from Redis once it answers again.
			s.mu.Lock()
			for _, w := range s.keys {
				for sub := range w.subs {
					sub.catchUp = true
					sub.notify()
				}
			}
			s.mu.Unlock()
			continue
		}
		backoff = 50 * time.Millisecond
		s.deliver(res, &wakeCursor)
	}
}

// deliver hands what one XREAD returned to the subscribers.
func (s *Streams) deliver(res []goredis.XStream, wakeCursor *string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range res {
		if len(st.Messages) == 0 {
			continue
		}
		lastID := st.Messages[len(st.Messages)-1].ID
		if st.Stream == s.wakeKey {
			*wakeCursor = lastID
			continue
		}
		w := s.keys[st.Stream]
		if w == nil {
			continue // its last subscriber left meanwhile
		}
		if ragqueue.EventIDAfter(lastID, w.cursor) {
			w.cursor = lastID
		}
		entries := make([]ragqueue.EventEntry, len(st.Messages))
		for i, m := range st.Messages {
			entries[i] = entryOf(m)
		}
		for sub := range w.subs {
			if len(sub.queue)+len(entries) > maxQueued {
				// A slow reader: drop what it has not taken and let it
				// read from Redis, where nothing is lost.
				sub.queue = nil
				sub.catchUp = true
			} else {
				sub.queue = append(sub.queue, entries...)
			}
			sub.notify()
		}
	}
}

func (sub *Subscription) notify() {
	select {
	case sub.signal <- struct{}{}:
	default:
	}
}
