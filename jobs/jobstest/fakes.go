package jobstest

import (
	"context"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Recorder is an Enqueuer that keeps tasks instead of queueing them, for
// running handlers one at a time.
type Recorder struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

// EnqueueContext implements jobs.Enqueuer: it keeps t.
func (r *Recorder) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return &asynq.TaskInfo{ID: uuid.NewString(), Type: t.Type()}, nil
}

// Taken returns the tasks enqueued so far.
func (r *Recorder) Taken() []*asynq.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*asynq.Task(nil), r.tasks...)
}

// CountingEmbedder records every text it is asked to embed, and how many
// texts each call carried.
type CountingEmbedder struct {
	retrieval.Embedder
	mu    sync.Mutex
	texts []string
	sizes []int
}

// Embed implements retrieval.Embedder, counting texts.
func (c *CountingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.texts = append(c.texts, texts...)
	c.sizes = append(c.sizes, len(texts))
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts)
}

// Reset forgets what was counted and returns the texts.
func (c *CountingEmbedder) Reset() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	texts := c.texts
	c.texts, c.sizes = nil, nil
	return texts
}

// CallSizes returns how many texts each call carried.
func (c *CountingEmbedder) CallSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sizes)
}

// EventLog is an in-memory EventPublisher.
type EventLog struct {
	mu  sync.Mutex
	evs map[string][]ragqueue.Event
}

// PublishEvent implements jobs.EventPublisher: it keeps ev.
func (l *EventLog) PublishEvent(_ context.Context, tenant, jobID string, ev ragqueue.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.evs == nil {
		l.evs = make(map[string][]ragqueue.Event)
	}
	l.evs[tenant+"/"+jobID] = append(l.evs[tenant+"/"+jobID], ev)
	return nil
}

// Types returns the types of the events of a job, in order.
func (l *EventLog) Types(tenant, jobID string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.evs[tenant+"/"+jobID] {
		out = append(out, ev.Type)
	}
	return out
}

// Events returns a copy of the events of a job, in order.
func (l *EventLog) Events(tenant, jobID string) []ragqueue.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs[tenant+"/"+jobID])
}
