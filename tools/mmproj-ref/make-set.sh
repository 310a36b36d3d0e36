#!/usr/bin/env bash
# Generates a set of mmproj GGUF files with make-mmproj.py and writes DIR/truth.jsonl: one
# clip-ref-load line per file and flash-attention setting (off, then on).
#
#   tools/mmproj-ref/make-set.sh DIR [tiny|real] [LOG_DIR]
#
# tiny (default): two small sizes per projector type, <name>-a.gguf and <name>-b.gguf (the files
#   of tests/fixtures/mmproj/).
# real: one file per type at the real model's widths but only 1-2 layers, <name>-real.gguf.
# LOG_DIR (optional): also saves, per file and setting, the stderr of clip-ref-load run against
#   the allocator-debug libggml-base.so (tools/llama-ref/build-alloc-debug.sh) with
#   LLAMA_REF_LOG=1, as LOG_DIR/<name>-<size>-fa{on,off}.log.
#
# Env: ONLY (an extended regex: only the names matching it are made, e.g. to append new types
# lines to the committed truth files), LLAMA_BUILD (default /work/ref/build-llama; the tool is $LLAMA_BUILD/ggufscope/clip-ref-load,
# made by build.sh), ALLOC_DEBUG_LIB (default /work/ref/build-alloc-debug/out/src).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: make-set.sh DIR [tiny|real] [LOG_DIR]}
SET=${2:-tiny}
LOG_DIR=${3:-}
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
ALLOC_DEBUG_LIB=${ALLOC_DEBUG_LIB:-/work/ref/build-alloc-debug/out/src}
TOOL="$LLAMA_BUILD/ggufscope/clip-ref-load"
GEN="$HERE/make-mmproj.py"
[ -x "$TOOL" ] || { echo "$TOOL missing: run tools/mmproj-ref/build.sh" >&2; exit 1; }
mkdir -p "$DIR"
[ -z "$LOG_DIR" ] || mkdir -p "$LOG_DIR"

