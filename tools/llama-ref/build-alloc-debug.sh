#!/usr/bin/env bash
# Builds a second libggml-base.so of llama.cpp 0c1e570 from a copy of its ggml/ with ggml-alloc.c's
# GGML_ALLOCATOR_DEBUG on and one log line added per allocation (tensor name, size, the buffer's
# top after it, op, offset, sources, shape). The graph allocator then accounts for every tensor of
# the reserved graph, and, each time its high-water mark rises, lists every tensor alive at that
# point (ggml-alloc.c:273-301). Run llama-ref-load against it to see what a compute buffer holds:
#
#   LD_LIBRARY_PATH=$(tools/llama-ref/build-alloc-debug.sh) LLAMA_REF_LOG=1 \
#       $LLAMA_BUILD/ggufscope/llama-ref-load FULL_FILE 512 2>&1 >/dev/null | grep -E '^alloc|max_size'
#
# (the tools' RUNPATH yields to LD_LIBRARY_PATH). The first reservation (n_ubatch tokens) is the
# one llama.cpp sizes the buffer by; two more follow (one token, then n_ubatch again). Prints the
# folder of the debug library. Nothing is written into the repository or llama.cpp's sources.
set -euo pipefail
LLAMA_CPP=${LLAMA_CPP:-/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp}
DEBUG_BUILD=${DEBUG_BUILD:-/work/ref/build-alloc-debug}
JOBS=${JOBS:-2}
SRC="$DEBUG_BUILD/ggml"
if [ ! -e "$DEBUG_BUILD/out/src/libggml-base.so" ] || ! grep -q "end %zu" "$SRC/src/ggml-alloc.c"; then
    rm -rf "$SRC" && mkdir -p "$DEBUG_BUILD" && cp -r "$LLAMA_CPP/ggml" "$SRC"
    python3 - "$SRC/src/ggml-alloc.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
anchor = "    size_t cur_max = addr.offset + size;\n"
assert s.count(anchor) == 1, "ggml-alloc.c: anchor not found"
s = s.replace(anchor, anchor + r'''    GGML_LOG_DEBUG("alloc %s %.3f MB top %.3f MB op %s off %.3f src %s %s %s ne %lld %lld %lld %lld end %zu\n",
        tensor->name, size / 1024.0 / 1024.0, cur_max / 1024.0 / 1024.0, ggml_op_desc(tensor),
        addr.offset / 1024.0 / 1024.0,
        tensor->src[0] ? tensor->src[0]->name : "-", tensor->src[1] ? tensor->src[1]->name : "-",
        tensor->src[2] ? tensor->src[2]->name : "-", (long long) tensor->ne[0],
        (long long) tensor->ne[1], (long long) tensor->ne[2], (long long) tensor->ne[3], cur_max);
''')
open(p, "w").write(s)
PY
    # The sdist's ggml/ is built standalone here: it lacks ggml.pc.in (empty is enough).
    touch "$SRC/ggml.pc.in"
    cmake -S "$SRC" -B "$DEBUG_BUILD/out" -DGGML_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release \
        -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF -DCMAKE_C_FLAGS=-DGGML_ALLOCATOR_DEBUG >&2
    nice -n 19 cmake --build "$DEBUG_BUILD/out" -j"$JOBS" --target ggml-base >&2
fi
echo "$DEBUG_BUILD/out/src"
