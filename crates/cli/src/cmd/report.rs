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
use crate::report::companion::CompanionReport;
use crate::report::compare::CompareReport;
use crate::report::config::FactsReport;
use crate::report::findings;
use crate::report::table_report::TableReport;
use ggufscope_model::table;
use ggufscope_model::ArchError;

/// Runs `report`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let other = args.compare.as_deref().map(Input::open).transpose()?;
    let gguf = input.parse()?;
    if let Some(report) = CompanionReport::of(input.name(), &gguf) {
        let bytes = if args.json {
            super::json_bytes(&report)?
        } else {
            let mut text = Vec::new();
            report.markdown(&mut text, &command_line(args))?;
            text
        };
        return write_out(args, out, &bytes);
    }
    let other_gguf = other.as_ref().map(Input::parse).transpose()?;
    let arch = super::architecture;
    let spec = |g: &ggufscope_gguf::Gguf<'_>| ggufscope_model::lookup(&arch(g)).is_some();
    let other_has_spec = other_gguf.as_ref().is_none_or(spec);
    // An architecture without a Llama-shaped spec (or a comparison with one): the report of
    // what the architecture table reads.
    if (!spec(&gguf) || !other_has_spec) && table::table().holds(&arch(&gguf)) {
        let mut bytes = table_report(args, &input, &gguf, other.as_ref().zip(other_gguf.as_ref()))?;
        plot_section(args, &input, &gguf, &mut bytes)?;
        return write_out(args, out, &bytes);
    }
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
    let mut bytes = if args.json {
        super::json_bytes(&report)?
    } else {
        let mut text = Vec::new();
        report.markdown(&mut text)?;
        text
    };
    plot_section(args, &input, &gguf, &mut bytes)?;
    write_out(args, out, &bytes)
}

/// With `--plot-dir DIR`: writes `DIR/<file>.memory.svg` and appends a section that embeds it
/// (the link relative to the report's folder when `-o` is given and DIR is inside it).
fn plot_section(
    args: &ReportArgs,
    input: &Input,
    gguf: &ggufscope_gguf::Gguf<'_>,
    markdown: &mut Vec<u8>,
) -> anyhow::Result<()> {
    let Some(dir) = &args.plot_dir else {
        return Ok(());
    };
    let plot = super::memory::default_plot(input, gguf)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.memory.svg", input.name()));
    super::memory::write_plot(&plot, &path)?;
    let base = args
        .output
        .as_deref()
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new(""));
    let link = path.strip_prefix(base).unwrap_or(&path);
    crate::report::memory_plot::markdown_section(&plot, &link.to_string_lossy(), markdown)?;
    Ok(())
}

/// The report of a table-only architecture, as markdown or JSON bytes.
fn table_report(
    args: &ReportArgs,
    input: &Input,
    gguf: &ggufscope_gguf::Gguf<'_>,
    other: Option<(&Input, &ggufscope_gguf::Gguf<'_>)>,
) -> anyhow::Result<Vec<u8>> {
    // Each file is read once: one `Model` gives the configuration, the findings and the
    // comparison.
    let model = open_model(input, gguf)?;
    let comparison = match other {
        Some((oi, og)) => {
            let other = open_model(oi, og)?;
            Some(CompareReport::from_facts(
                (input.name(), model.side()),
                (oi.name(), other.side()),
            ))
        }
        None => None,
    };
    let mut all = findings::format_findings(&input.format_issues(gguf));
    all.extend(findings::cap_repeated(
        crate::report::validate::model_findings(&model),
    ));
    let facts = model.facts().clone();
    let name = gguf
        .metadata()
        .get_str("general.name")
        .ok()
        .flatten()
        .map(str::to_owned);
    let report = TableReport::new(
        command_line(args),
        input.name(),
        Some(input.file_len()),
        gguf,
        FactsReport { facts, name },
        all,
        comparison,
    );
    Ok(if args.json {
        super::json_bytes(&report)?
    } else {
        let mut text = Vec::new();
        report.markdown(&mut text)?;
        text
    })
}

/// A file read once by the architecture table (exit 3 when it does not hold the
/// architecture, 1 when llama.cpp refuses the hyper-parameters).
fn open_model<'g, 'a>(
    input: &Input,
    g: &'g ggufscope_gguf::Gguf<'a>,
) -> anyhow::Result<ggufscope_model::Model<'g, 'a>> {
    let model = ggufscope_model::Model::new(g).map_err(|e| input.config_error(e))?;
    if !model.in_table() {
        return Err(input.config_error(
            ggufscope_model::spec_of(g)
                .err()
                .unwrap_or(ArchError::NoArchitecture),
        ));
    }
    Ok(model)
}

fn write_out(args: &ReportArgs, out: &mut dyn Write, bytes: &[u8]) -> anyhow::Result<Status> {
    match &args.output {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), bytes = bytes.len(), "report written");
        }
        None => out.write_all(bytes)?,
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
    if args.plot_dir.is_some() {
        line.push_str(" --plot-dir DIR");
    }
    line
}
