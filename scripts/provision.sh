#!/usr/bin/env bash
# Installs what nesf's tests need on a fresh machine (idempotent):
# ASE for the interoperability test, and the ONNX Runtime shared library.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import ase" 2>/dev/null; then
    echo "provision: installing ASE (interoperability test)" >&2
    python3 -m pip install --quiet --disable-pip-version-check ase
fi
if [ -f scripts/provision-onnxruntime.sh ]; then
    bash scripts/provision-onnxruntime.sh >/dev/null
fi
