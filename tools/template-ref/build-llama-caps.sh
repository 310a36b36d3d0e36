#!/usr/bin/env bash
# Builds llama_caps (llama.cpp's Jinja engine and capability probe, nothing else) from a llama.cpp
# source tree: bash tools/template-ref/build-llama-caps.sh LLAMA_CPP_DIR OUT_BINARY
set -euo pipefail
src=${1:?llama.cpp source dir}
out=${2:-/tmp/llama_caps}
here=$(cd "$(dirname "$0")" && pwd)
g++ -std=c++17 -O1 -w -I"$src/common" -I"$src/vendor" -I"$src/ggml/include" -I"$src/include" \
  "$here/llama_caps.cpp" "$src"/common/jinja/*.cpp "$src/common/json.cpp" "$src/common/unicode.cpp" \
  -o "$out"
