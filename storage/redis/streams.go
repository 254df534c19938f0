package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue"
)

// Defaults for StreamOptions.
const (
	DefaultMaxLen = 10000
	DefaultTTL    = 24 * time.Hour
	// DefaultBlock bounds one XREAD BLOCK of the fan-out loop.
	DefaultBlock = 5 * time.Second
	// rangeBatch is the COUNT of one backlog read.
	rangeBatch = 500
	// maxQueued is how many entries a subscriber may fall behind the
	// fan-out loop before it is made to catch up from Redis instead.
	maxQueued = 1000
)

// StreamOptions tune Streams. Zero values mean the defaults.
type StreamOptions struct {
	// Prefix starts every key; default "ragqueue:events".
	Prefix string
	// MaxLen caps each stream, approximately (XADD MAXLEN ~).
	MaxLen int64
	// TTL is how long a stream lives after its last event.
	TTL time.Duration
	// Block bounds one XREAD BLOCK of the fan-out loop.
	Block time.Duration
	// Logger receives fan-out errors; nil discards.
	Logger *slog.Logger
}

// Streams publishes job events to per-job Redis Streams and subscribes to
// them. Subscriptions of one process share one fan-out loop, which waits
// for new entries of all their streams in one XREAD BLOCK, so a thousand
// subscribers hold one Redis connection, not a thousand. It is safe for
// concurrent use; Close stops the loop.
type Streams struct {
	rdb    goredis.UniversalClient
	opts   StreamOptions
	logger *slog.Logger
	// wakeKey is a stream of this process's own that the fan-out loop also
	// reads, so that adding a stream to the loop interrupts its XREAD.
	wakeKey string

	mu      sync.Mutex
	keys    map[string]*watched
	running bool
	idle    chan struct{} // wakes the loop when it has nothing to read
	closed  bool
	stop    context.CancelFunc
	stopCtx context.Context
	loopWG  sync.WaitGroup
}

// watched is one stream the fan-out loop reads.
type watched struct {
	cursor string // the ID the loop has read up to
	subs   map[*Subscription]struct{}
}

// NewStreams returns Streams over rdb.
func NewStreams(rdb goredis.UniversalClient, opts StreamOptions) *Streams {
	if opts.Prefix == "" {
		opts.Prefix = "ragqueue:events"
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = DefaultMaxLen
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Block <= 0 {
		opts.Block = DefaultBlock
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	return &Streams{
		rdb: rdb, opts: opts, logger: logger,
		wakeKey: opts.Prefix + ":wake:" + hex.EncodeToString(b[:]),
		keys:    make(map[string]*watched),
		idle:    make(chan struct{}, 1),
		stop:    cancel, stopCtx: ctx,
	}
}

// Key is the stream key of a tenant's job. The tenant is part of it, so a
// subscriber naming another tenant's job reads an empty stream.
func (s *Streams) Key(tenant, jobID string) string {
	return s.opts.Prefix + ":{" + tenant + "}:" + jobID
}

// Publish appends ev to the job's stream, trimming it to about MaxLen
// entries and renewing its TTL, and returns the entry's ID.
func (s *Streams) Publish(ctx context.Context, tenant, jobID string, ev ragqueue.Event) (string, error) {
	if tenant == "" || jobID == "" {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "an event needs a tenant and a job")
	}
	key := s.Key(tenant, jobID)
	data := string(ev.Data)
	if data == "" {
		data = "{}"
	}
	pipe := s.rdb.Pipeline()
	add := pipe.XAdd(ctx, &goredis.XAddArgs{Stream: key, MaxLen: s.opts.MaxLen, Approx: true, Values: []any{"type", ev.Type, "data", data}})
	pipe.Expire(ctx, key, s.opts.TTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("redis: publish to %s: %w", key, err)
	}
	return add.Val(), nil
}

// PublishEvent implements ragqueue.EventPublisher.
func (s *Streams) PublishEvent(ctx context.Context, tenant, jobID string, ev ragqueue.Event) error {
	_, err := s.Publish(ctx, tenant, jobID, ev)
	return err
}

// Exists reports whether the job has a stream (it has published events
// that have not expired).
func (s *Streams) Exists(ctx context.Context, tenant, jobID string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.Key(tenant, jobID)).Result()
	if err != nil {
		return false, fmt.Errorf("redis: exists: %w", err)
	}
	return n > 0, nil
}

// Close stops the fan-out loop. Open subscriptions stop receiving.
func (s *Streams) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, w := range s.keys {
		for sub := range w.subs {
			sub.isClosed = true
			sub.notify()
		}
	}
	s.mu.Unlock()
	s.stop()
	// Interrupt a blocked XREAD rather than wait for its timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.wake(ctx)
	s.loopWG.Wait()
	return nil
}

func entryOf(m goredis.XMessage) ragqueue.EventEntry {
	e := ragqueue.EventEntry{ID: m.ID}
	e.Event.Type, _ = m.Values["type"].(string)
	if d, _ := m.Values["data"].(string); d != "" {
		e.Event.Data = []byte(d)
	}
	return e
}

// errClosed is returned by a subscription whose Streams was closed.
var errClosed = errors.New("redis: closed")
