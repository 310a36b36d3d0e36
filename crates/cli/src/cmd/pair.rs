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
