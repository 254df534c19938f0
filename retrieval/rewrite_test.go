package retrieval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

func TestRewriteFollowUp(t *testing.T) {
	t.Parallel()
	x100 := []retrieval.ConversationTurn{{Question: "What is the X100 printer?", Standalone: "What is the X100 printer?", Answer: "A laser printer [1]."}}
	tests := []struct {
		name     string
		history  []retrieval.ConversationTurn
		question string
		want     string
	}{
		{"no history", nil, "what about its warranty?", "what about its warranty?"},
		{"pronoun", x100, "what about its warranty?", "x100 printer: what about its warranty?"},
		{"they", x100, "Do they print in colour?", "x100 printer: Do they print in colour?"},
		{"how about", x100, "how about the Z9 scanner", "x100 printer: how about the Z9 scanner"},
		{"leading and", x100, "and duplex printing", "x100 printer: and duplex printing"},
		{"ellipsis", x100, "price?", "x100 printer: price?"},
		{"standalone question stays", x100, "Who maintains the Z9 scanner firmware?", "Who maintains the Z9 scanner firmware?"},
		{"terms already there are not repeated", x100, "is that printer loud?", "x100: is that printer loud?"},
		{"nothing to carry", []retrieval.ConversationTurn{{Question: "what is it?"}}, "and that?", "and that?"},
		{
			"latest standalone wins",
			[]retrieval.ConversationTurn{x100[0], {Question: "what about its toner?", Standalone: "x100 printer toner: what about its toner?"}},
			"how much does it cost?",
			"x100 printer toner: how much does it cost?",
		},
		{
			"falls back to the question",
			[]retrieval.ConversationTurn{{Question: "Tell me about the Z9 scanner"}},
			"is it fast?",
			"tell z9 scanner: is it fast?",
		},
		{
			"at most eight terms",
			[]retrieval.ConversationTurn{{Standalone: "one1 two2 three3 four4 five5 six6 seven7 eight8 nine9 ten10"}},
			"and it?",
			"one1 two2 three3 four4 five5 six6 seven7 eight8: and it?",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, retrieval.RewriteFollowUp(tt.history, tt.question))
		})
	}
}
