//! The analysis report as markdown: a renderer of [`AnalysisReport`] and nothing else, so the
//! markdown and `report --json` say the same things.

use std::io::{self, Write};

use ggufscope_model::TensorSource;

use crate::render::{self, markdown_table, Align};
use crate::report::analysis::AnalysisReport;
use crate::report::tensor_table::TensorGroup;

impl AnalysisReport {
    /// Writes the report as markdown.
    pub fn markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let c = &self.config.config;
        writeln!(
            out,
            "# `{}` architecture analysis: `{}`\n",
            c.architecture, self.file
        )?;
        writeln!(
            out,
            "Produced by `{}` ({}) from these files (names without their directories):\n",
            self.command, self.tool
        )?;
        let inputs: Vec<Vec<String>> = self
            .inputs
            .iter()
            .map(|i| {
                vec![
                    format!("`{}`", i.file),
                    render::grouped(i.bytes),
                    format!("`{}`", i.architecture),
                    i.name.clone().unwrap_or_default(),
                    i.tensor_count.to_string(),
                    i.description.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let right = [
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Right,
        ];
        let header = [
            "file",
            "bytes",
            "architecture",
            "name",
            "tensors",
            "description",
        ];
        markdown_table(out, &header, &inputs, &right)?;

        writeln!(out, "\n## Summary\n")?;
        for s in &self.summary {
            writeln!(out, "- {s}")?;
        }

        writeln!(out, "\n## Configuration\n")?;
        writeln!(
            out,
            "Read with the file's own key prefix (`{}.*`). \"key absent\" marks llama.cpp's default.\n",
            c.architecture
        )?;
        let rows: Vec<Vec<String>> = self
            .config
            .groups()
            .into_iter()
            .flat_map(|(group, rows)| {
                rows.into_iter()
                    .map(move |[f, v, n]| vec![group.to_owned(), format!("`{f}`"), v, n])
            })
            .collect();
        markdown_table(out, &["group", "field", "value", "note"], &rows, &[])?;
        self.seed_view(out)?;
        self.tokenizer.markdown(out)?;

        writeln!(out, "\n## Derived facts\n")?;
        let rows: Vec<Vec<String>> = self
            .derived
            .iter()
            .map(|f| vec![f.fact.to_owned(), f.value.clone(), f.how.clone()])
            .collect();
        markdown_table(out, &["fact", "value", "how"], &rows, &[])?;

        let a = &self.attention;
        writeln!(out, "\n## Attention\n")?;
        writeln!(
            out,
            "**{}**: {} query heads, {} KV heads, group {}, head_dim {}.\n",
            a.kind, a.heads, a.kv_heads, a.group, a.head_dim
        )?;
        writeln!(out, "{}", a.explanation.join(" "))?;

        self.tensors_section(out)?;
        self.compat_section(out)?;

        writeln!(out, "\n## Schema findings\n")?;
        if self.findings.is_empty() {
            writeln!(out, "None: the format and schema checks found nothing.")?;
        } else {
            let rows: Vec<Vec<String>> = self
                .findings
                .iter()
                .map(|f| {
                    let at = f
                        .offset
                        .map(|o| format!(" (at byte {o})"))
                        .unwrap_or_default();
                    vec![
                        f.severity.to_owned(),
                        f.source.as_str().to_owned(),
                        format!("`{}`", f.code),
                        format!("{}{at}", f.message),
                    ]
                })
                .collect();
            markdown_table(out, &["severity", "source", "code", "message"], &rows, &[])?;
        }

        if let Some(cmp) = &self.comparison {
            writeln!(out, "\n## Comparison with `{}`\n", cmp.b.file)?;
            cmp.markdown(out, "###")?;
        }

        writeln!(out, "\n## The story's assumptions against the file\n")?;
        if self.assumptions.is_empty() {
            writeln!(
                out,
                "The story's assumptions are about Phi-3 (`phi3`) and Qwen2.5 (`qwen2`) files; none apply to a `{}` file.",
                c.architecture
            )?;
        } else {
            writeln!(
                out,
                "What the story (LT-029, \"Phi-3 Metadata Analysis\") assumed, and what `{}` says.\n",
                self.file
            )?;
            let rows: Vec<Vec<String>> = self
                .assumptions
                .iter()
                .map(|a| {
                    vec![
                        a.claim.to_owned(),
                        a.assumed.clone(),
                        a.found.clone(),
                        if a.holds { "✅" } else { "❌" }.to_owned(),
                    ]
                })
                .collect();
            markdown_table(out, &["claim", "assumed", "found", "holds"], &rows, &[])?;
        }
        Ok(())
    }

    fn compat_section(&self, out: &mut dyn Write) -> io::Result<()> {
        let p = &self.llama_adapter;
        writeln!(out, "\n## Llama compatibility\n")?;
        writeln!(
            out,
            "Verdict for a `{}` pipeline: **{}** (as `ggufscope compat` reports it).",
            p.target,
            p.verdict.as_str()
        )?;
        if !p.steps.is_empty() {
            writeln!(out, "\nAdapter steps (what `ggufscope llamafy` does), computed from the configuration:\n")?;
            for (i, step) in p.steps.iter().enumerate() {
                writeln!(out, "{}. {}", i + 1, step.describe())?;
            }
        }
        if !p.blockers.is_empty() {
            writeln!(out, "\nWhy it cannot be adapted:\n")?;
            for b in &p.blockers {
                writeln!(out, "- {b}")?;
            }
        }
        if !p.remaining_differences.is_empty() {
            writeln!(out, "\nDifferences that remain after the adapter:\n")?;
            for d in &p.remaining_differences {
                writeln!(out, "- {d}")?;
            }
        }
        Ok(())
    }

    fn seed_view(&self, out: &mut dyn Write) -> io::Result<()> {
        let (view, json) = match (&self.config.phi3_config, &self.config.qwen_config) {
            (Some(v), _) => ("Phi3Config", serde_json::to_string_pretty(v)),
            (None, Some(v)) => ("QwenConfig", serde_json::to_string_pretty(v)),
            (None, None) => return Ok(()),
        };
        let Ok(json) = json else {
            return Ok(());
        };
        writeln!(out, "\nThe story's `{view}`, filled from this file:\n")?;
        writeln!(out, "```json\n{json}\n```")
    }

    fn tensors_section(&self, out: &mut dyn Write) -> io::Result<()> {
        let t = &self.tensors;
        writeln!(out, "\n## Tensors\n")?;
        let last = match t.source {
            TensorSource::Expected | TensorSource::Required => {
                writeln!(
                    out,
                    "The file is vocab-only: these are the tensors `{}` requires for this configuration (its expected layout), not tensors read from the file. Shapes are in ggml `ne` order.\n",
                    self.config.config.architecture
                )?;
                "formula"
            }
            TensorSource::File => {
                writeln!(out, "The file's tensors, per-layer ones grouped by name. Shapes are in ggml `ne` order.\n")?;
                "type"
            }
        };
        let rows: Vec<Vec<String>> = t.groups.iter().map(group_cells).collect();
        let header = ["tensor", "count", "shape", "elements (each)", last];
        let align = [Align::Left, Align::Right, Align::Left, Align::Right];
        markdown_table(out, &header, &rows, &align)?;
        let params = t.parameter_count.map_or_else(
            || "an unknown number of parameters".to_owned(),
            |p| {
                format!(
                    "{} parameters ({})",
                    render::grouped(p),
                    render::approx_count(p)
                )
            },
        );
        writeln!(out, "\n**{} tensors, {params}.**", t.tensor_count)
    }
}

fn group_cells(g: &TensorGroup) -> Vec<String> {
    let name = match &g.layers {
        Some(layers) => format!("`{}` (N = {layers})", g.name),
        None => format!("`{}`", g.name),
    };
    let last = if g.types.is_empty() {
        format!("[{}]", g.formula.join(", "))
    } else {
        let types: Vec<String> = g
            .types
            .iter()
            .map(|t| {
                if g.types.len() == 1 {
                    t.ty.clone()
                } else {
                    format!("{} x{}", t.ty, t.count)
                }
            })
            .collect();
        types.join(", ")
    };
    vec![
        name,
        g.count.to_string(),
        render::shape_opt(g.shape.as_deref()),
        g.elements.map_or_else(|| "?".to_owned(), render::grouped),
        last,
    ]
}
