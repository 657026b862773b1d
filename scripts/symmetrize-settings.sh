#!/usr/bin/env bash
# Measures symmetrised decoding (--symmetrize SYMPREC) with the default model on lcs6-val: the
# paper's metrics (nesf eval --json) and the StructureMatcher match rate (python -m
# nesf.matching: stol 0.5, ltol 0.3, angle_tol 10) without symmetrisation and at several
# tolerances, as Markdown rows.
#
#   scripts/symmetrize-settings.sh [THREADS] [FILE] [SYMPREC...]
#   defaults: 1 thread, data/lcs6-val.extxyz, 0 (off) 0.01 0.05 0.1 0.2 0.3
#   NESF_MODEL=BUNDLE scores that bundle instead of the embedded default model (its other
#   decoder defaults apply).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
threads="${1:-1}"
file="${2:-data/lcs6-val.extxyz}"
shift $(($# > 2 ? 2 : $#))
tolerances=("$@")
[[ ${#tolerances[@]} -gt 0 ]] || tolerances=(0 0.01 0.05 0.1 0.2 0.3)

bash scripts/provision-onnxruntime.sh >/dev/null
cargo build --release --quiet --bin nesf
python3 -c "import nesf.matching, pymatgen" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check "./bindings/python[test]"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "| symprec (Å) | atom-count error | position error actual / detected (Å) | species error actual / detected | lattice length (Å) / angle (°) error | match rate | mean RMSE | decode time |"
echo "|---|---|---|---|---|---|---|---|"
for t in "${tolerances[@]}"; do
    # always explicit: without it the model's own default (0.3 Å for the shipped model) applies
    args=(--symmetrize="$t")
    [[ -n "${NESF_MODEL:-}" ]] && args+=(--model "$NESF_MODEL")
    start=$(date +%s)
    json=$(target/release/nesf eval "$file" --json --threads "$threads" "${args[@]}" -o "$tmp/decoded.extxyz")
    seconds=$(($(date +%s) - start))
    match=$(python3 -m nesf.matching "$file" "$tmp/decoded.extxyz" --json)
    python3 - "$t" "$json" "$match" "$seconds" <<'PY'
import json, sys
t, m, match, seconds = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
rmse = "-" if match["mean_rmse"] is None else f"{match['mean_rmse']:.4f}"
print(f"| {'off' if t == '0' else t} | {100 * m['atom_count_error']:.2f} % "
      f"| {m['position_error_actual']:.4f} / {m['position_error_detected']:.4f} "
      f"| {100 * m['species_error_actual']:.2f} % / {100 * m['species_error_detected']:.2f} % "
      f"| {m['lattice_length_error']:.4f} / {m['lattice_angle_error_deg']:.3f} "
      f"| {100 * match['rate']:.2f} % ({match['matched']}/{match['total']}) | {rmse} | {seconds} s |")
PY
done
