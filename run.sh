#!/usr/bin/env bash
# Set up (if needed) and run the default study end to end: `dvc repro` over all stages.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
export PATH="$PWD/.venv/bin:$PATH"
dvc repro "$@"
python -m pipeline.stages.where
