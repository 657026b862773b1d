#!/usr/bin/env bash
# Provisions the ONNX Runtime shared library (CPU build) for the `ort` crate's `load-dynamic`
# feature: takes it from the Python package index's `onnxruntime` wheel through pip's ordinary
# client and unpacks it into .deps/onnxruntime/ at the repository root. Idempotent: does nothing
# when the library is already there. Prints the path of libonnxruntime.so on success.
#
# Usage: scripts/provision-onnxruntime.sh
# Environment: ORT_VERSION (default 1.31.1), PYTHON (default python3).
set -euo pipefail

version="${ORT_VERSION:-1.31.1}"
python="${PYTHON:-python3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.deps/onnxruntime"
lib="libonnxruntime.so.$version"

if [[ -f "$dest/$lib" && -f "$dest/libonnxruntime_providers_shared.so" && -L "$dest/libonnxruntime.so" ]]; then
    echo "$dest/libonnxruntime.so"
    exit 0
fi

case "$(uname -m)" in
    x86_64 | amd64) platform=manylinux_2_28_x86_64 ;;
    aarch64 | arm64) platform=manylinux_2_28_aarch64 ;;
    *)
        echo "provision-onnxruntime: no onnxruntime wheel for machine type $(uname -m)" >&2
        exit 1
        ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "provision-onnxruntime: downloading onnxruntime==$version ($platform)" >&2
"$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform "$platform" "onnxruntime==$version" -d "$tmp/wheels" >&2

wheel="$(find "$tmp/wheels" -maxdepth 1 -name 'onnxruntime-*.whl' | head -n 1)"
if [[ -z "$wheel" ]]; then
    echo "provision-onnxruntime: pip returned no onnxruntime wheel" >&2
    exit 1
fi

# A wheel is a zip archive; Python's zipfile avoids depending on an `unzip` binary.
"$python" - "$wheel" "$tmp/unpacked" "$lib" <<'PY'
import sys, zipfile
wheel, out, lib = sys.argv[1:4]
wanted = {"onnxruntime/capi/" + lib, "onnxruntime/capi/libonnxruntime_providers_shared.so"}
with zipfile.ZipFile(wheel) as z:
    missing = wanted - set(z.namelist())
    if missing:
        sys.exit("provision-onnxruntime: the wheel lacks " + ", ".join(sorted(missing)))
    for name in wanted:
        z.extract(name, out)
PY

mkdir -p "$dest"
install -m 0755 "$tmp/unpacked/onnxruntime/capi/$lib" "$dest/$lib"
install -m 0755 "$tmp/unpacked/onnxruntime/capi/libonnxruntime_providers_shared.so" \
    "$dest/libonnxruntime_providers_shared.so"
ln -sfn "$lib" "$dest/libonnxruntime.so"

echo "$dest/libonnxruntime.so"
