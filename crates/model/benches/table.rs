//! The architecture table's run (llama.cpp's loader code for the file's architecture:
//! hyper-parameters, per-layer facts, tensors with the generic `.scale` pass) on the peer
//! benchmark's Gemma-3-like file (`bench/peers.sh`) and on the real Phi-3 vocab-only fixture
//! (the layout the table requires), plus the facts `config` derives from it.
//!
//! `cargo bench -p ggufscope-model --bench table`
#![allow(clippy::expect_used, missing_docs)]

use divan::{black_box, Bencher};
use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_model::table::{self, TensorMode};
use ggufscope_model::ArchFacts;
use ggufscope_testkit::read_real;

/// The generator of `bench/peers.sh`'s files, so that this bench runs on the same bytes.
#[allow(dead_code, unreachable_pub)]
#[path = "../../testkit/examples/bench_files.rs"]
mod bench_files;

fn main() {
    divan::main();
}

fn gemma3_like_map() -> (tempfile::TempDir, ggufscope_gguf::Mapped) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gemma3-like.gguf");
    bench_files::write(bench_files::gemma3_like(), &path).expect("writing the bench file");
    let map = ggufscope_gguf::open(&path).expect("mapping the bench file");
    (dir, map)
}

/// `table::load` alone: what `validate` adds to the parse.
#[divan::bench]
fn table_load_gemma3_like(bencher: Bencher) {
    let (_dir, map) = gemma3_like_map();
    let g = Gguf::parse_with(&map, ParseOptions::lenient()).expect("valid");
    bencher.bench(|| {
        table::load(black_box(&g), "gemma3", TensorMode::File)
            .expect("in the table")
            .n_created
    });
}

/// `ArchFacts::read`: the table's run plus the facts `config` prints.
#[divan::bench]
fn arch_facts_gemma3_like(bencher: Bencher) {
    let (_dir, map) = gemma3_like_map();
    let g = Gguf::parse_with(&map, ParseOptions::lenient()).expect("valid");
    bencher.bench(|| {
        ArchFacts::read(black_box(&g), "gemma3")
            .expect("in the table")
            .0
            .block_count
    });
}

/// A vocab-only file: the layout llama.cpp requires (`TensorMode::Required`).
#[divan::bench]
fn table_load_phi3_vocab(bencher: Bencher) {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).expect("valid fixture");
    bencher.bench(|| {
        table::load(black_box(&g), "phi3", TensorMode::Required)
            .expect("in the table")
            .tensors
            .len()
    });
}
