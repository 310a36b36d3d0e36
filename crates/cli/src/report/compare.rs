//! The comparison of two models as `compare` and `report --compare` show it: who is compared,
//! the configuration rows (sections config, attention, rope, tokenizer, size) and the tensor
//! names and shapes, rendered as text or markdown from one structure.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_model::{compare, Field, ModelConfig, Row, TensorRow, TensorSource};
use serde::Serialize;

use crate::render::{self, Align, Paint};
use crate::report::expected;

/// One compared file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// File name (no directories).
    pub file: String,
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// `file` when the tensors are the file's, `expected` for a vocab-only file (the layout
    /// its configuration requires).
    pub tensor_source: TensorSource,
    /// Tensors in the file, or in the expected layout.
    pub tensor_count: u64,
    /// Elements of those tensors, when every shape is known.
    pub parameter_count: Option<u64>,
}

impl Side {
    /// Describes one side.
    pub fn new(file: String, gguf: &Gguf<'_>, cfg: &ModelConfig) -> Self {
        let expected = match (gguf.tensors().is_empty(), cfg.spec()) {
            (true, Some(spec)) => Some(expected::layout(spec, gguf, cfg).1),
            _ => None,
        };
        let (tensor_source, tensor_count, parameter_count) = match expected {
            Some(layout) => {
                let (count, elements) = expected::totals(&layout);
                let complete = layout.iter().all(|t| t.elements().is_some());
                (TensorSource::Expected, count, complete.then_some(elements))
            }
            None => (TensorSource::File, cfg.tensor_count, cfg.parameter_count),
        };
        Self {
            file,
            architecture: cfg.architecture.clone(),
            name: cfg.name.clone(),
            tensor_source,
            tensor_count,
            parameter_count,
        }
    }

    /// `195 tensors, 3,821,079,552 parameters (expected layout: vocab-only file)`.
    pub fn size(&self) -> String {
        let params = self
            .parameter_count
            .map_or_else(|| "?".to_owned(), render::grouped);
        let source = match self.tensor_source {
            TensorSource::File => "in the file",
            TensorSource::Expected => "in the expected layout (vocab-only file)",
            TensorSource::Required => {
                "llama.cpp requires (vocab-only file; optional tensors not counted)"
            }
        };
        format!(
            "{} tensors, {params} parameters {source}",
            self.tensor_count
        )
    }
}

/// The `compare` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareReport {
    /// Column A.
    pub a: Side,
    /// Column B.
    pub b: Side,
    /// Compared fields, by section (`config`, `attention`, `rope`, `tokenizer`, `size`).
    pub rows: Vec<Row>,
    /// Number of rows that differ.
    pub differences: u64,
    /// Tensor names (per-layer ones as `blk.*.…`, layer 0's shape) in each model.
    pub tensors: Vec<TensorRow>,
}

impl CompareReport {
    /// Compares two files of any architectures the table holds.
    pub fn from_facts(
        a: (String, ggufscope_model::FactsSide<'_, '_, '_>),
        b: (String, ggufscope_model::FactsSide<'_, '_, '_>),
    ) -> Self {
        let c = ggufscope_model::compare_facts(a.1, b.1);
        let side = |file: String, s: ggufscope_model::FactsSide<'_, '_, '_>, src| Side {
            file,
            architecture: s.facts.architecture.clone(),
            name: s
                .gguf
                .metadata()
                .get_str("general.name")
                .ok()
                .flatten()
                .map(str::to_owned),
            tensor_source: src,
            tensor_count: match src {
                TensorSource::File => s.facts.tensor_count,
                TensorSource::Expected | TensorSource::Required => {
                    s.loaded
                        .tensors
                        .iter()
                        .filter(|r| r.created && r.flags & 2 == 0)
                        .count() as u64
                }
            },
            parameter_count: s.facts.parameter_count,
        };
        Self {
            a: side(a.0, a.1, c.tensor_sources.0),
            b: side(b.0, b.1, c.tensor_sources.1),
            differences: c.differences().count() as u64,
            rows: c.rows,
            tensors: c.tensors,
        }
    }

    /// Compares two parsed files with their configurations.
    pub fn new(a: (String, &Gguf<'_>, &ModelConfig), b: (String, &Gguf<'_>, &ModelConfig)) -> Self {
        let c = compare((a.1, a.2), (b.1, b.2));
        Self {
            a: Side::new(a.0, a.1, a.2),
            b: Side::new(b.0, b.1, b.2),
            differences: c.differences().count() as u64,
            rows: c.rows,
            tensors: c.tensors,
        }
    }

    /// The differing rows among the fields that tell models apart at a glance, as
    /// `field A vs B`.
    pub fn key_differences(&self) -> Vec<String> {
        const KEY_FIELDS: [&str; 7] = [
            "attention_kind",
            "gqa_group_size",
            "head_dim",
            "context_length",
            "block_count",
            "embedding_length",
            "feed_forward_length",
        ];
        KEY_FIELDS
            .iter()
            .filter_map(|f| self.rows.iter().find(|r| r.field == *f && !r.same))
            .map(|r| format!("{} {} vs {}", r.field, r.a, r.b))
            .collect()
    }

    fn sections(&self) -> Vec<(&'static str, Vec<&Row>)> {
        let mut out: Vec<(&'static str, Vec<&Row>)> = Vec::new();
        for r in &self.rows {
            match out.last_mut() {
                Some((s, rows)) if *s == r.section => rows.push(r),
                _ => out.push((r.section, vec![r])),
            }
        }
        out
    }

    fn tensor_rows(&self) -> Vec<Vec<String>> {
        let shape = |present: bool, dims: &Option<Vec<u64>>| {
            if present {
                render::shape_opt(dims.as_deref())
            } else {
                "-".to_owned()
            }
        };
        self.tensors
            .iter()
            .map(|t| {
                let note = match (t.in_a, t.in_b) {
                    (true, false) => "only in A",
                    (false, true) => "only in B",
                    _ if t.a != t.b => "shapes differ",
                    _ => "",
                };
                vec![
                    t.name.clone(),
                    shape(t.in_a, &t.a),
                    shape(t.in_b, &t.b),
                    note.to_owned(),
                ]
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        [("A", &self.a), ("B", &self.b)]
            .into_iter()
            .filter(|(_, s)| s.tensor_source == TensorSource::Expected)
            .map(|(col, s)| {
                format!(
                    "{col} (`{}`) is vocab-only: its tensors are the layout `{}` requires for its configuration.",
                    s.file, s.architecture
                )
            })
            .collect()
    }

    /// Writes the comparison as aligned text.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        let sides: Vec<Vec<String>> = [("A", &self.a), ("B", &self.b)]
            .into_iter()
            .map(|(col, s)| {
                vec![
                    col.to_owned(),
                    s.file.clone(),
                    s.architecture.clone(),
                    s.size(),
                ]
            })
            .collect();
        render::table(out, paint, "", &[], &sides, &[])?;
        // One alignment for every section, so the columns line up across them.
        let sections = self.sections();
        let cells: Vec<Vec<String>> = sections
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| row_cells(r)))
            .collect();
        let mut lines = render::aligned(&cells, &[]).into_iter();
        for (section, rows) in &sections {
            writeln!(out)?;
            writeln!(out, "{}", paint.heading(section))?;
            for line in lines.by_ref().take(rows.len()) {
                writeln!(out, "  {line}")?;
            }
        }
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.heading("tensors (per-layer names as blk.*, layer 0's shape)")
        )?;
        render::table(
            out,
            paint,
            "  ",
            &["name", "A", "B"],
            &self.tensor_rows(),
            &[],
        )?;
        let notes = self.notes();
        if !notes.is_empty() {
            writeln!(out)?;
        }
        for note in notes {
            writeln!(out, "{}", note.replace('`', ""))?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{} of {} fields differ",
            self.differences,
            self.rows.len()
        )
    }

