#!/usr/bin/env bash
# A Slurm array: 8 tasks, each rendering shard $SLURM_ARRAY_TASK_ID of 8 of one folder.
#SBATCH --job-name=latentflow
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
set -euo pipefail
latentflow batch "$HOME/workflows" --shard "${SLURM_ARRAY_TASK_ID}/8" --resume \
  --models-dir "$HOME/models" --output-dir "$HOME/output"
