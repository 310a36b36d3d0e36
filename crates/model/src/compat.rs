//! Llama compatibility: a verdict and an [`AdapterPlan`] — the concrete steps that turn a
//! `phi3` or `qwen2` file into the `llama` layout, computed from the configuration.
//!
//! Every step is a metadata rename, a row slice or a row permutation: each GGUF row (`ne0`
//! elements) is quantized on its own, so no step needs requantization
//! (`shared/docs/ground-truth.md` §0, §4).

use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use ggufscope_gguf::Gguf;
use serde::Serialize;

use crate::arch::RopeType;
use crate::config::{spec_of, ModelConfig};
use crate::error::ArchError;
use crate::keys::Hparam;
use crate::table::{self, TensorMode, TensorRequest};

/// Whether a Llama-style pipeline can run the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// As the file stands.
    Compatible,
    /// After the plan's steps.
    CompatibleWithAdapter,
    /// Not by renaming, slicing and permuting: see the blockers.
    Incompatible,
}

impl Verdict {
    /// `compatible`, `compatible_with_adapter` or `incompatible`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::CompatibleWithAdapter => "compatible_with_adapter",
            Verdict::Incompatible => "incompatible",
        }
    }
}

/// One output tensor cut from a source tensor's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowSlice {
    /// Output name (per-layer names after `blk.N.`).
    pub into: String,
    /// Source rows (along `ne1`).
    pub rows: Range<u64>,
}

/// A concrete step of the adapter. Per-layer steps name the part after `blk.N.` and apply to
/// every layer `0..layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AdapterStep {
    /// Set `general.architecture`.
    SetArchitecture {
        /// Old value.
        from: String,
        /// New value.
        to: String,
    },
    /// Rename every `{from}.*` key to `{to}.*`, keeping values.
    RenameKeys {
        /// Old prefix (`phi3`).
        from: String,
        /// New prefix (`llama`).
        to: String,
        /// The keys renamed, old names.
        keys: Vec<String>,
    },
    /// Drop keys the target ignores.
    DropKeys {
        /// The keys.
        keys: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Split a fused tensor by rows.
    SplitRows {
        /// The fused tensor (after `blk.N.`).
        tensor: String,
        /// Layers it applies to.
        layers: u64,
        /// The slices, in row order.
        into: Vec<RowSlice>,
        /// What the split means.
        reason: String,
    },
    /// Reorder rows inside each head from NEOX (rotate-half) to NORM (adjacent pairs) rope
    /// order: `new[h·d + 2i + j] = old[h·d + j·d/2 + i]`.
    PermuteRows {
        /// Tensors permuted (after `blk.N.`), weights and biases.
        tensors: Vec<String>,
        /// Layers.
        layers: u64,
        /// Heads in these tensors.
        heads: u64,
        /// Rows per head.
        head_dim: u64,
    },
    /// Carry tensors unchanged that the target loads as optional (biases).
    CarryTensors {
        /// Tensors (after `blk.N.`).
        tensors: Vec<String>,
        /// Why it matters.
        reason: String,
    },
    /// The output projection: present (kept) or tied (the target falls back to `token_embd`).
    Output {
        /// Whether the file has no `output.weight`; `None` for a vocab-only file.
        tied: Option<bool>,
    },
}

impl AdapterStep {
    /// One line describing the step.
    pub fn describe(&self) -> String {
        match self {
            AdapterStep::SetArchitecture { from, to } => format!("set general.architecture: {from} -> {to}"),
            AdapterStep::RenameKeys { from, to, keys } => format!("rename {} keys {from}.* -> {to}.*", keys.len()),
            AdapterStep::DropKeys { keys, reason } => format!("drop {}: {reason}", keys.join(", ")),
            AdapterStep::SplitRows { tensor, layers, into, reason } => {
                let parts: Vec<String> = into.iter().map(|s| format!("rows {}..{} -> blk.N.{}", s.rows.start, s.rows.end, s.into)).collect();
                format!("split blk.N.{tensor} (N = 0..{}) {} ({reason})", layers.saturating_sub(1), parts.join(", "))
            }
            AdapterStep::PermuteRows { tensors, layers, heads, head_dim } => format!(
                "permute rows of blk.N.{{{}}} (N = 0..{}) per head ({heads} heads x {head_dim} rows) from NEOX to NORM rope order",
                tensors.join(", "),
                layers.saturating_sub(1)
            ),
            AdapterStep::CarryTensors { tensors, reason } => format!("carry blk.N.{{{}}} unchanged ({reason})", tensors.join(", ")),
            AdapterStep::Output { tied: Some(true) } => "no output.weight: the llama loader uses token_embd (tied embeddings); keep it so".to_string(),
            AdapterStep::Output { tied: Some(false) } => "keep output.weight".to_string(),
            AdapterStep::Output { tied: None } => "keep output.weight if the model has one; without it the llama loader uses token_embd (tied)".to_string(),
        }
    }
}

