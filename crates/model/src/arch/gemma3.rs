//! `gemma3` (Gemma 3 text).
//!
//! [LN] = ggml-org/llama.cpp@0c1e57098: hparams `src/models/gemma3.cpp:3-32` (rms eps required
//! at 16; `attention.sliding_window` optional at 4, pattern period 6 by default through
//! `load_swa_pattern`, `rope.freq_base_swa` default 10000, `final_logit_softcapping` optional),
//! tensors `src/models/gemma3.cpp:34-71`: Q `head_dim_k · n_head` wide (key_length 256 in
//! Gemma-3-1B where n_embd/n_head = 288), sandwich norms `post_attention_norm` and
//! `post_ffw_norm`, per-head `attn_q_norm`/`attn_k_norm {head_dim_k}`; output usually tied;
//! rope NEOX (`src/llama-model.cpp:3134, 3177`). The `dense_2`/`dense_3` heads of embedding
//! variants are not modelled.

use super::{
    norm, output, t, ArchSpec, Dim, Presence, QkvLayout, QkvSpec, Shape, OUTPUT_NORM, TOKEN_EMBD,
};

/// The `gemma3` spec.
pub static SPEC: ArchSpec = ArchSpec {
    name: "gemma3",
    globals: &[TOKEN_EMBD, OUTPUT_NORM, output(false)],
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
        norm("post_attention_norm.weight"),
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
            "ffn_up.weight",
            Shape::d2(Dim::Embd, Dim::Ff),
            Presence::Required,
        ),
        t(
            "ffn_down.weight",
            Shape::d2(Dim::Ff, Dim::Embd),
            Presence::Required,
        ),
        norm("post_ffw_norm.weight"),
    ],
    source: "llama.cpp@0c1e57098 src/models/gemma3.cpp:3-71; src/llama-model.cpp:3134, 3177",
};
