package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ragqueue/ragqueue"
)

// NoAnswerText is the answer a generator gives when the passages do not
// answer the question. Generators return it verbatim, with no citations,
// rather than guess.
const NoAnswerText = "I could not find an answer to that in your documents."

// Tuning of the extractive generator.
const (
	extractiveMaxSentences = 3
	// extractiveMinCoverage is the share of the question's (IDF-weighted)
	// content terms a sentence must contain to count as relevant.
	extractiveMinCoverage = 0.2
	// extractiveFollowRatio: a second or third sentence must score at least
	// this fraction of the best one, so weak matches do not pad an answer.
	extractiveFollowRatio = 0.6
	// extractiveRankBonus is added for the top passage and shrinks linearly
	// down the ranking: it breaks near-ties in favour of the search order.
	extractiveRankBonus = 0.05
	extractiveMinWords  = 3
	maxAnswerSentence   = 400 // runes
	maxSnippet          = 240 // runes
)

// Extractive is a Generator that answers by quoting: it picks the sentences
// of the passages that best cover the question's terms and cites each. It
// needs no model, never says anything the documents do not, and is the
// fallback when no LLM is configured. It is safe for concurrent use.
type Extractive struct{}

var _ Generator = (*Extractive)(nil)

// NewExtractive returns the extractive generator.
func NewExtractive() *Extractive { return &Extractive{} }

// Name identifies the generator in answers: "extractive".
func (*Extractive) Name() string { return "extractive" }

// candidate is a sentence being considered for the answer.
type candidate struct {
	passage  int // index into passages
	position int // sentence number within the passage
	text     string
	terms    map[string]struct{}
	coverage float64
	score    float64
}

// Generate answers question with one to three sentences quoted from
// passages, each followed by [n] where n is its passage's 1-based position,
// and returns a citation for every passage cited. When no sentence covers
// enough of the question's content terms, the answer is NoAnswerText with
// empty citations.
func (e *Extractive) Generate(ctx context.Context, question string, passages []Passage) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, fmt.Errorf("retrieval: extractive: %w", err)
	}
	notFound := Answer{Text: NoAnswerText, Citations: []ragqueue.Citation{}, Generator: e.Name()}
	qterms := uniqueTerms(question)
	if len(qterms) == 0 || len(passages) == 0 {
		return notFound, nil
	}
	cands, df, err := sentenceCandidates(ctx, qterms, passages)
	if err != nil {
		return Answer{}, err
	}
	cands = rankCandidates(cands, qterms, df, len(passages))
	if len(cands) == 0 || cands[0].coverage < extractiveMinCoverage {
		return notFound, nil
	}
	text, citations := composeAnswer(chooseSentences(cands), passages)
	return Answer{Text: text, Citations: citations, Generator: e.Name()}, nil
}

// sentenceCandidates splits the passages into the sentences that may be
// quoted, and counts in how many passages each question term occurs.
func sentenceCandidates(ctx context.Context, qterms map[string]struct{}, passages []Passage) ([]candidate, map[string]int, error) {
	var cands []candidate
	df := make(map[string]int, len(qterms))
	for i, p := range passages {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("retrieval: extractive: %w", err)
		}
		inPassage := make(map[string]struct{})
		// Quoted text must be valid UTF-8 whatever the extraction produced.
		for j, s := range splitSentences(strings.ToValidUTF8(p.Text, "\uFFFD")) {
			terms := make(map[string]struct{})
			for _, t := range Tokenize(s.text) {
				terms[t] = struct{}{}
				if _, ok := qterms[t]; ok {
					inPassage[t] = struct{}{}
				}
			}
			if s.heading || len(strings.Fields(s.text)) < extractiveMinWords {
				continue
			}
			cands = append(cands, candidate{passage: i, position: j, text: s.text, terms: terms})
		}
		for t := range inPassage {
			df[t]++
		}
	}
	return cands, df, nil
}

