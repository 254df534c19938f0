package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

// maxHashesPerQuery keeps VectorsByHash's IN lists far below SQLite's
// parameter limit.
const maxHashesPerQuery = 500

// VectorsByHash implements retrieval.Index.
func (ix *Index) VectorsByHash(ctx context.Context, tenant, documentID string, hashes []string) (map[string][]float32, error) {
	if tenant == "" {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "sqlite: vectors by hash: no tenant")
	}
	out := make(map[string][]float32)
	want := storage.DistinctHashes(hashes)
	for start := 0; start < len(want); start += maxHashesPerQuery {
		part := want[start:min(start+maxHashesPerQuery, len(want))]
		var sb strings.Builder
		sb.WriteString(`SELECT content_hash, vector FROM index_chunks WHERE space_id = ? AND tenant = ? AND document_id = ?`)
		args := appendIn(&sb, []any{ix.sid, tenant, documentID}, "content_hash", part)
		rows, err := ix.rdb.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: vectors by hash of %s: %w", documentID, err)
		}
		var blob []byte
		for rows.Next() {
			var h string
			if err := rows.Scan(&h, &blob); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("sqlite: vectors by hash of %s: %w", documentID, err)
			}
			if _, ok := out[h]; ok || len(blob) != 4*ix.dim {
				continue
			}
			out[h] = storage.AppendDecodedVector(make([]float32, 0, ix.dim), blob)
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: vectors by hash of %s: %w", documentID, err)
		}
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
