#!/usr/bin/env bash
# One command installs everything: a virtual environment in .venv with ies and its dev tools.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -d .venv ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,powerflow]'
echo "installed: $(.venv/bin/ies --version)"
