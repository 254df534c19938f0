package queries

import (
	"regexp"
)

// urlPattern finds http(s) URLs written in a question.
var urlPattern = regexp.MustCompile(`(?i)https?://[^\s<>"'()\[\]{}]+`)
