#!/usr/bin/env bash
# Where `latentflow serve` loses time against `latentflow run` (issue 19: at most 2% or 0.2 s),
# measured on a small model so it runs in minutes on a shared machine: the same workflow with
# COUNT seeds, by one `latentflow run` process (runs 2.. are warm, as a server's are; each timed
# from its first progress line to the next workflow's, the last to the exit) and by `latentflow
# serve` (POST /prompt to execution_success, as Tests/ServerClients/time_prompt.py sees it), one
# after the other; with the CPU seconds each took, which a busy machine disturbs less than the
# wall clock. Usage: scripts/compare-run-serve.sh [COUNT]
# (BIN=.build/release, SIZE=256, WORKFLOW=workflows/shapes-lcm.json, SERVE_FLAGS=...)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-test-lib.sh
count="${1:-4}"
bin="${BIN:-.build/debug}"
size="${SIZE:-256}"
source_workflow="${WORKFLOW:-workflows/shapes-lcm.json}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 - "$source_workflow" "$size" "$count" "$scratch" <<'PY'
import json, sys
source, size, count, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
w = json.load(open(source))
for node in w.values():
    if node["class_type"] == "EmptyLatentImage":
        node["inputs"].update(width=size, height=size)
for seed in range(1, count + 1):
    for node in w.values():
        if node["class_type"] == "KSampler":
            node["inputs"]["seed"] = seed
    json.dump(w, open(f"{folder}/w{seed}.json", "w"))
PY
client_venv

workflows=()
for seed in $(seq 1 "$count"); do workflows+=("$scratch/w$seed.json"); done
# One run process; a workflow runs from its first stderr line to the next one's (the last to the
# exit), in wall-clock seconds and in the process's CPU seconds (/proc/PID/stat, then wait4).
python3 - "$bin/latentflow" "$scratch" "${workflows[@]}" <<'PY'
import os, re, subprocess, sys, time
binary, scratch, workflows = sys.argv[1], sys.argv[2], sys.argv[3:]
tick = os.sysconf("SC_CLK_TCK")
child = subprocess.Popen([binary, "run", *workflows, "--base-dir", os.getcwd(), "--output-dir", f"{scratch}/run-output"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
def cpu():
    fields = open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
marks = []
for line in child.stderr:
    m = re.match(r"\[(.*?)\] ", line)
    if m and (not marks or marks[-1][0] != m.group(1)):
        marks.append((m.group(1), time.perf_counter(), cpu()))
_, _, usage = os.wait4(child.pid, 0)
marks.append(("end", time.perf_counter(), usage.ru_utime + usage.ru_stime))
for (name, wall, used), (_, next_wall, next_used) in zip(marks, marks[1:]):
    print(f"run   {name.rsplit('/', 1)[-1]}: {next_wall - wall:.3f} s wall, {next_used - used:.2f} s CPU")
PY
port="$(free_port)"
# shellcheck disable=SC2086
"$bin/latentflow" serve --port "$port" --base-dir "$PWD" --output-dir "$scratch/serve-output" \
    --user-directory "$scratch/user" ${SERVE_FLAGS:-} 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT
wait_for_server "$port"
cpu_seconds() { awk -v tick="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / tick }' "/proc/$server/stat"; }
for seed in $(seq 1 "$count"); do
    before="$(cpu_seconds)"
    timing="$("$venv/bin/python" Tests/ServerClients/time_prompt.py "127.0.0.1:$port" "$scratch/w$seed.json" --seed "$seed")"
    echo "serve w$seed.json: ${timing#* } s wall (POST to execution_success), $(echo "$(cpu_seconds) - $before" | bc) s CPU"
done
