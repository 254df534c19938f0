package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ragqueue/ragqueue"
)

// serverBackend evaluates a running ragqueue through its HTTP API:
// POST /v1/documents with JSON text, GET /v1/documents/{id} until ready,
// GET /v1/search with mode=lexical, dense or hybrid. Its latency includes
// the HTTP round trip.
type serverBackend struct {
	base   *url.URL
	key    string
	client *http.Client
	docs   map[string][]string // document ID → corpus IDs
}

func newServerBackend(base, key string) (*serverBackend, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("eval: -server %q is not an http(s) URL", base)
	}
	if key == "" {
		return nil, errors.New("eval: -server needs -key (or RAGQ_EVAL_KEY): an API key of the tenant to evaluate in")
	}
	return &serverBackend{base: u, key: key, client: &http.Client{Timeout: time.Minute}, docs: make(map[string][]string)}, nil
}

func (b *serverBackend) Describe() string {
	return "server " + b.base.String()
}

func (b *serverBackend) Close() error {
	b.client.CloseIdleConnections()
	return nil
}

// do sends one API request and decodes a 2xx JSON answer into out.
func (b *serverBackend) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *b.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

func (b *serverBackend) Ingest(ctx context.Context, corpus []passage) error {
	var pending []string
	for _, p := range corpus {
		text := p.document()
		var resp struct {
			Documents []struct {
				ID        string `json:"id"`
				Duplicate bool   `json:"duplicate"`
			} `json:"documents"`
		}
		body := map[string]any{"title": p.Title, "text": text, "metadata": map[string]string{"beir_id": p.ID}}
		if err := b.do(ctx, http.MethodPost, "/v1/documents", nil, body, &resp); err != nil {
			return fmt.Errorf("eval: upload passage %s: %w", p.ID, err)
		}
		if len(resp.Documents) != 1 || resp.Documents[0].ID == "" {
			return fmt.Errorf("eval: upload passage %s: unexpected answer", p.ID)
		}
		d := resp.Documents[0]
		b.docs[d.ID] = append(b.docs[d.ID], p.ID)
		if !d.Duplicate {
			pending = append(pending, d.ID)
		}
	}
	return waitReady(ctx, pending, func(ctx context.Context, id string) (ragqueue.Status, string, error) {
		var d ragqueue.Document
		err := b.do(ctx, http.MethodGet, "/v1/documents/"+url.PathEscape(id), nil, nil, &d)
		return d.Status, d.Error, err
	})
}

func (b *serverBackend) Search(ctx context.Context, mode, text string) ([]string, error) {
	var resp struct {
		Results []struct {
			DocumentID string `json:"document_id"`
		} `json:"results"`
	}
	q := url.Values{"q": {text}, "top_k": {strconv.Itoa(searchDepth)}, "mode": {apiMode(mode)}}
	if err := b.do(ctx, http.MethodGet, "/v1/search", q, nil, &resp); err != nil {
		return nil, err
	}
	ids := make([]string, len(resp.Results))
	for i, r := range resp.Results {
		ids[i] = r.DocumentID
	}
	return rankDocuments(ids, b.docs), nil
}
