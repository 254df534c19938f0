package pdf_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest/pdf"
)

// BenchmarkPDF compares ParsePDF with poppler's pdftotext on the PDFs that
// Debian packages put on the machine (r-doc-pdf's manuals, /usr/share/doc),
// in the same run: pages per second, bytes the parent allocates per page,
// and the children's and the parent's peak resident memory. It skips when
// the machine has no PDFs; pdftotext comes from poppler-utils.
//
//	go test ./ingest/pdf/ -run '^$' -bench BenchmarkPDF -benchtime 3x
func BenchmarkPDF(b *testing.B) {
	files := benchPDFs(b)
	if len(files) == 0 {
		b.Skip("no PDFs on this machine (apt-get install r-doc-pdf)")
	}
	pages := 0
	for _, f := range files {
		pages += f.pages
	}
	b.Logf("%d files, %d pages", len(files), pages)

	if tool, err := exec.LookPath("pdftotext"); err == nil {
		b.Run("pdftotext", func(b *testing.B) {
			for range b.N {
				for _, f := range files {
					out, err := exec.Command(tool, "-q", "-enc", "UTF-8", f.path, "-").Output()
					require.NoError(b, err, f.path)
					require.NotEmpty(b, out)
				}
			}
			reportPages(b, pages)
		})
	}
	for _, par := range []int{1, 2} {
		b.Run("ragqueue/parallelism="+strconv.Itoa(par), func(b *testing.B) {
			lim := pdf.Limits{Parallelism: par}
			bundle := setupPDF(b, lim)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for range b.N {
				for _, f := range files {
					fh, err := os.Open(f.path)
					require.NoError(b, err)
					p, err := bundle.parser.ParsePDF(context.Background(), fh)
					fh.Close()
					require.NoError(b, err, f.path)
					require.Len(b, p.Sections, f.pages, f.path)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			reportPages(b, pages)
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N*pages), "parent-B/page")
			var rss int64
			for _, s := range bundle.children() {
				rss = max(rss, s.MaxRSS)
			}
			b.ReportMetric(float64(rss)/(1<<20), "child-peak-MiB")
		})
	}

	// Peak memory on the largest file, the R reference manual if present.
	big := files[0]
	for _, f := range files {
		if f.pages > big.pages {
			big = f
		}
	}
	b.Run("peak/"+filepath.Base(big.path), func(b *testing.B) {
		bundle := setupPDF(b, pdf.Limits{})
		var parentPeak int64
		for range b.N {
			resetPeakRSS()
			start := time.Now()
			fh, err := os.Open(big.path)
			require.NoError(b, err)
			p, err := bundle.parser.ParsePDF(context.Background(), fh)
			fh.Close()
			require.NoError(b, err)
			require.Len(b, p.Sections, big.pages)
			parentPeak = max(parentPeak, peakRSS())
			b.Logf("%s: %d pages in %v", big.path, big.pages, time.Since(start))
		}
		reportPages(b, big.pages)
		var rss int64
		for _, s := range bundle.children() {
			rss = max(rss, s.MaxRSS)
		}
		b.ReportMetric(float64(rss)/(1<<20), "child-peak-MiB")
		b.ReportMetric(float64(parentPeak)/(1<<20), "parent-peak-MiB")
	})
}

// reportPages reports pages per second over the benchmark's b.N runs.
func reportPages(b *testing.B, pages int) {
	b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
}

// benchPDF is one PDF of the benchmark corpus.
type benchPDF struct {
	path  string
	pages int
}

// benchPDFs finds the PDFs Debian packages installed, one copy of each
// (refman.pdf is fullrefman.pdf again), with their page counts.
func benchPDFs(b *testing.B) []benchPDF {
	var paths []string
	seen := map[int64]bool{}
	for _, root := range []string{"/usr/share/R/doc/manual", "/usr/share/doc"} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pdf") {
				return nil
			}
			fi, err := d.Info()
			if err != nil || !fi.Mode().IsRegular() || seen[fi.Size()] {
				return nil
			}
			seen[fi.Size()] = true
			paths = append(paths, path)
			return nil
		})
	}
	sort.Strings(paths)
	var out []benchPDF
	bundle := setupPDF(b, pdf.Limits{})
	for _, path := range paths {
		fh, err := os.Open(path)
		require.NoError(b, err)
		n, err := bundle.parser.Parse(context.Background(), fh, func(int, string) error { return nil })
		fh.Close()
		if err != nil {
			b.Logf("skipping %s: %v", path, err)
			continue
		}
		out = append(out, benchPDF{path, n})
	}
	return out
}

// resetPeakRSS resets this process's peak resident set (Linux).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns this process's peak resident set since the last reset.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
