// clip-ref-load: loads one mmproj GGUF file with llama.cpp 0c1e570's clip_init (tools/mtmd/clip.cpp)
// on the CPU, as llama.cpp's mtmd does, and prints one JSON line to stdout:
//
//   {"file": ..., "flash_attn": "on"|"off", "projector_type": ..., "warmup_image_size": N
//    (or "warmup_audio_size": N), "compute_bytes": B, "n_nodes": N, "n_splits": N,
//    "compute_mib_logged": "X.XX", "weights_bytes": W}
//
// - clip_init is called with use_gpu = false, warmup = true, image_min/max_tokens = 0 (the model's
//   defaults) and the given flash-attention type (CLIP_FLASH_ATTN_TYPE_ENABLED / _DISABLED).
// - compute_bytes: ggml_backend_sched_get_buffer_size(ctx->sched, ctx->backend_cpu) after the
//   warmup's reservation (clip.cpp reserve_compute_meta), exact bytes. This file #includes
//   clip.cpp so that clip_ctx's members are visible (clip.cpp and models/*.cpp are compiled into
//   this tool, see build.sh).
// - warmup_image_size / warmup_audio_size, n_nodes, n_splits, compute_mib_logged: parsed from
//   clip.cpp's own log lines ("warmup with image size = N x N", "graph splits = S, nodes = N",
//   "CPU compute buffer size = X MiB").
// - weights_bytes: the size of the weight buffer clip.cpp allocated (ctx->buf).
//
// Logs go to stderr (info and above); with env LLAMA_REF_LOG=1, every level including debug, so
// that with tools/llama-ref/build-alloc-debug.sh's libggml-base.so (LD_LIBRARY_PATH) the
// allocator's per-tensor `alloc ...` lines show up.
//
// Usage: clip-ref-load FILE [--fa on|off]     (default: off)
// Exit status 1 (and {"file":..., "loaded": false, "error": ...}) when clip_init fails.

#include "clip.cpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static std::string g_log;
static enum ggml_log_level g_last_level = GGML_LOG_LEVEL_INFO;

static void log_cb(enum ggml_log_level level, const char * text, void * /*ud*/) {
    static const bool all = getenv("LLAMA_REF_LOG") != nullptr;
    if (level == GGML_LOG_LEVEL_CONT) {
        level = g_last_level;
    } else {
        g_last_level = level;
    }
    g_log += text;
    if (all || level != GGML_LOG_LEVEL_DEBUG) {
        fputs(text, stderr);
        fflush(stderr);
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

// the integer after the last occurrence of `key` in the log, or -1
static long long last_int_after(const std::string & key) {
    size_t pos = g_log.rfind(key);
    if (pos == std::string::npos) {
        return -1;
    }
    return atoll(g_log.c_str() + pos + key.size());
}

// the text after the last occurrence of `key`, up to the end of its line, trimmed
static std::string last_text_after(const std::string & key) {
    size_t pos = g_log.rfind(key);
    if (pos == std::string::npos) {
        return "";
    }
    pos += key.size();
    size_t end = g_log.find('\n', pos);
    std::string s = g_log.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    size_t a = s.find_first_not_of(" \t");
    size_t b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

int main(int argc, char ** argv) {
    const char * file = nullptr;
    bool fa = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fa") == 0 && i + 1 < argc) {
            const char * v = argv[++i];
            if (strcmp(v, "on") == 0) {
                fa = true;
            } else if (strcmp(v, "off") == 0) {
                fa = false;
            } else {
                fprintf(stderr, "--fa takes on or off\n");
                return 2;
            }
        } else if (file == nullptr) {
            file = argv[i];
        } else {
            fprintf(stderr, "usage: %s FILE [--fa on|off]\n", argv[0]);
            return 2;
        }
    }
    if (file == nullptr) {
        fprintf(stderr, "usage: %s FILE [--fa on|off]\n", argv[0]);
        return 2;
    }

    ggml_log_set(log_cb, nullptr);          // ggml (allocator, scheduler, backends)
    g_logger_state.log_callback = log_cb;   // clip.cpp's LOG_* (what mtmd_log_set sets)
    g_logger_state.log_callback_user_data = nullptr;
    ggml_backend_load_all();                // no-op unless the backends are dynamic

    clip_context_params params {};
    params.use_gpu          = false;
    params.device           = nullptr;
    params.flash_attn_type  = fa ? CLIP_FLASH_ATTN_TYPE_ENABLED : CLIP_FLASH_ATTN_TYPE_DISABLED;
    params.image_min_tokens = 0;
    params.image_max_tokens = 0;
    params.warmup           = true;
    params.cb_eval          = nullptr;
    params.cb_eval_user_data = nullptr;
    params.no_alloc         = false;
    params.progress_callback = nullptr;
    params.progress_callback_user_data = nullptr;

    clip_init_result res = clip_init(file, params);
    clip_ctx * ctx = res.ctx_v ? res.ctx_v : res.ctx_a;
    if (ctx == nullptr) {
        printf("{\"file\": %s, \"flash_attn\": \"%s\", \"loaded\": false, \"error\": %s}\n",
            json_str(file).c_str(), fa ? "on" : "off", json_str(last_text_after("failed to load model")).c_str());
        return 1;
    }

    const size_t compute_bytes = ggml_backend_sched_get_buffer_size(ctx->sched.get(), ctx->backend_cpu);
    const size_t weights_bytes = ctx->buf ? ggml_backend_buffer_get_size(ctx->buf.get()) : 0;
    const std::string proj = PROJECTOR_TYPE_NAMES[ctx->proj_type()];
    const long long n_nodes  = last_int_after("nodes = ");
    const long long n_splits = last_int_after("graph splits = ");
    const std::string mib = last_text_after("compute buffer size =");
    const bool fa_used = ctx->flash_attn_type == CLIP_FLASH_ATTN_TYPE_ENABLED;

    std::string o = "{";
    o += "\"file\": " + json_str(file);
    o += ", \"flash_attn\": \"" + std::string(fa_used ? "on" : "off") + "\"";
    o += ", \"projector_type\": " + json_str(proj);
    if (ctx->model.modality == CLIP_MODALITY_VISION) {
        o += ", \"warmup_image_size\": " + std::to_string(last_int_after("warmup with image size = "));
    } else {
        o += ", \"warmup_audio_size\": " + std::to_string(last_int_after("warmup with audio size = "));
    }
    o += ", \"compute_bytes\": " + std::to_string(compute_bytes);
    o += ", \"n_nodes\": " + std::to_string(n_nodes);
    o += ", \"n_splits\": " + std::to_string(n_splits);
    o += ", \"compute_mib_logged\": " + json_str(mib.substr(0, mib.find(' ')));
    o += ", \"weights_bytes\": " + std::to_string(weights_bytes);
    o += "}";
    printf("%s\n", o.c_str());

    clip_free(res.ctx_v);
    clip_free(res.ctx_a);
    clip_free(res.ctx_gen_a);
    return 0;
}
