//! The analysis report (`ggufscope report`): one serde structure holding everything the
//! markdown shows, so that `report --json` and the markdown cannot disagree. Built here, rendered
//! in [`crate::report::markdown`].

use ggufscope_gguf::Gguf;
use ggufscope_model::keys::Hparam;
use ggufscope_model::story::{seed_claims, ClaimCheck};
use ggufscope_model::{ModelConfig, TensorSource};
use serde::Serialize;

use crate::render;
use crate::report::compare::{CompareReport, Side};
use crate::report::config::{ratio, ConfigReport};
use crate::report::expected;
use crate::report::findings::{self, Finding};
use crate::report::llama_layout::LlamaLayout;
use crate::report::tensor_table::TensorTable;
use crate::report::validate::{model_findings, schema_findings};
use crate::report::vocab::TokenizerReport;

/// `general.description`. TODO(model): move to `ggufscope_model::keys`, the home of key
/// strings (that crate is being edited elsewhere).
pub const GENERAL_DESCRIPTION: &str = "general.description";

/// A file the report read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// File name (no directories).
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// Tensors in the file.
    pub tensor_count: u64,
    /// `general.description`, when the file has one (files ggufscope builds say how).
    pub description: Option<String>,
}

/// A derived fact and how it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// What.
    pub fact: &'static str,
    /// Its value.
    pub value: String,
    /// Where it comes from.
    pub how: String,
}

/// The attention of the model, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attention {
    /// `MHA`, `GQA` or `MQA`.
    pub kind: &'static str,
    /// Query heads.
    pub heads: u64,
    /// KV heads.
    pub kv_heads: u64,
    /// Query heads per KV head.
    pub group: u64,
    /// Head dimension.
    pub head_dim: u64,
    /// What that means, in sentences.
    pub explanation: Vec<String>,
}

/// A model the report reads: its file name, size, parsed file, format findings and
/// configuration.
pub struct Model<'g, 'a> {
    /// File name.
    pub file: String,
    /// Size in bytes (a split set: of every shard).
    pub bytes: u64,
    /// The format findings of the files it was read from.
    pub format_findings: Vec<Finding>,
    /// The parsed file.
    pub gguf: &'g Gguf<'a>,
    /// Its configuration.
    pub config: ModelConfig,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisReport {
    /// The analysed file's name.
    pub file: String,
    /// The command line that produced the report (file names only).
    pub command: String,
    /// `ggufscope <version>`.
    pub tool: String,
    /// Every file read (the analysed one first).
    pub inputs: Vec<InputFile>,
    /// A few sentences (markdown) generated from the data below.
    pub summary: Vec<String>,
    /// The configuration, its defaults and the story's typed view.
    pub config: ConfigReport,
    /// Derived facts.
    pub derived: Vec<Fact>,
    /// The attention, explained.
    pub attention: Attention,
    /// How the layout differs from a plain Llama one.
    pub llama_layout: LlamaLayout,
    /// What a loader must do to run it as `llama` (the `compat` plan).
    pub llama_adapter: ggufscope_model::AdapterPlan,
    /// The tensors: the file's, or the expected layout for a vocab-only file (`source` says).
    pub tensors: TensorTable,
    /// Format and schema findings.
    pub findings: Vec<Finding>,
    /// The comparison, with `--compare`.
    pub comparison: Option<CompareReport>,
    /// The story's assumptions checked against the file.
    pub assumptions: Vec<ClaimCheck>,
    /// The vocabulary as llama.cpp loads it and the chat templates' capabilities.
    pub tokenizer: TokenizerReport,
}

fn input_file(m: &Model<'_, '_>) -> InputFile {
    let md = m.gguf.metadata();
    InputFile {
        file: m.file.clone(),
        bytes: m.bytes,
        architecture: m.config.architecture.clone(),
        name: m.config.name.clone(),
        tensor_count: m.gguf.tensors().len() as u64,
        description: md
            .get_str(GENERAL_DESCRIPTION)
            .ok()
            .flatten()
            .map(str::to_owned),
    }
}

impl AnalysisReport {
    /// Analyses `model`, compared with `other` when given.
    pub fn new(command: String, model: Model<'_, '_>, other: Option<Model<'_, '_>>) -> Self {
        let gguf = model.gguf;
        let cfg = &model.config;
        let expected_layout = cfg
            .spec()
            .map(|spec| expected::layout(spec, gguf, cfg).1)
            .unwrap_or_default();
        let tensors = TensorTable::new(gguf, &expected_layout);
        let llama_layout = LlamaLayout::new(cfg, &tensors);
        let llama_adapter = ggufscope_model::plan_for(gguf, cfg);
        // The file is read once by the architecture table: configuration facts and schema
        // findings come from the same run.
        let table_model = ggufscope_model::Model::new(gguf).ok();
        let mut all_findings = model.format_findings.clone();
        // The format findings are capped by the format layer; the schema ones here.
        all_findings.extend(findings::cap_repeated(match &table_model {
            Some(m) if m.in_table() => model_findings(m),
            _ => schema_findings(gguf),
        }));
        let tokenizer = TokenizerReport::of(gguf);
        all_findings.extend(tokenizer.findings());
        let comparison = other.as_ref().map(|o| {
            CompareReport::new(
                (model.file.clone(), gguf, cfg),
                (o.file.clone(), o.gguf, &o.config),
            )
        });
        let mut inputs = vec![input_file(&model)];
        inputs.extend(other.as_ref().map(input_file));
        let assumptions = seed_claims(gguf, cfg);
        let attention = attention(cfg);
        let derived = derived(gguf, cfg, &tensors);
        let config = ConfigReport::with_facts(
            gguf,
            model.config.clone(),
            table_model.map(|m| m.facts().clone()),
        );
        let mut report = Self {
            file: model.file,
            command,
            tool: format!("ggufscope {}", env!("CARGO_PKG_VERSION")),
            inputs,
            summary: Vec::new(),
            config,
            derived,
            attention,
            llama_layout,
            llama_adapter,
            tensors,
            findings: all_findings,
            comparison,
            assumptions,
            tokenizer,
        };
        report.summary = report.summarise();
        report
    }

