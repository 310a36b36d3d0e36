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
pub fn companion_memory(args: &CompanionArgs) -> anyhow::Result<Vec<CompanionMemory>> {
    args.files()
        .into_iter()
        .map(|path| {
            let input = Input::open(path)?;
            let gguf = input.parse()?;
            let w = ggufscope_model::companion::weights(&gguf);
            Ok(CompanionMemory {
                file: input.name(),
                file_kind: w.kind,
                tensors: w.tensors,
                weights_bytes: w.bytes,
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
    let total = companions
        .iter()
        .fold(total_bytes, |t, c| t.saturating_add(c.weights_bytes));
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
    }
    writeln!(
        out,
        "  total with companions  {} ({}; projector compute buffers not included)",
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
