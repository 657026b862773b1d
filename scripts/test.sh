#!/usr/bin/env bash
# Runs nesf's whole test suite on a fresh machine: provisions (ASE, ONNX Runtime, libtorch, C
# toolchain), checks formatting and lints, then runs every test of the library, the Python
# package and the trainer.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/provision.sh
bash scripts/provision-libtorch.sh >/dev/null
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
# the library first (built so that target/release holds libnesf.so/.a for the C ABI and
# install tests), then the trainer
cargo build --release
cargo test --release
# the Python package over the C ABI (installs it with pytest, ASE and pymatgen)
bash scripts/test-python.sh
# One test at a time: the resume test expects bit-identical weights, and libtorch's reductions
# can split differently when several tests train at once on a loaded machine (seen once).
cargo test --release -p nesf-train -- --test-threads=1
