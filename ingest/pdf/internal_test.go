package pdf

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	pdflib "github.com/ledongthuc/pdf"
	"github.com/stretchr/testify/require"
)

// openTestPDF opens a file under testdata in-process.
func openTestPDF(t *testing.T, name string) (*document, []pageRef) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	doc, err := openPDF(data, 64<<20)
	require.NoError(t, err)
	pages, _, err := doc.pages(100)
	require.NoError(t, err)
	return doc, pages
}

// TestObjKeyOf pins the reflection that reads a Value's object number
// against the library version in go.mod, and the reading of references
// from Value.String.
func TestObjKeyOf(t *testing.T) {
	t.Parallel()
	doc, pages := openTestPDF(t, "fpdf-utf8.pdf")
	require.Len(t, pages, 2)
	k1, ok1 := objKeyOf(pages[0].v)
	k2, ok2 := objKeyOf(pages[1].v)
	require.True(t, ok1 && ok2, "the library's Value no longer has ptr: update objKeyOf")
	require.NotEqual(t, k1, k2)
	_, ok := objKeyOf(doc.r.Trailer())
	require.False(t, ok, "the trailer is no indirect object")
	_, ok = objKeyOf(pdflib.Value{})
	require.False(t, ok)

	fonts := pages[0].v.Key("Resources").Key("Font")
	refs := refsOf(fonts)
	require.NotEmpty(t, refs)
	for name, key := range refs {
		got, ok := objKeyOf(fonts.Key(name))
		require.True(t, ok)
		require.Equal(t, key, got, name)
	}
}

func TestRefsOfFormats(t *testing.T) {
	t.Parallel()
	k, n, ok := parseRef("12 0 R /F2 3 0 R")
	require.True(t, ok)
	require.Equal(t, objKey{12, 0}, k)
	require.Equal(t, 6, n)
	for _, s := range []string{"12 0 Rx", "12 R", "1.5 0 R", "99999999999 0 R", "1 99999 R", "12 0"} {
		_, _, ok := parseRef(s)
		require.False(t, ok, s)
	}
	for in, want := range map[string]string{
		`"a b\" c" /X`:           " /X",
		`<</A [1 2] /B (x)>> /Y`: " /Y",
		`[[1] [2]] /Z`:           " /Z",
		`/Name /W`:               " /W",
	} {
		rest, ok := skipFormatted(in)
		require.True(t, ok, in)
		require.Equal(t, want, rest, in)
	}
	_, ok = skipFormatted(`"unterminated`)
	require.False(t, ok)
}

// lexAll returns the tokens of s as kind:text strings.
func lexAll(s string) []string {
	var lx lexer
	lx.reset(strings.NewReader(s), 0)
	var out []string
	for {
		k := lx.next()
		switch k {
		case tokEOF:
			return out
		case tokNum:
			out = append(out, "num:"+strconv.FormatFloat(lx.num, 'f', -1, 64))
		case tokStr:
			out = append(out, "str:"+string(lx.tok))
		case tokName:
			out = append(out, "name:"+string(lx.tok))
		case tokOp:
			out = append(out, "op:"+string(lx.tok))
		case tokArrOpen:
			out = append(out, "[")
		case tokArrClose:
			out = append(out, "]")
		case tokDictOpen:
			out = append(out, "<<")
		case tokDictClose:
			out = append(out, ">>")
		}
	}
}

func TestLexer(t *testing.T) {
	t.Parallel()
	got := lexAll("BT /F1 12 Tf -3.5 .25 +7 Td (a\\(b\\)c\\101\\n(nested)) Tj <48 65 6c 6C 6f7> Tj " +
		"% a comment\n/A#20B [1 (x)] << /K /V >> ' \" T* 1.2.3 --4 {proc}")
	require.Equal(t, []string{
		"op:BT", "name:F1", "num:12", "op:Tf", "num:-3.5", "num:0.25", "num:7", "op:Td",
		"str:a(b)cA\n(nested)", "op:Tj", "str:Hello\x70", "op:Tj",
		"name:A B", "[", "num:1", "str:x", "]", "<<", "name:K", "name:V", ">>", "op:'", "op:\"", "op:T*",
		"num:1.2", "num:4", "op:{", "op:proc", "op:}",
	}, got)
}

