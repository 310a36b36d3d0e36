//! `ggufscope memory SOURCE`: what loading the model costs — weights (exact, by type and by
//! layer), the caches llama.cpp builds for the architecture (KV cache, recurrent state, …) for
//! the context, output buffer, compute buffer estimate — and, with `--gpu-mem`, how many layers
//! fit on each GPU. Every architecture of the table is planned (the five with a hand-written spec
//! keep their configuration for the rest of the plan).

use std::io::Write;

use ggufscope_gguf::GgmlType;
use ggufscope_model::table;
use ggufscope_model::{
    fit_gpus, plan_memory, plan_memory_table, ArchError, CacheKind, GpuFit, Inconsistency,
    MemoryOptions, MemoryPlan,
};
use serde::Serialize;

use crate::cli::MemoryArgs;
use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::{self, Paint};

/// The `memory` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryReport {
    /// The file name.
    pub file: String,
    /// The plan: `weights_bytes`, `kv_cache_bytes`, `recurrent_state_bytes`, `output_bytes`,
    /// `compute_bytes`, `total_bytes` and every term behind them.
    #[serde(flatten)]
    pub plan: MemoryPlan,
    /// With `--gpu-mem`: where the layers go.
    pub gpu_fit: Option<GpuFit>,
}

fn ggml_type(name: &str) -> anyhow::Result<GgmlType> {
    use anyhow::Context;
    GgmlType::from_name(name)
        .ok_or_else(|| anyhow::anyhow!("unknown ggml type `{name}`"))
        .with_context(|| Failure::new(Status::BadInput, "memory"))
}

/// Runs `memory`.
pub fn run(args: &MemoryArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let arch = gguf
        .metadata()
        .get_str("general.architecture")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_owned();
    let options = MemoryOptions {
        n_ctx: args.ctx,
        n_batch: args.batch,
        n_ubatch: args.ubatch,
        n_parallel: args.parallel,
        kv_type: ggml_type(&args.kv_type)?,
        swa_full: args.swa_full,
        kv_unified: false,
        flash_attn: args.flash_attn == "on",
        cpu_repack: args.cpu_repack,
        assumed_weight_type: ggml_type(&args.assume_type)?,
    };
    // The five architectures with a hand-written spec keep their `ModelConfig` (the caches
    // still come from the table); every other one the table holds is planned from the table.
    let plan = if ggufscope_model::lookup(&arch).is_none() && table::table().holds(&arch) {
        let (plan, loaded) = plan_memory_table(&gguf, &arch, options)?;
        if let Some(r) = &loaded.hparams_refusal {
            return Err(
                input.config_error(ArchError::Inconsistent(Inconsistency::Refused {
                    message: r.message.clone(),
                    at: r.source.clone(),
                })),
            );
        }
        plan
    } else {
        let cfg = input.config(&gguf)?;
        plan_memory(&gguf, &cfg, options)
    };
    let gpu_fit = (!args.gpu_mem.is_empty()).then(|| fit_gpus(&plan, &args.gpu_mem));
    let report = MemoryReport {
        file: input.name(),
        plan,
        gpu_fit,
    };
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
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
            p.options.kv_type
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
        writeln!(out, "  compute (est.) {}", b(p.compute_bytes))?;
        writeln!(out, "    {}", p.compute_formula)?;
        writeln!(out, "  total          {}", b(p.total_bytes))?;
        if let Some(fit) = &self.gpu_fit {
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
