package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// SpacesOptions tunes the embedded index's spaces. The zero value is usable.
type SpacesOptions struct {
	// CacheBytes bounds the memory each open space keeps for search, the
	// tenants' vectors and BM25 indexes (least recently searched tenants are
	// evicted first, and reloaded by their next search); 0 means 2 GiB.
	CacheBytes int64
}

// Spaces is the embedded index's retrieval.Spaces: every space's chunks and
// generations live in the same SQLite file, told apart by the space's row
// in index_spaces, and index_live is the one-row pointer that
// names the live space. Data written before spaces existed is the space
// "hash-<dim>" (migration 00008), live. It is safe for concurrent use.
type Spaces struct {
	db   *DB
	opts SpacesOptions

	mu   sync.Mutex
	open map[string]*Index // name → index; guarded by mu
}

var _ retrieval.Spaces = (*Spaces)(nil)

// NewSpaces returns the spaces stored in db.
func NewSpaces(db *DB, opts SpacesOptions) *Spaces {
	return &Spaces{db: db, opts: opts, open: make(map[string]*Index)}
}

// hashSpace is the space of the hash embedder at dim, the one every index
// written before spaces existed holds.
func hashSpace(dim int) retrieval.Space {
	d := strconv.Itoa(dim)
	return retrieval.Space{Name: "hash-" + d, Embedder: "hash:" + d, Dim: dim}
}

// validSpaceName reports whether name may name a space: 1 to 128 of
// lower-case letters, digits, '-' and '_'.
func validSpaceName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// spaceRow is a space as index_spaces stores it.
type spaceRow struct {
	sid   int64
	space retrieval.Space
}

