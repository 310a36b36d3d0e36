//! The vocabulary as llama.cpp 0c1e570 loads it (`llama_vocab::impl::load`,
//! src/llama-vocab.cpp:1939-3033): the tokenizer model and its vocabulary type, the
//! pre-tokenizer and the `LLAMA_VOCAB_PRE_TYPE_*` it maps to, the vocabulary size, the file's
//! token-type histogram, the special tokens (defaults per vocabulary type, the file's keys, the
//! ones llama.cpp finds by their text), `add_bos`/`add_eos`/`add_sep`, and the end-of-generation
//! set exactly as `special_eog_ids` is built. What makes llama.cpp refuse the vocabulary is the
//! error it throws, word for word.

use std::borrow::Cow;

use ggufscope_gguf::{Gguf, Metadata, Value, ValueType};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One token: its id and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRef {
    /// The id.
    pub id: u32,
    /// The text (`tokenizer.ggml.tokens[id]`).
    pub text: String,
}

/// Where a special token's id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdSource {
    /// The file's `tokenizer.ggml.*_token_id` key.
    Key,
    /// llama.cpp's default for the vocabulary type (src/llama-vocab.cpp:1971-2148).
    Default,
    /// Found by its text (src/llama-vocab.cpp:2686-2845).
    Text,
}

/// One special token llama.cpp knows the id of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialToken {
    /// `bos`, `eos`, `eot`, `eom`, `unk`, `sep`, `pad`, `mask`, `fim_pre`, `fim_suf`,
    /// `fim_mid`, `fim_pad`, `fim_rep`, `fim_sep`.
    pub role: &'static str,
    /// The id. Found by text among several tokens: the first in `token_to_id`'s iteration
    /// order as libstdc++ (GCC, Linux builds) lays it out; `None` for a vocabulary too large for
    /// that emulation.
    pub id: Option<u32>,
    /// The token's text.
    pub text: Option<String>,
    /// Where the id comes from.
    pub source: IdSource,
    /// When found by text and several tokens match: all of them. llama.cpp takes the first its
    /// `std::unordered_map` yields (src/llama-vocab.cpp:2686), an order that depends on the C++
    /// library: `id` is libstdc++'s pick, a libc++ or MSVC build may take another of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<TokenRef>,
}

/// A flag llama.cpp reads with a default (`add_bos`, `add_eos`, `add_sep`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Its value after loading.
    pub value: bool,
    /// llama.cpp's default for the vocabulary type and pre-tokenizer.
    pub default: bool,
    /// Whether the file's key set it.
    pub from_key: bool,
}

/// The file's `tokenizer.ggml.token_type` histogram (src/llama-vocab.cpp:2531-2540 maps the
/// values 1-6 to attributes; any other value is "undefined").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenTypes {
    /// 1: normal.
    pub normal: u32,
    /// 2: unknown.
    pub unknown: u32,
    /// 3: control.
    pub control: u32,
    /// 4: user-defined.
    pub user_defined: u32,
    /// 5: unused.
    pub unused: u32,
    /// 6: byte.
    pub byte: u32,
    /// 0 or any other value.
    pub undefined: u32,
}

/// A problem with the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VocabFinding {
    /// `error` (llama.cpp refuses the model), `warning` or `info`.
    pub severity: &'static str,
    /// A stable code: `vocab-load`, `pre-tokenizer-unknown`, `pre-tokenizer-missing`,
    /// `special-token-out-of-range`, `eot-dropped-from-eog`.
    pub code: &'static str,
    /// What is wrong, with llama.cpp's source line.
    pub message: String,
}

/// The vocabulary as llama.cpp loads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vocab {
    /// `tokenizer.ggml.model`.
    pub model: Option<String>,
    /// The vocabulary type it maps to (`SPM`, `BPE`, `WPM`, `UGM`, `RWKV`, `PLAMO2`, `TEST`,
    /// `NONE`), `None` when llama.cpp does not know the model.
    pub vocab_type: Option<&'static str>,
    /// `tokenizer.ggml.pre` (for `gemma4`, llama.cpp's forced `gemma4`).
    pub pre: Option<String>,
    /// The `LLAMA_VOCAB_PRE_TYPE_*` llama.cpp uses (without the prefix: `LLAMA3`, `QWEN2`,
    /// `DEFAULT`…); `None` when the name is unknown (llama.cpp refuses the model).
    pub pre_type: Option<&'static str>,
    /// Entries in `tokenizer.ggml.tokens` (`n_vocab`).
    pub n_vocab: u32,
    /// Entries in `tokenizer.ggml.merges`.
    pub n_merges: Option<u64>,
    /// The token-type histogram, `None` without `tokenizer.ggml.token_type`.
    pub token_types: Option<TokenTypes>,
    /// The special tokens llama.cpp has an id for.
    pub special: Vec<SpecialToken>,
    /// Whether llama.cpp adds BOS when tokenizing with special tokens.
    pub add_bos: Flag,
    /// Whether it adds EOS.
    pub add_eos: Flag,
    /// Whether it adds SEP.
    pub add_sep: Flag,
    /// The end-of-generation set (`special_eog_ids`), ascending.
    pub eog: Vec<TokenRef>,
    /// What is wrong.
    pub findings: Vec<VocabFinding>,
    /// The exception llama.cpp throws loading this vocabulary, when it refuses it.
    pub load_error: Option<String>,
}

