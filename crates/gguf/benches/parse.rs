//! Parse throughput on the real fixtures (the Qwen2 vocab: 5.9 MB of metadata, 151,936 tokens
//! and 151,387 merges) and on a Phi-3-mini-sized tensor table.
//!
//! `cargo bench -p ggufscope-gguf --bench parse`
#![allow(clippy::expect_used, missing_docs)]

use divan::{black_box, Bencher};
use ggufscope_gguf::Gguf;
use ggufscope_testkit::{presets, read_real};

fn main() {
    divan::main();
}

#[divan::bench(args = ["ggml-vocab-qwen2.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-llama-spm.gguf"])]
fn parse_real(bencher: Bencher, name: &str) {
    let bytes = read_real(name);
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| Gguf::parse(black_box(&bytes)).map(|g| g.metadata().len()));
}

#[divan::bench]
fn parse_and_check_phi3_mini_layout(bencher: Bencher) {
    // Header, metadata and 195 tensor infos, without the 2.2 GB data section.
    let fixture = presets::phi3_mini_4k();
    let tmp = fixture.write_sparse_temp();
    let map = ggufscope_gguf::open(tmp.path()).expect("mapping the fixture");
    bencher.bench(|| {
        let g = Gguf::parse(black_box(&map)).expect("valid fixture");
        g.check_layout().len()
    });
}

#[divan::bench]
fn iterate_qwen2_merges(bencher: Bencher) {
    let bytes = read_real("ggml-vocab-qwen2.gguf");
    let g = Gguf::parse(&bytes).expect("valid fixture");
    let merges = g
        .metadata()
        .get_array("tokenizer.ggml.merges", None)
        .expect("array")
        .expect("present");
    bencher.bench(|| merges.iter().count());
}
