#!/usr/bin/env bash
# Proves every segment of a split model as a Slurm job array: task i runs
# `zkinfer prove-segment` with $SLURM_ARRAY_TASK_ID = i. The plan directory and
# the input live on a shared filesystem; each task writes only its own
# segment-<i>/ (atomically), so requeued tasks are safe.
#
#   zkinfer split model.onnx --input input.json --max-memory-mib 24000 --out /shared/chain
#   sbatch --array=0-$((SEGMENTS - 1)) slurm-array.sh
#   zkinfer verify-chain --plan /shared/chain/plan.json    # after the array finishes
#SBATCH --job-name=zkinfer-prove-chain
#SBATCH --cpus-per-task=8
#SBATCH --mem=24G
#SBATCH --requeue
#SBATCH --output=zkinfer-segment-%a.log
set -euo pipefail
CHAIN=${CHAIN:-/shared/chain}
INPUT=${INPUT:-/shared/input.json}
export ZKINFER_MEMORY_LIMIT_MIB=${ZKINFER_MEMORY_LIMIT_MIB:-24576}
exec zkinfer -q prove-segment --plan "$CHAIN/plan.json" --input "$INPUT"
