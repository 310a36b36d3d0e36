#!/usr/bin/env bash
# Builds llama.cpp's llama-gguf-hash (examples/gguf-hash) from the llama.cpp 0c1e570 snapshot in
# the llama-cpp-python 0.3.36 sdist, and prints the path of the binary. Needs cmake and a C++
# compiler (`apt-get install cmake g++`). The sdist is fetched as tools/fetch-llama-cpp.sh
# fetches it, but unpacked whole (the build needs ggml/src, vendor/ and examples/).
#
#   bash bench/verify-llama-gguf-hash.sh            # build, print the binary's path
#   bash bench/verify-llama-gguf-hash.sh manifest   # also regenerate
#                                                   # crates/cli/tests/fixtures/verify-hash.manifest
#
# Cached in ${LLAMA_CPP_CACHE:-~/.cache/ggufscope}/full. The build takes a few minutes on 2 cores
# (only ggml-base, ggml-cpu, the hash libraries and the tool are built).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LLAMA_CPP_CACHE:-$HOME/.cache/ggufscope}/full"
SRC="$CACHE/llama_cpp_python-0.3.36/vendor/llama.cpp"
BUILD="$CACHE/build-gguf-hash"
BIN="$BUILD/bin/llama-gguf-hash"
if [ ! -f "$SRC/examples/gguf-hash/gguf-hash.cpp" ]; then
  mkdir -p "$CACHE"
  URL=$(curl -fsSL -H 'Accept: application/vnd.pypi.simple.v1+json' \
      https://pypi.org/simple/llama-cpp-python/ |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(next(f["url"] for f in d["files"] if f["filename"] == "llama_cpp_python-0.3.36.tar.gz"))')
  curl -fsSL -o "$CACHE/sdist.tar.gz" "$URL"
  tar -xzf "$CACHE/sdist.tar.gz" -C "$CACHE" llama_cpp_python-0.3.36/vendor/llama.cpp
  rm -f "$CACHE/sdist.tar.gz"
fi
if [ ! -x "$BIN" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF \
    -DGGML_OPENMP=OFF -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$BUILD" --target llama-gguf-hash -j"$(nproc)" >&2
fi
if [ "${1:-}" = manifest ]; then
  TMP=$(mktemp -d)
  (cd "$ROOT" && cargo run -q -p ggufscope-verify --example verify_fixture -- "$TMP") >&2
  # Every hash and the uuid, with the file named as the tests name it (no directory).
  (cd "$TMP" && "$BIN" --all --uuid verify-hash.gguf) > "$ROOT/crates/cli/tests/fixtures/verify-hash.manifest"
  rm -rf "$TMP"
  echo "wrote crates/cli/tests/fixtures/verify-hash.manifest" >&2
fi
echo "$BIN"
