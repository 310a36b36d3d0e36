//! Test support for ggufscope.
//!
//! - [`raw::Raw`]: writes GGUF bytes field by field, including everything the real writer
//!   refuses to produce (hostile counts, bad types, wrong alignments).
//! - [`presets`]: real model layouts (Phi-3-mini-4k, Qwen2.5-0.5B, tiny ones) as
//!   [`presets::ModelFixture`]s that tests can alter and write, sparse when large.
//! - [`rng::Rng`]: SplitMix64, for seeded sweeps, corpora and generated benchmark files.
//! - [`vocab_ref`]: llama.cpp's vocabulary loader's answers for the vocab fixtures.
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
pub mod vocab_ref;

use std::path::{Path, PathBuf};

/// The repository's fixture folder, `tests/fixtures/` (provenance and licences in its
/// `README.md`). Every test reads its files from here, so a plain clone runs the whole suite.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The four real vocab-only files from llama.cpp's `models/` folder, `tests/fixtures/real/`.
pub fn real_dir() -> PathBuf {
    fixtures_dir().join("real")
}

/// llama.cpp's per-architecture conformance heads (written by `tests/test-llama-archs.cpp`, the
/// tensor data cut off) with `llama-truth.json` and `cuda-truth.json`,
/// `tests/fixtures/llama-archs/`.
pub fn llama_archs_dir() -> PathBuf {
    fixtures_dir().join("llama-archs")
}

/// Every `.gguf` head in [`llama_archs_dir`], sorted by name.
pub fn llama_archs_files() -> Vec<PathBuf> {
    gguf_files_in(&llama_archs_dir())
}

/// The same architectures at other sizes: one folder per size set under
/// `tests/fixtures/llama-archs-sized/` (heads written by `tools/llama-ref/`, stored
/// gzip-compressed as `NAME.gguf.gz`, each set with its own `llama-truth.json`), sorted by name.
/// Read them with [`read_fixture`], name them with [`fixture_name`].
pub fn llama_archs_sized_sets() -> Vec<PathBuf> {
    let dir = fixtures_dir().join("llama-archs-sized");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    sets.sort();
    sets
}

/// Every `.gguf` (or gzip-compressed `.gguf.gz`) file in `dir`, sorted by name.
pub fn gguf_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".gguf") || name.ends_with(".gguf.gz")
        })
        .collect();
    files.sort();
    files
}

/// A fixture's bytes: read as is, or decompressed when its name ends in `.gz`.
pub fn read_fixture(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if path.extension().is_some_and(|ext| ext == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .unwrap_or_else(|e| panic!("decompressing {}: {e}", path.display()));
        out
    } else {
        bytes
    }
}

/// A parsed file's `general.architecture` (panics when it has none: a test fixture does).
pub fn arch_of(g: &ggufscope_gguf::Gguf<'_>) -> String {
    g.metadata()
        .get_str("general.architecture")
        .unwrap()
        .unwrap()
        .to_string()
}

/// A fixture's file name without the `.gz` of a compressed one: the key of its truth file.
pub fn fixture_name(path: &Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.strip_suffix(".gz").unwrap_or(name).to_string()
}

/// The path of one real fixture, e.g. `real_fixture("ggml-vocab-phi-3.gguf")`, in [`real_dir`].
pub fn real_fixture(name: &str) -> PathBuf {
    real_dir().join(name)
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
