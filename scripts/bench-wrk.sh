#!/usr/bin/env bash
# bench-wrk.sh: cross-check `edgectl bench kv` with wrk, the load generator
# the project measured its baselines with (see README, "Measured"): GET
# and PUT of random keys at CONNS keep-alive connections on 2 threads.
#
#   EDGE_TOKEN=... scripts/bench-wrk.sh
#
# It installs wrk from Debian when missing, creates a scratch namespace on
# EDGE_ENDPOINT (default http://127.0.0.1:8787), preloads KEYS keys
# (10000) of VALUE_SIZE bytes (256) with one bulk write, runs each phase for
# DURATION (10s), and deletes the namespace. EDGECTL names the edgectl
# binary (default bin/edgectl, built by `make build`).
set -euo pipefail

ENDPOINT=${EDGE_ENDPOINT:-http://127.0.0.1:8787}
: "${EDGE_TOKEN:?set EDGE_TOKEN to an API token of the node}"
KEYS=${KEYS:-10000}
VALUE_SIZE=${VALUE_SIZE:-256}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
EDGECTL=${EDGECTL:-bin/edgectl}
HERE=$(cd "$(dirname "$0")" && pwd)

if ! command -v wrk >/dev/null 2>&1; then
	echo "installing wrk" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >&2
fi

ctl() { "$EDGECTL" --endpoint "$ENDPOINT" --token "$EDGE_TOKEN" "$@"; }
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" | head -1; }

ACCOUNT=$(ctl status -o json | field account_id)
NS=$(ctl kv namespace create "wrk-bench-$$-$(date +%s)" -o json | field id)

bulk=$(mktemp)
trap 'rm -f "$bulk"; ctl kv namespace delete "$NS" >/dev/null' EXIT
value=$(head -c "$VALUE_SIZE" /dev/zero | tr '\0' v)
awk -v n="$KEYS" -v v="$value" 'BEGIN {
	printf "["
	for (i = 0; i < n; i++) printf "%s{\"key\":\"bench/%08d\",\"value\":\"%s\"}", (i ? "," : ""), i, v
	printf "]"
}' >"$bulk"
ctl kv bulk put "$NS" "$bulk" >/dev/null

[ -f "$HERE/wrk/kv.lua" ] || { echo "bench-wrk: $HERE/wrk/kv.lua missing" >&2; exit 1; }
export ACCOUNT NS KEYS VALUE_SIZE TOKEN="$EDGE_TOKEN"
echo "wrk -t2 -c$CONNS -d$DURATION against $ENDPOINT: $KEYS keys of $VALUE_SIZE bytes"
for op in GET PUT; do
	echo "== $op"
	OP=$op wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$HERE/wrk/kv.lua" "$ENDPOINT" |
		grep -E 'Requests/sec|Latency  |50%|99%|errors|Non-2xx'
done
