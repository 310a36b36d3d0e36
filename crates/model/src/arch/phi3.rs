//! `phi3` (Phi-3-mini, Phi-3-medium, Phi-3.5-mini).
//!
//! [LN] = ggml-org/llama.cpp@0c1e57098: hparams `src/models/phi3.cpp:3-25` (rms eps required;
//! `attention.sliding_window` read but SWA disabled, PR 13676), tensors
//! `src/models/phi3.cpp:27-57`: fused `attn_qkv {n_embd, n_embd + 2·n_embd_gqa}` (46), fused
//! gate‖up `ffn_up {n_embd, 2·n_ff}` (52) and no `ffn_gate`; global `rope_factors_long/short
//! {n_rot/2}` for the 128k variants (54-55); rope NEOX (`src/llama-model.cpp:3127, 3177`).

use super::{
    norm, output, t, ArchSpec, Dim, Presence, QkvLayout, QkvSpec, Shape, OUTPUT_NORM, TOKEN_EMBD,
};

const OPT: Presence = Presence::Optional { typical: false };

/// The `phi3` spec.
pub static SPEC: ArchSpec = ArchSpec {
    name: "phi3",
    globals: &[
        TOKEN_EMBD,
        OUTPUT_NORM,
        output(true),
        t("rope_factors_long.weight", Shape::d1(Dim::RotHalf), OPT),
        t("rope_factors_short.weight", Shape::d1(Dim::RotHalf), OPT),
    ],
    qkv: QkvSpec {
        fused_rows: Dim::EmbdQkvWidth,
        q_rows: Dim::Embd,
        preferred: QkvLayout::Fused,
        typical_bias: false,
    },
    layer: &[
        norm("attn_norm.weight"),
        t(
            "attn_output.weight",
            Shape::d2(Dim::Embd, Dim::Embd),
            Presence::Required,
        ),
        norm("ffn_norm.weight"),
        t(
            "ffn_down.weight",
            Shape::d2(Dim::Ff, Dim::Embd),
            Presence::Required,
        ),
        t(
            "ffn_up.weight",
            Shape::d2(Dim::Embd, Dim::Ff2),
            Presence::Required,
        ),
    ],
    source: "llama.cpp@0c1e57098 src/models/phi3.cpp:3-57; src/llama-model.cpp:3127, 3177",
};