func TestLexerInlineImageAndLimits(t *testing.T) {
	t.Parallel()
	var o operands
	var lx lexer
	lx.reset(strings.NewReader("BI /W 2 /H 2 /BPC 8 ID \x00EI\xffEI (x) Tj EI Q (after) Tj"), 0)
	var ops []string
	o.interpret(&lx, func(op []byte) bool {
		arg := ""
		if n := len(o.stack); n > 0 {
			arg = string(o.bytesOf(o.stack[n-1]))
		}
		ops = append(ops, string(op)+":"+arg)
		return true
	})
	require.Equal(t, []string{"Q:", "Tj:after"}, ops[len(ops)-2:])

	// A stream past its limit stops the lexer with errStreamTooLarge.
	lx.reset(bytes.NewReader(make([]byte, 1<<20)), 1000)
	require.Equal(t, tokEOF, lx.next())
	require.ErrorIs(t, lx.err, errStreamTooLarge)
}

func TestCMap(t *testing.T) {
	t.Parallel()
	m := parseCMap(strings.NewReader(`/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <0020> <0011> <00660069> endbfchar
2 beginbfrange <0020> <0022> <0041> <0030> <0031> [<03B1> <D835DC9C>] endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end`))
	for code, want := range map[uint32]string{0x03: " ", 0x11: "fi", 0x20: "A", 0x22: "C", 0x30: "α", 0x31: "𝒜"} {
		got, ok := m.lookup(code)
		require.True(t, ok, "%#x", code)
		require.Equal(t, want, got, "%#x", code)
	}
	_, ok := m.lookup(0x23)
	require.False(t, ok)
	require.Equal(t, 2, m.codeLength([]byte{0, 1, 2}))
	require.Equal(t, "\u00ff", utf16Text([]byte{0xff}))
	require.Empty(t, incrementUTF16(nil, 3))
	require.Equal(t, []byte{0x01, 0x00}, incrementUTF16([]byte{0x00, 0xFF}, 1))
}

func TestCleanPDFText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  a\x00b\t c  \n\n\n\n d ":        "ab c\n\nd",
		"ﬁnd the ﬂow\u00a0here":            "find the flow here",
		"exam-\nple and X-\nRay and 3-\n4": "example and X-\nRay and 3-\n4",
		"bad \xff byte\u200b\ufeff":        "bad byte",
		"\n\nline\r\nnext":                 "line\nnext",
	} {
		got := cleanText([]byte(in))
		require.Equal(t, want, got, "%q", in)
		require.True(t, utf8.ValidString(got))
	}
}

func TestPageRanges(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1, effectiveParallelism(15, 4))
	require.Equal(t, 2, effectiveParallelism(16, 4))
	require.Equal(t, 4, effectiveParallelism(2000, 4))
	require.Equal(t, 1, effectiveParallelism(2000, 0))
	for _, n := range []int{1, 7, 16, 17, 100, 2415, 20000} {
		for _, children := range []int{1, 2, 3, 8} {
			c := effectiveParallelism(n, children)
			next, owners := 1, map[int]bool{}
			for _, rg := range pageRanges(n, c) {
				require.Equal(t, next, rg.first, "n=%d children=%d", n, c)
				require.GreaterOrEqual(t, rg.last, rg.first)
				require.Less(t, rg.owner, c)
				owners[rg.owner] = true
				next = rg.last + 1
			}
			require.Equal(t, n+1, next, "every page exactly once")
			require.Len(t, owners, c, "every child has work")
		}
	}
}

