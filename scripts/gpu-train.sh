#!/usr/bin/env bash
# Trains a run on a lent GPU machine (issue "A default model at the paper's accuracy", item 4).
# The GPU machine has no Rust and no network but PyTorch 2.11.0 (CUDA 13) in its own Python,
# the same libtorch the trainer is built against here (scripts/provision-libtorch.sh), so the
# trainer binary built here runs there on that Python's libraries.
#
#   scripts/gpu-train.sh prepare
#       here: builds the trainer and writes a stripped copy to .gpu/nesf-train (ignored by git;
#       the debug info would not fit the 64 MiB the device tool carries). The run's
#       checkpoint.pt is tracked, so it travels with the working tree.
#   scripts/gpu-train.sh train RUN MINUTES [EPOCHS|fit] [-- TRAINER-ARGS...]
#       there (device tool: carry [".gpu"]): resumes RUN (e.g. training/runs/lcs6-hard) on
#       the GPU for MINUTES of wall-clock time (then SIGINT: the trainer saves a mid-epoch
#       checkpoint), with EPOCHS as the run's new epoch count when given (a cosine run then
#       stretches its schedule to it; `fit`: times one epoch on the GPU, then sets the epoch
#       count to what the rest of MINUTES holds, so the cosine ends inside the budget), and
#       copies checkpoint.pt, best.pt, log.jsonl and the trainer's output to $OUT (or
#       ./gpu-out when OUT is unset). Copy them back into RUN here and continue with
#       `nesf-train --out RUN --resume` on CPU or GPU.
#
# Environment for `train`: DEVICE (cuda; cpu to try the script without a GPU), THREADS (data
# preparation and libtorch CPU threads, default: all cores), NESF_TRAIN (the binary, default
# .gpu/nesf-train), TORCH_LIB (libtorch's folder, default: that of python3's torch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
    sed -n '/^#   scripts/,/^# Environment/p' "$0" >&2
    exit 2
}

case "${1:-}" in
    prepare)
        bash scripts/provision-libtorch.sh >/dev/null
        cargo build --release --quiet -p nesf-train
        mkdir -p .gpu
        strip -o .gpu/nesf-train.tmp target/release/nesf-train
        mv .gpu/nesf-train.tmp .gpu/nesf-train
        ls -l .gpu/nesf-train
        ;;
    train)
        [[ $# -ge 3 ]] || usage
        run="$2"
        minutes="$3"
        shift 3
        epochs=()
        fit=0
        if [[ $# -gt 0 && "$1" != "--" ]]; then
            if [[ "$1" == fit ]]; then fit=1; else epochs=(--epochs "$1"); fi
            shift
        fi
        [[ "${1:-}" == "--" ]] && shift
        [[ -f "$run/checkpoint.pt" ]] || { echo "gpu-train: no $run/checkpoint.pt" >&2; exit 1; }
        train="${NESF_TRAIN:-.gpu/nesf-train}"
        [[ -x "$train" ]] || { echo "gpu-train: no $train (run 'prepare' here first)" >&2; exit 1; }
        if [[ -z "${TORCH_LIB:-}" ]]; then
            TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__) + "/lib")')"
        fi
        # libtorch's CUDA 13 runtime libraries live in the nvidia wheels beside torch
        site="$(dirname "$(dirname "$TORCH_LIB")")"
        extra="$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':' || true)"
        export LD_LIBRARY_PATH="$TORCH_LIB:$extra${LD_LIBRARY_PATH:-}"
        out="${OUT:-$root/gpu-out}"
        mkdir -p "$out"
        device="${DEVICE:-cuda}"
        threads="${THREADS:-$(nproc)}"
        [[ "$device" == cuda ]] && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
        budget=$((minutes * 60))
        start=$(date +%s)
        resume=(--out "$run" --resume --device "$device" --threads "$threads" --no-progress)
        set +e
        if [[ $fit == 1 ]]; then
            # time one epoch on this machine (the run's next, with the run ending there, so
            # its learning rate is low), then fit the epoch count to the rest of the budget
            last=$(tail -n 1 "$run/log.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])')
            timeout --preserve-status -s INT -k 60 "$budget" "$train" "${resume[@]}" \
                --epochs $((last + 1)) "$@" 2>&1 | tee "$out/train.log"
            # an epoch's time from its throughput (the epoch may have started mid-way)
            secs=$(python3 - "$run/log.jsonl" "$out/train.log" <<'PY'
import json, re, sys
line = json.loads(open(sys.argv[1]).read().splitlines()[-1])
n = int(re.search(r"(\d+) training", open(sys.argv[2]).read()).group(1))
print(n / line["structures_per_second"] + line["val_seconds"])
PY
            )
            left=$((budget - ($(date +%s) - start)))
            n=$(python3 -c "print($last + 1 + max(1, int((0.95 * $left - 10) / $secs)))")
            echo "gpu-train: an epoch takes $secs s here; the run now ends at epoch $n" |
                tee -a "$out/train.log"
            epochs=(--epochs "$n")
        else
            left=$budget
        fi
        (( left > 0 )) || left=1
        timeout --preserve-status -s INT -k 60 "$left" "$train" "${resume[@]}" "${epochs[@]}" \
            "$@" 2>&1 | tee -a "$out/train.log"
        rc=${PIPESTATUS[0]}
        set -e
        for f in checkpoint.pt best.pt log.jsonl; do
            [[ -f "$run/$f" ]] && cp "$run/$f" "$out/$f"
        done
        echo "gpu-train: trainer exit status $rc; $(ls "$out" | tr '\n' ' ')in $out"
        # 0: finished; 130: stopped by the time limit with its state saved
        [[ $rc -eq 0 || $rc -eq 130 ]]
        ;;
    *) usage ;;
esac
