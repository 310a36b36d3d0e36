#!/usr/bin/env bash
# Whole-process time of `ggufscope memory FILE --json` on the 262,144-token Gemma-3-like bench
# file (issue 12: "memory --json on a 262k-vocabulary model stays under 5 ms whole-process").
#
#     bash bench/memory.sh
#
# Builds the release binary (the workspace release profile, as README's "Release binary" and
# bench/peers.sh build it, linked statically), writes the generated bench files with
# `cargo run --release -p ggufscope-testkit --example bench_files` (as bench/peers.sh does,
# into bench/.work/files, reused when present), then times with hyperfine (warm cache):
#   memory FILE --json                              (CPU plan)
#   memory FILE --json --gpu-mem 24G                (CUDA placement, one GPU)
#   memory FILE --json --gpu-mem 24G,24G --fit      (llama.cpp's fit: several placements)
#   memory FILE --json --gpu-mem 24G --ngl-step 4   (the offload curve)
#   config FILE --json                              (the same file read, no plan: reference)
# and writes bench/RESULTS-memory.md. Exits 1 when the median of `memory FILE --json` is 5 ms
# or more. Knobs: RUNS (default 50), WARMUP (default 5), OUT (default bench/RESULTS-memory.md),
# REPORT_ONLY=1 (rewrite OUT from the last run's bench/.work/results/memory.json). On a shared
# machine the wall times mostly measure the load: compare with the `config` reference of the
# same run, and with its quiet-machine figure in bench/RESULTS.md.
# Needs hyperfine (apt-get install hyperfine). Not run by CI.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
WORK="$BENCH/.work"
FILES_DIR="$WORK/files"
OUT="${OUT:-$BENCH/RESULTS-memory.md}"
RUNS="${RUNS:-50}"
WARMUP="${WARMUP:-5}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
HOST="$(rustc -vV | sed -n 's/^host: //p')"

cd "$ROOT"
mkdir -p "$WORK/results"
JSON="$WORK/results/memory.json"
if [ "${REPORT_ONLY:-0}" != 1 ]; then
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }

RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -p ggufscope \
    --target "$HOST"
BIN="$TARGET_DIR/$HOST/release/ggufscope"
mkdir -p "$FILES_DIR"
FILE="$FILES_DIR/gemma3-like.gguf"
if [ ! -f "$FILE" ]; then
    cargo run --release --locked -p ggufscope-testkit --example bench_files -- "$FILES_DIR"
fi

hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --export-json "$JSON" \
    -n "memory --json" "$BIN memory $FILE --json" \
    -n "memory --json --gpu-mem 24G" "$BIN memory $FILE --json --gpu-mem 24G" \
    -n "memory --json --gpu-mem 24G,24G --fit" "$BIN memory $FILE --json --gpu-mem 24G,24G --fit" \
    -n "memory --json --gpu-mem 24G --ngl-step 4" "$BIN memory $FILE --json --gpu-mem 24G --ngl-step 4" \
    -n "config --json (reference)" "$BIN config $FILE --json"
uptime > "$WORK/results/memory-load.txt"
fi

python3 - "$JSON" "$OUT" "$(nproc)" "$(sed 's/.*load average: //' "$WORK/results/memory-load.txt" 2>/dev/null)" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
out = sys.argv[2]
rows = []
for r in data["results"]:
    t = sorted(r["times"])
    med = t[len(t) // 2] * 1000
    rows.append((r["command"], med, r["mean"] * 1000, r["stddev"] * 1000, min(t) * 1000, max(t) * 1000, len(t), r["user"] * 1000, r["system"] * 1000))
with open(out, "w") as f:
    f.write("# `memory --json` whole-process time (bench/memory.sh)\n\n")
    f.write("File: `gemma3-like.gguf` from `cargo run --release -p ggufscope-testkit --example bench_files` "
            "(262,144 tokens + scores + token types, 236 tensors, sparse). Release binary, static. "
            f"hyperfine -N, warm cache, {sys.argv[3]} cores, load average at the end {sys.argv[4]}.\n\n")
    f.write("| command | median ms | mean ms | ± ms | min ms | max ms | user ms | sys ms | runs |\n|---|---|---|---|---|---|---|---|---|\n")
    for c, med, mean, sd, lo, hi, n, us, sy in rows:
        f.write(f"| `{c}` | {med:.2f} | {mean:.2f} | {sd:.2f} | {lo:.2f} | {hi:.2f} | {us:.2f} | {sy:.2f} | {n} |\n")
    f.write("\nTarget (issue 12): `memory --json` under 5 ms whole-process.\n")
print(open(out).read())
med = rows[0][1]
sys.exit(0 if med < 5.0 else 1)
EOF
