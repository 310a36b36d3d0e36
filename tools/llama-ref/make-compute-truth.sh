#!/usr/bin/env bash
# llama.cpp's CPU compute buffer in bytes (compute-bytes.sh: n_ctx 512 and 4096, flash attention
# off and on) for the files of one fixture set, written again by the generator with the set's own
# size options (its llama-truth.json `sizes`; none for tests/fixtures/llama-archs/, upstream's
# sizes). Each regenerated file's head must equal the committed head byte for byte (the generator
# is seeded), so the figures are those of the committed files. Appends to SET/compute-truth.jsonl.
#
#   ARCHS="llama qwen3" tools/llama-ref/make-compute-truth.sh tests/fixtures/llama-archs-sized/s512
#
# Needs build.sh's tools and build-alloc-debug.sh's library (built when missing).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
SET=$(cd "$1" && pwd)
: "${ARCHS:?set ARCHS to the architectures to measure}"
read -r -a sizes <<< "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("sizes", ""))' "$SET/llama-truth.json")"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/compute-truth.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
for arch in $ARCHS; do
    rm -rf "$SCRATCH/m" && mkdir -p "$SCRATCH/m"
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" "${sizes[@]}" > "$SCRATCH/gen.log" 2>&1 || true
    for f in "$SCRATCH"/m/*.gguf; do
        [ -e "$f" ] || continue
        name=$(basename "$f")
        if [ -e "$SET/$name.gz" ]; then
            gunzip -c "$SET/$name.gz" > "$SCRATCH/committed"
        elif [ -e "$SET/$name" ]; then
            cp "$SET/$name" "$SCRATCH/committed"
        else
            echo "$name: not in $SET, skipped" >&2
            rm -f "$f"
            continue
        fi
        "$TOOLS/llama-ref-load" --head "$f" "$SCRATCH/head"
        if ! cmp -s "$SCRATCH/head" "$SCRATCH/committed"; then
            echo "$name: the regenerated head differs from the committed one, skipped" >&2
        else
            bash "$HERE/compute-bytes.sh" "$f" >> "$SET/compute-truth.jsonl"
        fi
        rm -f "$f"
    done
done
