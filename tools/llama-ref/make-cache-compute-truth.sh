#!/usr/bin/env bash
# llama.cpp's CPU compute buffer, in bytes, with quantized KV caches (their Hadamard rotations,
# src/llama-kv-cache.cpp:321-337, src/llama-graph.cpp:2883-2930):
#
#   tools/llama-ref/make-cache-compute-truth.sh   (writes tests/fixtures/cache-types/compute-truth.jsonl)
#
# For five architectures of tests/fixtures/llama-archs/ (llama; qwen3: Q/K norms; phi3: a fused
# QKV, its V a strided view; gemma3: iSWA, two caches; qwen35: a hybrid) the generator writes the
# corpus's full files again (same seed: the heads are checked equal to the committed ones), and
# llama-ref-load loads each against build-alloc-debug.sh's allocator log at n_ctx 512 and 4096 for
# each case below; the buffer is the largest end of any tensor placed (as compute-bytes.sh reads
# it). One JSON line per figure: {"file", "n_ctx", "flash_attn", "type_k", "type_v",
# "compute_bytes", "compute_mib"} (compute_mib: llama.cpp's printed line, a cross-check).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEBUG_LIB=$(bash "$HERE/build-alloc-debug.sh")
OUT="$REPO/tests/fixtures/cache-types/compute-truth.jsonl"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# fa:ctk:ctv — K and V quantized (V needs flash attention), K alone without flash attention,
# mixed types, and a 4-bit non-linear type.
CASES="on:q8_0:q8_0 on:q4_0:q5_1 on:iq4_nl:iq4_nl off:q4_1:f16 off:q8_0:f16 on:f16:q8_0"

mkdir -p "$SCRATCH/m"
for arch in llama qwen3 phi3 gemma3 qwen35; do
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" > "$SCRATCH/gen.log" 2>&1
done
: > "$OUT"
for f in "$SCRATCH"/m/*.gguf; do
    name=$(basename "$f")
    "$TOOLS/llama-ref-load" --head "$f" "$SCRATCH/head"
    cmp -s "$SCRATCH/head" "$REPO/tests/fixtures/llama-archs/$name" \
        || { echo "$name: head differs from the corpus" >&2; exit 1; }
    for ctx in 512 4096; do
        for c in $CASES; do
            IFS=: read -r fa k v <<< "$c"
            log=$(LD_LIBRARY_PATH="$DEBUG_LIB" LLAMA_REF_LOG=1 "$TOOLS/llama-ref-load" \
                --fa "$fa" --ctk "$k" --ctv "$v" "$f" "$ctx" 2>&1 >/dev/null || true)
            bytes=$(printf '%s\n' "$log" | sed -n 's/^alloc .* end \([0-9]*\)$/\1/p' | sort -n | tail -n 1)
            mib=$(printf '%s\n' "$log" | sed -n 's/.*CPU compute buffer size = *\([0-9.]*\) MiB.*/\1/p' | head -n 1)
            if [ -z "$bytes" ] || [ -z "$mib" ]; then
                echo "$name n_ctx $ctx $c: llama.cpp did not reserve a graph" >&2
                continue
            fi
            printf '{"file": "%s", "n_ctx": %s, "flash_attn": %s, "type_k": "%s", "type_v": "%s", "compute_bytes": %s, "compute_mib": %s}\n' \
                "$name" "$ctx" "$([ "$fa" = on ] && echo true || echo false)" "$k" "$v" "$bytes" "$mib" >> "$OUT"
        done
    done
done
wc -l "$OUT"
