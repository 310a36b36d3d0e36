//! The `memory` report and its rendering (built and printed by `cmd/memory.rs`).

use crate::render::{self, Paint};
use ggufscope_model::{Backend, CacheKind, CurvePoint, FitMode, FitOutcome, GpuFit, MemoryPlan};
use serde::Serialize;
use std::io::Write;

/// The version of `memory --json`'s shape (`docs/memory-json.md`, `docs/memory.schema.json`):
/// raised when a key is removed, renamed or changes meaning; new keys keep it.
pub const SCHEMA_VERSION: u32 = 1;

/// The `memory` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The file name.
    pub file: String,
    /// The plan: `weights_bytes`, `kv_cache_bytes`, `recurrent_state_bytes`, `output_bytes`,
    /// `compute_bytes`, `total_bytes` and every term behind them.
    #[serde(flatten)]
    pub plan: MemoryPlan,
    /// With `--gpu-mem`: where the layers go (wave 1's greedy estimate).
    pub gpu_fit: Option<GpuFit>,
    /// With `--fit`: llama.cpp's fitted parameters (the plan is made with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitOutcome>,
    /// With `--ngl-step`: one plan per step of offloaded layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<Vec<CurvePoint>>,
}

impl MemoryReport {
    /// Writes the text form.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> std::io::Result<()> {
        let p = &self.plan;
        let b = |n: u64| format!("{} ({})", render::grouped(n), render::human_bytes(n));
        writeln!(
            out,
            "{} at n_ctx {} (padded to 256), ubatch {}, {} sequence(s), KV {}",
            paint.heading(&self.file),
            p.n_ctx,
            p.options.n_ubatch,
            p.options.n_parallel,
            p.options.kv_type_name()
        )?;
        let est = if p.weights_estimated {
            " (estimate: vocab-only file, expected layout as the assumed type)"
        } else {
            ""
        };
        writeln!(out, "  weights        {}{est}", b(p.weights_bytes))?;
        for t in &p.weights_by_type {
            writeln!(
                out,
                "    {:<10} {:>5} tensors  {}",
                t.ggml_type,
                t.tensors,
                b(t.bytes)
            )?;
        }
        let kv_layers = p.layers.iter().filter(|l| l.k_bytes > 0).count();
        let swa = p.layers.iter().filter(|l| l.swa && l.k_bytes > 0).count();
        writeln!(
            out,
            "  KV cache       {} (K {}, V {}; {} layers{})",
            b(p.kv_cache_bytes),
            render::human_bytes(p.k_bytes),
            render::human_bytes(p.v_bytes),
            kv_layers,
            if swa > 0 {
                format!(", {swa} with a sliding window")
            } else {
                String::new()
            }
        )?;
        let has = |kind: CacheKind| p.caches.iter().any(|c| c.kind == kind);
        if has(CacheKind::Recurrent) {
            let layers = p.layers.iter().filter(|l| l.state_bytes > 0).count();
            writeln!(
                out,
                "  recurrent      {} (R and S per sequence, f32; {layers} layers)",
                b(p.recurrent_state_bytes)
            )?;
        }
        if has(CacheKind::CompressorState) {
            writeln!(
                out,
                "  compressor     {} (DeepSeek-V4 compressor state, f32)",
                b(p.compressor_state_bytes)
            )?;
        }
        // One KV cache is the plain case; anything else is listed cache by cache.
        if p.memory_class != "kv_cache" || p.caches.len() != 1 {
            writeln!(
                out,
                "  memory class   {} (llama.cpp {})",
                p.memory_class, p.memory_source
            )?;
            for c in &p.caches {
                let what = match c.kind {
                    CacheKind::Kv => "cells",
                    CacheKind::Recurrent => "rows",
                    CacheKind::CompressorState => "state rows",
                };
                writeln!(
                    out,
                    "    {:<18} {:>7} {what} x {} stream(s), {:>3} layers  {}",
                    c.name,
                    c.cells,
                    c.streams,
                    c.layers.len(),
                    b(c.bytes)
                )?;
            }
        }
        writeln!(out, "  output buffer  {}", b(p.output_bytes))?;
        // The CPU figure is exact where llama.cpp's graph is replayed (`memory::text`).
        let compute = if p.backend == Backend::Cpu && p.cpu_compute_replayed {
            "compute       "
        } else {
            "compute (est.)"
        };
        writeln!(out, "  {compute} {}", b(p.compute_bytes))?;
        writeln!(out, "    {}", p.compute_formula)?;
        writeln!(out, "  total          {}", b(p.total_bytes))?;
        if p.backend != Backend::Cpu {
            writeln!(
                out,
                "\n{} (n_gpu_layers {}, {} offloaded; llama.cpp's placement)",
                paint.heading("Devices"),
                p.placement.n_gpu_layers,
                p.placement.offloaded_layers
            )?;
            writeln!(
                out,
                "  {:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "device", "weights", "KV", "recurrent", "compute", "output", "overhead", "total"
            )?;
            for d in &p.devices {
                let h = render::human_bytes;
                writeln!(
                    out,
                    "  {:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}{}",
                    d.name,
                    h(d.weights_bytes),
                    h(d.kv_cache_bytes),
                    h(d.recurrent_state_bytes),
                    h(d.compute_bytes),
                    h(d.output_bytes),
                    h(d.overhead_bytes),
                    h(d.total_bytes),
                    match (d.budget_bytes, d.fits) {
                        (Some(m), Some(true)) => format!("  fits {}", h(m)),
                        (Some(m), _) => format!("  DOES NOT FIT {}", h(m)),
                        _ => String::new(),
                    }
                )?;
            }
        }
        if let Some(f) = &self.fit {
            writeln!(
                out,
                "\n{} (llama.cpp's common_fit_params; margin {} per GPU)",
                paint.heading(match f.mode {
                    FitMode::Ngl => "Fit: the most layers on the GPUs",
                    FitMode::Ctx => "Fit: the largest context, then the most layers",
                }),
                f.margin_bytes
                    .iter()
                    .map(|&m| render::human_bytes(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            match &f.failure {
                Some(why) => writeln!(out, "  failed: {why}")?,
                None => writeln!(
                    out,
                    "  {}: {}",
                    match f.changed {
                        "none" => "fits as given",
                        "context" => "fits by reducing the context",
                        _ => "fitted",
                    },
                    f.args
                )?,
            }
            writeln!(
                out,
                "  n_ctx {}, n_gpu_layers {}{}; every GPU keeps its margin: {}",
                f.n_ctx,
                f.n_gpu_layers,
                if f.overrides.is_empty() {
                    String::new()
                } else {
                    format!(", {} tensor overrides", f.overrides.len())
                },
                if f.meets_margins { "yes" } else { "NO" }
            )?;
        }
        if let Some(curve) = &self.curve {
            writeln!(
                out,
                "\n{}",
                paint.heading("Offload curve (totals per device)")
            )?;
            let names: Vec<&str> = curve
                .first()
                .map(|c| c.devices.iter().map(|d| d.name.as_str()).collect())
                .unwrap_or_default();
            write!(out, "  {:>5}", "ngl")?;
            for n in &names {
                write!(out, " {n:>10}")?;
            }
            writeln!(out, " {:>10}", "total")?;
            for c in curve {
                write!(out, "  {:>5}", c.n_gpu_layers)?;
                for d in &c.devices {
                    write!(out, " {:>10}", render::human_bytes(d.total_bytes))?;
                }
                writeln!(out, " {:>10}", render::human_bytes(c.total_bytes))?;
            }
        }
        if let Some(fit) = self.gpu_fit.as_ref().filter(|_| p.backend == Backend::Cpu) {
            writeln!(
                out,
                "\n{}",
                paint.heading("GPUs (estimate: whole layers in order, one compute buffer each)")
            )?;
            for g in &fit.gpus {
                writeln!(
                    out,
                    "  gpu {}: {} layers ({}..{}), {} of {}",
                    g.gpu,
                    g.layer_count,
                    g.first_layer,
                    g.first_layer + g.layer_count,
                    render::human_bytes(g.used_bytes),
                    render::human_bytes(g.budget_bytes)
                )?;
            }
            writeln!(
                out,
                "  host: {} layers, {}",
                fit.layers_on_host,
                render::human_bytes(fit.host_bytes)
            )?;
        }
        Ok(())
    }
}
