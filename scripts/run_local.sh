#!/usr/bin/env bash
# `make run`: a local DynamoDB endpoint, the tables, a demo admin, and the API on 127.0.0.1.
# Everything it writes lives in .data/ (git-ignored); Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

DYNALITE_VERSION=4.0.0 # pinned: the LevelDB layout under .data/dynamodb must stay readable
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
PORT="${PORT:-5000}"
BIN=.venv/bin
# LOCAL_DATA_DIR (also read by the app) moves everything, e.g. for the test that runs this script.
DATA="$(mkdir -p "${LOCAL_DATA_DIR:-.data}" && cd "${LOCAL_DATA_DIR:-.data}" && pwd)"
NPM_PREFIX="$DATA/npm"
DYNALITE="$NPM_PREFIX/node_modules/dynalite"
ENDPOINT_LOG="$DATA/dynamodb.log"

endpoint_pid=""
flask_pid=""

die() {
  echo "run_local: $*" >&2
  exit 1
}

# Stop what we started, and wait so no orphan keeps a port or the LevelDB lock.
cleanup() {
  trap - EXIT INT TERM
  for pid in $flask_pid $endpoint_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $flask_pid $endpoint_pid; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Binding with SO_REUSEADDR fails only if something is listening (TIME_WAIT leftovers don't count).
port_free() {
  "$BIN/python" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

node_is_20_or_newer() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
  [ "$major" -ge 20 ] 2>/dev/null
}

# dynalite at the pinned version, and its native LevelDB binding loads on this machine.
dynalite_ready() {
  [ -f "$DYNALITE/package.json" ] &&
    [ "$(node -p "require('$DYNALITE/package.json').version")" = "$DYNALITE_VERSION" ] &&
    node -e "require('$NPM_PREFIX/node_modules/classic-level')" 2>/dev/null
}

# classic-level ships prebuilt binaries, so its install script (a node-gyp fallback) is skipped;
# dynalite_ready checks the binary loads, and we fall back to moto if it does not.
install_dynalite() {
  dynalite_ready && return 0
  echo "run_local: installing dynalite@$DYNALITE_VERSION into $NPM_PREFIX"
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --no-save --ignore-scripts \
    "dynalite@$DYNALITE_VERSION" >"$DATA/npm-install.log" 2>&1 || {
    echo "run_local: npm install failed, see $DATA/npm-install.log" >&2
    return 1
  }
  dynalite_ready
}

# dynalite listens before it opens LevelDB, so a second `make run` on the same folder would
# only fail on its first request; check LevelDB's lock up front for a clear message instead.
dynamodb_unlocked() {
  [ -d "$DATA/dynamodb" ] || return 0
  node -e "const { ClassicLevel } = require('$NPM_PREFIX/node_modules/classic-level')
const db = new ClassicLevel(process.argv[1])
db.open().then(() => db.close(), () => process.exit(1))" "$DATA/dynamodb"
}

mkdir -p "$DATA"
for port in "$DYNAMODB_PORT" "$PORT"; do
  port_free "$port" || die "port $port on 127.0.0.1 is already in use (set DYNAMODB_PORT / PORT to use others)"
done

if node_is_20_or_newer && install_dynalite; then
  dynamodb_unlocked || die "$DATA/dynamodb is in use (another 'make run' in this folder?)"
  node "$DYNALITE/cli.js" --host 127.0.0.1 --port "$DYNAMODB_PORT" --path "$DATA/dynamodb" >"$ENDPOINT_LOG" 2>&1 &
  endpoint_pid=$!
  echo "run_local: dynalite on 127.0.0.1:$DYNAMODB_PORT, data in $DATA/dynamodb (log: $ENDPOINT_LOG)"
else
  echo "WARNING: dynalite unavailable (needs Node 20+ and npm); using moto's in-memory server." >&2
  echo "WARNING: tables, tenants and users will NOT survive a restart of 'make run'." >&2
  "$BIN/moto_server" -H 127.0.0.1 -p "$DYNAMODB_PORT" >"$ENDPOINT_LOG" 2>&1 &
  endpoint_pid=$!
  # `demo seed` would otherwise overwrite .data/demo-admin-password with the password of a
  # throwaway admin, and the next dynalite run would print a password that no longer logs in.
  export LOCAL_DATA_DIR="$DATA/in-memory"
fi

# Bounded wait (30 s) for any HTTP answer; DynamoDB answers a bare GET with an error status.
endpoint_answers() {
  "$BIN/python" -c 'import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass' "http://127.0.0.1:$DYNAMODB_PORT" 2>/dev/null
}
for attempt in $(seq 150); do
  kill -0 "$endpoint_pid" 2>/dev/null || die "the DynamoDB endpoint exited; see $ENDPOINT_LOG"
  endpoint_answers && break
  [ "$attempt" -lt 150 ] || die "the DynamoDB endpoint did not answer within 30 s; see $ENDPOINT_LOG"
  sleep 0.2
done

# Point boto3 at the local endpoint. The keys are dummies, not secrets: the local endpoint
# ignores them, and setting them stops boto3 from using (or needing) real AWS credentials.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
unset AWS_PROFILE AWS_SESSION_TOKEN # a named profile or a stray session token must not apply here
export APP_ENV=dev
export DYNAMODB_TABLE_PREFIX="${DYNAMODB_TABLE_PREFIX:-nativemessage-}"

export LOCAL_DATA_DIR="${LOCAL_DATA_DIR:-$DATA}"

"$BIN/flask" --app app db init
"$BIN/flask" --app app demo seed

# In the background so that `wait` returns on a signal and the trap can stop both processes.
"$BIN/flask" --app app run --host 127.0.0.1 --port "$PORT" &
flask_pid=$!
wait "$flask_pid"