    fn summarise(&self) -> Vec<String> {
        let c = &self.config.config;
        let t = &self.tensors;
        let mut out = Vec::new();
        let name = c
            .name
            .as_ref()
            .map(|n| format!(" (\"{n}\")"))
            .unwrap_or_default();
        out.push(format!(
            "`{}` is a `{}` model{name}: {} layers, embedding width {}, FFN width {}, context {}, vocabulary {} tokens.",
            self.file,
            c.architecture,
            c.block_count,
            c.embedding_length,
            c.feed_forward_length,
            c.context_length,
            render::count_opt(c.vocab_size),
        ));
        let params = t.parameter_count.map_or_else(
            || "an unknown number of parameters".to_owned(),
            |p| {
                format!(
                    "{} parameters ({})",
                    render::grouped(p),
                    render::approx_count(p)
                )
            },
        );
        out.push(match t.source {
            TensorSource::Expected | TensorSource::Required => format!(
                "It is a vocab-only file (metadata and tokenizer, no tensors): the tensor table is the layout `{}` requires for this configuration, {} tensors and {params}.",
                c.architecture, t.tensor_count
            ),
            TensorSource::File => format!("It has {} tensors and {params}.", t.tensor_count),
        });
        let a = &self.attention;
        out.push(format!(
            "Attention is {}: {} query heads, {} KV heads (group {}), head_dim {}; RoPE is {} over {} dimensions, base {}.",
            a.kind,
            a.heads,
            a.kv_heads,
            a.group,
            a.head_dim,
            c.rope_type.as_str().to_uppercase(),
            c.rope_dimension_count,
            c.rope_freq_base,
        ));
        out.push(self.llama_layout.sentence(c));
        out.push(format!(
            "Through an adapter (`ggufscope compat`): **{}**{}.",
            self.llama_adapter.verdict.as_str(),
            match self.llama_adapter.verdict {
                ggufscope_model::Verdict::CompatibleWithAdapter => format!(
                    ", in {} steps of renames, row slices and row permutations (no requantization); see Llama compatibility",
                    self.llama_adapter.steps.len()
                ),
                _ => String::new(),
            }
        ));
        let (errors, warnings, _) = findings::counts(&self.findings);
        out.push(if errors == 0 && warnings == 0 {
            "Validation found no errors and no warnings.".to_owned()
        } else {
            format!(
                "Validation found {} and {} (see Schema findings).",
                render::plural(errors, "error"),
                render::plural(warnings, "warning")
            )
        });
        if let Some(cmp) = &self.comparison {
            let params = |s: &Side| {
                s.parameter_count
                    .map_or_else(|| "?".to_owned(), render::approx_count)
            };
            out.push(format!(
                "Compared with `{}` (`{}`): {} of {} configuration fields differ; among them {}; parameters {} vs {}.",
                cmp.b.file,
                cmp.b.architecture,
                cmp.differences,
                cmp.rows.len(),
                cmp.key_differences().join(", "),
                params(&cmp.a),
                params(&cmp.b),
            ));
        }
        if !self.assumptions.is_empty() {
            let holds = self.assumptions.iter().filter(|a| a.holds).count();
            let fails = self.assumptions.len() - holds;
            out.push(format!(
                "Of the story's {} assumptions about this model, {holds} {} and {fails} {}.",
                self.assumptions.len(),
                if holds == 1 { "holds" } else { "hold" },
                if fails == 1 { "does not" } else { "do not" },
            ));
        }
        out
    }
}

fn attention(c: &ModelConfig) -> Attention {
    let (h, kv, g, d) = (
        c.attention_head_count,
        c.attention_head_count_kv,
        c.gqa_group_size,
        c.head_dim,
    );
    let mut explanation = vec![match c.attention_kind.as_str() {
        "MHA" => format!(
            "Multi-head attention: each of the {h} query heads has its own K/V head. A GQA kernel runs it as group size 1."
        ),
        "MQA" => format!("Multi-query attention: all {h} query heads share one K/V head."),
        _ => format!(
            "Grouped-query attention: the {h} query heads share {kv} K/V heads, {g} query heads per K/V head."
        ),
    }];
    let per_layer = c.k_width.saturating_add(c.v_width);
    explanation.push(format!(
        "Q is {} wide ({d} x {h}); K and V are {} and {} wide ({d} x {kv}): the KV cache holds {} values per token per layer, {} per token over the {} layers.",
        d.saturating_mul(h),
        c.k_width,
        c.v_width,
        per_layer,
        render::grouped(per_layer.saturating_mul(c.block_count)),
        c.block_count,
    ));
    let odd: Vec<String> = [("head_dim", d), ("the group size", g)]
        .into_iter()
        .filter(|(_, v)| !v.is_power_of_two())
        .map(|(what, v)| format!("{what} {v}"))
        .collect();
    if !odd.is_empty() {
        explanation.push(format!(
            "Not a power of two: {}; kernels specialised for powers of two need a case for it.",
            odd.join(", ")
        ));
    }
    Attention {
        kind: c.attention_kind.as_str(),
        heads: h,
        kv_heads: kv,
        group: g,
        head_dim: d,
        explanation,
    }
}

fn derived(gguf: &Gguf<'_>, c: &ModelConfig, t: &TensorTable) -> Vec<Fact> {
    let has_key = |h: Hparam| gguf.metadata().get(&h.key(&c.architecture)).is_some();
    let fact = |fact, value: String, how: String| Fact { fact, value, how };
    let mut out = vec![
        fact(
            "head_dim",
            c.head_dim.to_string(),
            if c.head_dim_explicit {
                format!("{}.attention.key_length", c.architecture)
            } else {
                format!("embedding_length / attention_head_count = {} / {}", c.embedding_length, c.attention_head_count)
            },
        ),
        fact(
            "attention kind",
            format!("{} (group {})", c.attention_kind.as_str(), c.gqa_group_size),
            format!("attention_head_count / attention_head_count_kv = {} / {} = {}", c.attention_head_count, c.attention_head_count_kv, c.gqa_group_size),
        ),
        fact("K width, V width", format!("{}, {}", c.k_width, c.v_width), format!("head_dim x attention_head_count_kv = {} x {}", c.head_dim, c.attention_head_count_kv)),
        fact(
            "FFN ratio",
            ratio(c.feed_forward_length, c.embedding_length),
            format!("feed_forward_length / embedding_length = {} / {}", c.feed_forward_length, c.embedding_length),
        ),
        fact(
            "rope dimensions",
            c.rope_dimension_count.to_string(),
            if has_key(Hparam::RopeDimensionCount) {
                let whole = if c.rope_dimension_count == c.head_dim { "= head_dim: the whole head rotates" } else { "< head_dim: partial rotary" };
                format!("{}.rope.dimension_count ({whole})", c.architecture)
            } else {
                "key absent: llama.cpp's default, head_dim".to_owned()
            },
        ),
        fact(
            "rope base",
            c.rope_freq_base.to_string(),
            if c.rope_freq_base_defaulted { "key absent: llama.cpp's default".to_owned() } else { format!("{}.rope.freq_base", c.architecture) },
        ),
        fact(
            "vocabulary",
            render::count_opt(c.vocab_size),
            match c.tokenizer.token_count {
                Some(_) => "length of tokenizer.ggml.tokens (what llama.cpp sizes token_embd and output with)".to_owned(),
                None => format!("{}.vocab_size (no token list)", c.architecture),
            },
        ),
    ];
    if let Some(rows) = t
        .find("attn_qkv.weight")
        .and_then(|g| g.shape.as_ref()?.get(1).copied())
    {
        let q = c.head_dim.saturating_mul(c.attention_head_count);
        let qk = q.saturating_add(c.k_width);
        out.push(fact(
            "fused QKV rows",
            rows.to_string(),
            format!(
                "Q + K + V = {q} + {} + {}: rows [0, {q}) are Q, [{q}, {qk}) K, [{qk}, {}) V",
                c.k_width,
                c.v_width,
                qk.saturating_add(c.v_width)
            ),
        ));
    }
    let params = t
        .parameter_count
        .map_or_else(|| "?".to_owned(), render::grouped);
    out.push(fact(
        "parameters",
        params,
        match t.source {
            TensorSource::Expected | TensorSource::Required => {
                "sum of the expected layout's elements (vocab-only file)".to_owned()
            }
            TensorSource::File => "sum of the file's tensor elements".to_owned(),
        },
    ));
    out
}
