//! `ggufscope validate SOURCE`: every format finding (the lenient parse's diagnostics and the
//! layout checks) and every schema finding (the tensors against the layout the architecture
//! requires). Exit 0 when no finding is an error, 1 otherwise, 2 when the file is unreadable.
//! On an unsupported architecture the format checks still run and a `schema_not_checked`
//! warning says why the schema was not. A split set is checked shard by shard (format) and
//! as a whole (schema); a remote file's tensor data is not downloaded, so only its bounds are
//! checked (against the file's size) and an info says so.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_model::{validate, ArchError, ModelConfig};
use serde::Serialize;

use crate::cli::SourceArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::{self, Paint};
use crate::report::findings::{self, Finding};
use crate::report::issues::FormatIssues;

/// The `validate` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidateReport {
    /// No finding is an error.
    pub ok: bool,
    /// Format findings (file order, then by offset), then schema findings (check order).
    pub findings: Vec<Finding>,
}

/// Runs `validate`.
pub fn run(args: &SourceArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let report = ValidateReport::new(&gguf, &input.format_issues(&gguf));
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(if report.ok {
        Status::Success
    } else {
        Status::ProblemsFound
    })
}

/// Every schema finding of a parsed file, or the one finding that says why there are none.
pub fn schema_findings(gguf: &Gguf<'_>) -> Vec<Finding> {
    match ModelConfig::from_gguf(gguf) {
        Ok(cfg) => validate(gguf, &cfg)
            .findings
            .iter()
            .map(Finding::schema)
            .collect(),
        Err(err @ ArchError::Unsupported { .. }) => vec![Finding::schema_not_checked(&err)],
        Err(err) => vec![Finding::config_unreadable(&err)],
    }
}

impl ValidateReport {
    /// Runs every schema check on `gguf` and reports them after the format `issues` of the
    /// files it was read from.
    pub fn new(gguf: &Gguf<'_>, issues: &FormatIssues) -> Self {
        let mut all = findings::format_findings(issues);
        all.extend(schema_findings(gguf));
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
