package retrieval_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// billed is an embedder that says whether it bills per call.
type billed struct {
	*retrieval.HashEmbedder
	perCall bool
}

func (b billed) BillsPerCall() bool { return b.perCall }

func TestBillsPerCall(t *testing.T) {
	t.Parallel()
	hash := retrieval.NewHashEmbedder(16)
	require.False(t, retrieval.BillsPerCall(hash), "the hash embedder runs in process")
	require.True(t, retrieval.BillsPerCall(billed{hash, true}))
	require.False(t, retrieval.BillsPerCall(billed{hash, false}))
	_, err := billed{hash, true}.Embed(context.Background(), []string{"x"})
	require.NoError(t, err)
}
