#!/usr/bin/env bash
# Provisions libtorch for the trainer (training/, crate `nesf-train`, built on `tch` 0.24).
#
# tch 0.24 pins libtorch 2.11.0. libtorch is taken from the Python package index's `torch` wheel
# of exactly that version through pip's ordinary client, installed without dependencies into
# .deps/libtorch/ at the repository root. On x86_64 that wheel is a CUDA 13 build: even
# libtorch_cpu.so needs libcudart.so.13 and libcupti.so.13, which the two small nvidia wheels
# below provide (their versions are the ones torch 2.11.0's metadata requires). The rest of the
# CUDA stack (cuBLAS, cuDNN, ...) is not installed: the trainer then runs on CPU only. Set
# NESF_LIBTORCH_CUDA=1 to install torch with all its dependencies instead (about 2.8 GB).
#
# Idempotent: does nothing when the right torch version is already there.
# Prints the libtorch directory (the value of LIBTORCH) on success.
#
# Usage: scripts/provision-libtorch.sh
# Environment: PYTHON (default python3), NESF_LIBTORCH_CUDA (default 0).
set -euo pipefail

torch_version="2.11.0"
cudart_version="13.0.96"
cupti_version="13.0.85"
python="${PYTHON:-python3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.deps/libtorch"
stamp="$dest/.provisioned-torch-$torch_version"

if [[ -f "$stamp" && -f "$dest/torch/lib/libtorch_cpu.so" ]]; then
    echo "$dest/torch"
    exit 0
fi

case "$(uname -m)" in
    x86_64 | amd64) ;;
    *)
        # Other machine types get a CPU torch wheel without the nvidia libraries.
        echo "provision-libtorch: note: machine type $(uname -m), installing torch only" >&2
        ;;
esac

rm -rf "$dest"
mkdir -p "$dest"
echo "provision-libtorch: installing torch==$torch_version into $dest (about 530 MB download)" >&2
if [[ "${NESF_LIBTORCH_CUDA:-0}" == "1" ]]; then
    "$python" -m pip install --quiet --disable-pip-version-check --target "$dest" \
        "torch==$torch_version" >&2
elif [[ "$(uname -m)" == x86_64 || "$(uname -m)" == amd64 ]]; then
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$dest" \
        "torch==$torch_version" "nvidia-cuda-runtime==$cudart_version" \
        "nvidia-cuda-cupti==$cupti_version" >&2
else
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$dest" \
        "torch==$torch_version" >&2
fi

if [[ ! -f "$dest/torch/lib/libtorch_cpu.so" ]]; then
    echo "provision-libtorch: the installed torch lacks lib/libtorch_cpu.so" >&2
    exit 1
fi
touch "$stamp"
echo "$dest/torch"
