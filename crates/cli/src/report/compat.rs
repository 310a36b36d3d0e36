//! The `compat` report and its rendering (built and printed by `cmd/compat.rs`).

use crate::render::Paint;
use ggufscope_model::{AdapterPlan, Verdict};
use serde::Serialize;
use std::io::Write;

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
