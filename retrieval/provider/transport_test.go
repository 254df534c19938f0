package provider

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second, true},
		{"http_date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, true},
		{"date_in_past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0, true},
		{"milliseconds_first", map[string]string{"Retry-After-Ms": "250", "Retry-After": "1"}, 250 * time.Millisecond, true},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"absent", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	t.Parallel()
	r := Retry{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for attempt, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceiling *= time.Millisecond
		for range 50 {
			d := backoff(r, attempt)
			require.GreaterOrEqual(t, d, ceiling/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"error":{"message":"Rate limit reached","type":"requests"}}`, "Rate limit reached"},
		{`{"error":"model \"x\" not found"}`, `model "x" not found`},
		{`{"detail":"Invalid token"}`, "Invalid token"},
		{`{"type":"error","message":"overloaded"}`, "overloaded"},
		{"upstream connect error", "upstream connect error"},
		{"", "503 Service Unavailable"},
	} {
		require.Equal(t, tc.want, errorMessage([]byte(tc.body), "503 Service Unavailable"), tc.body)
	}
}

func TestRetryableStatus(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{429: true, 408: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 422: false, 501: false} {
		require.Equal(t, want, retryableStatus(code), code)
	}
}

// TestRetrierAgain covers the whole-call retries of clients that bypass
// the retrying transport (googleai's gRPC).
func TestRetrierAgain(t *testing.T) {
	t.Parallel()
	rec := &sleepRecorder{}
	r := &retrier{retry: Retry{MaxRetries: 2}.withDefaults(), sleep: rec.sleep, logger: quietLogger(), provider: GoogleAI}
	transient := ragqueue.Errorf(ragqueue.EUNAVAILABLE, "503")
	require.True(t, r.again(context.Background(), 0, transient))
	require.True(t, r.again(context.Background(), 1, transient))
	require.False(t, r.again(context.Background(), 2, transient), "retries ran out")
	require.False(t, r.again(context.Background(), 0, ragqueue.Errorf(ragqueue.EINVALID, "bad key")), "not transient")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, r.again(ctx, 0, transient), "the caller gave up")
	require.Len(t, rec.recorded(), 2, "one wait per retry")
}
