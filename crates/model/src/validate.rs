//! Schema validation: the file's tensors against the layout its configuration requires. Every
//! finding is reported at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use ggufscope_gguf::{Gguf, Severity, SizeError, TensorInfo, ValueType};
use serde::Serialize;

use crate::arch::{Presence, QkvLayout};
use crate::config::ModelConfig;
use crate::keys;
use crate::schema::{instantiate, required, ExpectedTensor};

/// What a schema check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SchemaIssue {
    /// The file has no tensors: a vocab-only file (the layout is listed from the config).
    VocabOnly,
    /// A required tensor is absent.
    MissingTensor {
        /// Its name.
        tensor: String,
        /// The shape it should have, when known.
        expected: Option<Vec<u64>>,
    },
    /// A tensor the architecture does not load (llama.cpp refuses the file: "wrong number of
    /// tensors").
    UnexpectedTensor {
        /// Its name.
        tensor: String,
    },
    /// A tensor with another shape than the config requires.
    WrongShape {
        /// Its name.
        tensor: String,
        /// The shape required (ggml order).
        expected: Vec<u64>,
        /// The shape in the file.
        found: Vec<u64>,
        /// The formula of the required shape.
        formula: Vec<&'static str>,
    },
    /// A tensor whose type's block size does not divide its rows.
    BlockSizeMismatch {
        /// Its name.
        tensor: String,
        /// Its type.
        ggml_type: String,
        /// `ne[0]`.
        ne0: u64,
        /// The type's block size.
        block_size: u64,
    },
    /// The layers present in the tensor names disagree with `block_count`.
    LayerCountMismatch {
        /// `{arch}.block_count`.
        block_count: u64,
        /// Distinct layers found in tensor names.
        layers_in_file: u64,
        /// Layers below `block_count` without any tensor.
        absent_layers: Vec<u64>,
        /// Layers at or above `block_count` that have tensors.
        extra_layers: Vec<u64>,
    },
    /// A layer holds both a fused `attn_qkv` and separate q/k/v.
    BothQkvLayouts {
        /// The layer.
        layer: u64,
    },
    /// A tokenizer array whose length differs from the token list's.
    TokenArrayLength {
        /// The key.
        key: String,
        /// Its length.
        len: u64,
        /// Length of `tokenizer.ggml.tokens`.
        tokens: u64,
    },
}

impl SchemaIssue {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SchemaIssue::VocabOnly => "vocab_only",
            SchemaIssue::MissingTensor { .. } => "missing_tensor",
            SchemaIssue::UnexpectedTensor { .. } => "unexpected_tensor",
            SchemaIssue::WrongShape { .. } => "wrong_shape",
            SchemaIssue::BlockSizeMismatch { .. } => "block_size_mismatch",
            SchemaIssue::LayerCountMismatch { .. } => "layer_count_mismatch",
            SchemaIssue::BothQkvLayouts { .. } => "both_qkv_layouts",
            SchemaIssue::TokenArrayLength { .. } => "token_array_length",
        }
    }

    /// How serious it is.
    pub fn severity(&self) -> Severity {
        match self {
            SchemaIssue::VocabOnly => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// The tensor it is about, if one.
    pub fn tensor(&self) -> Option<&str> {
        match self {
            SchemaIssue::MissingTensor { tensor, .. }
            | SchemaIssue::UnexpectedTensor { tensor }
            | SchemaIssue::WrongShape { tensor, .. }
            | SchemaIssue::BlockSizeMismatch { tensor, .. } => Some(tensor),
            _ => None,
        }
    }
}

impl fmt::Display for SchemaIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaIssue::VocabOnly => f.write_str("vocab-only file: no tensors to check; the expected layout is derived from the configuration"),
            SchemaIssue::MissingTensor { tensor, expected: Some(e) } => write!(f, "missing tensor `{tensor}` (expected shape {e:?})"),
            SchemaIssue::MissingTensor { tensor, expected: None } => write!(f, "missing tensor `{tensor}`"),
            SchemaIssue::UnexpectedTensor { tensor } => write!(f, "unexpected tensor `{tensor}`: the architecture does not load it"),
            SchemaIssue::WrongShape { tensor, expected, found, formula } => write!(f, "tensor `{tensor}` has shape {found:?}, expected {expected:?} ({})", formula.join(", ")),
            SchemaIssue::BlockSizeMismatch { tensor, ggml_type, ne0, block_size } => write!(f, "tensor `{tensor}` is {ggml_type}, whose block of {block_size} does not divide ne0 = {ne0}"),
            SchemaIssue::LayerCountMismatch { block_count, layers_in_file, absent_layers, extra_layers } => {
                write!(f, "block_count is {block_count} but tensors name {layers_in_file} layers")?;
                if !absent_layers.is_empty() {
                    write!(f, "; no tensor for layers {absent_layers:?}")?;
                }
                if !extra_layers.is_empty() {
                    write!(f, "; tensors for layers {extra_layers:?} beyond block_count")?;
                }
                Ok(())
            }
            SchemaIssue::BothQkvLayouts { layer } => write!(f, "layer {layer} has both a fused attn_qkv and separate attn_q/k/v"),
            SchemaIssue::TokenArrayLength { key, len, tokens } => write!(f, "`{key}` has {len} entries but tokenizer.ggml.tokens has {tokens}"),
        }
    }
}

