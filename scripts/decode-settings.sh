#!/usr/bin/env bash
# Measures the fast decoder's work savers against the exact (reference) decoder: for each data
# set and its model, `nesf eval --exact` once, then `nesf eval` with each fast setting, and
# prints the metrics and the wall time of every run as a table (Markdown).
#
# Usage: scripts/decode-settings.sh [THREADS]   (default 1)
# Sets: lcs6-val (default model), ybco13 (the YBCO13 fold-0 model), icsg3d-val (the ICSG3D model).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-1}"
nesf="${NESF:-target/release/nesf}"
settings=(
    "--retire-below 0.001 --merge-below 0"
    "--retire-below 0.001 --merge-below 0.01"
    "--retire-below 0.001 --merge-below 0.03"
    "--retire-below 0.001 --merge-below 0.05"
    "--retire-below 0.001 --merge-below 0.1"
    "--retire-below 0.003 --merge-below 0.03"
    "--retire-below 0.001 --merge-below 0.03 --drop-outside 1"
)
row() {  # LABEL FLAGS... -> one table row
    local label="$1"; shift
    local t0 t1 json
    t0=$(date +%s.%N)
    json=$("$nesf" eval "$@" --json --threads "$threads")
    t1=$(date +%s.%N)
    python3 - "$label" "$t0" "$t1" "$json" <<'PY'
import json, sys
label, t0, t1, j = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])
print(f"| {label} | {j['structures']} | {100*j['atom_count_error']:.2f} % | "
      f"{j['position_error_actual']:.4f} | {j['position_error_detected']:.4f} | "
      f"{100*j['species_error_actual']:.2f} % | {100*j['species_error_detected']:.2f} % | "
      f"{t1-t0:.1f} s |")
PY
}
echo "| set, setting | structures | atom-count error | position actual (Å) | position detected (Å) | species actual | species detected | wall time |"
echo "|---|---|---|---|---|---|---|---|"
for set in "lcs6-val data/lcs6-val.extxyz" \
           "ybco13 data/ybco13.extxyz --model training/runs/ybco13/fold0/model.nesf" \
           "icsg3d-val data/icsg3d-val.extxyz --model training/runs/icsg3d/model.nesf"; do
    read -r name args <<<"$set"
    # shellcheck disable=SC2086
    row "$name, exact" $args --exact
    for s in "${settings[@]}"; do
        # shellcheck disable=SC2086
        row "$name, $s" $args $s
    done
done
