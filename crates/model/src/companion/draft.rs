//! Draft models: `common_speculative_are_compatible` (`common/speculative.cpp:67-130`) compares
//! the vocabularies as `llama_vocab::load` (`src/llama-vocab.cpp:1940-2660`) reads them: type,
//! add-BOS/EOS and their ids, size (at most 128 apart) and the text of every token from id 5.

use ggufscope_gguf::Gguf;
use serde::Serialize;

use super::PairFinding;

/// `SPEC_VOCAB_MAX_SIZE_DIFFERENCE` (`common/speculative.cpp:30`).
const MAX_SIZE_DIFFERENCE: u64 = 128;
/// `SPEC_VOCAB_CHECK_START_TOKEN_ID` (`common/speculative.cpp:31`).
const CHECK_START: u64 = 5;

/// A vocabulary as `llama_vocab::load` reads it, the parts speculative decoding compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VocabFacts {
    /// `tokenizer.ggml.model`.
    pub model: String,
    /// llama.cpp's vocab type (`none`, `spm`, `bpe`, `wpm`, `ugm`, `rwkv`, `plamo2`, `test`),
    /// `unknown` for a tokenizer llama.cpp refuses.
    pub vocab_type: &'static str,
    /// Tokens (`tokenizer.ggml.tokens`, or `{arch}.vocab_size` dummies for `no_vocab`).
    pub n_tokens: u64,
    /// The BOS id, `None` for LLAMA_TOKEN_NULL.
    pub bos: Option<u64>,
    /// The EOS id.
    pub eos: Option<u64>,
    /// Whether a BOS is added.
    pub add_bos: bool,
    /// Whether an EOS is added.
    pub add_eos: bool,
}

/// Pre-tokenizers whose branch sets `add_bos = true` (`src/llama-vocab.cpp:2174-2185`,
/// 2300-2307, 2330-2333, and the Gemma 4 override at 2651-2655).
const BPE_ADD_BOS: &[&str] = &[
    "llama3",
    "llama-v3",
    "llama-bpe",
    "falcon3",
    "falcon-h1",
    "pixtral",
    "midm-2.0",
    "lfm2",
    "jina-v5-nano",
    "tekken",
    "chameleon",
    "gemma4",
    "granite-embed-multi-311m",
];

impl VocabFacts {
    /// Reads a file's vocabulary facts.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let md = gguf.metadata();
        let s = |k: &str| md.get_str(k).ok().flatten().unwrap_or("").to_owned();
        let model = s("tokenizer.ggml.model");
        let pre = s("tokenizer.ggml.pre");
        // Defaults by tokenizer (src/llama-vocab.cpp:1949-2143) and the add_bos/add_eos of each
        // type (2428-2452).
        let (vocab_type, bos, eos, add_bos, add_eos): (&str, Option<u64>, Option<u64>, bool, bool) =
            match model.as_str() {
                "no_vocab" | "none" => ("none", None, None, false, false),
                "llama" => ("spm", Some(1), Some(2), true, false),
                "bert" => ("wpm", Some(101), None, true, false),
                "gpt2" | "hybriddna" | "whitespace" => (
                    "bpe",
                    Some(11),
                    Some(11),
                    BPE_ADD_BOS.contains(&pre.as_str()),
                    false,
                ),
                "gemma4" => ("bpe", None, None, true, false),
                "t5" => ("ugm", None, Some(1), false, true),
                "rwkv" => ("rwkv", None, None, false, false),
                "test" => ("test", None, None, false, false),
                "plamo2" => ("plamo2", Some(1), Some(2), false, false),
                _ => ("unknown", None, None, false, false),
            };
        let n_tokens = if vocab_type == "none" {
            let arch = s("general.architecture");
            md.get_u64(&format!("{arch}.vocab_size"))
                .ok()
                .flatten()
                .unwrap_or(0)
        } else {
            md.get_array("tokenizer.ggml.tokens", None)
                .ok()
                .flatten()
                .map_or(0, |a| a.len())
        };
        // A default out of range is disabled; a key in range replaces it (2610-2633).
        let id = |default: Option<u64>, key: &str| {
            let default = default.filter(|d| *d < n_tokens);
            match md.get_u64(key).ok().flatten() {
                Some(v) if v < n_tokens => Some(v),
                _ => default,
            }
        };
        let flag = |key: &str, default: bool| md.get_bool(key).ok().flatten().unwrap_or(default);
        let mut add_bos = flag("tokenizer.ggml.add_bos_token", add_bos);
        if pre == "gemma4" || pre == "granite-embed-multi-311m" || model == "gemma4" {
            add_bos = true;
        }
        Self {
            vocab_type,
            n_tokens,
            bos: if vocab_type == "none" {
                None
            } else {
                id(bos, "tokenizer.ggml.bos_token_id")
            },
            eos: if vocab_type == "none" {
                None
            } else {
                id(eos, "tokenizer.ggml.eos_token_id")
            },
            add_bos,
            add_eos: flag("tokenizer.ggml.add_eos_token", add_eos),
            model,
        }
    }
}

