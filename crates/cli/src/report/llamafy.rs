//! The `llamafy` report and its rendering (built and printed by `cmd/llamafy.rs`).

use crate::render::Paint;
use serde::Serialize;
use std::io::Write;

/// The `llamafy` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlamafyReport {
    /// Input file name.
    pub input: String,
    /// Output file name.
    pub output: String,
    /// Source architecture.
    pub source: Option<String>,
    /// The steps applied, one line each.
    pub steps: Vec<String>,
    /// Tensors read.
    pub tensors_in: u64,
    /// Tensors written.
    pub tensors_out: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Whether the output validates clean against the `llama` schema.
    pub validates_clean: bool,
    /// Differences the adapter cannot remove.
    pub remaining_differences: Vec<String>,
}

impl LlamafyReport {
    /// Writes the text form.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> std::io::Result<()> {
        writeln!(
            out,
            "{} ({}) -> {} (llama): {} tensors -> {}, {} bytes written",
            self.input,
            self.source.as_deref().unwrap_or("?"),
            paint.heading(&self.output),
            self.tensors_in,
            self.tensors_out,
            self.bytes_written
        )?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(out, "  {}. {s}", i + 1)?;
        }
        writeln!(
            out,
            "validates clean against the llama schema: {}",
            if self.validates_clean { "yes" } else { "NO" }
        )?;
        for d in &self.remaining_differences {
            writeln!(out, "note: {d}")?;
        }
        Ok(())
    }
}
