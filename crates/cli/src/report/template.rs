//! The `template` report: the rendered prompt, the template's capabilities (llama.cpp's probe)
//! and its serving findings. JSON: `{rendered, capabilities, findings}` plus where the template
//! came from.

use std::io::Write;

use ggufscope_template::{Capabilities, Finding, RenderError};
use serde::Serialize;

use crate::render::Paint;

/// What `template` prints.
#[derive(Debug, Serialize)]
pub struct TemplateReport {
    /// The metadata key the template was read from.
    pub key: String,
    /// The rendered prompt (`null` when it did not render).
    pub rendered: Option<String>,
    /// Why it did not render.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RenderError>,
    /// llama.cpp's capability probe.
    pub capabilities: Capabilities,
    /// What breaks serving.
    pub findings: Vec<Finding>,
}

impl TemplateReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == "error")
    }

    /// Writes the text form.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> anyhow::Result<()> {
        writeln!(
            out,
            "{}",
            paint.heading(&format!("Rendered ({})", self.key))
        )?;
        match (&self.rendered, &self.error) {
            (Some(text), _) => {
                writeln!(out, "{text}")?;
            }
            (None, Some(e)) => writeln!(out, "  (does not render: {e})")?,
            (None, None) => {}
        }
        writeln!(out)?;
        writeln!(out, "{}", paint.heading("Capabilities"))?;
        let caps = serde_json::to_value(self.capabilities)?;
        if let Some(map) = caps.as_object() {
            for (k, v) in map {
                let name = k.trim_start_matches("supports_").replace('_', " ");
                writeln!(out, "  {name:<22} {}", if v == true { "yes" } else { "no" })?;
            }
        }
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.heading(&format!("Findings ({})", self.findings.len()))
        )?;
        if self.findings.is_empty() {
            writeln!(out, "  none")?;
        }
        for f in &self.findings {
            writeln!(
                out,
                "  {} {}: {}",
                paint.severity(f.severity, 7),
                f.code,
                f.message
            )?;
        }
        Ok(())
    }
}
