//! Parse throughput on the real fixtures (the Qwen2 vocab: 5.9 MB of metadata, 151,936 tokens
//! and 151,387 merges), on a Phi-3-mini-sized tensor table, and on the peer benchmark's two
//! generated files (`bench/peers.sh`: Gemma-3-like, 262,144 tokens with scores and token types,
//! 236 tensors; Qwen2-7B-like, 152,064 tokens and 151,387 merges, 339 tensors), whose in-process
//! parse issue 7 holds to ≤ 1 ms.
//!
//! `cargo bench -p ggufscope-gguf --bench parse`
#![allow(clippy::expect_used, missing_docs)]

use divan::{black_box, Bencher};
use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_testkit::{presets, read_real};

/// The generator of `bench/peers.sh`'s files, so that this bench parses the same bytes.
#[allow(dead_code, unreachable_pub)]
#[path = "../../testkit/examples/bench_files.rs"]
mod bench_files;

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

/// The whole-file parse `ggufscope` runs (lenient: every KV and tensor info, diagnostics kept),
/// on a memory map of each generated file, plus the layout check every command runs.
#[divan::bench(args = ["gemma3-like", "qwen2-7b-like"])]
fn parse_peer_bench_file(bencher: Bencher, name: &str) {
    let build = match name {
        "gemma3-like" => bench_files::gemma3_like,
        _ => bench_files::qwen2_7b_like,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{name}.gguf"));
    bench_files::write(build(), &path).expect("writing the bench file");
    let map = ggufscope_gguf::open(&path).expect("mapping the bench file");
    // Throughput over the bytes parsed (header, metadata, tensor infos), not the sparse data.
    let head = Gguf::parse(&map).expect("valid").data_offset();
    bencher
        .counter(divan::counter::BytesCount::new(head))
        .bench(|| {
            let g = Gguf::parse_with(black_box(&map), ParseOptions::lenient()).expect("valid");
            g.check_layout().len()
        });
}
