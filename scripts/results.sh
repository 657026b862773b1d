#!/usr/bin/env bash
# Reproduces the README's results table: the paper's metrics (nesf eval --json) of the shipped
# models on their evaluation sets and the StructureMatcher match rate of the decoded structures
# (python -m nesf.matching: stol 0.5, ltol 0.3, angle_tol 10), as Markdown rows.
#
#   scripts/results.sh [SET...] [-- --limit N]   # SET: lcs6, ybco13, icsg3d (default: all),
#                                                # history; N: only the first N structures
#                                                # of each set
#
# Then one row per training run (training/runs/*/log.jsonl): epochs, best epoch, time.
#
# Rows: the default model (models/default.nesf) on lcs6-val; each trained YBCO13 fold
# ($NESF_YBCO13_RUN/foldK/model.nesf, default training/runs/ybco13; scripts/ybco13-folds.sh
# trains them) on its test part; the ICSG3D models
# (training/runs/icsg3d{,-cosine}/model.nesf) on icsg3d-val. Rows whose model is missing are skipped.
#
# history (not in the default sets; ~1 min per model): the learning curve of the default
# model. Every models/default.nesf that was ever committed, oldest first (git show, so it needs
# the repository's history: not a shallow clone), on lcs6-val and on the first
# $NESF_HISTORY_TRAIN_LIMIT (default 500; --limit N: N) structures of lcs6-train, each row named by its commit,
# date and the CPU-hours of the default model's training lineage logged by that commit (the
# sum of the epoch times in those log.jsonl files as that commit holds them; arms trained side
# by side count both).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/provision-onnxruntime.sh >/dev/null
cargo build --release --quiet --bin nesf
python3 -c "import nesf.matching, pymatgen" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check "./bindings/python[test]"
nesf=target/release/nesf
ybco13_run="${NESF_YBCO13_RUN:-training/runs/ybco13}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sets=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
    case "$1" in
        lcs6 | ybco13 | icsg3d | history) sets+=("$1") ;;
        *) echo "results.sh: unknown set '$1' (lcs6, ybco13, icsg3d, history)" >&2; exit 2 ;;
    esac
    shift
