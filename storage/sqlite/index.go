package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Search limits.
const (
	defaultTopK = 5
	maxTopK     = 100
	// minCandidates is the least number of hits each retriever (lexical,
	// dense) contributes to fusion; it grows to 4×TopK for larger requests.
	minCandidates = 20
)

// Index is the embedded-mode search index: chunk rows and an FTS5 index in
// the SQLite file, and each tenant's vectors in memory for brute-force dense
// search, fused by reciprocal rank. Several processes may share the file
// (an api process searching while a worker process ingests): a per-tenant
// generation counter in the database tells each process when its copy of a
// tenant's vectors is stale. It is safe for concurrent use.
type Index struct {
	db  *sql.DB
	dim int

	// Prepared once: they run on every search.
	genStmt     *sql.Stmt // tenant → generation
	lexicalStmt *sql.Stmt // match, limit, tenant → rows (no document filter)

	mu    sync.RWMutex
	cache map[string]*denseSet // tenant → vectors; guarded by mu
	loads singleflight.Group   // one reload per tenant at a time
}

var _ retrieval.Index = (*Index)(nil)

// NewIndex returns the index stored in db for vectors of dim dimensions.
// It fails when dim is not positive or when db already holds vectors of
// another dimension (vectors of different embedders must never mix).
func NewIndex(ctx context.Context, db *DB, dim int) (*Index, error) {
	if dim <= 0 {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "sqlite: index dimension must be positive, got %d", dim)
	}
	var bytes int
	err := db.sql.QueryRowContext(ctx, `SELECT length(vector) FROM index_chunks LIMIT 1`).Scan(&bytes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("sqlite: new index: %w", err)
	case bytes != 4*dim:
		return nil, ragqueue.Errorf(ragqueue.EINVALID,
			"sqlite: the index holds %d-dimensional vectors, not %d: re-index with the embedder it was built with or start a new data dir", bytes/4, dim)
	}
	ix := &Index{db: db.sql, dim: dim, cache: make(map[string]*denseSet)}
	if ix.genStmt, err = db.sql.PrepareContext(ctx, `SELECT gen FROM index_generations WHERE tenant = ?`); err != nil {
		return nil, fmt.Errorf("sqlite: new index: prepare: %w", err)
	}
	// Rank and cut inside FTS5 first (the tenant token already narrows the
	// match to the tenant), then read only the winning rows: a common term
	// must not cost one row lookup per match.
	if ix.lexicalStmt, err = db.sql.PrepareContext(ctx, `
		SELECT c.id, c.document_id, c.text, c.page, c.title, c.source
		FROM (SELECT rowid, bm25(index_fts, 0.0, 1.0) AS rank FROM index_fts
			WHERE index_fts MATCH ? ORDER BY rank, rowid LIMIT ?) f
		JOIN index_chunks c ON c.rid = f.rowid
		WHERE c.tenant = ?
		ORDER BY f.rank, f.rowid`); err != nil {
		_ = ix.genStmt.Close()
		return nil, fmt.Errorf("sqlite: new index: prepare: %w", err)
	}
	return ix, nil
}

// Close releases the index's prepared statements. The DB stays open: close
// it separately, after the index.
func (ix *Index) Close() error {
	return errors.Join(ix.genStmt.Close(), ix.lexicalStmt.Close())
}

// Dim is the vector dimension the index accepts.
func (ix *Index) Dim() int { return ix.dim }

// Ping checks that the database answers.
func (ix *Index) Ping(ctx context.Context) error {
	if err := ix.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: index ping: %w", err)
	}
	return nil
}

