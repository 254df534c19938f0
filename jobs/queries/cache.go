package queries

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Defaults of CacheOptions.
const (
	DefaultCacheTTL        = 24 * time.Hour
	DefaultCacheMaxEntries = 1000
)

// Values of a query result's "cache" field.
const (
	CacheExact    = "exact"
	CacheSemantic = "semantic"
	CacheMiss     = "miss"
)

// CacheOptions tune the answer cache (RAGQ_CACHE_*).
type CacheOptions struct {
	// Similarity is the cosine similarity from which a cached question
	// answers another; retrieval.DefaultCacheSimilarity when <= 0.
	Similarity float64
	// TTL is how long an answer is served; DefaultCacheTTL when 0.
	TTL time.Duration
	// MaxEntries bounds a tenant's entries (the oldest go first), and so
	// the vectors a semantic lookup compares; DefaultCacheMaxEntries when <= 0.
	MaxEntries int
}

// AnswerCache answers a tenant's repeated questions from earlier answers:
// first by the normalised question (retrieval.NormalizeQuestion), then by
// the most similar earlier question of the same embedding space above
// the similarity threshold. An entry is removed when a document it cites
// gets a new version or is deleted (Invalidate). It keeps nothing in
// memory: the metadata database is shared by every api and worker process,
// and a tenant's vectors (at most MaxEntries) are compared by brute force.
type AnswerCache struct {
	store  answerCacheStore
	opts   CacheOptions
	logger *slog.Logger
	now    func() time.Time
}

// answerCacheStore is what the cache reads and writes: entries, and the job
// records that cache hits answered in the API process become.
type answerCacheStore interface {
	ragqueue.CacheStore
	ragqueue.JobStore
}

