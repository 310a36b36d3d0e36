//! Architecture specs, read from the architecture table: the tensor schema of the Llama-shaped
//! architectures ggufscope reads into a [`crate::ModelConfig`] (name templates, shapes as
//! formulas of the config in ggml `ne` order, required / optional / alternatives), built once
//! from llama.cpp's tensor code as the table holds it ([`spec_from_table`]), and the facts
//! derived from the table's text (rope type, which keys an architecture reads, the `invalid
//! n_rot` check, the width of Q). Nothing here is written per architecture but the converter
//! habits llama.cpp's loader cannot tell (`CONVERTER_HABITS`).

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

/// Shorthand.
pub(crate) const fn t(name: &'static str, shape: Shape, presence: Presence) -> TensorSpec {
    TensorSpec {
        name,
        shape,
        presence,
    }
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
    /// llama.cpp refuses the file unless `rope.dimension_count == head_dim` (the generic
    /// `invalid n_rot` check names the architecture, `src/llama-model.cpp:1450-1453`).
    pub rot_must_equal_head_dim: bool,
    /// Its hyper-parameter code reads `attention.sliding_window`.
    pub reads_sliding_window: bool,
    /// Where the facts come from.
    pub source: &'static str,
}

/// The spec of an architecture, by its `general.architecture` name.
pub fn lookup(name: &str) -> Option<&'static ArchSpec> {
    let i = SCHEMA_ARCHITECTURES.iter().position(|a| *a == name)?;
    spec(i)
}

/// The names of every supported architecture.
pub fn supported() -> Vec<&'static str> {
    (0..SCHEMA_ARCHITECTURES.len())
        .filter_map(spec)
        .map(|a| a.name)
        .collect()
}

impl ArchSpec {
    /// Whether Q is `n_embd` wide (`create_tensor_qkv(n_embd, n_embd, …)`: qwen2, phi3), so that
    /// `head_dim · n_head` must equal `n_embd`: read from the architecture table's tensor code.
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
}

/// The architecture table's text for an architecture: its `@arch NAME` section (hyper-parameter
/// and tensor code, as generated from llama.cpp's sources) up to `@end`.
pub(crate) fn table_section(arch: &str) -> Option<&'static str> {
    crate::table::table().arch_text(arch)
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

/// The architectures whose configuration ggufscope reads into a [`crate::ModelConfig`] and
/// whose tensors it lists as a schema of formulas (Llama-shaped dense decoders). Their facts
/// come from the architecture table ([`spec_from_table`]).
const SCHEMA_ARCHITECTURES: [&str; 5] = ["llama", "qwen2", "qwen3", "phi3", "gemma3"];

/// What converters (`convert_hf_to_gguf.py`) write that llama.cpp's loader leaves optional, so
/// that the table cannot say it: ggufscope's own reading, used only to list the layout of a
/// vocab-only file. `(architecture, output tied, q/k/v biases written)`.
const CONVERTER_HABITS: [(&str, bool, bool); 2] = [("gemma3", true, false), ("qwen2", false, true)];

/// The spec of `SCHEMA_ARCHITECTURES[i]`, built from the table when first asked for (a run
/// reads one file: building all five would cost more than the run).
fn spec(i: usize) -> Option<&'static ArchSpec> {
    static SPECS: [std::sync::OnceLock<Option<ArchSpec>>; SCHEMA_ARCHITECTURES.len()] =
        [const { std::sync::OnceLock::new() }; SCHEMA_ARCHITECTURES.len()];
    let name = SCHEMA_ARCHITECTURES.get(i)?;
    SPECS.get(i)?.get_or_init(|| spec_from_table(name)).as_ref()
}

