//! `ggufscope config SOURCE`: the typed configuration, the derived facts and which values are
//! llama.cpp's defaults. `--json` prints `ModelConfig`'s JSON plus `defaulted` and the seed's
//! typed view (`phi3_config` / `qwen_config`) when the architecture matches.

use std::io::Write;

use crate::cli::SourceArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::config::{ConfigReport, FactsReport};
use ggufscope_model::table;
use ggufscope_model::{ArchError, ArchFacts, Inconsistency};

/// Runs `config`.
pub fn run(args: &SourceArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let arch = gguf
        .metadata()
        .get_str("general.architecture")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_owned();
    // The five architectures with a hand-written spec keep their `ModelConfig` (and the
    // story's views); every other one the table holds is read by the table alone.
    // An architecture the table does not hold gets the generic keys (llama.cpp's
    // architecture-independent code); exit 3 is for the commands that need its shapes.
    let held = table::table().holds(&arch);
    if !held && !arch.is_empty() && ggufscope_model::lookup(&arch).is_none() {
        let (facts, loaded) = ArchFacts::read_generic(&gguf, &arch)?;
        if let Some(r) = loaded.hparams_refusal.as_ref().filter(|r| !r.table_error) {
            return Err(
                input.config_error(ArchError::Inconsistent(Inconsistency::Refused {
                    message: r.message.clone(),
                    at: r.source.clone(),
                })),
            );
        }
        tracing::warn!(
            architecture = %arch,
            "not in the architecture table (llama.cpp {}, {} architectures): only the keys every architecture has are read",
            table::table().version,
            table::table().architectures().len()
        );
        let name = gguf
            .metadata()
            .get_str("general.name")
            .ok()
            .flatten()
            .map(str::to_owned);
        let report = FactsReport { facts, name };
        if args.json {
            super::write_json(out, &report)?;
        } else {
            report.render(out, paint)?;
        }
        return Ok(Status::Success);
    }
    if ggufscope_model::lookup(&arch).is_none() && held {
        let (facts, loaded) = ArchFacts::read(&gguf, &arch)?;
        if let Some(r) = &loaded.hparams_refusal {
            return Err(
                input.config_error(ArchError::Inconsistent(Inconsistency::Refused {
                    message: r.message.clone(),
                    at: r.source.clone(),
                })),
            );
        }
        let name = gguf
            .metadata()
            .get_str("general.name")
            .ok()
            .flatten()
            .map(str::to_owned);
        let report = FactsReport { facts, name };
        if args.json {
            super::write_json(out, &report)?;
        } else {
            report.render(out, paint)?;
        }
        return Ok(Status::Success);
    }
    let config = input.config(&gguf)?;
    let report = ConfigReport::new(&gguf, config);
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
}
