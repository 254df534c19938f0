package queries

import (
	"regexp"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
)

// urlPattern finds http(s) URLs a person wrote in a question: the URLs
// QuestionURLs fetches, and what the query task strips from the question
// before retrieval.
var urlPattern = regexp.MustCompile(`(?i)https?://[^\s<>"'()\[\]{}]+`)

// QuestionURLs returns the URLs to fetch for a question: those given in
// urls, then those written in the question, normalised and without
// duplicates. Only what the user wrote is ever fetched. More than limit is
// an EINVALID error naming the cap; a limit of 0 turns fetching off.
func QuestionURLs(question string, urls []string, limit int) ([]string, error) {
	if limit == 0 {
		if len(urls) > 0 {
			return nil, ragqueue.Errorf(ragqueue.EINVALID, "fetching URLs for questions is turned off here (RAGQ_QUERY_MAX_URLS=0); ask without urls")
		}
		return nil, nil // URLs in the text are just text
	}
	var out []string
	seen := make(map[string]bool)
	add := func(raw string, explicit bool) error {
		norm, err := web.NormalizeURL(raw)
		if err != nil {
			if explicit {
				return ragqueue.Errorf(ragqueue.EINVALID, "urls: %q is not an absolute http or https URL", raw)
			}
			return nil // text that merely looks like a URL
		}
		if !seen[norm] {
			seen[norm] = true
			out = append(out, norm)
		}
		return nil
	}
	for _, u := range urls {
		if err := add(u, true); err != nil {
			return nil, err
		}
	}
	for _, u := range urlPattern.FindAllString(question, -1) {
		_ = add(strings.TrimRight(u, ".,;:!?"), false)
	}
	if len(out) > limit {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "the question names %d URLs; at most %d are fetched per question (RAGQ_QUERY_MAX_URLS)", len(out), limit)
	}
	return out, nil
}
