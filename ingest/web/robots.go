package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/ragqueue/ragqueue"
)

// Robots limits.
const (
	// maxRobotsBytes is how much of a robots.txt is read; the rest is
	// ignored, as search engines do (Google reads 500 KiB).
	maxRobotsBytes = 512 << 10
	// robotsTimeout bounds one robots.txt fetch.
	robotsTimeout = 30 * time.Second
	// maxCrawlDelay is the longest Crawl-delay honoured; a host asking for
	// more is not crawled (waiting longer would stall the crawl).
	maxCrawlDelay = 30 * time.Second
)

// robotsFile is a host's robots.txt as fetched, ready to be served again to
// colly from memory so that it is fetched once per crawl.
type robotsFile struct {
	status int
	body   []byte
	delay  time.Duration // Crawl-delay for our user agent, 0 when none
}

// fetchRobots fetches and reads the robots.txt of scheme://host. 4xx and
// redirect loops mean no rules; 5xx, 429, a body that does not parse and
// fetch failures are errors (the host is then not crawled: we cannot tell
// what it allows).
func fetchRobots(ctx context.Context, client *http.Client, scheme, host, ua string) (robotsFile, error) {
	ctx, cancel := context.WithTimeout(ctx, robotsTimeout)
	defer cancel()
	u := scheme + "://" + host + "/robots.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return robotsFile{}, fmt.Errorf("web: robots.txt of %s: %w", host, err)
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "text/plain,*/*;q=0.5")
	req.Header.Set("Accept-Encoding", acceptEncoding)
	resp, err := client.Do(req)
	if err != nil {
		return robotsFile{}, fetchErr(u, err)
	}
	defer resp.Body.Close()
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s >= 500:
		return robotsFile{}, codeErr(ragqueue.EUNAVAILABLE, "%s answered HTTP %d, so what the site allows is unknown; it is not crawled", u, s)
	case s < 200 || s >= 300:
		return robotsFile{status: http.StatusNotFound}, nil // no robots.txt: everything is allowed
	}
	r, err := decodeBody(resp.Body, resp.Header.Get("Content-Encoding"), maxRobotsBytes+1)
	if err != nil {
		return robotsFile{}, fmt.Errorf("web: read %s: %w", u, err)
	}
	body, err := io.ReadAll(io.LimitReader(r, maxRobotsBytes))
	if err != nil {
		return robotsFile{}, fmt.Errorf("web: read %s: %w", u, err)
	}
	data, err := robotstxt.FromBytes(body)
	if err != nil {
		return robotsFile{}, codeErr(ragqueue.EINVALID, "%s cannot be read (%s), so what the site allows is unknown; it is not crawled", u, err)
	}
	rf := robotsFile{status: http.StatusOK, body: body}
	if g := data.FindGroup(ua); g != nil {
		rf.delay = g.CrawlDelay
	}
	if rf.delay > maxCrawlDelay {
		return robotsFile{}, codeErr(ragqueue.EUNAVAILABLE, "%s asks for %s between requests, more than the %s a crawl waits; the site is not crawled", u, rf.delay, maxCrawlDelay)
	}
	return rf, nil
}

// response renders the file as the response to req.
func (rf robotsFile) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(rf.status) + " " + http.StatusText(rf.status),
		StatusCode:    rf.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain"}},
		Body:          io.NopCloser(bytes.NewReader(rf.body)),
		ContentLength: int64(len(rf.body)),
		Request:       req,
	}
}

// robotsStore holds the robots.txt files of one crawl, by host.
type robotsStore struct {
	mu    sync.RWMutex
	files map[string]robotsFile
}

// get returns the file stored for host.
func (s *robotsStore) get(host string) (robotsFile, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rf, ok := s.files[host]
	return rf, ok
}

// put stores host's file.
func (s *robotsStore) put(host string, rf robotsFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = make(map[string]robotsFile)
	}
	s.files[host] = rf
}
