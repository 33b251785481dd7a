# shortlinks — the two commands a newcomer needs are `make run` and `make test`.
GO  ?= go
BIN := bin/shortlinks

.PHONY: build run test check generate fuzz bench bench-scale soak clean

FUZZTIME ?= 30s

## build: compile the binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/shortlinks

## run: start the app; without DATABASE_URL it starts a local PostgreSQL in .data/
run: build
	LOG_FORMAT=$${LOG_FORMAT:-text} exec ./$(BIN) dev

## test: the whole suite with the race detector; without TEST_DATABASE_URL it
## starts a throwaway PostgreSQL and removes it afterwards. Tests mostly wait
## on PostgreSQL, each in its own database, so 4 run at once even on 2 cores.
test:
	$(GO) run ./cmd/withpg -- $(GO) test -race -count=1 -parallel 4 ./...

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

## bench: redirect throughput and latency against constant-302 Echo and net/http
## servers in the same run, uncached redirects against pgbench -S, then click
## counts checked after SIGTERM (needs wrk and pgbench)
bench: build
	$(GO) run ./cmd/bench -server $(BIN)

## bench-scale: every admin page and list API at SCALE_LINKS links (default
## 10,000,000) and at 100,000, side by side. The datasets are built once into
## .data/benchscale (minutes for 10M) and reused. SCALE_DUPLICATES=1 also times
## the heal migration and its rollback with 1% duplicates; SCALE_EXPORT=0 skips
## the full CSV export.
bench-scale: build
	$(GO) run ./cmd/benchscale -server $(BIN)

## fuzz: run each fuzz target for FUZZTIME (new failures land in testdata/fuzz)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) ./handlers/urlpolicy/
	$(GO) test -run '^$$' -fuzz '^FuzzCount$$' -fuzztime $(FUZZTIME) ./handlers/sms/

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
