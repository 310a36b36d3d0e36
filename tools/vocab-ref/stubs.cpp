// The two symbols llama-model-loader.cpp needs from src/llama.cpp, for split files only; the
// vocabulary files this tool reads are never split, so they abort if ever called.
#include <cstdio>
#include <cstdlib>
extern "C" int llama_split_path(char *, size_t, const char *, int, int) { fprintf(stderr, "split files unsupported\n"); abort(); }
extern "C" int llama_split_prefix(char *, size_t, const char *, int, int) { fprintf(stderr, "split files unsupported\n"); abort(); }
