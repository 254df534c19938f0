package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/ragqueue/ragqueue"
)

// FileBlobs stores uploaded bytes as files in one directory under names the
// server makes up. Client file names never reach the file system.
type FileBlobs struct {
	dir string
}

// NewFileBlobs returns a blob store rooted at dir, creating it if needed.
func NewFileBlobs(dir string) (*FileBlobs, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create blob dir: %w", err)
	}
	return &FileBlobs{dir: dir}, nil
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key    string
	SHA256 string // hex
	Size   int64
}

// keyPattern is the only shape of key Put makes; anything else is refused so
// that a key can never walk out of the directory.
var keyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Put copies r into a new blob, at most maxBytes (0 for no limit), hashing it
// on the way. Over the limit it removes what it wrote and returns ETOOLARGE.
// The blob is written straight under its final, random name (one file
// creation, no rename: creating files is the slow part on small uploads);
// nothing refers to the key before Put returns it, and a failed Put removes
// the file.
func (b *FileBlobs) Put(ctx context.Context, r io.Reader, maxBytes int64) (info BlobInfo, err error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return BlobInfo{}, fmt.Errorf("storage: blob key: %w", err)
	}
	key := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(b.path(key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return BlobInfo{}, fmt.Errorf("storage: create blob: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	src := r
	if maxBytes > 0 {
		src = io.LimitReader(r, maxBytes+1)
	}
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, src})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Keep the cause visible: a *http.MaxBytesError from the API's body
		// limit must still be recognisable after wrapping.
		return BlobInfo{}, fmt.Errorf("storage: write blob: %w", err)
	}
	if maxBytes > 0 && n > maxBytes {
		return BlobInfo{}, ragqueue.Errorf(ragqueue.ETOOLARGE, "content is larger than the %d byte limit", maxBytes)
	}
	return BlobInfo{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// Open returns the blob's bytes. A missing blob is ENOTFOUND.
func (b *FileBlobs) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if !keyPattern.MatchString(key) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "blob %q not found", key)
	}
	f, err := os.Open(b.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "blob %q not found", key)
	} else if err != nil {
		return nil, fmt.Errorf("storage: open blob %s: %w", key, err)
	}
	return f, nil
}

// Delete removes a blob. Deleting a missing blob is not an error, so that
// deletes can be retried.
func (b *FileBlobs) Delete(_ context.Context, key string) error {
	if !keyPattern.MatchString(key) {
		return nil
	}
	if err := os.Remove(b.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete blob %s: %w", key, err)
	}
	return nil
}

func (b *FileBlobs) path(key string) string { return filepath.Join(b.dir, key) }

// ctxReader stops a long copy when the request or job is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
