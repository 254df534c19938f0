package documents

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/ragqueue/ragqueue"
)

// MaxMetadataBytes caps the metadata object stored with a document.
const MaxMetadataBytes = 16 << 10

// CheckMetadata checks that raw is a JSON object of at most
// MaxMetadataBytes and returns it compacted, as a document stores it.
func CheckMetadata(raw []byte) (json.RawMessage, error) {
	if len(raw) > MaxMetadataBytes {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "metadata is larger than %d bytes", MaxMetadataBytes)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "metadata must be a JSON object, e.g. {\"team\":\"docs\"}")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "metadata must be a JSON object: %v", err)
	}
	return buf.Bytes(), nil
}

// maxTitleRunes bounds a title made from a text's first line.
const maxTitleRunes = 80

// TitleFromText is the title of a text sent without one: its first
// non-blank line, at most 80 runes ("untitled" when all lines are blank).
func TitleFromText(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if r := []rune(line); len(r) > maxTitleRunes {
				return string(r[:maxTitleRunes])
			}
			return line
		}
	}
	return "untitled"
}
