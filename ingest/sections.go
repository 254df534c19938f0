package ingest

import "strings"

// headingSep joins the headings of a section's heading path.
const headingSep = " > "

// rawSection is a section as a parser found it, before heading paths are
// worked out.
type rawSection struct {
	level   int    // 1–6 for a section opened by a heading, 0 for text before any heading
	heading string // the heading's own text, cleaned; "" inherits the previous path
	text    string // the section's text, the heading's line included
	hasBody bool   // whether there is text besides the heading
}

// finishSections turns raw sections into Sections: it gives each its heading
// path ("Install > Linux"), trims blank lines, and drops empty sections and
// sections holding nothing but their heading (unless every section does).
//
// A document whose first heading is its only level-1 heading is treated as
// titled by it: that heading is left out of the other sections' paths,
// because it repeats the document's title in every one of them.
func finishSections(raw []rawSection) []Section {
	titleIdx := -1
	h1 := 0
	for i, s := range raw {
		if s.level == 1 {
			h1++
			if titleIdx < 0 {
				titleIdx = i
			}
		}
	}
	if h1 != 1 || !firstHeading(raw, titleIdx) {
		titleIdx = -1
	}

	var stack [7]string // stack[l] is the current heading of level l
	out := make([]Section, 0, len(raw))
	withBody := false
	for _, s := range raw {
		if s.hasBody && strings.TrimSpace(s.text) != "" {
			withBody = true
			break
		}
	}
	path := ""
	for i, s := range raw {
		if s.level > 0 && s.heading != "" {
			stack[s.level] = s.heading
			clear(stack[s.level+1:])
			parts := make([]string, 0, s.level)
			for l := 1; l <= s.level; l++ {
				if stack[l] == "" || l == 1 && titleIdx >= 0 && i != titleIdx {
					continue
				}
				parts = append(parts, stack[l])
			}
			path = strings.Join(parts, headingSep)
		}
		if withBody && !s.hasBody {
			continue
		}
		text := trimBlankLines(s.text)
		if text == "" {
			continue
		}
		out = append(out, Section{Heading: path, Text: text})
	}
	return out
}

// firstHeading reports whether raw[i] is the first section opened by a heading.
func firstHeading(raw []rawSection, i int) bool {
	for j, s := range raw {
		if s.level > 0 {
			return j == i
		}
	}
	return false
}

// trimBlankLines removes whitespace-only lines from the start of s and
// trailing whitespace from its end, keeping the first line's indentation.
func trimBlankLines(s string) string {
	s = strings.TrimRight(s, " \t\n")
	for s != "" {
		line, rest, found := strings.Cut(s, "\n")
		if strings.TrimSpace(line) != "" || !found {
			break
		}
		s = rest
	}
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}
