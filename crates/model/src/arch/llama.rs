//! `llama`: the reference architecture.
//!
//! [LN] = ggml-org/llama.cpp@0c1e57098: hparams `src/models/llama.cpp:3-32` (rms eps required
//! at 7), tensors `src/models/llama.cpp:34-92`, rope NORM (`src/llama-model.cpp:3052, 3095`),
//! `invalid n_rot` check (`src/llama-model.cpp:1450-1453`). MoE (`expert_count > 0`) layers
//! are not modelled.

use super::{
    norm, output, t, ArchSpec, Dim, Presence, QkvLayout, QkvSpec, Shape, OUTPUT_NORM, TOKEN_EMBD,
};

const OPT: Presence = Presence::Optional { typical: false };

/// The `llama` spec.
pub static SPEC: ArchSpec = ArchSpec {
    name: "llama",
    globals: &[
        TOKEN_EMBD,
        OUTPUT_NORM,
        output(true),
        // Llama-3 scaling factors; one global tensor shared by every layer (line 66).
        t("rope_freqs.weight", Shape::d1(Dim::RotHalf), OPT),
        // Only with `rope.scaling.type = longrope` (lines 61-64).
        t("rope_factors_long.weight", Shape::d1(Dim::RotHalf), OPT),
        t("rope_factors_short.weight", Shape::d1(Dim::RotHalf), OPT),
    ],
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
        t("attn_output.bias", Shape::d1(Dim::Embd), OPT),
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
        t("ffn_gate.bias", Shape::d1(Dim::Ff), OPT),
        t("ffn_down.bias", Shape::d1(Dim::Embd), OPT),
        t("ffn_up.bias", Shape::d1(Dim::Ff), OPT),
    ],
    source:
        "llama.cpp@0c1e57098 src/models/llama.cpp:3-92; src/llama-model.cpp:1450-1453, 3052, 3095",
};