/// The texts llama.cpp takes for EOT when no key names it (src/llama-vocab.cpp:2692-2704).
pub const EOT_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];

/// The texts of end-of-generation tokens (src/llama-vocab.cpp:2889-2913).
pub const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];

/// Texts found by text for the other roles (src/llama-vocab.cpp:2717-2845), in llama.cpp's
/// order of roles.
const BY_TEXT: &[(&str, &[&str])] = &[
    ("eot", EOT_TEXTS),
    ("eom", &["<|eom_id|>"]),
    (
        "fim_pre",
        &[
            "<|fim_prefix|>",
            "<fim-prefix>",
            "<fim_prefix>",
            "<｜fim▁begin｜>",
            "<PRE>",
            "▁<PRE>",
            "<|code_prefix|>",
            "<|prefix|>",
        ],
    ),
    (
        "fim_suf",
        &[
            "<|fim_suffix|>",
            "<fim-suffix>",
            "<fim_suffix>",
            "<｜fim▁hole｜>",
            "<SUF>",
            "▁<SUF>",
            "<|code_suffix|>",
            "<|suffix|>",
        ],
    ),
    (
        "fim_mid",
        &[
            "<|fim_middle|>",
            "<fim-middle>",
            "<fim_middle>",
            "<｜fim▁end｜>",
            "<MID>",
            "▁<MID>",
            "<|code_middle|>",
            "<|middle|>",
        ],
    ),
    (
        "fim_pad",
        &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"],
    ),
    (
        "fim_rep",
        &[
            "<|fim_repo|>",
            "<|repo_name|>",
            "<fim-repo>",
            "<REPO>",
            "<reponame>",
        ],
    ),
    ("fim_sep", &["<|file_sep|>"]),
];

/// The special-token keys in llama.cpp's order (src/llama-vocab.cpp:2593-2612), with the
/// deprecated prefix/suffix/middle keys last.
const ROLES: &[(&str, &str)] = &[
    ("bos", "tokenizer.ggml.bos_token_id"),
    ("eos", "tokenizer.ggml.eos_token_id"),
    ("eot", "tokenizer.ggml.eot_token_id"),
    ("eom", "tokenizer.ggml.eom_token_id"),
    ("unk", "tokenizer.ggml.unknown_token_id"),
    ("sep", "tokenizer.ggml.seperator_token_id"),
    ("pad", "tokenizer.ggml.padding_token_id"),
    ("mask", "tokenizer.ggml.mask_token_id"),
    ("fim_pre", "tokenizer.ggml.fim_pre_token_id"),
    ("fim_suf", "tokenizer.ggml.fim_suf_token_id"),
    ("fim_mid", "tokenizer.ggml.fim_mid_token_id"),
    ("fim_pad", "tokenizer.ggml.fim_pad_token_id"),
    ("fim_rep", "tokenizer.ggml.fim_rep_token_id"),
    ("fim_sep", "tokenizer.ggml.fim_sep_token_id"),
    ("fim_pre", "tokenizer.ggml.prefix_token_id"),
    ("fim_suf", "tokenizer.ggml.suffix_token_id"),
    ("fim_mid", "tokenizer.ggml.middle_token_id"),
];

