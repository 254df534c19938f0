package qdranttest

import (
	"context"
	"maps"
	"math"
	"slices"

	"github.com/google/uuid"
	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// point is one stored point. Its fields are replaced, never mutated in
// place, so responses may share them.
type point struct {
	id      string
	payload map[string]*qc.Value
	dense   []float32         // as stored: normalised for cosine
	sparse  map[string]sparse // vector name → vector
}

// sparse is a sparse vector with ascending, unique indices.
type sparse struct {
	indices []uint32
	values  []float32
}

// Upsert implements qc.PointsServer. Rules: wait=true, 1 to
// MaxUpsertBatch points, UUID IDs, the dense vector of the collection's
// size, valid sparse vectors, a non-empty string tenant in every payload.
func (s pointsService) Upsert(_ context.Context, req *qc.UpsertPoints) (*qc.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Upsert")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		return nil, s.violate("Upsert", "wait must be true")
	}
	if n := len(req.GetPoints()); n == 0 || n > MaxUpsertBatch {
		return nil, s.violate("Upsert", "%d points in one request, want 1 to %d", n, MaxUpsertBatch)
	}
	stored := make([]*point, 0, len(req.GetPoints()))
	for _, ps := range req.GetPoints() {
		p, err := s.newPoint(c, ps)
		if err != nil {
			return nil, err
		}
		stored = append(stored, p)
	}
	for _, p := range stored {
		c.put(p)
	}
	return completed(), nil
}

func (s *Server) newPoint(c *collection, ps *qc.PointStruct) (*point, error) {
	u := ps.GetId().GetUuid()
	if _, err := uuid.Parse(u); err != nil {
		return nil, s.violate("Upsert", "point ID %v is not a UUID", ps.GetId())
	}
	if t, ok := ps.GetPayload()["tenant"].GetKind().(*qc.Value_StringValue); !ok || t.StringValue == "" {
		return nil, s.violate("Upsert", "point %s has no tenant in its payload", u)
	}
	named := ps.GetVectors().GetVectors().GetVectors()
	if named == nil {
		return nil, s.violate("Upsert", "point %s: want named vectors", u)
	}
	p := &point{id: u, payload: maps.Clone(ps.GetPayload()), sparse: make(map[string]sparse)}
	for name, v := range named {
		if name == c.denseName {
			d := v.GetDense().GetData()
			if len(d) != c.dim {
				return nil, status.Errorf(codes.InvalidArgument,
					"Wrong input: Vector dimension error: expected dim: %d, got %d", c.dim, len(d))
			}
			p.dense = normalise(d)
			continue
		}
		if _, ok := c.sparse[name]; !ok {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", name)
		}
		sv := v.GetSparse()
		if sv == nil || len(sv.GetIndices()) != len(sv.GetValues()) {
			return nil, s.violate("Upsert", "point %s: sparse vector %s malformed", u, name)
		}
		idx := sv.GetIndices()
		for i := 1; i < len(idx); i++ {
			if idx[i] == idx[i-1] || !slices.IsSorted(idx) {
				return nil, s.violate("Upsert", "point %s: sparse vector %s: indices must be unique (and ragqueue sorts them)", u, name)
			}
		}
		p.sparse[name] = sparse{indices: idx, values: sv.GetValues()}
	}
	if p.dense == nil {
		return nil, s.violate("Upsert", "point %s has no %s vector", u, c.denseName)
	}
	return p, nil
}

// normalise returns v scaled to unit length unless it is already of unit
// length (within 1e-6) or zero, as Qdrant stores cosine vectors.
func normalise(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	n := math.Sqrt(sum)
	out := slices.Clone(v)
	if n < 1e-12 || math.Abs(n-1) <= 1e-6 {
		return out
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / n)
	}
	return out
}

func completed() *qc.PointsOperationResponse {
	return &qc.PointsOperationResponse{Result: &qc.UpdateResult{Status: qc.UpdateStatus_Completed}}
}

