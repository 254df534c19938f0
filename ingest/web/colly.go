package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gocolly/colly/v2"

	"github.com/ragqueue/ragqueue"
)

// This file holds what the crawl loop needs from colly: one collector per
// host, the visit of one URL, and the transport and redirect checks put
// between colly and the guarded client.

// visitState collects colly's callbacks for one visit.
type visitState struct {
	resp *colly.Response
	err  error
}

// visitKey is the colly context key of a visit's *visitState.
const visitKey = "ragqueue.visit"

// work visits one URL and reports the result.
func (cr *crawler) work(h *hostState, it item) {
	r := cr.visit(h.c, it)
	r.host, r.item = h, it
	select {
	case cr.results <- r:
	case <-cr.stop:
	}
}

// visit fetches one URL through colly and turns the response into a Page.
func (cr *crawler) visit(c *colly.Collector, it item) visitResult {
	vs := &visitState{}
	vctx := colly.NewContext()
	vctx.Put(visitKey, vs)
	err := c.Request(http.MethodGet, it.url, nil, vctx, nil)
	if vs.err != nil {
		err = vs.err
	}
	if vs.resp == nil {
		if err == nil {
			err = fmt.Errorf("web: %s: no response", it.url)
		}
		return visitResult{err: cr.visitErr(it.url, err)}
	}
	resp := vs.resp
	final := resp.Request.URL
	if err := statusErr(final, resp.StatusCode); err != nil {
		return visitResult{err: err}
	}
	header := resp.Headers.Clone()
	if ct, ok := header[stashedTypeHeader]; ok {
		header["Content-Type"] = ct
		delete(header, stashedTypeHeader)
	}
	page, err := cr.f.page(cr.ctx, final, resp.StatusCode, header, resp.Body)
	return visitResult{page: page, err: err, ok: err == nil || page.Links != nil}
}

// visitErr rewords colly's errors for people.
func (cr *crawler) visitErr(u string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(err, colly.ErrForbiddenDomain) {
		// colly's allowed-domains check runs before the guard's: a hop the
		// guard would refuse is reported as the refusal it is.
		if target, perr := url.Parse(ue.URL); perr != nil {
			return codeErr(ragqueue.EINVALID, "%s redirects to an invalid URL", u)
		} else if berr := checkURL(target); berr != nil {
			return berr
		}
		return codeErr(ragqueue.EINVALID, "%s redirects to %s, whose host is not among the crawl's hosts", u, ue.URL)
	}
	if isSkip(err) || ragqueue.ErrorCode(err) != ragqueue.EINTERNAL {
		return err
	}
	return fetchErr(u, err)
}

// collector builds a colly collector: synchronous (the crawler's own
// workers give the concurrency, so that every goroutine is bounded and can
// be cancelled), the guarded client, no cookies, no disk cache, colly's
// robots.txt check on (fed from robotsStore), allowed domains from the
// crawl's hosts, no body cap of its own (the transport caps decoded bytes).
// Settings are made after NewCollector, which reads COLLY_* variables from
// the environment, so that the environment cannot loosen them.
func (cr *crawler) collector() *colly.Collector {
	c := colly.NewCollector()
	c.UserAgent = cr.f.opts.UserAgent
	c.Headers = &http.Header{"Accept": {acceptTypes}}
	c.MaxDepth = 0 // depth is counted by the crawler
	c.MaxRequests = 0
	c.AllowedDomains = make([]string, 0, len(cr.allowed))
	for h := range cr.allowed {
		c.AllowedDomains = append(c.AllowedDomains, h)
	}
	c.DisallowedDomains, c.URLFilters, c.DisallowedURLFilters = nil, nil, nil
	// colly's visited set is off: it marks a URL when its request starts,
	// so a redirect reaching a queued URL first would make colly skip that
	// page. The crawler's seenSet marks URLs when they are queued and when
	// a redirect reaches them, and is the one that keeps each page to one
	// fetch.
	c.AllowURLRevisit = true
	c.MaxBodySize = 0
	c.CacheDir = ""
	c.IgnoreRobotsTxt = cr.req.IgnoreRobotsTxt
	c.Async = false
	c.ParseHTTPErrorResponse = true
	c.DetectCharset = false
	c.CheckHead = false
	c.TraceHTTP = false
	c.Context = cr.ctx
	cl := *cr.client // SetRedirectHandler writes the client's CheckRedirect
	c.SetClient(&cl)
	c.SetRedirectHandler(cr.redirect)
	c.OnResponse(func(r *colly.Response) {
		if vs, ok := r.Ctx.GetAny(visitKey).(*visitState); ok {
			vs.resp = r
		}
	})
	c.OnError(func(r *colly.Response, err error) {
		if vs, ok := r.Ctx.GetAny(visitKey).(*visitState); ok {
			vs.err = err
		}
	})
	return c
}

