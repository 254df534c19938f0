package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/postgres/pgtest"
)

// TestPauseResume: while paused the server refuses connections; resumed,
// it answers on the same DSN with the data written before.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgtest.Start(ctx)
	if err != nil {
		if pgtest.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(c.Stop)
	dsn := c.NewDatabase(t)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, dsn+"&connect_timeout=2")
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	require.NoError(t, exec(`CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)`))
	require.NoError(t, c.Pause())
	require.Error(t, exec(`SELECT 1`), "paused: no connection")
	require.Error(t, c.Pause(), "already paused")
	require.NoError(t, c.Resume(ctx))
	require.Error(t, c.Resume(ctx), "already running")

	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v))
	require.Equal(t, 7, v)
}
