//! The analysis report of a model whose architecture only the architecture table knows (no
//! Llama-shaped spec): the configuration as llama.cpp reads it, what llama.cpp would refuse,
//! whether a Llama pipeline can run it, and an optional comparison. Markdown and JSON come from
//! this one structure.

use std::io::{self, Write};

use ggufscope_model::{plan, AdapterPlan};
use serde::Serialize;

use crate::render;
use crate::report::compare::CompareReport;
use crate::report::config::FactsReport;
use crate::report::findings::Finding;
use crate::report::vocab::TokenizerReport;

/// The report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableReport {
    /// The command that made it (file names only).
    pub command: String,
    /// File name.
    pub file: String,
    /// File size in bytes, when known.
    pub bytes: Option<u64>,
    /// The configuration.
    pub config: FactsReport,
    /// Format findings, then schema findings (what llama.cpp's loader would refuse).
    pub findings: Vec<Finding>,
    /// Whether a Llama pipeline can run it.
    pub llama_compatibility: AdapterPlan,
    /// The comparison with `--compare`'s file.
    pub comparison: Option<CompareReport>,
    /// The vocabulary as llama.cpp loads it and the chat templates' capabilities.
    pub tokenizer: TokenizerReport,
}

impl TableReport {
    /// Builds the report.
    pub fn new(
        command: String,
        file: String,
        bytes: Option<u64>,
        gguf: &ggufscope_gguf::Gguf<'_>,
        config: FactsReport,
        findings: Vec<Finding>,
        comparison: Option<CompareReport>,
    ) -> Self {
        let tokenizer = TokenizerReport::of(gguf);
        let mut findings = findings;
        findings.extend(tokenizer.findings());
        Self {
            command,
            file,
            bytes,
            llama_compatibility: plan(gguf),
            config,
            findings,
            comparison,
            tokenizer,
        }
    }

    /// Writes the markdown report.
    pub fn markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let f = &self.config.facts;
        writeln!(
            out,
            "# `{}` architecture analysis: `{}`\n",
            f.architecture, self.file
        )?;
        writeln!(out, "Made by `{}`.\n", self.command)?;
        writeln!(out, "## Summary\n")?;
        let attention = f.layers.iter().filter(|l| l.kind == "attention").count();
        writeln!(
            out,
            "- `{}` is a `{}` model{}: {} layers ({} attention, {} recurrent), embedding width {}, context {}.",
            self.file,
            f.architecture,
            self.config
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" (\"{n}\")")),
            f.block_count,
            attention,
            f.recurrent_layers.len(),
            f.embedding_length,
            f.context_length
        )?;
        let params = f
            .parameter_count
            .map_or_else(|| "?".to_owned(), render::grouped);
        match f.file_kind {
            ggufscope_model::FileKind::Model => writeln!(
                out,
                "- It has {} tensors and {params} parameters ({} per token).",
                f.tensor_count,
                f.active_parameter_count
                    .map_or_else(|| "?".to_owned(), render::grouped)
            )?,
            ggufscope_model::FileKind::VocabOnly => writeln!(
                out,
                "- It is a vocab-only file: the tensors llama.cpp's loader requires for this configuration hold {params} parameters (optional tensors not counted)."
            )?,
            // Companion files never reach the model report (see `report::companion`).
            kind => writeln!(out, "- It is a {} file.", kind.as_str())?,
        }
        if f.expert_count > 0 {
            writeln!(
                out,
                "- Mixture of experts: {} experts, {} used per token, {} shared.",
                f.expert_count, f.expert_used_count, f.expert_shared_count
            )?;
        }
        let errors = self.findings.iter().filter(|x| x.is_error()).count();
        writeln!(
            out,
            "- llama.cpp would {}: {} error finding(s).",
            if errors == 0 { "load it" } else { "refuse it" },
            errors
        )?;
        writeln!(
            out,
            "- Llama-compatible: **{}**.",
            match self.llama_compatibility.verdict {
                ggufscope_model::Verdict::Compatible => "yes",
                ggufscope_model::Verdict::CompatibleWithAdapter => "with an adapter",
                ggufscope_model::Verdict::Incompatible => "no",
            }
        )?;

        writeln!(out, "\n## Configuration\n")?;
        writeln!(
            out,
            "As llama.cpp 0c1e570 reads it (the architecture table runs its `load_hparams`).\n"
        )?;
        for (group, rows) in self.config.groups() {
            writeln!(out, "### {group}\n")?;
            writeln!(out, "| field | value | note |")?;
            writeln!(out, "|---|---|---|")?;
            for [field, value, note] in rows {
                writeln!(out, "| `{field}` | {value} | {note} |")?;
            }
            writeln!(out)?;
        }
        if !f.head_count.is_uniform()
            || !f.head_count_kv.is_uniform()
            || !f.feed_forward_length.is_uniform()
            || !f.recurrent_layers.is_empty()
            || !f.sliding_layers.is_empty()
        {
            writeln!(out, "### layers\n")?;
            writeln!(
                out,
                "| layer | kind | sliding | heads | KV heads | FFN | MoE |"
            )?;
            writeln!(out, "|---:|---|---|---:|---:|---:|---|")?;
            for l in &f.layers {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    l.index,
                    l.kind,
                    if l.sliding { "yes" } else { "no" },
                    l.head_count,
                    l.head_count_kv,
                    l.feed_forward_length,
                    if l.moe { "yes" } else { "no" }
                )?;
            }
            writeln!(out)?;
        }

        self.tokenizer.markdown(out)?;
        writeln!(out)?;
        writeln!(out, "## Findings\n")?;
        if self.findings.is_empty() {
            writeln!(out, "None.\n")?;
        } else {
            writeln!(out, "| severity | source | code | message |")?;
            writeln!(out, "|---|---|---|---|")?;
            for x in &self.findings {
                writeln!(
                    out,
                    "| {} | {} | `{}` | {} |",
                    x.severity,
                    x.source.as_str(),
                    x.code,
                    x.message.replace('|', "\\|")
                )?;
            }
            writeln!(out)?;
        }

        writeln!(out, "## Llama compatibility\n")?;
        if self.llama_compatibility.blockers.is_empty() {
            writeln!(out, "No blocker.\n")?;
        } else {
            for b in &self.llama_compatibility.blockers {
                writeln!(out, "- {b}")?;
            }
            writeln!(out)?;
        }
        if let Some(c) = &self.comparison {
            writeln!(out, "## Comparison\n")?;
            c.markdown(out, "###")?;
        }
        Ok(())
    }
}
