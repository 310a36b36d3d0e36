//! Architecture specs: one static [`ArchSpec`] per architecture, and the registry.
//!
//! A spec holds the facts llama.cpp's loader applies to a file of that architecture: which
//! hyper-parameters it requires, the rope style, and the tensor schema (name templates, shapes
//! as formulas of the config in ggml `ne` order, required / optional / alternatives). Adding an
//! architecture is adding one file here and one line to [`ARCHITECTURES`].

mod gemma3;
mod llama;
mod phi3;
mod qwen2;
mod qwen3;

use crate::keys::Hparam;

/// How rotary position embedding pairs dimensions (`llama_model_rope_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RopeType {
    /// Adjacent pairs `(x[2i], x[2i+1])` (`LLAMA_ROPE_TYPE_NORM` = 0).
    Norm,
    /// Pairs `(x[i], x[i + n_rot/2])`, HF's rotate-half (`LLAMA_ROPE_TYPE_NEOX` = 2).
    Neox,
}

impl RopeType {
    /// The rope type the architecture table gives an architecture (`llama_model_rope_type`,
    /// `src/llama-model.cpp:3023-3211`): `None` for one that is neither NORM nor NEOX (`none`,
    /// `mrope`, `imrope`) or that the table does not hold.
    pub fn of_architecture(arch: &str) -> Option<Self> {
        match crate::table::table().rope_type(arch)? {
            "norm" => Some(RopeType::Norm),
            "neox" => Some(RopeType::Neox),
            _ => None,
        }
    }

    /// `"norm"` or `"neox"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RopeType::Norm => "norm",
            RopeType::Neox => "neox",
        }
    }
}

/// What llama.cpp does when an optional hyper-parameter is absent.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Default {
    /// The key is required.
    Required,
    /// This value.
    Value(f64),
    /// The value of another hyper-parameter.
    SameAs(Hparam),
    /// `embedding_length / head_count`.
    EmbeddingPerHead,
    /// The length of `tokenizer.ggml.tokens`.
    TokenCount,
    /// Off / not used.
    Absent,
}

/// A hyper-parameter an architecture reads.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HparamSpec {
    /// Which.
    pub hparam: Hparam,
    /// Required, or the default applied when absent.
    pub default: Default,
}

/// One dimension of a tensor shape, as a formula of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// `n_embd` (`embedding_length`).
    Embd,
    /// `n_vocab` (length of `tokenizer.ggml.tokens`).
    Vocab,
    /// `n_ff` (`feed_forward_length`).
    Ff,
    /// `2 · n_ff` (a fused gate‖up projection).
    Ff2,
    /// `head_dim_k · n_head` (the width of Q).
    QWidth,
    /// `head_dim_k · n_head_kv` (`n_embd_k_gqa`).
    KWidth,
    /// `head_dim_v · n_head_kv` (`n_embd_v_gqa`).
    VWidth,
    /// `QWidth + KWidth + VWidth` (a fused Q‖K‖V projection).
    QkvWidth,
    /// `n_embd + KWidth + VWidth` (the fused Q‖K‖V of architectures whose Q is `n_embd` wide).
    EmbdQkvWidth,
    /// `head_dim_k` (`n_embd_head_k`).
    HeadDimK,
    /// `n_rot / 2` (rope frequency factors).
    RotHalf,
}

impl Dim {
    /// The formula as text (`"n_embd"`, `"2*n_ff"`…).
    pub fn formula(self) -> &'static str {
        match self {
            Dim::Embd => "n_embd",
            Dim::Vocab => "n_vocab",
            Dim::Ff => "n_ff",
            Dim::Ff2 => "2*n_ff",
            Dim::QWidth => "n_head*head_dim_k",
            Dim::KWidth => "n_head_kv*head_dim_k",
            Dim::VWidth => "n_head_kv*head_dim_v",
            Dim::QkvWidth => "n_head*head_dim_k+n_head_kv*(head_dim_k+head_dim_v)",
            Dim::EmbdQkvWidth => "n_embd+n_head_kv*(head_dim_k+head_dim_v)",
            Dim::HeadDimK => "head_dim_k",
            Dim::RotHalf => "n_rot/2",
        }
    }
}

/// The two ways a layer can store its Q/K/V projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QkvLayout {
    /// One fused `attn_qkv` tensor (rows Q, then K, then V).
    Fused,
    /// Separate `attn_q`, `attn_k`, `attn_v`.
    Split,
}

/// When a tensor must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Always.
    Required,
    /// Never required. `typical` says whether converted files usually carry it (used to list
    /// the expected layout of a vocab-only file).
    Optional {
        /// Usually present.
        typical: bool,
    },
    /// Required when the layer uses this Q/K/V layout (exactly one layout must be complete).
    QkvRequired(QkvLayout),
    /// Optional, and only with this Q/K/V layout (the biases of that layout).
    QkvOptional {
        /// The layout.
        layout: QkvLayout,
        /// Usually present in converted files.
        typical: bool,
    },
    /// `output.weight`: when absent, llama.cpp uses `token_embd` (tied embeddings).
    TiedToTokenEmbd {
        /// Usually present (untied) in converted files of this architecture.
        typical: bool,
    },
}

