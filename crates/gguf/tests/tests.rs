//! The integration tests of the format crate (one binary, one module per concern).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    missing_docs
)]

mod hostile;
mod model_shaped;
mod prefixes;
mod real_files;
mod roundtrip;
mod sweeps;
mod truncation;