// selected returns the IDs of the points a selector picks. A filter
// selector must pin a tenant.
func (s *Server) selected(method string, c *collection, sel *qc.PointsSelector) ([]string, error) {
	if ids := sel.GetPoints(); ids != nil {
		out := make([]string, 0, len(ids.GetIds()))
		for _, id := range ids.GetIds() {
			if _, ok := c.points[idString(id)]; ok {
				out = append(out, idString(id))
			}
		}
		return out, nil
	}
	f := sel.GetFilter()
	if f == nil {
		return nil, s.violate(method, "no points selector")
	}
	if tenantOf(f) == "" {
		return nil, s.violate(method, "filter without a tenant condition")
	}
	var out []string
	for id, p := range c.points {
		ok, err := matches(f, p)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "qdranttest: %s: %v", method, err)
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// Delete implements qc.PointsServer. Rules: wait=true; a filter selector
// pins a tenant.
func (s pointsService) Delete(_ context.Context, req *qc.DeletePoints) (*qc.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("DeletePoints")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		return nil, s.violate("DeletePoints", "wait must be true")
	}
	ids, err := s.selected("DeletePoints", c, req.GetPoints())
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		c.remove(id)
	}
	return completed(), nil
}

// SetPayload implements qc.PointsServer. Rules as Delete.
func (s pointsService) SetPayload(_ context.Context, req *qc.SetPayloadPoints) (*qc.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("SetPayload")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		return nil, s.violate("SetPayload", "wait must be true")
	}
	if err := s.setPayload("SetPayload", c, req.GetPayload(), req.GetPointsSelector(), req.Key); err != nil {
		return nil, err
	}
	return completed(), nil
}

func (s *Server) setPayload(method string, c *collection, payload map[string]*qc.Value, sel *qc.PointsSelector, key *string) error {
	if key != nil {
		return status.Errorf(codes.Unimplemented, "qdranttest: %s: key is not supported", method)
	}
	if _, ok := payload["tenant"]; ok {
		return s.violate(method, "a payload update must never move points between tenants")
	}
	ids, err := s.selected(method, c, sel)
	if err != nil {
		return err
	}
	for _, id := range ids {
		old := c.points[id]
		p := *old
		p.payload = maps.Clone(old.payload)
		maps.Copy(p.payload, payload)
		c.points[id] = &p
	}
	return nil
}

// UpdateBatch implements qc.PointsServer for set_payload and delete_points
// operations, applied in order under one lock (Qdrant applies them in
// order too, but a search may run between two of them).
func (s pointsService) UpdateBatch(_ context.Context, req *qc.UpdateBatchPoints) (*qc.UpdateBatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("UpdateBatch")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		return nil, s.violate("UpdateBatch", "wait must be true")
	}
	// Check every operation before applying any.
	for _, op := range req.GetOperations() {
		switch {
		case op.GetSetPayload() != nil:
			if _, err := s.selected("UpdateBatch/SetPayload", c, op.GetSetPayload().GetPointsSelector()); err != nil {
				return nil, err
			}
		case op.GetDeletePoints() != nil:
			if _, err := s.selected("UpdateBatch/DeletePoints", c, op.GetDeletePoints().GetPoints()); err != nil {
				return nil, err
			}
		default:
			return nil, status.Errorf(codes.Unimplemented, "qdranttest: UpdateBatch: operation %T", op.GetOperation())
		}
	}
	resp := &qc.UpdateBatchResponse{}
	for _, op := range req.GetOperations() {
		if sp := op.GetSetPayload(); sp != nil {
			if err := s.setPayload("UpdateBatch/SetPayload", c, sp.GetPayload(), sp.GetPointsSelector(), sp.Key); err != nil {
				return nil, err
			}
		} else {
			ids, _ := s.selected("UpdateBatch/DeletePoints", c, op.GetDeletePoints().GetPoints())
			for _, id := range ids {
				c.remove(id)
			}
		}
		resp.Result = append(resp.Result, &qc.UpdateResult{Status: qc.UpdateStatus_Completed})
	}
	return resp, nil
}

// CreateFieldIndex implements qc.PointsServer. Rules: wait=true; the
// tenant field is a keyword index with is_tenant.
func (s pointsService) CreateFieldIndex(_ context.Context, req *qc.CreateFieldIndexCollection) (*qc.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("CreateFieldIndex")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if !req.GetWait() {
		return nil, s.violate("CreateFieldIndex", "wait must be true")
	}
	if req.FieldType == nil {
		return nil, s.violate("CreateFieldIndex", "field %s: no type", req.GetFieldName())
	}
	if req.GetFieldName() == "tenant" &&
		(req.GetFieldType() != qc.FieldType_FieldTypeKeyword || !req.GetFieldIndexParams().GetKeywordIndexParams().GetIsTenant()) {
		return nil, s.violate("CreateFieldIndex", "the tenant index must be a keyword index with is_tenant=true")
	}
	c.indexes[req.GetFieldName()] = req.GetFieldType()
	return completed(), nil
}

