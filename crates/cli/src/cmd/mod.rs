//! One module per command. Each builds its report (a serde structure) and writes it as JSON or
//! as text rendered from the same structure.

pub mod inspect;
pub mod tensors;

use std::io::Write;

use serde::Serialize;

use crate::cli::Command;
use crate::exit::Status;
use crate::render::Paint;

/// Runs a command, writing its output to `out`.
pub fn run(command: &Command, out: &mut dyn Write, paint: Paint) -> anyhow::Result<Status> {
    match command {
        Command::Inspect(args) => inspect::run(args, out, paint),
        Command::Tensors(args) => tensors::run(args, out, paint),
    }
}

/// Writes one pretty-printed JSON value and a newline. The JSON is built in memory first, so
/// an I/O error (a closed pipe) reaches the caller as a plain `io::Error`.
pub fn write_json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    out.write_all(&text)?;
    Ok(())
}