// lookup reads the space called name; ok is false when there is none.
func lookupSpace(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (row spaceRow, ok bool, err error) {
	row.space.Name = name
	err = q.QueryRowContext(ctx, `SELECT sid, embedder, dim FROM index_spaces WHERE name = ?`, name).
		Scan(&row.sid, &row.space.Embedder, &row.space.Dim)
	if errors.Is(err, sql.ErrNoRows) {
		return row, false, nil
	} else if err != nil {
		return row, false, fmt.Errorf("sqlite: space %s: %w", name, err)
	}
	return row, true, nil
}

// Open implements retrieval.Spaces.
func (sp *Spaces) Open(ctx context.Context, space retrieval.Space) (retrieval.Index, error) {
	return sp.OpenIndex(ctx, space)
}

// OpenIndex is Open returning the concrete index.
func (sp *Spaces) OpenIndex(ctx context.Context, space retrieval.Space) (*Index, error) {
	if !validSpaceName(space.Name) {
		return nil, ragqueue.Errorf(ragqueue.EINVALID,
			"sqlite: space name %q must be 1 to 128 lower-case letters, digits, '-' or '_'", space.Name)
	}
	if space.Dim <= 0 {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "sqlite: space %s: dimension must be positive, got %d", space.Name, space.Dim)
	}
	row, err := sp.ensure(ctx, space)
	if err != nil {
		return nil, err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	// Another process may have dropped and re-created the space since this
	// one opened it: the sid tells.
	if ix := sp.open[space.Name]; ix != nil {
		if ix.sid == row.sid {
			return ix, nil
		}
		ix.cache.clear()
	}
	ix := newIndexOf(sp.db, row.space, row.sid, sp.opts.CacheBytes)
	sp.open[space.Name] = ix
	return ix, nil
}

// ensure reads space's row, creating it when missing, and checks its
// dimension.
func (sp *Spaces) ensure(ctx context.Context, space retrieval.Space) (spaceRow, error) {
	row, ok, err := lookupSpace(ctx, sp.db.read, space.Name)
	if err != nil {
		return row, err
	}
	if !ok {
		tx, err := sp.db.sql.BeginTx(ctx, nil)
		if err != nil {
			return row, fmt.Errorf("sqlite: create space %s: begin: %w", space.Name, err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		// Again inside the write lock: another process may have won.
		if row, ok, err = lookupSpace(ctx, tx, space.Name); err != nil {
			return row, err
		}
		if !ok {
			row.space = space
			if err := tx.QueryRowContext(ctx, `INSERT INTO index_spaces (name, embedder, dim)
				VALUES (?, ?, ?) RETURNING sid`, space.Name, space.Embedder, space.Dim).Scan(&row.sid); err != nil {
				return row, fmt.Errorf("sqlite: create space %s: %w", space.Name, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return row, fmt.Errorf("sqlite: create space %s: commit: %w", space.Name, err)
		}
	}
	if row.space.Dim != space.Dim {
		return row, ragqueue.Errorf(ragqueue.EINVALID,
			"sqlite: space %s holds %d-dimensional vectors, not %d", space.Name, row.space.Dim, space.Dim)
	}
	return row, nil
}

// Live implements retrieval.Spaces.
func (sp *Spaces) Live(ctx context.Context) (retrieval.Space, bool, error) {
	var s retrieval.Space
	err := sp.db.read.QueryRowContext(ctx, `SELECT s.name, s.embedder, s.dim
		FROM index_live l JOIN index_spaces s ON s.sid = l.sid`).Scan(&s.Name, &s.Embedder, &s.Dim)
	if errors.Is(err, sql.ErrNoRows) {
		return retrieval.Space{}, false, nil
	} else if err != nil {
		return retrieval.Space{}, false, fmt.Errorf("sqlite: live space: %w", err)
	}
	return s, true, nil
}

// SetLive implements retrieval.Spaces: one statement moves the pointer, so
// every searcher that reads it afterwards uses the new space. A space that
// was never opened fails with ENOTFOUND, one of another dimension with
// EINVALID.
func (sp *Spaces) SetLive(ctx context.Context, space retrieval.Space) error {
	row, ok, err := lookupSpace(ctx, sp.db.read, space.Name)
	switch {
	case err != nil:
		return err
	case !ok:
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "sqlite: space %q does not exist: open it before making it live", space.Name)
	case space.Dim != 0 && row.space.Dim != space.Dim:
		return ragqueue.Errorf(ragqueue.EINVALID,
			"sqlite: space %s holds %d-dimensional vectors, not %d", space.Name, row.space.Dim, space.Dim)
	}
	// By name inside the statement: a space dropped in between leaves no
	// row to point at, and the insert fails instead of pointing at nothing.
	res, err := sp.db.sql.ExecContext(ctx, `INSERT INTO index_live (one, sid)
		SELECT 1, sid FROM index_spaces WHERE name = ?
		ON CONFLICT (one) DO UPDATE SET sid = excluded.sid`, space.Name)
	if err != nil {
		return fmt.Errorf("sqlite: set live space %s: %w", space.Name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "sqlite: space %q was dropped", space.Name)
	}
	return nil
}

// List implements retrieval.Spaces, in name order.
func (sp *Spaces) List(ctx context.Context) ([]retrieval.Space, error) {
	rows, err := sp.db.read.QueryContext(ctx, `SELECT name, embedder, dim FROM index_spaces ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list spaces: %w", err)
	}
	defer rows.Close()
	var out []retrieval.Space
	for rows.Next() {
		var s retrieval.Space
		if err := rows.Scan(&s.Name, &s.Embedder, &s.Dim); err != nil {
			return nil, fmt.Errorf("sqlite: list spaces: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list spaces: %w", err)
	}
	return out, nil
}

// Drop implements retrieval.Spaces: the space's chunks, generations,
// removal records and row go in one transaction. Indexes of it that this
// process handed out answer empty afterwards and refuse writes.
func (sp *Spaces) Drop(ctx context.Context, name string) error {
	tx, err := sp.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: drop space %s: begin: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	row, ok, err := lookupSpace(ctx, tx, name)
	if err != nil || !ok {
		return err
	}
	var live sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT sid FROM index_live WHERE one = 1`).Scan(&live); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: drop space %s: %w", name, err)
	}
	if live.Valid && live.Int64 == row.sid {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "sqlite: space %s is live: make another space live before dropping it", name)
	}
	for _, stmt := range []string{
		`DELETE FROM index_chunks WHERE space_id = ?`,
		`DELETE FROM index_generations WHERE space_id = ?`,
		`DELETE FROM index_removed WHERE space_id = ?`,
		`DELETE FROM index_spaces WHERE sid = ?`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, row.sid); err != nil {
			return fmt.Errorf("sqlite: drop space %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: drop space %s: commit: %w", name, err)
	}
	sp.mu.Lock()
	if ix := sp.open[name]; ix != nil {
		ix.cache.clear()
		delete(sp.open, name)
	}
	sp.mu.Unlock()
	return nil
}

// Close forgets the indexes Open returned; they hold no resources of their
// own. The DB stays open.
func (sp *Spaces) Close() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	clear(sp.open)
	return nil
}

// openDefault is NewIndex: space opened and made live when no space is, or
// when the live one holds no chunks; refused when another space is live
// and holds chunks.
func (sp *Spaces) openDefault(ctx context.Context, space retrieval.Space) (*Index, error) {
	live, ok, err := sp.Live(ctx)
	if err != nil {
		return nil, err
	}
	if ok && live.Name != space.Name {
		var n int
		err := sp.db.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM index_chunks c
			JOIN index_spaces s ON s.sid = c.space_id WHERE s.name = ? LIMIT 1)`, live.Name).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("sqlite: new index: %w", err)
		}
		if n > 0 {
			return nil, ragqueue.Errorf(ragqueue.EINVALID,
				"sqlite: the index holds %d-dimensional vectors of space %s, not %s: re-index with the embedder it was built with or start a new data dir",
				live.Dim, live.Name, space.Name)
		}
		ok = false
	}
	ix, err := sp.OpenIndex(ctx, space)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := sp.SetLive(ctx, space); err != nil {
			return nil, err
		}
	}
	return ix, nil
}
