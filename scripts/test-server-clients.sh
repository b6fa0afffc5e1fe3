#!/usr/bin/env bash
# Drives `latentflow serve` with Python ComfyUI clients from PyPI, in a venv: a client modelled on
# ComfyUI's websockets_api_example.py (websocket-client), comfy_api_simplified and Comfy-Org's
# comfy-cli (Tests/ServerClients/pypi_clients_test.py). Builds, starts the server on a free loopback
# port over the repository's tiny model with a temp output folder, runs them, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-test-lib.sh
swift build --product latentflow
binary="$(swift build --show-bin-path)/latentflow"

client_venv "comfy_api_simplified==1.6.0" "comfy-cli==1.23.0"

port="$(free_port)"
output="$(mktemp -d)"
# The queue database and settings go to a scratch user folder, not the repository's user/.
"$binary" serve --listen 127.0.0.1 --port "$port" --base-dir "$PWD" --output-dir "$output" \
    --user-directory "$output/user" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$output"' EXIT

wait_for_server "$port"
"$venv/bin/python" Tests/ServerClients/comfy_ws_client.py "127.0.0.1:$port" workflows/lcm-tiny.json --size 64
"$venv/bin/python" Tests/ServerClients/pypi_clients_test.py "127.0.0.1:$port" workflows/lcm-tiny.json "$venv/bin/comfy"
