#!/usr/bin/env bash
# Installs what nesf's tests need on a fresh machine (idempotent):
# ASE for the interoperability test, the ONNX Runtime shared library, and the tools the C ABI
# tests use (CMake, gfortran, valgrind, pkg-config; from Debian's archive when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import ase" 2>/dev/null; then
    echo "provision: installing ASE (interoperability test)" >&2
    python3 -m pip install --quiet --disable-pip-version-check ase
fi
missing=()
for tool in cmake:cmake gfortran:gfortran valgrind:valgrind pkg-config:pkg-config cc:gcc c++:g++; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "provision: installing ${missing[*]} (C ABI tests)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash scripts/provision-onnxruntime.sh >/dev/null
