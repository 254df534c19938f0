package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxErrorBody bounds how much of an error response is kept.
const maxErrorBody = 64 << 10

// callState is what the retrying transport learns about one logical call
// (all its attempts); it travels in the request's context so that the
// caller can classify langchaingo's flattened errors.
type callState struct {
	mu       sync.Mutex
	attempts int
	status   int    // status of the last response, 0 when none came
	message  string // provider's error message of the last response
	bodyErr  error  // a read error on a successful response's body
}

type callStateKey struct{}

func withCallState(ctx context.Context) (context.Context, *callState) {
	st := &callState{}
	return context.WithValue(ctx, callStateKey{}, st), st
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

func (s *callState) snapshot() (attempts, status int, message string, bodyErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts, s.status, s.message, s.bodyErr
}

// retryTransport retries requests that failed with 429, 5xx or a network
// error, before handing any response to the client: once a 2xx response
// is returned its body (a stream, maybe) is the caller's, and a failure
// while reading it is recorded, never retried.
type retryTransport struct {
	base http.RoundTripper
	*retrier
}

// retrier paces the retries of one provider's calls: the retrying
// transport's, and the whole-call retries of clients that bypass it.
type retrier struct {
	retry    Retry // resolved by withDefaults
	sleep    sleepFunc
	logger   *slog.Logger
	provider string
}

// newRetrier is the retrier of a constructor's options: retry with its
// defaults resolved (once: withDefaults is not idempotent), the real wait
// unless a test replaced it, slog.Default unless a logger is given.
func newRetrier(provider string, retry Retry, sleep sleepFunc, logger *slog.Logger) *retrier {
	if sleep == nil {
		sleep = sleepCtx
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &retrier{retry: retry.withDefaults(), sleep: sleep, logger: logger, provider: provider}
}

// newHTTPClient wraps base's transport in the retrying one.
func newHTTPClient(base *http.Client, r *retrier) *http.Client {
	var rt http.RoundTripper
	if base != nil && base.Transport != nil {
		rt = base.Transport
	} else {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	c := &http.Client{Transport: &retryTransport{base: rt, retrier: r}}
	if base != nil {
		c.CheckRedirect, c.Jar = base.CheckRedirect, base.Jar
	}
	return c
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := stateFrom(ctx)
	if st == nil {
		st = &callState{}
	}
	getBody, err := bodyFactory(req)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		r := req.Clone(ctx)
		if getBody != nil {
			if r.Body, err = getBody(); err != nil {
				return nil, err
			}
		}
		st.mu.Lock()
		st.attempts++
		st.mu.Unlock()
		resp, err := t.base.RoundTrip(r)
		last := attempt >= t.retry.MaxRetries
		if err != nil {
			if ctx.Err() != nil || last {
				return nil, err
			}
			if werr := t.wait(ctx, attempt, 0, fmt.Sprintf("network error: %v", err)); werr != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode < 400 {
			st.mu.Lock()
			st.status = resp.StatusCode
			st.mu.Unlock()
			resp.Body = &recordingBody{ReadCloser: resp.Body, st: st}
			return resp, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		msg := errorMessage(body, resp.Status)
		st.mu.Lock()
		st.status, st.message = resp.StatusCode, msg
		st.mu.Unlock()
		if retryableStatus(resp.StatusCode) && !last {
			after, ok := retryAfter(resp.Header, time.Now())
			if !ok || after <= t.retry.MaxDelay {
				if werr := t.wait(ctx, attempt, after, fmt.Sprintf("%d %s", resp.StatusCode, msg)); werr == nil {
					continue
				}
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		return resp, nil
	}
}

// wait sleeps before retry attempt+1: exponential backoff with jitter,
// and at least retryAfter.
func (r *retrier) wait(ctx context.Context, attempt int, retryAfter time.Duration, why string) error {
	d := backoff(r.retry, attempt)
	if retryAfter > d {
		d = retryAfter
	}
	if r.logger != nil {
		r.logger.WarnContext(ctx, "provider: retrying", "provider", r.provider, "attempt", attempt+1, "delay", d, "reason", why)
	}
	return r.sleep(ctx, d)
}

// again reports whether a whole call that failed with err at attempt is to
// be repeated, having waited for it: err is transient, retries remain, and
// neither ctx nor the wait ended.
func (r *retrier) again(ctx context.Context, attempt int, err error) bool {
	if !Retryable(err) || attempt >= r.retry.MaxRetries || ctx.Err() != nil {
		return false
	}
	return r.wait(ctx, attempt, 0, err.Error()) == nil
}

// backoff is BaseDelay·2^attempt capped at MaxDelay, of which the upper
// half is random ("equal jitter"), so that clients that failed together
// do not retry together.
func backoff(r Retry, attempt int) time.Duration {
	d := r.BaseDelay
	for i := 0; i < attempt && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported
}

// retryAfter reads Retry-After (seconds or an HTTP date) and OpenAI's
// retry-after-ms.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// bodyFactory returns a function producing a fresh copy of req's body for
// each attempt, or nil when there is no body.
func bodyFactory(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		_ = req.Body.Close()
		return req.GetBody, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("provider: buffer request body: %w", err)
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, nil
}

// errorMessage extracts the provider's message from an error body: the
// common JSON shapes, else the text itself.
func errorMessage(body []byte, status string) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
			return nested.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return s
		case v.Message != "":
			return v.Message
		case json.Unmarshal(v.Detail, &s) == nil && s != "":
			return s
		case len(v.Detail) > 0:
			return string(v.Detail)
		}
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		if len(s) > 500 {
			s = s[:500] + "…"
		}
		return s
	}
	return status
}

// recordingBody notes a failed read of a successful response, which
// clients that read streams line by line may otherwise swallow.
type recordingBody struct {
	io.ReadCloser
	st *callState
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.st.mu.Lock()
		if b.st.bodyErr == nil {
			b.st.bodyErr = err
		}
		b.st.mu.Unlock()
	}
	return n, err
}
