//! `ggufscope memory SOURCE`: what loading the model costs — weights (exact, by type and by
//! layer), KV cache for the context, output buffer, compute buffer estimate — and, with
//! `--gpu-mem`, how many layers fit on each GPU.

use std::io::Write;

use ggufscope_gguf::GgmlType;
use ggufscope_model::{fit_gpus, plan_memory, GpuFit, MemoryOptions, MemoryPlan};
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
    /// The plan: `weights_bytes`, `kv_cache_bytes`, `compute_bytes`, `total_bytes` and every
    /// term behind them.
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
    let cfg = input.config(&gguf)?;
    let options = MemoryOptions {
        n_ctx: args.ctx,
        n_batch: args.batch,
        n_ubatch: args.ubatch,
        n_parallel: args.parallel,
        kv_type: ggml_type(&args.kv_type)?,
        swa_full: args.swa_full,
        flash_attn: args.flash_attn == "on",
        cpu_repack: args.cpu_repack,
        assumed_weight_type: ggml_type(&args.assume_type)?,
    };
    let plan = plan_memory(&gguf, &cfg, options);
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
        let swa = p.layers.iter().filter(|l| l.swa).count();
        writeln!(
            out,
            "  KV cache       {} (K {}, V {}; {} layers{})",
            b(p.kv_cache_bytes),
            render::human_bytes(p.k_bytes),
            render::human_bytes(p.v_bytes),
            p.layers.len(),
            if swa > 0 {
                format!(", {swa} with a sliding window")
            } else {
                String::new()
            }
        )?;
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