/// A tensor shape as formulas, in ggml `ne` order (one or two dimensions: every tensor these
/// architectures load is a vector or a matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    dims: [Dim; 2],
    len: u8,
}

impl Shape {
    /// A vector `{a}`.
    pub const fn d1(a: Dim) -> Self {
        Self {
            dims: [a, a],
            len: 1,
        }
    }

    /// A matrix `{a, b}` (`a` is `ne0`, the input width of a linear layer).
    pub const fn d2(a: Dim, b: Dim) -> Self {
        Self {
            dims: [a, b],
            len: 2,
        }
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        self.dims.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The last dimension: the rows of a matrix, whose bias has this length.
    pub const fn rows(&self) -> Dim {
        if self.len == 1 {
            self.dims[0]
        } else {
            self.dims[1]
        }
    }
}

impl serde::Serialize for Shape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.dims())
    }
}

/// One tensor of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TensorSpec {
    /// The name, or for per-layer tensors the part after `blk.N.`.
    pub name: &'static str,
    /// Shape in ggml `ne` order.
    pub shape: Shape,
    /// When it must be present.
    pub presence: Presence,
}

/// Shorthand for the spec files.
pub(crate) const fn t(name: &'static str, shape: Shape, presence: Presence) -> TensorSpec {
    TensorSpec {
        name,
        shape,
        presence,
    }
}

/// `token_embd.weight {n_embd, n_vocab}`, required in every architecture here.
pub(crate) const TOKEN_EMBD: TensorSpec = t(
    "token_embd.weight",
    Shape::d2(Dim::Embd, Dim::Vocab),
    Presence::Required,
);
/// `output_norm.weight {n_embd}`, required in every architecture here.
pub(crate) const OUTPUT_NORM: TensorSpec = t(
    "output_norm.weight",
    Shape::d1(Dim::Embd),
    Presence::Required,
);

/// `output.weight {n_embd, n_vocab}`, or tied to `token_embd` when absent.
pub(crate) const fn output(typical: bool) -> TensorSpec {
    t(
        "output.weight",
        Shape::d2(Dim::Embd, Dim::Vocab),
        Presence::TiedToTokenEmbd { typical },
    )
}

/// A required `{n_embd}` norm.
pub(crate) const fn norm(name: &'static str) -> TensorSpec {
    t(name, Shape::d1(Dim::Embd), Presence::Required)
}

/// How an architecture calls `create_tensor_qkv` ([LN] `src/llama-model.cpp:3396-3430`): a
/// fused `attn_qkv` tried first, else separate `attn_q`/`attn_k`/`attn_v`; biases optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QkvSpec {
    /// Rows of the fused tensor.
    pub fused_rows: Dim,
    /// Rows of Q (K and V are `KWidth` and `VWidth`).
    pub q_rows: Dim,
    /// The layout converters write for this architecture (one of the two must be complete).
    pub preferred: QkvLayout,
    /// Whether converters write q/k/v biases for this architecture.
    pub typical_bias: bool,
}

impl QkvSpec {
    /// The eight tensors of the rule: fused weight and bias, split weights and biases.
    pub fn tensors(&self) -> [TensorSpec; 8] {
        use Presence::{QkvOptional, QkvRequired};
        use QkvLayout::{Fused, Split};
        let bias = |layout, rows| {
            t(
                "",
                Shape::d1(rows),
                QkvOptional {
                    layout,
                    typical: false,
                },
            )
            .with_typical(layout == Split && self.typical_bias)
        };
        let fused = Shape::d2(Dim::Embd, self.fused_rows);
        let q = Shape::d2(Dim::Embd, self.q_rows);
        [
            t("attn_qkv.weight", fused, QkvRequired(Fused)),
            bias(Fused, self.fused_rows).named("attn_qkv.bias"),
            t("attn_q.weight", q, QkvRequired(Split)),
            t(
                "attn_k.weight",
                Shape::d2(Dim::Embd, Dim::KWidth),
                QkvRequired(Split),
            ),
            t(
                "attn_v.weight",
                Shape::d2(Dim::Embd, Dim::VWidth),
                QkvRequired(Split),
            ),
            bias(Split, self.q_rows).named("attn_q.bias"),
            bias(Split, Dim::KWidth).named("attn_k.bias"),
            bias(Split, Dim::VWidth).named("attn_v.bias"),
        ]
    }
}

impl TensorSpec {
    fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    fn with_typical(mut self, typical: bool) -> Self {
        if let Presence::QkvOptional { typical: t, .. } = &mut self.presence {
            *t = typical;
        }
        self
    }

