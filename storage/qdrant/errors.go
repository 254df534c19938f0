package qdrant

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ragqueue/ragqueue"
)

// mapErr gives the errors a user should see their ragqueue code: Qdrant
// unreachable is EUNAVAILABLE, a deadline that ran out ETIMEOUT, Qdrant's
// rate limit ERATELIMIT. The original error stays in the chain.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var code, msg string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code, msg = ragqueue.ETIMEOUT, "the search index did not answer in time"
	default:
		st, ok := status.FromError(err)
		if !ok {
			return err
		}
		switch st.Code() {
		case codes.Unavailable:
			code, msg = ragqueue.EUNAVAILABLE, "the search index is unavailable"
		case codes.DeadlineExceeded:
			code, msg = ragqueue.ETIMEOUT, "the search index did not answer in time"
		case codes.ResourceExhausted:
			code, msg = ragqueue.ERATELIMIT, "the search index is overloaded, retry later"
		default:
			return err
		}
	}
	return fmt.Errorf("%w: %w", ragqueue.Errorf(code, "%s", msg), err)
}

// isCode reports whether err carries the gRPC status code c.
func isCode(err error, c codes.Code) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == c
}
