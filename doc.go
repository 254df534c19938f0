// Package ragqueue is the domain of ragqueue: the records every layer talks
// about (Document and its versions, Chunk, Job and its states, Crawl,
// Conversation and Turn, CacheEntry, Key and its roles, AuditEntry, Event),
// the one error type whose codes the API maps to HTTP statuses, and the small
// store interfaces the use cases need, one per concept. It imports no other
// package of this module: use cases (jobs/...), parsers (ingest), ranking
// (retrieval) and adapters (storage/...) all depend on it, never the reverse.
package ragqueue