# name | projector type | make-mmproj.py size options
# (options common to every file: --seed 1 --ftype f16)
tiny_specs() {
cat <<'EOF'
gemma3-a|gemma3|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 4 --proj-dim 48
gemma3-b|gemma3|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 280 --patch-size 14 --merge 2 --proj-dim 40
idefics3-a|idefics3|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48
idefics3-b|idefics3|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 252 --patch-size 14 --merge 3 --proj-dim 40
llava15-a|mlp|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --proj-dim 48
llava15-b|mlp|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 280 --patch-size 14 --proj-dim 40
pixtral-a|pixtral|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 16 --merge 1 --proj-dim 48
pixtral-b|pixtral|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 84 --patch-size 14 --merge 1 --proj-dim 40
qwen25vl-a|qwen2.5vl_merger|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --proj-dim 48 --n-wa-pattern 2
qwen25vl-b|qwen2.5vl_merger|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 84 --patch-size 14 --proj-dim 40 --n-wa-pattern 2
qwen2vl-a|qwen2vl_merger|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --proj-dim 48
qwen2vl-b|qwen2vl_merger|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 84 --patch-size 14 --proj-dim 40
gemma4v-a|gemma4v|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 224 --patch-size 16 --merge 3 --proj-dim 48 --pos-size 64
gemma4v-b|gemma4v|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 224 --patch-size 14 --merge 2 --proj-dim 40 --pos-size 40
lfm2-a|lfm2|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 16 --merge 2 --proj-dim 48 --proj-hidden 64
lfm2-b|lfm2|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 96 --patch-size 16 --merge 3 --proj-dim 40 --proj-hidden 48
internvl-a|internvl|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48
internvl-b|internvl|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 280 --patch-size 14 --merge 2 --proj-dim 40
qwen3vl-a|qwen3vl_merger|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 16 --merge 2 --proj-dim 48 --deepstack 0
qwen3vl-b|qwen3vl_merger|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 96 --patch-size 16 --merge 2 --proj-dim 40 --deepstack 1
llama4-a|llama4|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48 --proj-hidden 64
llama4-b|llama4|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 280 --patch-size 14 --merge 2 --proj-dim 40 --proj-hidden 48
pixtral-ms-a|pixtral|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48 --silu
phi4-a|phi4|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 16 --proj-dim 48
phi4-b|phi4|--n-embd 24 --n-ff 40 --n-head 4 --n-layer 3 --image-size 224 --patch-size 14 --proj-dim 40
janus-pro-a|janus_pro|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --proj-dim 48 --proj-hidden 64
janus-pro-b|janus_pro|--n-embd 24 --n-ff 40 --n-head 4 --n-layer 3 --image-size 224 --patch-size 14 --proj-dim 40
lightonocr-a|lightonocr|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48 --silu
lightonocr-b|lightonocr|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 96 --patch-size 8 --merge 2 --proj-dim 40 --silu
paddleocr-a|paddleocr|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 4 --merge 2 --proj-dim 48
paddleocr-b|paddleocr|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 96 --patch-size 8 --merge 2 --proj-dim 40
kimivl-a|kimivl|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 4 --merge 2 --proj-dim 48
kimivl-b|kimivl|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 96 --patch-size 8 --merge 3 --proj-dim 40
glm4v-a|glm4v|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48 --proj-hidden 64 --pos-size 64
glm4v-b|glm4v|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 84 --patch-size 14 --merge 2 --proj-dim 40 --proj-hidden 48 --pos-size 36
youtuvl-a|youtuvl|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 64 --patch-size 16 --merge 2 --proj-dim 48 --full-layers 1
youtuvl-b|youtuvl|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 84 --patch-size 14 --merge 2 --proj-dim 40 --full-layers 0,2
mimovl-a|mimovl|--n-embd 32 --n-ff 72 --n-head 4 --n-head-kv 2 --head-dim 16 --n-layer 2 --image-size 112 --patch-size 14 --merge 2 --proj-dim 48 --wa-modes 0,1
mimovl-b|mimovl|--n-embd 24 --n-ff 40 --n-head 3 --n-head-kv 1 --head-dim 8 --n-layer 3 --image-size 84 --patch-size 14 --merge 2 --proj-dim 40 --wa-modes 1,-1,0
minicpmv-a|resampler|--n-embd 32 --n-ff 72 --n-head 2 --n-layer 2 --image-size 224 --patch-size 14 --proj-dim 128 --query-num 64
minicpmv-b|resampler|--n-embd 24 --n-ff 40 --n-head 3 --n-layer 3 --image-size 280 --patch-size 14 --proj-dim 256 --query-num 96
EOF
}

