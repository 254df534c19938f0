package ragqueue

import (
	"errors"
	"fmt"
)

// Error codes. cmd/api maps each to exactly one HTTP status in one table.
const (
	EINVALID     = "invalid_request"        // the request is malformed or a value is out of range
	EUNAUTH      = "unauthorized"           // no or unknown API key
	EFORBIDDEN   = "forbidden"              // the key's role does not allow this
	ENOTFOUND    = "not_found"              // no such resource in the caller's tenant
	ECONFLICT    = "conflict"               // the resource's state does not allow this now
	ETOOLARGE    = "payload_too_large"      // body or file over the configured limit
	EUNSUPPORTED = "unsupported_media_type" // content type we cannot ingest
	ERATELIMIT   = "rate_limited"           // too many requests
	EUNAVAILABLE = "unavailable"            // a dependency (Redis, database, index) is down
	ETIMEOUT     = "timeout"                // a bounded wait ran out
	EINTERNAL    = "internal_error"         // a bug or an unexpected failure
)

// Error is an error meant to be shown to the API client: Code picks the HTTP
// status, Message says what to fix. Wrap it with fmt.Errorf("...: %w") freely;
// ErrorCode and ErrorMessage find it through the chain.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("ragqueue error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-facing message of err. Internal errors get a
// generic message so that details (SQL, paths) never leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
