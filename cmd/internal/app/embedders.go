package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// CheckEmbedder validates a RAGQ_EMBEDDER setting without building the
// embedder (no network): the error says what is accepted.
func CheckEmbedder(spec string) error {
	_, err := hashDim(spec)
	return err
}

// hashDim is the dimension of a hash embedder setting: "hash" (384) or
// "hash:DIM".
func hashDim(spec string) (int, error) {
	switch s := strings.ToLower(strings.TrimSpace(spec)); {
	case s == "hash":
		return 384, nil
	case strings.HasPrefix(s, "hash:"):
		d, err := strconv.Atoi(strings.TrimPrefix(s, "hash:"))
		if err != nil || d < 16 || d > 4096 {
			return 0, ragqueue.Errorf(ragqueue.EINVALID, "%q: the hash dimension must be a whole number from 16 to 4096", spec)
		}
		return d, nil
	}
	return 0, ragqueue.Errorf(ragqueue.EINVALID, "embedder %q is not available; supported: hash, hash:DIM", spec)
}

// NewEmbedder builds the embedder a RAGQ_EMBEDDER setting names.
func (c Config) NewEmbedder(_ context.Context, spec string) (retrieval.Embedder, error) {
	d, err := hashDim(spec)
	if err != nil {
		return nil, err
	}
	return retrieval.NewHashEmbedder(d), nil
}