/// The result of a schema check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaReport {
    /// The architecture checked against.
    pub architecture: String,
    /// The file has no tensors.
    pub vocab_only: bool,
    /// Tensors in the file.
    pub tensor_count: u64,
    /// The Q/K/V layout the file uses (of layer 0), when it has tensors.
    pub qkv_layout: Option<QkvLayout>,
    /// Every finding, in check order.
    pub findings: Vec<SchemaIssue>,
}

impl SchemaReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity() == Severity::Error)
    }
}

/// `blk.N.` → N.
fn layer_of(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("blk.")?;
    let (n, _) = rest.split_once('.')?;
    n.parse().ok()
}

/// Checks the file's tensors (and tokenizer arrays) against the configuration's schema.
pub fn validate(gguf: &Gguf<'_>, cfg: &ModelConfig) -> SchemaReport {
    let mut findings = tokenizer_findings(gguf);
    let Some(spec) = cfg.spec() else {
        return SchemaReport {
            architecture: cfg.architecture.clone(),
            vocab_only: gguf.tensors().is_empty(),
            tensor_count: 0,
            qkv_layout: None,
            findings,
        };
    };
    if gguf.tensors().is_empty() {
        findings.insert(0, SchemaIssue::VocabOnly);
        log(&findings);
        return SchemaReport {
            architecture: cfg.architecture.clone(),
            vocab_only: true,
            tensor_count: 0,
            qkv_layout: None,
            findings,
        };
    }
    let by_name: HashMap<&str, &TensorInfo<'_>> =
        gguf.tensors().iter().rev().map(|t| (t.name(), t)).collect();
    let mut matched: HashSet<&str> = HashSet::new();
    let file_layers: BTreeSet<u64> = gguf
        .tensors()
        .iter()
        .filter_map(|t| layer_of(t.name()))
        .collect();

    let mut check =
        |e: ExpectedTensor, layout: QkvLayout, findings: &mut Vec<SchemaIssue>| match by_name
            .get_key_value(e.name.as_str())
        {
            Some((&name, t)) => {
                matched.insert(name);
                check_tensor(t, &e, findings);
            }
            None if required(e.presence, layout) => findings.push(SchemaIssue::MissingTensor {
                tensor: e.name,
                expected: e.dims,
            }),
            None => {}
        };
    for t in spec.globals {
        check(instantiate(t, cfg, None), spec.qkv.preferred, &mut findings);
    }
    let mut absent_layers = Vec::new();
    let mut layer0_layout = None;
    for il in 0..cfg.block_count {
        if !file_layers.contains(&il) {
            absent_layers.push(il);
            continue;
        }
        let has = |n: &str| by_name.contains_key(format!("blk.{il}.{n}").as_str());
        let fused = has("attn_qkv.weight");
        let split = has("attn_q.weight") || has("attn_k.weight") || has("attn_v.weight");
        let layout = match (fused, split) {
            (true, false) => QkvLayout::Fused,
            (false, true) => QkvLayout::Split,
            (true, true) => {
                findings.push(SchemaIssue::BothQkvLayouts { layer: il });
                spec.qkv.preferred
            }
            (false, false) => spec.qkv.preferred,
        };
        layer0_layout.get_or_insert(layout);
        for t in spec.layer_tensors() {
            let other_layout = match t.presence {
                Presence::QkvRequired(l) | Presence::QkvOptional { layout: l, .. } => l != layout,
                _ => false,
            };
            if !other_layout {
                check(instantiate(&t, cfg, Some(il)), layout, &mut findings);
            }
        }
    }
    let mut extra_layers = BTreeSet::new();
    for t in gguf.tensors() {
        if matched.contains(t.name()) {
            continue;
        }
        match layer_of(t.name()) {
            Some(il) if il >= cfg.block_count => {
                extra_layers.insert(il);
            }
            _ => findings.push(SchemaIssue::UnexpectedTensor {
                tensor: t.name().to_string(),
            }),
        }
    }
    if !absent_layers.is_empty() || !extra_layers.is_empty() {
        findings.push(SchemaIssue::LayerCountMismatch {
            block_count: cfg.block_count,
            layers_in_file: file_layers.len() as u64,
            absent_layers,
            extra_layers: extra_layers.into_iter().collect(),
        });
    }
    log(&findings);
    SchemaReport {
        architecture: cfg.architecture.clone(),
        vocab_only: false,
        tensor_count: gguf.tensors().len() as u64,
        qkv_layout: layer0_layout,
        findings,
    }
}

