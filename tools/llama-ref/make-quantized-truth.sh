#!/usr/bin/env bash
# llama.cpp's buffers for files with real models' weight types: each head of a size set of
# tests/fixtures/llama-archs-sized/ written whole with its weights in a Q4_K_M-like mix of block
# types (`cargo run -p ggufscope-testkit --example quantize_head`, presets::quantize_like_q4_k_m;
# the data zeros, the file sparse), then loaded by llama.cpp 0c1e570:
#
#   tools/llama-ref/make-quantized-truth.sh [SET]   (default s2048; writes
#                                                    tests/fixtures/llama-archs-sized/SET/quantized-truth.jsonl)
#
# One JSON line per file: {"file", "cpu": llama-ref-load's record at n_ctx 512 and 4096 (CPU,
# the llama-truth.json settings) without print_info, "cuda": [llama-ref-cuda beside the H200
# stand-in at n_ctx 4096, n_batch 2048, n_ubatch 512: n_gpu_layers 999 and 1 with flash
# attention auto, 0 with it off; {"n_gpu_layers", "flash_attn", "flash_attn_resolved",
# "buffers"}]}.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
SET=${1:-s2048}
DIR="$REPO/tests/fixtures/llama-archs-sized/$SET"
OUT="$DIR/quantized-truth.jsonl"
(cd "$REPO" && cargo build -q -p ggufscope-testkit --example quantize_head)
QUANTIZE="${CARGO_TARGET_DIR:-$REPO/target}/debug/examples/quantize_head"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
: > "$OUT"
for head in "$DIR"/*.gguf.gz; do
    name=$(basename "$head" .gz)
    f="$SCRATCH/$name"
    "$QUANTIZE" "$head" "$f" > /dev/null
    cpu=$("$TOOLS/llama-ref-load" "$f" 512 4096 2> "$SCRATCH/err.log") \
        || { echo "$name cpu: $(tail -n 2 "$SCRATCH/err.log" | tr '\n' ' ')" >&2; rm -f "$f"; continue; }
    echo "$cpu" > "$SCRATCH/cpu.json"
    : > "$SCRATCH/cuda.jsonl"
    for cfg in "999 auto" "1 auto" "0 off"; do
        read -r ngl fa <<< "$cfg"
        json=$("$TOOLS/llama-ref-cuda" --ngl "$ngl" --fa "$fa" "$f" 4096 2> "$SCRATCH/err.log") \
            || { echo "$name ngl $ngl fa $fa: $(tail -n 2 "$SCRATCH/err.log" | tr '\n' ' ')" >&2; continue; }
        python3 -c 'import json,sys; r=json.loads(sys.argv[3]); r.update(n_gpu_layers=int(sys.argv[1]), flash_attn=sys.argv[2]); print(json.dumps(r))' \
            "$ngl" "$fa" "$json" >> "$SCRATCH/cuda.jsonl"
    done
    python3 - "$name" "$SCRATCH/cpu.json" "$SCRATCH/cuda.jsonl" >> "$OUT" <<'PY'
import json, sys
name, cpu, cuda = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
for rec in cpu.values():
    rec.pop("print_info", None)
print(json.dumps({"file": name, "cpu": cpu,
                  "cuda": [json.loads(l) for l in open(cuda) if l.strip()]}))
PY
    rm -f "$f"
done
wc -l "$OUT"
