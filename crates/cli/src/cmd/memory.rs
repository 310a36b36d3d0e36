//! `ggufscope memory SOURCE`: what loading the model costs — weights (exact, by type and by
//! layer), the caches llama.cpp builds for the architecture (KV cache, recurrent state, …) for
//! the context, output buffer, compute buffer estimate — and, with `--gpu-mem`, how many layers
//! fit on each GPU. Every architecture of the table is planned (the five with a Llama-shaped spec
//! keep their configuration for the rest of the plan).

use crate::report::memory::MemoryReport;
use crate::report::memory_plot::MemoryPlot;
use std::io::Write;

use anyhow::Context as _;

use ggufscope_gguf::GgmlType;
use ggufscope_model::table;
use ggufscope_model::{
    apply_placement, cache_type_refusal, fit_gpus, fit_params, memory_implausible,
    n_cpu_moe_overrides, offload_curve, plan_memory_with, ArchError, Backend, FitMode, FitOptions,
    MemoryOptions, Model, OverrideTarget, PlacementError, PlacementOptions, SplitMode,
    TensorOverride, DEFAULT_CUDA_OVERHEAD,
};

use crate::cli::{MemoryArgs, PlacementArgs};
use crate::exit::{Failure, Status};
use crate::input::Input;
use crate::render::Paint;

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

/// Writes the plot's SVG to `path`.
pub fn write_plot(plot: &MemoryPlot, path: &std::path::Path) -> anyhow::Result<()> {
    let svg = plot
        .svg()
        .map_err(|e| anyhow::anyhow!("drawing the plot: {e}"))?;
    std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "memory plot written");
    Ok(())
}

/// The plot `report --plot-dir` embeds: the file at llama.cpp's defaults (training context,
/// f16 cache, one sequence) on one CUDA GPU with every layer offloaded, by context and by
/// offloaded layers.
pub fn default_plot(input: &Input, gguf: &ggufscope_gguf::Gguf<'_>) -> anyhow::Result<MemoryPlot> {
    let model = Model::new(gguf).map_err(|e| input.config_error(e))?;
    let arch = super::architecture(gguf);
    let cfg = match ggufscope_model::lookup(&arch) {
        Some(_) => Some(input.config(gguf)?),
        None => None,
    };
    let n_ctx = u64::try_from(model.facts().context_length).unwrap_or(0);
    if let Some(why) = memory_implausible(model.run(), n_ctx) {
        return Err(anyhow::anyhow!(
            "the configuration is too large to plan: {why}"
        ))
        .with_context(|| Failure::new(Status::ProblemsFound, input.shown()));
    }
    let mut replan = |n_ctx: u64| {
        plan_memory_with(
            gguf,
            cfg.as_ref(),
            model.run(),
            MemoryOptions {
                n_ctx,
                ..MemoryOptions::default()
            },
        )
    };
    let placement = PlacementOptions {
        backend: Backend::Cuda,
        ..PlacementOptions::default()
    };
    let mut plan = replan(n_ctx);
    let bad = |e: PlacementError| anyhow::anyhow!("{e}");
    apply_placement(&mut plan, &placement).map_err(bad)?;
    MemoryPlot::build(input.name(), &mut replan, &placement, n_ctx, &plan).map_err(bad)
}

