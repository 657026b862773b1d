#!/usr/bin/env bash
# Tests the Python package (bindings/python) on a fresh machine, after `cargo build --release`:
# installs it with its test requirements (pytest, ase, pymatgen; numpy and onnxruntime are
# dependencies) into python3, then runs its tests against the installed package.
#
# Usage: scripts/test-python.sh [PYTEST ARGS...]
# Environment: PYTHON (default python3); NESF_LIBRARY to bundle another libnesf.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
"$python" -m pip install --quiet --disable-pip-version-check "./bindings/python[test]"
# From the repository root the source tree's package (bindings/python/nesf) is not on sys.path,
# and bindings/python/pyproject.toml sets --import-mode=importlib: the installed package runs.
"$python" -m pytest -q bindings/python/tests "$@"
