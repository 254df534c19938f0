package web

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// update rewrites the golden files: go test ./ingest/web/ -run TestGolden -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// loopback allows the test servers' addresses.
var loopback = prefixes("127.0.0.0/8")

// testFetcher returns a Fetcher whose guard allows loopback on the ports given.
func testFetcher(opts FetchOptions, ports ...uint16) *Fetcher {
	return NewFetcher(NewClient(GuardOptions{AllowCIDRs: loopback, AllowedPorts: ports}), opts)
}

// goldenPage is what a testdata/*.golden.json file holds.
type goldenPage struct {
	Title       string        `json:"title"`
	ContentType string        `json:"content_type"`
	Parsed      ingest.Parsed `json:"parsed"`
	Links       []string      `json:"links"`
}

// TestGolden extracts testdata/*.html as if fetched from
// https://blog.example/posts/wal/ and compares with the golden files.
// Boilerplate in the inputs (navigation, ads, cookie banner, sidebar,
// comments, footer) is marked LEAK and must not reach the output.
func TestGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob("testdata/*.html")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	f := NewFetcher(nil, FetchOptions{})
	base, _ := url.Parse("https://blog.example/posts/wal/")
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			p, err := f.page(context.Background(), base, 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, data)
			require.NoError(t, err)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(goldenPage{Title: p.Title, ContentType: p.ContentType, Parsed: p.Parsed, Links: p.Links}))
			path := strings.TrimSuffix(in, ".html") + ".golden.json"
			if *update {
				require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), buf.String())
			text, _ := json.Marshal(p.Parsed)
			require.NotContains(t, string(text), "LEAK", "boilerplate leaked into the text")
		})
	}
}

// site serves a few pages of every kind, counting requests.
type site struct {
	mu   sync.Mutex
	hits map[string]int
	ua   []string
}

// count records a request.
func (s *site) count(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hits == nil {
		s.hits = make(map[string]int)
	}
	s.hits[r.URL.Path]++
	s.ua = append(s.ua, r.Header.Get("User-Agent"))
}

// hit returns how often path was requested.
func (s *site) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// pdfBytes is a tiny "PDF" with bytes that a charset conversion would mangle.
var pdfBytes = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// writePDF serves pdfBytes declared with a charset, which must not be
// applied to them.
func writePDF(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/pdf; charset=iso-8859-1")
	w.Write(pdfBytes)
}

// writeLatin1HTML serves an ISO-8859-1 page titled "Café" (in Latin-1)
// whose one paragraph is text, given in Latin-1 bytes.
func writeLatin1HTML(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
	fmt.Fprintf(w, "<html><head><title>Caf\xe9</title></head><body><p>%s</p></body></html>", text)
}

