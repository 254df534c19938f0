package main

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// statusByCode is the one table from error codes to HTTP statuses.
var statusByCode = map[string]int{
	ragqueue.EINVALID:     http.StatusBadRequest,
	ragqueue.EUNAUTH:      http.StatusUnauthorized,
	ragqueue.EFORBIDDEN:   http.StatusForbidden,
	ragqueue.ENOTFOUND:    http.StatusNotFound,
	ragqueue.ECONFLICT:    http.StatusConflict,
	ragqueue.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	ragqueue.EUNSUPPORTED: http.StatusUnsupportedMediaType,
	ragqueue.ERATELIMIT:   http.StatusTooManyRequests,
	ragqueue.EUNAVAILABLE: http.StatusServiceUnavailable,
	ragqueue.ETIMEOUT:     http.StatusGatewayTimeout,
	ragqueue.EINTERNAL:    http.StatusInternalServerError,
	"method_not_allowed":  http.StatusMethodNotAllowed,
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
	JobID string      `json:"job_id,omitempty"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// normalize turns errors from the standard library that are the client's
// fault into *ragqueue.Error, so that the table above decides their status.
func normalize(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ragqueue.Errorf(ragqueue.ETOOLARGE,
			"the request body is larger than the %d byte limit (RAGQ_MAX_UPLOAD_BYTES)", tooLarge.Limit)
	}
	return err
}

// fail writes err as a JSON error response and logs internal errors with
// their full chain, which the client never sees.
func (s *server) fail(c *gin.Context, err error) {
	s.failWith(c, err, "")
}

func (s *server) failWith(c *gin.Context, err error, jobID string) {
	err = normalize(err)
	code, status := statusOf(err)
	if status >= 500 {
		s.logger.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("path", c.FullPath()),
			slog.String("error", err.Error()))
	}
	c.AbortWithStatusJSON(status, errorBody{
		Error: errorDetail{Code: code, Message: ragqueue.ErrorMessage(err)},
		JobID: jobID,
	})
}

// statusOf returns err's code and the HTTP status the table gives it (500
// for a code it does not know); err should already be normalized.
func statusOf(err error) (code string, status int) {
	code = ragqueue.ErrorCode(err)
	if status, ok := statusByCode[code]; ok {
		return code, status
	}
	return code, http.StatusInternalServerError
}

// invalid is shorthand for a 400 with a message that says what to fix.
func invalid(format string, args ...any) error {
	return ragqueue.Errorf(ragqueue.EINVALID, format, args...)
}
