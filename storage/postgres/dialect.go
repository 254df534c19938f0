package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ragqueue/ragqueue/storage/sqlstore"
)

// dialect is PostgreSQL's side of the SQL the stores share.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:        "postgres",
		Numbered:    true,
		Time:        func(t time.Time) any { return t }, // TIMESTAMPTZ
		IsConflict:  isUniqueViolation,
		Unavailable: unavailable,
		Copy:        copyRows,
		// Concurrent new versions of one document take turns on its row.
		ForUpdate: " FOR UPDATE",
		JSONCast:  "::jsonb",
		TimeCast:  "::timestamptz",
		// Unlike SQLite, PostgreSQL has concurrent writers: a tenant's cache
		// puts and invalidations take turns on an advisory lock.
		LockCache: `SELECT pg_advisory_xact_lock(hashtextextended('ragqueue-cache:' || ?, 0))`,
	}
}

// copyRows bulk-inserts rows with COPY, on the transaction's connection.
func copyRows(ctx context.Context, tx *sqlstore.Tx, table string, columns []string, n int, row func(dst []any, i int) []any) error {
	return tx.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is a %T", table, driverConn)
		}
		src := pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(nil, i), nil })
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, src)
		return err
	})
}

// isUniqueViolation reports whether err is a unique or primary key violation.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
