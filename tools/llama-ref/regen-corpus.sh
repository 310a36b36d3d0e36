#!/usr/bin/env bash
# Sourced by the truth scripts: `regen_corpus DIR ARCH...` writes the corpus's full files of
# those architectures again into DIR (llama.cpp's generator, seed 42, upstream sizes) and checks
# each head equal to the committed one in tests/fixtures/llama-archs/ (so the figures measured on
# the full files are the committed heads'); exits on a mismatch.
regen_corpus() {
    local dir=$1 arch f
    shift
    mkdir -p "$dir"
    for arch in "$@"; do
        "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$dir" > "$dir/gen.log" 2>&1
    done
    for f in "$dir"/*.gguf; do
        "$TOOLS/llama-ref-load" --head "$f" "$dir/head"
        cmp -s "$dir/head" "$REPO/tests/fixtures/llama-archs/$(basename "$f")" \
            || { echo "$(basename "$f"): head differs from the corpus" >&2; exit 1; }
    done
}
