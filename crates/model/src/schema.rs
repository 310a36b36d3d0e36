//! The expected tensor layout of a configuration: every tensor name with its shape evaluated
//! from the config (in ggml `ne` order), as a loader wants it.

use serde::Serialize;

use crate::arch::{ArchSpec, Dim, Presence, QkvLayout, TensorSpec};
use crate::config::ModelConfig;

/// One expected tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedTensor {
    /// Full name (`blk.3.attn_qkv.weight`).
    pub name: String,
    /// Layer, for per-layer tensors.
    pub layer: Option<u64>,
    /// Shape, ggml order; `None` where a dimension is unknown (no vocabulary) or overflows.
    pub dims: Option<Vec<u64>>,
    /// The shape as formulas.
    pub formula: Vec<&'static str>,
    /// When it must be present.
    pub presence: Presence,
}

impl ExpectedTensor {
    /// Number of elements, when the shape is known.
    pub fn elements(&self) -> Option<u64> {
        self.dims
            .as_ref()?
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }
}

/// Evaluates one dimension for layer `il`, with checked arithmetic.
pub fn eval(dim: Dim, cfg: &ModelConfig, il: u64) -> Option<u64> {
    let l = cfg.layer(il);
    let q = cfg.head_dim.checked_mul(l.head_count);
    let k = cfg.head_dim.checked_mul(l.head_count_kv);
    let v = cfg.head_dim_v.checked_mul(l.head_count_kv);
    match dim {
        Dim::Embd => Some(cfg.embedding_length),
        Dim::Vocab => cfg.vocab_size,
        Dim::Ff => Some(l.feed_forward_length),
        Dim::Ff2 => l.feed_forward_length.checked_mul(2),
        Dim::QWidth => q,
        Dim::KWidth => k,
        Dim::VWidth => v,
        Dim::QkvWidth => q?.checked_add(k?)?.checked_add(v?),
        Dim::EmbdQkvWidth => cfg.embedding_length.checked_add(k?)?.checked_add(v?),
        Dim::HeadDimK => Some(cfg.head_dim),
        Dim::RotHalf => Some(cfg.rope_dimension_count / 2),
    }
}

/// The concrete tensor for a spec entry (global when `il` is `None`).
pub fn instantiate(spec: &TensorSpec, cfg: &ModelConfig, il: Option<u64>) -> ExpectedTensor {
    let name = match il {
        Some(i) => format!("blk.{i}.{}", spec.name),
        None => spec.name.to_string(),
    };
    let dims = spec
        .shape
        .dims()
        .iter()
        .map(|&d| eval(d, cfg, il.unwrap_or(0)))
        .collect::<Option<Vec<u64>>>();
    ExpectedTensor {
        name,
        layer: il,
        dims,
        formula: spec.shape.dims().iter().map(|d| d.formula()).collect(),
        presence: spec.presence,
    }
}

/// The layout converted files of this configuration usually have: required tensors, the
/// preferred Q/K/V layout (`qkv`, or the architecture's own), and the optional tensors
/// converters usually write. This is the table a loader wants for a vocab-only file.
pub fn expected_layout(
    spec: &ArchSpec,
    cfg: &ModelConfig,
    qkv: Option<QkvLayout>,
) -> Vec<ExpectedTensor> {
    let qkv = qkv.unwrap_or(spec.qkv.preferred);
    let mut out = Vec::new();
    // Global tensors first, as converters write them: token_embd, then the layers, then the
    // output norm and output.
    let (head, tail): (Vec<&TensorSpec>, Vec<&TensorSpec>) = spec
        .globals
        .iter()
        .filter(|t| t.typical(qkv))
        .partition(|t| t.name == "token_embd.weight");
    out.extend(head.into_iter().map(|t| instantiate(t, cfg, None)));
    for il in 0..cfg.block_count {
        out.extend(
            spec.layer_tensors()
                .filter(|t| t.typical(qkv))
                .map(|t| instantiate(&t, cfg, Some(il))),
        );
    }
    out.extend(tail.into_iter().map(|t| instantiate(t, cfg, None)));
    out
}

/// Whether a tensor spec is required for a layer that uses `qkv`.
pub(crate) fn required(presence: Presence, qkv: QkvLayout) -> bool {
    match presence {
        Presence::Required => true,
        Presence::QkvRequired(layout) => layout == qkv,
        _ => false,
    }
}