/// A shape symbol of the table's tensor code as a [`Dim`].
fn dim_of(text: &str) -> Option<Dim> {
    Some(match text.split_whitespace().collect::<String>().as_str() {
        "n_embd" => Dim::Embd,
        "n_vocab" => Dim::Vocab,
        "n_ff" => Dim::Ff,
        "2*n_ff" => Dim::Ff2,
        "n_embd_head_k*n_head" => Dim::QWidth,
        "n_embd_k_gqa" => Dim::KWidth,
        "n_embd_v_gqa" => Dim::VWidth,
        "n_embd_head_k" => Dim::HeadDimK,
        "n_rot/2" => Dim::RotHalf,
        _ => return None,
    })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The spec of `arch`, read from the architecture table's tensor code (llama.cpp's
/// `load_arch_tensors`): every `create_tensor` of a dense layer with its shape and
/// required / optional flag, the `create_tensor_qkv` call (Q width, whether the split weights
/// are required), the tied output (`if (output == nullptr)`). Tensors whose shape uses a
/// symbol outside [`Dim`] (embedding heads, classifier outputs) and the MoE branch
/// (`n_expert > 0`) are left out.
pub(crate) fn spec_from_table(arch: &'static str) -> Option<ArchSpec> {
    let section = table_section(arch)?;
    let (_, body) = section.split_once("\n@tensors ")?;
    let source = body.lines().next().unwrap_or("");
    let formats: std::collections::HashMap<&str, &str> = crate::table::table()
        .tensor_names()
        .iter()
        .map(|t| (t.ident, t.format))
        .collect();
    let (tied_typical, typical_bias) = CONVERTER_HABITS
        .iter()
        .find(|h| h.0 == arch)
        .map_or((false, false), |h| (h.1, h.2));
    let mut globals = Vec::new();
    let mut layer = Vec::new();
    let mut qkv = None;
    // Open blocks: whether each is the MoE branch (`else` of `if (n_expert == 0)`).
    let mut blocks: Vec<(String, bool)> = Vec::new();
    for line in body.lines().skip(1).map(str::trim) {
        if let Some(rest) = line.strip_prefix('}') {
            let closed = blocks.pop();
            if rest.trim_start().starts_with("else") {
                let moe = closed.is_some_and(|(c, _)| c.contains("n_expert == 0"));
                blocks.push((rest.to_string(), moe));
            }
            continue;
        }
        if line.ends_with('{') {
            blocks.push((line.to_string(), false));
            continue;
        }
        if blocks.iter().any(|b| b.1) {
            continue;
        }
        if let Some(args) = line
            .strip_prefix("create_tensor_qkv(")
            .and_then(|a| a.strip_suffix(");"))
        {
            let args: Vec<&str> = args.split(',').map(str::trim).collect();
            let q_rows = dim_of(args.get(2)?)?;
            qkv = Some(QkvSpec {
                fused_rows: if q_rows == Dim::Embd {
                    Dim::EmbdQkvWidth
                } else {
                    Dim::QkvWidth
                },
                q_rows,
                // Split weights llama.cpp does not require: the fused tensor is the layout
                // (phi3, `src/models/phi3.cpp:46`).
                preferred: if args
                    .get(5)
                    .is_some_and(|f| f.contains("TENSOR_NOT_REQUIRED"))
                {
                    QkvLayout::Fused
                } else {
                    QkvLayout::Split
                },
                typical_bias,
            });
            continue;
        }
        // `x = create_tensor(tn(LLM_TENSOR_X, "weight"[, i]), {dims}, flags);`
        let Some((_, call)) = line.split_once("create_tensor(tn(") else {
            continue;
        };
        let Some((tn, rest)) = call.split_once(')') else {
            continue;
        };
        let mut tn_args = tn.split(',').map(str::trim);
        let (Some(ident), Some(suffix)) = (tn_args.next(), tn_args.next()) else {
            continue;
        };
        let Some((dims, flags)) = rest.split_once('{').and_then(|(_, r)| r.split_once('}')) else {
            continue;
        };
        let flags = flags.trim_start_matches(',').trim().trim_end_matches(");");
        if flags.contains("TENSOR_DUPLICATED") && !flags.contains("TENSOR_NOT_REQUIRED") {
            // The tied output: `token_embd` again.
            continue;
        }
        let Some(dims) = dims.split(',').map(dim_of).collect::<Option<Vec<Dim>>>() else {
            continue;
        };
        let shape = match dims.as_slice() {
            [a] => Shape::d1(*a),
            [a, b] => Shape::d2(*a, *b),
            _ => continue,
        };
        let Some(&format) = formats.get(ident) else {
            continue;
        };
        let suffix = suffix.trim_matches('"');
        let presence = if format == "output" && suffix == "weight" {
            Presence::TiedToTokenEmbd {
                typical: !tied_typical,
            }
        } else if flags == "0" {
            Presence::Required
        } else {
            Presence::Optional { typical: false }
        };
        match format.strip_prefix("blk.%d.") {
            Some(stem) => layer.push(t(leak(format!("{stem}.{suffix}")), shape, presence)),
            None => {
                let name = leak(format!("{format}.{suffix}"));
                if !globals.iter().any(|g: &TensorSpec| g.name == name) {
                    globals.push(t(name, shape, presence));
                }
            }
        }
    }
    Some(ArchSpec {
        name: arch,
        globals: Box::leak(globals.into_boxed_slice()),
        layer: Box::leak(layer.into_boxed_slice()),
        qkv: qkv?,
        rot_must_equal_head_dim: rot_must_equal_head_dim(arch),
        reads_sliding_window: reads_key(arch, "LLM_KV_ATTENTION_SLIDING_WINDOW"),
        source: leak(format!(
            "llama.cpp {} {source}",
            crate::table::table().version
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's tensor code gives what the five hand-written specs held (checked equal,
    /// as sets, when they were replaced): spot checks of each kind of fact.
    #[test]
    fn specs_come_from_the_table() {
        assert_eq!(supported(), ["llama", "qwen2", "qwen3", "phi3", "gemma3"]);
        let phi3 = lookup("phi3").unwrap();
        assert_eq!(
            phi3.qkv,
            QkvSpec {
                fused_rows: Dim::EmbdQkvWidth,
                q_rows: Dim::Embd,
                preferred: QkvLayout::Fused,
                typical_bias: false
            }
        );
        let names = |v: &[TensorSpec]| v.iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(
            names(phi3.layer),
            [
                "attn_norm.weight",
                "attn_output.weight",
                "ffn_norm.weight",
                "ffn_down.weight",
                "ffn_up.weight"
            ]
        );
        assert_eq!(phi3.layer[4].shape, Shape::d2(Dim::Embd, Dim::Ff2));
        let llama = lookup("llama").unwrap();
        assert_eq!(
            names(llama.globals),
            [
                "token_embd.weight",
                "output_norm.weight",
                "output.weight",
                "rope_factors_long.weight",
                "rope_factors_short.weight",
                "rope_freqs.weight"
            ]
        );
        assert_eq!(
            llama.globals[2].presence,
            Presence::TiedToTokenEmbd { typical: true }
        );
        assert_eq!(
            llama.globals[3].presence,
            Presence::Optional { typical: false }
        );
        // The MoE branch is not part of the schema.
        assert!(!llama.layer.iter().any(|t| t.name.contains("exps")));
        let gemma3 = lookup("gemma3").unwrap();
        assert_eq!(
            gemma3.globals[2].presence,
            Presence::TiedToTokenEmbd { typical: false }
        );
        assert_eq!(gemma3.layer.len(), 10);
        let qwen2 = lookup("qwen2").unwrap();
        assert!(qwen2.qkv.typical_bias);
        assert_eq!(names(qwen2.globals)[3], "output.bias");
        assert_eq!(
            lookup("qwen3").unwrap().layer[2].shape,
            Shape::d1(Dim::HeadDimK)
        );
    }

    #[test]
    fn facts_read_from_the_table_text() {
        let rot: Vec<&str> = [
            "llama", "qwen2", "qwen3", "phi3", "gemma3", "deci", "falcon",
        ]
        .into_iter()
        .filter(|a| rot_must_equal_head_dim(a))
        .collect();
        assert_eq!(rot, ["llama", "deci", "falcon"]);
        let wide: Vec<&str> = supported()
            .into_iter()
            .filter(|a| lookup(a).is_some_and(ArchSpec::qkv_q_is_embd_wide))
            .collect();
        assert_eq!(wide, ["qwen2", "phi3"]);
        let specs: Vec<(bool, bool)> = supported()
            .into_iter()
            .filter_map(lookup)
            .map(|s| (s.rot_must_equal_head_dim, s.reads_sliding_window))
            .collect();
        assert_eq!(
            specs,
            [
                (true, false),
                (false, false),
                (false, false),
                (false, true),
                (false, true)
            ]
        );
        let swa: Vec<&str> = ["llama", "qwen2", "qwen3", "phi3", "gemma3"]
            .into_iter()
            .filter(|a| reads_key(a, "LLM_KV_ATTENTION_SLIDING_WINDOW"))
            .collect();
        assert_eq!(swa, ["phi3", "gemma3"]);
    }
}
