//! `ggufscope compat SOURCE [--target llama]`: can a Llama-style pipeline run this model, and
//! what must a loader do to get there (the adapter plan from `ggufscope-model`).

use std::io::Write;

use ggufscope_model::{AdapterPlan, Blocker, Verdict};
use serde::Serialize;

use crate::cli::CompatArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;

/// The `compat` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompatReport {
    /// The file name.
    pub file: String,
    /// `compatible`, `compatible_with_adapter` or `incompatible`.
    pub verdict: Verdict,
    /// The plan: source, target, steps, blockers, remaining differences.
    pub plan: AdapterPlan,
    /// One line per step, in order.
    pub step_descriptions: Vec<String>,
    /// One line per blocker.
    pub blocker_descriptions: Vec<String>,
}

/// Runs `compat`: exit 0 for `compatible` and `compatible_with_adapter`, 1 for
/// `incompatible`, 3 when the architecture is unknown.
pub fn run(args: &CompatArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let plan = ggufscope_model::plan(&gguf);
    let report = CompatReport {
        file: input.name(),
        verdict: plan.verdict,
        step_descriptions: plan.steps.iter().map(|s| s.describe()).collect(),
        blocker_descriptions: plan.blockers.iter().map(ToString::to_string).collect(),
        plan,
    };
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(status(&report.plan))
}

fn status(plan: &AdapterPlan) -> Status {
    match plan.verdict {
        Verdict::Compatible | Verdict::CompatibleWithAdapter => Status::Success,
        Verdict::Incompatible
            if plan
                .blockers
                .iter()
                .any(|b| matches!(b, Blocker::UnknownArchitecture { .. })) =>
        {
            Status::Unsupported
        }
        Verdict::Incompatible => Status::ProblemsFound,
    }
}

impl CompatReport {
    /// Writes the text form.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> std::io::Result<()> {
        let source = self.plan.source.as_deref().unwrap_or("unknown");
        writeln!(
            out,
            "{} {} -> {}: {}",
            paint.heading(&self.file),
            source,
            self.plan.target,
            self.verdict.as_str()
        )?;
        if !self.step_descriptions.is_empty() {
            writeln!(out, "\n{}", paint.heading("Adapter steps"))?;
            for (i, s) in self.step_descriptions.iter().enumerate() {
                writeln!(out, "  {}. {s}", i + 1)?;
            }
        }
        if !self.blocker_descriptions.is_empty() {
            writeln!(out, "\n{}", paint.heading("Why it cannot be adapted"))?;
            for b in &self.blocker_descriptions {
                writeln!(out, "  - {b}")?;
            }
        }
        if !self.plan.remaining_differences.is_empty() {
            writeln!(out, "\n{}", paint.heading("Differences that remain"))?;
            for d in &self.plan.remaining_differences {
                writeln!(out, "  - {d}")?;
            }
        }
        Ok(())
    }
}
