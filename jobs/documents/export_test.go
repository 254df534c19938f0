package documents

import "context"

// SkipStaleForTest settles a stale ingestion as s's handlers would (the job
// of version of docID, with or without a record yet).
func SkipStaleForTest(ctx context.Context, s *Service, tenant, docID, jobID string, version int, create bool) error {
	return s.skipStale(ctx, tenant, docID, jobID, version, create)
}
