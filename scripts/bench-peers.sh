#!/usr/bin/env bash
# bench-peers.sh: install (if missing) and start Redis and etcd on 127.0.0.1
# as comparison peers for `edgectl bench kv --redis ADDR --etcd URL`.
#
#   scripts/bench-peers.sh start   # prints REDIS=... and ETCD=... on stdout
#   scripts/bench-peers.sh stop    # stops the two processes it started
#
# Redis runs without persistence (--save '' --appendonly no); etcd keeps its
# data in a temporary directory removed by stop. Ports: REDIS_PORT (6390),
# ETCD_PORT (2390), ETCD_PEER_PORT (2391). State lives in BENCH_PEERS_DIR
# (default /tmp/edgeplane-bench-peers).
set -euo pipefail

REDIS_PORT=${REDIS_PORT:-6390}
ETCD_PORT=${ETCD_PORT:-2390}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-2391}
DIR=${BENCH_PEERS_DIR:-/tmp/edgeplane-bench-peers}

need() { # need BINARY PACKAGE: apt-get install PACKAGE when BINARY is absent
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "installing $2 (for $1)" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >&2
}

wait_for() { # wait_for DESCRIPTION COMMAND...: poll up to 10 s
	for _ in $(seq 1 100); do
		if "${@:2}" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "bench-peers: $1 did not come up; see $DIR/*.log" >&2
	return 1
}

start() {
	need redis-server redis-server
	need redis-cli redis-tools
	need etcd etcd-server
	mkdir -p "$DIR"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--daemonize no >"$DIR/redis.log" 2>&1 &
	echo $! >"$DIR/redis.pid"
	local data
	data=$(mktemp -d "$DIR/etcd-data.XXXXXX")
	etcd --name bench --data-dir "$data" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "bench=http://127.0.0.1:$ETCD_PEER_PORT" >"$DIR/etcd.log" 2>&1 &
	echo $! >"$DIR/etcd.pid"
	echo "$data" >"$DIR/etcd.data"
	wait_for redis redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
	wait_for etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
	echo "REDIS=127.0.0.1:$REDIS_PORT"
	echo "ETCD=http://127.0.0.1:$ETCD_PORT"
}

stop() {
	for p in redis etcd; do
		if [ -f "$DIR/$p.pid" ]; then
			kill "$(cat "$DIR/$p.pid")" 2>/dev/null || true
			rm -f "$DIR/$p.pid"
		fi
	done
	if [ -f "$DIR/etcd.data" ]; then
		rm -rf "$(cat "$DIR/etcd.data")" "$DIR/etcd.data"
	fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
