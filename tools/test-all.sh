#!/usr/bin/env bash
# The README's test command: every test of the repository.
#
#   1. `cargo test --workspace --locked` (the Rust crates);
#   2. the Python package (crates/python): a new virtual environment, `pip install
#      ./crates/python gguf numpy pytest` (builds the wheel with maturin from PyPI, in the
#      Cargo profile `python`), then pytest on crates/python/tests (equality with gguf-py's
#      GGUFReader on every fixture, remote reads against a local server, error mapping).
#
# Needs only a Rust toolchain, Python 3 (>= 3.9, with venv) and pip, with crates.io and PyPI
# reachable. CARGO_TARGET_DIR is honoured by both steps. PYTHON picks the interpreter (default
# python3). Prints how long the Python part took.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "test-all: $python not found: the Python package needs Python 3 (>= 3.9) with pip" >&2
  exit 1
fi
start=$(date +%s)
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
if ! "$python" -m venv "$venv"; then
  echo "test-all: '$python -m venv' failed (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ./crates/python gguf numpy pytest
built=$(date +%s)
echo "test-all: the Python package built and installed in $((built - start)) s"
# -p no:cacheprovider: nothing written into the checkout.
"$venv/bin/python" -m pytest -q -p no:cacheprovider crates/python/tests
echo "test-all: the Python part took $(($(date +%s) - start)) s"
