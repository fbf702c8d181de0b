#!/usr/bin/env bash
# wrangler-kv.sh: drive wrangler's `kv namespace` and `kv key` commands with
# --remote against a running edged, as a user would by changing only the
# API base URL.
#
#   tests/interop/wrangler-kv.sh [HTTP_ADDR]     # default 127.0.0.1:8787
#
# Environment: EDGE_TOKEN (the API token, required when the node has auth),
# EDGE_ACCOUNT (default: account_id from /client/v4/cluster/status),
# WRANGLER_VERSION (default 4). Installs wrangler with npm into
# tests/interop/node_modules (gitignored); skips with exit 0 and a message
# when npm/npx are absent.
set -euo pipefail

ADDR=${1:-127.0.0.1:8787}
HERE=$(cd "$(dirname "$0")" && pwd)
BASE="http://$ADDR/client/v4"
TOKEN=${EDGE_TOKEN:-dev-token}

if ! command -v npm >/dev/null 2>&1 || ! command -v npx >/dev/null 2>&1; then
	echo "SKIP: npm/npx not found; install Node.js to run the wrangler interop test"
	exit 0
fi

if [ ! -x "$HERE/node_modules/.bin/wrangler" ]; then
	echo "installing wrangler@${WRANGLER_VERSION:-4} into $HERE/node_modules" >&2
	if ! (cd "$HERE" && npm install --no-save --no-audit --no-fund --silent "wrangler@${WRANGLER_VERSION:-4}" >&2); then
		echo "SKIP: could not install wrangler from the npm registry"
		exit 0
	fi
fi

ACCOUNT=${EDGE_ACCOUNT:-}
if [ -z "$ACCOUNT" ]; then
	ACCOUNT=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/cluster/status" |
		sed -n 's/.*"account_id":"\([^"]*\)".*/\1/p')
fi
[ -n "$ACCOUNT" ] || { echo "FAIL: no account id from $BASE/cluster/status" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK/home" CI=true WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_API_BASE_URL="$BASE" CLOUDFLARE_API_TOKEN="$TOKEN" CLOUDFLARE_ACCOUNT_ID="$ACCOUNT"
mkdir -p "$HOME"
cd "$WORK"

wr() { "$HERE/node_modules/.bin/wrangler" "$@" </dev/null; }
fail() { echo "FAIL: $*" >&2; exit 1; }

TITLE="interop-$(date +%s)-$$"
echo "== kv namespace create $TITLE"
wr kv namespace create "$TITLE" >"$WORK/create.out" 2>&1 || { cat "$WORK/create.out" >&2; fail "namespace create"; }

echo "== kv namespace list"
wr kv namespace list >"$WORK/list.json" 2>"$WORK/list.err" || { cat "$WORK/list.err" >&2; fail "namespace list"; }
NS=$(node -e '
	const all = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
	const ns = all.find((n) => n.title === process.argv[2]);
	if (!ns) process.exit(1);
	console.log(ns.id);' "$WORK/list.json" "$TITLE") || fail "namespace $TITLE not in list: $(cat "$WORK/list.json")"

echo "== kv key put / get (namespace $NS)"
wr kv key put --remote --namespace-id "$NS" "dir/a b" "hello" >/dev/null 2>&1 || fail "key put"
GOT=$(wr kv key get --remote --namespace-id "$NS" "dir/a b" 2>/dev/null) || fail "key get"
[ "$GOT" = "hello" ] || fail "key get returned '$GOT', want 'hello'"

echo "== kv key put with --metadata and --ttl"
wr kv key put --remote --namespace-id "$NS" meta "v2" --metadata '{"m":1}' --ttl 3600 >/dev/null 2>&1 || fail "key put with metadata"
GOT=$(wr kv key get --remote --namespace-id "$NS" meta 2>/dev/null) || fail "key get meta"
[ "$GOT" = "v2" ] || fail "key get meta returned '$GOT'"

echo "== kv key list"
wr kv key list --remote --namespace-id "$NS" >"$WORK/keys.json" 2>/dev/null || fail "key list"
node -e '
	const keys = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).map((k) => k.name).sort();
	if (JSON.stringify(keys) !== JSON.stringify(["dir/a b", "meta"])) { console.error(keys); process.exit(1); }' \
	"$WORK/keys.json" || fail "key list: $(cat "$WORK/keys.json")"

echo "== kv key delete"
wr kv key delete --remote --namespace-id "$NS" "dir/a b" >/dev/null 2>&1 || fail "key delete"
if wr kv key get --remote --namespace-id "$NS" "dir/a b" >/dev/null 2>&1; then fail "deleted key still readable"; fi

echo "== kv namespace delete"
wr kv namespace delete --namespace-id "$NS" >/dev/null 2>&1 || fail "namespace delete"

echo "PASS: wrangler kv namespace and kv key against $BASE"
