// llama-ref-load: loads one full GGUF file with llama.cpp (0c1e570) on the CPU exactly as
// tests/fixtures/llama-archs/llama-truth.json was made, and prints what llama.cpp said as one JSON
// object `{"n_ctx_512": {...}, "n_ctx_4096": {...}}` with llama-truth.json's fields:
//
// - print_info: every `print_info: KEY = VALUE` line llama.cpp logged (src/llama-model.cpp:2034
//   llama_model::print_info, src/llama-vocab.cpp print_info), values as printed (strings);
// - n_params, model_size: llama_model_n_params, llama_model_size;
// - model_mib, kv_mib, recurrent_mib, output_mib, compute_mib: the sums of the buffer lines
//   llama.cpp logged (MiB, as printed with 2 decimals);
// - memory_lines: those log lines verbatim.
//
// Settings (llama-truth.json's "settings"): CPU backend only, no weight repacking
// (use_extra_bufts = false), mmap (load_mode MMAP), n_batch 512, n_ubatch 512, one
// sequence, f16 K and V caches, flash attention off (the truth's compute buffers hold the KQ
// matrix: with `auto`, 0c1e570 enables it on the CPU, src/llama-context.cpp:557, and the compute
// buffers come out smaller), swa_full true (the library default, src/llama-context.cpp:3788). The
// model is loaded afresh for each n_ctx.
//
// Usage: llama-ref-load [--fa off|on|auto] FILE [N_CTX ...]   (default: off, 512 4096)
//        llama-ref-load --head FILE OUT       writes FILE's head (every byte before the tensor
//                                             data, gguf_get_data_offset) to OUT

#include "llama.h"
#include "ggml-backend.h"
#include "gguf.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

static std::string g_log;
static llama_flash_attn_type g_flash_attn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
static uint32_t g_n_seq_max = 1;
static bool g_kv_unified = false;
static ggml_type g_type_k = GGML_TYPE_F16;
static ggml_type g_type_v = GGML_TYPE_F16;

// A ggml type by its name (`q8_0`), as common/arg.cpp's kv_cache_type_from_str reads -ctk/-ctv.
static bool type_of(const char * name, ggml_type * out) {
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const char * n = ggml_type_name((ggml_type) t);
        if (n != nullptr && strcmp(n, name) == 0) {
            *out = (ggml_type) t;
            return true;
        }
    }
    return false;
}

static void log_cb(enum ggml_log_level /*level*/, const char * text, void * /*ud*/) {
    g_log += text;
    // LLAMA_REF_LOG=1: every log line to stderr too (with build-alloc-debug.sh's ggml-base, the
    // graph allocator's peaks and the tensors alive at each).
    static const bool echo = getenv("LLAMA_REF_LOG") != nullptr;
    if (echo) {
        fputs(text, stderr);
    }
}

static std::string json_str(const std::string & s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':  out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n";  break;
            case '\t': out += "\\t";  break;
            case '\r': out += "\\r";  break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof(buf), "\\u%04x", c);
                    out += buf;
                } else {
                    out += (char) c;
                }
        }
    }
    return out + "\"";
}

static std::string trim(const std::string & s) {
    size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) {
        return "";
    }
    size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

