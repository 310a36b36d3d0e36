//! The `pair` report: a model and its companions (projector, LoRA adapter, control vector,
//! imatrix, draft model), each pair checked as llama.cpp 0c1e570 checks it when it loads the
//! two; `{ok, findings:[{severity, code, message, key/tensor, llama_cpp, companion}]}` in JSON.

use std::io::{self, Write};

use ggufscope_model::companion::{PairCheck, PairFinding};
use ggufscope_model::FileKind;
use serde::Serialize;

use crate::render::Paint;
use crate::report::companion::{write_findings, write_rows};

/// The `pair` report: `{ok, findings}` plus what was compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairReport {
    /// Whether llama.cpp would load every pair.
    pub ok: bool,
    /// The model file.
    pub model: String,
    /// One entry per companion.
    pub pairs: Vec<PairEntry>,
    /// Every finding of every pair, each naming its companion.
    pub findings: Vec<PairReportFinding>,
}

/// One companion checked against the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairEntry {
    /// The companion file.
    pub file: String,
    /// Its kind (`model`/`vocab_only`: checked as a draft).
    pub file_kind: FileKind,
    /// How llama.cpp uses it with the model.
    pub role: &'static str,
    /// Whether llama.cpp would load this pair.
    pub ok: bool,
    /// What was compared.
    pub compared: Vec<Compared>,
}

/// One compared value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// What.
    pub what: String,
    /// Its value.
    pub value: String,
}

/// A finding with the companion it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairReportFinding {
    /// The companion file.
    pub companion: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: PairFinding,
}

/// How llama.cpp uses a companion of this kind.
fn role(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Projector => "multimodal projector (--mmproj)",
        FileKind::LoraAdapter => "LoRA adapter (--lora)",
        FileKind::ControlVector => "control vector (--control-vector)",
        FileKind::Imatrix => "importance matrix (llama-quantize --imatrix)",
        FileKind::Model | FileKind::VocabOnly => "draft model (--model-draft)",
    }
}

impl PairReport {
    /// Builds the report from each companion's check.
    pub fn new(model: String, checks: Vec<(String, PairCheck)>) -> Self {
        let mut pairs = Vec::new();
        let mut findings = Vec::new();
        for (file, check) in checks {
            pairs.push(PairEntry {
                file: file.clone(),
                file_kind: check.kind,
                role: role(check.kind),
                ok: check.ok(),
                compared: check
                    .facts
                    .iter()
                    .map(|(what, value)| Compared {
                        what: what.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            });
            findings.extend(check.findings.into_iter().map(|finding| PairReportFinding {
                companion: file.clone(),
                finding,
            }));
        }
        Self {
            ok: pairs.iter().all(|p| p.ok),
            model,
            pairs,
            findings,
        }
    }

    /// Text.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        for p in &self.pairs {
            writeln!(
                out,
                "{}",
                paint.heading(&format!(
                    "{} + {} ({}): {}",
                    self.model,
                    p.file,
                    p.role,
                    if p.ok { "loads" } else { "refused" }
                ))
            )?;
            let rows: Vec<(String, String)> = p
                .compared
                .iter()
                .map(|c| (c.what.clone(), c.value.clone()))
                .collect();
            write_rows(out, &rows)?;
            let mine: Vec<PairFinding> = self
                .findings
                .iter()
                .filter(|f| f.companion == p.file)
                .map(|f| f.finding.clone())
                .collect();
            write_findings(out, &mine, paint)?;
        }
        writeln!(
            out,
            "{}",
            if self.ok {
                "ok: llama.cpp would load the model with every companion"
            } else {
                "refused: llama.cpp would not load at least one pair"
            }
        )
    }
}
