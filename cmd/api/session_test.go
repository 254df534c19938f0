package main

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	key, err := sessionKey(strings.Repeat("x", 32))
	require.NoError(t, err)
	s := &server{sessionKey: key}
	hash := sha256.Sum256([]byte("rq_secret"))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	value := s.signSession(hash[:], now.Add(time.Minute))

	got, err := s.verifySession(value, now)
	require.NoError(t, err)
	require.Equal(t, hash[:], got)

	// The same secret on another replica verifies it; a random key does not.
	again, err := sessionKey(strings.Repeat("x", 32))
	require.NoError(t, err)
	_, err = (&server{sessionKey: again}).verifySession(value, now)
	require.NoError(t, err)
	random, err := sessionKey("")
	require.NoError(t, err)
	require.False(t, bytes.Equal(random, key))

	payload, sig, _ := strings.Cut(value, ".")
	tampered := s.signSession(hash[:], now.Add(time.Hour))
	tamperedPayload, _, _ := strings.Cut(tampered, ".")
	for name, v := range map[string]string{
		"expired":           value,
		"other key":         "",
		"no signature":      payload,
		"payload swapped":   tamperedPayload + "." + sig,
		"garbage":           "%%%.%%%",
		"signature flipped": payload + "." + strings.ToUpper(sig[:4]) + sig[4:],
	} {
		at := now
		srv := s
		switch name {
		case "expired":
			at = now.Add(time.Minute)
		case "other key":
			srv = &server{sessionKey: random}
			v = value
		}
		_, err := srv.verifySession(v, at)
		require.Error(t, err, name)
		require.Equal(t, ragqueue.EUNAUTH, ragqueue.ErrorCode(err), name)
	}
}
