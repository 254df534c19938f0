package documents

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// embedChunks embeds and upserts chunks in batches of EmbedBatch with at
// most EmbedParallelism batches in flight, reporting progress at most once
// per batch and per jobs.ProgressEvery. It fills progress's chunk counts. The
// chunks are staged unless direct says they are searchable at once.
func (s *Service) embedChunks(ctx context.Context, a jobs.EmbedArgs, doc ragqueue.Document, chunks []ragqueue.Chunk, progress *ingestProgress, run ingestRun, snap *retrieval.Snapshot, direct bool) error {
	var (
		mu         sync.Mutex
		lastReport time.Time
	)
	report := func(ctx context.Context, done, reused int) {
		mu.Lock()
		defer mu.Unlock()
		progress.ChunksEmbedded += done
		progress.ChunksReused += reused
		if run.isInline() || progress.ChunksEmbedded < progress.Chunks && time.Since(lastReport) < jobs.ProgressEvery {
			return
		}
		lastReport = time.Now()
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(*progress)})
	}

	emb, idx := snap.Embedder(), snap.Index()
	space := emb.Name()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.EmbedParallelism)
	for start := 0; start < len(chunks) && gctx.Err() == nil; start += s.cfg.EmbedBatch {
		batch := chunks[start:min(start+s.cfg.EmbedBatch, len(chunks))]
		g.Go(func() error {
			hashes := make([]string, len(batch))
			for i, c := range batch {
				hashes[i] = retrieval.ContentHash(space, c.Text)
			}
			vecs, reused, err := s.vectorsFor(gctx, a, start, batch, hashes, run, emb, idx)
			if err != nil {
				return err
			}
			items := make([]retrieval.IndexedChunk, len(batch))
			for i, c := range batch {
				items[i] = stagedChunk(doc, c, hashes[i], vecs[i])
				items[i].Staged = !direct
			}
			if err := idx.Upsert(gctx, items); err != nil {
				return fmt.Errorf("documents: index chunks of document %s: %w", a.DocumentID, err)
			}
			s.cfg.Metrics.ChunksEmbedded.Add(float64(len(batch)))
			report(gctx, len(batch), reused)
			return nil
		})
	}
	return g.Wait()
}

// stagedChunk is chunk c of document version doc as the index stores it
// before the version's switch: staged, searchable from PublishVersion on.
func stagedChunk(doc ragqueue.Document, c ragqueue.Chunk, hash string, vector []float32) retrieval.IndexedChunk {
	return retrieval.IndexedChunk{
		ID: c.ID, Tenant: doc.Tenant, DocumentID: doc.ID, Version: doc.Version, Index: c.Index,
		Text: c.Text, Page: c.Page, Title: doc.Title, Source: doc.Source,
		Vector: vector, ContentHash: hash, Staged: true,
	}
}

// vectorsFor returns one vector per chunk of batch (which starts at chunk
// start): the one run.vectors has for its content hash, else the stored
// vector of a chunk of this document with the same content hash where the
// index has one, otherwise the embedder's, asking it once per distinct
// text. reused counts the stored vectors used: run.vectors were just made.
func (s *Service) vectorsFor(ctx context.Context, a jobs.EmbedArgs, start int, batch []ragqueue.Chunk, hashes []string, run ingestRun, emb retrieval.Embedder, idx retrieval.Index) (vecs [][]float32, reused int, err error) {
	var stored map[string][]float32
	if !run.fresh && !coversAll(run.vectors, hashes) {
		if stored, err = idx.VectorsByHash(ctx, a.Tenant, a.DocumentID, hashes); err != nil {
			return nil, 0, fmt.Errorf("documents: look up vectors of document %s: %w", a.DocumentID, err)
		}
	}
	dim := emb.Dim()
	vecs = make([][]float32, len(batch))
	var texts []string
	slot := make(map[string]int) // content hash → position in texts
	for i, hash := range hashes {
		if v, ok := run.vectors[hash]; ok && len(v) == dim {
			vecs[i] = v
			continue
		}
		if v, ok := stored[hash]; ok && len(v) == dim {
			vecs[i] = v
			reused++
			continue
		}
		if _, ok := slot[hash]; !ok {
			slot[hash] = len(texts)
			texts = append(texts, batch[i].Text)
		}
	}
	if len(texts) == 0 {
		return vecs, reused, nil
	}
	out, err := s.embedTexts(ctx, emb, texts, fmt.Sprintf("chunks %d-%d of document %s", start, start+len(batch)-1, a.DocumentID))
	if err != nil {
		return nil, 0, err
	}
	for i, hash := range hashes {
		if vecs[i] == nil {
			vecs[i] = out[slot[hash]]
		}
	}
	return vecs, reused, nil
}

// embedTexts embeds texts for an ingest or a re-index, recording the
// call's duration; what names the texts in errors. When the provider
// refuses the request itself (EINVALID: a bad key, an unknown model)
// retrying cannot help, the operator must fix the configuration: the error
// is jobs.Permanent (a document fails, and can be retried; a re-index fails).
func (s *Service) embedTexts(ctx context.Context, emb retrieval.Embedder, texts []string, what string) ([][]float32, error) {
	started := time.Now()
	vecs, err := retrieval.EmbedAll(ctx, emb, texts)
	s.cfg.Metrics.EmbedSeconds.Observe(time.Since(started).Seconds())
	if err != nil {
		err = fmt.Errorf("documents: embed %s: %w", what, err)
		if ragqueue.ErrorCode(err) == ragqueue.EINVALID {
			return nil, jobs.Permanent(err)
		}
		return nil, err
	}
	return vecs, nil
}

// coversAll reports whether vectors holds every hash.
func coversAll(vectors map[string][]float32, hashes []string) bool {
	if vectors == nil {
		return false
	}
	for _, h := range hashes {
		if _, ok := vectors[h]; !ok {
			return false
		}
	}
	return true
}
