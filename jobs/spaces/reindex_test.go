package spaces_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// dirSpaces is a retrieval.Spaces whose spaces are SQLite indexes in files
// of their own and whose live pointer is a field: enough to drive the jobs
// layer's re-index. The real implementations pass retrieval/indextest.
type dirSpaces struct {
	dir string

	mu     sync.Mutex
	spaces map[string]retrieval.Space
	open   map[string]*sqlite.Index
	dbs    map[string]*sqlite.DB
	live   string
}

func newDirSpaces(t *testing.T) *dirSpaces {
	s := &dirSpaces{dir: t.TempDir(), spaces: map[string]retrieval.Space{}, open: map[string]*sqlite.Index{}, dbs: map[string]*sqlite.DB{}}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for name := range s.dbs {
			_ = s.open[name].Close()
			_ = s.dbs[name].Close()
		}
	})
	return s
}

func (s *dirSpaces) Open(ctx context.Context, sp retrieval.Space) (retrieval.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.open[sp.Name]; ok {
		return ix, nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(s.dir, sp.Name+".db"))
	if err != nil {
		return nil, err
	}
	ix, err := sqlite.NewIndex(ctx, db, sp.Dim)
	if err != nil {
		return nil, err
	}
	s.spaces[sp.Name], s.open[sp.Name], s.dbs[sp.Name] = sp, ix, db
	return droppable{ix, s, sp.Name}, nil
}

func (s *dirSpaces) Live(context.Context) (retrieval.Space, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spaces[s.live]
	return sp, ok, nil
}

func (s *dirSpaces) SetLive(_ context.Context, sp retrieval.Space) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.spaces[sp.Name]; !ok {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "no space %s", sp.Name)
	}
	s.live = sp.Name
	return nil
}

func (s *dirSpaces) List(context.Context) ([]retrieval.Space, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []retrieval.Space
	for _, sp := range s.spaces {
		out = append(out, sp)
	}
	return out, nil
}

func (s *dirSpaces) Drop(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == s.live {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "space %s is live", name)
	}
	delete(s.spaces, name) // its index refuses writes from now on (droppable)
	return nil
}

func (s *dirSpaces) exists(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.spaces[name]
	return ok
}

// droppable is a space's index that answers ENOTFOUND once its space is
// dropped, as a dropped Qdrant collection would.
type droppable struct {
	*sqlite.Index
	s    *dirSpaces
	name string
}

func (d droppable) Upsert(ctx context.Context, c []retrieval.IndexedChunk) error {
	if !d.s.exists(d.name) {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "space %s was dropped", d.name)
	}
	return d.Index.Upsert(ctx, c)
}

// hashFactory builds hash embedders from "hash:DIM".
func hashFactory(_ context.Context, spec string) (retrieval.Embedder, error) {
	d, err := strconv.Atoi(strings.TrimPrefix(spec, "hash:"))
	if err != nil {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "bad spec %q", spec)
	}
	return retrieval.NewHashEmbedder(d), nil
}

// gatedWalk is a store whose first ReadyDocuments call takes its answer,
// then waits for release: what changes meanwhile happens "behind" the
// re-index's walk, which must learn of it through the dual writes. Later
// calls hide documents that did not exist at the first.
type gatedWalk struct {
	*sqlite.Store
	started chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	known   map[string]bool
}

