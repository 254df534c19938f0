package queries

// ReconfigureForTest returns a Service over s's Config as change alters it
// (the shared test env builds Services without the API-side fields:
// Signed, Canceler, a MaxURLs of 0).
func ReconfigureForTest(s *Service, change func(*Config)) *Service {
	cfg := s.cfg
	change(&cfg)
	return New(cfg)
}
