package ragqueue_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func TestEventIDs(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		ragqueue.EventIDStart: true, "1712345678901-3": true,
		"": false, "12": false, "a-1": false, "1-b": false, "-1": false, "1-": false,
	} {
		require.Equal(t, want, ragqueue.ValidEventID(id), "%q", id)
	}
	require.True(t, ragqueue.EventIDAfter("2-0", "1-9"))
	require.True(t, ragqueue.EventIDAfter("1-10", "1-9"))
	require.False(t, ragqueue.EventIDAfter("1-9", "1-9"))
	require.False(t, ragqueue.EventIDAfter("1-9", "2-0"))
	require.True(t, ragqueue.EventIDAfter("0-1", ragqueue.EventIDStart))

	require.Equal(t, []string{"5-4", "5-5"}, ragqueue.NextEventIDs("5-3", 2))
	require.Equal(t, []string{"0-1", "0-2", "0-3"}, ragqueue.NextEventIDs(ragqueue.EventIDStart, 3))
	require.Empty(t, ragqueue.NextEventIDs("5-3", 0))
}
