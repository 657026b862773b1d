#!/usr/bin/env bash
# The decoder settings that belong to a model (issue: species vote, NMS radius, minimum
# particles, the last-step filter), one change at a time against the model's own defaults (its
# bundle's; the library's for a bundle that sets none), scored with `nesf eval` on a validation
# set. Prints a Markdown table.
#
# Usage: scripts/model-decoder-settings.sh [MODEL [FILE [THREADS]]]
#        (default: the embedded model, data/lcs6-val.extxyz, 1 thread)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-}"
file="${2:-data/lcs6-val.extxyz}"
threads="${3:-1}"
nesf="${NESF:-target/release/nesf}"
model_args=()
[[ -n "$model" ]] && model_args=(--model "$model")
settings=(
    ""
    "--species-vote probability"
    "--nms-radius 0.4"
    "--nms-radius 0.6"
    "--min-particles 5"
    "--min-particles 10"
    "--min-particles 15"
    "--min-particles 20"
    "--min-particles 25"
    "--min-particles 30"
    "--min-particles 40"
    "--max-last-step 0.5"
    "--max-last-step 1.5"
)
echo "model ${model:-embedded default}, $file"
echo
echo "| setting | structures | atom-count error | position actual (Å) | position detected (Å) | species actual | species detected |"
echo "|---|---|---|---|---|---|---|"
for s in "${settings[@]}"; do
    # shellcheck disable=SC2086
    json=$("$nesf" eval "$file" "${model_args[@]}" --json --threads "$threads" $s)
    python3 - "${s:-model defaults}" "$json" <<'PY'
import json, sys
label, j = sys.argv[1], json.loads(sys.argv[2])
print(f"| {label} | {j['structures']} | {100*j['atom_count_error']:.2f} % | "
      f"{j['position_error_actual']:.4f} | {j['position_error_detected']:.4f} | "
      f"{100*j['species_error_actual']:.2f} % | {100*j['species_error_detected']:.2f} % |")
PY
done
