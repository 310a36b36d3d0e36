//! `ggufscope pair MODEL COMPANION... [--json]`: whether llama.cpp 0c1e570 would load the model
//! with each companion — a multimodal projector (`--mmproj`), a LoRA adapter (`--lora`), a
//! control vector (`--control-vector`), an importance matrix (`llama-quantize --imatrix`) or a
//! draft model (`--model-draft`) — checked offline, every finding naming its key or tensor.
//! Exit 0 when every pair loads, 1 when llama.cpp would refuse one, 2 when a file cannot be
//! read.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::pair::PairReport;

/// Arguments of `pair`.
#[derive(Debug, Clone, Args)]
pub struct PairArgs {
    /// The model (a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION]).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,

    /// Companion files: projectors, LoRA adapters, control vectors, imatrix files, draft
    /// models (the kind is read from each file).
    #[arg(value_name = "COMPANION", required = true)]
    pub companions: Vec<PathBuf>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `memory`'s companion files: their weights are added to the plan.
#[derive(Debug, Clone, Default, Args)]
pub struct CompanionArgs {
    /// A multimodal projector loaded with the model (llama.cpp's --mmproj).
    #[arg(long, value_name = "FILE")]
    pub mmproj: Option<PathBuf>,

    /// A LoRA adapter loaded with the model (llama.cpp's --lora; repeatable).
    #[arg(long, value_name = "FILE")]
    pub lora: Vec<PathBuf>,

    /// A draft model for speculative decoding (llama.cpp's --model-draft): its weights.
    #[arg(long, value_name = "FILE")]
    pub draft: Option<PathBuf>,
}

impl CompanionArgs {
    /// Every companion given.
    fn files(&self) -> Vec<&PathBuf> {
        self.mmproj
            .iter()
            .chain(&self.lora)
            .chain(self.draft.iter())
            .collect()
    }
}

/// The companions' weights, for `memory` (empty when none was given).
///
/// A projector's vision encoder also gets its compute buffer as `clip_init` reserves it on
/// the CPU with the given flash-attention setting, where its graph is modelled.
pub fn companion_memory(
    args: &CompanionArgs,
    flash_attn: bool,
) -> anyhow::Result<Vec<CompanionMemory>> {
    args.files()
        .into_iter()
        .map(|path| {
            let input = Input::open(path)?;
            let gguf = input.parse()?;
            let w = ggufscope_model::companion::weights(&gguf);
            let (compute, compute_unknown) = match w.kind {
                ggufscope_model::FileKind::Projector => {
                    match ggufscope_model::projector_compute(&gguf, flash_attn) {
                        Ok(c) => (Some(c), None),
                        Err(why) => {
                            tracing::warn!(companion = %input.name(), "projector compute buffer not included: {why}");
                            (None, Some(why))
                        }
                    }
                }
                _ => (None, None),
            };
            Ok(CompanionMemory {
                file: input.name(),
                file_kind: w.kind,
                tensors: w.tensors,
                weights_bytes: w.bytes,
                compute_bytes: compute.as_ref().map(|c| c.compute_bytes),
                compute,
                compute_unknown,
            })
        })
        .collect()
}

/// Adds the companions to `memory`'s output: JSON keys `companions` and
/// `total_with_companions_bytes`, or text lines after the plan.
pub fn write_companion_memory(
    out: &mut dyn Write,
    json: Option<&mut serde_json::Value>,
    total_bytes: u64,
    companions: &[CompanionMemory],
) -> anyhow::Result<()> {
    let total = companions.iter().fold(total_bytes, |t, c| {
        t.saturating_add(c.weights_bytes)
            .saturating_add(c.compute_bytes.unwrap_or(0))
    });
    if let Some(serde_json::Value::Object(map)) = json {
        map.insert("companions".into(), serde_json::to_value(companions)?);
        map.insert("total_with_companions_bytes".into(), total.into());
        return Ok(());
    }
    for c in companions {
        writeln!(
            out,
            "  + {} ({}): {} tensors, {} weights",
            c.file,
            c.file_kind.as_str(),
            c.tensors,
            crate::render::human_bytes(c.weights_bytes)
        )?;
        if let Some(p) = &c.compute {
            writeln!(
                out,
                "    compute buffer {} (CPU, {} image {}×{}, {} patches, flash attention {})",
                crate::render::human_bytes(p.compute_bytes),
                p.projector_type,
                p.warmup_image_size,
                p.warmup_image_size,
                p.n_patches,
                if p.flash_attn { "on" } else { "off" }
            )?;
        } else if let Some(why) = &c.compute_unknown {
            writeln!(out, "    compute buffer not included: {why}")?;
        }
    }
    writeln!(
        out,
        "  total with companions  {} ({})",
        crate::render::grouped(total),
        crate::render::human_bytes(total)
    )?;
    Ok(())
}

/// One companion's weights in `memory`'s output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CompanionMemory {
    /// The file.
    pub file: String,
    /// Its kind.
    pub file_kind: ggufscope_model::FileKind,
    /// Tensors llama.cpp allocates for it.
    pub tensors: u64,
    /// Their bytes.
    pub weights_bytes: u64,
    /// A projector's compute buffer (`compute.compute_bytes`), when its graph is modelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_bytes: Option<u64>,
    /// How that buffer was found: the warmup image and flash attention.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute: Option<ggufscope_model::ProjectorCompute>,
    /// Why a projector's compute buffer is not included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_unknown: Option<String>,
}

/// Runs `pair`.
pub fn run(args: &PairArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let model_input = Input::open(&args.model)?;
    let model = model_input.parse()?;
    let mut checks = Vec::new();
    for path in &args.companions {
        let input = Input::open(path)?;
        let gguf = input.parse()?;
        let check = ggufscope_model::companion::pair(&model, &gguf);
        for f in &check.findings {
            tracing::info!(companion = %input.name(), severity = ?f.severity, code = f.code, "{}", f.message);
        }
        checks.push((input.name(), check));
    }
    let report = PairReport::new(model_input.name(), checks);
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(if report.ok {
        Status::Success
    } else {
        Status::ProblemsFound
    })
}
