package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// EmbedderFactory builds the embedder that a space's Embedder setting names
// (RAGQ_EMBEDDER syntax).
type EmbedderFactory func(ctx context.Context, spec string) (retrieval.Embedder, error)

// Target is one embedding space in use: its embedder and its index.
type Target struct {
	Space    retrieval.Space
	Embedder retrieval.Embedder
	Index    retrieval.Index
}

// SpaceSet tells the handlers and the API which embedding space answers
// searches (the live one) and which others are written to while a re-index
// builds them. Every process reads the same retrieval.Spaces, so a re-index
// started anywhere is seen everywhere within the refresh interval.
type SpaceSet struct {
	spaces  retrieval.Spaces // nil: one fixed target
	factory EmbedderFactory
	refresh time.Duration
	logger  *slog.Logger

	mu       sync.Mutex
	snap     *Snapshot
	loadedAt time.Time
	built    map[string]Target // by space name: opened indexes and built embedders
}

// DefaultSpaceRefresh is how old a process's view of the spaces may be.
const DefaultSpaceRefresh = 2 * time.Second

// NewSpaceSet returns the spaces of spaces, building each space's embedder
// with factory and re-reading which spaces exist at most every refresh.
func NewSpaceSet(spaces retrieval.Spaces, factory EmbedderFactory, refresh time.Duration, logger *slog.Logger) *SpaceSet {
	if refresh <= 0 {
		refresh = DefaultSpaceRefresh
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SpaceSet{spaces: spaces, factory: factory, refresh: refresh, logger: logger, built: make(map[string]Target)}
}

// StaticSpaces is a SpaceSet of one fixed space: emb and idx. It cannot be
// re-indexed.
func StaticSpaces(emb retrieval.Embedder, idx retrieval.Index) *SpaceSet {
	t := Target{Space: retrieval.Space{Name: emb.Name(), Dim: emb.Dim()}, Embedder: emb, Index: idx}
	return &SpaceSet{snap: &Snapshot{Live: t}, refresh: -1, logger: slog.New(slog.DiscardHandler)}
}

// Refresh is how old a view Snapshot may return.
func (s *SpaceSet) Refresh() time.Duration { return s.refresh }

// Spaces is the store of spaces, nil for StaticSpaces.
func (s *SpaceSet) Spaces() retrieval.Spaces { return s.spaces }

// Target returns the target of space, opening its index and building its
// embedder the first time.
func (s *SpaceSet) Target(ctx context.Context, space retrieval.Space) (Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.targetLocked(ctx, space)
}

func (s *SpaceSet) targetLocked(ctx context.Context, space retrieval.Space) (Target, error) {
	if t, ok := s.built[space.Name]; ok {
		return t, nil
	}
	if s.spaces == nil {
		return Target{}, ragqueue.Errorf(ragqueue.EUNSUPPORTED, "this index has one fixed embedding space")
	}
	emb, err := s.factory(ctx, space.Embedder)
	if err != nil {
		return Target{}, fmt.Errorf("jobs: embedder %q of space %s: %w", space.Embedder, space.Name, err)
	}
	if emb.Dim() != space.Dim {
		return Target{}, ragqueue.Errorf(ragqueue.EINVALID,
			"embedder %q makes %d-dimensional vectors but space %s holds %d", space.Embedder, emb.Dim(), space.Name, space.Dim)
	}
	idx, err := s.spaces.Open(ctx, space)
	if err != nil {
		return Target{}, fmt.Errorf("jobs: open space %s: %w", space.Name, err)
	}
	t := Target{Space: space, Embedder: emb, Index: idx}
	s.built[space.Name] = t
	return t, nil
}

// Invalidate makes the next Snapshot read the spaces again.
func (s *SpaceSet) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaces != nil {
		s.loadedAt = time.Time{}
	}
}

