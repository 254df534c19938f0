package ingest

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragqueue/ragqueue"
)

// Canonical content types: the values Document.ContentType and Parse accept.
const (
	TypeText     = "text/plain"
	TypeMarkdown = "text/markdown"
	TypeHTML     = "text/html"
	TypePDF      = "application/pdf"
)

// supportedList ends every EUNSUPPORTED message so the client knows what to send.
const supportedList = "supported: PDF (.pdf), plain text (.txt), Markdown (.md) and HTML (.html)"

// kind is what a name, a declared type or the bytes say a file is.
type kind int

const (
	kindNone       kind = iota // nothing said (no extension, no declared type)
	kindUnknown                // an extension we know nothing about
	kindText                   // plain text
	kindMarkdown               // Markdown
	kindHTML                   // HTML
	kindPDF                    // a PDF document
	kindBinary                 // an image, archive, office file, executable…
	kindUTF16                  // text, but UTF-16 rather than UTF-8
	kindLegacyHTML             // HTML declaring a legacy charset (windows-1252, Shift_JIS…)
)

// claim is what the file name or the declared type says the file is.
type claim struct {
	kind  kind
	what  string // "a PNG image", for messages
	where string // `the file name "x.png"`, for messages
}

// textual reports whether the claim is one of the text types we ingest.
func (c claim) textual() bool {
	return c.kind == kindText || c.kind == kindMarkdown || c.kind == kindHTML
}

// DetectContentType decides what an upload is from its file name, the
// client's declared Content-Type (may be "" or "application/octet-stream")
// and the first up-to-512 bytes of the content. It returns TypeText,
// TypeMarkdown, TypeHTML or TypePDF, or a *ragqueue.Error with EUNSUPPORTED
// whose message names what was found and lists the supported types. The file
// name's extension is trusted over the declared type (browsers derive the
// latter from the former anyway), and both are checked against the bytes.
func DetectContentType(filename, declared string, head []byte) (string, error) {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	sniffed, sniffWhat := sniff(head)

	c := extClaim(filename)
	if c.kind == kindNone || c.kind == kindUnknown {
		if d := declaredClaim(declared); d.kind != kindNone {
			c = d
		}
	}

	switch sniffed {
	case kindPDF:
		if c.kind != kindNone && c.kind != kindUnknown && c.kind != kindPDF {
			return "", mismatch(c, sniffWhat)
		}
		return TypePDF, nil
	case kindUTF16:
		return "", ragqueue.Errorf(ragqueue.EUNSUPPORTED, "the file is UTF-16 text; save it as UTF-8 and upload it again; %s", supportedList)
	case kindLegacyHTML:
		if c.kind == kindHTML || c.kind == kindNone || c.kind == kindUnknown {
			return TypeHTML, nil // Parse decodes it using the declared charset
		}
		return "", ragqueue.Errorf(ragqueue.EUNSUPPORTED, "the file is not UTF-8 text (it looks like HTML in a legacy encoding, but %s says %s); %s",
			c.where, c.what, supportedList)
	case kindBinary:
		if c.textual() {
			return "", mismatch(c, sniffWhat)
		}
		return "", ragqueue.Errorf(ragqueue.EUNSUPPORTED, "the file is %s, which cannot be ingested; %s", sniffWhat, supportedList)
	}

	// The bytes are text (perhaps HTML).
	switch c.kind {
	case kindText:
		return TypeText, nil
	case kindMarkdown:
		return TypeMarkdown, nil
	case kindHTML:
		return TypeHTML, nil
	case kindPDF, kindBinary:
		return "", mismatch(c, sniffWhat)
	}
	if sniffed == kindHTML {
		return TypeHTML, nil
	}
	return TypeText, nil
}

// sniffLen is how many leading bytes DetectContentType looks at.
const sniffLen = 512

// mismatch is the error for bytes that contradict the name or declared type.
func mismatch(c claim, bytesWhat string) error {
	return ragqueue.Errorf(ragqueue.EUNSUPPORTED, "%s says %s, but its bytes look like %s; %s",
		c.where, c.what, bytesWhat, supportedList)
}

