//! `qwen3` (Qwen3 dense).
//!
//! [LN] = ggml-org/llama.cpp@0c1e57098: hparams `src/models/qwen3.cpp:3-13` (rms eps required
//! at 4), tensors `src/models/qwen3.cpp:15-47`: Q is `head_dim_k · n_head` wide (not
//! necessarily `n_embd`: Qwen3-0.6B has key_length 128 with n_embd/n_head = 64), per-head
//! `attn_q_norm`/`attn_k_norm {head_dim_k}` required (39-40), no biases in converted files;
//! rope NEOX (`src/llama-model.cpp:3120, 3177`). The reranker head `cls.output` is not modelled.

use super::{
    norm, output, t, ArchSpec, Dim, Presence, QkvLayout, QkvSpec, Shape, OUTPUT_NORM, TOKEN_EMBD,
};

/// The `qwen3` spec.
pub static SPEC: ArchSpec = ArchSpec {
    name: "qwen3",
    globals: &[TOKEN_EMBD, OUTPUT_NORM, output(true)],
    qkv: QkvSpec {
        fused_rows: Dim::QkvWidth,
        q_rows: Dim::QWidth,
        preferred: QkvLayout::Split,
        typical_bias: false,
    },
    layer: &[
        norm("attn_norm.weight"),
        t(
            "attn_output.weight",
            Shape::d2(Dim::QWidth, Dim::Embd),
            Presence::Required,
        ),
        t(
            "attn_k_norm.weight",
            Shape::d1(Dim::HeadDimK),
            Presence::Required,
        ),
        t(
            "attn_q_norm.weight",
            Shape::d1(Dim::HeadDimK),
            Presence::Required,
        ),
        norm("ffn_norm.weight"),
        t(
            "ffn_gate.weight",
            Shape::d2(Dim::Embd, Dim::Ff),
            Presence::Required,
        ),
        t(
            "ffn_down.weight",
            Shape::d2(Dim::Ff, Dim::Embd),
            Presence::Required,
        ),
        t(
            "ffn_up.weight",
            Shape::d2(Dim::Embd, Dim::Ff),
            Presence::Required,
        ),
    ],
    source: "llama.cpp@0c1e57098 src/models/qwen3.cpp:3-47; src/llama-model.cpp:3120, 3177",
};
