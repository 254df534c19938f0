package documents_test

import (
	"testing"

	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// redisServer is the package's redis-server; each test takes a database of
// its own with redisServer.NewDB(t).
var redisServer *redistest.Server

func TestMain(m *testing.M) { jobstest.Main(m, &redisServer) }
