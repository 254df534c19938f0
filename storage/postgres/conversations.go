package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const turnColumns = `conversation_id, tenant, seq, question, standalone, answer, citations, job_id, created_at`

// AddTurn implements ragqueue.ConversationStore. Turns of one conversation
// are numbered under the conversation row's lock.
func (s *Store) AddTurn(ctx context.Context, t ragqueue.Turn) (ragqueue.Turn, error) {
	t, cites, err := storage.PrepareTurn(t)
	if err != nil {
		return ragqueue.Turn{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ragqueue.Turn{}, fmt.Errorf("postgres: add turn: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	now := now()
	// The upsert locks the conversation row until commit: concurrent turns
	// of one conversation take turns.
	if _, err := tx.Exec(ctx, `INSERT INTO conversations (tenant, id, created_at, updated_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (tenant, id) DO UPDATE SET updated_at = EXCLUDED.updated_at`,
		t.Tenant, t.ConversationID, now); err != nil {
		return ragqueue.Turn{}, fmt.Errorf("postgres: add turn to conversation %s: %w", t.ConversationID, err)
	}
	// The turn takes the next number in the same statement; a job whose
	// turn is stored already (a retried job) inserts nothing, and the
	// stored turn wins.
	t.CreatedAt = now
	err = tx.QueryRow(ctx, `INSERT INTO conversation_turns (`+turnColumns+`)
		VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_turns WHERE tenant = $2 AND conversation_id = $1),
			$3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant, conversation_id, job_id) DO NOTHING RETURNING seq`,
		t.ConversationID, t.Tenant, t.Question, t.Standalone, t.Answer, cites, t.JobID, now).Scan(&t.Seq)
	if isNoRows(err) {
		var stored ragqueue.Turn
		if stored, err = scanTurn(tx.QueryRow(ctx, `SELECT `+turnColumns+` FROM conversation_turns
			WHERE tenant = $1 AND conversation_id = $2 AND job_id = $3`, t.Tenant, t.ConversationID, t.JobID)); err == nil {
			t = stored
		}
	}
	if err != nil {
		return ragqueue.Turn{}, fmt.Errorf("postgres: add turn to conversation %s: %w", t.ConversationID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return ragqueue.Turn{}, fmt.Errorf("postgres: add turn to conversation %s: %w", t.ConversationID, err)
	}
	return t, nil
}

// RecentTurns implements ragqueue.ConversationStore.
func (s *Store) RecentTurns(ctx context.Context, tenant, conversationID string, n int) ([]ragqueue.Turn, error) {
	if n <= 0 {
		return []ragqueue.Turn{}, nil
	}
	turns, err := s.queryTurns(ctx, `SELECT * FROM (SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = $1 AND conversation_id = $2 ORDER BY seq DESC LIMIT $3) recent ORDER BY seq`, tenant, conversationID, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: recent turns of conversation %s: %w", conversationID, err)
	}
	return turns, nil
}

// GetConversation implements ragqueue.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, tenant, id string) (ragqueue.Conversation, error) {
	c := ragqueue.Conversation{ID: id, Tenant: tenant}
	err := s.pool.QueryRow(ctx, `SELECT created_at, updated_at FROM conversations WHERE tenant = $1 AND id = $2`,
		tenant, id).Scan(&c.CreatedAt, &c.UpdatedAt)
	if isNoRows(err) {
		return ragqueue.Conversation{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "conversation %s not found", id)
	} else if err != nil {
		return ragqueue.Conversation{}, fmt.Errorf("postgres: get conversation %s: %w", id, err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.Turns, err = s.queryTurns(ctx, `SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = $1 AND conversation_id = $2 ORDER BY seq`, tenant, id)
	if err != nil {
		return ragqueue.Conversation{}, fmt.Errorf("postgres: get conversation %s: %w", id, err)
	}
	return c, nil
}

// DeleteConversation implements ragqueue.ConversationStore.
func (s *Store) DeleteConversation(ctx context.Context, tenant, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM conversations WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return fmt.Errorf("postgres: delete conversation %s: %w", id, err)
	}
	return mustAffect(tag, "conversation %s not found", id)
}

func (s *Store) queryTurns(ctx context.Context, query string, args ...any) ([]ragqueue.Turn, error) {
	rows, err := s.pool.Query(ctx, query, args...)
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

func scanTurn(row pgx.Row) (ragqueue.Turn, error) {
	var (
		t     ragqueue.Turn
		cites []byte
	)
	if err := row.Scan(&t.ConversationID, &t.Tenant, &t.Seq, &t.Question, &t.Standalone, &t.Answer, &cites, &t.JobID, &t.CreatedAt); err != nil {
		return ragqueue.Turn{}, err
	}
	if err := storage.DecodeCitations(&t, cites); err != nil {
		return ragqueue.Turn{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}
