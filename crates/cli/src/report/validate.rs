//! The `validate` report: every format finding (the lenient parse's diagnostics and the layout
//! checks) and every schema finding (what llama.cpp's loader would refuse, from the
//! architecture table), and its text rendering.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_gguf::Severity;
use ggufscope_model::table::{self, TensorMode};
use ggufscope_model::{validate, ArchError, ModelConfig};
use serde::Serialize;

use crate::render::{self, Paint};
use crate::report::findings::{self, Finding, FindingSource};
use crate::report::issues::FormatIssues;
use crate::report::vocab::TokenizerReport;

/// The `validate` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidateReport {
    /// No finding is an error.
    pub ok: bool,
    /// Format findings (file order, then by offset), then schema findings (check order), then
    /// tokenizer and chat-template findings.
    pub findings: Vec<Finding>,
}

/// Every schema finding of a parsed file, or the one finding that says why there are none.
///
/// The architecture table runs llama.cpp's own loader code on the file (hyper-parameters, then
/// every `create_tensor`): each tensor llama.cpp requires and the file lacks, each tensor of
/// the wrong shape, each tensor llama.cpp never asks for (it refuses such a file: "wrong
/// number of tensors", `src/llama-model-loader.cpp:1396-1398`) and each refusal of the
/// hyper-parameter code is an error naming the tensor or key and the llama.cpp line.
pub fn schema_findings(gguf: &Gguf<'_>) -> Vec<Finding> {
    // A companion file (projector, adapter, control vector, imatrix) is not a model: its own
    // checks replace the architecture's.
    if ggufscope_model::companion::file_kind(gguf).is_companion() {
        return crate::report::companion::as_findings(ggufscope_model::companion::self_check(gguf));
    }
    let arch = gguf
        .metadata()
        .get_str("general.architecture")
        .ok()
        .flatten()
        .unwrap_or("");
    if !table::table().holds(arch) {
        return match ModelConfig::from_gguf(gguf) {
            Ok(cfg) => validate(gguf, &cfg)
                .findings
                .iter()
                .map(Finding::schema)
                .collect(),
            Err(err @ ArchError::Unsupported { .. }) => vec![Finding::schema_not_checked(&err)],
            Err(err) => vec![Finding::config_unreadable(&err)],
        };
    }
    let vocab_only = gguf.tensors().is_empty();
    let mode = if vocab_only {
        TensorMode::Required
    } else {
        TensorMode::File
    };
    let loaded = match table::load(gguf, arch, mode) {
        Ok(l) => l,
        Err(e) => {
            return vec![schema(
                Severity::Error,
                "table_error",
                e.to_string(),
                None,
                None,
            )]
        }
    };
    let mut out = Vec::new();
    // The five architectures with a Llama-shaped spec also keep its stricter reading of the
    // configuration (key types, head divisibility).
    if ggufscope_model::lookup(arch).is_some() && loaded.hparams_refusal.is_none() {
        match ModelConfig::from_gguf(gguf) {
            Err(err) => {
                out.push(Finding::config_unreadable(&err));
                return out;
            }
            Ok(cfg) => {
                // Its metadata checks (token arrays); the tensors are the table's.
                out.extend(
                    validate(gguf, &cfg)
                        .findings
                        .iter()
                        .filter(|i| i.tensor().is_none() && i.code() != "vocab_only")
                        .map(Finding::schema),
                );
            }
        }
    }
    out.extend(table_findings(&loaded, vocab_only));
    out
}

fn schema(
    severity: Severity,
    code: &'static str,
    message: String,
    tensor: Option<String>,
    key: Option<String>,
) -> Finding {
    Finding {
        severity: severity.as_str(),
        code,
        message,
        offset: None,
        key,
        tensor,
        shard: None,
        source: FindingSource::Schema,
    }
}

/// The schema findings of a [`Model`] (its one run of the table, plus the Llama-shaped spec's
/// metadata checks for the five architectures that have one).
pub fn model_findings(model: &ggufscope_model::Model<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(cfg) = model.config() {
        out.extend(
            validate(model.gguf(), cfg)
                .findings
                .iter()
                .filter(|i| i.tensor().is_none() && i.code() != "vocab_only")
                .map(Finding::schema),
        );
    }
    out.extend(table_findings(model.run(), model.validate().vocab_only));
    out
}

