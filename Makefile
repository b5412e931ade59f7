GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/switchboardhq/switchboard/core.Version=$(VERSION)
PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
# ADDR is empty unless given (make run ADDR=host:port): serve then reads its
# env twin SWITCHBOARD_ADDR, or its own default.
ADDR    ?=
# FUZZTIME is how long `make fuzz` runs each fuzz target. FUZZFLAGS adds
# flags such as -parallel 1 on a shared machine; the short minimisation keeps
# a worker from spending the whole run shrinking one large new input.
FUZZTIME  ?= 30s
FUZZFLAGS ?= -fuzzminimizetime=5s

.PHONY: all build run test test-short bench soak gobench fuzz proto vet fmt clean screenshots

all: build

## build: the hub into bin/switchboard, every plugin into bin/plugins/ with its manifest
build:
	@mkdir -p bin/plugins
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/switchboard ./cmd/switchboard
	@for p in $(PLUGINS); do \
		echo "$(GO) build -o bin/plugins/$$p ./plugins/$$p"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/plugins/$$p ./plugins/$$p || exit 1; \
	done
	@# The hub starts only plugins that match their manifests: vouch for the ones just built.
	bin/switchboard plugins manifest --plugin-dir bin/plugins $(PLUGINS)

## run: build, then serve on the embedded SQLite database under ./data/
run: build
	@echo
	@echo "Starting Switchboard (SQLite at ./data/switchboard.db)."
	@echo "Admin UI: http://$(or $(ADDR),$(SWITCHBOARD_ADDR),127.0.0.1:8080)/"
	@echo "To log in, create a login first, in another terminal:"
	@echo "  bin/switchboard admin create-user --workspace default --email you@example.com --password 'at least 8 characters'"
	@echo "For the JSON API, an admin token:"
	@echo "  bin/switchboard admin create-token --workspace default"
	@echo
	bin/switchboard serve$(if $(ADDR), --addr $(ADDR))

## test: every test; PostgreSQL too when SWITCHBOARD_TEST_DATABASE_URL is set
test: vet
	$(GO) test -count=1 -timeout 20m ./...
	@# The example third-party plugin is a module of its own.
	cd examples/telegram && $(GO) test -count=1 ./...

test-short:
	$(GO) test -count=1 -short ./...

## screenshots: the admin UI's pictures in docs/images/, taken in headless Chromium from a hub with sample data
screenshots:
	SWITCHBOARD_SCREENSHOTS=$(CURDIR)/docs/images $(GO) test -count=1 -run '^TestScreenshots$$' ./adminui/
	@ls -l docs/images/*.png

# BENCHFLAGS is passed to the suite: -quick for a smoke run, -db sqlite for one
# database (go run ./cmd/benchsuite -h lists them). SOAKFLAGS likewise to the soak.
BENCHFLAGS ?=
SOAKFLAGS  ?=

## bench: the benchmark suite (cmd/benchsuite): every scenario on SQLite and on PostgreSQL (started as CI
## starts it), beside a bare-HTTP ceiling of the same run, written into docs/benchmarks.md (about 15 minutes)
bench: build
	$(GO) run ./cmd/benchsuite $(BENCHFLAGS)

## soak: 10 minutes at half the saturated ingest rate, watching the hub's memory; figures into docs/benchmarks.md
soak: build
	$(GO) run ./cmd/benchsuite -soak $(SOAKFLAGS)

## gobench: every Go benchmark once (the load generator is `switchboard bench`)
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: every fuzz target in turn, FUZZTIME each (`make test` runs their seed corpora as plain tests)
fuzz:
	@for f in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go')); do \
		pkg=./$$(dirname $$f); \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "$(GO) test $$pkg -run '^$$' -fuzz '^$$t$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) || exit 1; \
		done; \
	done

## proto: regenerate the plugin protocol's Go code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
proto:
	cd plugins/proto && PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative channel.proto

## vet: go vet, gofmt, and go.mod/go.sum exactly as `go mod tidy` leaves them
vet:
	@$(GO) mod tidy -diff || (echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1)
	$(GO) vet ./...
	cd examples/telegram && $(GO) mod tidy -diff && $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