fn check_tensor(t: &TensorInfo<'_>, e: &ExpectedTensor, findings: &mut Vec<SchemaIssue>) {
    if let Some(expected) = &e.dims {
        // llama.cpp: listed dims must match exactly, any further dims must be 1
        // (`llama-model-loader.cpp:907-920`).
        let found = t.dims();
        let padded = |d: &[u64]| {
            let mut v = d.to_vec();
            while v.last() == Some(&1) && v.len() > 1 {
                v.pop();
            }
            v
        };
        if padded(found) != padded(expected) {
            findings.push(SchemaIssue::WrongShape {
                tensor: e.name.clone(),
                expected: expected.clone(),
                found: found.to_vec(),
                formula: e.formula.clone(),
            });
        }
    }
    if let Err(SizeError::NotBlockMultiple { ne0, block_size }) = t.row_bytes() {
        findings.push(SchemaIssue::BlockSizeMismatch {
            tensor: e.name.clone(),
            ggml_type: t.ggml_type().to_string(),
            ne0,
            block_size,
        });
    }
}

/// Parallel tokenizer arrays must have as many entries as the token list (a consumer indexing
/// one by the other's length would read out of bounds).
fn tokenizer_findings(gguf: &Gguf<'_>) -> Vec<SchemaIssue> {
    let md = gguf.metadata();
    let Some(tokens) = md.value(keys::TOKENIZER_TOKENS).and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    if tokens.element_type() != ValueType::String {
        return Vec::new();
    }
    [keys::TOKENIZER_SCORES, keys::TOKENIZER_TOKEN_TYPE]
        .into_iter()
        .filter_map(|key| {
            let a = md.value(key)?.as_array()?;
            (a.len() != tokens.len()).then(|| SchemaIssue::TokenArrayLength {
                key: key.to_string(),
                len: a.len(),
                tokens: tokens.len(),
            })
        })
        .collect()
}

fn log(findings: &[SchemaIssue]) {
    for f in findings {
        tracing::info!(target: "ggufscope::validate", severity = f.severity().as_str(), code = f.code(), "{f}");
    }
}
