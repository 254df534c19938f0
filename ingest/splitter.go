package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This is LangChain's recursive character splitter, written against byte
// offsets so that it runs in linear time and every chunk is an exact slice
// of the section. langchaingo's v0.1.14 port was the first choice; it was
// replaced because it lets chunks exceed the size (by a separator, logging
// "[WARN]" through the global logger when it does), emits chunks wholly
// contained in the next one when it carries an overlap, drops the
// separator where two chunks meet (sentences lose their period), and splits
// text without separators by making one string per rune (about 20x slower,
// 140 bytes allocated per input byte). BenchmarkSplitLangchaingo in
// chunk_test.go keeps the speed comparison honest.

// level is a set of separators of equal strength.
type level []string

// textLevels are the split points of plain text and HTML, strongest first:
// paragraphs, lines, sentences (Latin and CJK), clauses, words.
func textLevels() []level {
	return []level{
		{"\n\n"},
		{"\n"},
		{". ", "? ", "! ", "。", "？", "！"},
		{"; ", ": ", ", ", "、", "，"},
		{" ", "\t"},
	}
}

// markdownLevels add Markdown's block boundaries (the end of a code block, a
// horizontal rule) above the text levels; sections already end at headings.
func markdownLevels() []level {
	return append([]level{{"\n```\n", "\n~~~\n"}, {"\n---\n", "\n***\n", "\n___\n"}}, textLevels()...)
}

// span is a run of the text being split: byte offsets and length in runes.
type span struct {
	start, end, runes int
}

// splitter cuts one section's text into chunks.
type splitter struct {
	text          string
	size, overlap int     // in runes
	levels        []level // separators, strongest first
	atoms         []span
}

// split returns the chunks of text: at most size runes each, trimmed, never
// empty, in order, consecutive chunks sharing up to overlap runes.
func (s *splitter) split() []string {
	spans := s.spans()
	out := make([]string, len(spans))
	for i, sp := range spans {
		out[i] = s.text[sp.start:sp.end]
	}
	return out
}

// spans is split by offsets (runes is left zero).
func (s *splitter) spans() []span {
	s.atomize(0, len(s.text), utf8.RuneCountInString(s.text), 0)
	return s.merge()
}

// atomize appends to s.atoms the spans of text[start:end] (n runes): the
// whole range if it fits in a chunk, else its pieces at the strongest
// separator level present, each atomized in turn with the weaker levels.
// A separator stays at the end of the piece it ends.
func (s *splitter) atomize(start, end, n, lvl int) {
	if n <= s.size {
		s.atoms = append(s.atoms, span{start, end, n})
		return
	}
	for ; lvl < len(s.levels); lvl++ {
		if containsAny(s.text[start:end], s.levels[lvl]) {
			break
		}
	}
	if lvl == len(s.levels) {
		s.cutRunes(start, end)
		return
	}
	// next[i] is the offset of the next occurrence of separator i at or
	// after pos, or end when there is none: each separator is searched for
	// once per occurrence, not once per piece.
	seps := s.levels[lvl]
	next := make([]int, len(seps))
	for i, sep := range seps {
		next[i] = indexFrom(s.text[:end], sep, start)
	}
	for pos := start; pos < end; {
		cut, sepLen := end, 0
		for i, sep := range seps {
			if next[i] < pos {
				next[i] = indexFrom(s.text[:end], sep, pos)
			}
			if next[i] < cut {
				cut, sepLen = next[i], len(sep)
			}
		}
		cut += sepLen
		s.atomize(pos, cut, utf8.RuneCountInString(s.text[pos:cut]), lvl+1)
		pos = cut
	}
}

// indexFrom returns the offset in text of the first sep at or after from,
// or len(text).
func indexFrom(text, sep string, from int) int {
	if i := strings.Index(text[from:], sep); i >= 0 {
		return from + i
	}
	return len(text)
}

// containsAny reports whether text contains any of seps.
func containsAny(text string, seps level) bool {
	for _, sep := range seps {
		if strings.Contains(text, sep) {
			return true
		}
	}
	return false
}

// cutRunes atomizes text without separators (a long URL, a base64 blob)
// into runs of runes small enough for the merge to overlap them.
func (s *splitter) cutRunes(start, end int) {
	width := s.size
	if s.overlap > 0 {
		width = max(1, min(s.overlap/2, s.size))
	}
	a := span{start: start}
	for i := range s.text[start:end] {
		if a.runes == width {
			a.end = start + i
			s.atoms = append(s.atoms, a)
			a = span{start: start + i}
		}
		a.runes++
	}
	a.end = end
	s.atoms = append(s.atoms, a)
}

// merge joins consecutive atoms into chunks of at most size runes, trimmed
// of surrounding whitespace and never empty. A new chunk starts with the
// previous chunk's last atoms, up to overlap runes, but only as many as
// leave room for the atom that did not fit, so no chunk is ever contained
// in the next.
func (s *splitter) merge() []span {
	var out []span
	last := span{start: -1, end: -1} // the last chunk emitted
	emit := func(from, to int) {
		start, end := s.atoms[from].start, s.atoms[to-1].end
		chunk := s.text[start:end]
		trimmed := strings.TrimLeftFunc(chunk, unicode.IsSpace)
		start += len(chunk) - len(trimmed)
		end = start + len(strings.TrimRightFunc(trimmed, unicode.IsSpace))
		if end > start && end > last.end { // else it adds only whitespace
			last = span{start: start, end: end}
			out = append(out, last)
		}
	}
	first, total := 0, 0 // the chunk being built is atoms[first:j], total runes
	for j, a := range s.atoms {
		if total+a.runes <= s.size || j == first {
			total += a.runes
			continue
		}
		emit(first, j)
		// Carry over a tail of the chunk: shrink it from the front until it
		// fits the overlap, leaves room for atom j and starts after the
		// chunk just emitted (which it would otherwise contain).
		for first < j && (total > s.overlap || total+a.runes > s.size || s.atoms[first].start <= last.start) {
			total -= s.atoms[first].runes
			first++
		}
		total += a.runes
	}
	if first < len(s.atoms) {
		emit(first, len(s.atoms))
	}
	return out
}
