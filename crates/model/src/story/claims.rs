//! The seed story's assumptions (story LT-029 "Phi-3 Metadata Analysis"), checked against
//! what a file says. The story's technical notes assumed Phi-3 GGUF files use the `llama`
//! architecture and Qwen's tensor names; real files do not (`shared/docs/ground-truth.md` §3).

use ggufscope_gguf::Gguf;
use serde::Serialize;

use crate::arch::RopeType;
use crate::config::ModelConfig;
use crate::schema::expected_layout;

/// One assumption of the story and what the file says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimCheck {
    /// What the story assumed.
    pub claim: &'static str,
    /// The value the story expected.
    pub assumed: String,
    /// What the file says.
    pub found: String,
    /// Whether the assumption holds.
    pub holds: bool,
}

fn check(
    claim: &'static str,
    assumed: impl ToString,
    found: impl ToString,
    holds: bool,
) -> ClaimCheck {
    ClaimCheck {
        claim,
        assumed: assumed.to_string(),
        found: found.to_string(),
        holds,
    }
}

/// Names of the per-layer tensors (after `blk.0.`) the file has, or the layout requires.
fn layer_names(gguf: &Gguf<'_>, cfg: &ModelConfig) -> Vec<String> {
    let mut names: Vec<String> = if gguf.tensors().is_empty() {
        cfg.spec()
            .map(|s| expected_layout(s, cfg, None))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| t.name.strip_prefix("blk.0.").map(str::to_string))
            .collect()
    } else {
        gguf.tensors()
            .iter()
            .filter_map(|t| t.name().strip_prefix("blk.0.").map(str::to_string))
            .collect()
    };
    names.sort();
    names
}

/// The story's assumptions for the models it names (Phi-3-mini-4k for `phi3` files,
/// Qwen2.5-0.5B for `qwen2` files), checked against this file. Empty for other architectures.
pub fn seed_claims(gguf: &Gguf<'_>, cfg: &ModelConfig) -> Vec<ClaimCheck> {
    let names = layer_names(gguf, cfg);
    let has = |n: &str| names.iter().any(|x| x == n);
    let llama_names = [
        "attn_q.weight",
        "attn_k.weight",
        "attn_v.weight",
        "ffn_gate.weight",
        "ffn_up.weight",
    ];
    let naming_found = if llama_names.iter().all(|n| has(n)) {
        "attn_q/attn_k/attn_v, ffn_gate/ffn_up".to_string()
    } else {
        let fused: Vec<&str> = ["attn_qkv.weight", "ffn_up.weight"]
            .into_iter()
            .filter(|n| has(n))
            .collect();
        format!(
            "{} (no {})",
            fused.join(", "),
            llama_names
                .iter()
                .filter(|n| !has(n))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let naming_holds = llama_names.iter().all(|n| has(n));
    let key_prefix = format!("{}.*", cfg.architecture);
    let rope = cfg.rope_type.as_str();
    match cfg.architecture.as_str() {
        "phi3" => vec![
            check(
                "general.architecture is \"llama\" (Phi-3 uses the Llama architecture)",
                "llama",
                &cfg.architecture,
                cfg.architecture == "llama",
            ),
            check(
                "hyper-parameters are read from llama.* keys",
                "llama.*",
                &key_prefix,
                cfg.architecture == "llama",
            ),
            check(
                "same tensor names as Qwen (separate Q/K/V, separate gate and up)",
                "attn_q/attn_k/attn_v, ffn_gate/ffn_up",
                naming_found,
                naming_holds,
            ),
            check(
                "vocabulary of ~32000 tokens",
                32000,
                fmt_opt(cfg.vocab_size),
                cfg.vocab_size == Some(32000),
            ),
            check(
                "ffn_length = 4 x d_model",
                4 * cfg.embedding_length,
                cfg.feed_forward_length,
                cfg.feed_forward_length == 4 * cfg.embedding_length,
            ),
            check(
                "RoPE as in Llama (NORM, adjacent pairs)",
                "norm",
                rope,
                cfg.rope_type == RopeType::Norm,
            ),
            check(
                "MHA: 32 query heads, 32 KV heads",
                "32/32",
                format!(
                    "{}/{}",
                    cfg.attention_head_count, cfg.attention_head_count_kv
                ),
                cfg.attention_head_count == 32 && cfg.attention_head_count_kv == 32,
            ),
            check(
                "head_dim 96 (3072 / 32)",
                96,
                cfg.head_dim,
                cfg.head_dim == 96,
            ),
            check(
                "context 4096, 32 layers, 3072 wide",
                "4096 / 32 / 3072",
                format!(
                    "{} / {} / {}",
                    cfg.context_length, cfg.block_count, cfg.embedding_length
                ),
                (cfg.context_length, cfg.block_count, cfg.embedding_length) == (4096, 32, 3072),
            ),
            check(
                "rope_freq_base 10000",
                10000,
                fmt_base(cfg),
                cfg.rope_freq_base == 10000.0,
            ),
        ],
        "qwen2" => vec![
            check(
                "Qwen uses the Llama architecture",
                "llama",
                &cfg.architecture,
                cfg.architecture == "llama",
            ),
            check(
                "Llama tensor naming (separate Q/K/V, gate and up)",
                "attn_q/attn_k/attn_v, ffn_gate/ffn_up",
                naming_found,
                naming_holds,
            ),
            check(
                "RoPE as in Llama (NORM, adjacent pairs)",
                "norm",
                rope,
                cfg.rope_type == RopeType::Norm,
            ),
            check(
                "GQA: 14 query heads, 2 KV heads",
                "14/2",
                format!(
                    "{}/{}",
                    cfg.attention_head_count, cfg.attention_head_count_kv
                ),
                cfg.attention_head_count == 14 && cfg.attention_head_count_kv == 2,
            ),
            check("head_dim 64", 64, cfg.head_dim, cfg.head_dim == 64),
            check(
                "context 32768, 24 layers, 896 wide, FFN 4864",
                "32768 / 24 / 896 / 4864",
                format!(
                    "{} / {} / {} / {}",
                    cfg.context_length,
                    cfg.block_count,
                    cfg.embedding_length,
                    cfg.feed_forward_length
                ),
                (
                    cfg.context_length,
                    cfg.block_count,
                    cfg.embedding_length,
                    cfg.feed_forward_length,
                ) == (32768, 24, 896, 4864),
            ),
        ],
        _ => Vec::new(),
    }
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| v.to_string())
}

fn fmt_base(cfg: &ModelConfig) -> String {
    if cfg.rope_freq_base_defaulted {
        format!("{} (key absent: llama.cpp's default)", cfg.rope_freq_base)
    } else {
        cfg.rope_freq_base.to_string()
    }
}
