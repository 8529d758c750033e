#!/usr/bin/env bash
# Set up everything certify needs on a fresh Debian-like machine: system packages
# (libcdd-dev, libgmp-dev for pycddlib 3), a virtual environment in .venv, the package with
# its test extras, and the optional PyTorch CPU build used by the loader tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

missing=()
for pkg in libcdd-dev libgmp-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages ${missing[*]} (needed to build pycddlib 3)." >&2
    echo "setup: run: sudo apt-get install -y ${missing[*]}   then re-run this command." >&2
    exit 1
  fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: certify needs Python >= 3.11; found $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "setup: installing certify and its dependencies into $VENV"
"$VENV/bin/python" -m pip install -q -e ".[test]"
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "setup: installing the optional PyTorch CPU build (torch==2.13.0) for the loader tests"
  "$VENV/bin/python" -m pip install -q "torch==2.13.0" \
    || echo "setup: torch==2.13.0 not available; PyTorch loader tests will be skipped" >&2
fi
touch "$VENV/.certify-installed"
echo "setup: done"
