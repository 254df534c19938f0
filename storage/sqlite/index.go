package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Index is the embedded-mode search index of one embedding space: chunk
// rows in the SQLite file, and each tenant's searchable chunks in memory,
// as vectors for brute-force dense search and as an inverted index for
// BM25, the two candidate lists that retrieval fuses. Several processes
// may share the file (an api process searching while a worker process
// ingests): a per-tenant generation counter in the database tells each
// process when its copy of a tenant is stale. Spaces opens one per space;
// it is safe for concurrent use.
type Index struct {
	db    *sql.DB // writes (one connection)
	rdb   *sql.DB // reads
	dim   int
	space retrieval.Space
	sid   int64 // index_spaces.sid: every row of this space carries it

	cache  *tenantCache
	loads  singleflight.Group // one reload per tenant at a time
	scores sync.Pool          // of *[]float32, lexical scoring scratch
}

var _ retrieval.Index = (*Index)(nil)

// NewIndex returns the index stored in db for vectors of dim dimensions: the
// space of the hash embedder at dim ("hash-<dim>"), made live when no space
// is. It fails when dim is not positive or when another space is live and
// holds chunks (vectors of different embedders must never mix; Spaces is how
// to move from one to another). It is how callers that know one embedder
// open the index; Spaces.Open is the general form.
func NewIndex(ctx context.Context, db *DB, dim int) (*Index, error) {
	if dim <= 0 {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "sqlite: index dimension must be positive, got %d", dim)
	}
	return NewSpaces(db, SpacesOptions{}).openDefault(ctx, hashSpace(dim))
}

// newIndexOf returns the index of space sid.
func newIndexOf(db *DB, space retrieval.Space, sid int64, cacheBytes int64) *Index {
	return &Index{db: db.sql, rdb: db.read, dim: space.Dim, space: space, sid: sid, cache: newDenseCache(cacheBytes)}
}

// Space is the embedding space the index holds.
func (ix *Index) Space() retrieval.Space { return ix.space }

// Close is a no-op kept for callers that close what they open: the index
// holds no resources of its own (its statements live in the connections'
// statement cache, stmtcache.go). The DB stays open: close it separately.
func (ix *Index) Close() error { return nil }

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
// refused (ECONFLICT) rather than moved. Staged chunks stay out of the
// in-memory copies until PublishVersion; a chunk that is already searchable
// stays searchable.
func (ix *Index) Upsert(ctx context.Context, chunks []retrieval.IndexedChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	if err := storage.CheckIndexedChunks(chunks, ix.dim); err != nil {
		return err
	}

	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: upsert: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var blob []byte
	// next is each tenant's generation after this write, which every row
	// written carries (a staged row's is replaced when it is published);
	// gens holds it for the tenants with visible chunks, the only ones whose
	// generation moves.
	next := make(map[string]int64)
	gens := make(map[string]int64)
	// visible are the chunks searchable after the commit: only they touch
	// the generations and the in-memory copies.
	visible := make([]retrieval.IndexedChunk, 0, len(chunks))
	for i := range chunks {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sqlite: upsert: %w", err)
			}
		}
		c := &chunks[i]
		gen, ok := next[c.Tenant]
		if !ok {
			if gen, err = nextGeneration(ctx, tx, ix.sid, c.Tenant); err != nil {
				return err
			}
			next[c.Tenant] = gen
		}
		blob = storage.AppendVector(blob[:0], c.Vector)
		var staged bool
		err := tx.QueryRowContext(ctx, upsertChunkSQL, ix.sid, c.ID, c.Tenant, c.DocumentID, c.Version, c.Index, c.Text, c.Page,
			c.Title, c.Source, blob, c.ContentHash, c.Staged, gen).Scan(&staged)
		if errors.Is(err, sql.ErrNoRows) {
			return ragqueue.Errorf(ragqueue.ECONFLICT, "sqlite: upsert: chunk ID %s belongs to another tenant", c.ID)
		} else if err != nil {
			return fmt.Errorf("sqlite: upsert chunk %s: %w", c.ID, err)
		}
		if staged {
			continue
		}
		visible = append(visible, *c)
		gens[c.Tenant] = gen
	}
	for tenant, gen := range gens {
		if err := bumpGeneration(ctx, tx, ix.sid, tenant, gen); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: upsert: commit: %w", err)
	}
	ix.cache.applyUpsert(ix.dim, visible, gens)
	return nil
}

// upsertChunkSQL writes one chunk of Upsert (the connection's statement
// cache keeps it prepared).
const upsertChunkSQL = `
		INSERT INTO index_chunks (space_id, id, tenant, document_id, version, idx, text, page, title, source, vector, content_hash, staged, gen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (space_id, id) DO UPDATE SET
			document_id = excluded.document_id, version = excluded.version, idx = excluded.idx,
			text = excluded.text, page = excluded.page, title = excluded.title, source = excluded.source,
			vector = excluded.vector, content_hash = excluded.content_hash,
			staged = min(index_chunks.staged, excluded.staged), gen = excluded.gen
		WHERE index_chunks.tenant = excluded.tenant
		RETURNING staged`