// guardedClient returns a copy of client whose transport undoes
// Content-Encoding under the body cap, hides charsets from colly and serves
// robots.txt from the store. client's own transport and CheckRedirect (the
// guard) stay in the chain.
func (cr *crawler) guardedClient(client *http.Client) *http.Client {
	cl := *client
	base := client.Transport
	if base == nil {
		g := NewClient(GuardOptions{}) // never the unguarded default transport
		base, cl.CheckRedirect = g.Transport, g.CheckRedirect
	}
	cr.guardRedirect = cl.CheckRedirect
	cl.Transport = &crawlTransport{base: base, ctx: cr.ctx, max: cr.f.opts.MaxBodyBytes, robots: &cr.robots}
	cl.Jar = nil
	return &cl
}

// redirect runs after colly's own redirect check (allowed domains): the
// client's guard (at most 5 hops, each hop checked), then the crawl's
// visited set.
func (cr *crawler) redirect(req *http.Request, via []*http.Request) error {
	if cr.guardRedirect != nil {
		if err := cr.guardRedirect(req, via); err != nil {
			return err
		}
	} else if len(via) >= maxRedirects {
		return codeErr(ragqueue.EINVALID, "fetching %s: stopped after %d redirects", redact(via[0].URL), maxRedirects)
	}
	if err := checkURL(req.URL); err != nil {
		return err
	}
	norm, err := normalizeParsed(req.URL)
	if err != nil {
		return err
	}
	if first, err := normalizeParsed(via[0].URL); err == nil && first == norm {
		return nil // back to the page asked for, typically after setting a cookie
	}
	if !cr.seen.add(norm) {
		return errAlreadyCrawled
	}
	return nil
}

// seenSet is the crawl's set of normalised URLs met (queued, visited or
// reached by a redirect). The crawl loop and redirect checks share it.
type seenSet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

// add adds u and reports whether it was new.
func (s *seenSet) add(u string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[u]; ok {
		return false
	}
	if s.m == nil {
		s.m = make(map[string]struct{})
	}
	s.m[u] = struct{}{}
	return true
}

// stashedTypeHeader carries a response's Content-Type past colly, which
// would otherwise re-encode bodies whose type names a charset (corrupting
// binary bodies such as PDFs declared with one).
const stashedTypeHeader = "X-Ragqueue-Content-Type"

// crawlTransport sits between colly and the guarded transport. It asks for
// gzip/deflate and undoes them itself, failing with ETOOLARGE once the
// decoded body passes the cap (colly applies its own cap before its own
// gunzip, so a small gzip bomb would inflate in full); it hides the charset
// of Content-Type from colly; it gives requests without a cancellable
// context (colly's robots.txt request) the crawl's; and it serves
// robots.txt from the crawl's store so that it is fetched once.
type crawlTransport struct {
	base   http.RoundTripper
	ctx    context.Context
	max    int64
	robots *robotsStore
}

// RoundTrip implements http.RoundTripper.
func (t *crawlTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Path == "/robots.txt" && req.URL.RawQuery == "" {
		if rf, ok := t.robots.get(req.URL.Host); ok {
			if req.Body != nil {
				req.Body.Close()
			}
			return rf.response(req), nil
		}
	}
	ctx := req.Context()
	if ctx.Done() == nil {
		ctx = t.ctx
	}
	req = req.Clone(ctx)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := decodeBody(resp.Body, resp.Header.Get("Content-Encoding"), t.max)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	resp.Body = readCloser{Reader: body, Closer: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	resp.Header.Del(stashedTypeHeader) // ours alone
	if ct := resp.Header.Values("Content-Type"); len(ct) > 0 {
		resp.Header[stashedTypeHeader] = ct
		mt, _, _ := strings.Cut(ct[0], ";")
		resp.Header.Set("Content-Type", strings.TrimSpace(mt))
	}
	return resp, nil
}

// readCloser joins a decoding reader and the body it reads from.
type readCloser struct {
	io.Reader
	io.Closer
}