// Upsert stores chunks, replacing any stored chunk with the same ID, in one
// transaction. Every chunk needs an ID, a tenant and a vector of the
// index's dimension. A chunk ID already stored under another tenant is
// refused (ECONFLICT) rather than moved.
func (ix *Index) Upsert(ctx context.Context, chunks []retrieval.IndexedChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	for _, c := range chunks {
		switch {
		case c.ID == "":
			return ragqueue.Errorf(ragqueue.EINVALID, "sqlite: upsert: chunk without an ID")
		case c.Tenant == "":
			return ragqueue.Errorf(ragqueue.EINVALID, "sqlite: upsert: chunk %s has no tenant", c.ID)
		case len(c.Vector) != ix.dim:
			return ragqueue.Errorf(ragqueue.EINVALID,
				"sqlite: upsert: chunk %s has a %d-dimensional vector, the index holds %d dimensions", c.ID, len(c.Vector), ix.dim)
		}
	}

	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: upsert: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	upsertRow, err := tx.PrepareContext(ctx, `
		INSERT INTO index_chunks (id, tenant, document_id, idx, text, page, title, source, vector)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			document_id = excluded.document_id, idx = excluded.idx, text = excluded.text,
			page = excluded.page, title = excluded.title, source = excluded.source,
			vector = excluded.vector
		WHERE index_chunks.tenant = excluded.tenant
		RETURNING rid`)
	if err != nil {
		return fmt.Errorf("sqlite: upsert: prepare: %w", err)
	}
	defer upsertRow.Close()
	upsertFTS, err := tx.PrepareContext(ctx, `REPLACE INTO index_fts (rowid, tenant_key, terms) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: upsert: prepare fts: %w", err)
	}
	defer upsertFTS.Close()

	var blob []byte
	var terms strings.Builder
	tenantKeys := make(map[string]string)
	for i := range chunks {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sqlite: upsert: %w", err)
			}
		}
		c := &chunks[i]
		blob = encodeVector(blob[:0], c.Vector)
		var rid int64
		err := upsertRow.QueryRowContext(ctx, c.ID, c.Tenant, c.DocumentID, c.Index, c.Text, c.Page, c.Title, c.Source, blob).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return ragqueue.Errorf(ragqueue.ECONFLICT, "sqlite: upsert: chunk ID %s belongs to another tenant", c.ID)
		} else if err != nil {
			return fmt.Errorf("sqlite: upsert chunk %s: %w", c.ID, err)
		}
		key, ok := tenantKeys[c.Tenant]
		if !ok {
			key = tenantKey(c.Tenant)
			tenantKeys[c.Tenant] = key
		}
		terms.Reset()
		for j, t := range retrieval.Tokenize(c.Text) {
			if j > 0 {
				terms.WriteByte(' ')
			}
			terms.WriteString(t)
		}
		if _, err := upsertFTS.ExecContext(ctx, rid, key, terms.String()); err != nil {
			return fmt.Errorf("sqlite: upsert chunk %s: fts: %w", c.ID, err)
		}
	}
	gens := make(map[string]int64, len(tenantKeys))
	for tenant := range tenantKeys {
		g, err := bumpGeneration(ctx, tx, tenant)
		if err != nil {
			return err
		}
		gens[tenant] = g
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: upsert: commit: %w", err)
	}
	ix.applyUpsert(chunks, gens)
	return nil
}

// DeleteDocument removes every chunk of one document of one tenant. A
// document with no chunks is not an error.
func (ix *Index) DeleteDocument(ctx context.Context, tenant, documentID string) error {
	if tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "sqlite: delete document: no tenant")
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete document %s: begin: %w", documentID, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// The FTS rows first, while their rowids can still be found.
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM index_fts WHERE rowid IN (SELECT rid FROM index_chunks WHERE tenant = ? AND document_id = ?)`,
		tenant, documentID); err != nil {
		return fmt.Errorf("sqlite: delete document %s: fts: %w", documentID, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM index_chunks WHERE tenant = ? AND document_id = ?`, tenant, documentID)
	if err != nil {
		return fmt.Errorf("sqlite: delete document %s: %w", documentID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete document %s: %w", documentID, err)
	} else if n == 0 {
		return nil // nothing changed: keep the generation (and every cache) as is
	}
	gen, err := bumpGeneration(ctx, tx, tenant)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete document %s: commit: %w", documentID, err)
	}
	ix.applyDelete(tenant, documentID, gen)
	return nil
}

// Search runs q's text through FTS5 (bm25) and q's vector, when given,
// through brute-force cosine over the tenant's vectors, and fuses both
// rankings by reciprocal rank. TopK defaults to 5 and is capped at 100.
func (ix *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Passage, error) {
	if q.Tenant == "" {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "search needs a tenant")
	}
	if len(q.Vector) != 0 && len(q.Vector) != ix.dim {
		return nil, ragqueue.Errorf(ragqueue.EINVALID,
			"sqlite: search: the query vector has %d dimensions, the index holds %d", len(q.Vector), ix.dim)
	}
	topK := q.TopK
	if topK <= 0 {
		topK = defaultTopK
	}
	topK = min(topK, maxTopK)
	n := max(4*topK, minCandidates)

	// The two retrievers are independent: run them side by side, so that a
	// search costs the slower of the two rather than their sum.
	var lexical, dense []retrieval.Passage
	g, gctx := errgroup.WithContext(ctx)
	if len(q.Vector) > 0 {
		g.Go(func() (err error) {
			dense, err = ix.searchDense(gctx, q, n)
			return err
		})
	}
	g.Go(func() (err error) {
		lexical, err = ix.searchLexical(gctx, q, n)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	fused := retrieval.FuseRRF(0, topK, lexical, dense)
	return ix.fillPassages(ctx, q.Tenant, fused)
}

// searchLexical returns up to n chunks of q.Tenant matching any term of
// q.Text, best bm25 first. Only ragqueue tokens, each quoted, reach MATCH,
// so no user text can make an FTS5 syntax error.
func (ix *Index) searchLexical(ctx context.Context, q retrieval.Query, n int) ([]retrieval.Passage, error) {
	match := matchQuery(q.Tenant, q.Text)
	if match == "" {
		return nil, nil
	}
	var rows *sql.Rows
	var err error
	if len(q.DocumentIDs) == 0 {
		rows, err = ix.lexicalStmt.QueryContext(ctx, match, n, q.Tenant)
	} else {
		// The document filter lives in index_chunks: filter before the cut.
		var sb strings.Builder
		sb.WriteString(`SELECT c.id, c.document_id, c.text, c.page, c.title, c.source
			FROM index_fts JOIN index_chunks c ON c.rid = index_fts.rowid
			WHERE index_fts MATCH ? AND c.tenant = ?`)
		args := appendIn(&sb, []any{match, q.Tenant}, "c.document_id", q.DocumentIDs)
		sb.WriteString(` ORDER BY bm25(index_fts, 0.0, 1.0), c.rid LIMIT ?`)
		args = append(args, n)
		rows, err = ix.db.QueryContext(ctx, sb.String(), args...)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: lexical search: %w", err)
	}
	defer rows.Close()
	var out []retrieval.Passage
	for rows.Next() {
		var p retrieval.Passage
		if err := rows.Scan(&p.ChunkID, &p.DocumentID, &p.Text, &p.Page, &p.Title, &p.Source); err != nil {
			return nil, fmt.Errorf("sqlite: lexical search: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: lexical search: %w", err)
	}
	return out, nil
}

// maxMatchTerms bounds the OR-query: a pasted page as a question must not
// turn into a thousand-term FTS5 query.
const maxMatchTerms = 32

// matchQuery builds the FTS5 query for text within tenant, or "" when text
// has no terms.
func matchQuery(tenant, text string) string {
	seen := make(map[string]struct{})
	var sb strings.Builder
	for _, t := range retrieval.Tokenize(text) {
		if _, dup := seen[t]; dup {
			continue
		}
		if len(seen) == maxMatchTerms {
			break
		}
		seen[t] = struct{}{}
		if sb.Len() == 0 {
			sb.WriteString(`tenant_key : "`)
			sb.WriteString(tenantKey(tenant))
			sb.WriteString(`" AND terms : (`)
		} else {
			sb.WriteString(" OR ")
		}
		sb.WriteByte('"')
		sb.WriteString(strings.ReplaceAll(t, `"`, `""`)) // tokens hold no quotes; belt and braces
		sb.WriteByte('"')
	}
	if sb.Len() == 0 {
		return ""
	}
	sb.WriteByte(')')
	return sb.String()
}

