# kubedyn — build and test targets.
#
#   make test    every test with -race: unit, test-server and real-server suites.
#                The first run builds kube-apiserver, kube-controller-manager
#                and kube-scheduler v1.37.2, etcd and the node agent from Go
#                modules (internal/realserver) and caches them under
#                ~/.cache/kubedyn/realserver; later runs reuse the cache.
#   make unit    the same tests without prebuilding the real server (the
#                real-server packages still build it on first use).
#   make e2e     only the real-server suites (internal/e2e, internal/cluster,
#                internal/fidelity).
#   make bench   kubedyn against client-go v0.37.2, same work, interleaved, on
#                the test server and a real kube-apiserver (internal/bench, its
#                own module): prints one table; BENCH_OUT keeps every run in
#                benchmark format (benchstat, and the chart in
#                docs/performance.svg: make bench-chart). A few minutes.
#   make microbench  every micro-benchmark of the packages, once.
#   make parity  discovery's name resolution against kubectl's (client-go's
#                RESTMapper) over the same documents (internal/kubectlparity,
#                its own module so k8s.io stays out of go.mod).
#   make interop connect against client-go's remotecommand and portforward
#                on the whole control plane (internal/connectinterop).

GO       ?= go
# One timeout for the whole binary: a cold real-server build inside a test
# binary takes minutes on two cores, so the default 10m is too tight.
GOTEST   ?= $(GO) test -race -count=1 -timeout 30m
E2E_PKGS := ./internal/e2e/... ./internal/cluster/... ./internal/fidelity/...

.PHONY: test unit e2e lint vet bench bench-chart benchcheck microbench depcheck examples realserver fuzz parity interop

test: vet depcheck realserver unit examples parity benchcheck interop

unit:
	$(GOTEST) ./...

e2e: realserver
	$(GOTEST) $(E2E_PKGS)

# Builds (or finds in the cache) the control plane binaries.
realserver:
	$(GO) run ./internal/cluster/cmd/ensure

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

lint: vet depcheck

# Imports must point downward only (docs/architecture.md).
depcheck:
	@./internal/tools/depcheck.sh

# Every program under examples/ builds; each has a test that runs it
# against internal/testserver as part of `make unit`.
examples:
	$(GO) build ./examples/...

parity:
	cd internal/kubectlparity && $(GO) vet . && $(GO) test -count=1 .

# connect's exec and port-forward against client-go's remotecommand and
# portforward on the whole control plane (internal/connectinterop, its own
# module so k8s.io stays out of go.mod): same bytes, same exit codes.
interop: realserver
	cd internal/connectinterop && $(GO) vet . && $(GO) test -race -count=1 -timeout 30m .

BENCH_OUT   ?= $(CURDIR)/bench.out
BENCH_FLAGS ?=
bench: realserver
	cd internal/bench && $(GO) run . -raw $(abspath $(BENCH_OUT)) $(BENCH_FLAGS)

# Redraws docs/performance.svg from the runs make bench kept in BENCH_OUT.
bench-chart:
	cd internal/bench && $(GO) run . -chart $(abspath $(BENCH_OUT)) > ../../docs/performance.svg

# make test runs every measurement of internal/bench once at a tiny size, so
# the benchmark cannot rot; make bench is the long run.
benchcheck:
	cd internal/bench && $(GO) vet . && $(GO) test -count=1 -run TestSmall .

microbench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A short run of every fuzz target (go test accepts one -fuzz target per package).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg || exit 1; \
	  done; \
	done
