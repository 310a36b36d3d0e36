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
    /// The file has none: the tensors llama.cpp's loader requires for its configuration
    /// (optional ones, which llama.cpp accepts absent, not counted).
    Required,
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

/// Tensor name (per-layer as `blk.*.…`) → shape, from the file or, for a vocab-only file, from
/// the expected layout.
fn tensor_shapes(
    gguf: &Gguf<'_>,
    cfg: &ModelConfig,
) -> (TensorSource, BTreeMap<String, Option<Vec<u64>>>) {
    if gguf.tensors().is_empty() {
        let layout = cfg
            .spec()
            .map(|s| expected_layout(s, cfg, None))
            .unwrap_or_default();
        let map = shape_map(layout.into_iter().map(|t| (t.name, t.dims)));
        (TensorSource::Expected, map)
    } else {
        (TensorSource::File, file_shapes(gguf))
    }
}

fn file_shapes(gguf: &Gguf<'_>) -> BTreeMap<String, Option<Vec<u64>>> {
    shape_map(
        gguf.tensors()
            .iter()
            .map(|t| (t.name().to_string(), Some(t.dims().to_vec()))),
    )
}

/// Tensor names as comparisons list them: per-layer names once, as `blk.*.…`, with the shape
/// of the first layer that has them (hybrid and MoE models do not have every tensor in layer
/// 0: a recurrent first layer, dense leading blocks); globals as they are.
fn shape_map(
    tensors: impl Iterator<Item = (String, Option<Vec<u64>>)>,
) -> BTreeMap<String, Option<Vec<u64>>> {
    let mut map = BTreeMap::new();
    for (name, dims) in tensors {
        let key = match name.strip_prefix("blk.").and_then(|r| r.split_once('.')) {
            Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => format!("blk.*.{rest}"),
            _ => name,
        };
        map.entry(key).or_insert(dims);
    }
    map
}

/// The comparison of two sides' rows and tensor maps.
fn comparison(
    architectures: (String, String),
    rows: Vec<Row>,
    (src_a, ta): (TensorSource, BTreeMap<String, Option<Vec<u64>>>),
    (src_b, tb): (TensorSource, BTreeMap<String, Option<Vec<u64>>>),
) -> Comparison {
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
        architectures,
        rows,
        tensor_sources: (src_a, src_b),
        tensors,
    };
    for r in cmp.differences() {
        tracing::info!(target: "ggufscope::compare", field = r.field, a = %r.a, b = %r.b, "differs");
    }
    cmp
}

/// Compares two models.
pub fn compare(a: (&Gguf<'_>, &ModelConfig), b: (&Gguf<'_>, &ModelConfig)) -> Comparison {
    comparison(
        (a.1.architecture.clone(), b.1.architecture.clone()),
        rows(a.1, b.1),
        tensor_shapes(a.0, a.1),
        tensor_shapes(b.0, b.1),
    )
}

/// One side of a comparison read by the architecture table: any architecture it holds.
#[derive(Debug, Clone, Copy)]
pub struct FactsSide<'s, 'g, 'a> {
    /// The parsed file.
    pub gguf: &'g Gguf<'a>,
    /// What the table read.
    pub facts: &'s crate::facts::ArchFacts,
    /// The table's run (its tensor requests give a vocab-only file's layout).
    pub loaded: &'s crate::table::Loaded,
}

/// Compares two models of any architectures the table holds: the configuration as llama.cpp
/// reads it (per-layer values shown as llama.cpp prints them), experts, recurrent layers, sizes,
/// and the tensor names and shapes (a vocab-only side: the layout llama.cpp requires).
pub fn compare_facts(a: FactsSide<'_, '_, '_>, b: FactsSide<'_, '_, '_>) -> Comparison {
    comparison(
        (a.facts.architecture.clone(), b.facts.architecture.clone()),
        facts_rows(a.facts, b.facts),
        facts_tensor_shapes(a),
        facts_tensor_shapes(b),
    )
}

/// MHA, GQA or MQA of layer 0's heads, or `none` (no attention: a recurrent layer).
fn attention_kind_of(heads: i64, kv: i64) -> &'static str {
    if heads <= 0 || kv <= 0 {
        "none"
    } else if heads == kv {
        "MHA"
    } else if kv == 1 {
        "MQA"
    } else {
        "GQA"
    }
}

