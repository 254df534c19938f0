package retrieval

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// releaseNotes is a passage that answers none of the questions below.
var releaseNotes = Passage{
	DocumentID: "doc-a", ChunkID: "doc-a:0", Source: "text", Title: "Release notes",
	Text: "Version 2.3 adds streaming answers. The worker binary now logs in JSON.",
}

// chunkIDText is a chunk's text that the next chunk repeats, as an overlap.
const chunkIDText = "Chunk IDs are derived from the tenant, the document ID, the document version and the chunk index, so a retried job overwrites rather than duplicates."

// extractiveCases are realistic retrieval results: passages in the order a
// search returned them.
var extractiveCases = []struct {
	name     string
	question string
	passages []Passage
}{
	{
		name:     "refund_policy",
		question: "How long do customers have to request a refund?",
		passages: []Passage{
			{
				DocumentID: "doc-terms", ChunkID: "doc-terms:3", Source: "upload:terms.pdf", Title: "Terms of Service", Page: 4,
				Text: "7. Refunds\nCustomers may request a full refund within 30 days of purchase. Refund requests must be\nsubmitted through the billing portal. After 30 days, purchases are non-refundable except where\nrequired by law.",
			},
			{
				DocumentID: "doc-faq", ChunkID: "doc-faq:0", Source: "https://example.com/faq", Title: "Billing FAQ",
				Text: "Can I cancel my subscription? Yes, you can cancel at any time from the account page. Refunds are processed within 5 business days once approved.",
			},
		},
	},
	{
		name:     "redis_restart",
		question: "What happens to queued jobs when Redis restarts?",
		passages: []Passage{
			{
				DocumentID: "doc-ops", ChunkID: "doc-ops:12", Source: "upload:operations.md", Title: "Operations guide",
				Text: "## Persistence\n\nRedis is configured with AOF persistence (appendfsync everysec), so at most one second of\nqueue writes can be lost when Redis restarts. Jobs that were queued before the restart are\nstill queued afterwards.\n\n- Workers reconnect automatically.\n- In-flight jobs are retried after their lease expires.",
			},
			{
				DocumentID: "doc-arch", ChunkID: "doc-arch:2", Source: "upload:architecture.md", Title: "Architecture",
				Text: "The metadata database is the source of truth. If Redis loses a job, a reconciler re-enqueues every document that the database says is unfinished, e.g. queued or processing ones.",
			},
			{
				DocumentID: "doc-ui", ChunkID: "doc-ui:1", Source: "upload:ui.md", Title: "Dashboard",
				Text: "The dashboard shows charts of request latency. Colours follow the brand palette.",
			},
		},
	},
	{
		name:     "answer_in_second_passage",
		question: "Which port does the API server listen on by default?",
		passages: []Passage{
			releaseNotes,
			{
				DocumentID: "doc-b", ChunkID: "doc-b:5", Source: "upload:config.md", Title: "Configuration", Page: 0,
				Text: "RAGQ_ADDR sets the listen address. By default the API server listens on port 8080 on all interfaces. Set RAGQ_ADDR=127.0.0.1:9000 to change it.",
			},
		},
	},
	{
		name:     "not_in_documents",
		question: "What is the CEO's favourite colour?",
		passages: []Passage{
			releaseNotes,
		},
	},
	{
		name:     "overlapping_chunks_not_repeated",
		question: "How are chunk IDs derived?",
		passages: []Passage{
			{
				DocumentID: "doc-d", ChunkID: "doc-d:1", Source: "upload:design.md", Title: "Design",
				Text: chunkIDText,
			},
			{
				DocumentID: "doc-d", ChunkID: "doc-d:2", Source: "upload:design.md", Title: "Design",
				Text: chunkIDText + " Each chunk is at most 800 tokens.",
			},
		},
	},
}

func TestExtractiveGolden(t *testing.T) {
	t.Parallel()
	g := NewExtractive()
	for _, tc := range extractiveCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ans, err := g.Generate(context.Background(), tc.question, tc.passages)
			require.NoError(t, err)
			requireAnswerInvariants(t, ans, tc.passages)
			got, err := json.MarshalIndent(struct {
				Question string `json:"question"`
				Answer   Answer `json:"answer"`
			}{tc.question, ans}, "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			path := filepath.Join("testdata", "extractive", tc.name+".golden.json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./retrieval -run TestExtractiveGolden -update")
			require.Equal(t, string(want), string(got))
		})
	}
}