/// Why a file cannot be adapted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "blocker", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Blocker {
    /// No spec for the architecture (or no `general.architecture`).
    UnknownArchitecture {
        /// The error.
        message: String,
    },
    /// The configuration cannot be read (missing keys, heads that do not divide…).
    InvalidConfig {
        /// The error.
        message: String,
    },
    /// `rope.dimension_count < head_dim`: llama refuses partial rotary (`invalid n_rot`).
    PartialRotary {
        /// Rotary dims.
        n_rot: u64,
        /// Head dim.
        head_dim: u64,
    },
    /// The graph computes something a Llama graph has no place for.
    GraphFeature {
        /// What.
        feature: String,
    },
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::UnknownArchitecture { message } | Blocker::InvalidConfig { message } => f.write_str(message),
            Blocker::PartialRotary { n_rot, head_dim } => write!(f, "partial rotary: rope.dimension_count {n_rot} < head_dim {head_dim}, which the llama loader refuses (invalid n_rot)"),
            Blocker::GraphFeature { feature } => write!(f, "{feature}"),
        }
    }
}

/// A Llama-compatibility verdict with the adapter that gets there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdapterPlan {
    /// Source architecture (when known).
    pub source: Option<String>,
    /// Target architecture (`llama`).
    pub target: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Steps, in the order a converter applies them.
    pub steps: Vec<AdapterStep>,
    /// Why the file cannot be adapted (empty unless incompatible).
    pub blockers: Vec<Blocker>,
    /// Behaviour that differs even after the adapter.
    pub remaining_differences: Vec<String>,
}

/// The plan for a file, to the `llama` target.
pub fn plan(gguf: &Gguf<'_>) -> AdapterPlan {
    let incompatible = |source: Option<String>, blocker| AdapterPlan {
        source,
        target: "llama".into(),
        verdict: Verdict::Incompatible,
        steps: Vec::new(),
        blockers: vec![blocker],
        remaining_differences: Vec::new(),
    };
    let source = gguf
        .metadata()
        .get_str(crate::keys::GENERAL_ARCHITECTURE)
        .ok()
        .flatten()
        .map(str::to_string);
    if let Err(e) = spec_of(gguf) {
        if let Some(arch) = source.as_deref().filter(|a| crate::table::table().holds(a)) {
            return table_only_plan(gguf, arch);
        }
        return incompatible(
            source,
            Blocker::UnknownArchitecture {
                message: e.to_string(),
            },
        );
    }
    match ModelConfig::from_gguf(gguf) {
        Ok(cfg) => plan_for(gguf, &cfg),
        Err(e @ ArchError::Unsupported { .. }) => incompatible(
            source,
            Blocker::UnknownArchitecture {
                message: e.to_string(),
            },
        ),
        Err(e) => incompatible(
            source,
            Blocker::InvalidConfig {
                message: e.to_string(),
            },
        ),
    }
}

