package queries

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// fetchURLs fetches the pages a question names (depth 0, through the
// guarded Fetcher) and indexes them under the tenant inside this job, so
// that the answer can cite them. A URL that cannot be fetched or indexed is
// reported, not fatal.
func (s *Service) fetchURLs(ctx context.Context, a jobs.QueryArgs) (docIDs []string, fetchErrs []ragqueue.URLError, err error) {
	urls := a.URLs
	if len(urls) > s.cfg.MaxURLs {
		urls = urls[:s.cfg.MaxURLs]
	}
	for _, u := range urls {
		if s.cfg.Fetcher == nil {
			fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: "fetching web pages is not configured on this worker"})
			continue
		}
		page, ferr := s.cfg.Fetcher.Fetch(ctx, u)
		s.cfg.Documents.CountFetch(ferr)
		if ferr != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("queries: fetch %s: %w", u, ctx.Err())
			}
			fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: ragqueue.ErrorMessage(ferr)})
			continue
		}
		doc, outcome, serr := s.cfg.Documents.StorePage(ctx, a.Tenant, page)
		if serr != nil {
			return nil, nil, serr
		}
		if outcome == documents.PageCreated || outcome == documents.PageUpdated {
			if ierr := s.cfg.Documents.IngestNow(ctx, doc, page, outcome == documents.PageCreated); ierr != nil {
				if ctx.Err() != nil {
					return nil, nil, fmt.Errorf("queries: ingest %s: %w", u, ctx.Err())
				}
				fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: "could not index the page: " + jobs.FailureMessage(ierr)})
				continue
			}
		}
		docIDs = append(docIDs, doc.ID)
	}
	return docIDs, fetchErrs, nil
}
