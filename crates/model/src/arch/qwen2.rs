//! `qwen2` (Qwen2, Qwen2.5).
//!
//! [LN] = ggml-org/llama.cpp@0c1e57098: hparams `src/models/qwen2.cpp:3-17` (rms eps required
//! at 4), tensors `src/models/qwen2.cpp:19-47` (`create_tensor_qkv(n_embd, n_embd, n_embd_gqa,
//! n_embd_gqa, 0)` at 38: Q is `n_embd` wide), rope NEOX (`src/llama-model.cpp:3117, 3177`).
//! q/k/v biases are optional in [LN] but required in older loaders ([LO]
//! `src/llama-model.cpp:2120-2122`) and always written by the converter.

use super::{
    norm, output, t, ArchSpec, Dim, Presence, QkvLayout, QkvSpec, Shape, OUTPUT_NORM, TOKEN_EMBD,
};

/// The `qwen2` spec.
pub static SPEC: ArchSpec = ArchSpec {
    name: "qwen2",
    globals: &[
        TOKEN_EMBD,
        OUTPUT_NORM,
        output(true),
        t(
            "output.bias",
            Shape::d1(Dim::Vocab),
            Presence::Optional { typical: false },
        ),
    ],
    qkv: QkvSpec {
        fused_rows: Dim::EmbdQkvWidth,
        q_rows: Dim::Embd,
        preferred: QkvLayout::Split,
        typical_bias: true,
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
    source: "llama.cpp@0c1e57098 src/models/qwen2.cpp:3-47; src/llama-model.cpp:3117, 3177",
};
