package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const turnColumns = `conversation_id, tenant, seq, question, standalone, answer, citations, job_id, created_at`

// AddTurn implements ragqueue.ConversationStore.
func (s *Store) AddTurn(ctx context.Context, t ragqueue.Turn) (ragqueue.Turn, error) {
	t, cites, err := storage.PrepareTurn(t)
	if err != nil {
		return ragqueue.Turn{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ragqueue.Turn{}, fmt.Errorf("sqlite: add turn: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	now := now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (tenant, id, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET updated_at = excluded.updated_at`,
		t.Tenant, t.ConversationID, nanos(now), nanos(now)); err != nil {
		return ragqueue.Turn{}, fmt.Errorf("sqlite: add turn to conversation %s: %w", t.ConversationID, err)
	}
	// The turn takes the next number in the same statement; a job whose
	// turn is stored already (a retried job) inserts nothing, and the
	// stored turn wins.
	t.CreatedAt = now
	err = tx.QueryRowContext(ctx, `INSERT INTO conversation_turns (`+turnColumns+`)
		VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_turns WHERE tenant = ? AND conversation_id = ?),
			?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, conversation_id, job_id) DO NOTHING RETURNING seq`,
		t.ConversationID, t.Tenant, t.Tenant, t.ConversationID, t.Question, t.Standalone, t.Answer, cites, t.JobID, nanos(now)).Scan(&t.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		var stored ragqueue.Turn
		if stored, err = scanTurn(tx.QueryRowContext(ctx, `SELECT `+turnColumns+` FROM conversation_turns
			WHERE tenant = ? AND conversation_id = ? AND job_id = ?`, t.Tenant, t.ConversationID, t.JobID)); err == nil {
			t = stored
		}
	}
	if err != nil {
		return ragqueue.Turn{}, fmt.Errorf("sqlite: add turn to conversation %s: %w", t.ConversationID, err)
	}
	if err := tx.Commit(); err != nil {
		return ragqueue.Turn{}, fmt.Errorf("sqlite: add turn to conversation %s: %w", t.ConversationID, err)
	}
	return t, nil
}

// RecentTurns implements ragqueue.ConversationStore.
func (s *Store) RecentTurns(ctx context.Context, tenant, conversationID string, n int) ([]ragqueue.Turn, error) {
	if n <= 0 {
		return []ragqueue.Turn{}, nil
	}
	turns, err := s.queryTurns(ctx, `SELECT * FROM (SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`, tenant, conversationID, n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent turns of conversation %s: %w", conversationID, err)
	}
	return turns, nil
}

// GetConversation implements ragqueue.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, tenant, id string) (ragqueue.Conversation, error) {
	c := ragqueue.Conversation{ID: id, Tenant: tenant}
	var created, updated int64
	err := s.rdb.QueryRowContext(ctx, `SELECT created_at, updated_at FROM conversations WHERE tenant = ? AND id = ?`,
		tenant, id).Scan(&created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Conversation{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "conversation %s not found", id)
	} else if err != nil {
		return ragqueue.Conversation{}, fmt.Errorf("sqlite: get conversation %s: %w", id, err)
	}
	c.CreatedAt, c.UpdatedAt = fromNanos(created), fromNanos(updated)
	c.Turns, err = s.queryTurns(ctx, `SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = ? AND conversation_id = ? ORDER BY seq`, tenant, id)
	if err != nil {
		return ragqueue.Conversation{}, fmt.Errorf("sqlite: get conversation %s: %w", id, err)
	}
	return c, nil
}

// DeleteConversation implements ragqueue.ConversationStore.
func (s *Store) DeleteConversation(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM conversations WHERE tenant = ? AND id = ?`, tenant, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete conversation %s: %w", id, err)
	}
	return mustAffect(res, "conversation %s not found", id)
}

func (s *Store) queryTurns(ctx context.Context, query string, args ...any) ([]ragqueue.Turn, error) {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	turns := []ragqueue.Turn{}
	for rows.Next() {
		t, err := scanTurn(rows)
		if err != nil {
			return nil, err
		}
		turns = append(turns, t)
	}
	return turns, rows.Err()
}

func scanTurn(sc scanner) (ragqueue.Turn, error) {
	var (
		t       ragqueue.Turn
		cites   string
		created int64
	)
	if err := sc.Scan(&t.ConversationID, &t.Tenant, &t.Seq, &t.Question, &t.Standalone, &t.Answer, &cites, &t.JobID, &created); err != nil {
		return ragqueue.Turn{}, err
	}
	if err := storage.DecodeCitations(&t, []byte(cites)); err != nil {
		return ragqueue.Turn{}, err
	}
	t.CreatedAt = fromNanos(created)
	return t, nil
}