    /// Writes the comparison as markdown; `h` is the heading prefix of its sections (`##`).
    pub fn markdown(&self, out: &mut dyn Write, h: &str) -> io::Result<()> {
        let sides: Vec<Vec<String>> = [("A", &self.a), ("B", &self.b)]
            .into_iter()
            .map(|(col, s)| {
                vec![
                    col.to_owned(),
                    format!("`{}`", s.file),
                    format!("`{}`", s.architecture),
                    s.name.clone().unwrap_or_default(),
                    s.tensor_count.to_string(),
                    s.parameter_count
                        .map_or_else(|| "?".to_owned(), render::grouped),
                    match s.tensor_source {
                        TensorSource::File => "the file".to_owned(),
                        TensorSource::Expected => "expected layout (vocab-only file)".to_owned(),
                        TensorSource::Required => {
                            "tensors llama.cpp requires (vocab-only file)".to_owned()
                        }
                    },
                ]
            })
            .collect();
        let header = [
            "",
            "file",
            "architecture",
            "name",
            "tensors",
            "parameters",
            "tensors from",
        ];
        let right = [
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
        ];
        render::markdown_table(out, &header, &sides, &right)?;
        writeln!(out)?;
        writeln!(
            out,
            "{h} Configuration\n\n{} of {} fields differ (marked ≠). `-` is absent, or unknowable for a vocab-only file.\n",
            self.differences,
            self.rows.len()
        )?;
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let mut c = vec![r.section.to_owned()];
                c.extend(row_cells(r));
                c
            })
            .collect();
        render::markdown_table(out, &["section", "field", "A", "B", ""], &cells, &[])?;
        writeln!(out)?;
        writeln!(out, "{h} Tensor naming and shapes\n")?;
        writeln!(
            out,
            "Per-layer tensors are listed once as `blk.*.…` with layer 0's shape (ggml `ne` order)."
        )?;
        for note in self.notes() {
            writeln!(out, "{note}")?;
        }
        writeln!(out)?;
        let cells: Vec<Vec<String>> = self
            .tensor_rows()
            .into_iter()
            .map(|mut r| {
                if let Some(name) = r.first_mut() {
                    *name = format!("`{name}`");
                }
                r
            })
            .collect();
        render::markdown_table(out, &["tensor", "A", "B", ""], &cells, &[])
    }
}

fn row_cells(r: &Row) -> Vec<String> {
    vec![
        r.field.to_owned(),
        field(&r.a),
        field(&r.b),
        if r.same {
            String::new()
        } else {
            "≠".to_owned()
        },
    ]
}

/// A value as the other reports show it: floats in their shortest round-trip form (`1e-5`,
/// `10000.0`), like `config`.
fn field(f: &Field) -> String {
    match f {
        Field::Float(v) => format!("{v:?}"),
        other => other.to_string(),
    }
}
