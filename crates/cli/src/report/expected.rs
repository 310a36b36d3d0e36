//! The layout an architecture requires for a configuration (`tensors --expected`): every
//! tensor a converted file of this configuration has, with its shape evaluated from the
//! configuration, the formula, and when it must be present.

use std::io::{self, Write};

use ggufscope_gguf::Gguf;
use ggufscope_model::{
    expected_layout, validate, ArchSpec, ExpectedTensor, ModelConfig, Presence, QkvLayout,
};
use serde::Serialize;

use crate::render::{self, Align, Paint};

/// The `tensors --expected` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedReport {
    /// The architecture whose spec gives the layout.
    pub architecture: String,
    /// The Q/K/V layout listed: the file's (layer 0) when it has tensors, else the one
    /// converters write for this architecture.
    pub qkv_layout: QkvLayout,
    /// Every expected tensor, in the order converters write them.
    pub tensors: Vec<ExpectedRow>,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Elements summed over the tensors whose shape is known: the parameter count.
    pub total_elements: u64,
    /// Tensors whose shape is unknown (no vocabulary size, overflow).
    pub unknown_shapes: u64,
}

/// One expected tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedRow {
    /// Full name (`blk.3.attn_qkv.weight`).
    pub name: String,
    /// Shape in ggml `ne` order, `null` when a dimension is unknown.
    pub shape: Option<Vec<u64>>,
    /// The shape as formulas of the configuration (`n_embd`, `2*n_ff`…).
    pub formula: Vec<&'static str>,
    /// When it must be present (see [`presence_label`]).
    pub presence: &'static str,
    /// Number of elements, when the shape is known.
    pub elements: Option<u64>,
}

/// How a presence rule reads in reports: `required`, `optional`, `required (fused qkv)`,
/// `optional (split qkv)`, `optional (tied: token_embd if absent)`.
pub fn presence_label(p: Presence) -> &'static str {
    match p {
        Presence::Required => "required",
        Presence::Optional { .. } => "optional",
        Presence::QkvRequired(QkvLayout::Fused) => "required (fused qkv)",
        Presence::QkvRequired(QkvLayout::Split) => "required (split qkv)",
        Presence::QkvOptional {
            layout: QkvLayout::Fused,
            ..
        } => "optional (fused qkv)",
        Presence::QkvOptional {
            layout: QkvLayout::Split,
            ..
        } => "optional (split qkv)",
        Presence::TiedToTokenEmbd { .. } => "optional (tied: token_embd if absent)",
    }
}

/// The Q/K/V layout of the file's first layer, if it has tensors.
pub fn file_qkv_layout(gguf: &Gguf<'_>, cfg: &ModelConfig) -> Option<QkvLayout> {
    if gguf.tensors().is_empty() {
        None
    } else {
        validate(gguf, cfg).qkv_layout
    }
}

/// The expected layout: the file's Q/K/V layout when it has tensors, else the preferred one.
pub fn layout(
    spec: &ArchSpec,
    gguf: &Gguf<'_>,
    cfg: &ModelConfig,
) -> (QkvLayout, Vec<ExpectedTensor>) {
    let qkv = file_qkv_layout(gguf, cfg).unwrap_or(spec.qkv.preferred);
    (qkv, expected_layout(spec, cfg, Some(qkv)))
}

impl ExpectedReport {
    /// Builds the report.
    pub fn new(spec: &ArchSpec, gguf: &Gguf<'_>, cfg: &ModelConfig) -> Self {
        let (qkv_layout, layout) = layout(spec, gguf, cfg);
        let tensors: Vec<ExpectedRow> = layout
            .iter()
            .map(|t| ExpectedRow {
                name: t.name.clone(),
                elements: t.elements(),
                shape: t.dims.clone(),
                formula: t.formula.clone(),
                presence: presence_label(t.presence),
            })
            .collect();
        Self {
            architecture: cfg.architecture.clone(),
            qkv_layout,
            tensor_count: tensors.len() as u64,
            total_elements: tensors
                .iter()
                .filter_map(|t| t.elements)
                .fold(0u64, u64::saturating_add),
            unknown_shapes: tensors.iter().filter(|t| t.elements.is_none()).count() as u64,
            tensors,
        }
    }

    /// Writes the report as an aligned table followed by the totals.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .tensors
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    render::shape_opt(t.shape.as_deref()),
                    format!("[{}]", t.formula.join(", ")),
                    t.presence.to_owned(),
                    render::count_opt(t.elements),
                ]
            })
            .collect();
        let header = ["name", "shape", "formula", "presence", "elements"];
        let align = [
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
        ];
        render::table(out, paint, "", &header, &rows, &align)?;
        writeln!(out)?;
        write!(
            out,
            "{} tensors expected for {} ({} qkv), {} elements ({}): the parameter count of this layout",
            self.tensor_count,
            self.architecture,
            qkv_name(self.qkv_layout),
            render::grouped(self.total_elements),
            render::approx_count(self.total_elements),
        )?;
        if self.unknown_shapes > 0 {
            write!(out, "; {} tensors of unknown shape", self.unknown_shapes)?;
        }
        writeln!(out)
    }
}

