package jobs

import (
	"github.com/ragqueue/ragqueue"
)

// Store is everything the jobs layer needs from the metadata database.
type Store interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.JobStore
	ragqueue.CrawlStore
	ragqueue.ConversationStore
	ragqueue.CacheStore
}
