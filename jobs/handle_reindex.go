package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// reindexProgress is a re-index job's progress.
type reindexProgress struct {
	Stage     string `json:"stage"` // waiting, embedding, switching, done
	Space     string `json:"space"`
	Documents int    `json:"documents"`
	Chunks    int    `json:"chunks"`
}

// reindex builds the space of a.Embedder beside the live one while the live
// one keeps answering, then switches searches to it in one step and drops
// the old space:
//
//  1. The new space is created; from then on every process's ingestion
//     writes to it as well (retrieval.SpaceSet.Snapshot), within the refresh interval
//     that the job waits out before it starts.
//  2. Every ready document's stored chunks are embedded into it and
//     published, documents deleted meanwhile removed again.
//  3. The live pointer switches; after another refresh interval, when no
//     process searches the old space any more, the old space is dropped.
func (h *handlers) reindex(ctx context.Context, a ReindexArgs) error {
	spaces := h.Spaces.Spaces()
	if spaces == nil || h.EmbedderFactory == nil {
		return Permanent(ragqueue.Errorf(ragqueue.EUNSUPPORTED, "this deployment cannot re-index: its index has one fixed embedding space"))
	}
	emb, err := h.EmbedderFactory(ctx, a.Embedder)
	if err != nil {
		return fmt.Errorf("jobs: re-index: embedder %q: %w", a.Embedder, err)
	}
	space := retrieval.Space{Name: emb.Name(), Embedder: a.Embedder, Dim: emb.Dim()}
	progress := reindexProgress{Stage: "waiting", Space: space.Name}
	h.tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: StatePtr(ragqueue.StateActive), Progress: MustMarshal(progress)})

	live, ok, err := spaces.Live(ctx)
	if err != nil {
		return fmt.Errorf("jobs: re-index: live space: %w", err)
	}
	if !ok || live.Name != space.Name {
		target, err := h.Spaces.Target(ctx, space)
		if err != nil {
			return err
		}
		h.Spaces.Invalidate()
		// Every process now starts writing to the new space; wait until
		// all have seen it, so that none of their writes is missed below.
		if err := sleepCtx(ctx, 2*h.Spaces.Refresh()); err != nil {
			return err
		}
		progress.Stage = "embedding"
		docs, chunks, err := h.ing.EmbedAllInto(ctx, target, func(docs, chunks int) {
			progress.Documents, progress.Chunks = docs, chunks
			h.tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: MustMarshal(progress)})
		})
		progress.Documents, progress.Chunks = docs, chunks
		if err != nil {
			return err
		}
		progress.Stage = "switching"
		h.tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: MustMarshal(progress)})
		if err := spaces.SetLive(ctx, space); err != nil {
			return fmt.Errorf("jobs: re-index: switch to %s: %w", space.Name, err)
		}
		h.Spaces.Invalidate()
		h.Logger.InfoContext(ctx, "embedding space switched", "space", space.Name, "documents", progress.Documents, "chunks", progress.Chunks)
		// Processes may still search the old space until they refresh.
		if err := sleepCtx(ctx, 2*h.Spaces.Refresh()); err != nil {
			return err
		}
	}
	all, err := spaces.List(ctx)
	if err != nil {
		return fmt.Errorf("jobs: re-index: list spaces: %w", err)
	}
	for _, sp := range all {
		if sp.Name == space.Name {
			continue
		}
		if err := spaces.Drop(ctx, sp.Name); err != nil {
			return fmt.Errorf("jobs: re-index: drop old space %s: %w", sp.Name, err)
		}
	}
	h.Spaces.Invalidate()
	progress.Stage = "done"
	return h.tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		Progress: MustMarshal(progress),
		Result:   MustMarshal(map[string]any{"space": space.Name, "documents": progress.Documents, "chunks": progress.Chunks}),
	})
}

// reindexFailed records a failed re-index attempt on its job.
func (h *handlers) reindexFailed(ctx context.Context, a ReindexArgs, err error) error {
	ctx, cancel := SettleContext(ctx)
	defer cancel()
	h.tracker.Failed(ctx, a.Tenant, a.JobID, err)
	return err
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EnqueueReindex records a re-index job of tenant (the admin asking) into
// the space of embedder (a RAGQ_EMBEDDER setting) and enqueues it. The task
// ID names the embedder, so that one re-index into a space runs at a time:
// asking again while one is queued or running is an ECONFLICT error.
func (c *Client) EnqueueReindex(ctx context.Context, tenant, embedder string) (ragqueue.Job, error) {
	if tenant == "" || embedder == "" {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "a re-index needs a tenant and an embedder")
	}
	job := QueuedJob(uuid.NewString(), tenant, KindReindex)
	task, err := NewTask(ReindexArgs{Tenant: tenant, Embedder: embedder, JobID: job.ID})
	if err != nil {
		return ragqueue.Job{}, err
	}
	if err := c.EnsureJob(ctx, job); err != nil {
		return ragqueue.Job{}, err
	}
	_, err = c.q.EnqueueContext(ctx, task)
	if err == nil {
		return job, nil
	}
	state, msg := ragqueue.StateFailed, UnqueuedMessage
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		state, msg = ragqueue.StateCanceled, "a re-index into "+embedder+" is already queued or running"
		err = ragqueue.Errorf(ragqueue.ECONFLICT, "%s", msg)
	} else {
		err = fmt.Errorf("jobs: enqueue re-index: %w: %w", ErrQueueUnavailable(), err)
	}
	c.SettleUnqueued(ctx, tenant, job.ID, state, msg)
	return ragqueue.Job{}, err
}