/// The pre-tokenizer names llama.cpp knows for BPE vocabularies and the type each maps to,
/// with the `add_bos` default the name sets (src/llama-vocab.cpp:2170-2428).
const PRE_TYPES: &[(&[&str], &str, bool)] = &[
    (&["default"], "DEFAULT", false),
    (&["minicpm5"], "MINICPM5", false),
    (
        &[
            "llama3",
            "llama-v3",
            "llama-bpe",
            "falcon3",
            "falcon-h1",
            "pixtral",
            "midm-2.0",
            "lfm2",
            "jina-v5-nano",
        ],
        "LLAMA3",
        true,
    ),
    (&["deepseek-llm"], "DEEPSEEK_LLM", false),
    (&["deepseek-coder"], "DEEPSEEK_CODER", false),
    (&["deepseek-v3"], "DEEPSEEK3_LLM", false),
    (&["spark2_5"], "SPARK2_5", false),
    (&["youtu"], "YOUTU", false),
    (&["falcon"], "FALCON", false),
    (&["mpt"], "MPT", false),
    (&["starcoder"], "STARCODER", false),
    (
        &[
            "gpt-2",
            "phi-2",
            "jina-es",
            "jina-de",
            "gigachat",
            "jina-v2-es",
            "jina-v2-de",
            "a.x-4.0",
            "mellum",
            "modern-bert",
        ],
        "GPT2",
        false,
    ),
    (&["jais-2"], "JAIS2", false),
    (&["gemma4", "granite-embed-multi-311m"], "GEMMA4", false),
    (&["sarvam-moe"], "SARVAM_MOE", false),
    (
        &["jina-v1-en", "jina-v2-code", "roberta-bpe"],
        "GPT2",
        false,
    ),
    (&["whitespace"], "WHITESPACE", false),
    (&["refact"], "REFACT", false),
    (&["command-r"], "COMMAND_R", false),
    (
        &["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2"],
        "QWEN2",
        false,
    ),
    (&["qwen35"], "QWEN35", false),
    (&["stablelm2"], "STABLELM2", false),
    (&["olmo"], "OLMO", false),
    (&["dbrx"], "DBRX", false),
    (&["smaug-bpe"], "SMAUG", false),
    (&["poro-chat"], "PORO", false),
    (&["chatglm-bpe"], "CHATGLM4", false),
    (&["glm4", "glm5"], "CHATGLM4", false),
    (&["viking"], "VIKING", false),
    (&["jais"], "JAIS", false),
    (&["tekken"], "TEKKEN", true),
    (&["smollm"], "SMOLLM", false),
    (&["codeshell"], "CODESHELL", false),
    (&["bloom"], "BLOOM", false),
    (&["gpt3-finnish"], "GPT3_FINNISH", false),
    (&["exaone"], "EXAONE", false),
    (&["exaone4"], "GPT2", false),
    (&["exaone-moe"], "EXAONE_MOE", false),
    (&["chameleon"], "CHAMELEON", true),
    (&["minerva-7b"], "MINERVA", false),
    (&["megrez"], "QWEN2", false),
    (&["gpt-4o", "llama4", "kanana2", "talkie"], "GPT4O", false),
    (&["granite-embed-multi-97m"], "GRANITE_EMB_MULTI", false),
    (&["tiny_aya", "cohere2moe"], "TINY_AYA", false),
    (&["superbpe"], "SUPERBPE", false),
    (&["trillion"], "TRILLION", false),
    (&["granite-docling"], "GRANITE_DOCLING", false),
    (
        &["bailingmoe", "bailingmoe2", "llada-moe"],
        "BAILINGMOE",
        false,
    ),
    (&["seed-coder"], "SEED_CODER", false),
    (&["hunyuan"], "HUNYUAN", false),
    (&["hunyuan-dense"], "HUNYUAN_DENSE", false),
    (&["hy_v4"], "HY_V4", false),
    (&["joyai-llm"], "JOYAI_LLM", false),
    (&["kimi-k2"], "KIMI_K2", false),
    (&["ufakzeka"], "UFAKZEKA", false),
    (&["grok-2"], "GROK_2", false),
    (&["afmoe"], "AFMOE", false),
    (&["laguna"], "LAGUNA", false),
    (&["minimax-m2"], "MINIMAX_M2", false),
    (&["solar-open"], "SOLAR_OPEN", false),
    (&["mellum2"], "MELLUM2", false),
];

/// The `LLAMA_VOCAB_PRE_TYPE_*` a BPE pre-tokenizer name maps to, `None` when llama.cpp
/// 0c1e570 does not know the name ("unknown pre-tokenizer type", src/llama-vocab.cpp:2428).
pub fn pre_type_of(name: &str) -> Option<&'static str> {
    PRE_TYPES
        .iter()
        .find(|(names, _, _)| names.contains(&name))
        .map(|(_, ty, _)| *ty)
}

