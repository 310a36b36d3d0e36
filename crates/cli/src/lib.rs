//! `ggufscope`: tells the truth about a GGUF model before a GPU worker loads it.
//!
//! The command's code is this library; `src/main.rs` only calls [`main`]. [`embed`] is the
//! small door other programs use (the Python package, `crates/python`): run a command and get
//! its JSON, open a SOURCE (local, `http(s)://`, `hf://`) as the command does, fetch a byte
//! range of a remote file. Every command writes to a `&mut dyn Write`, so it can run without a
//! process.

mod cli;
mod cmd;
pub mod embed;
mod exit;
mod input;
mod logging;
mod render;
mod report;
mod source;
mod views;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::render::Paint;

/// The `ggufscope` command: parse the arguments, start logging, run the command against a
/// buffered stdout, and turn the outcome into an exit code (see `exit.rs`).
pub fn main() -> ExitCode {
    // One command per process: the architecture table's run state is left to the exit.
    ggufscope_model::table::keep_run_state(true);
    let cli = Cli::parse();
    let no_color = cli::no_color_env();
    logging::init(
        cli.verbosity(),
        cli.color.enabled(io::stderr().is_terminal(), no_color),
    );
    let paint = Paint::new(cli.color.enabled(io::stdout().is_terminal(), no_color));
    let mut out = BufWriter::new(io::stdout().lock());
    let outcome = cmd::run(&cli.command, &mut out, paint).and_then(|status| {
        out.flush()?;
        Ok(status)
    });
    match outcome {
        Ok(status) => status.into(),
        Err(err) => {
            // Whatever is still buffered belongs to a failed run; a broken pipe would fail again.
            drop(out.into_parts());
            exit::report_error(&err, &mut io::stderr().lock()).into()
        }
    }
}