func TestHeadTail(t *testing.T) {
	t.Parallel()
	var h headTail
	_, _ = h.Write([]byte("fatal error: out of memory\n"))
	for range 1000 {
		_, _ = h.Write([]byte("goroutine 1 [running]: frames frames frames\n"))
	}
	_, _ = h.Write([]byte("the end"))
	s := h.String()
	require.True(t, strings.HasPrefix(s, "fatal error: out of memory"))
	require.True(t, strings.HasSuffix(s, "the end"))
	require.Less(t, len(s), stderrHead+stderrTail+16)
}

// layout runs content through the interpreter with no resources (the
// fallback font: Latin-1, half-em advances).
func layout(t testing.TB, content string) string {
	doc := &document{fonts: map[objKey]*font{}, formRes: map[objKey]*resources{}, fallback: defaultFont(), maxContent: 1 << 20}
	out := &pageText{max: 1 << 20}
	x := &extractor{doc: doc, out: out, gs: gstate{ctm: identity(), th: 1}, tm: identity(), tlm: identity()}
	err := x.run(strings.NewReader(content), newResources(pdflib.Value{}))
	if err != nil {
		t.Logf("run: %v", err)
	}
	return cleanText(out.b)
}

func TestTextLayout(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct{ content, want string }{
		"kerning spaces": {"BT /F1 10 Tf [(Hello)-300(world)20(ly)] TJ ET", "Hello worldly"},
		"lines":          {"BT /F1 10 Tf 12 TL 72 700 Td (one) Tj 0 -12 Td (two) Tj T* (three) Tj ET", "one\ntwo\nthree"},
		"paragraph":      {"BT /F1 10 Tf 72 700 Td (one) Tj 0 -40 Td (two) Tj ET", "one\n\ntwo"},
		"words by position": {"BT /F1 10 Tf 1 0 0 1 72 700 Tm (left) Tj 1 0 0 1 200 700 Tm (right) Tj ET",
			"left right"},
		"superscript stays on the line": {"BT /F1 10 Tf 72 700 Td (x) Tj 3 Ts (2) Tj 0 Ts ( plus) Tj ET", "x2 plus"},
		"rotated text":                  {"BT /F1 10 Tf 0 1 -1 0 300 100 Tm (up) Tj [-400(the)-400(side)] TJ ET", "up the side"},
		"scaled by cm":                  {"2 0 0 2 0 0 cm BT /F1 5 Tf 10 300 Td (big) Tj 0 -6 Td (next) Tj ET", "big\nnext"},
		"q Q restore":                   {"q 1 0 0 1 0 -500 cm Q BT /F1 10 Tf 72 700 Td (a) Tj ET BT /F1 10 Tf 82 700 Td (b) Tj ET", "a b"},
		"quote operators":               {"BT /F1 10 Tf 12 TL 72 700 Td (a) Tj (b) ' 1 2 (c) \" ET", "a\nb\nc"},
		"garbage is ignored":            {"BT /F1 Tf Td Tj TJ 1 2 3 Tm ] >> (x) Tj ET Q Q Q", "x"},
	} {
		require.Equal(t, tt.want, layout(t, tt.content), name)
	}
}

// FuzzContentStream runs arbitrary content through the interpreter in
// process: it must not panic, hang or produce invalid text.
func FuzzContentStream(f *testing.F) {
	for _, s := range []string{
		"BT /F1 12 Tf 72 700 Td [(Hello)-300(world)] TJ ET",
		"q 1 0 0 1 10 10 cm BT 0 1 -1 0 0 0 Tm (x) ' 1 2 (y) \" T* ET Q",
		"BI /W 1 /H 1 ID \x00 EI (after) Tj",
		"[[[[(deep)]]]] TJ << /A << /B [1 2] >> >> BDC (x) Tj EMC",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		got := layout(t, string(content))
		require.True(t, utf8.ValidString(got))
		require.NotContains(t, got, "\x00")
	})
}
