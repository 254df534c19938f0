// Package web fetches and crawls web pages for ingestion, safely: every
// outbound request goes through one SSRF-guarded transport (NewTransport,
// NewClient) that checks the address actually dialled, re-checks every
// redirect hop, and refuses loopback, private, link-local (cloud metadata),
// multicast and reserved ranges unless they are allow-listed. Fetcher turns
// one URL into readable text (Page); Crawl follows links politely (robots.txt,
// Crawl-delay, per-host parallelism) with colly.
//
// Nothing here reads the environment (colly's COLLY_* variables are
// overridden) or keeps package-level state: callers build GuardOptions from
// their configuration (see ParseAllowCIDRs for RAGQ_FETCH_ALLOW_CIDRS).
package web