/// Defaults of one vocabulary type: (type, bos, eos, unk, sep, pad, mask, add_bos, add_eos,
/// add_sep) from src/llama-vocab.cpp:1970-2148 and 2430-2453.
struct TypeDefaults {
    ty: &'static str,
    ids: [(&'static str, Option<u32>); 6],
    add_bos: bool,
    add_eos: bool,
    add_sep: bool,
}

fn type_defaults(model: &str) -> Option<TypeDefaults> {
    let ids = |bos, eos, unk, sep, pad, mask| {
        [
            ("bos", bos),
            ("eos", eos),
            ("unk", unk),
            ("sep", sep),
            ("pad", pad),
            ("mask", mask),
        ]
    };
    let d = |ty, ids, add_bos, add_eos, add_sep| TypeDefaults {
        ty,
        ids,
        add_bos,
        add_eos,
        add_sep,
    };
    Some(match model {
        "no_vocab" | "none" => d(
            "NONE",
            ids(None, None, None, None, None, None),
            false,
            false,
            false,
        ),
        "llama" => d(
            "SPM",
            ids(Some(1), Some(2), Some(0), None, None, None),
            true,
            false,
            false,
        ),
        "bert" => d(
            "WPM",
            ids(Some(101), None, Some(100), Some(102), Some(0), Some(103)),
            true,
            false,
            true,
        ),
        "gpt2" | "hybriddna" | "whitespace" => d(
            "BPE",
            ids(Some(11), Some(11), None, None, None, None),
            false,
            false,
            false,
        ),
        "t5" => d(
            "UGM",
            ids(None, Some(1), Some(2), None, Some(0), None),
            false,
            true,
            false,
        ),
        "rwkv" => d(
            "RWKV",
            ids(None, None, None, None, None, None),
            false,
            false,
            false,
        ),
        "test" => d(
            "TEST",
            ids(None, None, None, None, None, None),
            false,
            false,
            false,
        ),
        "plamo2" => d(
            "PLAMO2",
            ids(Some(1), Some(2), Some(0), None, Some(3), None),
            false,
            false,
            false,
        ),
        "gemma4" => d(
            "BPE",
            ids(None, None, None, None, None, None),
            false,
            false,
            false,
        ),
        _ => return None,
    })
}

/// The llama.cpp line that throws a load error.
fn cite(error: &str) -> &'static str {
    const LINES: &[(&str, &str)] = &[
        ("key not found", "src/llama-model-loader.cpp:281"),
        ("key tokenizer", "src/llama-model-loader.cpp:168"),
        ("unknown tokenizer", "src/llama-vocab.cpp:2151"),
        ("unknown pre-tokenizer", "src/llama-vocab.cpp:2428"),
        (
            "cannot find tokenizer merges",
            "src/llama-vocab.cpp:2003, 2116",
        ),
        (
            "invalid gguf type for tokenizer.ggml.merges",
            "src/llama-vocab.cpp:2010, 2121",
        ),
        ("cannot find tokenizer vocab", "src/llama-vocab.cpp:2463"),
        (
            "invalid gguf type for tokenizer.ggml.tokens",
            "src/llama-vocab.cpp:2468",
        ),
        (
            "invalid gguf type for tokenizer.ggml.scores",
            "src/llama-vocab.cpp:2482",
        ),
        (
            "Index out of array bounds for scores",
            "src/llama-vocab.cpp:2485",
        ),
        (
            "invalid gguf type for tokenizer.ggml.token_type",
            "src/llama-vocab.cpp:2499",
        ),
        (
            "Index out of array bounds for toktypes",
            "src/llama-vocab.cpp:2503",
        ),
        ("GGML_ASSERT", "src/llama-vocab.cpp:2544"),
    ];
    LINES
        .iter()
        .find(|(p, _)| error.starts_with(p))
        .map_or("src/llama-vocab.cpp:1939", |(_, l)| l)
}

/// A key read as llama.cpp's `get_key` reads it: absent, or of exactly this GGUF type (any
/// other type throws "key %s has wrong type %s but expected type %s",
/// src/llama-model-loader.cpp:168).
fn typed<'a>(md: &Metadata<'a>, key: &str, want: ValueType) -> Result<Option<Value<'a>>, String> {
    match md.value(key) {
        None => Ok(None),
        Some(v) if v.value_type() == want => Ok(Some(v)),
        Some(v) => Err(format!(
            "key {key} has wrong type {} but expected type {}",
            v.value_type().name(),
            want.name()
        )),
    }
}

fn typed_str(md: &Metadata<'_>, key: &str) -> Result<Option<String>, String> {
    Ok(typed(md, key, ValueType::String)?
        .and_then(|v| v.as_gguf_str())
        .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned()))
}

fn typed_bool(md: &Metadata<'_>, key: &str) -> Result<Option<bool>, String> {
    Ok(typed(md, key, ValueType::Bool)?.and_then(|v| v.as_bool()))
}

fn typed_u32(md: &Metadata<'_>, key: &str) -> Result<Option<u32>, String> {
    Ok(typed(md, key, ValueType::U32)?
        .and_then(|v| v.as_integer())
        .and_then(|i| u32::try_from(i).ok()))
}

impl Vocab {
    /// Whether the file has a vocabulary at all (`tokenizer.ggml.model`).
    pub fn present(gguf: &Gguf<'_>) -> bool {
        gguf.metadata().get("tokenizer.ggml.model").is_some()
    }

    /// Reads the vocabulary of a file as llama.cpp loads it.
    pub fn read(gguf: &Gguf<'_>) -> Self {
        let mut v = Self {
            model: None,
            vocab_type: None,
            pre: None,
            pre_type: None,
            n_vocab: 0,
            n_merges: None,
            token_types: None,
            special: Vec::new(),
            add_bos: Flag::default(),
            add_eos: Flag::default(),
            add_sep: Flag::default(),
            eog: Vec::new(),
            findings: Vec::new(),
            load_error: None,
        };
        if let Err(e) = v.load(gguf.metadata()) {
            let line = cite(&e);
            v.findings.push(VocabFinding {
                severity: "error",
                code: if e.starts_with("unknown pre-tokenizer") {
                    "pre-tokenizer-unknown"
                } else {
                    "vocab-load"
                },
                message: format!(
                    "llama.cpp refuses the vocabulary: \"{}\" ({line})",
                    e.trim_end()
                ),
            });
            v.load_error = Some(e.trim_end().to_owned());
        }
        v
    }

    /// The special token of a role, when llama.cpp has one id for it.
    pub fn special(&self, role: &str) -> Option<&SpecialToken> {
        self.special.iter().find(|s| s.role == role)
    }

    /// The id of a role's special token.
    pub fn id(&self, role: &str) -> Option<u32> {
        self.special(role).and_then(|s| s.id)
    }