// Snapshot returns the spaces as they were at most Refresh ago: the live
// one, and the others that exist (being built by a re-index, or about to be
// dropped after one), which ingestion writes to as well.
func (s *SpaceSet) Snapshot(ctx context.Context) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaces == nil || (s.snap != nil && time.Since(s.loadedAt) < s.refresh) {
		return s.snap, nil
	}
	live, ok, err := s.spaces.Live(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: live embedding space: %w", err)
	} else if !ok {
		return nil, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "no embedding space is live yet")
	}
	all, err := s.spaces.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: list embedding spaces: %w", err)
	}
	lt, err := s.targetLocked(ctx, live)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Live: lt}
	for _, sp := range all {
		if sp.Name == live.Name {
			continue
		}
		t, err := s.targetLocked(ctx, sp)
		if err != nil {
			// A space this process cannot embed for is left to the
			// re-index job, which fails saying why.
			s.logger.WarnContext(ctx, "embedding space not written by this process", "space", sp.Name, "error", err)
			continue
		}
		snap.Others = append(snap.Others, t)
	}
	for name := range s.built {
		if name != live.Name && !slices.ContainsFunc(all, func(sp retrieval.Space) bool { return sp.Name == name }) {
			delete(s.built, name) // dropped
		}
	}
	s.snap, s.loadedAt = snap, time.Now()
	return snap, nil
}

// Snapshot is one view of the embedding spaces. Its Index searches the live
// space and writes to all of them, so that a space being built never misses
// a document that changes while it is built.
type Snapshot struct {
	Live   Target
	Others []Target
}

// Embedder is the live space's embedder: what queries and new chunks are
// embedded with.
func (sn *Snapshot) Embedder() retrieval.Embedder { return sn.Live.Embedder }

// Index returns the snapshot as a retrieval.Index: searches and vector
// lookups use the live space; upserts, publishes and deletes go to every
// space, chunks re-embedded by each other space's embedder.
func (sn *Snapshot) Index() retrieval.Index { return snapshotIndex{sn} }

type snapshotIndex struct{ sn *Snapshot }

var _ retrieval.Index = snapshotIndex{}

func (x snapshotIndex) Upsert(ctx context.Context, chunks []retrieval.IndexedChunk) error {
	if err := x.sn.Live.Index.Upsert(ctx, chunks); err != nil {
		return err
	}
	if len(chunks) == 0 {
		return nil
	}
	for _, o := range x.sn.Others {
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = c.Text
		}
		vecs, err := embedAll(ctx, o.Embedder, texts)
		if err != nil {
			return fmt.Errorf("jobs: embed for space %s: %w", o.Space.Name, err)
		}
		items := slices.Clone(chunks)
		for i := range items {
			items[i].Vector = vecs[i]
			items[i].ContentHash = ContentHash(o.Embedder.Name(), items[i].Text)
		}
		if err := othersErr(o, o.Index.Upsert(ctx, items)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) DeleteDocument(ctx context.Context, tenant, documentID string) error {
	if err := x.sn.Live.Index.DeleteDocument(ctx, tenant, documentID); err != nil {
		return err
	}
	for _, o := range x.sn.Others {
		if err := othersErr(o, o.Index.DeleteDocument(ctx, tenant, documentID)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) PublishVersion(ctx context.Context, tenant, documentID string, version int) error {
	if err := x.sn.Live.Index.PublishVersion(ctx, tenant, documentID, version); err != nil {
		return err
	}
	for _, o := range x.sn.Others {
		if err := othersErr(o, o.Index.PublishVersion(ctx, tenant, documentID, version)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) VectorsByHash(ctx context.Context, tenant, documentID string, hashes []string) (map[string][]float32, error) {
	return x.sn.Live.Index.VectorsByHash(ctx, tenant, documentID, hashes)
}

func (x snapshotIndex) Search(ctx context.Context, q retrieval.Query, fuse retrieval.Fusion) ([]retrieval.Passage, error) {
	return x.sn.Live.Index.Search(ctx, q, fuse)
}

func (x snapshotIndex) Ping(ctx context.Context) error { return x.sn.Live.Index.Ping(ctx) }

// othersErr is err from writing to a space that is not live: a space
// dropped since the snapshot was taken (after a re-index switched away from
// it) has nothing left to keep in step.
func othersErr(o Target, err error) error {
	if err == nil || ragqueue.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("jobs: space %s: %w", o.Space.Name, err)
}
