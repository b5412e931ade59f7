GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/switchboardhq/switchboard/core.Version=$(VERSION)
PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
# ADDR is empty unless given (make run ADDR=host:port): serve then reads its
# env twin SWITCHBOARD_ADDR, or its own default.
ADDR    ?=

.PHONY: all build run test test-short bench proto vet fmt clean

all: build

## build: the hub into bin/switchboard and every plugin into bin/plugins/
build:
	@mkdir -p bin/plugins
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/switchboard ./cmd/switchboard
	@for p in $(PLUGINS); do \
		echo "$(GO) build -o bin/plugins/$$p ./plugins/$$p"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/plugins/$$p ./plugins/$$p || exit 1; \
	done

## run: build, then serve on the embedded SQLite database under ./data/
run: build
	@echo
	@echo "Starting Switchboard on http://$(or $(ADDR),$(SWITCHBOARD_ADDR),127.0.0.1:8080) (SQLite at ./data/switchboard.db)."
	@echo "In another terminal, create an admin token:"
	@echo "  bin/switchboard admin create-token --workspace default"
	@echo
	bin/switchboard serve$(if $(ADDR), --addr $(ADDR))

## test: every test; PostgreSQL too when SWITCHBOARD_TEST_DATABASE_URL is set
test: vet
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	$(GO) test -count=1 -short ./...

## bench: the Go benchmarks (the load generator is `switchboard bench`)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## proto: regenerate the plugin protocol's Go code (needs protoc, protoc-gen-go, protoc-gen-go-grpc)
proto:
	cd plugins/proto && PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative channel.proto

## vet: go vet, gofmt, and go.mod/go.sum exactly as `go mod tidy` leaves them
vet:
	@$(GO) mod tidy -diff || (echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1)
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
