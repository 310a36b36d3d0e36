//! `ggufscope config SOURCE`: the typed configuration, the derived facts and which values are
//! llama.cpp's defaults. `--json` prints `ModelConfig`'s JSON plus `defaulted` and the seed's
//! typed view (`phi3_config` / `qwen_config`) when the architecture matches.

use std::io::Write;

use crate::cli::SourceArgs;
use crate::exit::Status;
use crate::input::Input;
use crate::render::Paint;
use crate::report::config::ConfigReport;

/// Runs `config`.
pub fn run(args: &SourceArgs, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    let input = Input::open(&args.source)?;
    let gguf = input.parse()?;
    let config = input.config(&gguf)?;
    let report = ConfigReport::new(&gguf, config);
    if args.json {
        super::write_json(out, &report)?;
    } else {
        report.render(out, paint)?;
    }
    Ok(Status::Success)
}