func TestFetch(t *testing.T) {
	t.Parallel()
	s := &site{}
	article, err := os.ReadFile("testdata/article.html")
	require.NoError(t, err)
	_, p := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		h := w.Header()
		switch r.URL.Path {
		case "/gzip":
			require.Equal(t, acceptEncoding, r.Header.Get("Accept-Encoding"))
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(article)
			zw.Close()
		case "/zlib":
			h.Set("Content-Type", "text/plain")
			h.Set("Content-Encoding", "deflate")
			zw := zlib.NewWriter(w)
			zw.Write([]byte("zlib-wrapped deflate"))
			zw.Close()
		case "/raw-deflate":
			h.Set("Content-Type", "text/plain")
			h.Set("Content-Encoding", "deflate")
			zw, _ := flate.NewWriter(w, flate.DefaultCompression)
			zw.Write([]byte("raw deflate"))
			zw.Close()
		case "/brotli":
			h.Set("Content-Type", "text/plain")
			h.Set("Content-Encoding", "br")
			w.Write([]byte("\x0b\x02\x80hello\x03"))
		case "/moved":
			http.Redirect(w, r, "/gzip#frag", http.StatusMovedPermanently)
		case "/notes.md":
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("# Notes\n\nSome *Markdown* text.\n"))
		case "/latin1":
			writeLatin1HTML(w, "Un caf\xe9 cr\xe8me, s'il vous pla\xeet.")
		case "/latin1.txt":
			h.Set("Content-Type", "text/plain; charset=iso-8859-1")
			w.Write([]byte("na\xefve"))
		case "/doc.pdf":
			writePDF(w)
		case "/download":
			h.Set("Content-Type", "application/octet-stream")
			w.Write(pdfBytes)
		case "/image":
			h.Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
		case "/big":
			h.Set("Content-Type", "text/plain")
			w.Write(bytes.Repeat([]byte("x"), 2048))
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/busy":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "/empty":
			h.Set("Content-Type", "text/html")
			w.Write([]byte("<html><body><script>var x = 1</script></body></html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	f := testFetcher(FetchOptions{MaxBodyBytes: 1024, Timeout: 5 * time.Second}, p)
	big := testFetcher(FetchOptions{}, p)
	ctx := context.Background()
	at := func(path string) string { return urlOf("127.0.0.2", p, path) }

	page, err := big.Fetch(ctx, at("/moved"))
	require.NoError(t, err)
	require.Equal(t, at("/gzip"), page.URL, "the final URL, normalised")
	require.Equal(t, "Understanding Write-Ahead Logging", page.Title)
	require.Equal(t, ingest.TypeHTML, page.ContentType)
	require.Equal(t, http.StatusOK, page.Status)
	require.Equal(t, article, page.Body, "Body is the decoded bytes")
	require.Contains(t, page.Links, at("/posts/mvcc/"))
	require.Contains(t, page.Parsed.Sections[0].Text, "Every serious database")

	for path, want := range map[string]string{"/zlib": "zlib-wrapped deflate", "/raw-deflate": "raw deflate", "/latin1.txt": "naïve"} {
		page, err = f.Fetch(ctx, at(path))
		require.NoError(t, err, path)
		require.Equal(t, ingest.TypeText, page.ContentType)
		require.Equal(t, want, page.Parsed.Sections[0].Text, path)
	}

	page, err = f.Fetch(ctx, at("/notes.md"))
	require.NoError(t, err)
	require.Equal(t, ingest.TypeMarkdown, page.ContentType)
	require.Equal(t, "Notes", page.Title)

	page, err = f.Fetch(ctx, at("/latin1"))
	require.NoError(t, err)
	require.Equal(t, "Café", page.Title)
	require.Contains(t, page.Parsed.Sections[0].Text, "Un café crème, s'il vous plaît.")

	for _, path := range []string{"/doc.pdf", "/download"} {
		page, err = f.Fetch(ctx, at(path))
		require.NoError(t, err, path)
		require.Equal(t, ingest.TypePDF, page.ContentType, path)
		require.Equal(t, pdfBytes, page.Body, "the PDF's bytes are untouched")
		require.Empty(t, page.Parsed.Sections)
	}

	codes := map[string]string{
		"/image":  ragqueue.EUNSUPPORTED,
		"/brotli": ragqueue.EUNSUPPORTED,
		"/big":    ragqueue.ETOOLARGE,
		"/gone":   ragqueue.EINVALID,
		"/busy":   ragqueue.EUNAVAILABLE,
		"/empty":  ragqueue.EINVALID,
	}
	for path, code := range codes {
		_, err = f.Fetch(ctx, at(path))
		require.Equal(t, code, ragqueue.ErrorCode(err), "%s: %v", path, err)
		require.True(t, strings.HasPrefix(err.Error(), "web: "), err.Error())
	}
	_, err = f.Fetch(ctx, at("/image"))
	require.Contains(t, errMessage(err), "image/png")
	_, err = f.Fetch(ctx, at("/big"))
	require.Contains(t, errMessage(err), "larger than 1 KiB after decompression")
	_, err = f.Fetch(ctx, at("/gone"))
	require.Contains(t, errMessage(err), "HTTP 410 Gone")

	short := testFetcher(FetchOptions{Timeout: 100 * time.Millisecond}, p)
	_, err = short.Fetch(ctx, at("/hang"))
	require.Equal(t, ragqueue.ETIMEOUT, ragqueue.ErrorCode(err), "%v", err)
	require.True(t, errors.Is(err, context.DeadlineExceeded))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.Fetch(cctx, at("/zlib"))
	require.True(t, errors.Is(err, context.Canceled), "%v", err)

	s.mu.Lock()
	for _, ua := range s.ua {
		require.Equal(t, DefaultUserAgent, ua)
	}
	s.mu.Unlock()
}

// gzipBomb returns about size/1000 bytes of gzip that inflate to size
// bytes of zeros: concatenated gzip members of 1 MiB each.
func gzipBomb(t testing.TB, size int) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(member.Bytes(), size>>20)
}

// allocated runs fn and returns the bytes allocated meanwhile.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGzipBomb: a ~200 KB gzip body inflating to 200 MiB fails with the
// size error, through Fetch and through Crawl, and memory stays bounded.
// Not parallel, so that the allocation count is this test's own.
func TestGzipBomb(t *testing.T) {
	const inflated = 200 << 20
	bomb := gzipBomb(t, inflated)
	require.Less(t, len(bomb), 300<<10)
	_, p := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}
	}))
	const limit = 4 << 20
	f := testFetcher(FetchOptions{MaxBodyBytes: limit}, p)
	ctx := context.Background()
	var err error
	n := allocated(func() { _, err = f.Fetch(ctx, urlOf("127.0.0.2", p, "/bomb")) })
	require.Equal(t, ragqueue.ETOOLARGE, ragqueue.ErrorCode(err), "%v", err)
	require.Contains(t, errMessage(err), "larger than 4 MiB after decompression")
	require.Less(t, n, uint64(64<<20), "Fetch allocated %d bytes for a 200 MiB bomb", n)

	var crawlErr error
	var stats CrawlStats
	n = allocated(func() {
		stats, err = Crawl(ctx, f.client, f, CrawlRequest{Seeds: []string{urlOf("127.0.0.2", p, "/bomb")}}, func(Page) error {
			t.Error("the bomb was handed over as a page")
			return nil
		}, func(_ string, err error) { crawlErr = err })
	})
	require.NoError(t, err)
	require.Equal(t, 1, stats.Failed)
	require.Equal(t, ragqueue.ETOOLARGE, ragqueue.ErrorCode(crawlErr), "%v", crawlErr)
	require.Contains(t, errMessage(crawlErr), "after decompression")
	require.Less(t, n, uint64(64<<20), "Crawl allocated %d bytes for a 200 MiB bomb", n)
}

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("hello"))
	zw.Close()
	for _, enc := range []string{"gzip", "x-gzip", "GZIP", " gzip ", "identity, gzip"} {
		r, err := decodeBody(bytes.NewReader(gz.Bytes()), enc, 5)
		require.NoError(t, err, enc)
		var out bytes.Buffer
		_, err = out.ReadFrom(r)
		require.NoError(t, err, enc)
		require.Equal(t, "hello", out.String())
	}
	r, err := decodeBody(bytes.NewReader(gz.Bytes()), "gzip", 4)
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = out.ReadFrom(r)
	require.Equal(t, ragqueue.ETOOLARGE, ragqueue.ErrorCode(err))
	require.LessOrEqual(t, out.Len(), 4)
	_, err = decodeBody(strings.NewReader("not gzip"), "gzip", 10)
	require.Error(t, err)
	_, err = decodeBody(strings.NewReader(""), "gzip, gzip, gzip, gzip", 10)
	require.Equal(t, ragqueue.EUNSUPPORTED, ragqueue.ErrorCode(err))
}