/// The findings of one run of the table.
pub fn table_findings(l: &table::Loaded, vocab_only: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let refusal = |r: &table::Refusal, phase: &str| {
        if r.table_error {
            schema(
                Severity::Warning,
                "table_gap",
                format!(
                    "the architecture table cannot run llama.cpp's {phase} code at {}: {}; the {phase} were not fully checked",
                    r.source, r.message
                ),
                None,
                None,
            )
        } else {
            let key = r
                .message
                .strip_prefix("key not found in model: ")
                .map(str::to_owned);
            schema(
                Severity::Error,
                if key.is_some() {
                    "missing_key"
                } else {
                    "llama_refuses"
                },
                format!(
                    "llama.cpp refuses the file: {} (llama.cpp {})",
                    r.message, r.source
                ),
                None,
                key,
            )
        }
    };
    if let Some(r) = &l.hparams_refusal {
        out.push(refusal(r, "hyper-parameter"));
        return out;
    }
    if vocab_only {
        out.push(schema(
            Severity::Info,
            "vocab_only",
            "vocab-only file: no tensors to check; the expected layout is derived from the configuration".into(),
            None,
            None,
        ));
        return out;
    }
    for p in &l.problems {
        let code = p.code;
        out.push(schema(
            Severity::Error,
            code,
            format!("{} (llama.cpp {}:{})", p.message, p.file, p.line),
            p.subject.clone(),
            None,
        ));
    }
    if let Some(r) = &l.tensors_refusal {
        out.push(refusal(r, "tensor"));
    }
    if let Some(r) = &l.graph_refusal {
        out.push(if r.table_error {
            refusal(r, "graph")
        } else {
            schema(
                Severity::Error,
                "llama_cannot_run",
                format!(
                    "llama.cpp loads the file but aborts creating a context: {} (llama.cpp {})",
                    r.message, r.source
                ),
                None,
                None,
            )
        });
    }
    for name in &l.unexpected {
        out.push(schema(
            Severity::Error,
            "unexpected_tensor",
            format!(
                "tensor `{name}` is not one llama.cpp's `{}` loader creates: llama.cpp refuses the file (wrong number of tensors)",
                l.arch
            ),
            Some(name.clone()),
            None,
        ));
    }
    out
}

impl ValidateReport {
    /// Runs every schema check on `gguf` and reports them after the format `issues` of the
    /// files it was read from.
    pub fn new(gguf: &Gguf<'_>, issues: &FormatIssues) -> Self {
        let mut all = findings::format_findings(issues);
        // The format findings are capped by the format layer; the schema ones here.
        all.extend(findings::cap_repeated(schema_findings(gguf)));
        // What llama.cpp's vocabulary loader refuses, and what breaks serving the chat
        // templates.
        all.extend(TokenizerReport::of(gguf).findings());
        for f in &all {
            tracing::info!(
                severity = f.severity,
                code = f.code,
                source = f.source.as_str(),
                "{}",
                f.message
            );
        }
        Self {
            ok: !all.iter().any(Finding::is_error),
            findings: all,
        }
    }

    /// Writes the findings, one per line, then the verdict.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        write_findings(out, paint, &self.findings)?;
        let (errors, warnings, infos) = findings::counts(&self.findings);
        let verdict = if self.ok { "ok" } else { "not ok" };
        writeln!(
            out,
            "{}: {}, {}, {}",
            paint.heading(verdict),
            render::plural(errors, "error"),
            render::plural(warnings, "warning"),
            render::plural(infos, "info")
        )
    }
}

/// Writes findings as `  severity  source  code  message (at byte N)`.
pub fn write_findings(out: &mut dyn Write, paint: Paint, list: &[Finding]) -> io::Result<()> {
    let sev_w = list.iter().map(|f| f.severity.len()).max().unwrap_or(0);
    let src_w = list
        .iter()
        .map(|f| f.source.as_str().len())
        .max()
        .unwrap_or(0);
    let code_w = list.iter().map(|f| f.code.len()).max().unwrap_or(0);
    for f in list {
        let at = match (f.offset, &f.shard) {
            (Some(o), Some(shard)) => format!(" (at byte {o} of {shard})"),
            (Some(o), None) => format!(" (at byte {o})"),
            (None, _) => String::new(),
        };
        writeln!(
            out,
            "  {}  {:<src_w$}  {:<code_w$}  {}{at}",
            paint.severity(f.severity, sev_w),
            f.source.as_str(),
            f.code,
            f.message,
        )?;
    }
    Ok(())
}
