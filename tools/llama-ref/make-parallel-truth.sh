#!/usr/bin/env bash
# llama.cpp's CPU compute buffer, in bytes, with several sequences (`--parallel N`), one KV
# stream per sequence (`kv_unified` off: the ubatch split per stream) or one shared
# (`--kv-unified`):
#
#   tools/llama-ref/make-parallel-truth.sh   (writes tests/fixtures/parallel/compute-truth.jsonl)
#
# For eight files of tests/fixtures/llama-archs/ (llama dense and MoE, qwen3, gemma3: iSWA, phi3:
# a fused QKV, deepseek2: absorbed MLA, minicpm3: MLA decompressed, cohere2: parallel, iSWA) and
# the recurrent and hybrid ones whose layers read one state per sequence (Mamba: mamba, jamba;
# Mamba-2: mamba2, falcon-h1, granitehybrid, nemotron_h, nemotron_h_moe, plamo2's; short
# convolutions: lfm2, lfm2moe; gated delta nets: qwen35, qwen35moe, qwen3next; Kimi delta
# attention: kimi-linear, kimi-k3, bailingmoe3; lightning attention: minimax-01; and glm5-next,
# with one shared stream only: its k-pool indexer over several streams is not replayed) the
# corpus's full files are written again (regen-corpus.sh: heads
# checked equal to the committed ones) and measured by compute-bytes.sh (n_ctx 512 and 4096, flash
# attention off and on) for N 2 and 4, unified off and on, with "n_parallel" and "kv_unified" in
# each JSON line.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEST="$REPO/tests/fixtures/parallel"
OUT="$DEST/compute-truth.jsonl"
mkdir -p "$DEST"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
. "$HERE/regen-corpus.sh"

regen_corpus "$SCRATCH/m" llama qwen3 gemma3 phi3 deepseek2 minicpm3 cohere2 \
    mamba jamba mamba2 falcon-h1 granitehybrid nemotron_h nemotron_h_moe plamo2 lfm2 lfm2moe \
    qwen35 qwen35moe qwen3next kimi-linear kimi-k3 bailingmoe3 minimax-01
: > "$OUT"
for n in 2 4; do
    for u in 0 1; do
        unified=$([ "$u" = 1 ] && echo true || echo false)
        REF_ARGS="--parallel $n --kv-unified $u" \
            EXTRA_JSON="\"n_parallel\": $n, \"kv_unified\": $unified, " \
            bash "$HERE/compute-bytes.sh" "$SCRATCH"/m/*.gguf >> "$OUT"
    done
done
regen_corpus "$SCRATCH/u" glm5-next
for n in 2 4; do
    REF_ARGS="--parallel $n --kv-unified 1" \
        EXTRA_JSON="\"n_parallel\": $n, \"kv_unified\": true, " \
        bash "$HERE/compute-bytes.sh" "$SCRATCH"/u/*.gguf >> "$OUT"
done
wc -l "$OUT"
