#!/usr/bin/env bash
# Session 6's study (training/runs/lcs6-species/TRAINING.md): after two cosine cycles the
# long run gained little, and its training species cross-entropy (0.92) is no lower than the
# validation one: it underfits. One change against a control, at equal compute (the same
# number of epochs, one libtorch thread each): a new run from the long run's best weights
# (epoch 74; $NESF_STUDY_BASE, default training/runs/lcs6-species/best.pt), fresh Adam,
# species weight 1.0, cosine from lr $LR (default 5e-5; 0.5-epoch warm-up) to 0 over $EPOCHS (default 10):
#   c3-control  the long run's recipe (encoder-head dropout 0.3)
#   c3-nodrop   the same without the encoder-head dropout (--dropout 0)
# then exports the latest weights and scores them by decoding all of lcs6-val.
#
# Session 8's study (training/runs/lcs6-hard/TRAINING.md, "The study"): the
# same from the long run's next best weights (training/runs/lcs6-nodrop/best.pt, epoch 74),
# both without dropout:
#   c4-control  the long run's recipe
#   c4-hard     the same with half of every epoch's draws picked by the structures' latest
#               training loss (--hard-sampling 0.5)
#
# Session 9's study (training/runs/lcs6-hard/TRAINING.md): against c4-hard as the control,
#   c5-boundary c4-hard with a quarter of the global grid's points per structure (308 of 1232)
#               moved to points near the faces of the atoms' Voronoi cells, where the position
#               field jumps (--global-fraction 0.75 --boundary-points 308: the same number of
#               query points)
#   c5-position c4-hard with the position-field MSE weighted 20 instead of 10 (atom counts and
#               spurious atoms come from the position field)
#
# Session 10's study (training/runs/lcs6-hard/TRAINING.md): against c4-hard as the control,
#   c6-species  c4-hard with 54 of the 216 species query points per atom (--species-points 54):
#               ~35 % fewer query points per batch, so more epochs in the same CPU time
#               (EPOCHS=13 against the control's 10: its epochs took 166 s against 220 s)
#   c7-lr       c4-hard with a peak learning rate of 1.5e-4 instead of 5e-5 (the position
#               field underfits: training structures miss more atoms than lcs6-val's)
#
# Session 11's study (training/runs/lcs6-hard/TRAINING.md): c7-lr again, now as the next leg of
# the long run: both arms warm-start from the shipped model's weights (the mean of lcs6-hard
# epochs 73-80), keep every epoch's weights and are scored as the mean of their cosine's tail
# (single late epochs scatter with the BatchNorm statistics), EPOCHS (default 22) each:
#   c8-control  c4-hard's recipe (peak lr 5e-5)
#   c8-lr       the same with a peak lr of 1.5e-4
#
# NESF_STUDY_DECODE_FROM (default models/default.nesf) is the bundle whose decoder defaults the
# arms' bundles take; give the control's (training/study/c4-hard/model.nesf) to score an arm
# with the decoder settings the control was scored with.
#
# Usage: training/study/third-cycle.sh ARM...
# Writes training/study/ARM/{log.jsonl,train.log,model.nesf,eval.json}.
set -uo pipefail
cd "$(dirname "$0")/../.."
base="${NESF_STUDY_BASE:-training/runs/lcs6-species/best.pt}"
epochs="${EPOCHS:-10}"
train="${NESF_STUDY_TRAIN:-target/release/nesf-train}"
nesf="${NESF_STUDY_NESF:-target/release/nesf}"
decode_from="${NESF_STUDY_DECODE_FROM:-models/default.nesf}"

run_arm() {  # NAME FLAGS...
    local name="$1"; shift
    local dir="training/study/$name" start; start=$(date +%s)
    mkdir -p "$dir"
    if [ -f "$dir/checkpoint.pt" ]; then
        "$train" --out "$dir" --resume --threads 1 --no-progress >>"$dir/train.log" 2>&1
    else
        "$train" --train data/lcs6-train.extxyz --val data/lcs6-val.extxyz --out "$dir" \
            --init-from "$base" --threads 1 --no-progress --species-weight 1.0 \
            --lr "${LR:-5e-5}" --schedule cosine --warmup 0.5 --epochs "${ARM_EPOCHS:-$epochs}" "$@" \
            >>"$dir/train.log" 2>&1
    fi || return
    echo "arm: trained for $(( $(date +%s) - start )) s" >>"$dir/train.log"
    "$train" export "$dir" --out "$dir/model.nesf" --latest --no-validation \
        --decode-from "$decode_from" >>"$dir/train.log" 2>&1
    "$nesf" eval --model "$dir/model.nesf" data/lcs6-val.extxyz --json --threads 1 \
        >"$dir/eval.json"
    echo "$name $(cat "$dir/eval.json")"
}

for a in "$@"; do
    case "$a" in
        c3-control) run_arm c3-control ;;
        c3-nodrop)  run_arm c3-nodrop --dropout 0 ;;
        c5-boundary)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-nodrop/best.pt}"
            run_arm c5-boundary --dropout 0 --hard-sampling 0.5 \
                --global-fraction 0.75 --boundary-points 308 ;;
        c6-species)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-nodrop/best.pt}"
            run_arm c6-species --dropout 0 --hard-sampling 0.5 --species-points 54 ;;
        c7-lr)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-nodrop/best.pt}"
            LR=1.5e-4 run_arm c7-lr --dropout 0 --hard-sampling 0.5 ;;
        c8-control|c8-lr)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-hard/average-e73-e80.pt}"
            lr=5e-5; [ "$a" = c8-lr ] && lr=1.5e-4
            ARM_EPOCHS="${EPOCHS:-22}" LR=$lr run_arm "$a" --dropout 0 --hard-sampling 0.5 \
                --keep-epochs ;;
        c5-position)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-nodrop/best.pt}"
            run_arm c5-position --dropout 0 --hard-sampling 0.5 --position-weight 20 ;;
        c4-control|c4-hard)
            base="${NESF_STUDY_BASE:-training/runs/lcs6-nodrop/best.pt}"
            if [ "$a" = c4-hard ]; then
                run_arm c4-hard --dropout 0 --hard-sampling 0.5
            else
                run_arm c4-control --dropout 0
            fi ;;
        *) echo "unknown arm $a" >&2; exit 2 ;;
    esac
done
