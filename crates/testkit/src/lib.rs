//! Test support for ggufscope.
//!
//! - [`raw::Raw`]: writes GGUF bytes field by field, including everything the real writer
//!   refuses to produce (hostile counts, bad types, wrong alignments).
//! - [`presets`]: real model layouts (Phi-3-mini-4k, Qwen2.5-0.5B, tiny ones) as
//!   [`presets::ModelFixture`]s that tests can alter and write, sparse when large.
//! - [`rng::Rng`]: SplitMix64, for seeded sweeps, corpora and generated benchmark files.
#![deny(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::indexing_slicing
)]

pub mod presets;
pub mod raw;
pub mod rng;

use std::path::{Path, PathBuf};

/// The folder of real GGUF files shipped beside the repository (`../shared/fixtures/real`).
pub fn real_fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/real")
}

/// The folder of the real fixtures copied into the repository (`tests/fixtures`), so that a
/// plain clone can run the example and the tests that use them.
pub fn bundled_fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The path of one real fixture, e.g. `real_fixture("ggml-vocab-phi-3.gguf")`: the shared copy
/// when it is there, else the bundled one.
pub fn real_fixture(name: &str) -> PathBuf {
    let shared = real_fixtures_dir().join(name);
    if shared.exists() {
        shared
    } else {
        bundled_fixtures_dir().join(name)
    }
}

/// Reads a real fixture into memory.
pub fn read_real(name: &str) -> Vec<u8> {
    let path = real_fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The four real vocab-only fixtures.
pub const REAL_FIXTURES: [&str; 4] = [
    "ggml-vocab-phi-3.gguf",
    "ggml-vocab-qwen2.gguf",
    "ggml-vocab-llama-spm.gguf",
    "ggml-vocab-bert-bge.gguf",
];
