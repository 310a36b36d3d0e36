//! `ggufscope report SOURCE [--compare OTHER] [-o FILE] [--json]`: the analysis report as
//! markdown (or its data as JSON), to stdout or to FILE. Both renderings come from one
//! [`AnalysisReport`]. Files are named without their directories, so the output does not depend
//! on where they are. Exit 3 if an architecture is unsupported, 1 if a configuration cannot be
//! extracted; schema findings are reported, not turned into an exit status.

use std::io::Write;

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::exit::Status;
use crate::input::{source_name, Input};
use crate::report::analysis::{AnalysisReport, Model};
use crate::report::findings;

/// Runs `report`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let other = args.compare.as_deref().map(Input::open).transpose()?;
    let gguf = input.parse()?;
    let other_gguf = other.as_ref().map(Input::parse).transpose()?;
    let config = input.config(&gguf)?;
    let other_model = match (&other, &other_gguf) {
        (Some(i), Some(g)) => Some(Model {
            file: i.name(),
            bytes: i.file_len(),
            format_findings: findings::format_findings(&i.format_issues(g)),
            gguf: g,
            config: i.config(g)?,
        }),
        _ => None,
    };
    let model = Model {
        file: input.name(),
        bytes: input.file_len(),
        format_findings: findings::format_findings(&input.format_issues(&gguf)),
        gguf: &gguf,
        config,
    };
    let report = AnalysisReport::new(command_line(args), model, other_model);
    let bytes = if args.json {
        super::json_bytes(&report)?
    } else {
        let mut text = Vec::new();
        report.markdown(&mut text)?;
        text
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), bytes = bytes.len(), "report written");
        }
        None => out.write_all(&bytes)?,
    }
    Ok(Status::Success)
}

/// The command line as the report shows it: file names only, no output path (where the
/// report went does not change it).
fn command_line(args: &ReportArgs) -> String {
    let mut line = format!("ggufscope report {}", source_name(&args.source));
    if let Some(other) = &args.compare {
        line.push_str(&format!(" --compare {}", source_name(other)));
    }
    if args.json {
        line.push_str(" --json");
    }
    line
}
