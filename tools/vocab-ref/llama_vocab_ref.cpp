// Loads the vocabulary of each GGUF file given on the command line the way llama.cpp 0c1e570 does
// (llama_model_loader + llama_vocab::load, src/llama-vocab.cpp:1939) and prints, per file, one JSON
// line with the facts ggufscope's tokenizer analysis reports: tokenizer model, pre-tokenizer and its
// LLAMA_VOCAB_PRE_TYPE_*, vocabulary size, the file's token-type histogram, the special-token ids,
// add_bos/add_eos/add_sep and the end-of-generation set (llama_vocab::is_eog over every id).
// A file llama.cpp refuses prints {"file": ..., "error": "<the exception's message>"}.
// Build: bash tools/vocab-ref/build-llama-vocab-ref.sh LLAMA_CPP_DIR OUT_BINARY
#include "llama-arch.h"
#include "llama-model-loader.h"
#include "llama-vocab.h"
#include "llama.h"
#include "gguf.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

static std::string esc(const std::string & s) {
    std::string o;
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
                else o += (char) c;
        }
    }
    return o;
}


int main(int argc, char ** argv) {
    for (int i = 1; i < argc; i++) {
        const std::string fname = argv[i];
        std::string base = fname.substr(fname.find_last_of('/') + 1);
        try {
            std::vector<std::string> splits;
            llama_model_loader ml(nullptr, nullptr, nullptr, fname, splits, nullptr, LLAMA_LOAD_MODE_NONE,
                                  false, true, false, nullptr, nullptr);
            LLM_KV kv(ml.get_arch());
            llama_vocab vocab;
            vocab.load(ml, kv);

            // the file's token types (tokenizer.ggml.token_type), counted as stored
            std::map<int, uint32_t> hist;
            const int tt = gguf_find_key(ml.metadata, "tokenizer.ggml.token_type");
            if (tt >= 0) {
                const int32_t * d = (const int32_t *) gguf_get_arr_data(ml.metadata, tt);
                const size_t n = gguf_get_arr_n(ml.metadata, tt);
                for (size_t j = 0; j < n; j++) hist[d[j]]++;
            }

            printf("{\"file\":\"%s\",\"model\":\"%s\",\"pre\":\"%s\",\"vocab_type\":%d,\"pre_type\":%d,\"n_vocab\":%u",
                   esc(base).c_str(), esc(vocab.get_tokenizer_model()).c_str(), esc(vocab.get_tokenizer_pre()).c_str(),
                   (int) vocab.get_type(), (int) vocab.get_pre_type(), vocab.n_tokens());
            printf(",\"token_types\":{");
            bool first = true;
            for (auto & [t, c] : hist) { printf("%s\"%d\":%u", first ? "" : ",", t, c); first = false; }
            printf("}");
            const std::pair<const char *, llama_token> specials[] = {
                {"bos", vocab.token_bos()}, {"eos", vocab.token_eos()}, {"eot", vocab.token_eot()},
                {"eom", vocab.token_eom()}, {"unk", vocab.token_unk()}, {"sep", vocab.token_sep()},
                {"pad", vocab.token_pad()}, {"mask", vocab.token_mask()},
                {"fim_pre", vocab.token_fim_pre()}, {"fim_suf", vocab.token_fim_suf()},
                {"fim_mid", vocab.token_fim_mid()}, {"fim_pad", vocab.token_fim_pad()},
                {"fim_rep", vocab.token_fim_rep()}, {"fim_sep", vocab.token_fim_sep()},
            };
            printf(",\"special\":{");
            first = true;
            for (auto & [name, id] : specials) {
                if (id == LLAMA_TOKEN_NULL) continue;
                printf("%s\"%s\":{\"id\":%d,\"text\":\"%s\"}", first ? "" : ",", name, id,
                       esc(vocab.token_get_text(id)).c_str());
                first = false;
            }
            printf("}");
            printf(",\"add_bos\":%s,\"add_eos\":%s,\"add_sep\":%s", vocab.get_add_bos() ? "true" : "false",
                   vocab.get_add_eos() ? "true" : "false", vocab.get_add_sep() ? "true" : "false");
            printf(",\"eog\":[");
            first = true;
            for (uint32_t id = 0; id < vocab.n_tokens(); id++) {
                if (vocab.is_eog((llama_token) id)) {
                    printf("%s{\"id\":%u,\"text\":\"%s\"}", first ? "" : ",", id, esc(vocab.token_get_text(id)).c_str());
                    first = false;
                }
            }
            printf("]}\n");
        } catch (const std::exception & e) {
            printf("{\"file\":\"%s\",\"error\":\"%s\"}\n", esc(base).c_str(), esc(e.what()).c_str());
        }
        fflush(stdout);
    }
    return 0;
}
