#!/usr/bin/env bash
# What `latentflow serve` adds to a run (issue 19): the 512 px 4-step LCM workflow on a full-size SD1.5
# checkpoint with random weights, by `latentflow run` (wall time, cold: it loads the checkpoint) and by
# the server (POST /prompt to execution_success: a cold first prompt, then warm ones with new seeds),
# in two interleaved rounds on this machine. Run by hand after `swift build -c release --product latentflow
# --product latentflow-tools`; writes the ~2 GB checkpoint to $SCRATCH (default /tmp/lf-overhead).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-test-lib.sh
scratch="${SCRATCH:-/tmp/lf-overhead}"
bin=.build/release
checkpoint="$scratch/models/checkpoints/latentflow-random-sd15.safetensors"
if [ ! -f "$checkpoint" ]; then
    "$bin/latentflow-tools" make-tiny-model --full-size --output "$checkpoint"
fi
workflow="$scratch/lcm-512.json"
python3 - "$workflow" <<'PY'
import json, sys
w = json.load(open("workflows/lcm-tiny.json"))
w["1"]["inputs"]["ckpt_name"] = "latentflow-random-sd15.safetensors"
w["5"]["inputs"].update(width=512, height=512)
json.dump(w, open(sys.argv[1], "w"))
PY
client_venv

# Interleaved rounds, so that drift in the machine's speed hits both alike: `latentflow run` (cold: it
# loads the checkpoint), then a fresh server's first prompt (cold as well: the same work plus the server's
# part) and a second prompt with a new seed (warm: what a running server costs per prompt).
for round in 1 2; do
    seed=$((round * 10))
    start=$(date +%s.%N)
    "$bin/latentflow" run "$workflow" --base-dir "$scratch" --output-dir "$scratch/output" --set "6.seed=$seed" >/dev/null 2>&1
    echo "round $round: latentflow run (seed $seed, cold): $(echo "$(date +%s.%N) - $start" | bc) s"
    port="$(free_port)"
    "$bin/latentflow" serve --listen 127.0.0.1 --port "$port" --base-dir "$scratch" --output-dir "$scratch/output" \
        --user-directory "$scratch/user" 2>/dev/null &
    server=$!
    trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
    wait_for_server "$port"
    for kind in cold warm; do
        seed=$((seed + 1))
        echo "round $round: serve, POST to execution_success (seed $seed, $kind): $("$venv/bin/python" Tests/ServerClients/time_prompt.py "127.0.0.1:$port" "$workflow" --seed "$seed") s"
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
done
