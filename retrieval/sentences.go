package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentence is one sentence of a passage, whitespace collapsed. heading marks
// Markdown headings and short title-like lines: they locate an answer but
// are not one.
type sentence struct {
	text    string
	heading bool
}

// splitSentences splits a passage into sentences. Blank lines, Markdown
// headings and list items end a block; inside a block, line breaks are
// soft (PDF and HTML extraction wrap lines mid-sentence) and a sentence
// ends at . ! ? (or their CJK forms) followed by a space and something
// that is not a lowercase letter, unless the word before the period is a
// known abbreviation or an initial.
func splitSentences(text string) []sentence {
	var out []sentence
	var block []string
	flush := func() {
		if len(block) > 0 {
			out = appendBlockSentences(out, strings.Join(block, " "))
			block = block[:0]
		}
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#"):
			flush()
			if h := strings.TrimSpace(strings.TrimLeft(line, "#")); h != "" {
				out = append(out, sentence{text: collapseSpaces(h), heading: true})
			}
		case looksLikeTitle(line, lines, i):
			flush()
			out = append(out, sentence{text: collapseSpaces(line), heading: true})
		case isListItem(line):
			flush()
			block = append(block, line)
		default:
			block = append(block, line)
		}
	}
	flush()
	return out
}

func appendBlockSentences(out []sentence, block string) []sentence {
	block = collapseSpaces(block)
	start := 0
	for i := 0; i < len(block); {
		r, size := utf8.DecodeRuneInString(block[i:])
		i += size
		switch r {
		case '。', '！', '？':
			out = appendSentence(out, block[start:i])
			start = i
			continue
		case '.', '!', '?':
		default:
			continue
		}
		// Swallow runs of terminators and closing quotes or brackets; none
		// inside a run can end a sentence, so the scan resumes after it.
		before := block[start : i-size] // the sentence so far, without r
		end := i
		for end < len(block) {
			r2, s2 := utf8.DecodeRuneInString(block[end:])
			if !strings.ContainsRune(".!?\"')]”’»", r2) {
				break
			}
			end += s2
		}
		i = end
		if end < len(block) && block[end] != ' ' {
			continue // 3.14, e.g, example.com
		}
		if end < len(block) {
			next, _ := utf8.DecodeRuneInString(block[end+1:])
			if unicode.IsLower(next) {
				continue // "e.g. foo", "approx. five"
			}
			if r == '.' && isAbbreviation(before) {
				continue
			}
		}
		out = appendSentence(out, block[start:end])
		start = end
	}
	return appendSentence(out, block[start:])
}

func appendSentence(out []sentence, s string) []sentence {
	s = strings.TrimSpace(s)
	if s == "" || !strings.ContainsFunc(s, isWordRune) {
		return out
	}
	return append(out, sentence{text: s})
}

// isAbbreviation reports whether the text before a period ends with a word
// that a period does not end a sentence after: titles and single initials.
func isAbbreviation(before string) bool {
	j := strings.LastIndexByte(before, ' ')
	w := strings.ToLower(before[j+1:])
	if r, size := utf8.DecodeRuneInString(w); size == len(w) && unicode.IsLetter(r) {
		return true // J. Smith (but not "step 1.")
	}
	switch w {
	case "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "fig", "no", "vs", "approx", "inc", "ltd", "co", "e.g", "i.e", "cf", "al":
		return true
	}
	return false
}

func isListItem(line string) bool {
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "• ") {
		return true
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i < 4 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && line[i+1] == ' '
}

// looksLikeTitle reports whether line is a short line without final
// punctuation followed by a line that starts a new sentence: a title that
// text extraction left without Markdown markup.
func looksLikeTitle(line string, lines []string, i int) bool {
	if strings.ContainsAny(line[len(line)-1:], ".!?:;,") || len(strings.Fields(line)) > 8 {
		return false
	}
	if i+1 >= len(lines) {
		return false
	}
	next := strings.TrimSpace(lines[i+1])
	r, _ := utf8.DecodeRuneInString(next)
	return next != "" && unicode.IsUpper(r)
}

func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
