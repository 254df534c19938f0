package sqlstore

import (
	"context"
	"database/sql"
	"errors"

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
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return ragqueue.Turn{}, s.errorf("add turn: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	now := now()
	at := s.d.time(now)
	// The upsert locks the conversation row until commit: concurrent turns
	// of one conversation take turns.
	if _, err := tx.Exec(ctx, `INSERT INTO conversations (tenant, id, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET updated_at = excluded.updated_at`,
		t.Tenant, t.ConversationID, at, at); err != nil {
		return ragqueue.Turn{}, s.errorf("add turn to conversation %s: %w", t.ConversationID, err)
	}
	// The turn takes the next number in the same statement; a job whose
	// turn is stored already (a retried job) inserts nothing, and the
	// stored turn wins.
	t.CreatedAt = now
	err = tx.QueryRow(ctx, `INSERT INTO conversation_turns (`+turnColumns+`)
		VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_turns WHERE tenant = ? AND conversation_id = ?),
			?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, conversation_id, job_id) DO NOTHING RETURNING seq`,
		t.ConversationID, t.Tenant, t.Tenant, t.ConversationID, t.Question, t.Standalone, t.Answer, cites, t.JobID, at).Scan(&t.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		var stored ragqueue.Turn
		if stored, err = scanTurn(tx.QueryRow(ctx, `SELECT `+turnColumns+` FROM conversation_turns
			WHERE tenant = ? AND conversation_id = ? AND job_id = ?`, t.Tenant, t.ConversationID, t.JobID)); err == nil {
			t = stored
		}
	}
	if err != nil {
		return ragqueue.Turn{}, s.errorf("add turn to conversation %s: %w", t.ConversationID, err)
	}
	if err := tx.Commit(); err != nil {
		return ragqueue.Turn{}, s.errorf("add turn to conversation %s: %w", t.ConversationID, err)
	}
	return t, nil
}

// RecentTurns implements ragqueue.ConversationStore.
func (s *Store) RecentTurns(ctx context.Context, tenant, conversationID string, n int) ([]ragqueue.Turn, error) {
	if n <= 0 {
		return []ragqueue.Turn{}, nil
	}
	turns, err := list(ctx, s.r, scanTurn, `SELECT * FROM (SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?) recent ORDER BY seq`, tenant, conversationID, n)
	if err != nil {
		return nil, s.errorf("recent turns of conversation %s: %w", conversationID, err)
	}
	return turns, nil
}

// GetConversation implements ragqueue.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, tenant, id string) (ragqueue.Conversation, error) {
	c := ragqueue.Conversation{ID: id, Tenant: tenant}
	err := s.r.QueryRow(ctx, `SELECT created_at, updated_at FROM conversations WHERE tenant = ? AND id = ?`,
		tenant, id).Scan(timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Conversation{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "conversation %s not found", id)
	} else if err != nil {
		return ragqueue.Conversation{}, s.errorf("get conversation %s: %w", id, err)
	}
	c.Turns, err = list(ctx, s.r, scanTurn, `SELECT `+turnColumns+` FROM conversation_turns
		WHERE tenant = ? AND conversation_id = ? ORDER BY seq`, tenant, id)
	if err != nil {
		return ragqueue.Conversation{}, s.errorf("get conversation %s: %w", id, err)
	}
	return c, nil
}

// DeleteConversation implements ragqueue.ConversationStore.
func (s *Store) DeleteConversation(ctx context.Context, tenant, id string) error {
	res, err := s.w.Exec(ctx, `DELETE FROM conversations WHERE tenant = ? AND id = ?`, tenant, id)
	if err != nil {
		return s.errorf("delete conversation %s: %w", id, err)
	}
	return s.mustAffect(res, "conversation %s not found", id)
}

// scanTurn reads one row of turnColumns.
func scanTurn(sc scanner) (ragqueue.Turn, error) {
	var (
		t     ragqueue.Turn
		cites []byte
	)
	if err := sc.Scan(&t.ConversationID, &t.Tenant, &t.Seq, &t.Question, &t.Standalone, &t.Answer, &cites, &t.JobID,
		timeCol{&t.CreatedAt}); err != nil {
		return ragqueue.Turn{}, err
	}
	if err := storage.DecodeCitations(&t, cites); err != nil {
		return ragqueue.Turn{}, err
	}
	return t, nil
}
