#!/usr/bin/env bash
# wrangler-d1.sh: drive wrangler's `d1` commands with --remote against a
# running edged, as a user would by changing only the API base URL:
# create, list, execute --command (several statements), execute --file
# (wrangler's import flow: init, upload to a signed URL, ingest), export
# (the signed download URL), info and delete.
#
#   tests/interop/wrangler-d1.sh [HTTP_ADDR]     # default 127.0.0.1:8787
#
# Environment: EDGE_TOKEN (the API token; give it D1 Write only, as a
# Cloudflare user would), EDGE_ACCOUNT (default: account_id from
# /client/v4/cluster/status), WRANGLER_VERSION (default 4). Installs
# wrangler with npm into tests/interop/node_modules (gitignored); skips with
# exit 0 and a message when npm/npx are absent.
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
[ -n "$ACCOUNT" ] || { echo "FAIL: no account id (set EDGE_ACCOUNT, or give a token that may read cluster status)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK/home" CI=true WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_API_BASE_URL="$BASE" CLOUDFLARE_API_TOKEN="$TOKEN" CLOUDFLARE_ACCOUNT_ID="$ACCOUNT"
mkdir -p "$HOME"
cd "$WORK"

wr() { "$HERE/node_modules/.bin/wrangler" "$@" </dev/null; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# jsget FILE EXPR: evaluate EXPR over the JSON document in FILE (as `d`).
jsget() { node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(eval(process.argv[2]));' "$1" "$2"; }

NAME="interop-$(date +%s)-$$"
echo "== d1 create $NAME"
wr d1 create "$NAME" >"$WORK/create.out" 2>&1 || { cat "$WORK/create.out" >&2; fail "d1 create"; }

echo "== d1 list"
wr d1 list --json >"$WORK/list.json" 2>"$WORK/list.err" || { cat "$WORK/list.err" >&2; fail "d1 list"; }
ID=$(jsget "$WORK/list.json" "(d.find((x) => x.name === '$NAME') || {}).uuid") || fail "d1 list: $(cat "$WORK/list.json")"
[ -n "$ID" ] && [ "$ID" != undefined ] || fail "database $NAME not in list: $(cat "$WORK/list.json")"
grep -q "$ID" "$WORK/create.out" || fail "d1 create did not print the id $ID: $(cat "$WORK/create.out")"

echo "== d1 execute --remote --command (several statements)"
wr d1 execute "$NAME" --remote --json --command \
	"CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, joined TEXT DEFAULT CURRENT_TIMESTAMP); INSERT INTO users(name) VALUES ('ann'), ('it''s bob'); SELECT count(*) AS n FROM users" \
	>"$WORK/exec.json" 2>"$WORK/exec.err" || { cat "$WORK/exec.err" "$WORK/exec.json" >&2; fail "d1 execute --command"; }
[ "$(jsget "$WORK/exec.json" 'd.length')" = 3 ] || fail "execute answered $(cat "$WORK/exec.json")"
[ "$(jsget "$WORK/exec.json" 'd[2].results[0].n')" = 2 ] || fail "count after insert: $(cat "$WORK/exec.json")"

echo "== d1 execute --remote --file (import flow)"
{
	echo "PRAGMA defer_foreign_keys=TRUE;"
	echo "CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL, note TEXT);"
	for i in $(seq 1 300); do
		echo "INSERT INTO orders(user_id, total, note) VALUES (1, $i.5, 'order $i; with a semicolon');"
	done
	echo "UPDATE users SET name = 'ann (imported)' WHERE id = 1;"
} >"$WORK/dump.sql"
wr d1 execute "$NAME" --remote --file "$WORK/dump.sql" -y >"$WORK/import.out" 2>&1 || { cat "$WORK/import.out" >&2; fail "d1 execute --file"; }
wr d1 execute "$NAME" --remote --json --command "SELECT count(*) AS n, sum(total) AS s FROM orders; SELECT name FROM users WHERE id = 1" \
	>"$WORK/check.json" 2>"$WORK/check.err" || { cat "$WORK/check.err" >&2; fail "select after import"; }
[ "$(jsget "$WORK/check.json" 'd[0].results[0].n')" = 300 ] || fail "rows after import: $(cat "$WORK/check.json")"
[ "$(jsget "$WORK/check.json" 'd[0].results[0].s')" = 45300 ] || fail "sum after import: $(cat "$WORK/check.json")"
[ "$(jsget "$WORK/check.json" 'd[1].results[0].name')" = "ann (imported)" ] || fail "update in the import: $(cat "$WORK/check.json")"

echo "== d1 execute --remote --file with a failing statement: nothing applied"
{
	echo "INSERT INTO orders(user_id, total, note) VALUES (2, 1, 'must not stay');"
	echo "INSERT INTO no_such_table VALUES (1);"
} >"$WORK/bad.sql"
if wr d1 execute "$NAME" --remote --file "$WORK/bad.sql" -y >"$WORK/bad.out" 2>&1; then
	fail "a file with a failing statement was imported: $(cat "$WORK/bad.out")"
fi
grep -q "no such table" "$WORK/bad.out" || fail "failing import did not name the error: $(cat "$WORK/bad.out")"
wr d1 execute "$NAME" --remote --json --command "SELECT count(*) AS n FROM orders" >"$WORK/count.json" 2>/dev/null || fail "count after failed import"
[ "$(jsget "$WORK/count.json" 'd[0].results[0].n')" = 300 ] || fail "a failed import changed rows: $(cat "$WORK/count.json")"

echo "== d1 export --remote (signed download URL)"
wr d1 export "$NAME" --remote --output "$WORK/export.sql" >"$WORK/export.out" 2>&1 || { cat "$WORK/export.out" >&2; fail "d1 export"; }
grep -q 'CREATE TABLE orders' "$WORK/export.sql" || fail "export has no schema: $(head -c 2000 "$WORK/export.sql")"
[ "$(grep -c '^INSERT INTO "orders"' "$WORK/export.sql")" = 300 ] || fail "export does not hold the 300 orders"

echo "== d1 execute --file of the export into a second database"
wr d1 create "$NAME-copy" >/dev/null 2>&1 || fail "d1 create copy"
wr d1 execute "$NAME-copy" --remote --file "$WORK/export.sql" -y >"$WORK/import2.out" 2>&1 || { cat "$WORK/import2.out" >&2; fail "import of the export"; }
wr d1 execute "$NAME-copy" --remote --json --command "SELECT count(*) AS n, sum(total) AS s FROM orders; SELECT group_concat(name, '|') AS names FROM (SELECT name FROM users ORDER BY id)" \
	>"$WORK/copy.json" 2>/dev/null || fail "select in the copy"
[ "$(jsget "$WORK/copy.json" 'd[0].results[0].n')" = 300 ] && [ "$(jsget "$WORK/copy.json" 'd[0].results[0].s')" = 45300 ] ||
	fail "copy rows: $(cat "$WORK/copy.json")"
[ "$(jsget "$WORK/copy.json" 'd[1].results[0].names')" = "ann (imported)|it's bob" ] || fail "copy users: $(cat "$WORK/copy.json")"

echo "== d1 info / delete"
wr d1 info "$NAME" --json >"$WORK/info.json" 2>/dev/null || fail "d1 info"
[ "$(jsget "$WORK/info.json" 'd.uuid')" = "$ID" ] || fail "d1 info: $(cat "$WORK/info.json")"
wr d1 delete "$NAME" -y >/dev/null 2>&1 || fail "d1 delete"
wr d1 delete "$NAME-copy" -y >/dev/null 2>&1 || fail "d1 delete copy"
wr d1 list --json >"$WORK/list2.json" 2>/dev/null || fail "d1 list after delete"
[ "$(jsget "$WORK/list2.json" "d.filter((x) => x.name.startsWith('$NAME')).length")" = 0 ] || fail "deleted databases still listed"

echo "PASS: wrangler d1 create, list, execute (--command, --file), export, info, delete against $BASE"
