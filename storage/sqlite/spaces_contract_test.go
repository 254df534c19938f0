package sqlite

import (
	"testing"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/retrieval/indextest"
)

// TestSpacesContract runs the Spaces contract every implementation passes
// (Qdrant's too) against the embedded index.
func TestSpacesContract(t *testing.T) {
	t.Parallel()
	indextest.RunSpaces(t, func(t *testing.T) retrieval.Spaces { return setupSpaces(t, SpacesOptions{}).sp })
}
