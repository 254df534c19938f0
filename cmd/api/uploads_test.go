package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// multipartBodyMetaLast is multipartBody with the metadata part after the
// files.
func multipartBodyMetaLast(t testing.TB, files []filePart, metadata string) (io.Reader, string) {
	t.Helper()
	return writeMultipart(t, files, metadata, false)
}

// rawPart is a multipart part whose Content-Disposition is written as is.
type rawPart struct{ disposition, body string }

func rawMultipart(t testing.TB, parts []rawPart) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		// Written by hand: textproto would refuse some of the names.
		fmt.Fprintf(&buf, "--%s\r\nContent-Disposition: %s\r\n\r\n%s\r\n", w.Boundary(), p.disposition, p.body)
	}
	fmt.Fprintf(&buf, "--%s--\r\n", w.Boundary())
	return &buf, w.FormDataContentType()
}

// TestDeleteWhileProcessing deletes documents while a slow embedder holds
// their jobs: when the job ends (canceled), neither the index nor the chunk
// store holds anything of the document, in any version, and its bytes are
// gone.
func TestDeleteWhileProcessing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// start returns the document and the job that the delete interrupts.
		start func(t *testing.T, b *testBundle) (id, jobID string)
	}{
		{"FirstVersion", func(t *testing.T, b *testBundle) (string, string) {
			return b.postText(t, testAdminKey, "Held", "Penguins "+holdMarker+" huddle together to survive the Antarctic winter.")
		}},
		{"NewVersion", func(t *testing.T, b *testBundle) (string, string) {
			id, _ := b.postText(t, testAdminKey, "Birds", "Albatrosses glide for hours without flapping their wings.")
			require.Equal(t, "ready", b.waitStatus(t, testAdminKey, id).Status)
			var vr versionResp
			require.Equal(t, http.StatusAccepted, b.putText(t, testAdminKey, id,
				map[string]any{"text": "Penguins " + holdMarker + " huddle together to survive the Antarctic winter."}, &vr))
			return id, vr.JobID
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emb := newTestEmbedder()
			b := setup(t, nil, emb.option())
			id, jobID := tt.start(t, b)
			emb.waitHeld(t)

			require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/documents/"+id, testAdminKey, nil, "", nil))
			close(emb.release)
			j := b.waitJob(t, testAdminKey, jobID)
			require.Equal(t, "canceled", j.State)
			require.Equal(t, "the document was deleted", j.Error)

			indexRows, chunkRows := b.rowsOf(t, id)
			require.Zero(t, indexRows, "index rows outlived the document")
			require.Zero(t, chunkRows, "stored chunks outlived the document")
			require.Empty(t, b.blobFiles(t), "bytes outlived the document")
			for _, q := range []string{"penguins huddle antarctic", "albatrosses glide"} {
				for _, h := range b.searchTexts(t, testAdminKey, q) {
					require.NotEqual(t, id, h.doc)
				}
			}
			require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/documents/"+id, testAdminKey, nil, "", nil))
		})
	}
}