static std::vector<std::string> lines_of(const std::string & text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

static bool contains(const std::string & s, const char * part) {
    return s.find(part) != std::string::npos;
}

// The MiB figure after the last " = " of a buffer line ("... buffer size =     6.77 MiB").
static double mib_of(const std::string & line) {
    size_t eq = line.rfind(" = ");
    if (eq == std::string::npos) {
        return 0.0;
    }
    return atof(line.c_str() + eq + 3);
}

static bool is_memory_line(const std::string & l) {
    return contains(l, "buffer size") || contains(l, "llama_kv_cache: size =") ||
           contains(l, "llama_memory_recurrent: size =");
}

// One load at one n_ctx: the JSON object of llama-truth.json's record.
static std::string run(const char * path, uint32_t n_ctx) {
    g_log.clear();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers    = 0;
    mp.use_extra_bufts = false; // no weight repacking
    mp.load_mode       = LLAMA_LOAD_MODE_MMAP; // CPU_Mapped, as in the truth

    llama_model * model = llama_model_load_from_file(path, mp);
    if (model == nullptr) {
        return "{\"loaded\": false, \"n_ctx\": " + std::to_string(n_ctx) + ", \"log\": " + json_str(g_log) + "}";
    }
    const uint64_t n_params   = llama_model_n_params(model);
    const uint64_t model_size = llama_model_size(model);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx           = n_ctx;
    cp.n_batch         = 512;
    cp.n_ubatch        = 512;
    cp.n_seq_max       = g_n_seq_max;
    cp.type_k          = g_type_k;
    cp.type_v          = g_type_v;
    cp.flash_attn_type = g_flash_attn;
    cp.swa_full        = true;
    cp.kv_unified      = g_kv_unified;
    cp.embeddings      = false;
    cp.n_threads       = 2;
    cp.n_threads_batch = 2;

    llama_context * ctx = llama_init_from_model(model, cp);
    const bool ctx_ok = ctx != nullptr;
    if (ctx != nullptr) {
        llama_free(ctx); // logs "~llama_context: ... compute buffer size is ..."
    }
    llama_model_free(model);

    std::map<std::string, std::string> info;
    std::vector<std::string> mem;
    double model_mib = 0, kv_mib = 0, rs_mib = 0, out_mib = 0, compute_mib = 0;
    bool any_rs = false;
    for (const std::string & raw : lines_of(g_log)) {
        const std::string l = trim(raw);
        if (l.rfind("print_info:", 0) == 0) {
            const std::string rest = l.substr(strlen("print_info:"));
            size_t eq = rest.find('=');
            if (eq == std::string::npos) {
                continue;
            }
            info[trim(rest.substr(0, eq))] = trim(rest.substr(eq + 1));
            continue;
        }
        if (!is_memory_line(l)) {
            continue;
        }
        mem.push_back(l);
        if (l.rfind("~llama_context:", 0) == 0) {
            continue;
        }
        if (contains(l, "model buffer size")) {
            model_mib += mib_of(l);
        } else if (contains(l, "KV buffer size")) {
            kv_mib += mib_of(l);
        } else if (contains(l, "RS buffer size")) {
            rs_mib += mib_of(l);
            any_rs = true;
        } else if (contains(l, "output buffer size")) {
            out_mib += mib_of(l);
        } else if (contains(l, "compute buffer size")) {
            compute_mib += mib_of(l);
        }
    }

    auto num = [](double v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%.2f", v + 0.0);
        return std::string(buf);
    };
    std::string o = "{";
    o += "\"loaded\": " + std::string(ctx_ok ? "true" : "false");
    o += ", \"n_ctx\": " + std::to_string(n_ctx);
    o += ", \"n_params\": " + std::to_string(n_params);
    o += ", \"model_size\": " + std::to_string(model_size);
    o += ", \"model_mib\": " + num(model_mib);
    o += ", \"kv_mib\": " + num(kv_mib);
    o += ", \"recurrent_mib\": " + (any_rs ? num(rs_mib) : std::string("0"));
    o += ", \"output_mib\": " + num(out_mib);
    o += ", \"compute_mib\": " + num(compute_mib);
    o += ", \"memory_lines\": [";
    for (size_t i = 0; i < mem.size(); i++) {
        o += (i ? ", " : "") + json_str(mem[i]);
    }
    o += "], \"print_info\": {";
    bool first = true;
    for (const auto & kv : info) {
        o += (first ? "" : ", ") + json_str(kv.first) + ": " + json_str(kv.second);
        first = false;
    }
    o += "}";
    if (!ctx_ok) {
        o += ", \"log\": " + json_str(g_log);
    }
    o += "}";
    return o;
}

// The head of a GGUF file: every byte before its tensor data.
static int write_head(const char * path, const char * out) {
    gguf_init_params params = { /*no_alloc =*/ true, /*ctx =*/ nullptr };
    gguf_context * g = gguf_init_from_file(path, params);
    if (g == nullptr) {
        fprintf(stderr, "%s: not a GGUF file\n", path);
        return 2;
    }
    const size_t n = gguf_get_data_offset(g);
    gguf_free(g);
    std::vector<char> buf(n);
    FILE * f = fopen(path, "rb");
    if (f == nullptr || fread(buf.data(), 1, n, f) != n) {
        fprintf(stderr, "%s: cannot read %zu bytes\n", path, n);
        return 2;
    }
    fclose(f);
    FILE * o = fopen(out, "wb");
    if (o == nullptr || fwrite(buf.data(), 1, n, o) != n) {
        fprintf(stderr, "%s: cannot write\n", out);
        return 2;
    }
    fclose(o);
    return 0;
}

int main(int argc, char ** argv) {
    if (argc == 4 && strcmp(argv[1], "--head") == 0) {
        return write_head(argv[2], argv[3]);
    }
    // Leading options: --fa on|auto|off, --ctk TYPE, --ctv TYPE (f16 K and V by default),
    // --parallel N (n_seq_max, 1 by default), --kv-unified 0|1 (0 by default).
    while (argc > 2 && strncmp(argv[1], "--", 2) == 0) {
        if (strcmp(argv[1], "--fa") == 0) {
            g_flash_attn = strcmp(argv[2], "on") == 0 ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                         : strcmp(argv[2], "auto") == 0 ? LLAMA_FLASH_ATTN_TYPE_AUTO
                         : LLAMA_FLASH_ATTN_TYPE_DISABLED;
        } else if (strcmp(argv[1], "--parallel") == 0) {
            g_n_seq_max = (uint32_t) strtoul(argv[2], nullptr, 10);
        } else if (strcmp(argv[1], "--kv-unified") == 0) {
            g_kv_unified = strcmp(argv[2], "1") == 0;
        } else if (strcmp(argv[1], "--ctk") == 0 || strcmp(argv[1], "--ctv") == 0) {
            if (!type_of(argv[2], strcmp(argv[1], "--ctk") == 0 ? &g_type_k : &g_type_v)) {
                fprintf(stderr, "unknown type %s\n", argv[2]);
                return 2;
            }
        } else {
            break;
        }
        argv += 2;
        argc -= 2;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [N_CTX ...]\n", argv[0]);
        return 2;
    }
    std::vector<uint32_t> ctxs;
    for (int i = 2; i < argc; i++) {
        ctxs.push_back((uint32_t) strtoul(argv[i], nullptr, 10));
    }
    if (ctxs.empty()) {
        ctxs = {512, 4096};
    }
    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    printf("{");
    for (size_t i = 0; i < ctxs.size(); i++) {
        printf("%s\"n_ctx_%u\": %s", i ? ", " : "", ctxs[i], run(argv[1], ctxs[i]).c_str());
    }
    printf("}\n");
    llama_backend_free();
    return 0;
}
