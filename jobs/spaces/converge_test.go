package spaces_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// TestConvergeLeavesAQueuedReindexBe: every process asks for the re-index
// into its configured space at start; the second ask finds it queued and
// is no error, while an admin's Reindex still hears ECONFLICT.
func TestConvergeLeavesAQueuedReindexBe(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	ctx := t.Context()
	spaces := newDirSpaces(t)
	old := retrieval.Space{Name: "hash-64", Embedder: "hash:64", Dim: 64}
	_, err := spaces.Open(ctx, old)
	require.NoError(t, err)
	require.NoError(t, spaces.SetLive(ctx, old))
	d := b.Deps(b.Asynq)
	d.Spaces = retrieval.NewSpaceSet(spaces, hashFactory, retrieval.DefaultSpaceRefresh, b.Logger)
	svc := b.service(d, hashFactory) // no server: the task stays queued

	require.NoError(t, svc.Converge(ctx, b.tenant, "hash:32"))
	require.NoError(t, svc.Converge(ctx, b.tenant, "hash:32"), "a second process finds it queued")
	_, err = svc.Reindex(ctx, b.tenant, "hash:32")
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
}