done
[[ $# -gt 0 ]] && shift
extra=("$@")
[[ ${#sets[@]} -gt 0 ]] || sets=(lcs6 ybco13 icsg3d)
want() { [[ " ${sets[*]} " == *" $1 "* ]]; }
# the LCS6Å default model's training lineage: each leg warm-started from the one before (its
# TRAINING.md says how), with the arms trained beside it, up to the leg trained last
lineage=(training/runs/lcs6/log.jsonl training/runs/lcs6-species/log.jsonl training/runs/lcs6-nodrop/log.jsonl training/runs/lcs6-hard/log.jsonl
    training/study/c8-control/log.jsonl training/study/c8-lr/log.jsonl training/runs/lcs6-soup/lo/log.jsonl training/runs/lcs6-soup/hi/log.jsonl
    training/runs/lcs6-soup2/lo/log.jsonl training/runs/lcs6-soup2/hi/log.jsonl training/runs/lcs6-soup3/lo/log.jsonl training/runs/lcs6-soup3/hi/log.jsonl
    training/runs/lcs6-soup4/hi/log.jsonl training/runs/lcs6-soup4/top/log.jsonl training/runs/lcs6-soup5/top/log.jsonl training/runs/lcs6-soup5/max/log.jsonl
    training/runs/lcs6-soup6/max/log.jsonl training/runs/lcs6-soup6/peak/log.jsonl
    training/runs/lcs6-soup7/peak/log.jsonl training/runs/lcs6-soup7/double/log.jsonl
    training/runs/lcs6-soup8/peak/log.jsonl training/runs/lcs6-soup8/posw/log.jsonl
    training/runs/lcs6-soup9/posw/log.jsonl training/runs/lcs6-soup9/quarter/log.jsonl
    training/runs/lcs6-soup10/posw/log.jsonl training/runs/lcs6-soup10/hard/log.jsonl
    training/runs/lcs6-soup11/hard/log.jsonl training/runs/lcs6-soup11/harder/log.jsonl
    training/runs/lcs6-soup12/hard/log.jsonl training/runs/lcs6-soup12/drop/log.jsonl
    training/runs/lcs6-soup13/hard/log.jsonl training/runs/lcs6-soup13/drop/log.jsonl
    training/runs/lcs6-soup14/drop/log.jsonl training/runs/lcs6-soup14/drop2/log.jsonl
    training/runs/lcs6-soup15/drop/log.jsonl training/runs/lcs6-soup15/lo/log.jsonl)

# row NAME MODEL FILE POINTS [EVAL_ARGS...]: one table row, the model decoding FILE with
# `nesf eval EVAL_ARGS`; with POINTS (a file; "" for none) the metrics and match JSON are also
# appended to it as one line. Skipped when MODEL is missing.
row() {
    local name="$1" model="$2" file="$3" points="$4"
    shift 4
    [[ -f "$model" ]] || return 0
    # the match rate covers the structures evaluated: the first N with --limit N
    local args=("$@") match_limit=() i
    for ((i = 0; i + 1 < ${#args[@]}; i++)); do
        [[ "${args[$i]}" == --limit ]] && match_limit=(--limit "${args[$((i + 1))]}")
    done
    local start json match
    start=$(date +%s)
    json=$("$nesf" eval --model "$model" "$file" --json -o "$tmp/decoded.extxyz" "${args[@]}")
    local seconds=$(($(date +%s) - start))
    match=$(python3 -m nesf.matching "$file" "$tmp/decoded.extxyz" --json "${match_limit[@]}" |
        python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))')
    [[ -z "$points" ]] || echo "$json $match" >> "$points"
    python3 - "$name" "$json" "$match" "$seconds" <<'PY'
import json, sys
name, m, match, seconds = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
rmse = "-" if match["mean_rmse"] is None else f"{match['mean_rmse']:.3f}"
print(f"| {name} | {m['structures']} | {m['failures']} | {100 * m['atom_count_error']:.2f} % "
      f"| {m['position_error_actual']:.4f} | {m['position_error_detected']:.4f} "
      f"| {100 * m['species_error_actual']:.2f} % | {100 * m['species_error_detected']:.2f} % "
      f"| {m['lattice_length_error']:.3f} | {m['lattice_angle_error_deg']:.2f} "
      f"| {100 * match['rate']:.2f} % | {rmse} | {seconds} s |")
PY
}

echo "| model on set | structures | failures | atom-count error | position error actual (Å) | position error detected (Å) | species error actual | species error detected | lattice length error (Å) | lattice angle error (°) | match rate | match RMSE | eval time |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
if want lcs6; then
    row "default (LCS6Å) on lcs6-val" models/default.nesf data/lcs6-val.extxyz "" "${extra[@]}"
fi
if want ybco13; then
    # The folds' data parts are not tracked: nesf-train split makes them again, byte for byte,
    # from data/ybco13.extxyz and data/ybco13-folds.json (the trainer needs libtorch).
    missing=()
    for fold in "$ybco13_run"/fold*/; do
        [[ -f "${fold}data/test.extxyz" ]] || missing+=("${fold%/}")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        bash scripts/provision-libtorch.sh >/dev/null
        cargo build --release --quiet -p nesf-train
        for fold in "${missing[@]}"; do
            target/release/nesf-train split --data data/ybco13.extxyz \
                --folds data/ybco13-folds.json --fold "$(basename "$fold")" --out "$fold/data" >&2
        done
    fi
    fold_jsons=$(mktemp)
    for fold in "$ybco13_run"/fold*/; do
        fold="${fold%/}"
        row "YBCO13 $(basename "$fold") on its test part" "$fold/model.nesf" \
            "$fold/data/test.extxyz" "$fold_jsons" "${extra[@]}"
    done
    # the mean over the trained folds (each fold weighs the same)
    python3 - "$fold_jsons" <<'PY'
import json, sys
folds, matches = [], []
for line in open(sys.argv[1]):
    if line.strip():
        metrics, end = json.JSONDecoder().raw_decode(line)
        folds.append(metrics)
        matches.append(json.loads(line[end:]))
if folds:
    m = {k: sum(f[k] for f in folds) / len(folds) for k in folds[0]}
    rate = sum(x["rate"] for x in matches) / len(matches)
    print(f"| YBCO13 mean of {len(folds)} folds | {sum(f['structures'] for f in folds)} "
          f"| {sum(f['failures'] for f in folds)} | {100 * m['atom_count_error']:.2f} % "
          f"| {m['position_error_actual']:.4f} | {m['position_error_detected']:.4f} "
          f"| {100 * m['species_error_actual']:.2f} % | {100 * m['species_error_detected']:.2f} % "
          f"| {m['lattice_length_error']:.3f} | {m['lattice_angle_error_deg']:.2f} "
          f"| {100 * rate:.2f} % | | |")
PY
    rm -f "$fold_jsons"
fi
if want icsg3d; then
    row "ICSG3D on icsg3d-val" training/runs/icsg3d/model.nesf data/icsg3d-val.extxyz "" "${extra[@]}"
    row "ICSG3D, LCS6Å recipe (icsg3d-cosine), on icsg3d-val" \
        training/runs/icsg3d-cosine/model.nesf data/icsg3d-val.extxyz "" "${extra[@]}"
fi
if want history; then
    if [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
        echo "results.sh: history needs the repository's history; this clone is shallow (git fetch --unshallow)" >&2
        exit 2
    fi
    train_limit="${NESF_HISTORY_TRAIN_LIMIT:-500}"
    # the training rows take their own --limit in place of the caller's
    # (the caller's --limit N, where given, limits them too)
    train_extra=()
    for ((i = 0; i < ${#extra[@]}; i++)); do
        if [[ "${extra[$i]}" == --limit ]]; then
            i=$((i + 1))
            train_limit="${extra[$i]}"
        else
            train_extra+=("${extra[$i]}")
        fi
    done
    for commit in $(git log --reverse --format=%h -- models/default.nesf); do
        git show "$commit:models/default.nesf" > "$tmp/history.nesf"
        # CPU-hours of the lineage's logs as this commit holds them
        hours=$(for log in "${lineage[@]}"; do git show "$commit:$log" 2>/dev/null || true; done |
            python3 -c 'import json, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
print("%.1f" % (sum(r["seconds"] + r.get("val_seconds", 0.0) for r in rows) / 3600))')
        name="$commit $(git show -s --format=%cs "$commit") ($hours CPU-h)"
        # the curve's points: "HOURS METRICS MATCH" per model, lcs6-val only
        echo -n "$hours " >> "$tmp/curve.jsonl"
        row "$name on lcs6-val" "$tmp/history.nesf" data/lcs6-val.extxyz "$tmp/curve.jsonl" "${extra[@]}"
        row "$name on lcs6-train[:$train_limit]" "$tmp/history.nesf" data/lcs6-train.extxyz "" \
            "${train_extra[@]}" --limit "$train_limit"
    done
    # where the two lcs6-val metrics still above the paper's would reach it: a straight line in
    # log(error) against log(CPU-hours) through the last NESF_HISTORY_FIT (default 6) models
    python3 - "$tmp/curve.jsonl" "${NESF_HISTORY_FIT:-6}" <<'PY'
import json, math, sys
points = []
for line in open(sys.argv[1]):
    hours, rest = line.split(" ", 1)
    metrics, _ = json.JSONDecoder().raw_decode(rest)
    points.append((float(hours), metrics))
last = points[-int(sys.argv[2]):]
print()
for key, paper, unit in (("atom_count_error", 0.0635, "%"), ("position_error_actual", 0.1161, "Å")):
    if any(m[key] <= 0 for _, m in last):
        print(f"{key}: 0 for one of the last {len(last)} models; no line to fit")
        continue
    xs = [math.log(h) for h, _ in last]
    ys = [math.log(m[key]) for _, m in last]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx == 0:
        print(f"{key}: too few models to fit")
        continue
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    scale = 100 if unit == "%" else 1
    line = (f"{key} over the last {n} models ({last[0][0]:.1f}-{last[-1][0]:.1f} CPU-h): "
            f"{scale * last[-1][1][key]:.4g} {unit} now, slope {slope:.2f} in log-log")
    if last[-1][1][key] <= paper:
        line += f"; already at or under the paper's {scale * paper:.4g} {unit}"
    elif slope < 0:
        hours = math.exp(mx + (math.log(paper) - my) / slope)
        line += f"; reaches the paper's {scale * paper:.4g} {unit} at {hours:.0f} CPU-h on that line"
    else:
        line += "; not falling"
    print(line)
PY
fi

echo
echo "| training run | epochs logged | best epoch (validation loss) | training time (sum of epoch times) |"
echo "|---|---|---|---|"
logs=()
want lcs6 && logs+=("${lineage[@]}")
want ybco13 && logs+=("$ybco13_run"/fold*/log.jsonl)
want icsg3d && logs+=(training/runs/icsg3d/log.jsonl training/runs/icsg3d-cosine/log.jsonl)
for log in "${logs[@]}"; do
    [[ -f "$log" ]] || continue
    python3 - "$log" <<'PY'
import json, sys
path = sys.argv[1]
rows = [json.loads(line) for line in open(path) if line.strip()]
best = min(rows, key=lambda r: r["val_loss"])
hours = sum(r["seconds"] + r.get("val_seconds", 0.0) for r in rows) / 3600
print(f"| {path.rsplit('/', 1)[0]} | {len(rows)} | {best['epoch']} ({best['val_loss']:.4f}) | {hours:.2f} h |")
PY
done