// requireAnswerInvariants checks what must hold for any extractive answer:
// every [n] marker has a citation and every citation is used; every quoted
// sentence occurs in its passage.
func requireAnswerInvariants(t *testing.T, ans Answer, passages []Passage) {
	t.Helper()
	require.Equal(t, "extractive", ans.Generator)
	require.NotNil(t, ans.Citations)
	if ans.Text == NoAnswerText {
		require.Empty(t, ans.Citations)
		return
	}
	require.NotEmpty(t, ans.Citations)
	require.True(t, utf8.ValidString(ans.Text))
	for i, c := range ans.Citations {
		if i > 0 {
			require.Less(t, ans.Citations[i-1].Index, c.Index, "citations sorted and distinct")
		}
		require.Contains(t, ans.Text, "["+itoa(c.Index)+"]")
		p := passages[c.Index-1]
		require.Equal(t, p.ChunkID, c.ChunkID)
		require.Equal(t, p.DocumentID, c.DocumentID)
		require.LessOrEqual(t, len([]rune(c.Snippet)), maxSnippet)
		require.True(t, utf8.ValidString(c.Snippet))
		require.Contains(t, strings.Join(strings.Fields(strings.ToValidUTF8(p.Text, "\uFFFD")), " "), strings.TrimSuffix(c.Snippet, "…"))
	}
	for n := 1; n <= len(passages); n++ {
		if strings.Contains(ans.Text, "["+itoa(n)+"]") {
			found := false
			for _, c := range ans.Citations {
				found = found || c.Index == n
			}
			require.True(t, found, "marker [%d] without citation", n)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestExtractiveNoAnswer(t *testing.T) {
	t.Parallel()
	passages := []Passage{{ChunkID: "c1", DocumentID: "d1", Text: "Redis streams deliver events to subscribers in order."}}
	tests := []struct {
		name     string
		question string
		passages []Passage
	}{
		{"no passages", "How do Redis streams deliver events?", nil},
		{"empty passages", "How do Redis streams deliver events?", []Passage{}},
		{"question of stop words only", "What is it and why?", passages},
		{"no content term matches", "Who won the football match yesterday?", passages},
		{"weak single-term overlap", "Which football stadium hosts the final match of the subscribers cup tournament?", passages},
		{"passage without sentences", "Redis events?", []Passage{{ChunkID: "c", Text: "  \n\n ... "}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ans, err := NewExtractive().Generate(context.Background(), tt.question, tt.passages)
			require.NoError(t, err)
			require.Equal(t, Answer{Text: NoAnswerText, Citations: []ragqueue.Citation{}, Generator: "extractive"}, ans)
		})
	}
}

func TestExtractiveCitesOnlyUsedPassages(t *testing.T) {
	t.Parallel()
	passages := []Passage{
		{ChunkID: "c1", DocumentID: "d1", Text: "The office dog is called Biscuit."},
		{ChunkID: "c2", DocumentID: "d2", Title: "Backups", Source: "upload:backup.md", Page: 2, Text: "Backups of the metadata database run nightly at 02:00 UTC."},
		{ChunkID: "c3", DocumentID: "d3", Text: "Lunch is served at noon."},
	}
	ans, err := NewExtractive().Generate(context.Background(), "When do database backups run?", passages)
	require.NoError(t, err)
	require.Equal(t, "Backups of the metadata database run nightly at 02:00 UTC. [2]", ans.Text)
	require.Equal(t, []ragqueue.Citation{{
		Index: 2, DocumentID: "d2", ChunkID: "c2", Source: "upload:backup.md", Title: "Backups", Page: 2,
		Snippet: "Backups of the metadata database run nightly at 02:00 UTC.",
	}}, ans.Citations)
}

func TestExtractiveHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewExtractive().Generate(ctx, "anything", []Passage{{Text: "anything at all"}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestExtractiveLongSentenceTruncated(t *testing.T) {
	t.Parallel()
	long := "Quotas " + strings.Repeat("apply to every tenant and every key ", 40) + "always."
	ans, err := NewExtractive().Generate(context.Background(), "Do quotas apply to tenants?", []Passage{{ChunkID: "c", Text: long}})
	require.NoError(t, err)
	requireAnswerInvariants(t, ans, []Passage{{ChunkID: "c", Text: long}})
	require.LessOrEqual(t, len([]rune(ans.Text)), maxAnswerSentence+4)
	require.True(t, strings.HasSuffix(ans.Text, "… [1]"), ans.Text)
}

func TestSplitSentences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []sentence
	}{
		{"simple", "One two. Three four! Five six?", []sentence{{text: "One two."}, {text: "Three four!"}, {text: "Five six?"}}},
		{"decimals and abbreviations", "Pi is 3.14 roughly. Ask Dr. Who, e.g. by mail. Then stop.", []sentence{{text: "Pi is 3.14 roughly."}, {text: "Ask Dr. Who, e.g. by mail."}, {text: "Then stop."}}},
		{"initials and numbered steps", "Written by J. Smith in 2020. Step 1. Open it.", []sentence{{text: "Written by J. Smith in 2020."}, {text: "Step 1."}, {text: "Open it."}}},
		{"soft line wraps", "This sentence is wrapped\nacross two lines. Next one.", []sentence{{text: "This sentence is wrapped across two lines."}, {text: "Next one."}}},
		{"headings and lists", "# Title\nBody text here.\n\n- item one\n- item two", []sentence{{text: "Title", heading: true}, {text: "Body text here."}, {text: "- item one"}, {text: "- item two"}}},
		{"plain title line", "Refund policy\nCustomers may ask for refunds.", []sentence{{text: "Refund policy", heading: true}, {text: "Customers may ask for refunds."}}},
		{"quotes", `He said "stop." Then left.`, []sentence{{text: `He said "stop."`}, {text: "Then left."}}},
		{"cjk", "東京は首都です。大阪は都市です。", []sentence{{text: "東京は首都です。"}, {text: "大阪は都市です。"}}},
		{"no words", " ... \n\n !!! ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, splitSentences(tt.in))
		})
	}
}

// FuzzExtractive feeds arbitrary passage text: the generator must never
// panic, and whatever it answers must satisfy the citation invariants.
func FuzzExtractive(f *testing.F) {
	f.Add("How long is the refund window?", "7. Refunds\nRefunds within 30 days. Dr. Who said so.\n\n- item")
	f.Add("x", "")
	f.Add("Größe?", "Die Größe ist 3.5 m. 東京は首都です。")
	f.Add("why \xff", "\xff\xfe. A b c d. ####\n\n1) one two three four")
	f.Fuzz(func(t *testing.T, question, text string) {
		passages := []Passage{{ChunkID: "c1", DocumentID: "d1", Text: text}, {ChunkID: "c2", DocumentID: "d2", Text: question}}
		ans, err := NewExtractive().Generate(context.Background(), question, passages)
		if err != nil {
			t.Fatal(err)
		}
		requireAnswerInvariants(t, ans, passages)
	})
}