// extClaim reads what the file name's extension says.
func extClaim(filename string) claim {
	name := CleanTitle(filename)
	ext := strings.ToLower(path.Ext(name))
	where := "the file name " + quote(name)
	switch ext {
	case "":
		return claim{kind: kindNone}
	case ".txt", ".text":
		return claim{kindText, "plain text", where}
	case ".md", ".markdown", ".mdown", ".mkd":
		return claim{kindMarkdown, "Markdown", where}
	case ".html", ".htm", ".xhtml":
		return claim{kindHTML, "HTML", where}
	case ".pdf":
		return claim{kindPDF, "a PDF document", where}
	}
	if what := binaryExt(ext); what != "" {
		return claim{kindBinary, what, where}
	}
	return claim{kind: kindUnknown}
}

// binaryExt describes extensions of formats we cannot ingest, "" for others.
func binaryExt(ext string) string {
	switch ext {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".heic", ".avif", ".svg":
		return "an image"
	case ".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst":
		return "an archive"
	case ".doc", ".docx", ".odt", ".rtf", ".pages", ".epub":
		return "a word-processor document"
	case ".xls", ".xlsx", ".ods", ".numbers":
		return "a spreadsheet"
	case ".ppt", ".pptx", ".odp", ".key":
		return "a presentation"
	case ".mp3", ".wav", ".ogg", ".flac", ".m4a", ".aac", ".opus":
		return "audio"
	case ".mp4", ".mov", ".avi", ".mkv", ".webm":
		return "a video"
	case ".exe", ".dll", ".so", ".dylib", ".bin", ".iso", ".dmg", ".apk", ".jar", ".class", ".wasm", ".o", ".a":
		return "a program or disk image"
	case ".woff", ".woff2", ".ttf", ".otf", ".eot":
		return "a font"
	case ".db", ".sqlite", ".sqlite3", ".parquet":
		return "a database file"
	}
	return ""
}

// declaredClaim reads what the client's Content-Type says. Generic types
// (octet-stream, unparsable values, types we know nothing about) say nothing.
func declaredClaim(declared string) claim {
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return claim{kind: kindNone}
	}
	where := "the declared type " + quote(mt)
	switch mt {
	case "text/markdown", "text/x-markdown":
		return claim{kindMarkdown, "Markdown", where}
	case "text/html", "application/xhtml+xml":
		return claim{kindHTML, "HTML", where}
	case "application/pdf", "application/x-pdf":
		return claim{kindPDF, "a PDF document", where}
	case "application/json", "application/xml", "application/x-yaml", "application/yaml",
		"application/javascript", "application/x-sh", "application/toml":
		return claim{kindText, "text", where}
	case "application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
		"application/x-7z-compressed", "application/x-rar-compressed", "application/vnd.rar",
		"application/x-bzip2", "application/zstd":
		return claim{kindBinary, "an archive", where}
	case "application/msword", "application/rtf", "application/epub+zip":
		return claim{kindBinary, "a word-processor document", where}
	}
	top, sub, _ := strings.Cut(mt, "/")
	switch {
	case top == "text":
		return claim{kindText, "text", where}
	case top == "image" || top == "audio" || top == "video" || top == "font":
		return claim{kindBinary, "a file of type " + mt, where}
	case top == "application" && strings.HasPrefix(sub, "vnd.") &&
		(strings.Contains(sub, "openxmlformats") || strings.Contains(sub, "ms-") || strings.Contains(sub, "oasis.opendocument")):
		return claim{kindBinary, "an office document", where}
	}
	return claim{kind: kindNone}
}

// sniffedBinary describes the binary types http.DetectContentType names
// that have no top-level type of their own (font, image, audio, video).
var sniffedBinary = map[string]string{
	"application/zip":               "a ZIP archive (Word, Excel and EPUB files are ZIP archives too)",
	"application/x-gzip":            "a gzip archive",
	"application/x-rar-compressed":  "a RAR archive",
	"application/wasm":              "a WebAssembly module",
	"application/postscript":        "a PostScript document",
	"application/ogg":               "Ogg audio or video",
	"application/vnd.ms-fontobject": "a font",
}

