package web

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// acceptEncoding is what we ask servers for: encodings we decode ourselves,
// under the size cap.
const acceptEncoding = "gzip, deflate"

// maxEncodings caps how many stacked Content-Encodings are undone.
const maxEncodings = 3

// decodeBody returns r decoded from the Content-Encoding header value enc
// ("gzip", "deflate", "identity", or a comma-separated stack of them), as a
// reader that fails with an ETOOLARGE error as soon as more than max decoded
// bytes have been read. The cap is on the decoded bytes, so a small
// compressed body that inflates to gigabytes stops at max.
func decodeBody(r io.Reader, enc string, max int64) (io.Reader, error) {
	var layers []string
	for _, e := range strings.Split(enc, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && e != "identity" {
			layers = append(layers, e)
		}
	}
	if len(layers) > maxEncodings {
		return nil, codeErr(ragqueue.EUNSUPPORTED, "the response is compressed %d times over; at most %d layers are undone", len(layers), maxEncodings)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		switch layers[i] {
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("web: gzip response: %w", err)
			}
			zr.Multistream(true)
			r = zr
		case "deflate":
			r = newDeflateReader(r)
		default:
			return nil, codeErr(ragqueue.EUNSUPPORTED, "the response is compressed with %q, which is not supported (gzip and deflate are)", layers[i])
		}
	}
	return &capReader{r: r, max: max}, nil
}

// newDeflateReader reads HTTP "deflate", which servers send either as zlib
// (as the standard says) or as a raw deflate stream.
func newDeflateReader(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		if zr, err := zlib.NewReader(br); err == nil {
			return zr
		}
	}
	return flate.NewReader(br)
}

// capReader passes at most max bytes through and fails with an ETOOLARGE
// error when the stream holds more.
type capReader struct {
	r      io.Reader
	n, max int64
}

// Read implements io.Reader.
func (c *capReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, tooLarge(c.max)
	}
	if rem := c.max + 1 - c.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n - int(c.n-c.max), tooLarge(c.max)
	}
	return n, err
}

// tooLarge is the error for a body over the cap.
func tooLarge(max int64) error {
	return codeErr(ragqueue.ETOOLARGE, "the page is larger than %s after decompression", ingest.FormatBytes(max))
}

// readBody reads resp's body, decoded and capped at max bytes.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	enc := resp.Header.Get("Content-Encoding")
	if (enc == "" || strings.EqualFold(enc, "identity")) && resp.ContentLength > max {
		return nil, tooLarge(max)
	}
	r, err := decodeBody(resp.Body, enc, max)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil && ragqueue.ErrorCode(err) == ragqueue.EINTERNAL {
		return nil, fmt.Errorf("web: read response: %w", err)
	}
	return data, err
}
