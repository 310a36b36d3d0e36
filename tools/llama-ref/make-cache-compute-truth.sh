#!/usr/bin/env bash
# llama.cpp's CPU compute buffer, in bytes, with quantized KV caches (their Hadamard rotations,
# src/llama-kv-cache.cpp:321-337, src/llama-graph.cpp:2883-2930):
#
#   tools/llama-ref/make-cache-compute-truth.sh   (writes tests/fixtures/cache-types/compute-truth.jsonl)
#
# For five architectures of tests/fixtures/llama-archs/ (llama; qwen3: Q/K norms; phi3: a fused
# QKV, its V a strided view; gemma3: iSWA, two caches; qwen35: a hybrid) the corpus's full files
# are written again (regen-corpus.sh: heads checked equal to the committed ones) and measured by
# compute-bytes.sh (n_ctx 512 and 4096) for each case below, with "type_k" and "type_v" in each
# JSON line.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
OUT="$REPO/tests/fixtures/cache-types/compute-truth.jsonl"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
. "$HERE/regen-corpus.sh"

# fa:ctk:ctv — K and V quantized (V needs flash attention), K alone without flash attention,
# mixed types, and a 4-bit non-linear type.
CASES="on:q8_0:q8_0 on:q4_0:q5_1 on:iq4_nl:iq4_nl off:q4_1:f16 off:q8_0:f16 on:f16:q8_0"

regen_corpus "$SCRATCH/m" llama qwen3 phi3 gemma3 qwen35
: > "$OUT"
for c in $CASES; do
    IFS=: read -r fa k v <<< "$c"
    FAS=$fa REF_ARGS="--ctk $k --ctv $v" EXTRA_JSON="\"type_k\": \"$k\", \"type_v\": \"$v\", " \
        bash "$HERE/compute-bytes.sh" "$SCRATCH"/m/*.gguf >> "$OUT"
done
wc -l "$OUT"
