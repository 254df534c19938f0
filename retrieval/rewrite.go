package retrieval

import (
	"context"
	"slices"
	"strings"
)

// ConversationTurn is an earlier question of a conversation as a rewriter
// sees it: what was asked, what retrieval searched for, what was answered.
type ConversationTurn struct {
	Question   string
	Standalone string
	Answer     string
}

// Rewriter turns a follow-up question into one that can be understood
// without the conversation ("what about its warranty?" after a question
// about the X100 becomes "what is the warranty of the X100?"). Generators
// backed by a chat model implement it; callers type-assert for it and
// fall back to RewriteFollowUp.
type Rewriter interface {
	// Rewrite returns the standalone form of question given the recent
	// turns, oldest first. With no history it returns question.
	Rewrite(ctx context.Context, history []ConversationTurn, question string) (string, error)
}

// maxCarriedTerms bounds the terms RewriteFollowUp carries over.
const maxCarriedTerms = 8

// shortQuestionWords: a question with fewer content words than this is
// taken as a follow-up ("and the price?").
const shortQuestionWords = 2

// referringWords make a question lean on what came before.
var referringWords = map[string]bool{
	"it": true, "its": true, "itself": true, "they": true, "them": true, "their": true, "theirs": true,
	"this": true, "that": true, "these": true, "those": true, "he": true, "she": true, "him": true,
	"her": true, "his": true, "hers": true, "there": true, "one": true, "ones": true, "former": true,
	"latter": true, "same": true, "also": true, "else": true, "too": true, "above": true,
}

// RewriteFollowUp is the rule that rewrites a follow-up when no model
// does: when the question refers back (a pronoun or demonstrative such as
// "it", "its", "they", "that", "there"; or "what/how about …"; or an
// ellipsis: fewer than two content words, as in "and the price?"), the content words of the
// previous turn's standalone question that the question lacks (stop words
// dropped, in their order, at most eight) are put in front of it:
// "what about its warranty?" after "What is the X100 printer?" becomes
// "x100 printer: what about its warranty?". Any other question, and any
// question without history, is returned as it is.
func RewriteFollowUp(history []ConversationTurn, question string) string {
	if len(history) == 0 {
		return question
	}
	prev := history[len(history)-1].Standalone
	if prev == "" {
		prev = history[len(history)-1].Question
	}
	if !IsFollowUp(question) {
		return question
	}
	have := make(map[string]bool)
	for _, w := range Words(question) {
		have[w] = true
	}
	var carried []string
	for _, w := range Words(prev) {
		if IsStopWord(w) || have[w] || slices.Contains(carried, w) {
			continue
		}
		carried = append(carried, w)
		if len(carried) == maxCarriedTerms {
			break
		}
	}
	if len(carried) == 0 {
		return question
	}
	return strings.Join(carried, " ") + ": " + question
}

// IsFollowUp reports whether question leans on an earlier turn, by the
// rule RewriteFollowUp documents.
func IsFollowUp(question string) bool {
	words := Words(question)
	content := 0
	for i, w := range words {
		if referringWords[w] {
			return true
		}
		if (w == "about" && i > 0 && (words[i-1] == "what" || words[i-1] == "how")) || (i == 0 && (w == "and" || w == "or")) {
			return true
		}
		if !IsStopWord(w) {
			content++
		}
	}
	return content < shortQuestionWords
}
