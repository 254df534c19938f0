package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

// TestReconcilerSchedules checks that the scheduler registers the periodic
// pass.
func TestReconcilerSchedules(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	s, err := jobs.StartReconciler(b.Redis, b.Logger)
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	// The scheduler publishes its entries on its first heartbeat.
	require.Eventually(t, func() bool {
		entries, err := b.Inspector.SchedulerEntries()
		require.NoError(t, err)
		for _, e := range entries {
			if e.Task.Type() == jobs.TaskReconcile && e.Spec == "@every "+jobs.ReconcileEvery.String() {
				return true
			}
		}
		return false
	}, 15*time.Second, 50*time.Millisecond)
}
