package main

import (
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// rateLimit counts the request against its key's general budget
// (RAGQ_RATE_LIMIT_RPS/BURST); put it behind authenticate.
func (s *server) rateLimit() gin.HandlerFunc {
	r := ragqueue.Rate{Events: s.cfg.RateLimitRPS, Per: time.Second, Burst: s.cfg.RateLimitBurst}
	return s.limitBy("key:", r, "RAGQ_RATE_LIMIT_RPS and RAGQ_RATE_LIMIT_BURST")
}

// rateLimitExpensive counts the request against its key's budget for
// expensive routes, those that run an LLM or a crawl
// (RAGQ_RATE_LIMIT_EXPENSIVE_RPM), on top of the general one; its burst is
// a fifth of a minute's worth, at least one.
func (s *server) rateLimitExpensive() gin.HandlerFunc {
	rpm := s.cfg.RateLimitExpensiveRPM
	r := ragqueue.Rate{Events: rpm, Per: time.Minute, Burst: max(1, rpm/5)}
	return s.limitBy("expensive:", r, "RAGQ_RATE_LIMIT_EXPENSIVE_RPM")
}

// limitBy answers 429 once the key has spent its budget r, and tells the
// client where it stands with the IETF RateLimit headers. If Redis cannot
// be asked, the request goes through (fail open) with a warning: /readyz
// already reports Redis, and refusing every request would turn a queue
// outage into an API outage.
func (s *server) limitBy(prefix string, r ragqueue.Rate, settings string) gin.HandlerFunc {
	if s.limiter == nil || r.Unlimited() {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		k := key(c)
		d, err := s.limiter.Allow(c.Request.Context(), prefix+k.ID, r)
		if err != nil {
			s.logger.Warn("rate limit unavailable; letting the request through",
				"request_id", c.GetString(ctxRequestID), "key_id", k.ID, "error", err)
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.ResetAfter)))
		if !d.Allowed {
			retry := max(1, ceilSeconds(d.RetryAfter))
			h.Set("Retry-After", strconv.Itoa(retry))
			s.fail(c, ragqueue.Errorf(ragqueue.ERATELIMIT,
				"this API key is over its rate limit of %d per %s with bursts of %d (%s); retry in %d s",
				r.Events, perName(r.Per), d.Limit, settings, retry))
			return
		}
		c.Next()
	}
}

// ceilSeconds rounds d up to whole seconds, as the headers want them.
func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

func perName(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	}
	return d.String()
}