// DeleteDocument removes every chunk of one document of one tenant, staged
// or searchable. A document with no chunks is not an error.
func (ix *Index) DeleteDocument(ctx context.Context, tenant, documentID string) error {
	if tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "sqlite: delete document: no tenant")
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete document %s: begin: %w", documentID, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	gen, err := nextGeneration(ctx, tx, ix.sid, tenant)
	if err != nil {
		return err
	}
	// The searchable chunks are recorded as removed, for other processes
	// to catch up from.
	res, err := tx.ExecContext(ctx, `INSERT INTO index_removed (space_id, tenant, gen, id)
		SELECT space_id, tenant, ?, id FROM index_chunks WHERE space_id = ? AND tenant = ? AND document_id = ? AND staged = 0`,
		gen, ix.sid, tenant, documentID)
	if err != nil {
		return fmt.Errorf("sqlite: delete document %s: %w", documentID, err)
	}
	visible, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete document %s: %w", documentID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM index_chunks WHERE space_id = ? AND tenant = ? AND document_id = ?`, ix.sid, tenant, documentID); err != nil {
		return fmt.Errorf("sqlite: delete document %s: staged: %w", documentID, err)
	}
	if visible == 0 {
		// Searches see no change: keep the generation (and every cache) as is.
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: delete document %s: commit: %w", documentID, err)
		}
		return nil
	}
	if err := bumpGeneration(ctx, tx, ix.sid, tenant, gen); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete document %s: commit: %w", documentID, err)
	}
	ix.cache.applyDelete(ix.dim, tenant, documentID, gen)
	return nil
}

// PublishVersion implements retrieval.Index: in one transaction the staged
// chunks of version become searchable and every chunk of an older version
// of the document is removed.
func (ix *Index) PublishVersion(ctx context.Context, tenant, documentID string, version int) error {
	if tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "sqlite: publish version: no tenant")
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: begin: %w", documentID, version, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM index_chunks
		WHERE space_id = ? AND tenant = ? AND document_id = ? AND staged = 0`, ix.sid, tenant, documentID).Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: %w", documentID, version, err)
	}
	if newest.Valid && newest.Int64 > int64(version) {
		return nil // a newer version answers already; never go back
	}

	gen, err := nextGeneration(ctx, tx, ix.sid, tenant)
	if err != nil {
		return err
	}
	// The staged chunks of version become searchable.
	published, err := ix.stagedChunks(ctx, tx, tenant, documentID, version)
	if err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: %w", documentID, version, err)
	}
	if len(published) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE index_chunks SET staged = 0, gen = ?
			WHERE space_id = ? AND tenant = ? AND document_id = ? AND version = ? AND staged = 1`, gen, ix.sid, tenant, documentID, version); err != nil {
			return fmt.Errorf("sqlite: publish %s v%d: %w", documentID, version, err)
		}
	}

	// The older versions go: their searchable chunks are recorded as removed,
	// for other processes to catch up from, and the IDs recorded are the ones
	// the in-memory copies drop.
	removed, err := queryStrings(ctx, tx, `INSERT INTO index_removed (space_id, tenant, gen, id)
		SELECT space_id, tenant, ?, id FROM index_chunks WHERE space_id = ? AND tenant = ? AND document_id = ? AND version < ? AND staged = 0
		RETURNING id`, gen, ix.sid, tenant, documentID, version)
	if err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: %w", documentID, version, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM index_chunks WHERE space_id = ? AND tenant = ? AND document_id = ? AND version < ?`,
		ix.sid, tenant, documentID, version); err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: %w", documentID, version, err)
	}

	if len(published) == 0 && len(removed) == 0 {
		// Searches see no change (at most staged leftovers went).
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: publish %s v%d: commit: %w", documentID, version, err)
		}
		return nil
	}
	if err := bumpGeneration(ctx, tx, ix.sid, tenant, gen); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: publish %s v%d: commit: %w", documentID, version, err)
	}
	ix.cache.applyPublish(ix.dim, tenant, removed, published, gen)
	return nil
}

// stagedChunks reads the staged chunks of one version of a document (ID,
// text and vector), the ones PublishVersion makes searchable.
func (ix *Index) stagedChunks(ctx context.Context, tx *sql.Tx, tenant, documentID string, version int) ([]retrieval.IndexedChunk, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, text, vector FROM index_chunks
		WHERE space_id = ? AND tenant = ? AND document_id = ? AND version = ? AND staged = 1`, ix.sid, tenant, documentID, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out  []retrieval.IndexedChunk
		blob []byte
	)
	for rows.Next() {
		c := retrieval.IndexedChunk{Tenant: tenant, DocumentID: documentID, Version: version}
		if err := rows.Scan(&c.ID, &c.Text, &blob); err != nil {
			return nil, err
		}
		if err := ix.checkVector(c.ID, blob); err != nil {
			return nil, err
		}
		c.Vector = storage.AppendDecodedVector(make([]float32, 0, ix.dim), blob)
		out = append(out, c)
	}
	return out, rows.Err()
}

// queryStrings runs a query whose rows are one string each.
func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
