//! Integration tests of the model crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

mod companion;
mod compare;
mod compat;
mod config;
mod corpus;
mod forward;
mod memory;
mod memory_corpus;
mod projector_compute;
mod schema;
mod text_compute;
mod vocab;

use ggufscope_gguf::{open, Gguf, Mapped, ParseOptions};
use ggufscope_testkit::presets::ModelFixture;

/// A fixture written sparse and mapped (kept alive together).
pub struct Written {
    _tmp: tempfile::NamedTempFile,
    map: Mapped,
}

impl Written {
    pub fn new(f: &ModelFixture) -> Self {
        let tmp = f.write_sparse_temp();
        let map = open(tmp.path()).unwrap();
        Self { _tmp: tmp, map }
    }

    pub fn gguf(&self) -> Gguf<'_> {
        Gguf::parse_with(&self.map, ParseOptions::lenient()).unwrap()
    }
}