# real widths, 1-2 layers (see README.md for the models they stand for)
real_specs() {
cat <<'EOF'
gemma3-real|gemma3|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 896 --patch-size 14 --merge 4 --proj-dim 2560
idefics3-real|idefics3|--n-embd 768 --n-ff 3072 --n-head 12 --n-layer 2 --image-size 512 --patch-size 16 --merge 4 --proj-dim 960 --preproc-image-size 2048
llava15-real|mlp|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 336 --patch-size 14 --proj-dim 4096
pixtral-real|pixtral|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 1024 --patch-size 16 --merge 1 --proj-dim 5120
qwen25vl-real|qwen2.5vl_merger|--n-embd 1280 --n-ff 3420 --n-head 16 --n-layer 2 --image-size 560 --patch-size 14 --proj-dim 2048 --n-wa-pattern 8
qwen2vl-real|qwen2vl_merger|--n-embd 1280 --n-ff 5120 --n-head 16 --n-layer 2 --image-size 560 --patch-size 14 --proj-dim 1536
gemma4v-real|gemma4v|--n-embd 768 --n-ff 3072 --n-head 12 --n-layer 2 --image-size 224 --patch-size 16 --merge 3 --proj-dim 2560 --pos-size 10240
lfm2-real|lfm2|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 256 --patch-size 16 --merge 2 --proj-dim 2048 --proj-hidden 2048
internvl-real|internvl|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 448 --patch-size 14 --merge 2 --proj-dim 1536
qwen3vl-real|qwen3vl_merger|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 768 --patch-size 16 --merge 2 --proj-dim 2048 --pos-size 2304 --deepstack 0
llama4-real|llama4|--n-embd 1408 --n-ff 5632 --n-head 16 --n-layer 2 --image-size 336 --patch-size 14 --merge 2 --proj-dim 5120 --proj-hidden 4096
pixtral-ms-real|pixtral|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 1540 --patch-size 14 --merge 2 --proj-dim 5120 --silu
gemma4v-cs-real|gemma4v|--n-embd 768 --n-ff 3072 --n-head 12 --n-layer 2 --image-size 224 --patch-size 16 --merge 3 --proj-dim 2560 --pos-size 10240 --clamp --std
phi4-real|phi4|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 256 --patch-size 16 --proj-dim 5120
janus-pro-real|janus_pro|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 384 --patch-size 16 --proj-dim 2048
lightonocr-real|lightonocr|--n-embd 1024 --n-ff 4096 --n-head 16 --n-layer 2 --image-size 1540 --patch-size 14 --merge 2 --proj-dim 1024 --silu
paddleocr-real|paddleocr|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 1680 --patch-size 14 --merge 2 --proj-dim 1024 --pos-size 729
kimivl-real|kimivl|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 896 --patch-size 14 --merge 2 --proj-dim 2048 --pos-size 4096
glm4v-real|glm4v|--n-embd 1536 --n-ff 4096 --n-head 12 --n-layer 2 --image-size 336 --patch-size 14 --merge 2 --proj-dim 4096 --proj-hidden 13696 --pos-size 576
youtuvl-real|youtuvl|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 560 --patch-size 16 --merge 2 --proj-dim 2048 --full-layers 1
mimovl-real|mimovl|--n-embd 1280 --n-ff 3420 --n-head 32 --n-head-kv 8 --head-dim 64 --n-layer 2 --image-size 560 --patch-size 14 --merge 2 --proj-dim 4096 --wa-modes 1,-1 --window-size 64
minicpmv-real|resampler|--n-embd 1152 --n-ff 4304 --n-head 16 --n-layer 2 --image-size 448 --patch-size 14 --proj-dim 3584 --query-num 64
EOF
}

case "$SET" in
    tiny) SPECS=$(tiny_specs) ;;
    real) SPECS=$(real_specs) ;;
    *) echo "unknown set $SET" >&2; exit 2 ;;
esac

TRUTH="$DIR/truth.jsonl"
: > "$TRUTH"
while IFS='|' read -r name type opts; do
    [ -n "$name" ] || continue
    [ -z "${ONLY:-}" ] || [[ "$name" =~ ^(${ONLY})$ ]] || continue
    # shellcheck disable=SC2086
    python3 "$GEN" "$type" "$DIR/$name.gguf" $opts --seed 1 --ftype f16
    for fa in off on; do
        line=$(cd "$DIR" && "$TOOL" "$name.gguf" --fa "$fa" 2>/dev/null) || {
            echo "clip-ref-load failed on $name.gguf (fa $fa)" >&2
            (cd "$DIR" && "$TOOL" "$name.gguf" --fa "$fa" 2>&1 >/dev/null | tail -5) >&2
            exit 1
        }
        echo "$line" >> "$TRUTH"
        if [ -n "$LOG_DIR" ]; then
            (cd "$DIR" && LD_LIBRARY_PATH="$ALLOC_DEBUG_LIB" LLAMA_REF_LOG=1 \
                "$TOOL" "$name.gguf" --fa "$fa" 2> "$LOG_DIR/$name-fa$fa.log" > "$LOG_DIR/$name-fa$fa.json")
        fi
    done
    echo "$line" >&2
done <<< "$SPECS"
echo "$TRUTH"
