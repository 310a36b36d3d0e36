//! The seed story's typed views: `Phi3Config` and `QwenConfig`, built from a [`ModelConfig`]
//! and refusing any other architecture.

use serde::Serialize;

use crate::config::ModelConfig;
use crate::error::ArchError;

macro_rules! seed_view {
    ($(#[$doc:meta])* $name:ident, $view:literal, $arch:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $name {
            /// `general.architecture` as the file says it.
            pub architecture: String,
            /// Training context length.
            pub context_length: u32,
            /// Hidden size `d_model`.
            pub embedding_length: u32,
            /// Layers.
            pub block_count: u32,
            /// Query heads.
            pub attention_head_count: u32,
            /// KV heads.
            pub attention_head_count_kv: u32,
            /// FFN width (`feed_forward_length`, never derived from the width).
            pub ffn_length: u32,
            /// Rotary dimensions.
            pub rope_dimension_count: u32,
            /// Rope base (10000 when the file has none).
            pub rope_freq_base: f64,
            /// Vocabulary size (length of the token list).
            pub vocab_size: u32,
            /// Head dimension.
            pub head_dim: u32,
            /// Whether every query head has its own KV head.
            pub is_mha: bool,
        }

        impl TryFrom<&ModelConfig> for $name {
            type Error = ArchError;

            fn try_from(c: &ModelConfig) -> Result<Self, ArchError> {
                if c.architecture != $arch {
                    return Err(ArchError::WrongArchitecture {
                        view: $view,
                        expected: $arch,
                        found: c.architecture.clone(),
                    });
                }
                let narrow = |key: &str, v: u64| {
                    u32::try_from(v).map_err(|_| ArchError::KeyValue {
                        key: key.to_string(),
                        value: v.to_string(),
                        expected: "a value that fits in 32 bits",
                    })
                };
                Ok(Self {
                    architecture: c.architecture.clone(),
                    context_length: narrow("context_length", c.context_length)?,
                    embedding_length: narrow("embedding_length", c.embedding_length)?,
                    block_count: narrow("block_count", c.block_count)?,
                    attention_head_count: narrow("attention.head_count", c.attention_head_count)?,
                    attention_head_count_kv: narrow("attention.head_count_kv", c.attention_head_count_kv)?,
                    ffn_length: narrow("feed_forward_length", c.feed_forward_length)?,
                    rope_dimension_count: narrow("rope.dimension_count", c.rope_dimension_count)?,
                    rope_freq_base: c.rope_freq_base,
                    vocab_size: narrow(
                        "vocab_size",
                        c.vocab_size.ok_or_else(|| ArchError::MissingKey {
                            key: crate::keys::TOKENIZER_TOKENS.to_string(),
                        })?,
                    )?,
                    head_dim: narrow("head_dim", c.head_dim)?,
                    is_mha: c.attention_head_count == c.attention_head_count_kv,
                })
            }
        }
    };
}

seed_view!(
    /// The seed's `Phi3Config`: only for `general.architecture = phi3` (real Phi-3 GGUF files
    /// say `phi3`, not `llama`).
    Phi3Config,
    "Phi3Config",
    "phi3"
);

seed_view!(
    /// The seed's `QwenConfig`: for the Qwen2 family (`general.architecture = qwen2`, which
    /// Qwen2.5 files also use).
    QwenConfig,
    "QwenConfig",
    "qwen2"
);
