# houqin — `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
DATA  ?= ./data
HTTP  ?= 127.0.0.1:8080

.PHONY: help run build web test test-short bench lint fuzz clean

# The web app's sources: a change rebuilds web/dist/app, which the binary
# embeds (package web).
WEB_SRC := $(shell find web/src -type f -not -name schema.d.ts 2>/dev/null) web/index.html web/package.json \
	web/package-lock.json web/vite.config.ts web/tsconfig.json api/openapi.json

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

run: web ## run houqin on this machine: houqin dev with the web app, data in ./data, on 127.0.0.1:8080
	$(GO) run ./cmd/houqin dev --data $(DATA) --http $(HTTP)

build: web ## build bin/houqin, the web app in it
	$(GO) build -o bin/houqin ./cmd/houqin

web: web/dist/app/index.html ## build the web app (npm ci, typed client, type check, Vite) when its sources changed

web/dist/app/index.html: $(WEB_SRC)
	scripts/build-web.sh

# Packages that embed the Temporal server (devserver, cmd/houqin) run without
# the race detector: a race build of the server is another 15-minute cold
# compile. Everything else runs with it.
SERVER_PKGS := ./devserver ./cmd/houqin
RACE_PKGS    = $(shell $(GO) list ./... | grep -v -e /devserver -e /cmd/houqin)

test: web ## all tests against SQLite, a throwaway PostgreSQL and the embedded Temporal server; the alert rules with promtool; the OpenAPI lint; the web app in headless Chromium
	$(GO) vet ./...
	scripts/check-prometheus.sh
	scripts/lint-openapi.sh
	scripts/test-web.sh
	scripts/ensure-browser.sh
	scripts/with-postgres.sh sh -c '$(GO) test -race -count=1 $(RACE_PKGS) && HOUQIN_BROWSER_TESTS=required $(GO) test -count=1 -timeout 20m $(SERVER_PKGS)'

test-short: ## quick tests: no PostgreSQL (its tests skip, visibly), no embedded Temporal server
	$(GO) test -short ./...


bench: ## benchmarks of docs/BENCHMARKS.md (SQLite and PostgreSQL), with their baselines
	scripts/with-postgres.sh scripts/bench.sh

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvent -fuzztime $${FUZZTIME:-30s} -fuzzminimizetime 5s .
	$(GO) test -run '^$$' -fuzz FuzzAppend -fuzztime $${FUZZTIME:-30s} -fuzzminimizetime 5s ./sqlite/

lint: ## gofmt, go vet, and staticcheck if installed
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

clean: ## remove build output (not ./data)
	rm -rf bin
