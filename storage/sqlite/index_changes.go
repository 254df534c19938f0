package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Removal records: a write that removes searchable chunks records their IDs
// in index_removed under the generation it creates, and every changed row
// carries that generation in index_chunks.gen, so that another process
// holding the tenant at an older generation reads only what changed since.
// Records older than removedKeep generations are pruned, every pruneEvery
// generations; a process further behind than that reads the whole tenant.
const (
	removedKeep = 4096
	pruneEvery  = 64
)

// generationSQL reads a tenant's generation in a space.
const generationSQL = `SELECT gen FROM index_generations WHERE space_id = ? AND tenant = ?`

// nextGeneration returns the generation tenant gets if tx changes what its
// searches see. Transactions take the write lock up front
// (_txlock=immediate), so nothing else moves it before tx commits.
func nextGeneration(ctx context.Context, tx *sql.Tx, sid int64, tenant string) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, generationSQL, sid, tenant).Scan(&gen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: read index generation: %w", err)
	}
	return gen + 1, nil
}

// bumpGeneration advances tenant's generation inside tx to want, the value
// nextGeneration gave, and now and then prunes old removal records.
func bumpGeneration(ctx context.Context, tx *sql.Tx, sid int64, tenant string, want int64) error {
	var gen int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO index_generations (space_id, tenant, gen) VALUES (?, ?, 1)
		ON CONFLICT (space_id, tenant) DO UPDATE SET gen = gen + 1
		RETURNING gen`, sid, tenant).Scan(&gen)
	if err != nil {
		return fmt.Errorf("sqlite: bump index generation: %w", err)
	}
	if gen != want {
		return fmt.Errorf("sqlite: bump index generation: %d, expected %d: another writer moved it", gen, want)
	}
	if cut := gen - removedKeep; gen%pruneEvery == 0 && cut > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM index_removed WHERE space_id = ? AND tenant = ? AND gen <= ?`, sid, tenant, cut); err != nil {
			return fmt.Errorf("sqlite: prune removal records: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE index_generations SET pruned = max(pruned, ?) WHERE space_id = ? AND tenant = ?`, cut, sid, tenant); err != nil {
			return fmt.Errorf("sqlite: prune removal records: %w", err)
		}
	}
	return nil
}

// refresh brings base, this process's copy of tenant at generation
// baseGen, up to the database's generation by reading only what changed
// since. It reports false when that is impossible (the removal records
// needed were pruned) and the tenant must be read whole.
func (ix *Index) refresh(ctx context.Context, tenant string, base *tenantSet, baseGen int64) (bool, error) {
	tx, err := ix.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	// One transaction is one snapshot: the generation, the removals and the
	// rows agree.
	var gen, pruned int64
	err = tx.QueryRowContext(ctx, `SELECT gen, pruned FROM index_generations WHERE space_id = ? AND tenant = ?`, ix.sid, tenant).Scan(&gen, &pruned)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // the space was dropped and made again: read it whole
	case err != nil:
		return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
	case baseGen < pruned:
		return false, nil
	case gen <= baseGen:
		return true, nil
	}
	removed, err := queryStrings(ctx, tx, `SELECT id FROM index_removed WHERE space_id = ? AND tenant = ? AND gen > ?`, ix.sid, tenant, baseGen)
	if err != nil {
		return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, document_id, vector, text FROM index_chunks
		WHERE space_id = ? AND tenant = ? AND gen > ? AND staged = 0`, ix.sid, tenant, baseGen)
	if err != nil {
		return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
	}
	defer rows.Close()
	var (
		changed []retrieval.IndexedChunk
		blob    []byte
	)
	for rows.Next() {
		c := retrieval.IndexedChunk{Tenant: tenant}
		if err := rows.Scan(&c.ID, &c.DocumentID, &blob, &c.Text); err != nil {
			return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
		}
		if err := ix.checkVector(c.ID, blob); err != nil {
			return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
		}
		c.Vector = storage.AppendDecodedVector(make([]float32, 0, ix.dim), blob)
		changed = append(changed, c)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("sqlite: refresh vectors: %w", err)
	}
	ix.cache.applyChanges(ix.dim, tenant, base, baseGen, gen, removed, changed)
	return true, nil
}

// current returns tenant's cached set and the generation it is at, or nil.
func (c *tenantCache) current(tenant string) (*tenantSet, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.sets[tenant]
	if set == nil {
		return nil, 0
	}
	return set, set.gen
}

// applyChanges applies what changed between generations from and to to
// set, if set is still tenant's cached copy at from; otherwise someone else
// already moved it, and the caller's search looks again.
func (c *tenantCache) applyChanges(dim int, tenant string, set *tenantSet, from, to int64, removed []string, changed []retrieval.IndexedChunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets[tenant] != set || set.gen != from {
		return
	}
	set.apply(dim, removed, changed)
	set.gen = to
	c.evictLocked(tenant)
}
