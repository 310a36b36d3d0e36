//! Every metadata key string the model layer reads: the one place they are spelled.
//!
//! Source: llama.cpp `src/llama-arch.cpp` (`LLM_KV_NAMES`), ggml-org/llama.cpp@0c1e57098 (the
//! line of each key is in brackets; see also `shared/docs/ground-truth.md` §1.2).

/// `general.architecture`.
pub const GENERAL_ARCHITECTURE: &str = "general.architecture";
/// `general.name`.
pub const GENERAL_NAME: &str = "general.name";
/// `general.file_type`.
pub const GENERAL_FILE_TYPE: &str = "general.file_type";
/// `tokenizer.ggml.model`.
pub const TOKENIZER_MODEL: &str = "tokenizer.ggml.model";
/// `tokenizer.ggml.pre`.
pub const TOKENIZER_PRE: &str = "tokenizer.ggml.pre";
/// `tokenizer.ggml.tokens`: its length is the vocabulary size llama.cpp uses for shapes.
pub const TOKENIZER_TOKENS: &str = "tokenizer.ggml.tokens";
/// `tokenizer.ggml.scores`.
pub const TOKENIZER_SCORES: &str = "tokenizer.ggml.scores";
/// `tokenizer.ggml.token_type`.
pub const TOKENIZER_TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
/// `tokenizer.ggml.merges`.
pub const TOKENIZER_MERGES: &str = "tokenizer.ggml.merges";
/// `tokenizer.ggml.bos_token_id`.
pub const TOKENIZER_BOS_ID: &str = "tokenizer.ggml.bos_token_id";
/// `tokenizer.ggml.eos_token_id`.
pub const TOKENIZER_EOS_ID: &str = "tokenizer.ggml.eos_token_id";
/// `tokenizer.ggml.padding_token_id`.
pub const TOKENIZER_PAD_ID: &str = "tokenizer.ggml.padding_token_id";
/// `tokenizer.chat_template`.
pub const TOKENIZER_CHAT_TEMPLATE: &str = "tokenizer.chat_template";
/// The split keys (`split.no`, `split.count`, `split.tensors.count`) are the format crate's: a
/// split set is a matter of files, not of what a model means.
pub use ggufscope_gguf::split::{SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS_COUNT};

/// A per-architecture hyper-parameter: the key is `{arch}.{suffix}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Hparam {
    ContextLength,
    EmbeddingLength,
    BlockCount,
    FeedForwardLength,
    HeadCount,
    HeadCountKv,
    KeyLength,
    ValueLength,
    RmsEps,
    RopeDimensionCount,
    RopeFreqBase,
    RopeFreqBaseSwa,
    RopeScalingType,
    RopeScalingFactor,
    RopeScalingOriginalContextLength,
    RopeScalingAttnFactor,
    SlidingWindow,
    SlidingWindowPattern,
    FinalLogitSoftcapping,
    VocabSize,
    ExpertCount,
}

impl Hparam {
    /// The key without the `{arch}.` prefix (`llama-arch.cpp` line in brackets, [LN]).
    pub fn suffix(self) -> &'static str {
        match self {
            Hparam::ContextLength => "context_length",     // [195]
            Hparam::EmbeddingLength => "embedding_length", // [196]
            Hparam::BlockCount => "block_count",           // [200]
            Hparam::FeedForwardLength => "feed_forward_length", // [205]
            Hparam::HeadCount => "attention.head_count",   // [258]
            Hparam::HeadCountKv => "attention.head_count_kv", // [259]
            Hparam::KeyLength => "attention.key_length",   // [262]
            Hparam::ValueLength => "attention.value_length", // [263]
            Hparam::RmsEps => "attention.layer_norm_rms_epsilon", // [265]
            Hparam::RopeDimensionCount => "rope.dimension_count", // [325]
            Hparam::RopeFreqBase => "rope.freq_base",      // [328]
            Hparam::RopeFreqBaseSwa => "rope.freq_base_swa", // [329]
            Hparam::RopeScalingType => "rope.scaling.type", // [331]
            Hparam::RopeScalingFactor => "rope.scaling.factor", // [332]
            Hparam::RopeScalingAttnFactor => "rope.scaling.attn_factor", // [334]
            Hparam::RopeScalingOriginalContextLength => "rope.scaling.original_context_length", // [335]
            Hparam::SlidingWindow => "attention.sliding_window", // [276]
            Hparam::SlidingWindowPattern => "attention.sliding_window_pattern", // [277]
            Hparam::FinalLogitSoftcapping => "final_logit_softcapping", // [236]
            Hparam::VocabSize => "vocab_size",                   // [194]
            Hparam::ExpertCount => "expert_count",
        }
    }

    /// The full key for an architecture: `phi3.attention.head_count`.
    pub fn key(self, arch: &str) -> String {
        format!("{arch}.{}", self.suffix())
    }
}