// rankCandidates scores each sentence by the IDF-weighted share of the
// question's terms it covers, plus a small bonus for passages ranked higher,
// drops those covering nothing, and sorts the rest best first.
//
// BM25-style IDF over the passages: terms present in every passage weigh
// little, terms absent from all of them weigh most, which lowers the
// coverage of every sentence when the question asks about something the
// passages do not mention.
func rankCandidates(cands []candidate, qterms map[string]struct{}, df map[string]int, passages int) []candidate {
	n := float64(passages)
	idf := make(map[string]float64, len(qterms))
	// Sum in a fixed order: float addition is not associative, and map order
	// would make ties (and so answers) vary between runs.
	qlist := slices.Sorted(maps.Keys(qterms))
	var total float64
	for _, t := range qlist {
		d := float64(df[t])
		idf[t] = math.Log(1 + (n-d+0.5)/(d+0.5))
		total += idf[t]
	}
	kept := cands[:0]
	for _, c := range cands {
		var matched float64
		for _, t := range qlist {
			if _, ok := c.terms[t]; ok {
				matched += idf[t]
			}
		}
		if matched == 0 {
			continue
		}
		c.coverage = matched / total
		c.score = c.coverage + extractiveRankBonus*(n-float64(c.passage))/n
		kept = append(kept, c)
	}
	slices.SortStableFunc(kept, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.passage, b.passage); c != 0 {
			return c
		}
		return cmp.Compare(a.position, b.position)
	})
	return kept
}

// chooseSentences keeps the best sentence and those that follow it closely
// enough in score, skipping near-duplicates, up to extractiveMaxSentences.
func chooseSentences(cands []candidate) []candidate {
	chosen := []candidate{cands[0]}
	for _, c := range cands[1:] {
		if len(chosen) == extractiveMaxSentences {
			break
		}
		if c.coverage < extractiveMinCoverage || c.score < extractiveFollowRatio*cands[0].score {
			break // sorted: nothing further qualifies either
		}
		if !nearDuplicate(c, chosen) {
			chosen = append(chosen, c)
		}
	}
	return chosen
}

// composeAnswer joins the chosen sentences, each followed by its [n] marker,
// and lists one citation per cited passage, in passage order.
func composeAnswer(chosen []candidate, passages []Passage) (string, []ragqueue.Citation) {
	var b strings.Builder
	snippets := make(map[int]string, len(chosen))
	for i, c := range chosen {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(truncateRunes(c.text, maxAnswerSentence))
		b.WriteString(" [")
		b.WriteString(strconv.Itoa(c.passage + 1))
		b.WriteByte(']')
		if _, ok := snippets[c.passage]; !ok {
			snippets[c.passage] = truncateRunes(c.text, maxSnippet)
		}
	}
	cited := slices.Sorted(maps.Keys(snippets))
	citations := make([]ragqueue.Citation, 0, len(cited))
	for _, i := range cited {
		p := passages[i]
		citations = append(citations, ragqueue.Citation{
			Index:      i + 1,
			DocumentID: p.DocumentID,
			ChunkID:    p.ChunkID,
			Source:     p.Source,
			Title:      p.Title,
			Page:       p.Page,
			Snippet:    snippets[i],
		})
	}
	return b.String(), citations
}

func uniqueTerms(text string) map[string]struct{} {
	terms := make(map[string]struct{})
	for _, t := range Tokenize(text) {
		terms[t] = struct{}{}
	}
	return terms
}

// nearDuplicate reports whether c says what a chosen sentence already says:
// overlapping chunks repeat sentences, and an answer should not.
func nearDuplicate(c candidate, chosen []candidate) bool {
	for _, o := range chosen {
		if c.text == o.text {
			return true
		}
		inter := 0
		for t := range c.terms {
			if _, ok := o.terms[t]; ok {
				inter++
			}
		}
		union := len(c.terms) + len(o.terms) - inter
		if union > 0 && float64(inter)/float64(union) >= 0.8 {
			return true
		}
	}
	return false
}

// truncateRunes cuts s to at most max runes, at a word boundary when one is
// near, and marks the cut with an ellipsis.
func truncateRunes(s string, max int) string {
	if len(s) <= max { // bytes >= runes
		return s
	}
	runes := []rune(s)
	if len(runes) <= max {
		return s
	}
	cut := string(runes[:max-1])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}
