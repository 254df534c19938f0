package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ragqueue/ragqueue"
)

// The store's statements, transactions and rows pass every error through
// unavailable (sqlstore.Dialect.Unavailable): an error that says the
// database cannot be reached (refused or dropped connections, a server
// shutting down or starting) comes back as a ragqueue EUNAVAILABLE error,
// which the API answers with 503 and the workers retry, instead of an
// internal error. Other errors are unchanged.

// unavailable wraps err with ragqueue.ErrStoreUnavailable, what a request that
// needs the database gets while it cannot be reached, when err says the
// server cannot be reached; the cause stays in the chain for logs.
func unavailable(err error) error {
	if err == nil || !isUnavailable(err) || errors.Is(err, ragqueue.ErrStoreUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ragqueue.ErrStoreUnavailable, err)
}

func isUnavailable(err error) bool {
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true // not even connected, whatever the cause
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// The caller's time ran out on a connected server (a slow query):
		// that is the statement's failure, not the database's absence, and
		// retrying it must spend the task's retries.
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-03: admin shutdown, crash
		// shutdown, cannot connect now (starting up).
		return len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03")
	}
	// database/sql's words for a connection that broke under it.
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
