package sqlstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	numbered := &Dialect{Numbered: true}
	for q, want := range map[string]string{
		`SELECT 1`:                              `SELECT 1`,
		`WHERE a = ? AND b IN (?, ?)`:           `WHERE a = $1 AND b IN ($2, $3)`,
		`WHERE a = '?' AND b = ?`:               `WHERE a = '?' AND b = $1`,
		`WHERE a = 'it''s ?' AND b = ? LIMIT ?`: `WHERE a = 'it''s ?' AND b = $1 LIMIT $2`,
	} {
		require.Equal(t, want, numbered.rebind(q), q)
	}
	q := `WHERE a = ? AND b = ?`
	require.Equal(t, q, (&Dialect{}).rebind(q), "? placeholders stay")
}

func TestTimeColumns(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	var got time.Time
	require.NoError(t, timeCol{&got}.Scan(at.UnixNano()))
	require.Equal(t, at, got)
	require.NoError(t, timeCol{&got}.Scan(at.In(time.FixedZone("x", 3600))))
	require.Equal(t, at, got)
	require.Equal(t, time.UTC, got.Location())
	require.Error(t, timeCol{&got}.Scan("2024-05-06"))

	opt := &at
	require.NoError(t, nullTimeCol{&opt}.Scan(nil))
	require.Nil(t, opt)
	require.NoError(t, nullTimeCol{&opt}.Scan(at.UnixNano()))
	require.Equal(t, at, *opt)
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	require.Equal(t, "?", placeholders(1))
	require.Equal(t, "?, ?, ?", placeholders(3))
}

func TestDialectTime(t *testing.T) {
	t.Parallel()
	d := &Dialect{Time: func(t time.Time) any { return t }}
	local := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	require.Equal(t, time.Date(2024, 5, 6, 6, 8, 9, 123456000, time.UTC), d.time(local))
	require.Nil(t, d.nullTime(nil))
}
