package documents_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestSkipStaleRecordsTheJob: an ingestion that finds its document deleted
// or superseded cancels its job saying why; an inline page ingestion, whose
// job has no record until it ends, gets the record created canceled, and
// no other job gets a record made up.
func TestSkipStaleRecordsTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	d := e.Deps(e.Asynq)
	live := e.AddDocumentOnly(t, "acme", ingest.TypeText, "the current version of a page")

	tests := []struct {
		name    string
		docID   string
		version int
		create  bool
		want    string // the canceled job's error; "" for no record
	}{
		{"deleted, inline", "no-such-document", 1, true, "the document was deleted"},
		{"superseded, inline", live.ID, live.Version - 1, true, "superseded by"},
		{"deleted, no record and not inline", "no-such-document", 1, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobID := "stale-" + tt.name
			require.NoError(t, documents.SkipStaleForTest(t.Context(), d.Documents(nil), "acme", tt.docID, jobID, tt.version, tt.create))
			job, err := e.Store.GetJob(t.Context(), "acme", jobID)
			if tt.want == "" {
				require.True(t, ragqueue.IsNotFound(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, ragqueue.StateCanceled, job.State)
			require.Equal(t, ragqueue.KindIngest, job.Type)
			require.Contains(t, job.Error, tt.want)
			require.NotNil(t, job.CompletedAt)
		})
	}
}
