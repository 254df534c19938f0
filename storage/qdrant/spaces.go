package qdrant

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Collection metadata keys: a space's description lives in its
// collection's metadata (Qdrant ≥ 1.16), so List and Live recover the
// embedder string and the dimension from Qdrant alone.
const (
	metaPrefix   = "ragqueue_prefix"
	metaSpace    = "ragqueue_space"
	metaEmbedder = "ragqueue_embedder"
	metaDim      = "ragqueue_dim"
)

// liveSuffix names the alias that points at the live space's collection;
// no space may be called "live", whose collection would take its name.
const liveSuffix = "live"

// Spaces keeps ragqueue's embedding spaces in one Qdrant: space S is the
// collection "<prefix>_S" and the live space is whatever collection the
// alias "<prefix>_live" points at, switched atomically by one UpdateAliases
// request. It implements retrieval.Spaces and is safe for concurrent use.
type Spaces struct {
	client *qc.Client
	prefix string
	logger *slog.Logger
}

var _ retrieval.Spaces = (*Spaces)(nil)

func (s *Spaces) collection(name string) string { return s.prefix + "_" + name }
func (s *Spaces) alias() string                 { return s.prefix + "_" + liveSuffix }

func checkSpaceName(name string) error {
	if !validName(name) || name == liveSuffix {
		return ragqueue.Errorf(ragqueue.EINVALID,
			"qdrant: space name %q: use lower-case letters, digits, '-' and '_' (and not %q)", name, liveSuffix)
	}
	return nil
}

// Open implements retrieval.Spaces: it returns the index of space, creating
// its collection (vectors, payload indexes, metadata) when it does not
// exist.
func (s *Spaces) Open(ctx context.Context, space retrieval.Space) (retrieval.Index, error) {
	return s.OpenIndex(ctx, space)
}

// OpenIndex is Open returning the concrete *Index.
func (s *Spaces) OpenIndex(ctx context.Context, space retrieval.Space) (*Index, error) {
	if err := checkSpaceName(space.Name); err != nil {
		return nil, err
	}
	if space.Dim <= 0 {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: space %s: dimension must be positive, got %d", space.Name, space.Dim)
	}
	name := s.collection(space.Name)
	stored, ok, err := s.describe(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("qdrant: open space %s: %w", space.Name, err)
	}
	if !ok {
		if err := s.create(ctx, name, space); err != nil {
			return nil, fmt.Errorf("qdrant: open space %s: %w", space.Name, err)
		}
		s.logger.Info("qdrant collection created", "collection", name, "dim", space.Dim, "embedder", space.Embedder)
		stored = space
	}
	if stored.Dim != space.Dim {
		return nil, ragqueue.Errorf(ragqueue.EINVALID,
			"qdrant: space %s holds %d-dimensional vectors, not %d", space.Name, stored.Dim, space.Dim)
	}
	if stored.Embedder != space.Embedder {
		s.logger.Warn("qdrant space opened with another embedder string",
			"space", space.Name, "stored_embedder", stored.Embedder, "embedder", space.Embedder)
	}
	return &Index{client: s.client, collection: name, dim: space.Dim, logger: s.logger}, nil
}

// describe returns the space a collection holds; ok is false when the
// collection does not exist or is not one of this prefix's spaces.
func (s *Spaces) describe(ctx context.Context, collection string) (retrieval.Space, bool, error) {
	exists, err := s.client.CollectionExists(ctx, collection)
	if err != nil {
		return retrieval.Space{}, false, mapErr(err)
	}
	if !exists {
		return retrieval.Space{}, false, nil
	}
	info, err := s.client.GetCollectionInfo(ctx, collection)
	if err != nil {
		return retrieval.Space{}, false, mapErr(err)
	}
	cfg := info.GetConfig()
	meta := cfg.GetMetadata()
	if meta[metaPrefix].GetStringValue() != s.prefix || meta[metaSpace] == nil {
		return retrieval.Space{}, false, ragqueue.Errorf(ragqueue.ECONFLICT,
			"qdrant: collection %s exists but is not a ragqueue space of prefix %s", collection, s.prefix)
	}
	space := retrieval.Space{
		Name:     meta[metaSpace].GetStringValue(),
		Embedder: meta[metaEmbedder].GetStringValue(),
		Dim:      int(meta[metaDim].GetIntegerValue()),
	}
	// The vector config is the truth about the dimension.
	if p := cfg.GetParams().GetVectorsConfig().GetParamsMap().GetMap()[denseVector]; p != nil {
		space.Dim = int(p.GetSize())
	}
	return space, true, nil
}

