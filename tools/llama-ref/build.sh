#!/usr/bin/env bash
# Builds llama.cpp 0c1e570's CPU library (from the llama-cpp-python 0.3.36 sdist's vendor/llama.cpp)
# and, against it, the reference tools of this folder:
#   test-llama-archs-sized  llama.cpp's tests/test-llama-archs.cpp with size options (the generator)
#   llama-ref-load          loads a full file as llama-truth.json was made and prints what llama.cpp said
#   llama-ref-cuda          loads a full file beside a stand-in for one CUDA GPU (ggml-cuda's buffer
#                           types, alignment, allocation sizes, supported and offloaded ops) and
#                           prints the buffers llama.cpp reserves, as cuda-truth.json records them
#
#   LLAMA_CPP=/path/to/vendor/llama.cpp LLAMA_BUILD=/path/to/build tools/llama-ref/build.sh
#
# Tools land in $LLAMA_BUILD/ggufscope/. Nothing is written into the repository.
set -euo pipefail
LLAMA_CPP=${LLAMA_CPP:-/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp}
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
JOBS=${JOBS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ ! -e "$LLAMA_BUILD/bin/libllama.so" ] || [ ! -e "$LLAMA_BUILD/bin/libllama-common.so" ]; then
    cmake -S "$LLAMA_CPP" -B "$LLAMA_BUILD" -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_TOOLS=OFF \
        -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release
    nice -n 19 cmake --build "$LLAMA_BUILD" -j"$JOBS" --target test-llama-archs llama
fi

OUT="$LLAMA_BUILD/ggufscope"
mkdir -p "$OUT"
B="$LLAMA_BUILD/bin"
FLAGS=(-std=c++17 -O2 -DGGML_BACKEND_SHARED -DGGML_SHARED -DGGML_USE_CPU -DLLAMA_SHARED
       -I"$LLAMA_CPP/include" -I"$LLAMA_CPP/ggml/include" -I"$LLAMA_CPP/common"
       -I"$LLAMA_CPP/vendor" -I"$LLAMA_CPP/src" -I"$LLAMA_CPP/ggml/src")
LIBS=(-Wl,-rpath,"$B" "$B/libllama.so" "$B/libggml.so" "$B/libggml-cpu.so" "$B/libggml-base.so")

nice -n 19 c++ "${FLAGS[@]}" "$HERE/test-llama-archs-sized.cpp" -o "$OUT/test-llama-archs-sized" \
    "$B/libllama-common.so" "${LIBS[@]}" "$LLAMA_BUILD/common/libllama-common-base.a"
nice -n 19 c++ "${FLAGS[@]}" "$HERE/llama-ref-load.cpp" -o "$OUT/llama-ref-load" "${LIBS[@]}"
nice -n 19 c++ "${FLAGS[@]}" "$HERE/llama-ref-cuda.cpp" -o "$OUT/llama-ref-cuda" "${LIBS[@]}"
echo "$OUT/test-llama-archs-sized"
echo "$OUT/llama-ref-load"
echo "$OUT/llama-ref-cuda"
