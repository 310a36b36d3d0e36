//! Companion files (projectors, LoRA adapters, control vectors, importance matrices): what
//! `config`, `inspect` and `report` show for them (their own facts and the checks llama.cpp
//! makes on the file alone), and the `pair` report (a companion against a model). The facts are
//! the library's serde structures; the text and markdown are rendered from their JSON, so the
//! renderings cannot disagree with `--json`.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_model::companion::{self, CompanionFacts, Level, PairFinding};
use ggufscope_model::FileKind;
use serde::Serialize;
use serde_json::Value;

use crate::render::Paint;

/// A companion file's own report (`config`, `report`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompanionReport {
    /// The file name.
    pub file: String,
    /// `projector`, `lora_adapter`, `control_vector` or `imatrix`.
    pub file_kind: FileKind,
    /// `general.architecture` (for an adapter: its base model's).
    pub architecture: Option<String>,
    /// The kind's own facts.
    pub facts: CompanionFacts,
    /// A projector's vision-encoder compute buffer on the CPU, with flash attention on and
    /// off, where its graph is modelled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compute_buffers: Vec<ggufscope_model::ProjectorCompute>,
    /// Why a projector's compute buffer is not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_unknown: Option<String>,
    /// What llama.cpp refuses in the file alone (pairing needs `ggufscope pair`).
    pub findings: Vec<PairFinding>,
}

impl CompanionReport {
    /// The report of a companion file; `None` for a model or a vocab-only file.
    pub fn of(file: String, gguf: &Gguf<'_>) -> Option<Self> {
        let facts = companion::companion_facts(gguf)?;
        let kind = companion::file_kind(gguf);
        let (compute_buffers, compute_unknown) = if kind == FileKind::Projector {
            match [true, false].map(|fa| ggufscope_model::projector_compute(gguf, fa)) {
                [Ok(on), Ok(off)] => (vec![on, off], None),
                [Err(why), _] | [_, Err(why)] => (Vec::new(), Some(why)),
            }
        } else {
            (Vec::new(), None)
        };
        Some(Self {
            file,
            file_kind: companion::file_kind(gguf),
            architecture: gguf
                .metadata()
                .get_str("general.architecture")
                .ok()
                .flatten()
                .map(str::to_owned),
            facts,
            compute_buffers,
            compute_unknown,
            findings: companion::self_check(gguf),
        })
    }

    /// Text: the kind, the facts (one line each), the findings.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        writeln!(
            out,
            "{}",
            paint.heading(&format!("{} ({})", self.file, self.file_kind.as_str()))
        )?;
        write_rows(out, &self.rows())?;
        write_findings(out, &self.findings, paint)
    }

    /// The kind, the architecture (unless the facts carry it) and the facts, as rows.
    fn rows(&self) -> Vec<(String, String)> {
        let facts = fact_rows(&self.facts);
        let mut rows = vec![("file_kind".to_owned(), self.file_kind.as_str().to_owned())];
        if let Some(a) = &self.architecture {
            if !facts.iter().any(|(k, _)| k == "architecture") {
                rows.push(("architecture".into(), a.clone()));
            }
        }
        rows.extend(facts);
        for c in &self.compute_buffers {
            rows.push((
                format!(
                    "compute_buffer (CPU, flash attention {})",
                    if c.flash_attn { "on" } else { "off" }
                ),
                format!(
                    "{} ({}; warmup image {}×{}, {} patches)",
                    crate::render::grouped(c.compute_bytes),
                    crate::render::human_bytes(c.compute_bytes),
                    c.warmup_image_size,
                    c.warmup_image_size,
                    c.n_patches
                ),
            ));
        }
        if let Some(why) = &self.compute_unknown {
            rows.push(("compute_buffer".into(), format!("not given: {why}")));
        }
        rows
    }

    /// Markdown (`report`).
    pub fn markdown(&self, out: &mut dyn Write, command: &str) -> io::Result<()> {
        writeln!(out, "# {} — {}\n", self.file, self.file_kind.as_str())?;
        writeln!(out, "`{command}`\n")?;
        writeln!(
            out,
            "This file is a {} (not a model): its own facts below; `ggufscope pair MODEL {}` checks it against a model.\n",
            self.file_kind.as_str().replace('_', " "),
            self.file
        )?;
        writeln!(out, "| fact | value |\n|---|---|")?;
        for (k, v) in self.rows() {
            writeln!(out, "| {k} | {} |", v.replace('|', "\\|"))?;
        }
        writeln!(out, "\n## Findings\n")?;
        if self.findings.is_empty() {
            writeln!(out, "None: llama.cpp accepts the file by itself.")?;
        }
        for f in &self.findings {
            writeln!(
                out,
                "- **{}** `{}`: {} (llama.cpp `{}`)",
                level(f.severity),
                f.code,
                f.message,
                f.llama_cpp
            )?;
        }
        Ok(())
    }
}

/// `info`, `warning` or `error`.
pub(crate) fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

/// Aligned `key  value` lines.
pub(crate) fn write_rows(out: &mut dyn Write, rows: &[(String, String)]) -> io::Result<()> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(out, "  {k:<width$}  {v}")?;
    }
    Ok(())
}

/// One line per finding, or `no findings`.
pub(crate) fn write_findings(
    out: &mut dyn Write,
    findings: &[PairFinding],
    paint: Paint,
) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "  no findings");
    }
    for f in findings {
        let about = f
            .tensor
            .as_deref()
            .map(|t| format!(" [tensor {t}]"))
            .or_else(|| f.key.as_deref().map(|k| format!(" [key {k}]")))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {}: {}{about} (llama.cpp {})",
            paint.severity(level(f.severity), 7),
            f.code,
            f.message,
            f.llama_cpp
        )?;
    }
    Ok(())
}

/// The facts as `path → value` rows, from their JSON: objects by dotted path, scalar arrays
/// joined, arrays of objects one row per element.
fn fact_rows(facts: &CompanionFacts) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Ok(v) = serde_json::to_value(facts) {
        flatten("", &v, &mut rows);
    }
    rows
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flatten(path: &str, v: &Value, rows: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                flatten(&join(k), x, rows);
            }
        }
        Value::Array(items) if items.iter().all(|x| !x.is_object()) => {
            let s: Vec<String> = items.iter().map(scalar).collect();
            rows.push((path.to_owned(), format!("[{}]", s.join(", "))));
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                match x {
                    Value::Object(map) if map.values().all(|y| !y.is_object() && !y.is_array()) => {
                        let s: Vec<String> = map
                            .iter()
                            .map(|(k, y)| format!("{k}={}", scalar(y)))
                            .collect();
                        rows.push((format!("{path}[{i}]"), s.join(" ")));
                    }
                    other => flatten(&format!("{path}[{i}]"), other, rows),
                }
            }
        }
        other => rows.push((path.to_owned(), scalar(other))),
    }
}

/// Companion findings as `validate` lists them (source `schema`, the llama.cpp line in the
/// message).
pub fn as_findings(found: Vec<PairFinding>) -> Vec<crate::report::findings::Finding> {
    found
        .into_iter()
        .map(|f| crate::report::findings::Finding {
            severity: level(f.severity),
            code: f.code,
            message: format!("{} (llama.cpp {})", f.message, f.llama_cpp),
            offset: None,
            key: f.key,
            tensor: f.tensor,
            shard: None,
            source: crate::report::findings::FindingSource::Schema,
        })
        .collect()
}
