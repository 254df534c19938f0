package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec_0123456789abcdefghijklmn")
	body := []byte(`{"event":"job.finished","job":{"id":"j1"}}`)
	sent := time.Unix(1_800_000_000, 0)
	header := jobs.SignWebhook(secret, sent, body)
	require.Regexp(t, `^t=1800000000,v1=[0-9a-f]{64}$`, header)
	for _, tc := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"valid", secret, header, body, sent.Add(time.Minute), true},
		{"second signature accepted (secret rotation)", secret, "t=1800000000,v1=00," + header[len("t=1800000000,"):], body, sent, true},
		{"tampered body", secret, header, []byte(`{"event":"job.finished","job":{"id":"j2"}}`), sent, false},
		{"wrong secret", []byte("another secret entirely......"), header, body, sent, false},
		{"replayed later", secret, header, body, sent.Add(10 * time.Minute), false},
		{"from the future", secret, header, body, sent.Add(-10 * time.Minute), false},
		{"no timestamp", secret, header[len("t=1800000000,"):], body, sent, false},
		{"no signature", secret, "t=1800000000", body, sent, false},
		{"empty", secret, "", body, sent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := jobs.VerifyWebhook(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
