package main

import (
	"bytes"
	"compress/flate"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readFixture loads a PDF from testdata (made by ingest's PDF test writer).
func readFixture(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(raw)
}

// bombPDF builds a one-page PDF whose content stream is a few hundred KB of
// Flate that inflates to inflated bytes of zeros.
func bombPDF(t testing.TB, inflated int) string {
	t.Helper()
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	for n := 0; n < inflated; n += len(zeros) {
		_, err := w.Write(zeros)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	// zlib framing around the raw deflate data, as /FlateDecode expects.
	stream := append([]byte{0x78, 0xda}, z.Bytes()...)
	stream = append(stream, 0, 0, 0, 0) // adler32 is not checked before the data runs out
	return buildPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(stream), stream),
	})
}

// imageOnlyPDF builds a one-page PDF that draws a line and has no text, as
// a scanned document has none.
func imageOnlyPDF() string {
	return buildPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		"<< /Length 18 >>\nstream\n0 0 m 99 99 l S\n\nendstream",
	})
}

// buildPDF writes objects 1..n with a correct cross-reference table.
func buildPDF(objs []string) string {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.String()
}

// TestPDFIngestion: a real PDF becomes ready with its pages, and search
// results and citations carry the 1-based page.
func TestPDFIngestion(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	body, ct := multipartBody(t, []filePart{{name: "report.pdf", contentType: "application/pdf", body: readFixture(t, "report.pdf")}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
	d := b.waitStatus(t, testAdminKey, up.Documents[0].ID)
	require.Equal(t, "ready", d.Status, d.Error)
	require.Equal(t, "application/pdf", d.ContentType)
	require.Equal(t, 3, d.Pages)
	require.Equal(t, "Quarterly Report", d.Title, "the PDF's Info /Title titles an uploaded file")

	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("Café crème carte"), testAdminKey, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, d.ID, sr.Results[0].DocumentID)
	require.Equal(t, 3, sr.Results[0].Page)

	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "What does the quick brown fox do on page one?"}, &ans))
	require.NotEmpty(t, ans.Citations)
	var job struct {
		Result struct {
			Citations []struct {
				Page int `json:"page"`
			} `json:"citations"`
		} `json:"result"`
		Progress struct {
			Pages       int `json:"pages"`
			PagesParsed int `json:"pages_parsed"`
		} `json:"progress"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+ans.JobID, testAdminKey, nil, "", &job))
	require.Equal(t, 1, job.Result.Citations[0].Page)
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+up.Documents[0].JobID, testAdminKey, nil, "", &job))
	require.Equal(t, 3, job.Progress.Pages)
	require.Equal(t, 3, job.Progress.PagesParsed)
}

// TestHostilePDFs: each hostile file ends rejected with a message a person
// understands, is not retried, and the service (whose worker runs in this
// process) goes on: a good PDF uploaded afterwards becomes ready.
func TestHostilePDFs(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_PDF_TIMEOUT": "20s", "RAGQ_PDF_MAX_MEMORY_BYTES": "268435456"})
	tests := []struct {
		file, wantStatus, wantMsg string
	}{
		{"cyclic.pdf", "rejected", "PDF page tree is cyclic"},
		{"huge-count.pdf", "rejected", "PDF claims 2000000000 pages; the limit is 20000"},
		{"truncated.pdf", "rejected", "truncated or damaged"},
		{"library-panic-tree.pdf", "rejected", "the PDF is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, ct := multipartBody(t, []filePart{{name: tt.file, body: readFixture(t, tt.file)}}, "")
			var up uploadResp
			require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
			d := b.waitStatus(t, testAdminKey, up.Documents[0].ID)
			require.Equal(t, tt.wantStatus, d.Status)
			require.Contains(t, d.Error, tt.wantMsg)
			var job struct {
				State string `json:"state"`
				Error string `json:"error"`
			}
			// The document is written first; its job follows, failed at once
			// (no retries for a rejected document).
			require.Eventually(t, func() bool {
				require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+up.Documents[0].JobID, testAdminKey, nil, "", &job))
				return job.State == "failed"
			}, 10*time.Second, 10*time.Millisecond, "job state %q", job.State)
			// Rejected documents cannot be retried.
			require.Equal(t, http.StatusConflict, b.do(t, http.MethodPost, "/v1/documents/"+d.ID+"/retry", testAdminKey, nil, "", nil))
		})
	}

	// An image-only PDF is kept, ready, with no chunks and a warning.
	body, ct := multipartBody(t, []filePart{{name: "scan.pdf", body: imageOnlyPDF()}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
	d := b.waitStatus(t, testAdminKey, up.Documents[0].ID)
	require.Equal(t, "ready", d.Status)
	require.Equal(t, 0, d.Chunks)
	require.Equal(t, 1, d.Pages)
	require.Contains(t, d.Error, "warning: no page of this PDF has a text layer")

	// The worker is alive and well.
	body, ct = multipartBody(t, []filePart{{name: "numbered.pdf", body: readFixture(t, "numbered.pdf")}}, "")
	up = uploadResp{}
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
	d = b.waitStatus(t, testAdminKey, up.Documents[0].ID)
	require.Equal(t, "ready", d.Status, d.Error)
	require.Positive(t, d.Chunks)
}

// TestPDFTypeMismatch: bytes and names must agree.
func TestPDFTypeMismatch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, f := range []filePart{
		{name: "x.pdf", body: "<!doctype html><html><body>not a pdf</body></html>"},
		{name: "notes.txt", body: readFixture(t, "report.pdf")},
	} {
		body, ct := multipartBody(t, []filePart{f}, "")
		var e apiError
		require.Equal(t, http.StatusUnsupportedMediaType, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &e), f.name)
		require.Contains(t, e.Error.Message, "but its bytes look like")
	}
}
