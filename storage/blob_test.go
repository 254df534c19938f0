package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

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

// fakeSmall is an in-memory SmallBlobStore that records its calls.
type fakeSmall struct {
	mu    sync.Mutex
	blobs map[string][]byte
	calls []string // "put <key>", "get <key>", "delete <key>"
	// putErr, when set, fails PutBlob after storing (a lost reply).
	putErr error
}

func newFakeSmall() *fakeSmall { return &fakeSmall{blobs: map[string][]byte{}} }

func (f *fakeSmall) PutBlob(ctx context.Context, key string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "put "+key)
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := f.blobs[key]; ok {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "blob %s already exists", key)
	}
	f.blobs[key] = bytes.Clone(data)
	return f.putErr
}

func (f *fakeSmall) GetBlob(_ context.Context, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "get "+key)
	data, ok := f.blobs[key]
	if !ok {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "blob %s not found", key)
	}
	return bytes.Clone(data), nil
}

func (f *fakeSmall) DeleteBlob(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+key)
	delete(f.blobs, key)
	return nil
}

func (f *fakeSmall) stored() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.blobs)
}

func (f *fakeSmall) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// tieredBlobs returns blobs kept in a fake database up to max bytes, and
// the directory of the rest.
func tieredBlobs(t *testing.T, max int64) (*storage.FileBlobs, *fakeSmall, string) {
	t.Helper()
	dir := t.TempDir()
	small := newFakeSmall()
	b, err := storage.NewFileBlobs(dir, storage.WithSmallBlobs(small, max))
	require.NoError(t, err)
	return b, small, dir
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readBlob(t *testing.T, b *storage.FileBlobs, key string) string {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	return string(got)
}

var (
	fileKey = regexp.MustCompile(`^[0-9a-f]{32}$`)
	dbKey   = regexp.MustCompile(`^d[0-9a-f]{32}$`)
)

// TestTieredBlobsPlacement: content up to the threshold becomes a database
// row, anything longer a file, with the same hash and size either way.
func TestTieredBlobsPlacement(t *testing.T) {
	t.Parallel()
	const max = 16
	tests := []struct {
		name     string
		content  string
		maxBytes int64
		inDB     bool
	}{
		{"empty", "", 0, true},
		{"small", "hello", 0, true},
		{"binary with NULs", "\x00a\x00\xff", 0, true},
		{"exactly the threshold", strings.Repeat("s", max), 0, true},
		{"one over the threshold", strings.Repeat("f", max+1), 0, false},
		{"large", strings.Repeat("large ", 10_000), 0, false},
		{"small under a limit", "hello", 5, true},
		{"large under a limit", strings.Repeat("f", 100), 100, false},
		{"limit below the threshold", strings.Repeat("s", 8), 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, small, dir := tieredBlobs(t, max)
			// A reader that hands out a few bytes at a time, as a network
			// body does.
			info, err := b.Put(ctx, iotest.HalfReader(strings.NewReader(tt.content)), tt.maxBytes)
			require.NoError(t, err)
			sum := sha256.Sum256([]byte(tt.content))
			require.Equal(t, hex.EncodeToString(sum[:]), info.SHA256)
			require.EqualValues(t, len(tt.content), info.Size)
			if tt.inDB {
				require.Regexp(t, dbKey, info.Key)
				require.Equal(t, map[string][]byte{info.Key: []byte(tt.content)}, small.stored())
				require.Empty(t, dirNames(t, dir), "a database blob creates no file")
			} else {
				require.Regexp(t, fileKey, info.Key)
				require.Empty(t, small.stored())
				require.Equal(t, []string{info.Key}, dirNames(t, dir))
			}
			require.Equal(t, tt.content, readBlob(t, b, info.Key))

			require.NoError(t, b.Delete(ctx, info.Key))
			require.NoError(t, b.Delete(ctx, info.Key), "delete is idempotent")
			_, err = b.Open(ctx, info.Key)
			require.True(t, ragqueue.IsNotFound(err), "%v", err)
			requireNothingStored(t, small, dir)
		})
	}
}

// TestTieredBlobsTooLarge: over maxBytes nothing is stored on either path,
// and the body limit's own error stays recognisable.
func TestTieredBlobsTooLarge(t *testing.T) {
	t.Parallel()
	const max = 16
	tests := []struct {
		name     string
		content  string
		maxBytes int64
	}{
		{"limit below the threshold", strings.Repeat("x", 9), 8},
		{"limit at the threshold", strings.Repeat("x", max+1), max},
		{"limit above the threshold", strings.Repeat("x", 101), 100},
		{"far over", strings.Repeat("x", 10_000), 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, small, dir := tieredBlobs(t, max)
			_, err := b.Put(context.Background(), strings.NewReader(tt.content), tt.maxBytes)
			require.Equal(t, ragqueue.ETOOLARGE, ragqueue.ErrorCode(err), "%v", err)
			require.Empty(t, small.callLog(), "nothing reached the database")
			require.Empty(t, dirNames(t, dir), "nothing left on disk")
		})
	}

	// The API's body limit fails the read itself, below and above the
	// threshold.
	for _, n := range []int64{8, 100} {
		b, small, dir := tieredBlobs(t, max)
		body := http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(strings.Repeat("x", 200))), n)
		_, err := b.Put(context.Background(), body, 0)
		var mbe *http.MaxBytesError
		require.ErrorAs(t, err, &mbe, "limit %d", n)
		requireNothingStored(t, small, dir)
	}
}

