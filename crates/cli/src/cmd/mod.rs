//! One module per command. Each builds its report (a serde structure) and writes it as JSON or
//! as text rendered from the same structure.

pub mod compare;
pub mod compat;
pub mod config;
pub mod inspect;
pub mod llamafy;
pub mod memory;
pub mod pair;
pub mod report;
pub mod template;
pub mod tensors;
pub mod validate;
pub mod verify;

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::Command;
use crate::exit::Status;
use crate::render::Paint;

/// Runs a command, writing its output to `out`.
pub fn run(command: &Command, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    match command {
        Command::Inspect(args) => inspect::run(args, out, paint),
        Command::Tensors(args) => tensors::run(args, out, paint),
        Command::Config(args) => config::run(args, out, paint),
        Command::Validate(args) => validate::run(args, out, paint),
        Command::Compare(args) => compare::run(args, out, paint),
        Command::Report(args) => report::run(args, out),
        Command::Compat(args) => compat::run(args, out, paint),
        Command::Llamafy(args) => llamafy::run(args, out, paint),
        Command::Memory(args) => memory::run(args, out, paint),
        Command::Verify(args) => verify::run(args, out, paint),
        Command::Template(args) => template::run(args, out, paint),
        Command::Pair(args) => pair::run(args, out, paint),
    }
}

/// Writes one pretty-printed JSON value and a newline. The JSON is built in memory first, so
/// an I/O error (a closed pipe) reaches the caller as a plain `io::Error`.
pub fn write_json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    out.write_all(&json_bytes(value)?)?;
    Ok(())
}

/// A companion file (projector, LoRA adapter, control vector, imatrix) given to a command that
/// needs a model: exit 1 with what the file is and which commands fit it, instead of reading it
/// as a model of an unknown architecture.
pub fn refuse_companion(
    input: &crate::input::Input,
    gguf: &ggufscope_gguf::Gguf<'_>,
) -> anyhow::Result<()> {
    let kind = ggufscope_model::companion::file_kind(gguf);
    if kind.is_companion() {
        return Err(anyhow::anyhow!(
            "{} is a {} file, not a model: `ggufscope config` shows its facts, `ggufscope pair MODEL {}` checks it against a model",
            input.shown(),
            kind.as_str(),
            input.name()
        ))
        .context(crate::exit::Failure::new(Status::ProblemsFound, input.shown()));
    }
    Ok(())
}

/// `general.architecture`, or an empty string when the file has none.
pub fn architecture(gguf: &ggufscope_gguf::Gguf<'_>) -> String {
    gguf.metadata()
        .get_str("general.architecture")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_owned()
}

/// One pretty-printed JSON value and a newline.
pub fn json_bytes(value: &impl Serialize) -> anyhow::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    Ok(text)
}