/// An architecture only the table knows: llama.cpp runs its own graph for it, so no adapter
/// is promised; the blockers say what that graph has that a Llama graph has not, from the
/// facts the table reads.
fn table_only_plan(gguf: &Gguf<'_>, arch: &str) -> AdapterPlan {
    let mut blockers = Vec::new();
    match crate::facts::ArchFacts::read(gguf, arch) {
        Ok((f, l)) => {
            if let Some(r) = &l.hparams_refusal {
                blockers.push(Blocker::InvalidConfig {
                    message: format!("llama.cpp refuses the file: {} ({})", r.message, r.source),
                });
            }
            blockers.push(Blocker::GraphFeature {
                feature: format!(
                    "llama.cpp builds `{arch}` with its own graph ({}), not llama's: no adapter is known",
                    l.source.replace("src/models/", "llama.cpp src/models/")
                ),
            });
            if l.hparams.int("causal_attn") == Some(0) {
                blockers.push(Blocker::GraphFeature {
                    feature: "bidirectional attention (an encoder, `causal_attn` false): a Llama graph attends causally".into(),
                });
            }
            if !f.recurrent_layers.is_empty() {
                blockers.push(Blocker::GraphFeature {
                    feature: format!(
                        "{} of {} layers are recurrent (state-space, linear attention or convolution): a Llama graph has attention in every layer",
                        f.recurrent_layers.len(),
                        f.layers.len()
                    ),
                });
            }
            if f.expert_count > 0 {
                blockers.push(Blocker::GraphFeature {
                    feature: format!(
                        "mixture of experts: {} experts, {} used per token{}",
                        f.expert_count,
                        f.expert_used_count,
                        if f.expert_shared_count > 0 {
                            format!(", {} shared", f.expert_shared_count)
                        } else {
                            String::new()
                        }
                    ),
                });
            }
            if f.kv_lora_rank > 0 {
                blockers.push(Blocker::GraphFeature {
                    feature: format!(
                        "multi-head latent attention (kv_lora_rank {}): K and V are decompressed from a latent, Llama projects them directly",
                        f.kv_lora_rank
                    ),
                });
            }
            if !f.sliding_layers.is_empty() {
                blockers.push(Blocker::GraphFeature {
                    feature: format!(
                        "{} of {} layers use a sliding window of {} tokens",
                        f.sliding_layers.len(),
                        f.layers.len(),
                        f.sliding_window.unwrap_or(0)
                    ),
                });
            }
        }
        Err(e) => blockers.push(Blocker::UnknownArchitecture {
            message: e.to_string(),
        }),
    }
    AdapterPlan {
        source: Some(arch.to_string()),
        target: "llama".into(),
        verdict: Verdict::Incompatible,
        steps: Vec::new(),
        blockers,
        remaining_differences: Vec::new(),
    }
}

