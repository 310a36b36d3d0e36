//! The `config` report: the typed configuration (its JSON is `ModelConfig`'s), which values are
//! llama.cpp's defaults, and the seed story's typed view when the architecture matches.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_model::keys::Hparam;
use ggufscope_model::story::{Phi3Config, QwenConfig};
use ggufscope_model::{ArchFacts, FileKind, ModelConfig};
use serde::Serialize;

use crate::render::{self, Paint};

/// The `config` report. Its JSON: `ModelConfig`'s keys, then the keys of the table's
/// [`ArchFacts`] that `ModelConfig` does not have (experts, MLA, SSM, `layers`…), then the fields
/// below.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigReport {
    /// The configuration.
    pub config: ModelConfig,
    /// What the architecture table reads from the file (llama.cpp's own loader code).
    pub facts: Option<ArchFacts>,
    /// Fields whose value is llama.cpp's default because the file has no key for it
    /// (`rope_freq_base`, `attention_head_count_kv`, `head_dim`…).
    pub defaulted: Vec<&'static str>,
    /// The story's `Phi3Config` view, for `phi3` files.
    pub phi3_config: Option<Phi3Config>,
    /// The story's `QwenConfig` view, for `qwen2` files.
    pub qwen_config: Option<QwenConfig>,
}

impl Serialize for ConfigReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// The `config` report of an architecture only the table knows (no story view, no
/// `ModelConfig`): [`ArchFacts`] as JSON, and a grouped table as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactsReport {
    /// The facts.
    #[serde(flatten)]
    pub facts: ArchFacts,
    /// `general.name`.
    pub name: Option<String>,
}

impl FactsReport {
    /// The report of a model read by the architecture table.
    pub fn of(model: &ggufscope_model::Model<'_, '_>) -> Self {
        Self {
            facts: model.facts().clone(),
            name: model
                .gguf()
                .metadata()
                .get_str("general.name")
                .ok()
                .flatten()
                .map(str::to_owned),
        }
    }

    /// The table of the text output.
    pub fn groups(&self) -> Vec<(&'static str, Vec<[String; 3]>)> {
        let f = &self.facts;
        let row = |a: &str, b: String, c: &str| [a.to_owned(), b, c.to_owned()];
        let n = |v: i64| v.to_string();
        let mut model = vec![
            row("architecture", f.architecture.clone(), ""),
            row(
                "name",
                self.name.clone().unwrap_or_else(|| "none".into()),
                "",
            ),
            row("file_kind", f.file_kind.as_str().into(), ""),
            row("context_length", n(f.context_length), ""),
            row("embedding_length", n(f.embedding_length), ""),
            row("block_count", n(f.block_count), "without MTP/NextN blocks"),
            row("feed_forward_length", f.feed_forward_length.to_string(), ""),
        ];
        if f.nextn_layer_count > 0 {
            model.push(row("nextn_layer_count", n(f.nextn_layer_count), ""));
        }
        let mut attention = vec![
            row("attention_head_count", f.head_count.to_string(), ""),
            row("attention_head_count_kv", f.head_count_kv.to_string(), ""),
            row("head_dim", n(f.head_dim), ""),
            row("head_dim_v", n(f.head_dim_v), ""),
            row(
                "sliding_window",
                f.sliding_window.map_or_else(|| "none".into(), n),
                "",
            ),
            row(
                "sliding_layers",
                format!("{} of {}", f.sliding_layers.len(), f.layers.len()),
                "",
            ),
            row(
                "recurrent_layers",
                format!("{} of {}", f.recurrent_layers.len(), f.layers.len()),
                "",
            ),
            row(
                "kv_bytes_per_token",
                f.kv_bytes_per_token
                    .map_or_else(|| "?".into(), render::grouped),
                "one more token in llama.cpp's caches (f16)",
            ),
        ];
        if f.kv_lora_rank > 0 {
            attention.push(row("kv_lora_rank", n(f.kv_lora_rank), "MLA"));
            attention.push(row("q_lora_rank", n(f.q_lora_rank), "MLA"));
        }
        let rope = vec![
            row(
                "rope_type",
                f.rope_type.unwrap_or("?").to_owned(),
                "llama_model_rope_type",
            ),
            row("rope_dimension_count", n(f.rope_dimension_count), ""),
            row("rope_freq_base", format!("{:?}", f.rope_freq_base), ""),
        ];
        let mut groups = vec![("model", model), ("attention", attention), ("rope", rope)];
        if f.expert_count > 0 {
            groups.push((
                "experts",
                vec![
                    row("expert_count", n(f.expert_count), ""),
                    row("expert_used_count", n(f.expert_used_count), ""),
                    row("expert_shared_count", n(f.expert_shared_count), ""),
                    row(
                        "expert_feed_forward_length",
                        n(f.expert_feed_forward_length),
                        "",
                    ),
                    row(
                        "leading_dense_block_count",
                        n(f.leading_dense_block_count),
                        "",
                    ),
                ],
            ));
        }
        if let Some(ssm) = &f.ssm {
            groups.push((
                "ssm",
                vec![
                    row("conv_kernel", n(ssm.conv_kernel), ""),
                    row("state_size", n(ssm.state_size), ""),
                    row("inner_size", n(ssm.inner_size), ""),
                    row("group_count", n(ssm.group_count), ""),
                    row("time_step_rank", n(ssm.time_step_rank), ""),
                ],
            ));
        }
        let params_note = if f.file_kind == FileKind::VocabOnly {
            "the layout the architecture requires (vocab-only file)"
        } else {
            "every tensor of the file"
        };
        groups.push((
            "size",
            vec![
                row("tensor_count", f.tensor_count.to_string(), ""),
                row(
                    "parameter_count",
                    f.parameter_count
                        .map_or_else(|| "?".into(), render::grouped),
                    params_note,
                ),
                row(
                    "active_parameter_count",
                    f.active_parameter_count
                        .map_or_else(|| "?".into(), render::grouped),
                    "per token",
                ),
            ],
        ));
        groups
    }