/// Runs `memory`.
pub fn run(args: &MemoryArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    super::refuse_companion(&input, &gguf)?;
    let arch = super::architecture(&gguf);
    let options = MemoryOptions {
        n_ctx: args.ctx,
        n_batch: args.batch,
        n_ubatch: args.ubatch,
        n_parallel: args.parallel,
        type_k: ggml_type(args.cache_type_k.as_deref().unwrap_or(&args.kv_type))?,
        type_v: ggml_type(args.cache_type_v.as_deref().unwrap_or(&args.kv_type))?,
        swa_full: args.swa_full,
        kv_unified: args.kv_unified,
        flash_attn: args.flash_attn == "on",
        cpu_repack: args.cpu_repack,
        assumed_weight_type: ggml_type(&args.assume_type)?,
    };
    // The file is read once by the architecture table; the five architectures with a
    // Llama-shaped spec keep their `ModelConfig` for the weights' estimate.
    if ggufscope_model::lookup(&arch).is_none() && !table::table().holds(&arch) {
        return Err(input.config_error(
            ggufscope_model::spec_of(&gguf)
                .err()
                .unwrap_or(ArchError::NoArchitecture),
        ));
    }
    let model = Model::new(&gguf).map_err(|e| input.config_error(e))?;
    let n_ctx = if options.n_ctx == 0 {
        u64::try_from(model.facts().context_length).unwrap_or(0)
    } else {
        options.n_ctx
    };
    if let Some(why) = memory_implausible(model.run(), n_ctx) {
        return Err(anyhow::anyhow!(
            "the configuration is too large to plan: {why}"
        ))
        .with_context(|| Failure::new(Status::ProblemsFound, input.shown()));
    }
    // llama.cpp loads such a file, then aborts building the graph of any context.
    if let Some(r) = model
        .run()
        .graph_refusal
        .as_ref()
        .filter(|r| !r.table_error)
    {
        return Err(anyhow::anyhow!(
            "llama.cpp refuses this context: {} (llama.cpp {})",
            r.message,
            r.source
        ))
        .with_context(|| Failure::new(Status::ProblemsFound, input.shown()));
    }
    if let Some(why) = cache_type_refusal(model.run(), &options) {
        return Err(anyhow::anyhow!("llama.cpp refuses this context: {why}"))
            .with_context(|| Failure::new(Status::ProblemsFound, input.shown()));
    }
    let cfg = match ggufscope_model::lookup(&arch) {
        Some(_) => Some(input.config(&gguf)?),
        None => None,
    };
    let mut replan = |n_ctx: u64| {
        plan_memory_with(
            &gguf,
            cfg.as_ref(),
            model.run(),
            MemoryOptions { n_ctx, ..options },
        )
    };
    let mut placement = placement_options(&args.placement)?;
    let sched = &args.schedule;
    if sched.ngl_step.is_some() && args.placement.backend.is_none() {
        placement.backend = Backend::Cuda;
    }
    let bad = |e: PlacementError| {
        anyhow::anyhow!("{e}").context(Failure::new(Status::BadInput, "memory"))
    };
    let (plan, fit) = match sched.fit.as_deref() {
        Some(mode) => {
            let run = model.run();
            let n_expert = run
                .hparams
                .int("n_expert")
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0);
            let mut fit = FitOptions {
                mode: if mode == "ctx" {
                    FitMode::Ctx
                } else {
                    FitMode::Ngl
                },
                margins: sched.fit_target.clone(),
                n_ctx_min: sched.fit_ctx,
                n_ctx_max: n_ctx,
                n_streams: if options.kv_unified {
                    1
                } else {
                    options.n_parallel.max(1)
                },
                n_expert,
            };
            // --fit ctx: the context is llama.cpp's to choose (`-c 0`), at most --ctx or the
            // training context per sequence.
            if fit.mode == FitMode::Ctx && args.ctx == 0 {
                fit.n_ctx_max = u64::try_from(model.facts().context_length).unwrap_or(0);
            }
            let (outcome, plan) = fit_params(&mut replan, &placement, &fit).map_err(bad)?;
            placement.n_gpu_layers = Some(outcome.n_gpu_layers);
            if !outcome.tensor_split.is_empty() {
                #[allow(clippy::cast_precision_loss)]
                let ts = outcome.tensor_split.iter().map(|&x| x as f64).collect();
                placement.tensor_split = ts;
            }
            for o in &outcome.overrides {
                placement.overrides.push(TensorOverride {
                    pattern: o.pattern.clone(),
                    target: match o.buffer.strip_prefix("CUDA").and_then(|g| g.parse().ok()) {
                        Some(g) => OverrideTarget::Gpu(g),
                        None => OverrideTarget::Host,
                    },
                });
            }
            (plan, Some(outcome))
        }
        None => {
            let mut plan = replan(options.n_ctx);
            apply_placement(&mut plan, &placement).map_err(bad)?;
            (plan, None)
        }
    };
    let curve = match sched.ngl_step {
        Some(k) => Some(offload_curve(&plan, &placement, k).map_err(bad)?),
        None => None,
    };
    if let Some(path) = &sched.plot {
        let max_ctx = if args.ctx == 0 {
            n_ctx
        } else {
            args.ctx.max(n_ctx)
        };
        let plot = MemoryPlot::build(input.name(), &mut replan, &placement, max_ctx, &plan)
            .map_err(bad)?;
        write_plot(&plot, path)?;
    }
    let gpu_fit =
        (!args.placement.gpu_mem.is_empty()).then(|| fit_gpus(&plan, &args.placement.gpu_mem));
    let report = MemoryReport {
        schema_version: crate::report::memory::SCHEMA_VERSION,
        file: input.name(),
        plan,
        gpu_fit,
        fit,
        curve,
    };
    let companions = super::pair::companion_memory(&args.companions, args.flash_attn == "on")?;
    if args.json && !companions.is_empty() {
        let mut value = serde_json::to_value(&report)?;
        let total = report.plan.total_bytes;
        super::pair::write_companion_memory(out, Some(&mut value), total, &companions)?;
        super::write_json(out, &value)?;
    } else if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
        if !companions.is_empty() {
            super::pair::write_companion_memory(out, None, report.plan.total_bytes, &companions)?;
        }
    }
    Ok(Status::Success)
}
