package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func blobTests() []test {
	return []test{
		{"RoundTrip", testBlobRoundTrip},
		{"Missing", testBlobMissing},
		{"Delete", testBlobDelete},
		{"DuplicateKey", testBlobDuplicate},
	}
}

func testBlobRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"text", "dtext", []byte("<html><body>hello</body></html>")},
		{"empty", "dempty", []byte{}},
		{"nil is empty", "dnil", nil},
		{"binary with NULs", "dbinary", append([]byte("\x00\x00a\x00"), binary...)},
		{"invalid UTF-8", "dutf8", []byte{0xff, 0xfe, 0x00, 0xc3}},
	}
	for _, tt := range tests {
		require.NoError(t, s.PutBlob(ctx, tt.key, tt.data), tt.name)
	}
	for _, tt := range tests {
		got, err := s.GetBlob(ctx, tt.key)
		require.NoError(t, err, tt.name)
		require.NotNil(t, got, "%s: an empty blob reads as empty, not nil", tt.name)
		require.Equal(t, len(tt.data), len(got), tt.name)
		if len(tt.data) > 0 {
			require.Equal(t, tt.data, got, tt.name)
		}
	}
}

func testBlobMissing(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.GetBlob(ctx, "dmissing")
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.NoError(t, s.DeleteBlob(ctx, "dmissing"), "deleting a missing blob is not an error")
}

func testBlobDelete(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, s.PutBlob(ctx, "dgone", []byte("bytes")))
	require.NoError(t, s.PutBlob(ctx, "dkept", []byte("other bytes")))
	require.NoError(t, s.DeleteBlob(ctx, "dgone"))
	_, err := s.GetBlob(ctx, "dgone")
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.NoError(t, s.DeleteBlob(ctx, "dgone"), "delete is idempotent")
	got, err := s.GetBlob(ctx, "dkept")
	require.NoError(t, err)
	require.Equal(t, []byte("other bytes"), got, "only the named blob went")
}

func testBlobDuplicate(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, s.PutBlob(ctx, "dsame", []byte("first")))
	requireCode(t, ragqueue.ECONFLICT, s.PutBlob(ctx, "dsame", []byte("second")))
	got, err := s.GetBlob(ctx, "dsame")
	require.NoError(t, err)
	require.Equal(t, []byte("first"), got, "a duplicate key never overwrites")
}
