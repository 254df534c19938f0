package ingest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

func TestDetectContentType(t *testing.T) {
	t.Parallel()
	const (
		text     = "Meeting notes\n\nWe decided to ship on Friday.\n"
		markdown = "# Title\n\nSome *text*.\n"
		doctype  = "<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>"
		htmlTag  = "  <html lang=en><body><p>hi</p></body></html>"
		fragment = "<p align=\"center\">logo</p>\n\n# Project\n"
		pdf      = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
		png      = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
		jpeg     = "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
		zip      = "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
		gzip     = "\x1f\x8b\x08\x00\x00\x00\x00\x00"
		ole      = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"
		nul      = "plain text\x00with a NUL byte"
		latin1   = "caf\xe9 cr\xe8me, tr\xe8s bien\n"
		utf16    = "\xff\xfeh\x00i\x00"
		legacy   = "<html><head><meta charset=\"windows-1252\"><title>Caf\xe9</title>"
		rtf      = "{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 Hello}"
	)
	// A 512-byte head that ends in the middle of "é" (2 bytes) is still text.
	cut := strings.Repeat("a", 511) + "é"
	cut = cut[:512]

	tests := []struct {
		name, filename, declared, head string
		want                           string // a content type, or "" for an error
		msg                            string // a fragment of the error message
	}{
		// By extension.
		{name: "txt", filename: "notes.txt", head: text, want: ingest.TypeText},
		{name: "text extension", filename: "notes.TEXT", head: text, want: ingest.TypeText},
		{name: "md", filename: "README.md", head: markdown, want: ingest.TypeMarkdown},
		{name: "markdown", filename: "guide.markdown", head: markdown, want: ingest.TypeMarkdown},
		{name: "html", filename: "page.html", head: doctype, want: ingest.TypeHTML},
		{name: "htm", filename: "page.HTM", head: doctype, want: ingest.TypeHTML},
		{name: "xhtml", filename: "page.xhtml", head: doctype, want: ingest.TypeHTML},
		{name: "html extension with plain text", filename: "page.html", head: text, want: ingest.TypeHTML},
		{name: "md starting with an html tag", filename: "README.md", head: fragment, want: ingest.TypeMarkdown},
		{name: "txt holding html source", filename: "snippet.txt", head: doctype, want: ingest.TypeText},
		{name: "path in name", filename: `C:\Users\ana\notes.md`, head: markdown, want: ingest.TypeMarkdown},

		// No extension: sniffed.
		{name: "no extension text", filename: "notes", head: text, want: ingest.TypeText},
		{name: "no name at all", head: text, want: ingest.TypeText},
		{name: "no extension doctype", filename: "index", head: doctype, want: ingest.TypeHTML},
		{name: "no extension html tag", filename: "index", head: htmlTag, want: ingest.TypeHTML},
		{name: "no extension html after comment", filename: "index", head: "<!-- saved -->\n<!doctype HTML><p>x", want: ingest.TypeHTML},
		{name: "no extension fragment is text", filename: "snippet", head: fragment, want: ingest.TypeText},
		{name: "html prefix but not html", filename: "notes", head: "<htmlish> is not a tag", want: ingest.TypeText},
		{name: "unknown extension text", filename: "data.csv", head: "a,b\n1,2\n", want: ingest.TypeText},
		{name: "unknown extension html", filename: "page.php", head: doctype, want: ingest.TypeHTML},
		{name: "empty file", filename: "empty.txt", head: "", want: ingest.TypeText},
		{name: "utf-8 bom", filename: "notes", head: "\xef\xbb\xbf" + text, want: ingest.TypeText},
		{name: "rune cut at the end of head", filename: "notes.txt", head: cut, want: ingest.TypeText},

		// Declared types, honoured when the name says nothing and the bytes agree.
		{name: "declared markdown", filename: "notes", declared: "text/markdown; charset=utf-8", head: markdown, want: ingest.TypeMarkdown},
		{name: "declared x-markdown", declared: "text/x-markdown", head: markdown, want: ingest.TypeMarkdown},
		{name: "declared html", filename: "page", declared: "text/html", head: "<p>hi</p>", want: ingest.TypeHTML},
		{name: "declared plain beats html sniffing", filename: "page", declared: "text/plain", head: doctype, want: ingest.TypeText},
		{name: "declared octet-stream", filename: "README.md", declared: "application/octet-stream", head: markdown, want: ingest.TypeMarkdown},
		{name: "declared octet-stream no name", declared: "application/octet-stream", head: doctype, want: ingest.TypeHTML},
		{name: "declared garbage", filename: "notes", declared: ";;;", head: text, want: ingest.TypeText},
		{name: "extension beats declared", filename: "README.md", declared: "text/plain", head: markdown, want: ingest.TypeMarkdown},
		{name: "declared json is text", filename: "data", declared: "application/json", head: `{"a":1}`, want: ingest.TypeText},

		// PDFs: recognised (pdf.Parser parses them).
		{name: "pdf", filename: "paper.pdf", head: pdf, want: ingest.TypePDF},
		{name: "pdf no name", head: pdf, want: ingest.TypePDF},
		{name: "pdf declared", filename: "paper", declared: "application/pdf", head: pdf, want: ingest.TypePDF},
		{name: "pdf after whitespace", filename: "paper.pdf", head: "\r\n" + pdf, want: ingest.TypePDF},

		// Mismatches between the bytes and the name or declared type.
		{name: "pdf bytes named txt", filename: "notes.txt", head: pdf, msg: `the file name "notes.txt" says plain text, but its bytes look like a PDF document`},
		{name: "pdf bytes named md", filename: "notes.md", head: pdf, msg: "bytes look like a PDF document"},
		{name: "pdf bytes named html", filename: "page.html", head: pdf, msg: "bytes look like a PDF document"},
		{name: "pdf bytes declared markdown", filename: "notes", declared: "text/markdown", head: pdf, msg: `the declared type "text/markdown" says Markdown, but its bytes look like a PDF document`},
		{name: "html named pdf", filename: "x.pdf", head: doctype, msg: `the file name "x.pdf" says a PDF document, but its bytes look like HTML`},
		{name: "text named pdf", filename: "x.pdf", head: text, msg: "says a PDF document, but its bytes look like plain text"},
		{name: "text declared pdf", filename: "x", declared: "application/pdf", head: text, msg: `the declared type "application/pdf" says a PDF document, but its bytes look like plain text`},
		{name: "text named png", filename: "photo.png", head: text, msg: `"photo.png" says an image, but its bytes look like plain text`},
		{name: "text declared image", filename: "photo", declared: "image/png", head: text, msg: `"image/png" says a file of type image/png, but its bytes look like plain text`},
		{name: "png named txt", filename: "notes.txt", head: png, msg: `"notes.txt" says plain text, but its bytes look like an image (image/png)`},
		{name: "png declared text", filename: "x", declared: "text/plain", head: png, msg: "bytes look like an image (image/png)"},
		{name: "nul bytes named md", filename: "notes.md", head: nul, msg: `"notes.md" says Markdown, but its bytes look like binary data`},
		{name: "latin-1 named txt", filename: "notes.txt", head: latin1, msg: "bytes look like binary data or text in an encoding other than UTF-8"},
		{name: "zip named docx", filename: "report.docx", head: zip, msg: "the file is a ZIP archive"},
		{name: "legacy html named txt", filename: "page.txt", head: legacy, msg: "not UTF-8 text (it looks like HTML in a legacy encoding"},

		// Binary data that no name makes acceptable.
		{name: "png", filename: "photo.png", head: png, msg: "the file is an image (image/png), which cannot be ingested"},
		{name: "jpeg no name", head: jpeg, msg: "the file is an image (image/jpeg)"},
		{name: "zip", filename: "archive.zip", head: zip, msg: "ZIP archive"},
		{name: "gzip", filename: "logs", head: gzip, msg: "gzip archive"},
		{name: "ole", filename: "old.doc", head: ole, msg: "legacy Microsoft Office document"},
		{name: "rtf", filename: "letter", head: rtf, msg: "RTF document"},
		{name: "nul bytes", filename: "blob", head: nul, msg: "the file is binary data"},
		{name: "latin-1", filename: "notes", head: latin1, msg: "encoding other than UTF-8"},
		{name: "utf-16", filename: "notes.txt", head: utf16, msg: "the file is UTF-16 text; save it as UTF-8"},

		// HTML in a legacy encoding declared in a <meta>: Parse decodes it.
		{name: "legacy html", filename: "page.htm", head: legacy, want: ingest.TypeHTML},
		{name: "legacy html no name", head: legacy, want: ingest.TypeHTML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ingest.DetectContentType(tt.filename, tt.declared, []byte(tt.head))
			if tt.want != "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			require.Empty(t, got)
			require.Equal(t, ragqueue.EUNSUPPORTED, ragqueue.ErrorCode(err))
			msg := ragqueue.ErrorMessage(err)
			require.Contains(t, msg, tt.msg)
			require.Contains(t, msg, "supported: PDF (.pdf), plain text (.txt), Markdown (.md) and HTML (.html)")
		})
	}
}

func TestDetectContentTypeLongHead(t *testing.T) {
	t.Parallel()
	// Only the first 512 bytes count: a NUL after them does not make text binary.
	head := strings.Repeat("a", 512) + "\x00"
	got, err := ingest.DetectContentType("notes.txt", "", []byte(head))
	require.NoError(t, err)
	require.Equal(t, ingest.TypeText, got)
}
