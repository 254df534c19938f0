package storage

import (
	"bytes"
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

// FileBlobs stores uploaded bytes under keys the server makes up. Client
// file names never reach the file system. Blobs are files in one directory,
// except that with WithSmallBlobs the small ones are rows of the metadata
// database: creating a file is the biggest cost of storing a small web page.
type FileBlobs struct {
	dir string
	// small holds blobs of at most smallMax bytes; nil keeps every blob a
	// file.
	small    SmallBlobStore
	smallMax int64
}

// SmallBlobStore keeps blobs in the metadata database. sqlite.Store and
// postgres.Store implement it.
type SmallBlobStore interface {
	// PutBlob stores data under a new key; an existing key is an error.
	PutBlob(ctx context.Context, key string, data []byte) error
	// GetBlob returns the bytes under key; ENOTFOUND if none.
	GetBlob(ctx context.Context, key string) ([]byte, error)
	// DeleteBlob removes the blob under key; a missing one is not an error.
	DeleteBlob(ctx context.Context, key string) error
}

// DefaultSmallBlobMax is the size up to which WithSmallBlobs keeps a blob in
// the database. Web pages and most text uploads fit, so a crawl creates no
// files; PDFs usually do not and stay files, where streaming them costs no
// memory. Rows this size are fine for both databases (PostgreSQL TOASTs
// them), and Put holds at most this much in memory per call.
const DefaultSmallBlobMax = 1 << 20

// BlobOption configures NewFileBlobs.
type BlobOption func(*FileBlobs)

// WithSmallBlobs keeps blobs of at most max bytes in store instead of files;
// max <= 0 means DefaultSmallBlobMax. A nil store leaves every blob a file.
func WithSmallBlobs(store SmallBlobStore, max int64) BlobOption {
	return func(b *FileBlobs) {
		if max <= 0 {
			max = DefaultSmallBlobMax
		}
		b.small, b.smallMax = store, max
	}
}

// NewFileBlobs returns a blob store rooted at dir, creating it if needed.
func NewFileBlobs(dir string, opts ...BlobOption) (*FileBlobs, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create blob dir: %w", err)
	}
	b := &FileBlobs{dir: dir}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

// The only shapes of key Put makes: a file's is 32 hex digits, a database
// blob's is dbKeyPrefix and 32 hex digits. Anything else is refused, so that
// a key can never walk out of the directory and the two kinds are never
// confused: only a file key ever becomes a path.
var (
	fileKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	dbKeyPattern   = regexp.MustCompile(`^` + dbKeyPrefix + `[0-9a-f]{32}$`)
)

const dbKeyPrefix = "d"

// newKey returns 32 random hex digits.
func newKey() (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("storage: blob key: %w", err)
	}
	return hex.EncodeToString(raw[:]), nil
}

// Put copies r into a new blob, at most maxBytes (0 for no limit), hashing it
// on the way. Over the limit it stores nothing and returns ETOOLARGE.
//
// With a small-blob store, Put first reads up to its threshold plus one byte
// into memory: content that fits goes to the database in one INSERT, the
// rest to a file as without one.
func (b *FileBlobs) Put(ctx context.Context, r io.Reader, maxBytes int64) (ragqueue.BlobInfo, error) {
	src := r
	if maxBytes > 0 {
		src = io.LimitReader(r, maxBytes+1)
	}
	src = ctxReader{ctx, src}
	if b.small == nil {
		return b.putFile(src, maxBytes)
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(src, b.smallMax+1))
	if err != nil {
		// Keep the cause visible: a *http.MaxBytesError from the API's body
		// limit must still be recognisable after wrapping.
		return ragqueue.BlobInfo{}, fmt.Errorf("storage: read blob: %w", err)
	}
	switch {
	case maxBytes > 0 && n > maxBytes:
		return ragqueue.BlobInfo{}, tooLarge(maxBytes) // known already: no file to create
	case n > b.smallMax:
		return b.putFile(io.MultiReader(&buf, src), maxBytes)
	default:
		return b.putSmall(ctx, buf.Bytes())
	}
}

// putSmall stores data in the small-blob store under a new database key.
func (b *FileBlobs) putSmall(ctx context.Context, data []byte) (ragqueue.BlobInfo, error) {
	key, err := newKey()
	if err != nil {
		return ragqueue.BlobInfo{}, err
	}
	key = dbKeyPrefix + key
	if err := b.small.PutBlob(ctx, key, data); err != nil {
		// The row may exist even so (the reply was lost): nothing refers to
		// the key yet, so remove it as a failed file write is removed. Not
		// on a conflict: that row is another blob's.
		if ragqueue.ErrorCode(err) != ragqueue.ECONFLICT {
			_ = b.small.DeleteBlob(context.WithoutCancel(ctx), key)
		}
		return ragqueue.BlobInfo{}, fmt.Errorf("storage: put blob: %w", err)
	}
	sum := sha256.Sum256(data)
	return ragqueue.BlobInfo{Key: key, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}, nil
}

// putFile copies src, already limited to maxBytes+1 bytes, into a new file.
// The blob is written straight under its final, random name (one file
// creation, no rename: creating files is the slow part on small uploads);
// nothing refers to the key before Put returns it, and a failed Put removes
// the file.
func (b *FileBlobs) putFile(src io.Reader, maxBytes int64) (info ragqueue.BlobInfo, err error) {
	key, err := newKey()
	if err != nil {
		return ragqueue.BlobInfo{}, err
	}
	f, err := os.OpenFile(b.path(key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return ragqueue.BlobInfo{}, fmt.Errorf("storage: create blob: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Keep the cause visible: a *http.MaxBytesError from the API's body
		// limit must still be recognisable after wrapping.
		return ragqueue.BlobInfo{}, fmt.Errorf("storage: write blob: %w", err)
	}
	if maxBytes > 0 && n > maxBytes {
		return ragqueue.BlobInfo{}, tooLarge(maxBytes)
	}
	return ragqueue.BlobInfo{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

func tooLarge(maxBytes int64) error {
	return ragqueue.Errorf(ragqueue.ETOOLARGE, "content is larger than the %d byte limit", maxBytes)
}

// Open returns the blob's bytes. A missing blob is ENOTFOUND.
func (b *FileBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	switch {
	case fileKeyPattern.MatchString(key):
		f, err := os.Open(b.path(key))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notFound(key)
		} else if err != nil {
			return nil, fmt.Errorf("storage: open blob %s: %w", key, err)
		}
		return f, nil
	case b.small != nil && dbKeyPattern.MatchString(key):
		data, err := b.small.GetBlob(ctx, key)
		if ragqueue.IsNotFound(err) {
			return nil, notFound(key)
		} else if err != nil {
			return nil, fmt.Errorf("storage: open blob %s: %w", key, err)
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	default:
		return nil, notFound(key)
	}
}

// Delete removes a blob. Deleting a missing blob is not an error, so that
// deletes can be retried.
func (b *FileBlobs) Delete(ctx context.Context, key string) error {
	switch {
	case fileKeyPattern.MatchString(key):
		if err := os.Remove(b.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("storage: delete blob %s: %w", key, err)
		}
	case b.small != nil && dbKeyPattern.MatchString(key):
		if err := b.small.DeleteBlob(ctx, key); err != nil {
			return fmt.Errorf("storage: delete blob %s: %w", key, err)
		}
	}
	return nil
}

func notFound(key string) error { return ragqueue.Errorf(ragqueue.ENOTFOUND, "blob %q not found", key) }

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
