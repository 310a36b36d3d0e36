//! `memory --plot FILE.svg` (and `report --plot-dir`): memory against context length and
//! against offloaded layers, one line per device, drawn with plotters' SVG backend. The numbers
//! drawn are written into the SVG too (`<desc>`, JSON), so that a reader or a test can check
//! them against the plan.

use ggufscope_model::{
    apply_placement, offload_curve, MemoryPlan, PlacementError, PlacementOptions,
};
use serde::Serialize;

/// One device's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    /// `CPU`, `CUDA0`, …
    pub device: String,
    /// `(x, total_bytes)`: x is the context (padded as llama.cpp pads it) or `-ngl`.
    pub points: Vec<(u64, u64)>,
}

/// What the plot draws.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryPlot {
    /// The file.
    pub file: String,
    /// Per device, against the context (`n_ctx` after padding), at the plan's placement.
    pub by_context: Vec<Series>,
    /// Per device, against `-ngl` (0 … `n_layer_all + 1`), at the plan's context.
    pub by_layers: Vec<Series>,
}

/// Contexts drawn: 512, 1024, … doubling up to `max` (at least 512), and `max` itself.
fn contexts(max: u64) -> Vec<u64> {
    let max = max.max(512);
    let mut out: Vec<u64> = std::iter::successors(Some(512u64), |&c| c.checked_mul(2))
        .take_while(|&c| c < max)
        .collect();
    out.push(max);
    out
}

fn by_device(points: &[(u64, &MemoryPlan)]) -> Vec<Series> {
    let names: Vec<String> = points
        .first()
        .map(|(_, p)| p.devices.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            device: name.clone(),
            points: points
                .iter()
                .map(|(x, p)| (*x, p.devices.get(i).map_or(0, |d| d.total_bytes)))
                .collect(),
        })
        .collect()
}

