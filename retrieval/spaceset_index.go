package retrieval

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragqueue/ragqueue"
)

// snapshotIndex is Snapshot.Index.
type snapshotIndex struct{ sn *Snapshot }

func (x snapshotIndex) Upsert(ctx context.Context, chunks []IndexedChunk) error {
	if err := x.sn.Live.Index.Upsert(ctx, chunks); err != nil {
		return err
	}
	if len(chunks) == 0 {
		return nil
	}
	for _, o := range x.sn.Others {
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = c.Text
		}
		vecs, err := EmbedAll(ctx, o.Embedder, texts)
		if err != nil {
			return fmt.Errorf("retrieval: embed for space %s: %w", o.Space.Name, err)
		}
		items := slices.Clone(chunks)
		for i := range items {
			items[i].Vector = vecs[i]
			items[i].ContentHash = ContentHash(o.Embedder.Name(), items[i].Text)
		}
		if err := othersErr(o, o.Index.Upsert(ctx, items)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) DeleteDocument(ctx context.Context, tenant, documentID string) error {
	if err := x.sn.Live.Index.DeleteDocument(ctx, tenant, documentID); err != nil {
		return err
	}
	for _, o := range x.sn.Others {
		if err := othersErr(o, o.Index.DeleteDocument(ctx, tenant, documentID)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) PublishVersion(ctx context.Context, tenant, documentID string, version int) error {
	if err := x.sn.Live.Index.PublishVersion(ctx, tenant, documentID, version); err != nil {
		return err
	}
	for _, o := range x.sn.Others {
		if err := othersErr(o, o.Index.PublishVersion(ctx, tenant, documentID, version)); err != nil {
			return err
		}
	}
	return nil
}

func (x snapshotIndex) VectorsByHash(ctx context.Context, tenant, documentID string, hashes []string) (map[string][]float32, error) {
	return x.sn.Live.Index.VectorsByHash(ctx, tenant, documentID, hashes)
}

func (x snapshotIndex) Search(ctx context.Context, q Query, fuse Fusion) ([]Passage, error) {
	return x.sn.Live.Index.Search(ctx, q, fuse)
}

func (x snapshotIndex) Ping(ctx context.Context) error { return x.sn.Live.Index.Ping(ctx) }

// othersErr is err from writing to a space that is not live: a space
// dropped since the snapshot was taken (after a re-index switched away from
// it) has nothing left to keep in step.
func othersErr(o Target, err error) error {
	if err == nil || ragqueue.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("retrieval: space %s: %w", o.Space.Name, err)
}
