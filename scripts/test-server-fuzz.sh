#!/usr/bin/env bash
# Route fuzzing of `latentflow serve` (issue 19, item 6) for SECONDS (default 60) with a fixed SEED:
# starts the server on a free loopback port over the tiny model, with its folders in a scratch
# directory, runs Tests/ServerClients/route_fuzz.py, and fails on a 5xx (other than a full queue's
# 503), bytes that are not HTTP answered with anything but a 400, a server that stops answering or
# exits, or a file written outside the scratch folders. It prints the answers counted by status.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-test-lib.sh
seconds="${1:-60}"
seed="${SEED:-1}"
swift build --product latentflow
binary="$(swift build --show-bin-path)/latentflow"
client_venv

port="$(free_port)"
parent="$(mktemp -d)"
scratch="$parent/scratch"
mkdir -p "$scratch/output" "$scratch/input" "$scratch/temp" "$scratch/user"
"$binary" serve --listen 127.0.0.1 --port "$port" --base-dir "$PWD" --output-dir "$scratch/output" \
    --input-directory "$scratch/input" --temp-directory "$scratch/temp" --user-directory "$scratch/user" \
    --max-queue 64 2>"$parent/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$parent"' EXIT
wait_for_server "$port"
"$venv/bin/python" Tests/ServerClients/route_fuzz.py "127.0.0.1:$port" "$scratch" workflows/lcm-tiny.json \
    --seconds "$seconds" --seed "$seed"
kill -0 "$server" || { echo "FAIL: the server exited"; tail -20 "$parent/server.log"; exit 1; }