fn facts_rows(a: &crate::facts::ArchFacts, b: &crate::facts::ArchFacts) -> Vec<Row> {
    use crate::facts::ArchFacts as F;
    let mut out = Vec::new();
    let first_attention = |f: &F| {
        f.layers
            .iter()
            .find(|l| l.kind == "attention")
            .map_or((0, 0), |l| (l.head_count, l.head_count_kv))
    };
    type Getter = fn(&F) -> Field;
    let rows: [(&'static str, &'static str, Getter); 20] = [
        ("config", "architecture", |f| f.architecture.clone().into()),
        ("config", "context_length", |f| {
            Field::Int(u64::try_from(f.context_length).unwrap_or(0))
        }),
        ("config", "embedding_length", |f| {
            Field::Int(u64::try_from(f.embedding_length).unwrap_or(0))
        }),
        ("config", "block_count", |f| {
            Field::Int(u64::try_from(f.block_count).unwrap_or(0))
        }),
        ("config", "feed_forward_length", |f| {
            if f.feed_forward_length.is_uniform() {
                Field::Int(u64::try_from(f.feed_forward_length.first()).unwrap_or(0))
            } else {
                Field::Text(f.feed_forward_length.to_string())
            }
        }),
        ("config", "sliding_window", |f| {
            f.sliding_window
                .map_or(Field::None, |w| Field::Int(u64::try_from(w).unwrap_or(0)))
        }),
        ("config", "recurrent_layers", |f| {
            Field::Int(f.recurrent_layers.len() as u64)
        }),
        ("attention", "attention_head_count", |f| {
            if f.head_count.is_uniform() {
                Field::Int(u64::try_from(f.head_count.first()).unwrap_or(0))
            } else {
                Field::Text(f.head_count.to_string())
            }
        }),
        ("attention", "attention_head_count_kv", |f| {
            if f.head_count_kv.is_uniform() {
                Field::Int(u64::try_from(f.head_count_kv.first()).unwrap_or(0))
            } else {
                Field::Text(f.head_count_kv.to_string())
            }
        }),
        ("attention", "head_dim", |f| {
            Field::Int(u64::try_from(f.head_dim).unwrap_or(0))
        }),
        ("attention", "attention_kind", |_| Field::None),
        ("attention", "kv_lora_rank", |f| {
            Field::Int(u64::try_from(f.kv_lora_rank).unwrap_or(0))
        }),
        ("rope", "rope_type", |f| {
            f.rope_type.map(str::to_owned).into()
        }),
        ("rope", "rope_dimension_count", |f| {
            Field::Int(u64::try_from(f.rope_dimension_count).unwrap_or(0))
        }),
        ("rope", "rope_freq_base", |f| Field::Float(f.rope_freq_base)),
        ("experts", "expert_count", |f| {
            Field::Int(u64::try_from(f.expert_count).unwrap_or(0))
        }),
        ("experts", "expert_used_count", |f| {
            Field::Int(u64::try_from(f.expert_used_count).unwrap_or(0))
        }),
        ("size", "parameter_count", |f| f.parameter_count.into()),
        ("size", "active_parameter_count", |f| {
            f.active_parameter_count.into()
        }),
        ("size", "kv_bytes_per_token", |f| {
            f.kv_bytes_per_token.into()
        }),
    ];
    for (section, field, get) in rows {
        let (x, y) = if field == "attention_kind" {
            let (ha, ka) = first_attention(a);
            let (hb, kb) = first_attention(b);
            (
                Field::from(attention_kind_of(ha, ka)),
                Field::from(attention_kind_of(hb, kb)),
            )
        } else {
            (get(a), get(b))
        };
        let same = x == y;
        out.push(Row {
            section,
            field,
            a: x,
            b: y,
            same,
        });
    }
    out
}

/// Tensor name (per-layer as `blk.*.…`) → shape: the file's, or for a vocab-only file the
/// tensors llama.cpp's loader requires.
fn facts_tensor_shapes(
    s: FactsSide<'_, '_, '_>,
) -> (TensorSource, BTreeMap<String, Option<Vec<u64>>>) {
    if s.gguf.tensors().is_empty() {
        let required = s
            .loaded
            .tensors
            .iter()
            .filter(|r| r.created && r.flags & 2 == 0)
            .map(|r| {
                let dims = r
                    .shape
                    .iter()
                    .map(|&d| u64::try_from(d).ok())
                    .collect::<Option<Vec<u64>>>();
                (r.name.clone(), dims)
            });
        (TensorSource::Required, shape_map(required))
    } else {
        (TensorSource::File, file_shapes(s.gguf))
    }
}
