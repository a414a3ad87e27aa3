# kubedyn — build and test targets. `make test` runs every test, the
# real-server suite included; it builds kube-apiserver and etcd on first use
# and caches them.

GO       ?= go
GOTEST   ?= $(GO) test -race -count=1

.PHONY: test unit lint vet bench depcheck examples

test: vet depcheck unit examples

unit:
	$(GOTEST) ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

lint: vet

# Imports must point downward only (docs/architecture.md).
depcheck:
	@./internal/tools/depcheck.sh

examples:
	$(GO) build ./examples/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
