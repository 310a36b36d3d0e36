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
    if ggufscope_model::lookup(&arch).is_none() && table::table().holds(&arch) {
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