impl MemoryPlot {
    /// Builds the plot's numbers: `replan(n_ctx)` plans at a context, `o` places it, `max_ctx`
    /// is the largest context drawn and `plan` the plan whose offload curve is drawn.
    pub fn build(
        file: String,
        replan: &mut dyn FnMut(u64) -> MemoryPlan,
        o: &PlacementOptions,
        max_ctx: u64,
        plan: &MemoryPlan,
    ) -> Result<Self, PlacementError> {
        let mut ctx_plans = Vec::new();
        for c in contexts(max_ctx) {
            let mut p = replan(c);
            apply_placement(&mut p, o)?;
            ctx_plans.push((p.n_ctx, p));
        }
        let refs: Vec<(u64, &MemoryPlan)> = ctx_plans.iter().map(|(c, p)| (*c, p)).collect();
        let by_context = by_device(&refs);
        // At most ~64 steps of offload.
        let step = (plan.n_layer_all + 1).div_ceil(64).max(1);
        let curve = offload_curve(plan, o, step)?;
        let names: Vec<String> = curve
            .first()
            .map(|c| c.devices.iter().map(|d| d.name.clone()).collect())
            .unwrap_or_default();
        let by_layers = names
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                device: name.clone(),
                points: curve
                    .iter()
                    .map(|c| {
                        (
                            c.n_gpu_layers,
                            c.devices.get(i).map_or(0, |d| d.total_bytes),
                        )
                    })
                    .collect(),
            })
            .collect();
        Ok(Self {
            file,
            by_context,
            by_layers,
        })
    }

    /// The SVG: two charts side by side (MiB against context, log scale; MiB against `-ngl`),
    /// the numbers in `<desc>` as JSON.
    pub fn svg(&self) -> Result<String, String> {
        use plotters::prelude::*;
        let mib = |b: u64| {
            #[allow(clippy::cast_precision_loss)]
            let v = b as f64 / 1_048_576.0;
            v
        };
        let ymax = self
            .by_context
            .iter()
            .chain(&self.by_layers)
            .flat_map(|s| s.points.iter().map(|&(_, y)| mib(y)))
            .fold(1.0f64, f64::max)
            * 1.08;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (1100, 460)).into_drawing_area();
            let e = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
            root.fill(&WHITE).map_err(e)?;
            let root = root
                .titled(
                    &format!("{}: memory per device", self.file),
                    ("sans-serif", 18),
                )
                .map_err(e)?;
            let (left, right) = root.split_horizontally(550);
            #[allow(clippy::cast_precision_loss)]
            let xmax = self
                .by_context
                .iter()
                .flat_map(|s| s.points.iter().map(|&(x, _)| x as f64))
                .fold(1024.0f64, f64::max);
            let mut chart = ChartBuilder::on(&left)
                .caption("against context length (n_ctx)", ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d((512.0f64..xmax).log_scale(), 0.0f64..ymax)
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc("n_ctx (tokens)")
                .y_desc("MiB")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(e)?;
            for (i, s) in self.by_context.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                #[allow(clippy::cast_precision_loss)]
                let pts: Vec<(f64, f64)> =
                    s.points.iter().map(|&(x, y)| (x as f64, mib(y))).collect();
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(e)?
                    .label(s.device.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(e)?;
            #[allow(clippy::cast_precision_loss)]
            let lmax = self
                .by_layers
                .iter()
                .flat_map(|s| s.points.iter().map(|&(x, _)| x as f64))
                .fold(1.0f64, f64::max);
            let mut chart = ChartBuilder::on(&right)
                .caption("against offloaded layers (-ngl)", ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(0.0f64..lmax, 0.0f64..ymax)
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc("n_gpu_layers")
                .y_desc("MiB")
                .draw()
                .map_err(e)?;
            for (i, s) in self.by_layers.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                #[allow(clippy::cast_precision_loss)]
                let pts: Vec<(f64, f64)> =
                    s.points.iter().map(|&(x, y)| (x as f64, mib(y))).collect();
                chart
                    .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                    .map_err(e)?
                    .label(s.device.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(e)?;
            root.present().map_err(e)?;
        }
        // The numbers, for readers and tests: after the opening tag.
        let data = serde_json::to_string(self).map_err(|e| e.to_string())?;
        let data = data
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let desc = format!("\n<desc id=\"ggufscope-memory-plot\">{data}</desc>");
        match buf.find('>') {
            Some(end) => buf.insert_str(end + 1, &desc),
            None => return Err("plotters wrote no SVG".into()),
        }
        Ok(buf)
    }
}

/// The markdown section `report --plot-dir` appends: the picture and the numbers at the ends of
/// each line.
pub fn markdown_section(
    plot: &MemoryPlot,
    link: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use crate::render::human_bytes;
    writeln!(out, "\n## Memory plot\n")?;
    writeln!(
        out,
        "llama.cpp's defaults (f16 cache, one sequence, flash attention) on one CUDA GPU: memory \
         per device against the context with every layer offloaded, and against `-ngl` at the \
         training context (`ggufscope memory --plot`; the numbers are in the SVG's `<desc>`).\n"
    )?;
    writeln!(out, "![memory per device]({link})\n")?;
    writeln!(
        out,
        "| device | n_ctx {} | n_ctx {} | -ngl 0 | all layers |",
        plot.by_context
            .first()
            .and_then(|s| s.points.first())
            .map_or(0, |p| p.0),
        plot.by_context
            .first()
            .and_then(|s| s.points.last())
            .map_or(0, |p| p.0)
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (c, l) in plot.by_context.iter().zip(&plot.by_layers) {
        let first = |s: &Series| s.points.first().map_or(0, |p| p.1);
        let last = |s: &Series| s.points.last().map_or(0, |p| p.1);
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            c.device,
            human_bytes(first(c)),
            human_bytes(last(c)),
            human_bytes(first(l)),
            human_bytes(last(l))
        )?;
    }
    Ok(())
}
