// Peer benchmark: `bench-llama-cpp FILE` opens FILE with llama.cpp's own GGUF parser
// (ggml/src/gguf.cpp, library ggml-base) as llama.cpp's loader does: gguf_init_from_file with
// no_alloc = true and no ggml context (header, every metadata entry, every tensor info; no
// tensor data). Reads the architecture and prints `arch n_kv n_tensors`.
#include <cstdio>

#include "gguf.h"

int main(int argc, char ** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench-llama-cpp FILE.gguf\n");
        return 2;
    }
    struct gguf_init_params params = {
        /*.no_alloc =*/ true,
        /*.ctx      =*/ nullptr,
    };
    struct gguf_context * ctx = gguf_init_from_file(argv[1], params);
    if (ctx == nullptr) {
        std::fprintf(stderr, "%s: gguf_init_from_file failed\n", argv[1]);
        return 1;
    }
    const int64_t arch_id = gguf_find_key(ctx, "general.architecture");
    const char * arch = arch_id >= 0 ? gguf_get_val_str(ctx, arch_id) : "?";
    std::printf("%s %lld %lld\n", arch, (long long) gguf_get_n_kv(ctx), (long long) gguf_get_n_tensors(ctx));
    gguf_free(ctx);
    return 0;
}
