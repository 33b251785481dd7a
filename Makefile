# shortlinks — the two commands a newcomer needs are `make run` and `make test`.
GO  ?= go
BIN := bin/shortlinks

.PHONY: build run test check lint-migrations generate fuzz bench bench-scale bench-upgrade soak clean

FUZZTIME ?= 30s

## build: compile the binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/shortlinks

## run: start the app; without DATABASE_URL it starts a local PostgreSQL in .data/
run: build
	LOG_FORMAT=$${LOG_FORMAT:-text} exec ./$(BIN) dev

## test: the whole suite with the race detector; without TEST_DATABASE_URL it
## starts a throwaway PostgreSQL and removes it afterwards (20 min per package
## at most: handlers took over 10 on a 2-core machine shared by 8). Tests mostly wait
## on PostgreSQL, each in its own database, so 4 run at once even on 2 cores.
## GORACE=atexit_sleep_ms=0: a race-enabled binary otherwise sleeps 1 s as it
## exits (for reports still being printed; a test binary reports each race
## as it happens and fails), 1 s per package.
test:
	GORACE=atexit_sleep_ms=0 $(GO) run ./cmd/withpg -- $(GO) test -race -count=1 -parallel 4 -timeout 20m ./...

## check: formatting, vet, generated files are up to date, and the alerting
## rules in docs/ops check and pass their unit tests (promtool, Debian's
## prometheus package) (CI runs this too)
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool templ generate
	@git diff --exit-code --stat -- views || (echo "generated templ files were stale: commit the output of 'go tool templ generate'"; exit 1)
	@command -v promtool >/dev/null || (echo "promtool not found: apt-get install prometheus (it checks docs/ops/alerts.yml)"; exit 1)
	promtool check rules docs/ops/alerts.yml
	promtool test rules docs/ops/alerts_test.yml
	$(MAKE) --no-print-directory lint-migrations

## lint-migrations: squawk (the PostgreSQL migration linter) over migrations/,
## installed by npm into .data/squawk at the pinned version. Files that goose
## runs in a transaction are linted as such (an index on a table created in
## the same transaction needs no CONCURRENTLY); the NO TRANSACTION files are
## linted as they run, statement by statement. Any warning fails the check.
## Rules excluded, and why:
##   prefer-bigint-over-int, prefer-bigint-over-smallint: not about locking;
##     the column types are the existing schema, which the online rewrites
##     must keep exactly (migrations/schema_test.go compares the catalog).
## Down sections drop tables and columns on purpose; each such statement
## carries a squawk-ignore comment rather than the rule being excluded.
SQUAWK_VERSION := 2.66.0
SQUAWK := .data/squawk/node_modules/.bin/squawk
SQUAWK_FLAGS := --pg-version=15 --exclude=prefer-bigint-over-int,prefer-bigint-over-smallint
lint-migrations:
	@if ! $(SQUAWK) --version 2>/dev/null | grep -qx 'squawk $(SQUAWK_VERSION)'; then \
		echo "installing squawk-cli@$(SQUAWK_VERSION) into .data/squawk"; \
		npm install --no-save --no-audit --no-fund --prefix .data/squawk squawk-cli@$(SQUAWK_VERSION) >/dev/null; fi
	$(SQUAWK) $(SQUAWK_FLAGS) --assume-in-transaction $$(grep -L -- '-- +goose NO TRANSACTION' migrations/*.sql)
	$(SQUAWK) $(SQUAWK_FLAGS) $$(grep -l -- '-- +goose NO TRANSACTION' migrations/*.sql)

## bench: redirect throughput and latency against constant-302 Echo and net/http
## servers in the same run, uncached redirects against pgbench -S, then click
## counts checked after SIGTERM (needs wrk and pgbench)
bench: build
	$(GO) run ./cmd/bench -server $(BIN)

## bench-scale: every admin page, list API, search and results window at
## SCALE_LINKS links (default 10,000,000) and at 100,000, side by side. The
## datasets are built once into .data/benchscale (minutes for 10M) and reused.
## SCALE_DUPLICATES=1 also times the heal migration and its rollback with 1%
## duplicates; SCALE_EXPORT=0 skips the full CSV export; SCALE_PG_PORT and
## SCALE_ADDR pin the ports (on a shared machine).
bench-scale: build
	$(GO) run ./cmd/benchscale -server $(BIN)

## bench-upgrade: a database at schema version 3 with UPGRADE_LINKS links
## (default 10,000,000; e.g. UPGRADE_LINKS=200000 for a quick run) and 1%
## duplicates, upgraded by `migrate up` (which heals) while cold redirects,
## creates and click flushes run; then a server of this code under HTTP load
## while the unique index is dropped and `shortlinks heal` rebuilds it; then
## `migrate down-to 3` and up again. Prints per kind of operation the longest
## single wait and the errors, and each migration's time. UPGRADE_DATABASE_URL
## picks the PostgreSQL server (default: a private one in .data/benchupgrade).
bench-upgrade: build
	$(GO) run ./cmd/benchupgrade -server $(BIN)

## fuzz: run each fuzz target for FUZZTIME (new failures land in testdata/fuzz)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) ./handlers/urlpolicy/
	$(GO) test -run '^$$' -fuzz '^FuzzCount$$' -fuzztime $(FUZZTIME) ./handlers/campaign/

## soak: two instances, one database, mixed traffic for SOAK_DURATION (default 2m),
## then a third instance killed with SIGKILL: clicks lost vs one flush interval
SOAK_DURATION ?= 2m
soak: build
	$(GO) run ./cmd/soak -duration $(SOAK_DURATION) -bin $(BIN)

## generate: regenerate templ components
generate:
	$(GO) tool templ generate

clean:
	rm -rf bin
