package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func conversationTests() []test {
	return []test{
		{"TurnsRoundTrip", testConversationTurns},
		{"Recent", testConversationRecent},
		{"IdempotentOnJob", testConversationIdempotent},
		{"TenantScoped", testConversationTenants},
		{"Delete", testConversationDelete},
		{"Invalid", testConversationInvalid},
	}
}

func turn(tenant, conv, job, q string) ragqueue.Turn {
	return ragqueue.Turn{Tenant: tenant, ConversationID: conv, JobID: job, Question: q, Standalone: q + " (standalone)", Answer: "answer to " + q}
}

func testConversationTurns(t *testing.T, s Store) {
	ctx := context.Background()
	first := turn("acme", "c1", "j1", "what is the X100?")
	first.Citations = []ragqueue.Citation{{Index: 1, DocumentID: "d1", ChunkID: "d1-0", Title: "X100", Page: 2, Snippet: "The X100 is"}}
	got, err := s.AddTurn(ctx, first)
	require.NoError(t, err)
	require.Equal(t, 1, got.Seq)
	requireRecent(t, got.CreatedAt)
	second, err := s.AddTurn(ctx, turn("acme", "c1", "j2", "what about its warranty?"))
	require.NoError(t, err)
	require.Equal(t, 2, second.Seq)

	c, err := s.GetConversation(ctx, "acme", "c1")
	require.NoError(t, err)
	require.Equal(t, "c1", c.ID)
	requireRecent(t, c.CreatedAt)
	require.False(t, c.UpdatedAt.Before(c.CreatedAt))
	require.Len(t, c.Turns, 2)
	require.Equal(t, 1, c.Turns[0].Seq)
	require.Equal(t, "what is the X100?", c.Turns[0].Question)
	require.Equal(t, "what is the X100? (standalone)", c.Turns[0].Standalone)
	require.Equal(t, "answer to what is the X100?", c.Turns[0].Answer)
	require.Equal(t, "j1", c.Turns[0].JobID)
	require.Equal(t, first.Citations, c.Turns[0].Citations)
	requireTime(t, got.CreatedAt, c.Turns[0].CreatedAt)
	require.Equal(t, "j2", c.Turns[1].JobID)
	require.NotNil(t, c.Turns[1].Citations)
	require.Empty(t, c.Turns[1].Citations)
}

func testConversationRecent(t *testing.T, s Store) {
	ctx := context.Background()
	none, err := s.RecentTurns(ctx, "acme", "nope", 3)
	require.NoError(t, err)
	require.NotNil(t, none)
	require.Empty(t, none)
	for i, q := range []string{"q1", "q2", "q3", "q4"} {
		_, err := s.AddTurn(ctx, turn("acme", "c1", "j"+string(rune('1'+i)), q))
		require.NoError(t, err)
	}
	recent, err := s.RecentTurns(ctx, "acme", "c1", 2)
	require.NoError(t, err)
	require.Len(t, recent, 2)
	require.Equal(t, "q3", recent[0].Question, "oldest first")
	require.Equal(t, "q4", recent[1].Question)
	all, err := s.RecentTurns(ctx, "acme", "c1", 10)
	require.NoError(t, err)
	require.Len(t, all, 4)
	zero, err := s.RecentTurns(ctx, "acme", "c1", 0)
	require.NoError(t, err)
	require.Empty(t, zero)
}

func testConversationIdempotent(t *testing.T, s Store) {
	ctx := context.Background()
	a, err := s.AddTurn(ctx, turn("acme", "c1", "j1", "q1"))
	require.NoError(t, err)
	again := turn("acme", "c1", "j1", "q1")
	again.Answer = "a different answer from a retried job"
	b, err := s.AddTurn(ctx, again)
	require.NoError(t, err)
	require.Equal(t, a.Seq, b.Seq)
	require.Equal(t, a.Answer, b.Answer, "the stored turn wins")
	c, err := s.GetConversation(ctx, "acme", "c1")
	require.NoError(t, err)
	require.Len(t, c.Turns, 1)
}

func testConversationTenants(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.AddTurn(ctx, turn("acme", "shared", "j1", "acme's question"))
	require.NoError(t, err)
	_, err = s.GetConversation(ctx, "globex", "shared")
	requireCode(t, ragqueue.ENOTFOUND, err)
	recent, err := s.RecentTurns(ctx, "globex", "shared", 5)
	require.NoError(t, err)
	require.Empty(t, recent)
	requireCode(t, ragqueue.ENOTFOUND, s.DeleteConversation(ctx, "globex", "shared"))

	g, err := s.AddTurn(ctx, turn("globex", "shared", "j9", "globex's question"))
	require.NoError(t, err)
	require.Equal(t, 1, g.Seq, "numbering is per tenant's conversation")
	c, err := s.GetConversation(ctx, "acme", "shared")
	require.NoError(t, err)
	require.Len(t, c.Turns, 1)
	require.Equal(t, "acme's question", c.Turns[0].Question)
}

func testConversationDelete(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.AddTurn(ctx, turn("acme", "c1", "j1", "q1"))
	require.NoError(t, err)
	require.NoError(t, s.DeleteConversation(ctx, "acme", "c1"))
	_, err = s.GetConversation(ctx, "acme", "c1")
	requireCode(t, ragqueue.ENOTFOUND, err)
	recent, err := s.RecentTurns(ctx, "acme", "c1", 5)
	require.NoError(t, err)
	require.Empty(t, recent, "turns go with their conversation")
	requireCode(t, ragqueue.ENOTFOUND, s.DeleteConversation(ctx, "acme", "c1"))
	// The ID can be used again, from the start.
	again, err := s.AddTurn(ctx, turn("acme", "c1", "j1", "q1"))
	require.NoError(t, err)
	require.Equal(t, 1, again.Seq)
}

func testConversationInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	for _, tt := range []ragqueue.Turn{
		turn("", "c1", "j1", "q"),
		turn("acme", "", "j1", "q"),
		turn("acme", "c1", "", "q"),
	} {
		_, err := s.AddTurn(ctx, tt)
		requireCode(t, ragqueue.EINVALID, err)
	}
}
