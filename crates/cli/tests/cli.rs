//! Integration tests of the `ggufscope` binary: one test binary, one module per concern.
//! Snapshots (exit code, stdout and stderr) live in `tests/snapshots/`; CI runs with
//! `INSTA_UPDATE=no`, so any drift fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

mod compare;
mod compat;
mod config;
mod errors;
mod hostile;
mod httpd;
mod inspect;
mod llama_models;
mod memory;
mod pair;
mod process;
mod remote;
mod report;
mod split;
mod template;
mod tensors;
mod util;
mod validate;
mod verify;
mod vocab;

/// The `write_preset` example of ggufscope-testkit, included so that the tests build files
/// exactly as the documented command does.
#[allow(dead_code)]
#[path = "../../testkit/examples/write_preset.rs"]
mod write_preset;

/// The generator of the peer benchmark's files (Gemma-3-like and Qwen2-7B-like heads).
#[allow(dead_code, unreachable_pub)]
#[path = "../../testkit/examples/bench_files.rs"]
mod bench_files;
