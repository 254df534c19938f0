package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// DefaultUserAgent is the User-Agent of every request: it names ragqueue and
// where to read about it, so that site owners know who is fetching.
const DefaultUserAgent = "ragqueue/0.1 (+https://github.com/ragqueue/ragqueue)"

// DefaultMaxBodyBytes is the default cap on a page's decompressed body.
const DefaultMaxBodyBytes = 10 << 20

// defaultFetchTimeout bounds one Fetch when FetchOptions.Timeout is zero.
const defaultFetchTimeout = time.Minute

// acceptTypes is the Accept header: the types we can ingest, HTML first.
const acceptTypes = "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/pdf;q=0.8,*/*;q=0.1"

// FetchOptions configures a Fetcher. The zero value gives the defaults.
type FetchOptions struct {
	// MaxBodyBytes caps a page's body after decompression; 0 means
	// DefaultMaxBodyBytes (10 MiB).
	MaxBodyBytes int64
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
	// Timeout bounds one Fetch, redirects and body included; 0 means 1 minute.
	Timeout time.Duration
}

// Page is one fetched web page, ready to be chunked and indexed.
type Page struct {
	// URL is the page's final URL, after redirects, normalised (NormalizeURL).
	URL string `json:"url"`
	// Title is the page's title, or a title made from its URL when it has none.
	Title string `json:"title"`
	// ContentType is the canonical ingest type: ingest.TypeHTML, TypeText,
	// TypeMarkdown or TypePDF.
	ContentType string `json:"content_type"`
	// Parsed is the readable text; empty for PDFs, which the caller hands
	// to the PDF path with Body.
	Parsed ingest.Parsed `json:"parsed"`
	// Links are the page's outgoing http(s) links, absolute and normalised,
	// without duplicates and without rel="nofollow" ones (HTML only).
	Links []string `json:"links"`
	// Status is the HTTP status of the final response.
	Status int `json:"status"`
	// Body is the response body as received, after Content-Encoding is
	// undone and before any character-set conversion; at most MaxBodyBytes.
	Body []byte `json:"-"`

	noIndex  bool // robots meta tag or X-Robots-Tag says noindex
	noFollow bool // robots meta tag or X-Robots-Tag says nofollow
}

// Fetcher fetches single pages through a guarded client and turns them into
// readable text. It is safe for concurrent use.
type Fetcher struct {
	client *http.Client
	opts   FetchOptions
}

// NewFetcher returns a Fetcher that fetches through client, which should be
// one from NewClient (nil means NewClient with default GuardOptions).
func NewFetcher(client *http.Client, opts FetchOptions) *Fetcher {
	if client == nil {
		client = NewClient(GuardOptions{})
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultFetchTimeout
	}
	return &Fetcher{client: client, opts: opts}
}

// Fetch fetches rawURL and extracts its readable text. URL forms that are
// never fetched, and addresses the guard refuses, fail with a *BlockedError
// (EINVALID); a body over the cap with ETOOLARGE; a type that cannot be
// ingested with EUNSUPPORTED; an HTTP error status with EINVALID (4xx) or
// EUNAVAILABLE (5xx, 408, 429); running out of time with ETIMEOUT. Robots
// meta tags are not consulted: someone asked for this very page (Crawl
// honours them).
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Page, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return Page{}, codeErr(ragqueue.EINVALID, "%s is not a valid URL", quoteURL(rawURL))
	}
	if err := checkURL(u); err != nil {
		return Page{}, err
	}
	norm, err := normalizeParsed(u)
	if err != nil {
		return Page{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, norm, nil)
	if err != nil {
		return Page{}, codeErr(ragqueue.EINVALID, "%s is not a valid URL", quoteURL(rawURL))
	}
	f.setHeaders(req.Header)
	resp, err := f.client.Do(req)
	if err != nil {
		return Page{}, fetchErr(norm, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL
	if err := statusErr(final, resp.StatusCode); err != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return Page{}, err
	}
	body, err := readBody(resp, f.opts.MaxBodyBytes)
	if err != nil {
		if ragqueue.ErrorCode(err) == ragqueue.EINTERNAL {
			err = fetchErr(redact(final), err)
		}
		return Page{}, err
	}
	return f.page(ctx, final, resp.StatusCode, resp.Header, body)
}

// setHeaders sets the request headers every fetch sends.
func (f *Fetcher) setHeaders(h http.Header) {
	h.Set("User-Agent", f.opts.UserAgent)
	h.Set("Accept", acceptTypes)
	h.Set("Accept-Encoding", acceptEncoding)
}

// fetchErr wraps an error of client.Do, leaving client-facing errors
// (refusals, too many redirects) as they are.
func fetchErr(u string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err // url.Error repeats the URL in a Go-ish way; ours say it better
	}
	if ragqueue.ErrorCode(err) != ragqueue.EINTERNAL {
		return err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return wrapCode(ragqueue.ETIMEOUT, err, "fetching %s timed out", u)
	}
	return fmt.Errorf("web: fetch %s: %w", u, err)
}

// statusErr is the error for a non-2xx final status, nil for 2xx.
func statusErr(u *url.URL, status int) error {
	if status >= 200 && status < 300 {
		return nil
	}
	code := ragqueue.EINVALID
	if status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests {
		code = ragqueue.EUNAVAILABLE
	}
	text := http.StatusText(status)
	if text == "" {
		text = "unknown status"
	}
	return codeErr(code, "fetching %s returned HTTP %d %s", redact(u), status, text)
}

