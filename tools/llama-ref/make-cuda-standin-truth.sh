#!/usr/bin/env bash
# llama.cpp's CUDA compute buffers for a size set of tests/fixtures/llama-archs-sized/, measured
# with llama-ref-cuda (llama.cpp 0c1e570's loader, context and scheduler beside a stand-in for one
# H200: see README.md, where its check against cuda-truth.json is):
#
#   tools/llama-ref/make-cuda-standin-truth.sh [SET]   (default s384; writes
#                                                      tests/fixtures/llama-archs-sized/SET/cuda-standin.jsonl)
#
# For each architecture the set holds, the full files are written again with the set's size
# options (the heads checked equal to the committed ones) and loaded at n_ctx 4096, n_batch 2048,
# n_ubatch 512 with n_gpu_layers 999 and flash attention auto, n_gpu_layers 1 (auto), and
# n_gpu_layers 0 with flash attention off. One JSON line per load:
#
#   {"file", "n_gpu_layers", "n_ctx", "flash_attn", "flash_attn_resolved", "gpu_mib", "host_mib"}
#
# gpu_mib and host_mib: the CUDA0 and CUDA_Host compute buffers llama.cpp printed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
SET=${1:-s384}
DIR="$REPO/tests/fixtures/llama-archs-sized/$SET"
OUT="$DIR/cuda-standin.jsonl"
read -r -a sizes <<< "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sizes'])" "$DIR/llama-truth.json")"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
: > "$OUT"
archs=$(ls "$DIR" | sed -n 's/-\(dense\|moe\)\.gguf\.gz$//p' | sort -u)
for arch in $archs; do
    rm -rf "$SCRATCH/m"
    mkdir -p "$SCRATCH/m"
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" "${sizes[@]}" > "$SCRATCH/gen.log" 2>&1 || true
    for f in "$SCRATCH"/m/*.gguf; do
        [ -e "$f" ] || continue
        name=$(basename "$f")
        [ -e "$DIR/$name.gz" ] || continue
        "$TOOLS/llama-ref-load" --head "$f" "$SCRATCH/head"
        gunzip -c "$DIR/$name.gz" | cmp -s - "$SCRATCH/head" \
            || { echo "$name: head differs from the set's" >&2; exit 1; }
        for cfg in "999 auto" "1 auto" "0 off"; do
            read -r ngl fa <<< "$cfg"
            json=$("$TOOLS/llama-ref-cuda" --ngl "$ngl" --fa "$fa" "$f" 4096 2> "$SCRATCH/err.log") \
                || { echo "$name ngl $ngl fa $fa: $(tail -n 2 "$SCRATCH/err.log" | tr '\n' ' ')" >&2; continue; }
            python3 - "$name" "$ngl" "$fa" "$json" >> "$OUT" <<'PY'
import json, sys
name, ngl, fa, raw = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
mib = {b["device"]: b["MiB"] for b in raw["buffers"] if b["kind"] == "compute"}
print(json.dumps({"file": name, "n_gpu_layers": ngl, "n_ctx": 4096, "flash_attn": fa,
                  "flash_attn_resolved": raw["flash_attn_resolved"],
                  "gpu_mib": mib.get("CUDA0", 0.0), "host_mib": mib.get("CUDA_Host", 0.0)}))
PY
        done
    done
done
wc -l "$OUT"
