#!/usr/bin/env bash
# Load test of `latentflow serve` (issue 19, item 7): starts the server on a free loopback port over the
# repository's tiny model with a temp output folder and a temp user folder (its queue database), then
# Tests/ServerClients/load_test.py queues PROMPTS prompts over 50 WebSocket clients (plus a silent and a
# vanished client) and checks order, routing and memory (cache budget CACHE_BUDGET, default 32M).
# Writes the RSS curve to RSS_CSV.
# Usage: scripts/test-server-load.sh [PROMPTS=1000] [RSS_CSV=.build/ci-artifacts/server-rss.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-test-lib.sh
prompts="${1:-1000}"
csv="${2:-.build/ci-artifacts/server-rss.csv}"
mkdir -p "$(dirname "$csv")"
# LATENTFLOW_BINARY picks another build (the 1,000-prompt figure in the notes is from -c release).
if [ -n "${LATENTFLOW_BINARY:-}" ]; then
    binary="$LATENTFLOW_BINARY"
else
    swift build --product latentflow
    binary="$(swift build --show-bin-path)/latentflow"
fi

client_venv

port="$(free_port)"
scratch="$(mktemp -d)"
# A small cache budget, so the test sees memory level off once the cache is full (the default is 12G).
"$binary" serve --listen 127.0.0.1 --port "$port" --base-dir "$PWD" --output-dir "$scratch/output" \
    --user-directory "$scratch/user" --cache-budget "${CACHE_BUDGET:-32M}" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT

wait_for_server "$port"
"$venv/bin/python" Tests/ServerClients/load_test.py "127.0.0.1:$port" workflows/lcm-tiny.json "$server" \
    --prompts "$prompts" --clients 50 --rss-csv "$csv"
