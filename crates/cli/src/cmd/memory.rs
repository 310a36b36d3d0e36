//! `ggufscope memory SOURCE`: what loading the model costs — weights (exact, by type and by
//! layer), the caches llama.cpp builds for the architecture (KV cache, recurrent state, …) for
//! the context, output buffer, compute buffer estimate — and, with `--gpu-mem`, how many layers
//! fit on each GPU. Every architecture of the table is planned (the five with a hand-written spec
//! keep their configuration for the rest of the plan).

use crate::report::memory::MemoryReport;
use std::io::Write;

use anyhow::Context as _;

use ggufscope_gguf::GgmlType;
use ggufscope_model::table;
use ggufscope_model::{
    apply_placement, fit_gpus, memory_implausible, n_cpu_moe_overrides, plan_memory_with,
    ArchError, Backend, MemoryOptions, Model, OverrideTarget, PlacementOptions, SplitMode,
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

/// Runs `memory`.
pub fn run(args: &MemoryArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let arch = super::architecture(&gguf);
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
    // The file is read once by the architecture table; the five architectures with a
    // hand-written spec keep their `ModelConfig` for the weights' estimate.
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
    let cfg = match ggufscope_model::lookup(&arch) {
        Some(_) => Some(input.config(&gguf)?),
        None => None,
    };
    let plan = plan_memory_with(&gguf, cfg.as_ref(), model.run(), options);
    let mut plan = plan;
    let placement = placement_options(&args.placement)?;
    apply_placement(&mut plan, &placement)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| Failure::new(Status::BadInput, "memory"))?;
    let gpu_fit =
        (!args.placement.gpu_mem.is_empty()).then(|| fit_gpus(&plan, &args.placement.gpu_mem));
    let report = MemoryReport {
        schema_version: crate::report::memory::SCHEMA_VERSION,
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
