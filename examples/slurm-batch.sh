#!/usr/bin/env bash
# Renders one folder of workflows as a Slurm array job: task I of N takes shard I/N.
#
#   sbatch --array=0-7 examples/slurm-batch.sh              # 8 tasks over $HOME/workflows
#   WORKFLOWS=/data/wf OUTPUT=/data/out sbatch --array=0-2 examples/slurm-batch.sh
#
# `latentflow batch --shard I/N` picks the workflows whose position in name order is I modulo N,
# so the tasks never overlap; --resume makes a requeued or restarted task skip the workflows it
# already finished and re-render, without duplicates, one it was killed in. Every task may share
# one output folder: names are claimed atomically.
#SBATCH --job-name=latentflow
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --requeue
set -euo pipefail
: "${SLURM_ARRAY_TASK_ID:?submit with sbatch --array=0-(N-1)}"
exec "${LATENTFLOW:-latentflow}" batch "${WORKFLOWS:-$HOME/workflows}" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" --resume \
  --models-dir "${MODELS:-$HOME/models}" --output-dir "${OUTPUT:-$HOME/output}"
