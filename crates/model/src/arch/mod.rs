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
    /// Global tensors.
    pub globals: &'static [TensorSpec],
    /// Per-layer tensors (names after `blk.N.`) other than Q/K/V.
    pub layer: &'static [TensorSpec],
    /// The per-layer Q/K/V tensors.
    pub qkv: QkvSpec,
    /// Where the facts come from.
    pub source: &'static str,
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
    /// Whether Q is `n_embd` wide (`create_tensor_qkv(n_embd, n_embd, …)`: qwen2, phi3), so that
    /// `head_dim · n_head` must equal `n_embd`: read from the architecture table's tensor code.
    pub fn qkv_q_is_embd_wide(&self) -> bool {
        q_is_embd_wide(self.name)
    }

    /// Every per-layer tensor: Q/K/V (both layouts) followed by the others.
    pub fn layer_tensors(&self) -> impl Iterator<Item = TensorSpec> + '_ {
        self.qkv
            .tensors()
            .into_iter()
            .chain(self.layer.iter().copied())
    }
}

/// The architecture table's text for an architecture: its `@arch NAME` section (hyper-parameter
/// and tensor code, as generated from llama.cpp's sources) up to `@end`.
pub(crate) fn table_section(arch: &str) -> Option<&'static str> {
    let (_, rest) = crate::table::TABLE.split_once(&format!("\n@arch {arch}\n"))?;
    Some(rest.split_once("\n@end").map_or(rest, |(body, _)| body))
}

/// Whether llama.cpp's hyper-parameter code for `arch` reads the key `ident` (an `LLM_KV_*`
/// name), as the architecture table holds that code.
pub(crate) fn reads_key(arch: &str, ident: &str) -> bool {
    table_section(arch)
        .and_then(|s| s.split_once("\n@tensors").map(|(h, _)| h))
        .is_some_and(|h| {
            h.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == ident)
        })
}

/// Whether llama.cpp refuses `rope.dimension_count != head_dim` for `arch`: its enum is among
/// those the generic `invalid n_rot` check names (`src/llama-model.cpp:1450-1453`), read from
/// the architecture table.
pub(crate) fn rot_must_equal_head_dim(arch: &str) -> bool {
    let text = crate::table::TABLE;
    // `LLM_ARCH_X = "arch" rope;` in the table's `@archs`.
    let quoted = format!("= \"{arch}\"");
    let Some(ident) = text
        .lines()
        .find(|l| l.starts_with("LLM_ARCH_") && l.contains(&quoted))
        .and_then(|l| l.split_whitespace().next())
    else {
        return false;
    };
    let Some((before, _)) = text.split_once("invalid n_rot") else {
        return false;
    };
    before
        .lines()
        .rev()
        .find(|l| l.contains("arch == LLM_ARCH_"))
        .is_some_and(|l| {
            l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == ident)
        })
}

/// Whether `arch`'s tensor code asks for a Q projection `n_embd` wide
/// (`create_tensor_qkv(i, n_embd, n_embd, …)`, qwen2 and phi3) rather than
/// `n_embd_head_k * n_head` wide.
pub(crate) fn q_is_embd_wide(arch: &str) -> bool {
    table_section(arch)
        .and_then(|s| s.split_once("create_tensor_qkv("))
        .and_then(|(_, call)| call.split(',').nth(2))
        .is_some_and(|q| q.trim() == "n_embd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_from_the_table_text() {
        let rot: Vec<&str> = [
            "llama", "qwen2", "qwen3", "phi3", "gemma3", "deci", "falcon",
        ]
        .into_iter()
        .filter(|a| rot_must_equal_head_dim(a))
        .collect();
        assert_eq!(rot, ["llama", "deci", "falcon"]);
        let wide: Vec<&str> = ["llama", "qwen2", "qwen3", "phi3", "gemma3"]
            .into_iter()
            .filter(|a| q_is_embd_wide(a))
            .collect();
        assert_eq!(wide, ["qwen2", "phi3"]);
        let swa: Vec<&str> = ["llama", "qwen2", "qwen3", "phi3", "gemma3"]
            .into_iter()
            .filter(|a| reads_key(a, "LLM_KV_ATTENTION_SLIDING_WINDOW"))
            .collect();
        assert_eq!(swa, ["phi3", "gemma3"]);
    }
}
