package app

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/qdrant"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// openSpaces opens the embedding spaces (Qdrant's collections, or the
// embedded index's), makes the configured embedder's space live when none
// is, and sets spaces, and embedder and index to the live space's. When
// another space is live (RAGQ_EMBEDDER changed), it keeps answering, and
// reindexTo names the space to build.
func (a *App) openSpaces(ctx context.Context, db *sqlite.DB) error {
	cfg := a.cfg
	spaces, err := a.spaceStore(ctx, db)
	if err != nil {
		return err
	}
	emb, err := cfg.NewEmbedder(ctx, cfg.Embedder)
	if err != nil {
		return fmt.Errorf("app: RAGQ_EMBEDDER: %w", err)
	}
	// The batching policy is the configured embedder's, as built here,
	// whichever space is live and whatever a test wraps it in later.
	a.batchEmbeds = retrieval.BillsPerCall(emb)
	// A provider's embedder is probed for its dimension when built: the
	// configured one is built once, here, and reused for its space.
	a.newEmbedder = func(ctx context.Context, spec string) (retrieval.Embedder, error) {
		if spec == cfg.Embedder {
			return emb, nil
		}
		return cfg.NewEmbedder(ctx, spec)
	}
	configured := retrieval.Space{Name: emb.Name(), Embedder: cfg.Embedder, Dim: emb.Dim()}
	live, err := liveSpace(ctx, spaces, configured)
	if err != nil {
		return err
	}
	a.spaces = retrieval.NewSpaceSet(spaces, a.newEmbedder, retrieval.DefaultSpaceRefresh, a.logger)
	snap, err := a.spaces.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("app: embedding spaces: %w", err)
	}
	a.embedder, a.index = snap.Embedder(), snap.Live.Index
	if live.Name != configured.Name {
		a.reindexTo = cfg.Embedder
		a.logger.Warn("RAGQ_EMBEDDER names another embedding space than the live one: the live one answers until a re-index into the new one completes",
			"live", live.Name, "configured", configured.Name)
	}
	return nil
}

// spaceStore opens Qdrant's collections when RAGQ_QDRANT_URL is set,
// otherwise the embedded index's spaces in db.
func (a *App) spaceStore(ctx context.Context, db *sqlite.DB) (retrieval.Spaces, error) {
	cfg := a.cfg
	if cfg.QdrantURL == "" {
		ss := sqlite.NewSpaces(db, sqlite.SpacesOptions{})
		a.closers = append(a.closers, ss.Close)
		return ss, nil
	}
	qc, err := qdrant.ConfigFromURL(cfg.QdrantURL, cfg.QdrantAPIKey)
	if err != nil {
		return nil, fmt.Errorf("app: RAGQ_QDRANT_URL: %w", err)
	}
	qs, err := qdrant.Open(ctx, qc, a.logger)
	if err != nil {
		return nil, fmt.Errorf("app: qdrant at %s: %w", qc.Addr, err)
	}
	a.closers = append(a.closers, qs.Close)
	return qs, nil
}

// liveSpace is the live embedding space; when none is (a new data dir),
// the configured one is opened and made live.
func liveSpace(ctx context.Context, spaces retrieval.Spaces, configured retrieval.Space) (retrieval.Space, error) {
	live, ok, err := spaces.Live(ctx)
	if err != nil {
		return retrieval.Space{}, fmt.Errorf("app: live embedding space: %w", err)
	}
	if ok {
		return live, nil
	}
	if _, err := spaces.Open(ctx, configured); err != nil {
		return retrieval.Space{}, fmt.Errorf("app: open embedding space %s: %w", configured.Name, err)
	}
	if err := spaces.SetLive(ctx, configured); err != nil {
		return retrieval.Space{}, fmt.Errorf("app: embedding space %s: %w", configured.Name, err)
	}
	return configured, nil
}
