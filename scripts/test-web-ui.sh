#!/usr/bin/env bash
# ComfyUI's web UI against `latentflow serve` in a real browser (issue 19, item 4): installs
# Selenium and the comfyui-frontend-package wheel that ComfyUI v0.3.64 pins into a venv, starts
# the server on a free loopback port over the repository's tiny model (the venv's python3 on the
# PATH, so the server finds the web UI by itself), and runs Tests/ServerClients/web_ui_test.py
# in headless Chromium (Debian's chromium + chromium-driver: scripts/install-system-deps.sh).
# Usage: scripts/test-web-ui.sh [SCREENSHOT.png]   (default docs/server-screenshot.png)
set -euo pipefail
cd "$(dirname "$0")/.."
screenshot="${1:-docs/server-screenshot.png}"
mkdir -p "$(dirname "$screenshot")"
swift build --product latentflow
binary="$(swift build --show-bin-path)/latentflow"

venv=.build/webui-venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "selenium==4.*" "comfyui-frontend-package==1.27.10"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
scratch="$(mktemp -d)"
PATH="$PWD/$venv/bin:$PATH" "$binary" serve --listen 127.0.0.1 --port "$port" --base-dir "$PWD" \
    --output-dir "$scratch/output" --user-directory "$scratch/user" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT

for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
# Bounded: the browser, the page and the run take ~1 min on a 2-core machine.
timeout 300 "$venv/bin/python" Tests/ServerClients/web_ui_test.py "127.0.0.1:$port" "$screenshot" --timeout 180
