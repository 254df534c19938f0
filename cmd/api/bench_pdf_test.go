package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchPDFs are real PDFs from Debian packages (r-doc-pdf and friends);
// the benchmark skips when none is installed. Tests never depend on them.
func benchPDFs(b *testing.B) []string {
	var files []string
	for _, pattern := range []string{
		"/usr/share/R/doc/manual/fullrefman.pdf",
		"/usr/share/doc/r-doc-pdf/manual/R-*.pdf",
		"/usr/share/doc/*/*.pdf",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) == 0 {
		b.Skip("no PDFs installed (apt-get install r-doc-pdf)")
	}
	return files
}

// BenchmarkPDFIngest measures pages/s from upload to ready for real PDFs
// through the embedded server (parse in sandboxed children, chunk, embed,
// index), beside pdftotext over the same files in the same run; bytes
// allocated per page in the server process; and the peak resident size of
// the server process and of the PDF children. Run with -benchtime=1x.
func BenchmarkPDFIngest(b *testing.B) {
	files := benchPDFs(b)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		b.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}

	// pdftotext, the baseline, over the same files.
	start := time.Now()
	for _, f := range files {
		out, err := exec.Command("pdftotext", "-q", f, os.DevNull).CombinedOutput()
		require.NoError(b, err, "%s", out)
	}
	popplerSecs := time.Since(start).Seconds()

	tb := setup(b, map[string]string{"RAGQ_LOG_LEVEL": "error", "RAGQ_MAX_UPLOAD_BYTES": "209715200"})
	var totalPages int
	var elapsed time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 {
			b.StopTimer()
			tb.stop(b) // a fresh data dir per round: identical bytes would dedupe
			tb.env["RAGQ_DATA_DIR"] = b.TempDir()
			tb.start(b)
			b.StartTimer()
		}
		start := time.Now()
		ids := make([]string, 0, len(files))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			require.NoError(b, err)
			body, ct := multipartBody(b, []filePart{{name: filepath.Base(f), body: string(raw)}}, "")
			var up uploadResp
			require.Equal(b, http.StatusAccepted, tb.do(b, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
			ids = append(ids, up.Documents[0].ID)
		}
		for _, id := range ids {
			var d docResp
			require.Eventually(b, func() bool {
				d = docResp{}
				tb.do(b, http.MethodGet, "/v1/documents/"+id, testAdminKey, nil, "", &d)
				return d.Status == "ready" || d.Status == "failed" || d.Status == "rejected"
			}, 10*time.Minute, 20*time.Millisecond)
			require.Equal(b, "ready", d.Status, d.Error)
			totalPages += d.Pages
		}
		elapsed += time.Since(start)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)

	pagesPerRound := float64(totalPages) / float64(b.N)
	ours := float64(totalPages) / elapsed.Seconds()
	poppler := pagesPerRound / popplerSecs
	b.ReportMetric(ours, "pages/s")
	b.ReportMetric(poppler, "pdftotext-pages/s")
	b.ReportMetric(ours/poppler, "x-pdftotext")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(totalPages), "alloc-B/page")
	var self, children syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &self))
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children))
	b.ReportMetric(float64(self.Maxrss)/1024, "server-maxrss-MiB")    // ru_maxrss is KiB on Linux
	b.ReportMetric(float64(children.Maxrss)/1024, "child-maxrss-MiB") // largest single child (pdftotext included)
	b.Logf("%d files, %.0f pages a round", len(files), pagesPerRound)
}
