//! The head estimate (issue 17, lean remote reads): a range reader that starts with 1 MiB and
//! then extends what it holds to `next_head_len` ([`read_head`]) reads the head of any of these files in at
//! most 3 reads (1 when it fits the first), and at most 1.25 × the head + 1 MiB in all, however
//! long the file is. Files: the real vocab fixtures, the peer benchmark's Gemma-3-like
//! (262,144 tokens) and Qwen2-7B-like (152,064 tokens, 151,387 merges) heads, the presets, and
//! built heads that are long in other ways.

use ggufscope_gguf::{estimate_head_len, read_head, Gguf, HeadLimits, ParseOptions};
use ggufscope_testkit::{presets, raw::ty, raw::Raw, read_real, REAL_FIXTURES};

/// The generator of `bench/peers.sh`'s files.
#[allow(dead_code, unreachable_pub)]
#[path = "../../testkit/examples/bench_files.rs"]
mod bench_files;

const MIB: u64 = 1 << 20;
const FIRST: u64 = ggufscope_gguf::FIRST_HEAD_READ_BYTES;

/// (reads, bytes read) for a head of `head.len()` bytes at the start of a file of `file_len`,
/// read by [`read_head`] (the reader the CLI runs for local and remote files). Bytes past the
/// head are zeros (tensor data), as many as the reader asks for.
fn simulate(head: &[u8], file_len: u64) -> (u32, u64) {
    let mut source = crate::head::HeadThenZeros::new(head, file_len);
    let got = read_head(&mut source, HeadLimits::new(u64::MAX)).unwrap();
    Gguf::parse_with(&got.bytes, ParseOptions::lenient()).unwrap();
    assert_eq!(got.reads, source.reads);
    (got.reads, got.bytes.len() as u64)
}

/// The head of a file: every byte up to the end of its tensor infos.
fn head_of(bytes: &[u8]) -> Vec<u8> {
    let g = Gguf::parse_with(bytes, ParseOptions::lenient()).unwrap();
    bytes[..g.tensor_infos_end() as usize].to_vec()
}

fn check(name: &str, head: &[u8]) {
    check_with(name, head, true);
}

/// The budget always; at most 3 reads (1 for a head that fits the first) when `reads` is set.
fn check_with(name: &str, head: &[u8], reads_bound: bool) {
    let h = head.len() as u64;
    for file_len in [h, h + 64 * MIB] {
        let (reads, bytes) = simulate(head, file_len);
        eprintln!("{name}: head {h}, file {file_len}: {reads} reads, {bytes} bytes");
        let budget = h + h / 4 + MIB;
        assert!(bytes <= budget, "{name}: {bytes} bytes > {budget}");
        if h <= FIRST {
            assert_eq!(reads, 1, "{name}");
        } else if h < 64 * MIB && reads_bound {
            assert!(reads <= 3, "{name}: {reads} reads");
        }
    }
}

fn sparse_head(fixture: &presets::ModelFixture) -> Vec<u8> {
    let tmp = fixture.write_sparse_temp();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(tmp.path()).unwrap(), 32 * MIB),
        &mut bytes,
    )
    .unwrap();
    head_of(&bytes)
}

#[test]
fn real_fixtures_in_three_reads_within_the_budget() {
    for name in REAL_FIXTURES {
        check(name, &head_of(&read_real(name)));
    }
}

#[test]
fn generated_model_heads_in_three_reads_within_the_budget() {
    check("gemma3-like", &sparse_head(&bench_files::gemma3_like()));
    check("qwen2-7b-like", &sparse_head(&bench_files::qwen2_7b_like()));
    check("phi3-mini-4k", &sparse_head(&presets::phi3_mini_4k()));
    check("qwen2.5-0.5b", &sparse_head(&presets::qwen2_5_0_5b()));
}

/// A head of `n` strings of a vocabulary whose strings grow from `from` to `to` bytes, with
/// the tokenizer keys of a BPE or a SentencePiece file.
fn vocab_head(n: u64, from: u64, to: u64, model: &str, extra_kvs: u64) -> Vec<u8> {
    vocab_head_merges(n, from, to, model, extra_kvs, n)
}

