package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ContentHash is the key a chunk's vector is stored and reused under: the
// hex SHA-256 of the embedder's name and the chunk's text, so that a vector
// is reused only for the same text in the same embedding space.
func ContentHash(embedder, text string) string {
	h := sha256.New()
	h.Write([]byte(embedder))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil))
}

// EmbedAll is emb.Embed, failing unless every text got its vector.
func EmbedAll(ctx context.Context, emb Embedder, texts []string) ([][]float32, error) {
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return nil, err
	} else if len(vecs) != len(texts) {
		return nil, fmt.Errorf("%d vectors for %d texts", len(vecs), len(texts))
	}
	return vecs, nil
}
