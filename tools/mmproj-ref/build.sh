#!/usr/bin/env bash
# Builds clip-ref-load (clip-ref-load.cpp) against the CPU ggml libraries of a llama.cpp 0c1e570
# build made by tools/llama-ref/build.sh (it needs $LLAMA_BUILD/bin/libggml*.so). The mtmd
# library is not built: tools/mtmd/clip.cpp is compiled into the tool (clip-ref-load.cpp
# #includes it, to read clip_ctx's scheduler) together with tools/mtmd/models/*.cpp, with c++.
#
#   LLAMA_CPP=/path/to/vendor/llama.cpp LLAMA_BUILD=/path/to/build tools/mmproj-ref/build.sh
#
# The tool lands in $LLAMA_BUILD/ggufscope/ (objects in $LLAMA_BUILD/ggufscope/mtmd-obj/).
# Nothing is written into the repository. Prints the tool's path.
set -euo pipefail
LLAMA_CPP=${LLAMA_CPP:-/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp}
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
JOBS=${JOBS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
B="$LLAMA_BUILD/bin"
for lib in libggml.so libggml-base.so libggml-cpu.so; do
    [ -e "$B/$lib" ] || { echo "$B/$lib missing: run tools/llama-ref/build.sh first" >&2; exit 1; }
done

OUT="$LLAMA_BUILD/ggufscope"
OBJ="$OUT/mtmd-obj"
mkdir -p "$OBJ"
MTMD="$LLAMA_CPP/tools/mtmd"
FLAGS=(-std=c++17 -O2 -fPIC -DGGML_BACKEND_SHARED -DGGML_SHARED -DGGML_USE_CPU -DLLAMA_SHARED
       -I"$MTMD" -I"$LLAMA_CPP/include" -I"$LLAMA_CPP/ggml/include")
export FLAGS_STR="${FLAGS[*]}"

# tools/mtmd/models/*.cpp (the graph builders clip.cpp calls), each compiled once
export OBJ
ls "$MTMD"/models/*.cpp | xargs -P "$JOBS" -I{} sh -c '
    src="$1"; o="$OBJ/$(basename "$src" .cpp).o"
    if [ ! -e "$o" ] || [ "$src" -nt "$o" ]; then
        nice -n 19 c++ $FLAGS_STR -c "$src" -o "$o"
    fi' _ {}

nice -n 19 c++ "${FLAGS[@]}" "$HERE/clip-ref-load.cpp" "$OBJ"/*.o -o "$OUT/clip-ref-load" \
    -Wl,-rpath,"$B" "$B/libggml.so" "$B/libggml-cpu.so" "$B/libggml-base.so" -lpthread
echo "$OUT/clip-ref-load"
