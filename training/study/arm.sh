#!/usr/bin/env bash
# The recipe study (training/runs/lcs6/TRAINING.md, "Recipe study"): each arm is a new run that
# starts from the weights of $NESF_STUDY_BASE (default training/runs/lcs6/checkpoint.pt, which
# is no longer tracked: `git show 2433c24:training/runs/lcs6/checkpoint.pt > base.pt` restores
# the one the 2026-12-02 study used),
# trains on one thread for BUDGET minutes of wall-clock time (default 15) with a cosine
# schedule whose epoch count is fitted to the budget from the time of the arm's first epoch,
# then exports its latest weights and scores them by decoding the first 64 lcs6-val structures
# with the reference decoder (nesf eval --exact).
#
# Usage: training/study/arm.sh ARM...   (ARM: cosine species lattice query batch32)
# Writes training/study/ARM/{log.jsonl,train.log,model.nesf,eval.json}.
set -uo pipefail
cd "$(dirname "$0")/../.."
budget="${BUDGET:-15}"
base="${NESF_STUDY_BASE:-training/runs/lcs6/checkpoint.pt}"
common=(--lr 2e-4 --schedule cosine --warmup 0.2)
train="${NESF_STUDY_TRAIN:-target/release/nesf-train}"
nesf="${NESF_STUDY_NESF:-target/release/nesf}"

run_arm() {  # NAME GUESSED_EPOCHS FLAGS...
    local name="$1" guess="$2"; shift 2
    local dir="training/study/$name" start; start=$(date +%s)
    mkdir -p "$dir"
    timeout -s TERM "${budget}m" "$train" --train data/lcs6-train.extxyz \
        --val data/lcs6-val.extxyz --out "$dir" --init-from "$base" --threads 1 --no-progress \
        "${common[@]}" --epochs "$guess" "$@" >"$dir/train.log" 2>&1 &
    local pid=$!
    while [ ! -s "$dir/log.jsonl" ] && kill -0 "$pid" 2>/dev/null; do sleep 5; done
    if [ -s "$dir/log.jsonl" ]; then
        local secs n
        secs=$(head -1 "$dir/log.jsonl" | python3 -c \
            'import json,sys; l=json.load(sys.stdin); print(l["seconds"]+l["val_seconds"])')
        n=$(python3 -c "print(max(1, int(${budget}*60/${secs})))")
        if [ "$n" != "$guess" ]; then
            echo "arm: epoch 1 took ${secs} s: ${n} epochs fill ${budget} min" >>"$dir/train.log"
            kill -TERM "$pid" 2>/dev/null; wait "$pid"
            local left=$(( budget * 60 - ($(date +%s) - start) ))
            timeout -s TERM "${left}s" "$train" --out "$dir" --resume --epochs "$n" \
                --threads 1 --no-progress >>"$dir/train.log" 2>&1
        else
            wait "$pid"
        fi
    else
        wait "$pid"
    fi
    echo "arm: trained for $(( $(date +%s) - start )) s" >>"$dir/train.log"
    "$train" export "$dir" --out "$dir/model.nesf" --latest >>"$dir/train.log" 2>&1
    "$nesf" eval --model "$dir/model.nesf" data/lcs6-val.extxyz --limit 64 \
        --json --threads 1 ${NESF_STUDY_EVAL_FLAGS:-} >"$dir/eval.json"
    echo "$name $(cat "$dir/eval.json")"
}

for a in "$@"; do
    case "$a" in
        cosine)  run_arm cosine 4 ;;
        species) run_arm species 4 --species-weight 1.0 ;;
        lattice) run_arm lattice 4 --lengths-weight 10 --angles-weight 100 ;;
        query)   run_arm query 9 --global-fraction 0.25 --species-points 54 ;;
        batch32) run_arm batch32 4 --batch-size 32 ;;
        *) echo "unknown arm $a" >&2; exit 2 ;;
    esac
done