// create makes the collection of space with its payload indexes. A
// concurrent creator winning the race is not an error.
func (s *Spaces) create(ctx context.Context, name string, space retrieval.Space) error {
	err := s.client.CreateCollection(ctx, &qc.CreateCollection{
		CollectionName: name,
		VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{
			denseVector: {Size: uint64(space.Dim), Distance: qc.Distance_Cosine},
		}),
		SparseVectorsConfig: qc.NewSparseVectorsConfig(map[string]*qc.SparseVectorParams{
			sparseVector: {Modifier: qc.Modifier_Idf.Enum()},
		}),
		Metadata: map[string]*qc.Value{
			metaPrefix:   qc.NewValueString(s.prefix),
			metaSpace:    qc.NewValueString(space.Name),
			metaEmbedder: qc.NewValueString(space.Embedder),
			metaDim:      qc.NewValueInt(int64(space.Dim)),
		},
	})
	if err != nil {
		if exists, exErr := s.client.CollectionExists(ctx, name); exErr == nil && exists {
			return nil // created by someone else meanwhile
		}
		return fmt.Errorf("create collection: %w", mapErr(err))
	}
	for _, ix := range payloadIndexes {
		if _, err := s.client.CreateFieldIndex(ctx, &qc.CreateFieldIndexCollection{
			CollectionName:   name,
			Wait:             ptr(true),
			FieldName:        ix.field,
			FieldType:        ix.typ.Enum(),
			FieldIndexParams: ix.params,
		}); err != nil {
			return fmt.Errorf("create index on %s: %w", ix.field, mapErr(err))
		}
	}
	return nil
}

// payloadIndexes are the payload fields every filter uses. The tenant
// index is a tenant index (is_tenant), so Qdrant lays each tenant's points
// out together.
var payloadIndexes = []struct {
	field  string
	typ    qc.FieldType
	params *qc.PayloadIndexParams
}{
	{keyTenant, qc.FieldType_FieldTypeKeyword, qc.NewPayloadIndexParamsKeyword(&qc.KeywordIndexParams{IsTenant: ptr(true)})},
	{keyDocumentID, qc.FieldType_FieldTypeKeyword, nil},
	{keySource, qc.FieldType_FieldTypeKeyword, nil},
	{keyContentHash, qc.FieldType_FieldTypeKeyword, nil},
	{keyVersion, qc.FieldType_FieldTypeInteger, nil},
	{keyStaged, qc.FieldType_FieldTypeBool, nil},
}

// Live implements retrieval.Spaces: the space the live alias points at.
func (s *Spaces) Live(ctx context.Context) (retrieval.Space, bool, error) {
	collection, ok, err := s.liveCollection(ctx)
	if err != nil || !ok {
		return retrieval.Space{}, false, err
	}
	space, ok, err := s.describe(ctx, collection)
	if err != nil {
		return retrieval.Space{}, false, fmt.Errorf("qdrant: live space: %w", err)
	}
	return space, ok, nil
}

// liveCollection returns the collection the live alias points at.
func (s *Spaces) liveCollection(ctx context.Context) (string, bool, error) {
	aliases, err := s.client.ListAliases(ctx)
	if err != nil {
		return "", false, fmt.Errorf("qdrant: live space: %w", mapErr(err))
	}
	for _, a := range aliases {
		if a.GetAliasName() == s.alias() {
			return a.GetCollectionName(), true, nil
		}
	}
	return "", false, nil
}