/// The plan for a configuration read from `gguf` (whose tensors tell the Q/K/V layout and
/// whether the output is tied; a vocab-only file gets the plan of the layout converters write).
pub fn plan_for(gguf: &Gguf<'_>, cfg: &ModelConfig) -> AdapterPlan {
    let arch = cfg.architecture.clone();
    let mut p = AdapterPlan {
        source: Some(arch.clone()),
        target: "llama".into(),
        verdict: Verdict::Compatible,
        steps: Vec::new(),
        blockers: Vec::new(),
        remaining_differences: Vec::new(),
    };
    // What llama.cpp's loader creates for this file (for a vocab-only file, the layout its
    // configuration requires), run by the architecture table.
    let mode = if gguf.tensors().is_empty() {
        TensorMode::Required
    } else {
        TensorMode::File
    };
    let run = table::load(gguf, &arch, mode).ok();
    let requests: &[TensorRequest] = run.as_ref().map_or(&[], |l| &l.tensors);
    p.blockers.extend(foreign_tensors(requests));
    if let Some(l) = &run {
        let sliding = l.layers.iter().filter(|x| x.is_swa).count();
        if sliding > 0 {
            p.blockers.push(Blocker::GraphFeature {
                feature: format!(
                    "{sliding} of {} layers use a sliding window of {} tokens: a Llama graph attends to the whole context",
                    l.layers.len(),
                    l.hparams.int("n_swa").unwrap_or(0)
                ),
            });
        }
    }
    if cfg.rope_dimension_count < cfg.head_dim {
        p.blockers.push(Blocker::PartialRotary {
            n_rot: cfg.rope_dimension_count,
            head_dim: cfg.head_dim,
        });
    }
    if !p.blockers.is_empty() {
        p.verdict = Verdict::Incompatible;
        return p;
    }
    if arch == "llama" {
        return p;
    }
    p.verdict = Verdict::CompatibleWithAdapter;
    p.steps.push(AdapterStep::SetArchitecture {
        from: arch.clone(),
        to: "llama".into(),
    });

    let prefix = format!("{arch}.");
    let drop: Vec<String> = [Hparam::SlidingWindow]
        .iter()
        .map(|h| h.key(&arch))
        .filter(|k| gguf.metadata().get(k).is_some())
        .collect();
    let renamed: Vec<String> = gguf
        .metadata()
        .iter()
        .map(|kv| kv.key().to_string())
        .filter(|k| k.starts_with(&prefix) && !drop.contains(k))
        .collect();
    p.steps.push(AdapterStep::RenameKeys {
        from: arch.clone(),
        to: "llama".into(),
        keys: renamed,
    });
    if !drop.is_empty() {
        p.steps.push(AdapterStep::DropKeys {
            keys: drop,
            reason: "the llama architecture has no sliding window".into(),
        });
    }
    if let Some(w) = cfg.sliding_window {
        p.remaining_differences.push(format!(
            "the model was trained with a sliding window of {w} tokens; a Llama pipeline attends to the whole context (as llama.cpp's phi3 path does today, PR 13676), so outputs are identical only up to {w} tokens"
        ));
    }
    let layers = cfg.block_count;
    let (q, k, v) = (
        cfg.head_dim.saturating_mul(cfg.attention_head_count),
        cfg.k_width,
        cfg.v_width,
    );
    let (qk, qkv) = (q.saturating_add(k), q.saturating_add(k).saturating_add(v));
    let request = |name: &str| requests.iter().find(|r| r.name == name);
    let created = |name: &str| request(name).is_some_and(|r| r.created);
    // A vocab-only file: fused when llama.cpp asks for `attn_qkv` and does not require the
    // split weights (phi3 makes them optional, `src/models/phi3.cpp:46`, as its converter
    // writes the fused tensor).
    let fused_qkv = match gguf.tensors().is_empty() {
        true => request("blk.0.attn_qkv.weight").is_some() && !created("blk.0.attn_q.weight"),
        false => gguf.tensor("blk.0.attn_qkv.weight").is_some(),
    };
    if fused_qkv {
        p.steps.push(AdapterStep::SplitRows {
            tensor: "attn_qkv.weight".into(),
            layers,
            into: vec![
                RowSlice {
                    into: "attn_q.weight".into(),
                    rows: 0..q,
                },
                RowSlice {
                    into: "attn_k.weight".into(),
                    rows: q..qk,
                },
                RowSlice {
                    into: "attn_v.weight".into(),
                    rows: qk..qkv,
                },
            ],
            reason: "rows Q, then K, then V (llama.cpp src/llama-graph.cpp:1681-1688)".into(),
        });
    }
    let has_layer_tensor = |n: &str| gguf.tensor(&format!("blk.0.{n}")).is_some();
    let fused_bias = has_layer_tensor("attn_qkv.bias");
    if fused_qkv && fused_bias {
        p.steps.push(AdapterStep::SplitRows {
            tensor: "attn_qkv.bias".into(),
            layers,
            into: vec![
                RowSlice {
                    into: "attn_q.bias".into(),
                    rows: 0..q,
                },
                RowSlice {
                    into: "attn_k.bias".into(),
                    rows: q..qk,
                },
                RowSlice {
                    into: "attn_v.bias".into(),
                    rows: qk..qkv,
                },
            ],
            reason: "the fused bias follows its weight's rows".into(),
        });
    }
    // A fused gate‖up: llama.cpp asks for `ffn_up` with 2·n_ff rows and no `ffn_gate`
    // (phi3, `src/models/phi3.cpp:52`).
    let ff = cfg.feed_forward_length;
    let fused_gate_up = !created("blk.0.ffn_gate.weight")
        && request("blk.0.ffn_up.weight").and_then(|r| r.shape.get(1).copied())
            == i64::try_from(ff.saturating_mul(2)).ok();
    if fused_gate_up {
        p.steps.push(AdapterStep::SplitRows {
            tensor: "ffn_up.weight".into(),
            layers,
            into: vec![
                RowSlice { into: "ffn_gate.weight".into(), rows: 0..ff },
                RowSlice { into: "ffn_up.weight".into(), rows: ff..ff.saturating_mul(2) },
            ],
            reason: "first half is the gate (SiLU input), second half is up (ggml_swiglu, ggml-cpu/ops.cpp:3372-3375)".into(),
        });
    }
    // Q/K/V biases: in the file (split or fused), or, for a vocab-only file, where converters
    // of this architecture write them.
    let has_biases = fused_bias
        || has_layer_tensor("attn_q.bias")
        || (gguf.tensors().is_empty() && cfg.spec().is_some_and(|s| s.qkv.typical_bias));
    let biases: Vec<String> = if has_biases {
        ["attn_q.bias", "attn_k.bias", "attn_v.bias"]
            .into_iter()
            .filter(|b| fused_bias || gguf.tensors().is_empty() || has_layer_tensor(b))
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    if cfg.rope_type == RopeType::Neox {
        let bias = |n: &str| biases.iter().any(|b| b == n);
        let mut q_tensors = vec!["attn_q.weight".to_string()];
        let mut k_tensors = vec!["attn_k.weight".to_string()];
        if bias("attn_q.bias") {
            q_tensors.push("attn_q.bias".into());
        }
        if bias("attn_k.bias") {
            k_tensors.push("attn_k.bias".into());
        }
        p.steps.push(AdapterStep::PermuteRows {
            tensors: q_tensors,
            layers,
            heads: cfg.attention_head_count,
            head_dim: cfg.head_dim,
        });
        p.steps.push(AdapterStep::PermuteRows {
            tensors: k_tensors,
            layers,
            heads: cfg.attention_head_count_kv,
            head_dim: cfg.head_dim,
        });
    }
    if !biases.is_empty() {
        p.steps.push(AdapterStep::CarryTensors {
            tensors: biases,
            reason: "the llama architecture loads optional q/k/v biases and adds them; a pipeline that ignores biases gives wrong output".into(),
        });
    }
    p.steps.push(AdapterStep::Output {
        tied: cfg.tied_embeddings,
    });
    if cfg.rope_scaling.scaling_type.as_deref() == Some("longrope")
        || gguf.tensor("rope_factors_long.weight").is_some()
    {
        p.remaining_differences.push("long-context rope factors: the llama loader uses rope_factors_long/short only with llama.rope.scaling.type = longrope".into());
    }
    p
}

/// The `tn` formats (`blk.%d.attn_q`) of every tensor llama.cpp's `llama` loader code can
/// create: the `LLM_TENSOR_*` names of its `@tensors` body in the architecture table
/// (`src/models/llama.cpp:34-92`) and of the table functions that body calls
/// (`create_tensor_qkv`, `src/llama-model.cpp:3396-3430`).
fn llama_formats() -> &'static HashSet<&'static str> {
    static FORMATS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    FORMATS.get_or_init(|| {
        let text = table::TABLE;
        let body = crate::arch::table_section("llama").unwrap_or("");
        // Table functions (`@fn FILE LINE` then `void NAME(`) the body calls.
        let mut bodies = vec![body];
        for f in text.split("\n@fn ").skip(1) {
            let f = f.split_once("\n@").map_or(f, |(b, _)| b);
            let name = f
                .lines()
                .nth(1)
                .and_then(|l| l.strip_prefix("void "))
                .and_then(|l| l.split_once('('))
                .map(|(n, _)| n);
            if name.is_some_and(|n| body.contains(&format!("{n}("))) {
                bodies.push(f);
            }
        }
        let idents: HashSet<&str> = bodies
            .iter()
            .flat_map(|b| b.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
            .filter(|w| w.starts_with("LLM_TENSOR_"))
            .collect();
        table::table()
            .tensor_names()
            .iter()
            .filter(|t| idents.contains(t.ident))
            .map(|t| t.format)
            .collect()
    })
}

/// `blk.3.attn_q_norm.weight` → `blk.%d.attn_q_norm`.
fn format_of(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    match stem
        .strip_prefix("blk.")
        .and_then(|r| r.split_once('.'))
        .filter(|(n, _)| n.parse::<u32>().is_ok())
    {
        Some((_, rest)) => format!("blk.%d.{rest}"),
        None => stem.to_string(),
    }
}

/// A blocker per tensor llama.cpp creates for the file that its `llama` loader never creates
/// (a Llama graph has no place for it: `attn_q_norm`, `post_ffw_norm` …), named once with the
/// llama.cpp line that asks for it.
fn foreign_tensors(requests: &[TensorRequest]) -> Vec<Blocker> {
    let llama = llama_formats();
    let mut seen = HashSet::new();
    requests
        .iter()
        .filter(|r| r.created && r.flags & 2 == 0 && !r.unused)
        .filter_map(|r| {
            let format = format_of(&r.name);
            (!llama.contains(format.as_str()) && seen.insert(format.clone())).then(|| {
                Blocker::GraphFeature {
                    feature: format!(
                        "`{}` (llama.cpp {}:{}): the llama architecture has no such tensor, so a Llama graph has no place for it",
                        format.replace("%d", "N"),
                        r.file,
                        r.line
                    ),
                }
            })
        })
        .collect()
}
