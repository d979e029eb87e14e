#!/usr/bin/env bash
# Set up (if needed) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
export PATH="$PWD/.venv/bin:$PATH"
python -m pytest "$@"
