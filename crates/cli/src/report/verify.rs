//! The `verify` report's JSON and text renderings (built by `cmd/verify.rs`).

use crate::render::Paint;
use ggufscope_verify::{Algorithm, CheckResult, Finding, Outcome, Report};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::io::Write;

/// A finding as JSON and text show it.
#[derive(Debug, Serialize)]
pub(crate) struct FindingView<'a> {
    tensor: &'a str,
    #[serde(rename = "type")]
    ggml_type: String,
    #[serde(flatten)]
    finding: &'a Finding,
    message: String,
}

pub(crate) fn findings(report: &Report) -> Vec<FindingView<'_>> {
    report
        .tensors
        .iter()
        .flat_map(|t| {
            t.findings.iter().map(move |f| FindingView {
                tensor: &t.name,
                ggml_type: t.ggml_type.to_string(),
                finding: f,
                message: f.message(t.ggml_type),
            })
        })
        .collect()
}

pub(crate) fn to_json(
    shown: &str,
    report: &Report,
    checked: Option<&(&String, CheckResult)>,
) -> Value {
    let tensors: Vec<Value> = report
        .tensors
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("name".into(), json!(t.name));
            m.insert("type".into(), json!(t.ggml_type.to_string()));
            m.insert("offset".into(), json!(t.start));
            m.insert("bytes".into(), json!(t.n_bytes));
            m.insert("ok".into(), json!(t.findings.is_empty()));
            for (algorithm, hash) in &t.hashes {
                m.insert(algorithm.as_str().into(), json!(hash));
            }
            Value::Object(m)
        })
        .collect();
    let mut top = Map::new();
    top.insert("file".into(), json!(shown));
    top.insert(
        "ok".into(),
        json!(
            report.finding_count() == 0
                && checked.is_none_or(|(_, c)| c.outcome == Outcome::Success)
        ),
    );
    top.insert(
        "rules".into(),
        json!(format!(
            "ggml_validate_row_data, llama.cpp {}",
            ggufscope_verify::LLAMA_CPP_COMMIT
        )),
    );
    top.insert("tensors_read".into(), json!(report.tensors.len()));
    top.insert("bytes_scanned".into(), json!(report.bytes_scanned));
    top.insert("bytes_hashed".into(), json!(report.bytes_hashed));
    top.insert("findings".into(), json!(findings(report)));
    top.insert("tensors".into(), Value::Array(tensors));
    if !report.model_hashes.is_empty() {
        let model: Map<String, Value> = report
            .model_hashes
            .iter()
            .map(|(a, h)| (a.as_str().to_owned(), json!(h)))
            .collect();
        top.insert("model".into(), Value::Object(model));
    }
    if let Some((path, result)) = checked {
        top.insert(
            "check".into(),
            json!({
                "manifest": path,
                "outcome": result.outcome,
                "checked": result.checked,
            }),
        );
    }
    Value::Object(top)
}

pub(crate) fn write_text(
    out: &mut dyn Write,
    paint: Paint,
    shown: &str,
    report: &Report,
    checked: Option<&(&String, CheckResult)>,
    algorithms: &[Algorithm],
) -> anyhow::Result<()> {
    match checked {
        Some((path, result)) => {
            let kinds: Vec<&str> = algorithms.iter().map(|a| a.as_str()).collect();
            writeln!(out, "manifest  {path}  {}", kinds.join("  "))?;
            for c in &result.checked {
                writeln!(out, "{}", c.line_text(shown))?;
            }
            writeln!(out)?;
        }
        None if !algorithms.is_empty() => {
            // llama-gguf-hash's order: per tensor xxh64, sha1, sha256; then the model's.
            for t in &report.tensors {
                for (algorithm, hash) in &t.hashes {
                    if let Some(hash) = hash {
                        let name = format!("{shown}:{}", t.name);
                        writeln!(
                            out,
                            "{}",
                            ggufscope_verify::manifest_line(*algorithm, hash, &name)
                        )?;
                    }
                }
            }
            for (algorithm, hash) in &report.model_hashes {
                if let Some(hash) = hash {
                    writeln!(
                        out,
                        "{}",
                        ggufscope_verify::manifest_line(*algorithm, hash, shown)
                    )?;
                }
            }
            writeln!(out)?;
        }
        None => {}
    }
    let views = findings(report);
    let width = views.iter().map(|v| v.tensor.len()).max().unwrap_or(0);
    let type_width = views.iter().map(|v| v.ggml_type.len()).max().unwrap_or(0);
    for v in &views {
        let code = serde_json::to_value(v.finding)
            .ok()
            .and_then(|j| j.get("code").and_then(|c| c.as_str().map(str::to_owned)))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  {:<width$}  {:<type_width$}  {code}: {}",
            paint.severity("error", 5),
            v.tensor,
            v.ggml_type,
            v.message
        )?;
    }
    let tensors_bad = report
        .tensors
        .iter()
        .filter(|t| !t.findings.is_empty())
        .count();
    let read = format!(
        "{} tensors, {} bytes checked",
        report.tensors.len(),
        report.bytes_scanned
    );
    if views.is_empty() {
        writeln!(out, "ok: {read}, no findings")?;
    } else {
        writeln!(
            out,
            "{} findings in {tensors_bad} tensors ({read})",
            views.len()
        )?;
    }
    if report.model_hashes.iter().any(|(_, h)| h.is_none()) {
        writeln!(
            out,
            "no whole-model hash: a tensor's data is incomplete or cannot be located"
        )?;
    }
    if let Some((path, result)) = checked {
        let bad = result
            .checked
            .iter()
            .filter(|c| c.verdict == ggufscope_verify::Verdict::Mismatch)
            .count();
        let verdict = match result.outcome {
            Outcome::Success => "Success".to_owned(),
            Outcome::Mismatch => format!("Mismatch ({bad} hashes differ)"),
            Outcome::MissingEntry => "Manifest Missing Entry".to_owned(),
        };
        writeln!(out, "check {path}: {verdict}")?;
    }
    Ok(())
}
