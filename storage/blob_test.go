package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/stretchr/testify/require"
)

func TestFileBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := storage.NewFileBlobs(dir)
	require.NoError(t, err)

	info, err := b.Put(ctx, strings.NewReader("hello"), 10)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("hello"))
	require.Equal(t, hex.EncodeToString(sum[:]), info.SHA256)
	require.EqualValues(t, 5, info.Size)

	rc, err := b.Open(ctx, info.Key)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, "hello", string(got))

	_, err = b.Put(ctx, strings.NewReader("0123456789A"), 10)
	require.Equal(t, ragqueue.ETOOLARGE, ragqueue.ErrorCode(err))

	for _, bad := range []string{"../etc/passwd", "", "..", info.Key + "/x"} {
		_, err := b.Open(ctx, bad)
		require.True(t, ragqueue.IsNotFound(err), bad)
	}

	require.NoError(t, b.Delete(ctx, info.Key))
	require.NoError(t, b.Delete(ctx, info.Key), "delete is idempotent")
	_, err = b.Open(ctx, info.Key)
	require.True(t, ragqueue.IsNotFound(err))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "an oversized upload leaves no file behind")
}