/// [`vocab_head`] with `m` merges (for `gpt2`).
fn vocab_head_merges(n: u64, from: u64, to: u64, model: &str, extra_kvs: u64, m: u64) -> Vec<u8> {
    let spm = model == "llama";
    let bpe = model == "gpt2";
    let kvs = 3 + u64::from(spm) + u64::from(bpe) + extra_kvs;
    let mut r = Raw::le()
        .hdr(3, 0, kvs)
        .kv("tokenizer.ggml.model", ty::STRING)
        .s(model)
        .kv("tokenizer.ggml.tokens", ty::ARRAY)
        .arr(ty::STRING, n);
    let piece = |i: u64| {
        let len = from as i64 + (to as i64 - from as i64) * i as i64 / n.max(1) as i64;
        "x".repeat(len as usize)
    };
    for i in 0..n {
        r = r.s(piece(i));
    }
    if spm {
        r = r.kv("tokenizer.ggml.scores", ty::ARRAY).arr(ty::F32, n);
        for _ in 0..n {
            r = r.u32(0);
        }
    }
    r = r.kv("tokenizer.ggml.token_type", ty::ARRAY).arr(ty::I32, n);
    for _ in 0..n {
        r = r.u32(1);
    }
    if bpe {
        r = r.kv("tokenizer.ggml.merges", ty::ARRAY).arr(ty::STRING, m);
        for i in 0..m {
            r = r.s(format!("{} x", piece(i * n / m)));
        }
    }
    for i in 0..extra_kvs {
        r = r.kv(format!("general.k{i}"), ty::U32).u32(7);
    }
    r.build()
}

#[test]
fn built_vocabularies_in_three_reads_within_the_budget() {
    // Flat and growing vocabularies, BPE and SentencePiece, up to a 40 MB head.
    // Flat and growing vocabularies (real ones grow by about a quarter between the strings
    // seen in the first MiB and the rest), BPE and SentencePiece, up to a 43 MB head.
    check("bpe flat", &vocab_head(200_000, 8, 8, "gpt2", 20));
    check("bpe growing", &vocab_head(200_000, 4, 12, "gpt2", 20));
    check("spm flat", &vocab_head(262_144, 8, 8, "llama", 20));
    check("spm growing", &vocab_head(262_144, 2, 20, "llama", 20));
    check("spm big", &vocab_head(2_000_000, 4, 8, "llama", 5));
    check(
        "no tokenizer model",
        &vocab_head(1_000_000, 6, 10, "none", 0),
    );
    // Llama-3's shape: 128,256 tokens and 280,147 merges.
    check(
        "llama3-like",
        &vocab_head_merges(128_256, 4, 10, "gpt2", 30, 280_147),
    );
    // Strings that grow twelvefold from first to last: more reads, never more bytes.
    check_with("bpe steep", &vocab_head(200_000, 2, 24, "gpt2", 20), false);
    check_with(
        "spm shrinking",
        &vocab_head(262_144, 24, 2, "llama", 20),
        false,
    );
}

#[test]
fn many_small_entries_in_three_reads_within_the_budget() {
    let n = 400_000u64;
    let mut r = Raw::le().hdr(3, 0, n);
    for i in 0..n {
        r = r
            .kv(format!("general.key_{i:07}"), ty::STRING)
            .s("a value of some length");
    }
    check("many entries", &r.build());
}

#[test]
fn the_estimate_is_the_head_once_complete_and_never_below_needed() {
    let full = read_real("ggml-vocab-qwen2.gguf");
    assert_eq!(estimate_head_len(&full), full.len() as u64);
    for cut in [0usize, 3, 24, 1000, 1 << 20, 3 << 20, full.len() - 1] {
        let needed = Gguf::parse(&full[..cut]).unwrap_err().needed().unwrap();
        let est = estimate_head_len(&full[..cut]);
        assert!(est >= needed, "cut {cut}: {est} < {needed}");
    }
}
