#!/usr/bin/env bash
# Python benchmark (issue 16): open the Gemma-3-like 262,144-token file and read all its metadata,
# ggufscope's Python package against gguf-py's GGUFReader, in one process each, same file, same
# run. Writes bench/RESULTS-python.md.
#
#     bash bench/python.sh
#
# Needs Rust stable and Python 3 with pip (network: crates.io and PyPI). It installs into
# bench/.work/ (git-ignored): a venv with the package built from crates/python (`pip install`,
# the wheel profile `python` of Cargo.toml), gguf and numpy; and the generated file
# (`cargo run --release -p ggufscope-testkit --example bench_files`, as bench/peers.sh does).
# Knobs: RUNS (ggufscope runs, default 20), GGUF_PY_RUNS (default 3: about 8 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/.work
mkdir -p "$work/files"
if [ ! -e "$work/files/gemma3-like.gguf" ]; then
  cargo run --quiet --release -p ggufscope-testkit --example bench_files -- "$work/files"
fi
if [ ! -x "$work/py-venv/bin/python" ]; then
  python3 -m venv "$work/py-venv"
fi
"$work/py-venv/bin/pip" install --quiet --upgrade pip
"$work/py-venv/bin/pip" install --quiet ./crates/python gguf numpy
{
  echo "# Python benchmark: open a 262k-token vocabulary and read all its metadata"
  echo
  echo "Written by \`bash bench/python.sh\` (do not edit by hand; re-run it). In-process times"
  echo "(\`time.perf_counter\`) of \`bench/python/metadata_bench.py\`: a fresh open each run, page"
  echo "cache warm; every side ends with the same Python objects (checked before timing)."
  echo "Machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  "$work/py-venv/bin/python" bench/python/metadata_bench.py "$work/files/gemma3-like.gguf" \
    --runs "${RUNS:-20}" --gguf-py-runs "${GGUF_PY_RUNS:-3}"
} > bench/RESULTS-python.md.new
mv bench/RESULTS-python.md.new bench/RESULTS-python.md
cat bench/RESULTS-python.md
