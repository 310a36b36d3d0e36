#!/usr/bin/env bash
# Fetches llama.cpp 0c1e570's sources — the snapshot vendored in the llama-cpp-python 0.3.36 sdist
# on the Python package registry — and prints the path of its llama.cpp folder. Used by .ci/run
# to check the architecture table against its generator and to run the tests over llama.cpp's
# own models/ggml-vocab-*.gguf files. Cached in ${LLAMA_CPP_CACHE:-~/.cache/ggufscope}.
set -euo pipefail
CACHE="${LLAMA_CPP_CACHE:-$HOME/.cache/ggufscope}"
DIR="$CACHE/llama_cpp_python-0.3.36/vendor/llama.cpp"
if [ ! -f "$DIR/src/llama-model.cpp" ]; then
  mkdir -p "$CACHE"
  # The registry's JSON index gives the file's URL (a plain `pip download` would try to build
  # the package's metadata, which compiles cmake).
  URL=$(curl -fsSL -H 'Accept: application/vnd.pypi.simple.v1+json' \
      https://pypi.org/simple/llama-cpp-python/ |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(next(f["url"] for f in d["files"] if f["filename"] == "llama_cpp_python-0.3.36.tar.gz"))')
  curl -fsSL -o "$CACHE/sdist.tar.gz" "$URL"
  tar -xzf "$CACHE/sdist.tar.gz" -C "$CACHE" \
    llama_cpp_python-0.3.36/vendor/llama.cpp/src \
    llama_cpp_python-0.3.36/vendor/llama.cpp/include \
    llama_cpp_python-0.3.36/vendor/llama.cpp/ggml/include \
    llama_cpp_python-0.3.36/vendor/llama.cpp/models
  rm -f "$CACHE/sdist.tar.gz"
fi
echo "$DIR"