/// Number of tensors and elements (those of known shape) of a layout.
pub fn totals(layout: &[ExpectedTensor]) -> (u64, u64) {
    let elements = layout
        .iter()
        .filter_map(ExpectedTensor::elements)
        .fold(0u64, u64::saturating_add);
    (layout.len() as u64, elements)
}

/// `fused` or `split`.
pub fn qkv_name(q: QkvLayout) -> &'static str {
    match q {
        QkvLayout::Fused => "fused",
        QkvLayout::Split => "split",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_only_phi3_expects_the_real_layout() {
        let bytes = ggufscope_testkit::read_real("ggml-vocab-phi-3.gguf");
        let gguf = Gguf::parse(&bytes).unwrap();
        let cfg = ModelConfig::from_gguf(&gguf).unwrap();
        let spec = ggufscope_model::spec_of(&gguf).unwrap();
        let r = ExpectedReport::new(spec, &gguf, &cfg);
        assert_eq!(r.qkv_layout, QkvLayout::Fused);
        assert_eq!((r.tensor_count, r.total_elements), (195, 3_821_079_552));
        assert_eq!(r.unknown_shapes, 0);
        let up = r
            .tensors
            .iter()
            .find(|t| t.name == "blk.0.ffn_up.weight")
            .unwrap();
        assert_eq!(up.shape, Some(vec![3072, 16384]));
        assert_eq!(up.formula, vec!["n_embd", "2*n_ff"]);
        let output = r.tensors.last().unwrap();
        assert_eq!(output.name, "output.weight");
        assert_eq!(output.presence, "optional (tied: token_embd if absent)");
    }
}

/// `tensors --expected` for an architecture only the table knows: every tensor llama.cpp's
/// loader asks for with this configuration, the shape it requires, whether it must be
/// present, and the llama.cpp line that asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableLayoutReport {
    /// The architecture.
    pub architecture: String,
    /// Every `create_tensor` call, in llama.cpp's order.
    pub tensors: Vec<TableLayoutRow>,
    /// Tensors llama.cpp would create (required ones, and optional ones the file has).
    pub tensor_count: u64,
    /// Their elements summed: the parameter count of this layout.
    pub total_elements: u64,
}

/// One tensor llama.cpp asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableLayoutRow {
    /// Full name.
    pub name: String,
    /// The shape llama.cpp requires (ggml `ne` order).
    pub shape: Vec<i64>,
    /// `required`, `optional`, `tied` (llama.cpp reuses another tensor) or `unused` (read,
    /// then ignored: `TENSOR_SKIP` or an op of `none`).
    pub presence: &'static str,
    /// Whether the layout includes it (a required tensor, or an optional one the file has).
    pub created: bool,
    /// Elements.
    pub elements: u64,
    /// The llama.cpp source line that asks for it.
    pub source: String,
}

impl TableLayoutReport {
    /// From a run of the table (in `Required` mode for a vocab-only file).
    pub fn new(l: &ggufscope_model::table::Loaded) -> Self {
        let tensors: Vec<TableLayoutRow> = l
            .tensors
            .iter()
            .map(|r| {
                let elements = r
                    .shape
                    .iter()
                    .map(|&d| u64::try_from(d).unwrap_or(0))
                    .fold(1u64, u64::saturating_mul);
                TableLayoutRow {
                    name: r.name.clone(),
                    shape: r.shape.clone(),
                    presence: if r.flags & 2 != 0 {
                        "tied"
                    } else if r.unused {
                        "unused"
                    } else if r.flags & 1 != 0 {
                        "optional"
                    } else {
                        "required"
                    },
                    created: r.created && r.flags & 2 == 0,
                    elements,
                    source: format!("{}:{}", r.file, r.line),
                }
            })
            .collect();
        let created = tensors.iter().filter(|t| t.created);
        Self {
            architecture: l.arch.clone(),
            tensor_count: created.clone().count() as u64,
            total_elements: created.map(|t| t.elements).fold(0, u64::saturating_add),
            tensors,
        }
    }

    /// Writes the layout as an aligned table and a total.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .tensors
            .iter()
            .filter(|t| t.created || t.presence == "optional")
            .map(|t| {
                let dims: Vec<String> = t.shape.iter().map(i64::to_string).collect();
                vec![
                    t.name.clone(),
                    format!("[{}]", dims.join(", ")),
                    if t.created || t.presence != "optional" {
                        t.presence.to_owned()
                    } else {
                        "optional (absent)".to_owned()
                    },
                    t.elements.to_string(),
                    t.source.clone(),
                ]
            })
            .collect();
        render::table(
            out,
            paint,
            "",
            &["name", "shape", "presence", "elements", "llama.cpp"],
            &rows,
            &[
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
            ],
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "{} tensors llama.cpp creates for {}, {} elements ({}): the parameter count of this layout",
            self.tensor_count,
            self.architecture,
            render::grouped(self.total_elements),
            render::approx_count(self.total_elements),
        )
    }
}