// NewAnswerCache returns the answer cache over store. A nil logger discards.
func NewAnswerCache(store interface {
	ragqueue.CacheStore
	ragqueue.JobStore
}, opts CacheOptions, logger *slog.Logger) *AnswerCache {
	if opts.Similarity <= 0 {
		opts.Similarity = retrieval.DefaultCacheSimilarity
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultCacheTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultCacheMaxEntries
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &AnswerCache{store: store, opts: opts, logger: logger, now: time.Now}
}

// Cacheable reports whether a question may be answered from, and stored
// in, the cache: not when the caller turned it off, and not when it names
// URLs: those pages are fetched when the question is asked, and an answer
// from an earlier fetch may be stale.
func Cacheable(enabled bool, urls []string) bool { return enabled && len(urls) == 0 }

// cacheHit is a cached answer found for a question.
type cacheHit struct {
	kind  string // CacheExact or CacheSemantic
	entry ragqueue.CacheEntry
}

// lookup finds a cached answer to question in the live space: exact first,
// then, when vector gives the question's embedding (or embed computes it),
// semantic. A store failure is logged and treated as a miss: the cache
// must never stop a question from being answered.
func (c *AnswerCache) lookup(ctx context.Context, tenant string, live retrieval.Target, question string, vector []float32) (cacheHit, bool) {
	key := retrieval.NormalizeQuestion(question)
	if key == "" {
		return cacheHit{}, false
	}
	notBefore := c.now().Add(-c.opts.TTL)
	e, err := c.store.CacheEntryByKey(ctx, tenant, live.Space.Name, key, notBefore)
	if err == nil {
		return cacheHit{kind: CacheExact, entry: e}, true
	} else if !ragqueue.IsNotFound(err) {
		c.logger.WarnContext(ctx, "answer cache: exact lookup", "tenant", tenant, "error", err)
		return cacheHit{}, false
	}
	if vector == nil {
		vecs, err := retrieval.EmbedAll(ctx, live.Embedder, []string{question})
		if err != nil {
			c.logger.WarnContext(ctx, "answer cache: embed question", "tenant", tenant, "error", err)
			return cacheHit{}, false
		}
		vector = vecs[0]
	}
	cands, err := c.store.CacheVectors(ctx, tenant, live.Space.Name, notBefore, c.opts.MaxEntries)
	if err != nil {
		c.logger.WarnContext(ctx, "answer cache: semantic lookup", "tenant", tenant, "error", err)
		return cacheHit{}, false
	}
	vecs := make([][]float32, len(cands))
	for i, e := range cands {
		vecs[i] = e.Vector
	}
	i, _, ok := retrieval.NearestQuestion(vector, vecs, c.opts.Similarity)
	if !ok {
		return cacheHit{}, false
	}
	e, err = c.store.GetCacheEntry(ctx, tenant, cands[i].ID)
	if err != nil {
		// Invalidated since the scan, most likely: a miss.
		return cacheHit{}, false
	}
	return cacheHit{kind: CacheSemantic, entry: e}, true
}

// result turns a hit into the result of job jobID.
func (h cacheHit) result(jobID string) (queryResult, error) {
	var res queryResult
	if err := json.Unmarshal(h.entry.Result, &res); err != nil {
		return queryResult{}, fmt.Errorf("queries: cached answer %s: %w", h.entry.ID, err)
	}
	res.JobID, res.Cache = jobID, h.kind
	return res, nil
}

// put stores res as the answer to question, unless it cites nothing (a
// "no answer" may stop being one as documents arrive, and no invalidation
// would tell). since is when its retrieval started. Failures are logged.
func (c *AnswerCache) put(ctx context.Context, tenant string, space, question string, vector []float32, res queryResult, since time.Time) {
	key := retrieval.NormalizeQuestion(question)
	if key == "" || len(res.Citations) == 0 {
		return
	}
	docs := make([]string, 0, len(res.Citations))
	for _, ct := range res.Citations {
		docs = append(docs, ct.DocumentID)
	}
	res.JobID, res.Cache, res.ConversationID, res.StandaloneQuestion = "", "", "", ""
	raw, err := json.Marshal(res)
	if err != nil {
		c.logger.WarnContext(ctx, "answer cache: encode", "tenant", tenant, "error", err)
		return
	}
	e := ragqueue.CacheEntry{Tenant: tenant, Space: space, Key: key, Question: question, Vector: vector, Result: raw, DocumentIDs: docs}
	if _, err := c.store.PutCacheEntry(ctx, e, since, c.opts.MaxEntries); err != nil {
		c.logger.WarnContext(ctx, "answer cache: store", "tenant", tenant, "error", err)
	}
}

// Answer is the API's fast path: when question has a cached answer in the
// live space of the tenant, it records a succeeded query job carrying that
// answer (with "cache":"exact" or "semantic") and returns it, so that the
// answer needs no queue round trip and clients that poll the job still
// find it. ok is false on a miss; then the question goes to a worker.
func (c *AnswerCache) Answer(ctx context.Context, tenant string, live retrieval.Target, question string) (job ragqueue.Job, ok bool, err error) {
	hit, found := c.lookup(ctx, tenant, live, question, nil)
	if !found {
		return ragqueue.Job{}, false, nil
	}
	now := c.now().UTC()
	job = ragqueue.Job{ID: uuid.NewString(), Tenant: tenant, Type: ragqueue.KindQuery, State: ragqueue.StateSucceeded, CreatedAt: now, UpdatedAt: now, CompletedAt: &now}
	res, err := hit.result(job.ID)
	if err != nil {
		c.logger.WarnContext(ctx, "answer cache: decode", "tenant", tenant, "error", err)
		return ragqueue.Job{}, false, nil
	}
	if job.Result, err = json.Marshal(res); err != nil {
		return ragqueue.Job{}, false, fmt.Errorf("queries: encode cached answer: %w", err)
	}
	if err := c.store.CreateJob(ctx, job); err != nil {
		return ragqueue.Job{}, false, fmt.Errorf("queries: record cached answer: %w", err)
	}
	return job, true, nil
}