// Get implements qc.PointsServer: points by ID. Rule: at most MaxLimit IDs.
func (s pointsService) Get(_ context.Context, req *qc.GetPoints) (*qc.GetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("GetPoints")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if len(req.GetIds()) > MaxLimit {
		return nil, s.violate("GetPoints", "%d IDs in one request, want at most %d", len(req.GetIds()), MaxLimit)
	}
	resp := &qc.GetResponse{}
	for _, id := range req.GetIds() {
		if p, ok := c.points[idString(id)]; ok {
			resp.Result = append(resp.Result, retrieved(c, p, req.GetWithPayload(), req.GetWithVectors()))
		}
	}
	return resp, nil
}

// Scroll implements qc.PointsServer: points in ID order from Offset. Rules:
// a filter pinning a tenant, a limit of at most MaxLimit.
func (s pointsService) Scroll(_ context.Context, req *qc.ScrollPoints) (*qc.ScrollResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Scroll")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if tenantOf(req.GetFilter()) == "" {
		return nil, s.violate("Scroll", "filter without a tenant condition")
	}
	limit := int(req.GetLimit())
	if req.Limit == nil {
		limit = 10
	}
	if limit <= 0 || limit > MaxLimit {
		return nil, s.violate("Scroll", "limit %d, want 1 to %d", limit, MaxLimit)
	}
	if req.GetOrderBy() != nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: Scroll: order_by")
	}
	from := ""
	if req.Offset != nil {
		from = idString(req.GetOffset())
	}
	resp := &qc.ScrollResponse{}
	for _, id := range slices.Sorted(maps.Keys(c.points)) {
		if id < from {
			continue
		}
		p := c.points[id]
		ok, err := matches(req.GetFilter(), p)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "qdranttest: Scroll: %v", err)
		}
		if !ok {
			continue
		}
		if len(resp.Result) == limit {
			resp.NextPageOffset = qc.NewIDUUID(id)
			break
		}
		resp.Result = append(resp.Result, retrieved(c, p, req.GetWithPayload(), req.GetWithVectors()))
	}
	return resp, nil
}

func retrieved(c *collection, p *point, wp *qc.WithPayloadSelector, wv *qc.WithVectorsSelector) *qc.RetrievedPoint {
	return &qc.RetrievedPoint{
		Id:      qc.NewIDUUID(p.id),
		Payload: selectPayload(p, wp),
		Vectors: selectVectors(c, p, wv),
	}
}

// selectPayload applies a with_payload selector (nil: no payload).
func selectPayload(p *point, sel *qc.WithPayloadSelector) map[string]*qc.Value {
	switch {
	case sel == nil:
		return nil
	case sel.GetInclude() != nil:
		out := make(map[string]*qc.Value)
		for _, k := range sel.GetInclude().GetFields() {
			if v, ok := p.payload[k]; ok {
				out[k] = v
			}
		}
		return out
	case sel.GetExclude() != nil:
		out := maps.Clone(p.payload)
		for _, k := range sel.GetExclude().GetFields() {
			delete(out, k)
		}
		return out
	case sel.GetEnable():
		return maps.Clone(p.payload)
	default:
		return nil
	}
}

// selectVectors applies a with_vectors selector (nil: no vectors).
func selectVectors(c *collection, p *point, sel *qc.WithVectorsSelector) *qc.VectorsOutput {
	want := func(string) bool { return false }
	switch {
	case sel == nil:
	case sel.GetInclude() != nil:
		want = func(name string) bool { return slices.Contains(sel.GetInclude().GetNames(), name) }
	case sel.GetEnable():
		want = func(string) bool { return true }
	}
	out := make(map[string]*qc.VectorOutput)
	if want(c.denseName) {
		out[c.denseName] = &qc.VectorOutput{Vector: &qc.VectorOutput_Dense{Dense: &qc.DenseVector{Data: p.dense}}}
	}
	for name, sv := range p.sparse {
		if want(name) {
			out[name] = &qc.VectorOutput{Vector: &qc.VectorOutput_Sparse{Sparse: &qc.SparseVector{Indices: sv.indices, Values: sv.values}}}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &qc.VectorsOutput{VectorsOptions: &qc.VectorsOutput_Vectors{Vectors: &qc.NamedVectorsOutput{Vectors: out}}}
}
