//! Side-by-side comparison of two models: configuration, attention, tokenizer, and tensor
//! naming and shapes (of the files, or the expected layouts of vocab-only files).

use std::collections::BTreeMap;

use ggufscope_gguf::Gguf;
use serde::Serialize;

use crate::config::ModelConfig;
use crate::schema::expected_layout;

/// A value in a comparison row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Field {
    /// An integer.
    Int(u64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
    /// A flag.
    Bool(bool),
    /// Absent or unknowable.
    None,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Int(v) => write!(f, "{v}"),
            Field::Float(v) => write!(f, "{v}"),
            Field::Text(v) => f.write_str(v),
            Field::Bool(v) => write!(f, "{}", if *v { "yes" } else { "no" }),
            Field::None => f.write_str("-"),
        }
    }
}

impl From<u64> for Field {
    fn from(v: u64) -> Self {
        Field::Int(v)
    }
}
impl From<f64> for Field {
    fn from(v: f64) -> Self {
        Field::Float(v)
    }
}
impl From<bool> for Field {
    fn from(v: bool) -> Self {
        Field::Bool(v)
    }
}
impl From<&str> for Field {
    fn from(v: &str) -> Self {
        Field::Text(v.to_string())
    }
}
impl From<String> for Field {
    fn from(v: String) -> Self {
        Field::Text(v)
    }
}
impl<T: Into<Field>> From<Option<T>> for Field {
    fn from(v: Option<T>) -> Self {
        v.map_or(Field::None, Into::into)
    }
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Section: `config`, `attention`, `rope`, `tokenizer`, `size`.
    pub section: &'static str,
    /// Field name (the `config --json` key).
    pub field: &'static str,
    /// First model.
    pub a: Field,
    /// Second model.
    pub b: Field,
    /// Whether they agree.
    pub same: bool,
}

/// How one per-layer or global tensor name compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorRow {
    /// Name, with `blk.N.` written as `blk.*.` for per-layer tensors.
    pub name: String,
    /// Whether the first model has it.
    pub in_a: bool,
    /// Whether the second model has it.
    pub in_b: bool,
    /// Shape in the first model (layer 0 for per-layer tensors), when known.
    pub a: Option<Vec<u64>>,
    /// Shape in the second model, when known.
    pub b: Option<Vec<u64>>,
}

/// Whether a model's tensors come from the file or from the expected layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorSource {
    /// The tensors in the file.
    File,
    /// The file has none: the layout its configuration requires.
    Expected,
}

/// A comparison of two models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Architectures (`a`, `b`).
    pub architectures: (String, String),
    /// Compared fields.
    pub rows: Vec<Row>,
    /// Where each side's tensor names come from.
    pub tensor_sources: (TensorSource, TensorSource),
    /// Tensor names (per-layer ones as `blk.*.`) with their shapes in each model.
    pub tensors: Vec<TensorRow>,
}

impl Comparison {
    /// Rows that differ.
    pub fn differences(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.same)
    }
}

