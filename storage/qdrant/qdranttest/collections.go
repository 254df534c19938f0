package qdranttest

import (
	"context"
	"maps"
	"slices"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// collection is one collection: its configuration and its points.
type collection struct {
	name      string
	dim       int             // of the "dense" vector
	denseName string          // name of the dense vector
	sparse    map[string]bool // sparse vector name → IDF modifier on
	metadata  map[string]*qc.Value
	indexes   map[string]qc.FieldType
	points    map[string]*point // point ID → point
	// postings index the sparse vectors: vector name → sparse index → IDs
	// of the points holding it, so that a sparse query touches only them.
	postings map[string]map[uint32]map[string]struct{}
	sparseN  map[string]int // vector name → points holding it
}

// put stores p, replacing any point with its ID.
func (c *collection) put(p *point) {
	c.remove(p.id)
	c.points[p.id] = p
	for name, sv := range p.sparse {
		c.sparseN[name]++
		byIndex := c.postings[name]
		if byIndex == nil {
			byIndex = make(map[uint32]map[string]struct{})
			c.postings[name] = byIndex
		}
		for _, ix := range sv.indices {
			ids := byIndex[ix]
			if ids == nil {
				ids = make(map[string]struct{})
				byIndex[ix] = ids
			}
			ids[p.id] = struct{}{}
		}
	}
}

// remove deletes the point with ID id, if any.
func (c *collection) remove(id string) {
	old, ok := c.points[id]
	if !ok {
		return
	}
	delete(c.points, id)
	for name, sv := range old.sparse {
		c.sparseN[name]--
		for _, ix := range sv.indices {
			ids := c.postings[name][ix]
			delete(ids, id)
			if len(ids) == 0 {
				delete(c.postings[name], ix)
			}
		}
	}
}

// sparseCount is the number of points holding sparse vector name.
func (c *collection) sparseCount(name string) int { return c.sparseN[name] }

// Create implements qc.CollectionsServer for collections with exactly one
// named cosine dense vector and any number of named sparse vectors.
func (s collectionsService) Create(_ context.Context, req *qc.CreateCollection) (*qc.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Create")
	name := req.GetCollectionName()
	if _, ok := s.collections[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	if _, ok := s.aliases[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Alias with name `%s` already exists!", name)
	}
	params := req.GetVectorsConfig().GetParamsMap().GetMap()
	if len(params) != 1 {
		return nil, s.violate("Create", "want exactly one named dense vector, got %d", len(params))
	}
	c := &collection{
		name:     name,
		sparse:   make(map[string]bool),
		metadata: maps.Clone(req.GetMetadata()),
		indexes:  make(map[string]qc.FieldType),
		points:   make(map[string]*point),
		postings: make(map[string]map[uint32]map[string]struct{}),
		sparseN:  make(map[string]int),
	}
	for vname, p := range params {
		if p.GetDistance() != qc.Distance_Cosine {
			return nil, s.violate("Create", "dense vector %s: distance %v, the fake only does Cosine", vname, p.GetDistance())
		}
		if p.GetSize() == 0 || p.GetSize() > 65536 {
			return nil, s.violate("Create", "dense vector %s: size %d", vname, p.GetSize())
		}
		c.denseName, c.dim = vname, int(p.GetSize())
	}
	for vname, p := range req.GetSparseVectorsConfig().GetMap() {
		c.sparse[vname] = p.GetModifier() == qc.Modifier_Idf
	}
	s.collections[name] = c
	return &qc.CollectionOperationResponse{Result: true}, nil
}

// Get implements qc.CollectionsServer: the configuration, metadata and
// point count.
func (s collectionsService) Get(_ context.Context, req *qc.GetCollectionInfoRequest) (*qc.GetCollectionInfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Get")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	sparse := make(map[string]*qc.SparseVectorParams, len(c.sparse))
	for vname, idf := range c.sparse {
		p := &qc.SparseVectorParams{}
		if idf {
			p.Modifier = qc.Modifier_Idf.Enum()
		}
		sparse[vname] = p
	}
	schema := make(map[string]*qc.PayloadSchemaInfo, len(c.indexes))
	for field, typ := range c.indexes {
		schema[field] = &qc.PayloadSchemaInfo{DataType: qc.PayloadSchemaType(typ + 1)}
	}
	n := uint64(len(c.points))
	return &qc.GetCollectionInfoResponse{Result: &qc.CollectionInfo{
		Status: qc.CollectionStatus_Green,
		Config: &qc.CollectionConfig{
			Params: &qc.CollectionParams{
				ShardNumber: 1,
				VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{
					c.denseName: {Size: uint64(c.dim), Distance: qc.Distance_Cosine},
				}),
				SparseVectorsConfig: &qc.SparseVectorConfig{Map: sparse},
			},
			Metadata: maps.Clone(c.metadata),
		},
		PayloadSchema: schema,
		PointsCount:   &n,
	}}, nil
}

// List implements qc.CollectionsServer.
func (s collectionsService) List(context.Context, *qc.ListCollectionsRequest) (*qc.ListCollectionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("List")
	resp := &qc.ListCollectionsResponse{}
	for _, name := range slices.Sorted(maps.Keys(s.collections)) {
		resp.Collections = append(resp.Collections, &qc.CollectionDescription{Name: name})
	}
	return resp, nil
}

// Delete implements qc.CollectionsServer; it removes the aliases of the
// collection with it, as Qdrant does.
func (s collectionsService) Delete(_ context.Context, req *qc.DeleteCollection) (*qc.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Delete")
	name := req.GetCollectionName()
	if _, ok := s.collections[name]; !ok {
		return &qc.CollectionOperationResponse{Result: false}, nil
	}
	delete(s.collections, name)
	for a, target := range s.aliases {
		if target == name {
			delete(s.aliases, a)
		}
	}
	return &qc.CollectionOperationResponse{Result: true}, nil
}

// CollectionExists implements qc.CollectionsServer.
func (s collectionsService) CollectionExists(_ context.Context, req *qc.CollectionExistsRequest) (*qc.CollectionExistsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("CollectionExists")
	_, ok := s.collections[req.GetCollectionName()]
	return &qc.CollectionExistsResponse{Result: &qc.CollectionExists{Exists: ok}}, nil
}

// UpdateAliases implements qc.CollectionsServer: all actions apply, in
// order, or none does. Deleting a missing alias and creating one that
// exists are errors, as in Qdrant.
func (s collectionsService) UpdateAliases(_ context.Context, req *qc.ChangeAliases) (*qc.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("UpdateAliases")
	next := maps.Clone(s.aliases)
	for _, op := range req.GetActions() {
		switch {
		case op.GetCreateAlias() != nil:
			a := op.GetCreateAlias()
			if _, ok := s.collections[a.GetCollectionName()]; !ok {
				return nil, status.Errorf(codes.NotFound, "Collection `%s` doesn't exist!", a.GetCollectionName())
			}
			if _, ok := next[a.GetAliasName()]; ok {
				return nil, status.Errorf(codes.AlreadyExists, "Alias `%s` already exists!", a.GetAliasName())
			}
			if _, ok := s.collections[a.GetAliasName()]; ok {
				return nil, status.Errorf(codes.AlreadyExists, "Collection `%s` already exists!", a.GetAliasName())
			}
			next[a.GetAliasName()] = a.GetCollectionName()
		case op.GetDeleteAlias() != nil:
			name := op.GetDeleteAlias().GetAliasName()
			if _, ok := next[name]; !ok {
				return nil, status.Errorf(codes.NotFound, "Alias `%s` doesn't exist!", name)
			}
			delete(next, name)
		default:
			return nil, status.Errorf(codes.Unimplemented, "qdranttest: alias action %T", op.GetAction())
		}
	}
	s.aliases = next
	return &qc.CollectionOperationResponse{Result: true}, nil
}

// ListAliases implements qc.CollectionsServer.
func (s collectionsService) ListAliases(context.Context, *qc.ListAliasesRequest) (*qc.ListAliasesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("ListAliases")
	resp := &qc.ListAliasesResponse{}
	for _, a := range slices.Sorted(maps.Keys(s.aliases)) {
		resp.Aliases = append(resp.Aliases, &qc.AliasDescription{AliasName: a, CollectionName: s.aliases[a]})
	}
	return resp, nil
}

// ListCollectionAliases implements qc.CollectionsServer.
func (s collectionsService) ListCollectionAliases(_ context.Context, req *qc.ListCollectionAliasesRequest) (*qc.ListAliasesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("ListCollectionAliases")
	resp := &qc.ListAliasesResponse{}
	for _, a := range slices.Sorted(maps.Keys(s.aliases)) {
		if s.aliases[a] == req.GetCollectionName() {
			resp.Aliases = append(resp.Aliases, &qc.AliasDescription{AliasName: a, CollectionName: s.aliases[a]})
		}
	}
	return resp, nil
}