    /// Whether `id` ends generation.
    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.iter().any(|t| t.id == id)
    }

    fn load(&mut self, md: &Metadata<'_>) -> Result<(), String> {
        // src/llama-vocab.cpp:1944-1945: the model is required, the pre-tokenizer optional.
        let model = typed_str(md, "tokenizer.ggml.model")?
            .ok_or_else(|| "key not found in model: tokenizer.ggml.model".to_owned())?;
        self.model = Some(model.clone());
        let mut pre = typed_str(md, "tokenizer.ggml.pre")?;
        typed_u32(md, "tokenizer.ggml.token_type_count")?;
        let defaults =
            type_defaults(&model).ok_or_else(|| format!("unknown tokenizer: '{model}'"))?;
        self.vocab_type = Some(defaults.ty);
        let mut add_bos = defaults.add_bos;
        let add_eos = defaults.add_eos;
        let mut add_sep = defaults.add_sep;
        let mut ids: Vec<(&'static str, Option<u32>, IdSource)> = defaults
            .ids
            .iter()
            .map(|(r, id)| (*r, *id, IdSource::Default))
            .collect();
        for r in [
            "eot", "eom", "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep",
        ] {
            ids.push((r, None, IdSource::Default));
        }
        if defaults.ty == "NONE" {
            // src/llama-vocab.cpp:1949-1969: no tokens (or `vocab_size` dummies), nothing else.
            self.n_vocab = typed_u32(md, "tokenizer.ggml.vocab_size")
                .ok()
                .flatten()
                .unwrap_or(0);
            return Ok(());
        }
        // Merges (src/llama-vocab.cpp:1996-2031, 2113-2138).
        let merges = md.value("tokenizer.ggml.merges");
        if let Some(m) = merges {
            self.n_merges = m.as_array().map(|a| a.len());
        }
        if defaults.ty == "BPE" {
            match merges {
                None if model == "gemma4" || pre.as_deref() != Some("kimi-k2") => {
                    return Err("cannot find tokenizer merges in model file".to_owned())
                }
                Some(m)
                    if m.as_array()
                        .is_none_or(|a| a.element_type() != ValueType::String) =>
                {
                    return Err("invalid gguf type for tokenizer.ggml.merges".to_owned());
                }
                _ => {}
            }
        }
        if model == "gemma4" {
            pre = Some("gemma4".to_owned()); // src/llama-vocab.cpp:2148
        }
        self.pre.clone_from(&pre);
        // Pre-tokenizer (src/llama-vocab.cpp:2154-2453): only BPE vocabularies have one.
        if defaults.ty == "BPE" {
            match pre.as_deref() {
                None | Some("") => {
                    self.pre_type = Some("DEFAULT");
                    self.findings.push(VocabFinding {
                        severity: "warning",
                        code: "pre-tokenizer-missing",
                        message: "a BPE vocabulary without `tokenizer.ggml.pre`: llama.cpp uses the default pre-tokenizer and warns \"GENERATION QUALITY WILL BE DEGRADED!\" (src/llama-vocab.cpp:2159-2167)".to_owned(),
                    });
                }
                Some(name) => {
                    let entry = PRE_TYPES.iter().find(|(names, _, _)| names.contains(&name));
                    let Some((_, ty, bos)) = entry else {
                        return Err(format!("unknown pre-tokenizer type: '{name}'"));
                    };
                    self.pre_type = Some(ty);
                    add_bos |= *bos;
                    if matches!(name, "chatglm-bpe" | "glm4" | "glm5") {
                        // src/llama-vocab.cpp:2296-2305
                        if let Some(e) = ids.iter_mut().find(|e| e.0 == "bos") {
                            e.1 = None;
                        }
                    }
                    if matches!(name, "jina-v1-en" | "jina-v2-code" | "roberta-bpe") {
                        add_sep = true; // src/llama-vocab.cpp:2232-2237
                    }
                }
            }
        } else {
            self.pre_type = Some("DEFAULT");
        }
        // Tokens, scores, token types (src/llama-vocab.cpp:2461-2544).
        let tokens = match md.value("tokenizer.ggml.tokens") {
            None => return Err("cannot find tokenizer vocab in model file".to_owned()),
            Some(t) => t
                .as_array()
                .filter(|a| a.element_type() == ValueType::String)
                .ok_or_else(|| "invalid gguf type for tokenizer.ggml.tokens".to_owned())?,
        };
        let n = u32::try_from(tokens.len())
            .map_err(|_| "too many tokens for llama.cpp's uint32_t count".to_owned())?;
        if let Some(s) = md.value("tokenizer.ggml.scores") {
            let a = s
                .as_array()
                .filter(|a| matches!(a.element_type(), ValueType::I32 | ValueType::F32))
                .ok_or_else(|| "invalid gguf type for tokenizer.ggml.scores".to_owned())?;
            if a.len() < u64::from(n) {
                return Err(format!(
                    "Index out of array bounds for scores ({} < {n})",
                    a.len()
                ));
            }
        }
        let types: Option<Vec<i32>> = match md.value("tokenizer.ggml.token_type") {
            None => None,
            Some(t) => {
                let a = t
                    .as_array()
                    .filter(|a| a.element_type() == ValueType::I32)
                    .ok_or_else(|| "invalid gguf type for tokenizer.ggml.token_type".to_owned())?;
                if a.len() < u64::from(n) {
                    return Err(format!(
                        "Index out of array bounds for toktypes ({} < {n})",
                        a.len()
                    ));
                }
                a.i32s().map(Iterator::collect)
            }
        };
        // An empty token becomes "[EMPTY_i]" (src/llama-vocab.cpp:2512-2515).
        let raw: Vec<Cow<'_, [u8]>> = tokens
            .strings()
            .map(|it| {
                it.enumerate()
                    .map(|(i, s)| {
                        if s.is_empty() {
                            Cow::Owned(format!("[EMPTY_{i}]").into_bytes())
                        } else {
                            Cow::Borrowed(s.as_bytes())
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.n_vocab = n;
        if let Some(t) = &types {
            let mut h = TokenTypes::default();
            for ty in t.iter().take(raw.len()) {
                match ty {
                    1 => h.normal += 1,
                    2 => h.unknown += 1,
                    3 => h.control += 1,
                    4 => h.user_defined += 1,
                    5 => h.unused += 1,
                    6 => h.byte += 1,
                    _ => h.undefined += 1,
                }
            }
            self.token_types = Some(h);
        }
        // Keyed by the bytes, as llama.cpp's std::string keys are.
        let mut by_text: FxHashMap<&[u8], u32> =
            FxHashMap::with_capacity_and_hasher(raw.len(), Default::default());
        for (i, b) in raw.iter().enumerate() {
            if let Ok(id) = u32::try_from(i) {
                if by_text.insert(b.as_ref(), id).is_some() {
                    // src/llama-vocab.cpp:2544: a text twice aborts the process.
                    return Err(format!(
                        "GGML_ASSERT(id_to_token.size() == token_to_id.size()) failed: the token text {:?} occurs twice",
                        String::from_utf8_lossy(b)
                    ));
                }
            }
        }
        let text_of = |id: u32| {
            raw.get(id as usize)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        // Special-token keys (src/llama-vocab.cpp:2614-2634): a default out of range is
        // disabled; a key out of range keeps the default.
        for (role, key) in ROLES {
            let Some(e) = ids.iter_mut().find(|e| e.0 == *role) else {
                continue;
            };
            if e.1.is_some_and(|id| id >= n) {
                e.1 = None;
            }
            let Some(new_id) = typed_u32(md, key)? else {
                continue;
            };
            if new_id >= n {
                self.findings.push(VocabFinding {
                    severity: "warning",
                    code: "special-token-out-of-range",
                    message: format!(
                        "`{key}` = {new_id} is past the vocabulary ({n} tokens): llama.cpp keeps {} (src/llama-vocab.cpp:2628-2630)",
                        e.1.map_or_else(|| "none".to_owned(), |d| format!("the default {d}"))
                    ),
                });
            } else {
                e.1 = Some(new_id);
                e.2 = IdSource::Key;
            }
        }
        // add_bos/add_eos/add_sep (src/llama-vocab.cpp:2637-2656).
        let kb = typed_bool(md, "tokenizer.ggml.add_bos_token")?;
        let ke = typed_bool(md, "tokenizer.ggml.add_eos_token")?;
        let ks = typed_bool(md, "tokenizer.ggml.add_sep_token")?;
        let mut bos_value = kb.unwrap_or(add_bos);
        if self.pre_type == Some("GEMMA4") && !bos_value {
            bos_value = true; // src/llama-vocab.cpp:2651-2656
        }
        self.add_bos = Flag {
            value: bos_value,
            default: add_bos,
            from_key: kb.is_some(),
        };
        self.add_eos = Flag {
            value: ke.unwrap_or(add_eos),
            default: add_eos,
            from_key: ke.is_some(),
        };
        self.add_sep = Flag {
            value: ks.unwrap_or(add_sep),
            default: add_sep,
            from_key: ks.is_some(),
        };
        // Found by text when still unset (src/llama-vocab.cpp:2686-2845): the first match in
        // `token_to_id`'s iteration order, which is libstdc++'s on Linux (emulated below).
        let mut order: Option<Option<Vec<u32>>> = None;
        let mut candidates: Vec<(&'static str, Vec<TokenRef>)> = Vec::new();
        for (role, list) in BY_TEXT {
            let Some(e) = ids.iter_mut().find(|e| e.0 == *role) else {
                continue;
            };
            if e.1.is_some() {
                continue;
            }
            let mut found: Vec<TokenRef> = list
                .iter()
                .filter_map(|t| {
                    by_text.get(t.as_bytes()).map(|id| TokenRef {
                        id: *id,
                        text: (*t).to_owned(),
                    })
                })
                .collect();
            found.sort_by_key(|t| t.id);
            match found.as_slice() {
                [] => {}
                [one] => {
                    e.1 = Some(one.id);
                    e.2 = IdSource::Text;
                }
                _ => {
                    e.2 = IdSource::Text;
                    e.1 = order
                        .get_or_insert_with(|| gnu_iteration_rank(&raw))
                        .as_ref()
                        .and_then(|rank| {
                            found
                                .iter()
                                .min_by_key(|t| {
                                    rank.get(t.id as usize).copied().unwrap_or(u32::MAX)
                                })
                                .map(|t| t.id)
                        });
                    candidates.push((role, found));
                }
            }
        }
        // The end-of-generation set (src/llama-vocab.cpp:2871-3032).
        let mut eog: Vec<u32> = Vec::new();
        let id_of = |role: &str| ids.iter().find(|e| e.0 == role).and_then(|e| e.1);
        for r in ["fim_pad", "fim_rep", "fim_sep"] {
            eog.extend(id_of(r));
        }
        for t in EOG_TEXTS {
            eog.extend(by_text.get(t.as_bytes()).copied());
        }
        // Sanity checks: EOS, EOT, EOM are always EOG (src/llama-vocab.cpp:2944-2958). An EOT
        // found by text among several candidates is one of them, all of which are EOG texts.
        for r in ["eos", "eot", "eom"] {
            eog.extend(id_of(r));
        }
        eog.sort_unstable();
        eog.dedup();
        let has = |eog: &[u32], text: &str| {
            eog.iter().copied().find(|id| {
                raw.get(*id as usize)
                    .is_some_and(|t| t.as_ref() == text.as_bytes())
            })
        };
        // <|end|> is not EOG beside <|return|> and <|call|> (o200k_harmony) or beside
        // <|calls|>/<|call|> and <|flush|> (solar-open) (src/llama-vocab.cpp:2960-3002).
        let has_call = has(&eog, "<|call|>").is_some() || has(&eog, "<|calls|>").is_some();
        if let Some(end) = has(&eog, "<|end|>") {
            let ret = has(&eog, "<|return|>").is_some();
            let flush = has(&eog, "<|flush|>").is_some();
            if has_call && (ret || flush) {
                eog.retain(|id| *id != end);
            }
        }
        // </s> is a normal token beside <|tool_response> (gemma4) or <|plamo:eos|>
        // (src/llama-vocab.cpp:3004-3032).
        if let Some(s) = has(&eog, "</s>") {
            if has(&eog, "<|tool_response>").is_some() || has(&eog, "<|plamo:eos|>").is_some() {
                eog.retain(|id| *id != s);
            }
        }
        self.eog = eog
            .iter()
            .map(|id| TokenRef {
                id: *id,
                text: text_of(*id).unwrap_or_default(),
            })
            .collect();
        // The special tokens, in llama.cpp's order of roles.
        let order = [
            "bos", "eos", "eot", "eom", "unk", "sep", "pad", "mask", "fim_pre", "fim_suf",
            "fim_mid", "fim_pad", "fim_rep", "fim_sep",
        ];
        for role in order {
            let Some(e) = ids.iter().find(|e| e.0 == role) else {
                continue;
            };
            let cands = candidates
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            if e.1.is_none() && cands.is_empty() {
                continue;
            }
            self.special.push(SpecialToken {
                role,
                id: e.1,
                text: e.1.and_then(text_of),
                source: e.2,
                candidates: cands,
            });
        }
        // An EOT llama.cpp knows but does not stop on: only the <|end|> rule above does it, on
        // purpose (gpt-oss, solar-open: a message ends there, generation does not).
        if let Some(eot) = id_of("eot") {
            if !eog.contains(&eot) {
                self.findings.push(VocabFinding {
                    severity: "info",
                    code: "eot-dropped-from-eog",
                    message: format!(
                        "the end-of-turn token {eot} ({}) is not end-of-generation: llama.cpp removes `<|end|>` from the set beside `<|return|>` and `<|call|>` or `<|calls|>` and `<|flush|>` (src/llama-vocab.cpp:2960-3002), so generation goes on past it",
                        text_of(eot).unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// GCC's `std::hash<std::string>`: `_Hash_bytes(p, len, 0xc70f6907)`, the 64-bit branch of
/// libstdc++'s libsupc++/hash_bytes.cc.
fn gnu_hash(bytes: &[u8]) -> u64 {
    const MUL: u64 = (0xc6a4_a793_u64 << 32) + 0x5bd1_e995;
    let shift_mix = |v: u64| v ^ (v >> 47);
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let mut hash = 0xc70f_6907_u64 ^ len.wrapping_mul(MUL);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let data = shift_mix(u64::from_le_bytes(word).wrapping_mul(MUL)).wrapping_mul(MUL);
        hash ^= data;
        hash = hash.wrapping_mul(MUL);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let data = rest
            .iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) + u64::from(*b));
        hash ^= data;
        hash = hash.wrapping_mul(MUL);
    }
    hash = shift_mix(hash).wrapping_mul(MUL);
    shift_mix(hash)
}

/// The bucket counts libstdc++'s `_Prime_rehash_policy` (max load factor 1, growth factor 2)
/// moves to, as (elements after the insertion that triggers it, new bucket count); printed by
/// GCC 12's libstdc++ for an `unordered_map<string, int>` filled one key at a time.
const GNU_REHASHES: &[(usize, u64)] = &[
    (1, 13),
    (14, 29),
    (30, 59),
    (60, 127),
    (128, 257),
    (258, 541),
    (542, 1109),
    (1110, 2357),
    (2358, 5087),
    (5088, 10273),
    (10274, 20753),
    (20754, 42043),
    (42044, 85229),
    (85230, 172933),
    (172934, 351061),
    (351062, 712697),
    (712698, 1447153),
    (1447154, 2938679),
    (2938680, 5967347),
];

/// Each token id's rank in the iteration order of llama.cpp's `token_to_id`
/// (`std::unordered_map<std::string, llama_token>`, filled in id order,
/// src/llama-vocab.cpp:2517) as libstdc++ (GCC, the Linux builds) lays it out: a singly linked
/// list where a node whose bucket is empty goes to the front and a node whose bucket is not goes
/// first in its bucket, rebuilt the same way at each rehash (bits/hashtable.h,
/// `_M_insert_bucket_begin` and `_M_rehash_aux`). Other C++ libraries (libc++, MSVC) order it
/// differently. `None` past the last bucket count above.
fn gnu_iteration_rank<K: AsRef<[u8]>>(keys: &[K]) -> Option<Vec<u32>> {
    const NIL: usize = usize::MAX;
    const BEFORE: usize = usize::MAX - 1;
    if keys.len() >= GNU_REHASHES.last().map_or(0, |r| r.0) {
        return None;
    }
    let codes: Vec<u64> = keys.iter().map(|k| gnu_hash(k.as_ref())).collect();
    let code = |i: usize| codes.get(i).copied().unwrap_or(0);
    let mut next: Vec<usize> = vec![NIL; keys.len()];
    let mut head = NIL;
    let mut buckets: Vec<usize> = vec![NIL; 1];
    let mut n_buckets: u64 = 1;
    let slot = |c: u64, n: u64| usize::try_from(c % n).unwrap_or(0);
    for i in 0..keys.len() {
        if let Some((_, n)) = GNU_REHASHES.iter().find(|(at, _)| *at == i + 1) {
            // _M_rehash_aux(n, true_type)
            let mut fresh: Vec<usize> = vec![NIL; usize::try_from(*n).ok()?];
            let mut p = head;
            head = NIL;
            let mut bbegin = 0usize;
            while p != NIL {
                let after = next.get(p).copied().unwrap_or(NIL);
                let b = slot(code(p), *n);
                let before = fresh.get(b).copied().unwrap_or(NIL);
                if before == NIL {
                    *next.get_mut(p)? = head;
                    head = p;
                    *fresh.get_mut(b)? = BEFORE;
                    if next.get(p).copied().unwrap_or(NIL) != NIL {
                        *fresh.get_mut(bbegin)? = p;
                    }
                    bbegin = b;
                } else {
                    let was = if before == BEFORE {
                        head
                    } else {
                        next.get(before).copied().unwrap_or(NIL)
                    };
                    *next.get_mut(p)? = was;
                    if before == BEFORE {
                        head = p;
                    } else {
                        *next.get_mut(before)? = p;
                    }
                }
                p = after;
            }
            buckets = fresh;
            n_buckets = *n;
        }
        // _M_insert_bucket_begin
        let b = slot(code(i), n_buckets);
        let before = buckets.get(b).copied().unwrap_or(NIL);
        if before == NIL {
            *next.get_mut(i)? = head;
            head = i;
            let after = next.get(i).copied().unwrap_or(NIL);
            if after != NIL {
                *buckets.get_mut(slot(code(after), n_buckets))? = i;
            }
            *buckets.get_mut(b)? = BEFORE;
        } else if before == BEFORE {
            *next.get_mut(i)? = head;
            head = i;
        } else {
            *next.get_mut(i)? = next.get(before).copied().unwrap_or(NIL);
            *next.get_mut(before)? = i;
        }
    }
    let mut rank = vec![u32::MAX; keys.len()];
    let mut p = head;
    let mut r = 0u32;
    while p != NIL {
        *rank.get_mut(p)? = r;
        r += 1;
        p = next.get(p).copied().unwrap_or(NIL);
    }
    Some(rank)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::{gnu_hash, gnu_iteration_rank};

    /// Values GCC 12's `std::hash<std::string>` and `unordered_map<string, int>` gave for the
    /// same inputs (a C++ program printing the hashes and the first ids of the iteration).
    #[test]
    fn the_emulation_matches_libstdcxx() {
        assert_eq!(gnu_hash(b""), 0x553e_9390_1e46_2a6e);
        assert_eq!(gnu_hash(b"<|end|>"), 0x27bf_bfd8_aa57_6743);
        assert_eq!(
            gnu_hash(b"hello world, a long string"),
            0xa3b4_79ac_4356_e273
        );
        for (n, first) in [
            (5, &[2u32, 3, 1, 4, 0][..]),
            (
                200,
                &[199, 196, 195, 191, 189, 187, 184, 197, 182, 179, 178, 177],
            ),
            (
                3000,
                &[
                    2998, 2996, 2994, 2992, 2991, 2990, 2987, 2986, 2985, 2984, 2982, 2980,
                ],
            ),
        ] {
            let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("tok{i}").into_bytes()).collect();
            let rank = gnu_iteration_rank(&keys).unwrap();
            let mut ids: Vec<u32> = (0..n).collect();
            ids.sort_by_key(|i| rank[*i as usize]);
            assert_eq!(&ids[..first.len()], first, "{n} keys");
        }
    }
}