fn tokens<'a>(g: &Gguf<'a>) -> Option<ggufscope_gguf::Array<'a>> {
    g.metadata()
        .get_array("tokenizer.ggml.tokens", None)
        .ok()
        .flatten()
}

fn show(id: Option<u64>) -> String {
    id.map_or_else(|| "-1".into(), |v| v.to_string())
}

/// The draft against the target (`common/speculative.cpp:67-130`): llama.cpp throws "draft
/// model vocab type must match target model to use speculation" (245-249) on the first
/// difference.
pub(super) fn pair(
    target: &Gguf<'_>,
    draft: &Gguf<'_>,
    facts: &mut Vec<(String, String)>,
) -> Vec<PairFinding> {
    const SRC: &str = "common/speculative.cpp";
    let t = VocabFacts::of(target);
    let d = VocabFacts::of(draft);
    facts.push((
        "target vocab".into(),
        format!("{} ({} tokens)", t.vocab_type, t.n_tokens),
    ));
    facts.push((
        "draft vocab".into(),
        format!("{} ({} tokens)", d.vocab_type, d.n_tokens),
    ));
    let mut out = Vec::new();
    if t.vocab_type != d.vocab_type {
        out.push(
            PairFinding::error(
                "draft_vocab_type",
                "common/speculative.cpp:79-83",
                format!(
                    "draft model vocab type must match target model to use speculation but vocab_type_dft = {} while vocab_type_tgt = {}",
                    d.vocab_type, t.vocab_type
                ),
            )
            .key("tokenizer.ggml.model"),
        );
        return out;
    }
    if t.add_bos != d.add_bos || (t.add_bos && t.bos != d.bos) {
        out.push(
            PairFinding::error(
                "draft_bos",
                "common/speculative.cpp:85-91",
                format!(
                    "draft model bos tokens must match target model to use speculation. add: {} - {}, id: {} - {}",
                    u8::from(t.add_bos), u8::from(d.add_bos), show(t.bos), show(d.bos)
                ),
            )
            .key("tokenizer.ggml.bos_token_id"),
        );
        return out;
    }
    if t.add_eos != d.add_eos || (t.add_eos && t.eos != d.eos) {
        out.push(
            PairFinding::error(
                "draft_eos",
                "common/speculative.cpp:93-99",
                format!(
                    "draft model eos tokens must match target model to use speculation. add: {} - {}, id: {} - {}",
                    u8::from(t.add_eos), u8::from(d.add_eos), show(t.eos), show(d.eos)
                ),
            )
            .key("tokenizer.ggml.eos_token_id"),
        );
        return out;
    }
    let diff = t.n_tokens.abs_diff(d.n_tokens);
    if diff > MAX_SIZE_DIFFERENCE {
        out.push(
            PairFinding::error(
                "draft_vocab_size",
                "common/speculative.cpp:102-113",
                format!(
                    "draft model vocab must closely match target model to use speculation but target vocab size {} does not match draft vocab size {} - difference {diff}, max allowed {MAX_SIZE_DIFFERENCE}",
                    t.n_tokens, d.n_tokens
                ),
            )
            .key("tokenizer.ggml.tokens"),
        );
        return out;
    }
    // Token texts from id 5 (for `none` vocabularies llama.cpp's dummy tokens are all empty).
    let ta = tokens(target);
    let da = tokens(draft);
    if let (Some(ta), Some(da)) = (ta, da) {
        let n = t.n_tokens.min(d.n_tokens);
        if let (Some(ts), Some(ds)) = (ta.strings(), da.strings()) {
            let first = ts
                .zip(ds)
                .zip(0u64..)
                .skip(usize::try_from(CHECK_START).unwrap_or(0))
                .take_while(|(_, i)| *i < n)
                .find(|((a, b), _)| a.as_bytes() != b.as_bytes());
            if let Some(((a, b), i)) = first {
                out.push(
                    PairFinding::error(
                        "draft_token_text",
                        "common/speculative.cpp:115-125",
                        format!(
                            "draft model vocab must match target model to use speculation but token {i} content differs - target '{}', draft '{}'",
                            String::from_utf8_lossy(a.as_bytes()),
                            String::from_utf8_lossy(b.as_bytes())
                        ),
                    )
                    .key("tokenizer.ggml.tokens"),
                );
                return out;
            }
        }
        facts.push((
            "token texts compared".into(),
            format!("ids {CHECK_START}..{n}"),
        ));
    }
    if diff > 0 {
        out.push(PairFinding::info(
            "draft_vocab_size_differs",
            SRC,
            format!(
                "the vocabularies differ in size by {diff} (≤ {MAX_SIZE_DIFFERENCE}: accepted)"
            ),
        ));
    }
    out
}