// TestTieredBlobsKeys: a key of neither shape is not found and never
// reaches the file system or the database; each shape goes to its own tier.
func TestTieredBlobsKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, small, dir := tieredBlobs(t, 16)
	file, err := b.Put(ctx, strings.NewReader(strings.Repeat("f", 100)), 0)
	require.NoError(t, err)
	db, err := b.Put(ctx, strings.NewReader("small"), 0)
	require.NoError(t, err)

	// A sentinel the bad keys would reach if they became paths.
	sentinel := filepath.Join(dir, "d"+file.Key)
	require.NoError(t, os.WriteFile(sentinel, []byte("not a blob"), 0o600))
	calls := len(small.callLog())
	for _, bad := range []string{
		"", "..", "../etc/passwd", "/etc/passwd", file.Key + "/x", file.Key + "\x00",
		"D" + file.Key, "d" + file.Key[:31], "d" + file.Key + "0", "dg" + file.Key[1:],
		strings.ToUpper(file.Key), "d../" + file.Key[3:], db.Key[1:] + "/", " " + file.Key,
	} {
		_, err := b.Open(ctx, bad)
		require.True(t, ragqueue.IsNotFound(err), "%q: %v", bad, err)
		require.NoError(t, b.Delete(ctx, bad), "%q", bad)
	}
	require.Len(t, small.callLog(), calls, "bad keys never reached the database")
	require.FileExists(t, sentinel)
	require.FileExists(t, filepath.Join(dir, file.Key))

	// A file key is only looked up as a file, a database key only in the
	// database.
	last := "0" // another key of the same shape: its last digit differs
	if strings.HasSuffix(file.Key, last) {
		last = "1"
	}
	_, err = b.Open(ctx, file.Key[:31]+last)
	require.True(t, ragqueue.IsNotFound(err))
	require.Len(t, small.callLog(), calls)
	_, err = b.Open(ctx, "d"+file.Key)
	require.True(t, ragqueue.IsNotFound(err), "the sentinel file is not a database blob")
	require.Equal(t, "get d"+file.Key, small.callLog()[calls])
	require.Equal(t, "small", readBlob(t, b, db.Key))

	// Without the option, database keys are unknown and nothing is asked.
	plain, err := storage.NewFileBlobs(dir)
	require.NoError(t, err)
	_, err = plain.Open(ctx, db.Key)
	require.True(t, ragqueue.IsNotFound(err))
	require.NoError(t, plain.Delete(ctx, db.Key))
	require.Contains(t, small.stored(), db.Key)
	require.Equal(t, strings.Repeat("f", 100), readBlob(t, plain, file.Key))
}

// TestTieredBlobsCancel: a cancelled Put stores nothing on either path.
func TestTieredBlobsCancel(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"small", strings.Repeat("large", 100)} {
		b, small, dir := tieredBlobs(t, 16)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.Put(ctx, strings.NewReader(content), 0)
		require.ErrorIs(t, err, context.Canceled)
		requireNothingStored(t, small, dir)

		// Cancelled mid-read, after the first bytes.
		ctx, cancel = context.WithCancel(context.Background())
		r := io.MultiReader(strings.NewReader(content[:3]), cancelOnRead{cancel}, strings.NewReader(content[3:]))
		_, err = b.Put(ctx, r, 0)
		require.ErrorIs(t, err, context.Canceled)
		requireNothingStored(t, small, dir)
	}
}

// cancelOnRead cancels its context when read and reads nothing.
type cancelOnRead struct{ cancel context.CancelFunc }

func (c cancelOnRead) Read([]byte) (int, error) { c.cancel(); return 0, io.EOF }

// TestTieredBlobsPutFails: a failed database write is removed (its reply
// may have been lost after the row was written) and reported.
func TestTieredBlobsPutFails(t *testing.T) {
	t.Parallel()
	b, small, dir := tieredBlobs(t, 16)
	small.putErr = errors.New("connection reset")
	_, err := b.Put(context.Background(), strings.NewReader("small"), 0)
	require.ErrorContains(t, err, "connection reset")
	requireNothingStored(t, small, dir)
}

// TestTieredBlobsDefaultMax: max <= 0 is DefaultSmallBlobMax.
func TestTieredBlobsDefaultMax(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, small, dir := tieredBlobs(t, 0)
	in, err := b.Put(ctx, bytes.NewReader(make([]byte, storage.DefaultSmallBlobMax)), 0)
	require.NoError(t, err)
	require.Regexp(t, dbKey, in.Key)
	out, err := b.Put(ctx, bytes.NewReader(make([]byte, storage.DefaultSmallBlobMax+1)), 0)
	require.NoError(t, err)
	require.Regexp(t, fileKey, out.Key)
	require.Len(t, small.stored(), 1)
	require.Equal(t, []string{out.Key}, dirNames(t, dir))
}

// requireNothingStored asserts that neither tier holds a blob.
func requireNothingStored(t *testing.T, small *fakeSmall, dir string) {
	t.Helper()
	require.Empty(t, small.stored())
	require.Empty(t, dirNames(t, dir))
}