// SetLive implements retrieval.Spaces: one UpdateAliases request deletes
// the live alias and creates it on space's collection, which Qdrant
// applies atomically.
func (s *Spaces) SetLive(ctx context.Context, space retrieval.Space) error {
	if err := checkSpaceName(space.Name); err != nil {
		return err
	}
	name := s.collection(space.Name)
	stored, ok, err := s.describe(ctx, name)
	if err != nil {
		return fmt.Errorf("qdrant: set live %s: %w", space.Name, err)
	}
	if !ok {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "qdrant: set live: space %s was never opened", space.Name)
	}
	if stored.Dim != space.Dim {
		return ragqueue.Errorf(ragqueue.EINVALID, "qdrant: set live: space %s holds %d-dimensional vectors, not %d",
			space.Name, stored.Dim, space.Dim)
	}
	current, hasLive, err := s.liveCollection(ctx)
	if err != nil {
		return err
	}
	if hasLive && current == name {
		return nil
	}
	var ops []*qc.AliasOperations
	if hasLive {
		ops = append(ops, qc.NewAliasDelete(s.alias()))
	}
	ops = append(ops, qc.NewAliasCreate(s.alias(), name))
	if err := s.client.UpdateAliases(ctx, ops); err != nil {
		return fmt.Errorf("qdrant: set live %s: %w", space.Name, mapErr(err))
	}
	s.logger.Info("qdrant live space switched", "space", space.Name, "collection", name, "previous", current)
	return nil
}

// List implements retrieval.Spaces: every collection of this prefix that
// carries ragqueue's space metadata.
func (s *Spaces) List(ctx context.Context) ([]retrieval.Space, error) {
	names, err := s.client.ListCollections(ctx)
	if err != nil {
		return nil, fmt.Errorf("qdrant: list spaces: %w", mapErr(err))
	}
	var out []retrieval.Space
	for _, name := range names {
		if !strings.HasPrefix(name, s.prefix+"_") {
			continue
		}
		space, ok, err := s.describe(ctx, name)
		if ragqueue.ErrorCode(err) == ragqueue.ECONFLICT {
			continue // another prefix's or someone else's collection
		} else if err != nil {
			return nil, fmt.Errorf("qdrant: list spaces: %w", err)
		}
		if ok && s.collection(space.Name) == name {
			out = append(out, space)
		}
	}
	return out, nil
}

// Drop implements retrieval.Spaces: it deletes the space's collection,
// unless the live alias points at it.
func (s *Spaces) Drop(ctx context.Context, name string) error {
	if err := checkSpaceName(name); err != nil {
		return err
	}
	collection := s.collection(name)
	live, hasLive, err := s.liveCollection(ctx)
	if err != nil {
		return err
	}
	if hasLive && live == collection {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "qdrant: space %s is live: make another space live before dropping it", name)
	}
	exists, err := s.client.CollectionExists(ctx, collection)
	if err != nil {
		return fmt.Errorf("qdrant: drop space %s: %w", name, mapErr(err))
	}
	if !exists {
		return nil
	}
	if err := s.client.DeleteCollection(ctx, collection); err != nil {
		return fmt.Errorf("qdrant: drop space %s: %w", name, mapErr(err))
	}
	s.logger.Info("qdrant space dropped", "space", name, "collection", collection)
	return nil
}

// ClearLive removes the live pointer, so that no space is live and every
// space can be dropped. Without a live space nothing is cleared.
func (s *Spaces) ClearLive(ctx context.Context) error {
	_, hasLive, err := s.liveCollection(ctx)
	if err != nil || !hasLive {
		return err
	}
	if err := s.client.UpdateAliases(ctx, []*qc.AliasOperations{qc.NewAliasDelete(s.alias())}); err != nil {
		return fmt.Errorf("qdrant: clear live: %w", mapErr(err))
	}
	return nil
}