// sniff says what the leading bytes look like, and describes it for messages.
func sniff(head []byte) (kind, string) {
	body := bytes.TrimLeft(bytes.TrimPrefix(head, []byte(utf8BOM)), " \t\r\n\f")
	if bytes.HasPrefix(body, []byte("%PDF-")) {
		return kindPDF, "a PDF document"
	}
	if bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) {
		return kindUTF16, "UTF-16 text"
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return kindBinary, m.what
		}
	}
	ct := http.DetectContentType(head)
	mt, _, _ := strings.Cut(ct, ";")
	top, _, _ := strings.Cut(mt, "/")
	if what, ok := sniffedBinary[mt]; ok {
		return kindBinary, what
	}
	switch top {
	case "font":
		return kindBinary, "a font"
	case "image":
		return kindBinary, "an image (" + mt + ")"
	case "audio":
		return kindBinary, "audio (" + mt + ")"
	case "video":
		return kindBinary, "a video (" + mt + ")"
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return kindBinary, "binary data"
	}
	if !validUTF8Prefix(head) {
		if declaresCharset(body) {
			return kindLegacyHTML, "HTML in a legacy encoding"
		}
		return kindBinary, "binary data or text in an encoding other than UTF-8"
	}
	if looksLikeHTML(body) {
		return kindHTML, "HTML"
	}
	return kindText, "plain text"
}

// utf8BOM is the UTF-8 byte order mark some editors put at the start of files.
const utf8BOM = "\xEF\xBB\xBF"

// magics are signatures of binary formats net/http's sniffer does not know.
// It is a constant table: never written.
var magics = [...]struct{ prefix, what string }{
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "a legacy Microsoft Office document (.doc, .xls or .ppt)"},
	{"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"},
	{"\xFD7zXZ\x00", "an xz archive"},
	{"\x28\xB5\x2F\xFD", "a zstd archive"},
	{"\x7FELF", "an executable (ELF)"},
	{"SQLite format 3\x00", "an SQLite database"},
	{"{\\rtf", "an RTF document"},
}

// validUTF8Prefix reports whether head is valid UTF-8, allowing the last rune
// to be cut short by the sniffing window.
func validUTF8Prefix(head []byte) bool {
	if utf8.Valid(head) {
		return true
	}
	// Drop a trailing partial rune, if that is all that is wrong.
	for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
		if utf8.RuneStart(head[i]) {
			return !utf8.FullRune(head[i:]) && utf8.Valid(head[:i])
		}
	}
	return false
}

// looksLikeHTML reports whether text clearly starts like an HTML document:
// <!doctype html> or <html, possibly after an XML declaration and comments.
func looksLikeHTML(b []byte) bool {
	for range 8 { // skip a few comments and declarations, no more
		b = bytes.TrimLeft(b, " \t\r\n\f")
		switch {
		case bytes.HasPrefix(b, []byte("<!--")):
			end := bytes.Index(b, []byte("-->"))
			if end < 0 {
				return false
			}
			b = b[end+3:]
		case bytes.HasPrefix(b, []byte("<?")):
			end := bytes.Index(b, []byte("?>"))
			if end < 0 {
				return false
			}
			b = b[end+2:]
		default:
			return hasTagPrefix(b, "<!doctype html") || hasTagPrefix(b, "<html")
		}
	}
	return false
}

// declaresCharset reports whether b starts like HTML and declares its
// character encoding (<meta charset=…> or an http-equiv Content-Type) within
// the sniffed bytes.
func declaresCharset(b []byte) bool {
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	return bytes.Contains(bytes.ToLower(b), []byte("charset="))
}

// hasTagPrefix reports whether b starts with tag (ASCII case-insensitively)
// followed by the end of b, whitespace or '>'.
func hasTagPrefix(b []byte, tag string) bool {
	if len(b) < len(tag) || !bytes.EqualFold(b[:len(tag)], []byte(tag)) {
		return false
	}
	if len(b) == len(tag) {
		return true
	}
	switch b[len(tag)] {
	case ' ', '\t', '\r', '\n', '\f', '>':
		return true
	}
	return false
}

// quote quotes a client-supplied name for an error message.
func quote(s string) string {
	return strconv.Quote(s)
}
