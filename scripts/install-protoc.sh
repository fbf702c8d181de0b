#!/usr/bin/env bash
# install-protoc.sh installs what `make proto` needs to regenerate proto/edge/v1:
# protoc from Debian and the two Go plugins, pinned, into $(go env GOPATH)/bin.
# Safe to run again: each step is skipped when its tool is already present
# at the pinned version.
set -euo pipefail

PROTOC_GEN_GO_VERSION="v1.36.12"      # matches google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION="v1.5.1"   # emits SupportPackageIsVersion9; fine with grpc v1.85.0

sudo_if_needed() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v protoc >/dev/null 2>&1; then
	if ! apt-cache show protobuf-compiler >/dev/null 2>&1; then
		sudo_if_needed apt-get update
	fi
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y protobuf-compiler
fi

GOBIN_DIR="$(go env GOPATH)/bin"
mkdir -p "$GOBIN_DIR"

have_version() { # have_version BINARY VERSION
	[ -x "$GOBIN_DIR/$1" ] && go version -m "$GOBIN_DIR/$1" 2>/dev/null | grep -q "mod.*$2"
}

if ! have_version protoc-gen-go "$PROTOC_GEN_GO_VERSION"; then
	GOBIN="$GOBIN_DIR" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
fi
if ! have_version protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"; then
	GOBIN="$GOBIN_DIR" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi

echo "protoc: $(protoc --version)"
echo "plugins in $GOBIN_DIR: protoc-gen-go $PROTOC_GEN_GO_VERSION, protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION"
