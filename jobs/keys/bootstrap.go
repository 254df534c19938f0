package keys

import (
	"context"
	"fmt"
	"io"

	"github.com/ragqueue/ragqueue"
)

// Bootstrap makes sure an operator can get in: configured (RAGQ_ADMIN_KEY)
// is registered as an admin key of DefaultTenant if it is not yet, and
// when none is configured and no key exists, one is generated and written
// to out, once.
func (s *Service) Bootstrap(ctx context.Context, configured string, out io.Writer) error {
	if configured != "" {
		_, err := s.keys.KeyByHash(ctx, hashOf(configured))
		if err == nil {
			return nil
		} else if !ragqueue.IsNotFound(err) {
			return fmt.Errorf("keys: look up RAGQ_ADMIN_KEY: %w", err)
		}
		if err := s.keys.CreateKey(ctx, record(configured, DefaultTenant, ragqueue.RoleAdmin)); err != nil {
			return fmt.Errorf("keys: register RAGQ_ADMIN_KEY: %w", err)
		}
		s.logger.Info("registered RAGQ_ADMIN_KEY as an admin key", "tenant", DefaultTenant)
		return nil
	}
	n, err := s.keys.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: count keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	if err := s.keys.CreateKey(ctx, record(secret, DefaultTenant, ragqueue.RoleAdmin)); err != nil {
		return fmt.Errorf("keys: create admin key: %w", err)
	}
	s.logger.Info("generated the first admin key; it is shown once on stderr", "tenant", DefaultTenant)
	_, err = fmt.Fprintf(out, "\nragqueue: admin API key for tenant %q (shown once, keep it):\n\n    %s\n\n", DefaultTenant, secret)
	return err
}