fn rows(a: &ModelConfig, b: &ModelConfig) -> Vec<Row> {
    let mut out = Vec::new();
    let mut push = |section, field, x: Field, y: Field| {
        let same = x == y;
        out.push(Row {
            section,
            field,
            a: x,
            b: y,
            same,
        });
    };
    macro_rules! cmp {
        ($section:literal, $field:literal, $get:expr) => {
            push($section, $field, ($get)(a).into(), ($get)(b).into())
        };
    }
    cmp!("config", "architecture", |c: &ModelConfig| c
        .architecture
        .clone());
    cmp!("config", "context_length", |c: &ModelConfig| c
        .context_length);
    cmp!("config", "embedding_length", |c: &ModelConfig| c
        .embedding_length);
    cmp!("config", "block_count", |c: &ModelConfig| c.block_count);
    cmp!("config", "feed_forward_length", |c: &ModelConfig| c
        .feed_forward_length);
    cmp!("config", "rms_norm_eps", |c: &ModelConfig| c.rms_norm_eps);
    cmp!("config", "sliding_window", |c: &ModelConfig| c
        .sliding_window);
    cmp!("attention", "attention_head_count", |c: &ModelConfig| c
        .attention_head_count);
    cmp!("attention", "attention_head_count_kv", |c: &ModelConfig| c
        .attention_head_count_kv);
    cmp!("attention", "head_dim", |c: &ModelConfig| c.head_dim);
    cmp!("attention", "attention_kind", |c: &ModelConfig| c
        .attention_kind
        .as_str());
    cmp!("attention", "gqa_group_size", |c: &ModelConfig| c
        .gqa_group_size);
    cmp!("rope", "rope_type", |c: &ModelConfig| c.rope_type.as_str());
    cmp!("rope", "rope_dimension_count", |c: &ModelConfig| c
        .rope_dimension_count);
    cmp!("rope", "rope_freq_base", |c: &ModelConfig| c.rope_freq_base);
    cmp!("tokenizer", "vocab_size", |c: &ModelConfig| c.vocab_size);
    cmp!("tokenizer", "tokenizer_model", |c: &ModelConfig| c
        .tokenizer
        .model
        .clone());
    cmp!("tokenizer", "bos_token_id", |c: &ModelConfig| c
        .tokenizer
        .bos_token_id);
    cmp!("tokenizer", "eos_token_id", |c: &ModelConfig| c
        .tokenizer
        .eos_token_id);
    cmp!("tokenizer", "has_chat_template", |c: &ModelConfig| c
        .tokenizer
        .has_chat_template);
    cmp!("size", "tied_embeddings", |c: &ModelConfig| c
        .tied_embeddings);
    cmp!("size", "parameter_count", |c: &ModelConfig| c
        .parameter_count);
    out
}

/// Tensor name (per-layer as `blk.*.…`) → shape, from the file (layer 0 and globals) or, for
/// a vocab-only file, from the expected layout.
fn tensor_shapes(
    gguf: &Gguf<'_>,
    cfg: &ModelConfig,
) -> (TensorSource, BTreeMap<String, Option<Vec<u64>>>) {
    let generic = |name: &str| -> Option<String> {
        match name.strip_prefix("blk.").and_then(|r| r.split_once('.')) {
            Some(("0", rest)) => Some(format!("blk.*.{rest}")),
            Some(_) => None,
            None => Some(name.to_string()),
        }
    };
    if gguf.tensors().is_empty() {
        let layout = cfg
            .spec()
            .map(|s| expected_layout(s, cfg, None))
            .unwrap_or_default();
        let map = layout
            .into_iter()
            .filter_map(|t| Some((generic(&t.name)?, t.dims)))
            .collect();
        (TensorSource::Expected, map)
    } else {
        let map = gguf
            .tensors()
            .iter()
            .filter_map(|t| Some((generic(t.name())?, Some(t.dims().to_vec()))))
            .collect();
        (TensorSource::File, map)
    }
}

/// Compares two models.
pub fn compare(a: (&Gguf<'_>, &ModelConfig), b: (&Gguf<'_>, &ModelConfig)) -> Comparison {
    let (src_a, ta) = tensor_shapes(a.0, a.1);
    let (src_b, tb) = tensor_shapes(b.0, b.1);
    let mut names: Vec<&String> = ta.keys().chain(tb.keys()).collect();
    names.sort();
    names.dedup();
    let tensors = names
        .into_iter()
        .map(|n| TensorRow {
            name: n.clone(),
            in_a: ta.contains_key(n),
            in_b: tb.contains_key(n),
            a: ta.get(n).cloned().flatten(),
            b: tb.get(n).cloned().flatten(),
        })
        .collect();
    let cmp = Comparison {
        architectures: (a.1.architecture.clone(), b.1.architecture.clone()),
        rows: rows(a.1, b.1),
        tensor_sources: (src_a, src_b),
        tensors,
    };
    for r in cmp.differences() {
        tracing::info!(target: "ggufscope::compare", field = r.field, a = %r.a, b = %r.b, "differs");
    }
    cmp
}
