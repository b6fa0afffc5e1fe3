#!/usr/bin/env bash
# Drives `latentflow serve` with a Python ComfyUI client (websocket-client from PyPI, in a venv):
# builds, starts the server on a free loopback port over the repository's tiny model with a temp
# output folder, runs Tests/ServerClients/comfy_ws_client.py, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product latentflow
binary="$(swift build --show-bin-path)/latentflow"

venv=.build/server-clients-venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "websocket-client==1.9.*"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
output="$(mktemp -d)"
"$binary" serve --listen 127.0.0.1 --port "$port" --base-dir "$PWD" --output-dir "$output" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$output"' EXIT

for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/system_stats" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
"$venv/bin/python" Tests/ServerClients/comfy_ws_client.py "127.0.0.1:$port" workflows/lcm-tiny.json --size 64
