#!/usr/bin/env bash
# Benchmark of `ggufscope verify` (issue 14), results in bench/RESULTS-verify.md.
#
# On a generated, page-cached file of 2.5 GB (Phi-3-mini-shaped, Q4_K_M-like: q4_K, q5_K, q6_K,
# f32; random bytes with valid scales; `verify_bench write`), one hyperfine run compares:
#   plain    the machine's read speed over the same mapping: every 8-byte word of the data
#            section XOR-folded, in parallel over 4 MiB pieces (`verify_bench plain`)
#   verify   `ggufscope verify FILE`
#   xxh64    `ggufscope verify --hash xxh64 FILE` (values checked too)
#   llama    llama.cpp's `llama-gguf-hash --xxh64 FILE` (built by bench/verify-llama-gguf-hash.sh;
#            skipped when cmake is missing)
#
#   bash bench/verify.sh [DIR]     # DIR holds the 2.5 GB file (default /tmp)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-/tmp}"
FILE="$DIR/verify-bench.gguf"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
cd "$ROOT"
cargo build --release --quiet -p ggufscope -p ggufscope-verify --example verify_bench
BIN="$ROOT/target/release/ggufscope"
HELPER="$ROOT/target/release/examples/verify_bench"
[ -f "$FILE" ] || "$HELPER" write "$FILE"
LLAMA=""
if command -v cmake >/dev/null; then
  LLAMA=$(bash bench/verify-llama-gguf-hash.sh)
fi
# Into the page cache, and a check that the file is clean.
cat "$FILE" > /dev/null
"$BIN" verify "$FILE" | tail -1
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
cmds=(-n plain "$HELPER plain $FILE" -n verify "$BIN verify $FILE" -n "verify --hash xxh64" "$BIN verify --hash xxh64 $FILE")
hyperfine -N -w 3 -r 20 --export-markdown "$DIR/verify-bench.md" "${cmds[@]}"
if [ -n "$LLAMA" ]; then
  hyperfine -N -w 1 -r 5 --export-markdown "$DIR/verify-bench-llama.md" \
    -n "verify --hash xxh64" "$BIN verify --hash xxh64 $FILE" \
    -n "llama-gguf-hash --xxh64" "$LLAMA --xxh64 $FILE"
  # The same hashes, line for line.
  diff <("$BIN" verify --hash xxh64 "$FILE" | sed '/^$/q' | sed '/^$/d') <("$LLAMA" --xxh64 "$FILE") \
    && echo "manifest lines identical to llama-gguf-hash's"
fi
cat "$DIR/verify-bench.md" "$DIR"/verify-bench-llama.md 2>/dev/null || true