    /// Writes the report as an aligned table, grouped.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        render_groups(out, paint, &self.groups())?;
        let f = &self.facts;
        let varies = !f.head_count.is_uniform()
            || !f.head_count_kv.is_uniform()
            || !f.feed_forward_length.is_uniform()
            || !f.sliding_layers.is_empty()
            || !f.recurrent_layers.is_empty();
        if varies {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint.heading("layers (kind, heads / kv heads / ffn)")
            )?;
            for l in &f.layers {
                writeln!(
                    out,
                    "  {:>3}  {:<9}{:<8} {} / {} / {}{}",
                    l.index,
                    l.kind,
                    if l.sliding { " sliding" } else { "" },
                    l.head_count,
                    l.head_count_kv,
                    l.feed_forward_length,
                    if l.moe { "  moe" } else { "" }
                )?;
            }
        }
        Ok(())
    }
}

fn render_groups(
    out: &mut dyn Write,
    paint: Paint,
    groups: &[(&'static str, Vec<[String; 3]>)],
) -> io::Result<()> {
    let w = |i: usize| {
        groups
            .iter()
            .flat_map(|(_, rows)| rows.iter())
            .filter_map(|r| r.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (w(0), w(1));
    for (i, (group, rows)) in groups.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", paint.heading(group))?;
        for [field, value, note] in rows {
            let line = format!("  {field:<w0$}  {value:<w1$}  {note}");
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

/// The fields that take llama.cpp's default when their key is absent.
const DEFAULTABLE: [(&str, Hparam); 6] = [
    ("attention_head_count_kv", Hparam::HeadCountKv),
    ("head_dim", Hparam::KeyLength),
    ("head_dim_v", Hparam::ValueLength),
    ("rope_dimension_count", Hparam::RopeDimensionCount),
    ("rope_freq_base", Hparam::RopeFreqBase),
    (
        "rope_scaling.original_context_length",
        Hparam::RopeScalingOriginalContextLength,
    ),
];

impl ConfigReport {
    /// Builds the report of a file and its configuration (running the architecture table).
    pub fn new(gguf: &Gguf<'_>, config: ModelConfig) -> Self {
        let facts = ArchFacts::read(gguf, &config.architecture)
            .ok()
            .filter(|(_, l)| l.hparams_refusal.is_none())
            .map(|(f, _)| f);
        Self::with_facts(gguf, config, facts)
    }

    /// Builds the report from facts already read (a [`ggufscope_model::Model`]'s).
    pub fn with_facts(gguf: &Gguf<'_>, config: ModelConfig, facts: Option<ArchFacts>) -> Self {
        let md = gguf.metadata();
        let defaulted = DEFAULTABLE
            .iter()
            .filter(|(_, h)| md.get(&h.key(&config.architecture)).is_none())
            .map(|(field, _)| *field)
            .collect();
        Self {
            facts,
            phi3_config: Phi3Config::try_from(&config).ok(),
            qwen_config: QwenConfig::try_from(&config).ok(),
            defaulted,
            config,
        }
    }

    /// The JSON object: `ModelConfig`'s keys, the table's other keys, then `defaulted` and the
    /// story's views.
    pub fn to_json(&self) -> serde_json::Result<serde_json::Map<String, serde_json::Value>> {
        let mut map = match serde_json::to_value(&self.config)? {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        if let Some(f) = &self.facts {
            if let serde_json::Value::Object(extra) = serde_json::to_value(f)? {
                for (k, v) in extra {
                    map.entry(k).or_insert(v);
                }
            }
        }
        map.insert("defaulted".into(), serde_json::to_value(&self.defaulted)?);
        if let Some(v) = &self.phi3_config {
            map.insert("phi3_config".into(), serde_json::to_value(v)?);
        }
        if let Some(v) = &self.qwen_config {
            map.insert("qwen_config".into(), serde_json::to_value(v)?);
        }
        Ok(map)
    }

    /// Whether a field's value is llama.cpp's default.
    pub fn is_defaulted(&self, field: &str) -> bool {
        self.defaulted.contains(&field)
    }

    /// The table of the text output: (group, rows of field, value, note).
    pub fn groups(&self) -> Vec<(&'static str, Vec<[String; 3]>)> {
        let c = &self.config;
        let t = &c.tokenizer;
        let s = |v: &dyn ToString| v.to_string();
        let opt = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        let float = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| format!("{v:?}"));
        let default = |field: &str, otherwise: String| {
            if self.is_defaulted(field) {
                "key absent: llama.cpp's default".to_owned()
            } else {
                otherwise
            }
        };
        let head_dim_note = if c.head_dim_explicit {
            "from attention.key_length".to_owned()
        } else {
            format!(
                "embedding_length / attention_head_count = {} / {}",
                c.embedding_length, c.attention_head_count
            )
        };
        let ffn_ratio = ratio(c.feed_forward_length, c.embedding_length);
        let vocab_note = match t.token_count {
            Some(_) => "length of tokenizer.ggml.tokens",
            None => "from {arch}.vocab_size (no token list)",
        };
        let vocab_only = c.tensor_count == 0;
        let unknowable = |v: String| {
            if vocab_only {
                "unknown: vocab-only file".to_owned()
            } else {
                v
            }
        };
        let row = |f: &str, v: String, n: String| [f.to_owned(), v, n];
        vec![
            (
                "model",
                vec![
                    row("architecture", c.architecture.clone(), String::new()),
                    row("name", text(&c.name), String::new()),
                    row("context_length", s(&c.context_length), String::new()),
                    row("embedding_length", s(&c.embedding_length), String::new()),
                    row("block_count", s(&c.block_count), String::new()),
                    row(
                        "feed_forward_length",
                        s(&c.feed_forward_length),
                        format!("{ffn_ratio} x embedding_length"),
                    ),
                    row(
                        "rms_norm_eps",
                        format!("{:?}", c.rms_norm_eps),
                        String::new(),
                    ),
                    row("sliding_window", opt(c.sliding_window), String::new()),
                ],
            ),
            (
                "attention",
                vec![
                    row(
                        "attention_head_count",
                        s(&c.attention_head_count),
                        String::new(),
                    ),
                    row(
                        "attention_head_count_kv",
                        s(&c.attention_head_count_kv),
                        default("attention_head_count_kv", String::new()),
                    ),
                    row("head_dim", s(&c.head_dim), head_dim_note),
                    row("head_dim_v", s(&c.head_dim_v), String::new()),
                    row(
                        "attention_kind",
                        c.attention_kind.to_string(),
                        String::new(),
                    ),
                    row(
                        "gqa_group_size",
                        s(&c.gqa_group_size),
                        "query heads per KV head".to_owned(),
                    ),
                    row(
                        "k_width",
                        s(&c.k_width),
                        "head_dim x attention_head_count_kv".to_owned(),
                    ),
                    row(
                        "v_width",
                        s(&c.v_width),
                        "head_dim_v x attention_head_count_kv".to_owned(),
                    ),
                ],
            ),
            (
                "rope",
                vec![
                    row(
                        "rope_type",
                        c.rope_type.as_str().to_owned(),
                        format!("from the architecture ({})", c.architecture),
                    ),
                    row(
                        "rope_dimension_count",
                        s(&c.rope_dimension_count),
                        default("rope_dimension_count", String::new()),
                    ),
                    row(
                        "rope_freq_base",
                        format!("{:?}", c.rope_freq_base),
                        default("rope_freq_base", String::new()),
                    ),
                    row(
                        "rope_scaling.type",
                        text(&c.rope_scaling.scaling_type),
                        String::new(),
                    ),
                    row(
                        "rope_scaling.factor",
                        float(c.rope_scaling.factor),
                        String::new(),
                    ),
                    row(
                        "rope_scaling.original_context_length",
                        s(&c.rope_scaling.original_context_length),
                        default("rope_scaling.original_context_length", String::new()),
                    ),
                    row(
                        "rope_scaling.attn_factor",
                        float(c.rope_scaling.attn_factor),
                        String::new(),
                    ),
                ],
            ),
            (
                "tokenizer",
                vec![
                    row("vocab_size", opt(c.vocab_size), vocab_note.to_owned()),
                    row("tokenizer.model", text(&t.model), String::new()),
                    row("tokenizer.pre", text(&t.pre), String::new()),
                    row("tokenizer.merge_count", opt(t.merge_count), String::new()),
                    row("tokenizer.bos_token_id", opt(t.bos_token_id), String::new()),
                    row("tokenizer.eos_token_id", opt(t.eos_token_id), String::new()),
                    row(
                        "tokenizer.padding_token_id",
                        opt(t.padding_token_id),
                        String::new(),
                    ),
                    row(
                        "tokenizer.has_chat_template",
                        s(&t.has_chat_template),
                        String::new(),
                    ),
                ],
            ),
            (
                "size",
                vec![
                    row("tensor_count", s(&c.tensor_count), String::new()),
                    row(
                        "tied_embeddings",
                        unknowable(
                            c.tied_embeddings
                                .map_or_else(String::new, |b| b.to_string()),
                        ),
                        String::new(),
                    ),
                    row(
                        "parameter_count",
                        unknowable(
                            c.parameter_count
                                .map_or_else(|| "?".to_owned(), render::grouped),
                        ),
                        String::new(),
                    ),
                ],
            ),
        ]
    }

    /// Writes the report as an aligned table, grouped.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        let groups = self.groups();
        // One width for every group, so that the columns line up across groups.
        let all: Vec<Vec<String>> = groups
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| r.to_vec()))
            .collect();
        let widths: Vec<usize> = (0..2)
            .map(|i| {
                all.iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let [w0, w1] = [
            widths.first().copied().unwrap_or(0),
            widths.get(1).copied().unwrap_or(0),
        ];
        for (i, (group, rows)) in groups.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "{}", paint.heading(group))?;
            for [field, value, note] in rows {
                let line = format!("  {field:<w0$}  {value:<w1$}  {note}");
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        if let Some(layers) = &self.config.per_layer {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint.heading("per layer (heads / kv heads / ffn)")
            )?;
            for (il, l) in layers.iter().enumerate() {
                writeln!(
                    out,
                    "  {il:>3}  {} / {} / {}",
                    l.head_count, l.head_count_kv, l.feed_forward_length
                )?;
            }
        }
        Ok(())
    }
}

/// `a / b` with two decimals (`2.67`), or `?` when `b` is 0.
pub fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        return "?".to_owned();
    }
    #[allow(clippy::cast_precision_loss)] // a ratio for people
    let r = a as f64 / b as f64;
    format!("{r:.2}")
}