// TestConcurrentDuplicateUploads: ten uploads of the same bytes at once
// make one document, and every answer names it.
func TestConcurrentDuplicateUploads(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	other := b.newKey(t, "globex", "writer")
	const n = 10
	text := "Volcanoes erupt when magma rises through the crust and escapes at the surface."
	var (
		wg      sync.WaitGroup
		results [n]uploadResp
		codes   [n]int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, ct := multipartBody(t, []filePart{{name: fmt.Sprintf("copy-%d.txt", i), body: text}}, "")
			codes[i] = b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &results[i])
		}()
	}
	wg.Wait()
	created := 0
	var id string
	for i := range n {
		require.Equal(t, http.StatusAccepted, codes[i])
		require.Len(t, results[i].Documents, 1)
		d := results[i].Documents[0]
		require.Nil(t, d.Error)
		if i == 0 {
			id = d.ID
		}
		require.Equal(t, id, d.ID, "every answer names the one document")
		if !d.Duplicate {
			created++
		}
	}
	require.Equal(t, 1, created, "exactly one upload created the document")
	var list struct {
		Documents []docResp `json:"documents"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents", testAdminKey, nil, "", &list))
	require.Len(t, list.Documents, 1)
	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, id).Status)
	require.Len(t, b.blobFiles(t), 1, "the duplicates' bytes were deleted")

	// The same bytes in another tenant are that tenant's own document.
	body, ct := multipartBody(t, []filePart{{name: "volcano.txt", body: text}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", other, body, ct, &up))
	require.False(t, up.Documents[0].Duplicate)
	require.NotEqual(t, id, up.Documents[0].ID)
	require.Equal(t, "ready", b.waitStatus(t, other, up.Documents[0].ID).Status)
	require.Len(t, b.blobFiles(t), 2)
}

// serverNamed is the only shape of file the blob store writes.
var serverNamed = regexp.MustCompile(`^[0-9a-f]{32}$`)

// dataFiles lists every file under the data dir, relative to it.
func dataFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, rel)
		return err
	}))
	return files
}

// TestUploadFilenamesTouchNothingOnDisk sends file names that try to walk
// out of the blob store: the bytes land under server-made names only, and
// the title is the cleaned base name.
func TestUploadFilenamesTouchNothingOnDisk(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	long := strings.Repeat("n", 1000) + ".txt"
	tests := []struct {
		name        string
		disposition string
		title       string
	}{
		{"parent dirs", `form-data; name="file"; filename="../../escape-1.txt"`, "escape-1.txt"},
		{"backslashes", `form-data; name="file"; filename="..\..\escape-2.txt"`, "escape-2.txt"},
		{"absolute", `form-data; name="file"; filename="/etc/escape-3.txt"`, "escape-3.txt"},
		{"drive", `form-data; name="file"; filename="C:\Windows\escape-4.txt"`, "escape-4.txt"},
		{"encoded NUL", `form-data; name="file"; filename*=UTF-8''..%2Fescape%00-5.txt`, "escape-5.txt"},
		{"control characters", "form-data; name=\"file\"; filename=\"esc\tape-6.txt\"", "esc ape-6.txt"},
		{"very long", `form-data; name="file"; filename="` + long + `"`, strings.Repeat("n", 200)},
		{"dots only", `form-data; name="file"; filename=".."`, "untitled"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := rawMultipart(t, []rawPart{{tt.disposition, fmt.Sprintf("Upload number %d about escaping directories.", i)}})
			var up uploadResp
			require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
			require.Len(t, up.Documents, 1)
			require.Nil(t, up.Documents[0].Error)
			d := b.waitStatus(t, testAdminKey, up.Documents[0].ID)
			require.Equal(t, "ready", d.Status, d.Error)
			require.Equal(t, tt.title, d.Title)
			require.True(t, utf8.ValidString(d.Title))
			require.NotContains(t, d.Title, "/")
			require.NotContains(t, d.Title, `\`)
			require.NotContains(t, d.Title, "\x00")
		})
	}

	// A raw NUL in the header is a malformed request, refused whole.
	body, ct := rawMultipart(t, []rawPart{
		{`form-data; name="file"; filename="fine.txt"`, "A file before the broken part."},
		{"form-data; name=\"file\"; filename=\"nul\x00.txt\"", "x"},
	})
	var e apiError
	require.Equal(t, http.StatusBadRequest, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &e))
	require.Equal(t, "invalid_request", e.Error.Code)

	// On disk: the database and server-named blobs, nothing else, and none
	// of the names escaped the data dir.
	for _, f := range dataFiles(t, b.dataDir) {
		if dir, name := filepath.Split(f); dir == "blobs"+string(filepath.Separator) {
			require.Regexp(t, serverNamed, name)
		} else {
			require.True(t, strings.HasPrefix(f, "ragqueue.db"), "unexpected file %s in the data dir", f)
		}
	}
	require.Len(t, b.blobFiles(t), len(tests), "one blob per accepted upload; the refused request left none")
	for _, dir := range []string{filepath.Dir(b.dataDir), filepath.Dir(filepath.Dir(b.dataDir)), "/etc"} {
		for i := 1; i <= 5; i++ {
			_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("escape-%d.txt", i)))
			require.ErrorIs(t, err, fs.ErrNotExist)
		}
	}
}

// TestManyPartUpload: twenty files in one form, some refused, each answered
// on its own in order, and a metadata part after them all still applies.
func TestManyPartUpload(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	var files []filePart
	wantErr := map[int]string{}
	for i := range 20 {
		f := filePart{name: fmt.Sprintf("file-%02d.txt", i), body: fmt.Sprintf("Document number %d talks about topic %d in detail.", i, i*7)}
		switch i % 5 {
		case 1:
			f.name, f.body = fmt.Sprintf("image-%02d.png", i), png
			wantErr[i] = "unsupported_media_type"
		case 3:
			f.body = ""
			wantErr[i] = "invalid_request"
		}
		files = append(files, f)
	}
	files[19].body = files[0].body // a duplicate within the request
	body, ct := multipartBodyMetaLast(t, files, `{"batch":"twenty"}`)
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &up))
	require.Len(t, up.Documents, 20)
	for i, d := range up.Documents {
		if code, bad := wantErr[i]; bad {
			require.NotNil(t, d.Error, "file %d", i)
			require.Equal(t, code, d.Error.Code, "file %d", i)
			require.Equal(t, files[i].name, d.Filename)
			require.Empty(t, d.ID)
			continue
		}
		require.Nil(t, d.Error, "file %d", i)
		require.Equal(t, files[i].name, d.Filename)
		require.NotEmpty(t, d.ID)
	}
	require.True(t, up.Documents[19].Duplicate)
	require.Equal(t, up.Documents[0].ID, up.Documents[19].ID)
	for i, d := range up.Documents[:19] {
		if _, bad := wantErr[i]; bad {
			continue
		}
		got := b.waitStatus(t, testAdminKey, d.ID)
		require.Equal(t, "ready", got.Status)
		require.JSONEq(t, `{"batch":"twenty"}`, string(got.Metadata), "the metadata part after the files applies to file %d", i)
	}
	require.Len(t, b.blobFiles(t), 20-len(wantErr)-1, "refused files and the duplicate left no bytes")
}