    /// Whether converted files usually carry this tensor (for listing an expected layout).
    pub fn typical(&self, qkv: QkvLayout) -> bool {
        match self.presence {
            Presence::Required => true,
            Presence::Optional { typical } | Presence::TiedToTokenEmbd { typical } => typical,
            Presence::QkvRequired(layout) => layout == qkv,
            Presence::QkvOptional { layout, typical } => typical && layout == qkv,
        }
    }
}

/// Everything ggufscope knows about one architecture.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ArchSpec {
    /// `general.architecture`.
    pub name: &'static str,
    /// Hyper-parameters read beyond the generic ones ([`GENERIC_HPARAMS`]).
    pub hparams: &'static [HparamSpec],
    /// Global tensors.
    pub globals: &'static [TensorSpec],
    /// Per-layer tensors (names after `blk.N.`) other than Q/K/V.
    pub layer: &'static [TensorSpec],
    /// The per-layer Q/K/V tensors.
    pub qkv: QkvSpec,
    /// llama.cpp refuses the file unless `rope.dimension_count == head_dim`
    /// (`invalid n_rot`, `src/llama-model.cpp:1450-1453`).
    pub rot_must_equal_head_dim: bool,
    /// Where the facts come from.
    pub source: &'static str,
}

/// The hyper-parameters every architecture reads ([LN] `llama_model_base::load_hparams`,
/// `src/llama-model.cpp:1298-1492`), with llama.cpp's defaults.
pub const GENERIC_HPARAMS: &[HparamSpec] = &[
    hp(Hparam::ContextLength, Default::Required),
    hp(Hparam::EmbeddingLength, Default::Required),
    hp(Hparam::BlockCount, Default::Required),
    // Optional for the loader (default 0), but every architecture here needs it for its
    // tensor shapes; a missing one is reported by the config.
    hp(Hparam::FeedForwardLength, Default::Required),
    hp(Hparam::HeadCount, Default::Required),
    hp(Hparam::HeadCountKv, Default::SameAs(Hparam::HeadCount)),
    hp(Hparam::KeyLength, Default::EmbeddingPerHead),
    hp(Hparam::ValueLength, Default::EmbeddingPerHead),
    hp(
        Hparam::RopeDimensionCount,
        Default::SameAs(Hparam::KeyLength),
    ),
    hp(Hparam::RopeFreqBase, Default::Value(10000.0)),
    hp(Hparam::RopeScalingType, Default::Absent),
    hp(Hparam::RopeScalingFactor, Default::Absent),
    hp(
        Hparam::RopeScalingOriginalContextLength,
        Default::SameAs(Hparam::ContextLength),
    ),
    hp(Hparam::RopeScalingAttnFactor, Default::Value(1.0)),
    hp(Hparam::VocabSize, Default::TokenCount),
];

pub(crate) const fn hp(hparam: Hparam, default: Default) -> HparamSpec {
    HparamSpec { hparam, default }
}

/// Every architecture ggufscope knows.
pub static ARCHITECTURES: &[&ArchSpec] = &[
    &llama::SPEC,
    &qwen2::SPEC,
    &qwen3::SPEC,
    &phi3::SPEC,
    &gemma3::SPEC,
];

/// The spec of an architecture, by its `general.architecture` name.
pub fn lookup(name: &str) -> Option<&'static ArchSpec> {
    ARCHITECTURES.iter().copied().find(|a| a.name == name)
}

/// The names of every supported architecture.
pub fn supported() -> Vec<&'static str> {
    ARCHITECTURES.iter().map(|a| a.name).collect()
}

impl ArchSpec {
    /// The generic hyper-parameters followed by this architecture's own.
    pub fn all_hparams(&self) -> impl Iterator<Item = &'static HparamSpec> {
        GENERIC_HPARAMS.iter().chain(self.hparams.iter())
    }

    /// Whether Q is `n_embd` wide (`create_tensor_qkv(n_embd, n_embd, …)`: qwen2, phi3), so that
    /// `head_dim · n_head` must equal `n_embd`.
    pub fn qkv_q_is_embd_wide(&self) -> bool {
        self.qkv.q_rows == Dim::Embd
    }

    /// Every per-layer tensor: Q/K/V (both layouts) followed by the others.
    pub fn layer_tensors(&self) -> impl Iterator<Item = TensorSpec> + '_ {
        self.qkv
            .tensors()
            .into_iter()
            .chain(self.layer.iter().copied())
    }

    /// How this architecture treats a hyper-parameter, if it reads it.
    pub fn hparam(&self, which: Hparam) -> Option<&'static HparamSpec> {
        // The architecture's own entry overrides the generic one.
        self.hparams
            .iter()
            .find(|h| h.hparam == which)
            .or_else(|| GENERIC_HPARAMS.iter().find(|h| h.hparam == which))
    }
}
