#!/usr/bin/env bash
# Issue 24: `examples/slurm-batch.sh` on a real single-node Slurm cluster (Debian's slurm-wlm and
# munge). Submits the example as an array job of 3 tasks over 9 workflows sharing one output
# folder, requeues one task while it renders (Slurm kills it and runs it again), and checks that
# every workflow's images exist exactly once and decode.
#
#   bash Tests/Slurm/run-slurm-batch-test.sh [path/to/latentflow]   (root; installs nothing)
#
# The daemons run from a temporary folder with their own slurm.conf and are stopped on exit.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$(realpath "${1:-$repo/.build/debug/latentflow}")"
[ -x "$bin" ] || { echo "no latentflow binary at $bin (swift build first)"; exit 1; }
for tool in munged slurmctld slurmd sbatch squeue scontrol sacct; do
  command -v "$tool" >/dev/null || [ "$tool" = sacct ] || { echo "missing $tool: apt-get install slurm-wlm munge"; exit 1; }
done

work="$(mktemp -d /tmp/latentflow-slurm.XXXXXX)"
chmod 755 "$work"
host="$(hostname -s)"
export SLURM_CONF="$work/slurm.conf"
pids=()
cleanup() {
  scancel --full "${job:-0}" 2>/dev/null || true
  sleep 1
  pkill -9 -f "$work" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/log/*; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# munge: a key of our own and a socket in the work folder.
mkdir -p "$work/munge" "$work/log" "$work/state" "$work/spool" "$work/out" "$work/workflows"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"; chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed"
pids+=("$(cat "$work/munge/munged.pid")")

cpus="$(nproc)"
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$SLURM_CONF" <<CONF
ClusterName=latentflow-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
JobRequeue=1
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=60 State=UP OverSubscribe=NO
CONF
slurmctld -i -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
sleep 2
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 60); do
  sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 1
done
sinfo -h -o '%T' | grep -qE '^(idle|mixed|allocated)' || fail "the node did not come up: $(sinfo 2>&1)"

# 9 workflows of the tiny model, 3 per shard, each a few seconds so a requeue lands mid-render.
for i in $(seq 0 8); do
  sed -e "s/\"seed\": 42/\"seed\": $((100 + i))/" -e "s/\"filename_prefix\": \"lcm-tiny\"/\"filename_prefix\": \"slurm\/wf$i\"/" \
    -e 's/"batch_size": 1/"batch_size": 2/' -e 's/"width": 256, "height": 256/"width": 64, "height": 64/' "$repo/workflows/lcm-tiny.json" > "$work/workflows/wf$i.json"
done

# One CPU per task so two tasks share the node at once and the third waits: the array runs
# in two waves, as it would on a busy cluster.
job="$(LATENTFLOW="$bin" WORKFLOWS="$work/workflows" MODELS="$repo/models" OUTPUT="$work/out" \
  sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=2G --chdir="$work" \
  --output="$work/log/task-%a.log" "$repo/examples/slurm-batch.sh")"
echo "submitted array job $job"

# Requeue task 1 once it has rendered at least one workflow and is still running.
requeued=0
for _ in $(seq 1200); do
  state="$(squeue -h -j "${job}_1" -o '%T' 2>/dev/null || true)"
  if [ "$state" = RUNNING ] && ls "$work"/out/slurm/wf1_* >/dev/null 2>&1; then
    scontrol requeue "${job}_1" && requeued=1
    echo "requeued task 1 while it was rendering (it had finished wf1)"
    break
  fi
  sleep 0.5
done
[ "$requeued" = 1 ] || fail "task 1 never reached a state to requeue"
# A requeued job is held back a little by Slurm before it may start again; release it at once.
sleep 1
scontrol release "${job}_1" 2>/dev/null || true

for _ in $(seq 900); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$job")" ] || fail "the array did not finish: $(squeue -j "$job")"
# The requeued task ran again (its log starts over) and skipped the workflow it had finished.
grep -q "wf1.json  *skipped" "$work/log/task-1.log" || fail "the requeued task did not run again with --resume"

python3 - "$work/out/slurm" <<'PY' || fail "outputs are missing, duplicated or do not decode"
import os, re, struct, sys, zlib
folder = sys.argv[1]
names = sorted(os.listdir(folder))
leftovers = [n for n in names if not re.fullmatch(r"wf\d_\d{5}_\.png", n)]
assert not leftovers, f"unexpected files: {leftovers}"
for i in range(9):
    mine = [n for n in names if n.startswith(f"wf{i}_")]
    # batch_size 2: exactly two images, counters 1 and 2, nothing duplicated by the requeue.
    assert mine == [f"wf{i}_00001_.png", f"wf{i}_00002_.png"], f"wf{i}: {mine}"
    for name in mine:
        data = open(os.path.join(folder, name), "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        pos, idat, header = 8, b"", None
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
            assert zlib.crc32(kind + body) == crc, f"{name}: bad CRC in {kind}"
            if kind == b"IHDR": header = struct.unpack(">IIBBBBB", body)
            if kind == b"IDAT": idat += body
            pos += 12 + length
        width, height, depth, colour = header[:4]
        channels = {2: 3, 6: 4, 0: 1}[colour]
        assert len(zlib.decompress(idat)) == height * (1 + width * channels * depth // 8), name
print(f"{len(names)} images, 2 per workflow for 9 workflows, all decode")
PY
grep -h "rendered\|skipped\|failed" "$work"/log/task-*.log | tail -20 || true
echo "PASS: Slurm array of 3 tasks, one requeued mid-run; every output exactly once"
