package web

import (
	"fmt"

	"github.com/ragqueue/ragqueue"
)

// webError is a client-facing error of this package: it reads
// "web: <message>" in logs and carries a *ragqueue.Error whose code and
// message the API shows.
type webError struct {
	e     *ragqueue.Error
	cause error // what went wrong underneath, if anything
}

// Error implements the error interface.
func (e *webError) Error() string { return "web: " + e.e.Message }

// Unwrap exposes the *ragqueue.Error and the cause.
func (e *webError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.e}
	}
	return []error{e.e, e.cause}
}

// codeErr builds a client-facing error with a ragqueue code.
func codeErr(code, format string, args ...any) error {
	return &webError{e: &ragqueue.Error{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// wrapCode is codeErr keeping cause in the chain (for errors.Is).
func wrapCode(code string, cause error, format string, args ...any) error {
	return &webError{e: &ragqueue.Error{Code: code, Message: fmt.Sprintf(format, args...)}, cause: cause}
}
