#!/usr/bin/env bash
# Trains YBCO13 cross-validation folds (the paper's protocol: 20 folds of data/ybco13-folds.json)
# with one recipe, one fold after another on one thread, and scores each on its validation part.
#
#   scripts/ybco13-folds.sh DIR FIRST LAST [-- TRAINER_FLAGS...]
#
# For each fold K in FIRST..LAST, in DIR/foldK:
#   data/          the fold's train / val / test parts (nesf-train split; made when missing)
#   log.jsonl      the training log; checkpoint.pt / best.pt (not tracked)
#   model.nesf     the best epoch by validation loss, exported (nesf-train export)
#   val.json       `nesf eval --json` of model.nesf on the fold's val part
# A fold with model.nesf is skipped; one with only checkpoint.pt is resumed (so an interrupted
# call continues where it stopped: Ctrl-C / SIGINT saves the trainer's state).
# TRAINER_FLAGS replace the recipe below (the LCS6Å long run's: species weight 1.0, no
# encoder-head dropout, cosine schedule; batch 32 because a train part holds 90 structures).
# Then prints the mean over DIR's scored folds of their validation metrics (each fold weighs
# the same, as scripts/results.sh's test rows).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -ge 3 ]] || { sed -n 2,19p "$0" >&2; exit 2; }
dir="$1" first="$2" last="$3"
shift 3
recipe=(--batch-size 32 --lr 1e-3 --species-weight 1.0 --dropout 0 --schedule cosine
    --warmup 5 --epochs 150)
if [[ $# -gt 0 ]]; then
    [[ "$1" == -- ]] || { echo "ybco13-folds.sh: expected -- before trainer flags" >&2; exit 2; }
    shift
    recipe=("$@")
fi
train="${NESF_TRAIN:-target/release/nesf-train}"
nesf="${NESF_CLI:-target/release/nesf}"
for bin in "$train" "$nesf"; do
    [[ -x "$bin" ]] || { echo "ybco13-folds.sh: $bin missing (cargo build --release --workspace)" >&2; exit 2; }
done
for ((k = first; k <= last; k++)); do
    fold="$dir/fold$k"
    mkdir -p "$fold"
    [[ -f "$fold/data/val.extxyz" ]] || "$train" split --data data/ybco13.extxyz \
        --folds data/ybco13-folds.json --fold "fold$k" --out "$fold/data" >&2
    if [[ ! -f "$fold/model.nesf" ]]; then
        if [[ -f "$fold/checkpoint.pt" ]]; then
            "$train" --out "$fold" --resume --threads 1 --no-progress >>"$fold/train.log" 2>&1
        else
            "$train" --train "$fold/data/train.extxyz" --val "$fold/data/val.extxyz" \
                --vocabulary data/ybco13.extxyz --out "$fold" --threads 1 --no-progress \
                "${recipe[@]}" >>"$fold/train.log" 2>&1
        fi
        "$train" export "$fold" --out "$fold/model.nesf" --no-validation >>"$fold/train.log" 2>&1
    fi
    [[ -f "$fold/val.json" ]] || "$nesf" eval --model "$fold/model.nesf" \
        "$fold/data/val.extxyz" --json --threads 1 >"$fold/val.json"
    echo "fold$k: $(cat "$fold/val.json")" >&2
done
python3 - "$dir" <<'PY'
import glob, json, sys
folds = sorted(glob.glob(f"{sys.argv[1]}/fold*/val.json"))
ms = [json.load(open(f)) for f in folds]
if ms:
    m = {k: sum(x[k] for x in ms) / len(ms) for k in ms[0] if isinstance(ms[0][k], (int, float))}
    print(f"{sys.argv[1]}: mean of {len(ms)} folds' val parts: atom-count "
          f"{100 * m['atom_count_error']:.2f} %, position {m['position_error_actual']:.4f} / "
          f"{m['position_error_detected']:.4f} Å, species {100 * m['species_error_actual']:.2f} / "
          f"{100 * m['species_error_detected']:.2f} %, lattice {m['lattice_length_error']:.3f} Å / "
          f"{m['lattice_angle_error_deg']:.2f} deg")
PY
