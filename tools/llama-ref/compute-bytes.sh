#!/usr/bin/env bash
# llama.cpp 0c1e570's CPU compute buffer, in bytes, for text-model files: each FILE loaded by
# llama-ref-load at each n_ctx (512 4096) with flash attention off and on, against the debug
# libggml-base of build-alloc-debug.sh, whose per-allocation log line ends with the tensor's end
# in bytes. The buffer llama.cpp sizes is the largest end over `sched_reserve`'s reservations
# (ggml_gallocr_reserve_n grows the buffer, never shrinks it). Prints one JSON line per figure:
#
#   {"file": NAME, "n_ctx": N, "flash_attn": BOOL, "compute_bytes": B, "compute_mib": M}
#
# where NAME is the file's base name (a fixture's head has the same name) and compute_mib is what
# llama.cpp printed (`sched_reserve: CPU compute buffer size = … MiB`), as a cross-check.
#
#   tools/llama-ref/compute-bytes.sh FULL_FILE... > truth.jsonl
set -euo pipefail
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
HERE=$(cd "$(dirname "$0")" && pwd)
DEBUG_LIB=$(bash "$HERE/build-alloc-debug.sh")
CTXS=${CTXS:-512 4096}
# FAS: the flash-attention settings (default both); REF_ARGS: more llama-ref-load options
# (--ctk/--ctv TYPE, --parallel N, --kv-unified 0|1); EXTRA_JSON: fields written before
# "compute_bytes" (each followed by ", ").
FAS=${FAS:-off on}
read -r -a ref_args <<< "${REF_ARGS:-}"
for f in "$@"; do
    name=$(basename "$f")
    for ctx in $CTXS; do
        for fa in $FAS; do
            log=$(LD_LIBRARY_PATH="$DEBUG_LIB" LLAMA_REF_LOG=1 \
                "$LLAMA_BUILD/ggufscope/llama-ref-load" --fa "$fa" "${ref_args[@]}" "$f" "$ctx" 2>&1 >/dev/null || true)
            bytes=$(printf '%s\n' "$log" | sed -n 's/^alloc .* end \([0-9]*\)$/\1/p' | sort -n | tail -n 1)
            mib=$(printf '%s\n' "$log" | sed -n 's/.*CPU compute buffer size = *\([0-9.]*\) MiB.*/\1/p' | head -n 1)
            if [ -z "$bytes" ] || [ -z "$mib" ]; then
                echo "$name n_ctx $ctx fa $fa ${REF_ARGS:-}: llama.cpp did not reserve a graph" >&2
                continue
            fi
            printf '{"file": "%s", "n_ctx": %s, "flash_attn": %s, %s"compute_bytes": %s, "compute_mib": %s}\n' \
                "$name" "$ctx" "$([ "$fa" = on ] && echo true || echo false)" "${EXTRA_JSON:-}" "$bytes" "$mib"
        done
    done
done
