#!/bin/bash
# Queues the check array and, after every task of it succeeded, the merge.
#   MODEL=/shared/m.onnx GOLDEN=/shared/golden RESULTS=/shared/results deploy/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "${RESULTS:?set RESULTS to a shared directory}"
array=$(sbatch --parsable --export=ALL "$here/check-array.sbatch")
sbatch --parsable --export=ALL --dependency="afterok:${array%%;*}" "$here/merge.sbatch"