func (g *gatedWalk) ReadyDocuments(ctx context.Context, after string, limit int) ([]ragqueue.Document, error) {
	docs, err := g.Store.ReadyDocuments(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	first := false
	g.once.Do(func() {
		first = true
		g.mu.Lock()
		g.known = map[string]bool{}
		all, _ := g.Store.ReadyDocuments(ctx, "", 1000)
		for _, d := range all {
			g.known[d.ID] = true
		}
		g.mu.Unlock()
		close(g.started)
		<-g.release
	})
	if first {
		return docs, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.DeleteFunc(docs, func(d ragqueue.Document) bool { return !g.known[d.ID] }), nil
}

func TestReindexWithoutDowntime(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	ctx := t.Context()
	factory := retrieval.EmbedderFactory(hashFactory)
	spaces := newDirSpaces(t)
	old := retrieval.Space{Name: "hash-64", Embedder: "hash:64", Dim: 64}
	_, err := spaces.Open(ctx, old)
	require.NoError(t, err)
	require.NoError(t, spaces.SetLive(ctx, old))
	set := retrieval.NewSpaceSet(spaces, factory, 20*time.Millisecond, b.Logger)

	walk := &gatedWalk{Store: b.Store, started: make(chan struct{}), release: make(chan struct{})}
	d := b.Deps(b.Asynq)
	d.Store = walk
	d.Spaces, d.Index, d.Embedder = set, nil, nil
	d.InlineEmbedChunks = 0
	svc := b.service(d, factory)
	b.startServerWith(t, d, svc)

	var docs []string
	for i := range 6 {
		doc := b.AddDocument(t, b.tenant, "text/plain", fmt.Sprintf("Orchard note %d: the quince tree number %d flowers in May.", i, i))
		require.NoError(t, b.EnqueueIngest(ctx, doc))
		require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, doc.JobID).State)
		docs = append(docs, doc.ID)
	}

	// Searches keep answering while the new space is built.
	search := func() ([]retrieval.Passage, retrieval.Space, error) {
		snap, err := set.Snapshot(ctx)
		if err != nil {
			return nil, retrieval.Space{}, err
		}
		v, err := snap.Embedder().Embed(ctx, []string{"quince tree flowers"})
		if err != nil {
			return nil, retrieval.Space{}, err
		}
		ps, err := retrieval.Search(ctx, snap.Live.Index, retrieval.Query{Tenant: b.tenant, Text: "quince tree flowers", Vector: v[0], TopK: 10})
		return ps, snap.Live.Space, err
	}
	stop := make(chan struct{})
	searched := make(chan error, 1)
	var searches atomic.Int64
	go func() {
		defer close(searched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ps, _, err := search()
			if err == nil && len(ps) == 0 {
				err = fmt.Errorf("a search found nothing")
			}
			if err != nil {
				searched <- err
				return
			}
			searches.Add(1)
		}
	}()

	job, err := svc.Reindex(ctx, b.tenant, "hash:32")
	require.NoError(t, err)
	_, err = svc.Reindex(ctx, b.tenant, "hash:32")
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err), "one re-index into a space at a time")

	// A document added and one deleted behind the re-index's walk.
	<-walk.started
	added := b.AddDocument(t, b.tenant, "text/plain", "Late addition: the medlar ripens after the first frost.")
	require.NoError(t, b.EnqueueIngest(ctx, added))
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, added.JobID).State)
	_, err = b.Store.DeleteDocument(ctx, b.tenant, docs[0])
	require.NoError(t, err)
	snap, err := set.Snapshot(ctx)
	require.NoError(t, err)
	require.NoError(t, snap.Index().DeleteDocument(ctx, b.tenant, docs[0]))
	close(walk.release)

	done := b.WaitJob(t, b.tenant, job.ID)
	close(stop)
	require.NoError(t, <-searched)
	require.Equal(t, ragqueue.StateSucceeded, done.State, done.Error)
	require.Positive(t, searches.Load())

	live, ok, err := spaces.Live(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "hash-32", live.Name)
	all, err := spaces.List(ctx)
	require.NoError(t, err)
	require.Equal(t, []retrieval.Space{live}, all, "nothing is left of the old space")

	set.Invalidate()
	ps, sp, err := search()
	require.NoError(t, err)
	require.Equal(t, "hash-32", sp.Name, "results come from the new space")
	found := map[string]bool{}
	for _, p := range ps {
		found[p.DocumentID] = true
	}
	require.False(t, found[docs[0]], "the deleted document is not in the new space")
	for _, id := range docs[1:] {
		require.True(t, found[id], "document %s is in the new space", id)
	}
	snap, err = set.Snapshot(ctx)
	require.NoError(t, err)
	q, err := snap.Embedder().Embed(ctx, []string{"medlar frost"})
	require.NoError(t, err)
	late, err := retrieval.Search(ctx, snap.Live.Index, retrieval.Query{Tenant: b.tenant, Text: "medlar frost", Vector: q[0], TopK: 3})
	require.NoError(t, err)
	require.NotEmpty(t, late)
	require.Equal(t, added.ID, late[0].DocumentID, "a document ingested during the re-index is in the new space")
}
