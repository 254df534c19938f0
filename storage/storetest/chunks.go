package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func chunkTests() []test {
	return []test{
		{"ReplaceRoundTrip", testChunksRoundTrip},
		{"ReplaceTwiceKeepsSecondSet", testChunksReplaceTwice},
		{"ReplaceMany", testChunksMany},
		{"ReplaceEmptyClears", testChunksReplaceEmpty},
		{"ReplaceMissingDocumentOrVersion", testChunksMissing},
		{"ReplaceInvalid", testChunksInvalid},
	}
}

// makeChunks returns n chunks of a document version with deterministic ids.
func makeChunks(docID string, version, n int, text string) []ragqueue.Chunk {
	chunks := make([]ragqueue.Chunk, n)
	for i := range chunks {
		chunks[i] = ragqueue.Chunk{
			ID:      fmt.Sprintf("%s-v%d-%d", docID, version, i),
			Index:   i,
			Text:    fmt.Sprintf("%s %d", text, i),
			Page:    i/3 + 1,
			Section: "Intro > Part " + fmt.Sprint(i%4),
		}
	}
	return chunks
}

// withOwner fills in the fields the store sets from its arguments.
func withOwner(chunks []ragqueue.Chunk, tenant, docID string, version int) []ragqueue.Chunk {
	out := make([]ragqueue.Chunk, len(chunks))
	for i, c := range chunks {
		c.Tenant, c.DocumentID, c.Version = tenant, docID, version
		out[i] = c
	}
	return out
}

func testChunksRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	chunks := makeChunks(d.ID, 1, 10, "héllo, wörld — ünïcode ✓")
	chunks[3].Page, chunks[3].Section = 0, ""
	shuffled := append([]ragqueue.Chunk(nil), chunks...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// Fields the store owns are taken from the arguments, not the chunks.
	shuffled[0].Tenant, shuffled[0].DocumentID, shuffled[0].Version = "globex", "other", 7

	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, shuffled))
	got, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, withOwner(chunks, "acme", d.ID, 1), got)

	got, err = s.ListChunks(ctx, "acme", d.ID, 2)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
}

func testChunksReplaceTwice(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	other := create(t, s, newDoc("acme", "b"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", other.ID, 1, 0, makeChunks(other.ID, 1, 4, "other")))

	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 8, "first")))
	second := makeChunks(d.ID, 1, 5, "second")
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, second))
	// A retried job writes the same set again: still no duplicates.
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, second))

	got, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, withOwner(second, "acme", d.ID, 1), got)

	got, err = s.ListChunks(ctx, "acme", other.ID, 1)
	require.NoError(t, err)
	require.Len(t, got, 4, "another document's chunks were touched")
}

func testChunksMany(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	chunks := makeChunks(d.ID, 1, 1234, strings.Repeat("lorem ipsum ", 80))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, chunks))
	got, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, withOwner(chunks, "acme", d.ID, 1), got)
}

func testChunksReplaceEmpty(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 3, "x")))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, nil))
	got, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testChunksMissing(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	err := s.ReplaceChunks(ctx, "acme", "nope", 1, 0, makeChunks("nope", 1, 2, "x"))
	requireCode(t, ragqueue.ENOTFOUND, err)
	// A stale job for another version must not write chunks.
	err = s.ReplaceChunks(ctx, "acme", d.ID, 2, 0, makeChunks(d.ID, 2, 2, "x"))
	requireCode(t, ragqueue.ENOTFOUND, err)
	got, err := s.ListChunks(ctx, "acme", d.ID, 2)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testChunksInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 3, "kept")))

	chunks := makeChunks(d.ID, 1, 3, "x")
	chunks[1].ID = ""
	requireCode(t, ragqueue.EINVALID, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, chunks))

	for _, text := range []string{"nul \x00 byte", "bad utf-8 \xff"} {
		chunks = makeChunks(d.ID, 1, 3, "x")
		chunks[2].Text = text
		requireCode(t, ragqueue.EINVALID, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, chunks))
		chunks = makeChunks(d.ID, 1, 3, "x")
		chunks[2].Section = text
		requireCode(t, ragqueue.EINVALID, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, chunks))
	}

	// A failing batch leaves the previous set in place.
	dup := makeChunks(d.ID, 1, 3, "dup")
	dup[2].Index = 1
	require.Error(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, dup))
	got, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, withOwner(makeChunks(d.ID, 1, 3, "kept"), "acme", d.ID, 1), got)
}
