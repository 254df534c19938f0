package pgtest

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Pause stops the server as an outage would (a fast shutdown: open
// connections are cut), keeping its data, so that a test can watch its
// clients cope while PostgreSQL is away. Resume starts it again.
func (c *Cluster) Pause() error {
	if c.err != nil {
		return c.err
	}
	if c.cmd == nil {
		return errors.New("pgtest: pause: the server is not running")
	}
	c.shutdown(syscall.SIGINT, 30*time.Second) // fast shutdown
	return nil
}

// Resume starts a paused server again on the same port and data, and waits
// until it accepts connections. Clients keep their DSNs.
func (c *Cluster) Resume(ctx context.Context) error {
	if c.err != nil {
		return c.err
	}
	if c.cmd != nil {
		return errors.New("pgtest: resume: the server is running")
	}
	if err := c.startOn(ctx, c.bindir, c.data, c.cred, c.port); err != nil {
		return fmt.Errorf("pgtest: resume on port %d: %w", c.port, err)
	}
	return nil
}
