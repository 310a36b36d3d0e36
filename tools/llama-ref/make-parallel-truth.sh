#!/usr/bin/env bash
# llama.cpp's CPU compute buffer, in bytes, with several sequences (`--parallel N`), one KV
# stream per sequence (`kv_unified` off: the ubatch split per stream) or one shared
# (`--kv-unified`):
#
#   tools/llama-ref/make-parallel-truth.sh   (writes tests/fixtures/parallel/compute-truth.jsonl)
#
# For eight files of tests/fixtures/llama-archs/ (llama dense and MoE, qwen3, gemma3: iSWA, phi3:
# a fused QKV, deepseek2: absorbed MLA, minicpm3: MLA decompressed, cohere2: parallel, iSWA) the
# generator writes the corpus's full files again (same seed: heads checked equal to the
# committed ones); llama-ref-load loads each against build-alloc-debug.sh's allocator log
# (n_ctx 512 and 4096, flash attention off and on, N 2 and 4, unified off and on) and the buffer
# is the largest end of any tensor placed. One JSON line per figure: {"file", "n_ctx",
# "flash_attn", "n_parallel", "kv_unified", "compute_bytes", "compute_mib"}.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEBUG_LIB=$(bash "$HERE/build-alloc-debug.sh")
DEST="$REPO/tests/fixtures/parallel"
OUT="$DEST/compute-truth.jsonl"
mkdir -p "$DEST"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

mkdir -p "$SCRATCH/m"
for arch in llama qwen3 gemma3 phi3 deepseek2 minicpm3 cohere2; do
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" > "$SCRATCH/gen.log" 2>&1
done
: > "$OUT"
for f in "$SCRATCH"/m/*.gguf; do
    name=$(basename "$f")
    "$TOOLS/llama-ref-load" --head "$f" "$SCRATCH/head"
    cmp -s "$SCRATCH/head" "$REPO/tests/fixtures/llama-archs/$name" \
        || { echo "$name: head differs from the corpus" >&2; exit 1; }
    for ctx in 512 4096; do
        for fa in off on; do
            for n in 2 4; do
                for u in 0 1; do
                    log=$(LD_LIBRARY_PATH="$DEBUG_LIB" LLAMA_REF_LOG=1 "$TOOLS/llama-ref-load" \
                        --fa "$fa" --parallel "$n" --kv-unified "$u" "$f" "$ctx" 2>&1 >/dev/null || true)
                    bytes=$(printf '%s\n' "$log" | sed -n 's/^alloc .* end \([0-9]*\)$/\1/p' | sort -n | tail -n 1)
                    mib=$(printf '%s\n' "$log" | sed -n 's/.*CPU compute buffer size = *\([0-9.]*\) MiB.*/\1/p' | head -n 1)
                    if [ -z "$bytes" ] || [ -z "$mib" ]; then
                        echo "$name n_ctx $ctx fa $fa parallel $n unified $u: no graph reserved" >&2
                        continue
                    fi
                    printf '{"file": "%s", "n_ctx": %s, "flash_attn": %s, "n_parallel": %s, "kv_unified": %s, "compute_bytes": %s, "compute_mib": %s}\n' \
                        "$name" "$ctx" "$([ "$fa" = on ] && echo true || echo false)" "$n" \
                        "$([ "$u" = 1 ] && echo true || echo false)" "$bytes" "$mib" >> "$OUT"
                done
            done
        done
    done
done
wc -l "$OUT"