func TestExtractHostile(t *testing.T) {
	t.Parallel()
	f := NewFetcher(nil, FetchOptions{})
	u, _ := url.Parse("https://x.example/")
	inputs := [][]byte{
		bytes.Repeat([]byte("<div>"), 200000), // deep: readability is skipped
		bytes.Repeat([]byte("<p>word "), 50000),
		[]byte("<html><base href='javascript:alert(1)'><a href='/ok'>ok</a><a href='http://[::1'>bad</a>"),
		[]byte("\xff\xfe<\x00h\x00t\x00m\x00l\x00>"),
		{},
	}
	for i, in := range inputs {
		require.NotPanics(t, func() {
			p, err := f.page(context.Background(), u, 200, http.Header{"Content-Type": {"text/html"}}, in)
			if err != nil {
				require.NotEqual(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err), "%d: %v", i, err)
				return
			}
			require.NotEmpty(t, p.Parsed.Sections, i)
		})
	}
	p, _ := f.page(context.Background(), u, 200, http.Header{"Content-Type": {"text/html"}}, inputs[2])
	require.Equal(t, []string{"https://x.example/ok"}, p.Links)
}

// TestExtractHTMLMatchesFetch checks that re-extracting a stored page (the
// retry and reconciler path) indexes exactly what the crawler extracted
// when it fetched it, boilerplate left out both times.
func TestExtractHTMLMatchesFetch(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob("testdata/*.html")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	const pageURL = "https://blog.example/posts/wal/"
	base, _ := url.Parse(pageURL)
	f := NewFetcher(nil, FetchOptions{})
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			fetched, err := f.page(context.Background(), base, 200, http.Header{"Content-Type": {"text/html"}}, data)
			require.NoError(t, err)
			again, err := ExtractHTML(context.Background(), data, pageURL)
			require.NoError(t, err)
			require.Equal(t, fetched.Parsed.Sections, again.Sections)
			require.Equal(t, fetched.Title, again.Title)
			text, _ := json.Marshal(again)
			require.NotContains(t, string(text), "LEAK", "boilerplate leaked into the text")
		})
	}
}

func TestIsWebSource(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"https://example.org/a": true, "http://example.org/": true,
		"upload:notes.md": false, "text": false, "": false, "ftp://example.org/x": false,
	} {
		require.Equal(t, want, IsWebSource(src), src)
	}
}

// TestExtractHTMLIgnoresBOM: a byte order mark before the markup changes
// nothing. (Read as text, it would make the tree builder open the body
// before <title>, whose text would then join the page's.)
func TestExtractHTMLIgnoresBOM(t *testing.T) {
	t.Parallel()
	pages := map[string][]byte{
		"small": []byte("<!doctype html><html><head><title>Site title</title></head><body><p>short</p></body></html>"),
	}
	inputs, err := filepath.Glob("testdata/*.html")
	require.NoError(t, err)
	for _, in := range inputs {
		pages[filepath.Base(in)], err = os.ReadFile(in)
		require.NoError(t, err)
	}
	const pageURL = "https://blog.example/posts/wal/"
	for name, data := range pages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := ExtractHTML(context.Background(), data, pageURL)
			require.NoError(t, err)
			got, err := ExtractHTML(context.Background(), append([]byte("\xef\xbb\xbf"), data...), pageURL)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}
