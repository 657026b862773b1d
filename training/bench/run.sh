#!/usr/bin/env bash
# Times one NeSF training step on the same batch in Rust/tch (nesf-train bench-step) and in
# Python PyTorch (step_bench.py, the same networks and weights), alternating the two for
# several rounds in the same run so that both see the same machine load.
#
# Usage: training/bench/run.sh [TRAIN_FILE] [THREADS] [ROUNDS] [STEPS]
#   defaults: data/lcs6-train.extxyz, 2 threads, 3 rounds, 5 timed steps per round
# Python: uses python3 if it imports torch 2.11.0, else .deps/torch-python (install it with
#   python3 -m pip install --target .deps/torch-python torch==2.11.0   # ~2.8 GB with CUDA libs
# because the trainer's CPU-only libtorch install cannot be imported from Python).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
train="${1:-$root/data/lcs6-train.extxyz}"
threads="${2:-2}"
rounds="${3:-3}"
steps="${4:-5}"

bash scripts/provision-libtorch.sh >/dev/null
cargo build -p nesf-train --release --quiet
bin="$root/target/release/nesf-train"

py=(python3)
if ! python3 -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.11.0")' 2>/dev/null; then
    if [[ -d "$root/.deps/torch-python/torch" ]]; then
        export PYTHONPATH="$root/.deps/torch-python${PYTHONPATH:+:$PYTHONPATH}"
    else
        echo "bench: no Python torch 2.11.0; install it with:" >&2
        echo "  python3 -m pip install --target .deps/torch-python torch==2.11.0" >&2
        exit 1
    fi
fi

dump="$(mktemp -d)"
trap 'rm -rf "$dump"' EXIT
"$bin" bench-step --train "$train" --threads "$threads" --steps 0 --warmup 0 --dump "$dump" >/dev/null

median() { python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["median_step_seconds"])'; }
# nesf-train turns off glibc's mmap-served allocations and heap trimming (src/device.rs); the
# same glibc settings for Python, through its tunables, make the comparison like for like.
same_malloc="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"
echo "median seconds per training step ($steps steps, $threads threads); tch and pytorch* run the same"
echo "computation; 'reference' is the reference code's layout (Linear on [h, q] at every layer)"
echo "round  tch     tch-glibc-default  pytorch  pytorch-glibc-default  reference  reference-glibc-default"
for r in $(seq 1 "$rounds"); do
    rust=("$bin" bench-step --train "$train" --threads "$threads" --steps "$steps")
    python=("${py[@]}" -W ignore training/bench/step_bench.py "$dump/batch.pt" --threads "$threads" --steps "$steps")
    a="$("${rust[@]}" | median)"
    a0="$(NESF_TRAIN_SYSTEM_MALLOC=1 "${rust[@]}" | median)"
    b="$(GLIBC_TUNABLES="$same_malloc" "${python[@]}" | median)"
    b0="$("${python[@]}" | median)"
    c="$(GLIBC_TUNABLES="$same_malloc" "${python[@]}" --reference-layout | median)"
    c0="$("${python[@]}" --reference-layout | median)"
    printf '%-6s %-7s %-18s %-8s %-22s %-10s %s\n' "$r" "$a" "$a0" "$b" "$b0" "$c" "$c0"
done
