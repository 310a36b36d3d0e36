//! `ggufscope memory SOURCE`: what loading the model costs — weights (exact, by type and by
//! layer), the caches llama.cpp builds for the architecture (KV cache, recurrent state, …) for
//! the context, output buffer, compute buffer estimate — and, with `--gpu-mem`, how many layers
//! fit on each GPU. Every architecture of the table is planned (the five with a hand-written spec
//! keep their configuration for the rest of the plan).

use std::io::Write;

use anyhow::Context as _;

use ggufscope_gguf::GgmlType;
use ggufscope_model::table;
use ggufscope_model::{
    apply_placement, fit_gpus, n_cpu_moe_overrides, plan_memory, plan_memory_table, ArchError,
    Backend, CacheKind, GpuFit, Inconsistency, MemoryOptions, MemoryPlan, OverrideTarget,
    PlacementOptions, SplitMode, TensorOverride, DEFAULT_CUDA_OVERHEAD,
};
use serde::Serialize;

use crate::cli::{MemoryArgs, PlacementArgs};
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
    GgmlType::from_name(name)
        .ok_or_else(|| anyhow::anyhow!("unknown ggml type `{name}`"))
        .with_context(|| Failure::new(Status::BadInput, "memory"))
}

/// The placement options of the command line.
fn placement_options(args: &PlacementArgs) -> anyhow::Result<PlacementOptions> {
    let gpu_opts = !args.gpu_mem.is_empty()
        || args.ngl.is_some()
        || !args.tensor_split.is_empty()
        || args.n_cpu_moe.is_some();
    let backend = match args.backend.as_deref() {
        Some("cuda") => Backend::Cuda,
        Some(_) => Backend::Cpu,
        None if gpu_opts => Backend::Cuda,
        None => Backend::Cpu,
    };
    let mut overrides = Vec::new();
    for o in &args.override_tensor {
        let Some((pattern, dev)) = o.rsplit_once('=') else {
            return Err(anyhow::anyhow!(
                "--override-tensor `{o}`: expected REGEX=DEVICE"
            ))
            .with_context(|| Failure::new(Status::BadInput, "memory"));
        };
        let target = match dev {
            "CPU" | "CUDA_Host" => OverrideTarget::Host,
            d => match d.strip_prefix("CUDA").and_then(|n| n.parse().ok()) {
                Some(n) => OverrideTarget::Gpu(n),
                None => {
                    return Err(anyhow::anyhow!(
                        "--override-tensor `{o}`: unknown buffer type `{d}` (CPU, CUDA_Host, CUDAn)"
                    ))
                    .with_context(|| Failure::new(Status::BadInput, "memory"))
                }
            },
        };
        overrides.push(TensorOverride {
            pattern: pattern.to_owned(),
            target,
        });
    }
    overrides.extend(n_cpu_moe_overrides(args.n_cpu_moe.unwrap_or(0)));
    Ok(PlacementOptions {
        backend,
        n_gpu_layers: args.ngl,
        gpu_mem: args.gpu_mem.iter().map(|&m| Some(m)).collect(),
        tensor_split: args.tensor_split.clone(),
        split_mode: match args.split_mode.as_str() {
            "none" => SplitMode::None,
            "row" => SplitMode::Row,
            _ => SplitMode::Layer,
        },
        main_gpu: args.main_gpu,
        overrides,
        no_kv_offload: args.no_kv_offload,
        use_mmap: !args.no_mmap,
        device_overhead: args.device_overhead.unwrap_or(DEFAULT_CUDA_OVERHEAD),
    })
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
    let mut plan = plan;
    let placement = placement_options(&args.placement)?;
    apply_placement(&mut plan, &placement)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| Failure::new(Status::BadInput, "memory"))?;
    let gpu_fit =
        (!args.placement.gpu_mem.is_empty()).then(|| fit_gpus(&plan, &args.placement.gpu_mem));
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
