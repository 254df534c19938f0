package spaces

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
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
func (s *Service) reindex(ctx context.Context, a jobs.ReindexArgs) error {
	spaces := s.cfg.Spaces.Spaces()
	if spaces == nil || s.cfg.Factory == nil {
		return jobs.Permanent(ragqueue.Errorf(ragqueue.EUNSUPPORTED, "this deployment cannot re-index: its index has one fixed embedding space"))
	}
	emb, err := s.cfg.Factory(ctx, a.Embedder)
	if err != nil {
		return fmt.Errorf("spaces: re-index: embedder %q: %w", a.Embedder, err)
	}
	space := retrieval.Space{Name: emb.Name(), Embedder: a.Embedder, Dim: emb.Dim()}
	progress := reindexProgress{Stage: "waiting", Space: space.Name}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(progress)})

	live, ok, err := spaces.Live(ctx)
	if err != nil {
		return fmt.Errorf("spaces: re-index: live space: %w", err)
	}
	if !ok || live.Name != space.Name {
		target, err := s.cfg.Spaces.Target(ctx, space)
		if err != nil {
			return err
		}
		s.cfg.Spaces.Invalidate()
		// Every process now starts writing to the new space; wait until
		// all have seen it, so that none of their writes is missed below.
		if err := sleepCtx(ctx, 2*s.cfg.Spaces.Refresh()); err != nil {
			return err
		}
		progress.Stage = "embedding"
		docs, chunks, err := s.cfg.Documents.EmbedAllInto(ctx, target, func(docs, chunks int) {
			progress.Documents, progress.Chunks = docs, chunks
			s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(progress)})
		})
		progress.Documents, progress.Chunks = docs, chunks
		if err != nil {
			return err
		}
		progress.Stage = "switching"
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(progress)})
		if err := spaces.SetLive(ctx, space); err != nil {
			return fmt.Errorf("spaces: re-index: switch to %s: %w", space.Name, err)
		}
		s.cfg.Spaces.Invalidate()
		s.cfg.Logger.InfoContext(ctx, "embedding space switched", "space", space.Name, "documents", progress.Documents, "chunks", progress.Chunks)
		// Processes may still search the old space until they refresh.
		if err := sleepCtx(ctx, 2*s.cfg.Spaces.Refresh()); err != nil {
			return err
		}
	}
	all, err := spaces.List(ctx)
	if err != nil {
		return fmt.Errorf("spaces: re-index: list spaces: %w", err)
	}
	for _, sp := range all {
		if sp.Name == space.Name {
			continue
		}
		if err := spaces.Drop(ctx, sp.Name); err != nil {
			return fmt.Errorf("spaces: re-index: drop old space %s: %w", sp.Name, err)
		}
	}
	s.cfg.Spaces.Invalidate()
	progress.Stage = "done"
	return s.cfg.Tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		Progress: jobs.MustMarshal(progress),
		Result:   jobs.MustMarshal(map[string]any{"space": space.Name, "documents": progress.Documents, "chunks": progress.Chunks}),
	})
}

// reindexFailed records a failed re-index attempt on its job.
func (s *Service) reindexFailed(ctx context.Context, a jobs.ReindexArgs, err error) error {
	ctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	s.cfg.Tracker.Failed(ctx, a.Tenant, a.JobID, err)
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
