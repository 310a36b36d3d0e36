// Prints llama.cpp's chat-template capability probe (common/jinja/caps.cpp, caps_get) for each
// template file named on the command line, one JSON object per line:
//   {"file": ..., "parsed": true|false, "error": ..., "caps": {...caps::to_map()...}}
// Built against the llama.cpp sources of the llama-cpp-python 0.3.36 sdist (llama.cpp 0c1e570) by
// build-llama-caps.sh; used to produce tests/fixtures/templates/llama-caps.jsonl.
#include "jinja/lexer.h"
#include "jinja/parser.h"
#include "jinja/runtime.h"
#include "jinja/caps.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

static std::string esc(const std::string & s) {
    std::string o;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') { o += '\\'; o += (char) c; }
        else if (c == '\n') { o += "\\n"; }
        else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
        else { o += (char) c; }
    }
    return o;
}

// common/json.cpp aborts through ggml; this program links no ggml.
extern "C" [[noreturn]] void ggml_abort(const char * file, int line, const char * fmt, ...) {
    fprintf(stderr, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

int main(int argc, char ** argv) {
    for (int i = 1; i < argc; i++) {
        std::ifstream f(argv[i]);
        std::stringstream ss;
        ss << f.rdbuf();
        std::string tmpl = ss.str();
        std::string name = argv[i];
        auto slash = name.find_last_of('/');
        if (slash != std::string::npos) name = name.substr(slash + 1);
        try {
            jinja::lexer lexer;
            auto toks = lexer.tokenize(tmpl);
            jinja::program prog = jinja::parse_from_tokens(toks);
            auto caps = jinja::caps_get(prog);
            std::cout << "{\"file\": \"" << esc(name) << "\", \"parsed\": true, \"caps\": {";
            bool first = true;
            for (const auto & [k, v] : caps.to_map()) {
                std::cout << (first ? "" : ", ") << "\"" << k << "\": " << (v ? "true" : "false");
                first = false;
            }
            std::cout << "}}\n";
        } catch (const std::exception & e) {
            std::cout << "{\"file\": \"" << esc(name) << "\", \"parsed\": false, \"error\": \"" << esc(e.what()) << "\"}\n";
        }
    }
    return 0;
}
