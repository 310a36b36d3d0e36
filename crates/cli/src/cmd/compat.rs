//! `ggufscope compat SOURCE [--target llama]`: can a Llama-style pipeline run this model, and
//! what must a loader do to get there (the adapter plan from `ggufscope-model`).

use crate::report::compat::CompatReport;
use std::io::Write;

use ggufscope_model::{AdapterPlan, Blocker, Verdict};

use crate::cli::CompatArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;

/// Runs `compat`: exit 0 for `compatible` and `compatible_with_adapter`, 1 for
/// `incompatible`, 3 when the architecture is unknown.
pub fn run(args: &CompatArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    super::refuse_companion(&input, &gguf)?;
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
