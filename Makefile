# Course Supporter. `make run` starts everything locally; `make test` runs
# every test, integration tests included. See README.md.
SHELL := bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/course-supporter
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILDDATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILDDATE)
GOLANGCI  ?= $(shell command -v golangci-lint || echo $$($(GO) env GOPATH)/bin/golangci-lint)

.PHONY: help run test test-short lint build fmt clean bench bench-load-smoke

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## local PostgreSQL + versitygw, migrate, dev key, API on :8000
	@scripts/run-dev.sh

test: ## every test, integration tests included, with the race detector
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## every test without the race detector (faster feedback)
	$(GO) test -count=1 ./...

lint: ## gofmt check, go mod tidy check, go vet, golangci-lint
	@out=$$(gofmt -l app migrations); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy; run: go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(GO) vet ./...
	$(GOLANGCI) run ./...

build: ## static binary in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./app/cmd/course-supporter

bench: ## every benchmark, 3 runs each, one table (docs/performance.md; needs root like make run)
	@bench/all.sh

fmt: ## format the code
	gofmt -w app migrations

clean: ## remove build outputs
	rm -rf bin

# Extra target groups (infrastructure and documentation tests) live in mk/.
-include mk/*.mk

bench-load-smoke: ## short load test (20 clients, 10 s) with its checks; exits non-zero on a 5xx or a lost write
	@bench/load/run.sh --smoke
