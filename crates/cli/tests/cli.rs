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

mod errors;
mod inspect;
mod process;
mod tensors;
mod util;