// page turns a fetched body into a Page. On an extraction error for HTML,
// the returned Page still carries the links, so a crawl can go on past a
// page without text.
func (f *Fetcher) page(ctx context.Context, final *url.URL, status int, header http.Header, body []byte) (Page, error) {
	norm, err := normalizeParsed(final)
	if err != nil {
		norm = redact(final)
	}
	p := Page{URL: norm, Status: status, Body: body}
	robotsHeader(header.Values("X-Robots-Tag"), &p)

	declared := header.Get("Content-Type")
	ct, params, err := classify(declared, body, final)
	if err != nil {
		return p, err
	}
	p.ContentType = ct
	switch ct {
	case ingest.TypePDF:
		p.Title = titleFromURL(final)
		return p, nil
	case ingest.TypeHTML:
		x, err := extractHTML(ctx, body, params["charset"], final)
		p.Links, p.Parsed = x.links, x.parsed
		p.noIndex = p.noIndex || x.noIndex
		p.noFollow = p.noFollow || x.noFollow
		if p.noFollow {
			p.Links = nil
		}
		p.Title = titleOr(p.Parsed.Title, final)
		if err != nil {
			return p, fmt.Errorf("web: %s: %w", norm, err)
		}
		return p, nil
	default: // text or Markdown
		data, err := toUTF8(body, params["charset"])
		if err != nil {
			return p, err
		}
		p.Parsed, err = ingest.Parse(ctx, ct, bytes.NewReader(data), 0)
		p.Title = titleOr(p.Parsed.Title, final)
		if err != nil {
			return p, fmt.Errorf("web: %s: %w", norm, err)
		}
		return p, nil
	}
}

// classify decides the canonical type of a response from its declared
// Content-Type and, when that says nothing useful, its bytes. params are
// the declared type's parameters (charset).
func classify(declared string, body []byte, u *url.URL) (string, map[string]string, error) {
	mt, params, err := mime.ParseMediaType(declared)
	if err != nil {
		mt, params = "", nil
	}
	ext := strings.ToLower(path.Ext(u.Path))
	switch mt {
	case "text/html", "application/xhtml+xml":
		return ingest.TypeHTML, params, nil
	case "text/plain":
		if ext == ".md" || ext == ".markdown" {
			return ingest.TypeMarkdown, params, nil
		}
		return ingest.TypeText, params, nil
	case "text/markdown", "text/x-markdown":
		return ingest.TypeMarkdown, params, nil
	case "application/pdf", "application/x-pdf":
		return ingest.TypePDF, params, nil
	case "", "application/octet-stream", "binary/octet-stream", "application/unknown":
		head := body[:min(len(body), 512)]
		if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("%PDF-")) {
			return ingest.TypePDF, nil, nil
		}
		ct, err := ingest.DetectContentType(path.Base(u.Path), "", head)
		if err != nil {
			return "", nil, fmt.Errorf("web: %s: %w", redact(u), err)
		}
		return ct, nil, nil
	}
	return "", nil, codeErr(ragqueue.EUNSUPPORTED, "%s is of type %s, which cannot be ingested (HTML, plain text, Markdown and PDF can)", redact(u), mt)
}

// toUTF8 converts a text body to UTF-8 according to its declared charset.
func toUTF8(body []byte, cs string) ([]byte, error) {
	cs = strings.ToLower(strings.TrimSpace(cs))
	if cs == "" || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" {
		return body, nil
	}
	enc, _ := charset.Lookup(cs)
	if enc == nil {
		return nil, codeErr(ragqueue.EUNSUPPORTED, "the character set %q is not supported", cs)
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, codeErr(ragqueue.EINVALID, "the page is not valid %s text", cs)
	}
	return out, nil
}

// titleOr returns title, or one made from u when title is empty.
func titleOr(title string, u *url.URL) string {
	if title != "" {
		return title
	}
	return titleFromURL(u)
}

// titleFromURL makes a display title from a URL's last path segment, or
// its host.
func titleFromURL(u *url.URL) string {
	base := path.Base(u.Path)
	if base == "/" || base == "." || base == "" {
		return ingest.CleanTitle(u.Hostname())
	}
	if t := ingest.CleanTitle(base); t != "" && utf8.ValidString(t) {
		return t
	}
	return ingest.CleanTitle(u.Hostname())
}

// robotsHeader applies X-Robots-Tag values without a user-agent prefix.
func robotsHeader(values []string, p *Page) {
	for _, v := range values {
		if strings.Contains(v, ":") {
			continue // "otherbot: noindex" is for someone else
		}
		noIndex, noFollow := robotsDirectives(v)
		p.noIndex = p.noIndex || noIndex
		p.noFollow = p.noFollow || noFollow
	}
}

// robotsDirectives reads a robots meta or header value ("noindex, nofollow").
func robotsDirectives(v string) (noIndex, noFollow bool) {
	for _, d := range strings.Split(strings.ToLower(v), ",") {
		switch strings.TrimSpace(d) {
		case "noindex":
			noIndex = true
		case "nofollow":
			noFollow = true
		case "none":
			noIndex, noFollow = true, true
		}
	}
	return noIndex, noFollow
}
