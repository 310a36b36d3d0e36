//! `ggufscope config SOURCE`: the typed configuration, the derived facts and which values are
//! llama.cpp's defaults. `--json` prints `ModelConfig`'s JSON plus `defaulted` and the seed's
//! typed view (`phi3_config` / `qwen_config`) when the architecture matches.

use std::io::Write;

use crate::cli::SourceArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::companion::CompanionReport;
use crate::report::config::{ConfigReport, FactsReport};
use crate::report::vocab::TokenizerReport;
use ggufscope_model::table;
use ggufscope_model::Model;

/// Runs `config`.
pub fn run(args: &SourceArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    // A companion file (projector, LoRA adapter, control vector, imatrix) is not a model of an
    // unknown architecture: its own facts.
    if let Some(report) = CompanionReport::of(input.name(), &gguf) {
        if args.json {
            super::write_json(out, &report)?;
        } else {
            report.render(out, paint)?;
        }
        return Ok(Status::Success);
    }
    let arch = super::architecture(&gguf);
    let tokenizer = TokenizerReport::of(&gguf);
    // The five architectures with a Llama-shaped spec keep their `ModelConfig` (and the
    // story's views); every other one is read by the architecture table alone, and one the
    // table does not hold gets the keys every architecture has (llama.cpp's
    // architecture-independent code; exit 3 is for the commands that need its shapes).
    if !arch.is_empty() && ggufscope_model::lookup(&arch).is_none() {
        let model = Model::new(&gguf).map_err(|e| input.config_error(e))?;
        if !model.in_table() {
            tracing::warn!(
                architecture = %arch,
                "not in the architecture table (llama.cpp {}, {} architectures): only the keys every architecture has are read",
                table::table().version,
                table::table().architectures().len()
            );
        }
        let report = FactsReport::of(&model);
        if args.json {
            super::write_json(out, &with_tokenizer(&report, &tokenizer)?)?;
        } else {
            report.render(out, paint)?;
            tokenizer.render(out, paint)?;
        }
        return Ok(Status::Success);
    }
    let config = input.config(&gguf)?;
    let report = ConfigReport::new(&gguf, config);
    if args.json {
        super::write_json(out, &with_tokenizer(&report, &tokenizer)?)?;
    } else {
        report.render(out, paint)?;
        tokenizer.render(out, paint)?;
    }
    Ok(Status::Success)
}

/// A report's JSON object with the tokenizer section's keys added (`vocab`,
/// `chat_templates`).
fn with_tokenizer(
    report: &impl serde::Serialize,
    tokenizer: &TokenizerReport,
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(report)?;
    if let serde_json::Value::Object(map) = &mut value {
        tokenizer.insert_into(map)?;
    }
    Ok(value)
}
