package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retryable reports whether err, returned by an Embedder or Generator of
// this package, is worth trying again later: the provider was unreachable,
// overloaded, rate limiting or too slow. Permanent failures (bad key,
// unknown model, rejected input) are ragqueue EINVALID and not retryable.
func Retryable(err error) bool {
	switch ragqueue.ErrorCode(err) {
	case ragqueue.EUNAVAILABLE, ragqueue.ETIMEOUT:
		return true
	}
	return false
}

// classify turns the error of a provider call into one the caller can act
// on: the caller's own cancellation passes through; our timeout becomes
// ETIMEOUT; an HTTP failure becomes EUNAVAILABLE (429, 5xx, network) or
// EINVALID (other 4xx), with the provider's message. parent is the
// caller's context, call the one with the call's timeout.
func classify(parent, call context.Context, st *callState, what string, err error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("%s: %w", what, perr)
	}
	if errors.Is(call.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, ragqueue.Errorf(ragqueue.ETIMEOUT, "%s: the provider did not answer in time", what))
	}
	attempts, code, msg, _ := st.snapshot()
	if code >= 400 {
		if msg == "" {
			msg = err.Error()
		}
		c := ragqueue.EINVALID
		if retryableStatus(code) {
			c = ragqueue.EUNAVAILABLE
		}
		return fmt.Errorf("%s: %w", what, ragqueue.Errorf(c, "%s: provider answered %d after %d attempt(s): %s", what, code, attempts, msg))
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.OK && s.Code() != codes.Unknown {
		c := ragqueue.EINVALID
		if grpcRetryable(s.Code()) {
			c = ragqueue.EUNAVAILABLE
		}
		return fmt.Errorf("%s: %w", what, ragqueue.Errorf(c, "%s: provider answered %s: %s", what, s.Code(), s.Message()))
	}
	if code == 0 && attempts > 0 {
		// No response at all: the provider is unreachable.
		return fmt.Errorf("%s: %w", what, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "%s: provider unreachable after %d attempt(s): %v", what, attempts, err))
	}
	// A response came but could not be used, or the client (mistral,
	// googleai) does not go through our transport: the message is all we
	// have, and trying again may help.
	return fmt.Errorf("%s: %w", what, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "%s: %v", what, err))
}

func grpcRetryable(c codes.Code) bool {
	switch c {
	case codes.ResourceExhausted, codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.Internal:
		return true
	}
	return false
}
