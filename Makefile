# Edgeplane developer targets. `make` builds both binaries into ./bin.

GO        ?= go
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
MODULE    := github.com/edgeplane/edgeplane
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Both binaries print pkg/version.Version (edged --version, edgectl version);
# tests/e2e/version_test.go builds through this target and checks both.
LDFLAGS   := -X $(MODULE)/pkg/version.Version=$(VERSION)
BINDIR    ?= bin
PROTOS    := proto/edge/v1/node.proto proto/edge/v1/kv.proto proto/edge/v1/consensus.proto proto/edge/v1/do.proto proto/edge/v1/do_room.proto

.PHONY: all build test vet fmt-check proto proto-tools bench-kv bench-d1 bench-wrk bench-do run

all: build

## build: compile edged and edgectl into ./bin (BINDIR), stamped with VERSION
build:
	mkdir -p $(BINDIR)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BINDIR)/ ./cmd/edged ./cmd/edgectl

## test: every package's tests with the race detector
test:
	$(GO) test -race -count=1 ./...

## vet: go vet on every package
vet:
	$(GO) vet ./...

## fmt-check: fail when any Go file is not gofmt-formatted
fmt-check:
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## proto: regenerate the committed Go code of proto/ (needs `make proto-tools` once)
proto:
	PATH="$(GOBIN_DIR):$$PATH" protoc -I proto \
		--go_out=. --go_opt=module=$(MODULE) \
		--go-grpc_out=. --go-grpc_opt=module=$(MODULE) \
		$(PROTOS)

## proto-tools: install protoc (Debian) and the pinned Go plugins
proto-tools:
	bash scripts/install-protoc.sh

## bench-kv: KV throughput and latency against a running edged, side by side with Redis and etcd
## (installs and starts them on 127.0.0.1 with scripts/bench-peers.sh); EDGE_ENDPOINT/EDGE_TOKEN select the node
bench-kv: build
	@eval "$$(bash scripts/bench-peers.sh start)"; \
	bin/edgectl bench kv --redis "$$REDIS" --etcd "$$ETCD" $(BENCH_FLAGS); rc=$$?; \
	bash scripts/bench-peers.sh stop; exit $$rc

## bench-d1: D1 INSERT latency and throughput, batches and replica reads beside a plain SQLite file, on a
## 1-node then a 3-node local cluster (edgectl dev up on BENCH_D1_IP, plain HTTP); BENCH_FLAGS go to edgectl
BENCH_D1_IP ?= 127.0.70.1
BENCH_D1_DIR ?= /tmp/edgeplane-bench-d1
bench-d1: build
	@set -e; for n in 1 3; do \
		bin/edgectl dev down --dir "$(BENCH_D1_DIR)" --purge >/dev/null 2>&1 || true; \
		env="$$(bin/edgectl dev up --nodes $$n --insecure --dir "$(BENCH_D1_DIR)" --base-ip $(BENCH_D1_IP) | grep '^export ')"; \
		eval "$$env"; echo "== $$n node(s)"; \
		rc=0; bin/edgectl bench d1 $(BENCH_FLAGS) || rc=$$?; \
		bin/edgectl dev down --dir "$(BENCH_D1_DIR)" --purge >/dev/null; \
		[ $$rc -eq 0 ] || exit $$rc; \
	done

## bench-wrk: the same GET/PUT workload driven by wrk (installed from Debian when missing), to cross-check
## edgectl's load generator against the one of the project's baselines; EDGE_ENDPOINT/EDGE_TOKEN select the node
bench-wrk: build
	bash scripts/bench-wrk.sh

## bench-do: Durable Objects request rates (one object, 1,000 objects), forwarding cost and WebSocket broadcast
## latency to 1,000 sockets against a running cluster; EDGE_ENDPOINT (two or more URLs, comma-separated) and
## EDGE_TOKEN select it
bench-do: build
	bin/edgectl bench do $(BENCH_FLAGS)

## run: the README's first command, a single-node cluster with every service
run:
	$(GO) run ./cmd/edged

.PHONY: dashboards observe-tools test-observe

## dashboards: regenerate deploy/grafana/dashboards/*.json from deploy/dashboards (commit the result)
dashboards:
	$(GO) run ./deploy/dashboards/gen

## observe-tools: install prometheus and promtool (Debian) when missing
observe-tools:
	bash scripts/install-prometheus.sh

## test-observe: the observability and deploy tests only: promtool checks, dashboards, a real
## Prometheus against a 3-region cluster, metric hygiene, edgectl lag/top
test-observe: observe-tools
	CI=$${CI:-true} $(GO) test -count=1 ./deploy/... ./tests/observe
	$(GO) test -count=1 -run 'Lag|Top|Quantile' ./cmd/edgectl
