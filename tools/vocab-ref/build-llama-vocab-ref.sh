#!/usr/bin/env bash
# Builds llama_vocab_ref (llama.cpp's model loader and vocabulary loader, ggml's base library,
# nothing else) from a llama.cpp source tree:
#   bash tools/vocab-ref/build-llama-vocab-ref.sh LLAMA_CPP_DIR OUT_BINARY
# then: OUT_BINARY tests/fixtures/real/*.gguf tests/fixtures/vocab/*.gguf 2>/dev/null
set -euo pipefail
src=${1:?llama.cpp source dir}
out=${2:-/tmp/llama_vocab_ref}
here=$(cd "$(dirname "$0")" && pwd)
obj=$(mktemp -d)
printf '#pragma once\n#define GGML_VERSION "0.0.0"\n#define GGML_COMMIT "0c1e570"\n' > "$obj/ggml-version.h"
inc=(-I"$obj" -I"$src/include" -I"$src/src" -I"$src/ggml/include" -I"$src/ggml/src")
defs=(-D_GNU_SOURCE)
for f in ggml.c ggml-alloc.c ggml-quants.c; do
  gcc -std=c11 -O1 -w "${inc[@]}" "${defs[@]}" -c "$src/ggml/src/$f" -o "$obj/$f.o"
done
for f in ggml.cpp ggml-backend-dl.cpp ggml-backend.cpp ggml-backend-reg.cpp ggml-backend-meta.cpp ggml-threading.cpp gguf.cpp; do
  g++ -std=c++17 -O1 -w "${inc[@]}" "${defs[@]}" -c "$src/ggml/src/$f" -o "$obj/$f.o"
done
for f in llama-vocab.cpp llama-model-loader.cpp llama-arch.cpp llama-impl.cpp llama-mmap.cpp llama-hparams.cpp unicode.cpp unicode-data.cpp; do
  g++ -std=c++17 -O1 -w "${inc[@]}" "${defs[@]}" -c "$src/src/$f" -o "$obj/$f.o"
done
g++ -std=c++17 -O1 -w "${inc[@]}" "${defs[@]}" "$here/llama_vocab_ref.cpp" "$here/stubs.cpp" "$obj"/*.o -lpthread -o "$out"
rm -rf "$obj"
