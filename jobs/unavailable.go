package jobs

import (
	"fmt"

	"github.com/ragqueue/ragqueue"
)

// Unavailable marks the failure of a dependency (what: "the job queue",
// "the search index") as EUNAVAILABLE rather than EINTERNAL, so that clients
// hear "try again shortly". Errors that already carry a client-facing code
// keep it.
func Unavailable(what string, err error) error {
	if ragqueue.ErrorCode(err) != ragqueue.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s: %w: %w", what, err, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "%s is unavailable; try again shortly", what))
}