// fillPassages completes the passages that only dense search found (ID
// only) with their stored fields, in one query, and drops any whose chunk
// was deleted meanwhile.
func (ix *Index) fillPassages(ctx context.Context, tenant string, ps []retrieval.Passage) ([]retrieval.Passage, error) {
	var missing []string
	for _, p := range ps {
		if p.Text == "" {
			missing = append(missing, p.ChunkID)
		}
	}
	if len(missing) == 0 {
		return ps, nil
	}
	// By id alone, so that SQLite uses the id index rather than scanning the
	// tenant's rows; the tenant is checked on each row instead.
	var sb strings.Builder
	sb.WriteString(`SELECT tenant, id, document_id, text, page, title, source FROM index_chunks WHERE 1`)
	args := appendIn(&sb, nil, "id", missing)
	rows, err := ix.db.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
	}
	defer rows.Close()
	found := make(map[string]retrieval.Passage, len(missing))
	for rows.Next() {
		var p retrieval.Passage
		var rowTenant string
		if err := rows.Scan(&rowTenant, &p.ChunkID, &p.DocumentID, &p.Text, &p.Page, &p.Title, &p.Source); err != nil {
			return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
		}
		if rowTenant == tenant {
			found[p.ChunkID] = p
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
	}
	out := ps[:0]
	for _, p := range ps {
		if p.Text == "" {
			f, ok := found[p.ChunkID]
			if !ok {
				continue
			}
			f.Score = p.Score
			p = f
		}
		out = append(out, p)
	}
	return out, nil
}

// appendIn adds "AND col IN (?, ...)" for values, if any, to a query.
func appendIn(sb *strings.Builder, args []any, col string, values []string) []any {
	if len(values) == 0 {
		return args
	}
	sb.WriteString(" AND ")
	sb.WriteString(col)
	sb.WriteString(" IN (")
	for i, v := range values {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('?')
		args = append(args, v)
	}
	sb.WriteByte(')')
	return args
}

// bumpGeneration advances tenant's generation inside tx and returns the new
// value. Transactions take the write lock up front (_txlock=immediate), so
// the new value is exactly one more than the state tx started from.
func bumpGeneration(ctx context.Context, tx *sql.Tx, tenant string) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO index_generations (tenant, gen) VALUES (?, 1)
		ON CONFLICT (tenant) DO UPDATE SET gen = gen + 1
		RETURNING gen`, tenant).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("sqlite: bump index generation: %w", err)
	}
	return gen, nil
}

// generation reads tenant's generation; 0 means the tenant was never written.
func (ix *Index) generation(ctx context.Context, tenant string) (int64, error) {
	var gen int64
	err := ix.genStmt.QueryRowContext(ctx, tenant).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("sqlite: read index generation: %w", err)
	}
	return gen, nil
}

// encodeVector appends v as little-endian float32s to dst.
func encodeVector(dst []byte, v []float32) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	return dst
}

// decodeVector appends the float32s of a little-endian blob to dst.
func decodeVector(dst []float32, blob []byte) []float32 {
	for i := 0; i+4 <= len(blob); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(blob[i:])))
	}
	return dst
}
