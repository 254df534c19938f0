package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
)

// NewTask is the one place an Asynq task is made: it encodes args as JSON
// under args.Kind(), with the args' own task ID (ArgsWithID) and default
// options followed by opts.
func NewTask[T Args](args T, opts ...asynq.Option) (*asynq.Task, error) {
	payload, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode %s args: %w", args.Kind(), err)
	}
	if wo, ok := any(args).(ArgsWithOptions); ok {
		opts = append(wo.TaskOptions(), opts...)
	}
	if wi, ok := any(args).(ArgsWithID); ok {
		opts = append([]asynq.Option{asynq.TaskID(wi.TaskID())}, opts...)
	}
	return asynq.NewTask(args.Kind(), payload, opts...), nil
}

// Register routes tasks of T's kind on mux to fn, decoding the JSON payload
// into a T first. A payload that does not decode or validate can never
// succeed, so it fails with an error wrapping asynq.SkipRetry and is archived
// at once rather than retried.
func Register[T Args](mux *asynq.ServeMux, fn func(ctx context.Context, args T) error) {
	var zero T
	kind := zero.Kind()
	mux.HandleFunc(kind, func(ctx context.Context, t *asynq.Task) error {
		// ServeMux matches by prefix; refuse "ingest:parse2" on "ingest:parse".
		if t.Type() != kind {
			return fmt.Errorf("jobs: no handler for task type %q: %w", t.Type(), asynq.SkipRetry)
		}
		args, err := decodeArgs[T](t.Payload())
		if err != nil {
			return fmt.Errorf("jobs: %s: %w: %w", kind, err, asynq.SkipRetry)
		}
		if la, ok := any(args).(logAttrser); ok {
			if info := taskInfoFrom(ctx); info != nil {
				info.attrs = la.logAttrs()
			}
		}
		return fn(ctx, args)
	})
}

// decodeArgs decodes and validates a payload. Unknown fields are accepted so
// that a newer producer does not break an older worker during a rollout.
func decodeArgs[T Args](payload []byte) (T, error) {
	var args T
	if err := json.Unmarshal(payload, &args); err != nil {
		return args, ragqueue.Errorf(ragqueue.EINVALID, "bad payload: %v", err)
	}
	if v, ok := any(args).(validator); ok {
		if err := v.validate(); err != nil {
			return args, ragqueue.Errorf(ragqueue.EINVALID, "bad payload: %v", err)
		}
	}
	return args, nil
}
