# ragqueue — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go

.PHONY: run test deps vet fmt-check bench build

## run: start ragqueue in embedded mode on :8080 (in-process Redis, SQLite in ./data)
run:
	$(GO) run ./cmd/api

## build: static binaries in ./bin
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

## test: install what the tests need if missing, then gofmt, vet and race tests
test: deps fmt-check vet
	$(GO) test -race -count=1 -timeout 25m ./...

## deps: redis-server and the PostgreSQL 15 server binaries (the tests start their own, on loopback)
deps:
	@bash scripts/test-deps.sh

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: the figures named in the issues (real redis-server; no timed assertions anywhere)
bench: deps
	$(GO) test -run='^$$' -bench=BenchmarkEnqueueProcess -count=3 ./jobs/
	$(GO) test -run='^$$' -bench='BenchmarkIngest1000|BenchmarkPDFIngest|BenchmarkCrawl|BenchmarkCacheHit|BenchmarkSSESubscribers' -benchtime=1x -count=1 ./cmd/api/ ./ingest/web/
	$(GO) test -run='^$$' -bench='BenchmarkTimeToFirstToken' -benchtime=200x -count=1 ./cmd/api/
	$(GO) test -run='^$$' -bench='BenchmarkLoadSearchAndQueries' -benchtime=1x -count=1 ./cmd/api/
	$(GO) test -run='^$$' -bench=BenchmarkPDF -benchtime=1x -count=1 ./ingest/pdf/
	$(GO) test -run='^$$' -bench=. -benchtime=100x -count=1 ./storage/sqlite/ ./storage/qdrant/
	$(GO) test -run='^$$' -bench=. -count=1 ./retrieval/ ./retrieval/provider/
	$(GO) test -run='^$$' -bench=BenchmarkEmbedThroughput -benchtime=2x -count=1 ./jobs/documents/
	$(GO) run ./cmd/eval -data cmd/eval/testdata/beir-gospec
