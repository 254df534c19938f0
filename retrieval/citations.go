package retrieval

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ragqueue/ragqueue"
)

// citationMarker matches [1], [1,2] and [1, 2]; [1][2] is two markers.
var citationMarker = regexp.MustCompile(`\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]`)

// ParseCitations maps the [n] markers of a model's answer to passages,
// where n is the 1-based position in passages (the passages the prompt
// gave, Prompt.Passages). It returns the text with markers that point
// at no given passage removed — a number out of range is dropped from its
// marker, and a marker left empty is deleted with the space before it —
// so that a reader never sees a reference that leads nowhere, and the
// citations of the remaining markers, one per passage, ordered by n.
func ParseCitations(text string, passages []Passage) (string, []ragqueue.Citation) {
	cited := make(map[int]struct{})
	var out bytes.Buffer
	prev := 0
	for _, m := range citationMarker.FindAllStringSubmatchIndex(text, -1) {
		out.WriteString(text[prev:m[0]])
		prev = m[1]
		var kept []string
		for _, f := range strings.Split(text[m[2]:m[3]], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > len(passages) {
				continue
			}
			cited[n] = struct{}{}
			kept = append(kept, strconv.Itoa(n))
		}
		if len(kept) > 0 {
			out.WriteString("[" + strings.Join(kept, ", ") + "]")
			continue
		}
		// Drop the marker and the space that separated it from the text.
		if n := out.Len(); n > 0 && out.Bytes()[n-1] == ' ' {
			out.Truncate(n - 1)
		}
	}
	out.WriteString(text[prev:])

	ns := make([]int, 0, len(cited))
	for n := range cited {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	citations := make([]ragqueue.Citation, 0, len(ns))
	for _, n := range ns {
		p := passages[n-1]
		citations = append(citations, ragqueue.Citation{
			Index:      n,
			DocumentID: p.DocumentID,
			ChunkID:    p.ChunkID,
			Source:     p.Source,
			Title:      p.Title,
			Page:       p.Page,
			Snippet:    truncateRunes(collapseSpaces(p.Text), maxSnippet),
		})
	}
	return out.String(), citations
}
