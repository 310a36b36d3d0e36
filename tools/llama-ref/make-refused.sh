#!/usr/bin/env bash
# Writes files that llama.cpp 0c1e570 LOADS but cannot RUN: the patched generator at the s384 size
# set with one key changed (--kv) and --model-only (no context is created, so the file is saved);
# llama-ref-load then tries each at n_ctx 512 and records how llama.cpp fails (a GGML_ASSERT while
# it builds the graph at context creation: the process aborts). DEST gets the heads (gzipped) and
# refused.json {file: {arch, change, llama_cpp}}.
#
#   tools/llama-ref/make-refused.sh tests/fixtures/llama-archs-refused
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEST=$1
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-refused.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
SIZES=(--n-embd 384 --n-head 6 --n-head-kv 2 --n-ff 1000 --n-layer 3 --n-vocab 333 --n-ctx-train 768)

# name | arch | key=value
CASES="olmoe-gqa|olmoe|olmoe.attention.head_count_kv=2
dots1-gqa|dots1|dots1.attention.head_count_kv=2
minicpm3-gqa|minicpm3|minicpm3.attention.head_count_kv=2
deepseek2-mla-kv-heads|deepseek2|deepseek2.attention.head_count_kv=3
deepseek4-heads-not-groups|deepseek4|deepseek4.attention.head_count=6"

: > "$SCRATCH/records"
while IFS='|' read -r name arch kv; do
    mkdir -p "$SCRATCH/m"
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" "${SIZES[@]}" --model-only --kv "$kv" \
        > "$SCRATCH/gen.log" 2>&1
    f=$(ls "$SCRATCH"/m/*.gguf | head -n 1)
    set +e
    "$TOOLS/llama-ref-load" "$f" 512 > "$SCRATCH/load.json" 2> "$SCRATCH/load.log"
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
        what="loads and runs (no refusal: dropped)"
        echo "$name: $what" >&2
        rm -rf "$SCRATCH/m"
        continue
    fi
    what="aborts at context creation (exit $rc): $(grep -o '[a-z/_0-9.-]*\.c\(pp\)\?:[0-9]*: GGML_ASSERT(.*) failed' "$SCRATCH/load.log" | sed 's|.*/llama.cpp/||' | head -n 1)"
    "$TOOLS/llama-ref-load" --head "$f" "$DEST/$name.gguf"
    gzip -9nf "$DEST/$name.gguf"
    printf '%s\t%s\t%s\t%s\n' "$name.gguf" "$arch" "$kv" "$what" >> "$SCRATCH/records"
    rm -rf "$SCRATCH/m"
done <<< "$CASES"

python3 - "$SCRATCH/records" "$DEST/refused.json" <<'PY'
import json, sys
out = {"settings": "llama.cpp 0c1e570, CPU, tools/llama-ref/llama-ref-load at n_ctx 512 (the settings "
                   "of llama-archs/llama-truth.json); sizes of llama-archs-sized/s384 with one key changed",
       "files": {}}
for line in open(sys.argv[1]):
    f, arch, kv, what = line.rstrip("\n").split("\t")
    out["files"][f] = {"arch": arch, "change": kv, "llama_cpp": what}
json.dump(out, open(sys.argv[2], "w"), indent=1, sort_keys=True)
open(sys.argv[2], "a").write("\n")
PY
echo "$(ls "$DEST"/*.gguf.gz | wc -l) files in $DEST"
