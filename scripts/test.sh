#!/usr/bin/env bash
# Runs nesf's whole test suite on a fresh machine: provisions, checks formatting and lints,
# then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/provision.sh
cargo fmt --all --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release
