//! The fuzz targets' bodies as tests: over the seed corpus (as built and as committed in
//! `fuzz/corpus/`, fuzzer finds included), the catalogue's large cases, the whole tiny presets,
//! and a few thousand seeded random and mutated inputs. Deterministic: fixed seeds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ggufscope_fuzzcheck::mutate::{mutate, Rng};
use ggufscope_fuzzcheck::{analyze, parse_any, roundtrip, run_target, seeds, TARGETS};

/// No single input may take longer than this through a body (the bodies do more than a parse:
/// every array element is visited and copied, heads are re-encoded, `llamafy` writes).
const CASE_LIMIT: Duration = Duration::from_secs(2);
/// The same for the catalogue's large cases (up to 50 MB, 400,000 keys or tensors): linear
/// work takes well under a second; a quadratic step would take minutes.
const HUGE_CASE_LIMIT: Duration = Duration::from_secs(5);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn timed(what: &str, f: impl FnOnce()) {
    timed_within(CASE_LIMIT, what, f);
}

fn timed_within(limit: Duration, what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?}");
    if took > Duration::from_millis(250) {
        eprintln!("slow: {what} took {took:?}");
    }
}

#[test]
fn committed_corpus_is_what_the_seeds_build() {
    let mut stale = Vec::new();
    let mut total = 0;
    for seed in seeds::corpus() {
        total += seed.bytes.len();
        let path = corpus_dir().join(seed.target).join(&seed.name);
        if std::fs::read(&path).ok().as_deref() != Some(seed.bytes.as_slice()) {
            stale.push(format!("{}/{}", seed.target, seed.name));
        }
    }
    assert!(
        stale.is_empty(),
        "fuzz/corpus is stale ({} files: {:?}…); regenerate it with \
         `cargo run -p ggufscope-fuzzcheck --bin write-corpus`",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
    assert!(total < 2 << 20, "the seed corpus is {total} bytes");
}

#[test]
fn every_seed_passes_every_byte_body() {
    let mut n = 0;
    for seed in seeds::corpus() {
        if seed.target == "roundtrip" {
            timed(&seed.name, || run_target("roundtrip", &seed.bytes));
        } else {
            timed(&seed.name, || parse_any(&seed.bytes));
            timed(&seed.name, || analyze(&seed.bytes));
        }
        n += 1;
    }
    for (name, bytes) in seeds::tiny_preset_files() {
        timed(&name, || parse_any(&bytes));
        timed(&name, || analyze(&bytes));
        n += 1;
    }
    for name in ggufscope_testkit::REAL_FIXTURES {
        let bytes = ggufscope_testkit::read_real(name);
        timed(name, || parse_any(&bytes));
        timed(name, || analyze(&bytes));
        n += 1;
    }
    assert!(n > 200, "{n} seeds");
}

#[test]
fn the_catalogues_large_cases_pass_the_byte_bodies() {
    for (name, bytes) in seeds::huge(false) {
        timed_within(HUGE_CASE_LIMIT, &name, || parse_any(&bytes));
        timed_within(HUGE_CASE_LIMIT, &name, || analyze(&bytes));
    }
}

#[test]
fn every_file_in_the_committed_corpus_passes_its_target() {
    let mut n = 0;
    for target in TARGETS {
        let Ok(dir) = std::fs::read_dir(corpus_dir().join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            timed(&path.display().to_string(), || run_target(target, &bytes));
            n += 1;
        }
    }
    assert!(n >= seeds::corpus().len(), "{n} files in fuzz/corpus");
}

/// Random bytes, and random bytes behind a plausible header (so that most get past the magic).
#[test]
fn seeded_random_inputs_pass_the_byte_bodies() {
    let mut rng = Rng::new(7);
    for i in 0..3000 {
        let len = rng.below(600);
        let mut bytes = rng.bytes(len);
        if i % 2 == 0 {
            let mut head = b"GGUF".to_vec();
            head.extend_from_slice(&(1 + rng.below(3) as u32).to_le_bytes());
            head.extend_from_slice(&(rng.below(4) as u64).to_le_bytes());
            head.extend_from_slice(&(rng.below(6) as u64).to_le_bytes());
            head.extend(bytes);
            bytes = head;
        }
        timed("random input", || parse_any(&bytes));
        timed("random input", || analyze(&bytes));
    }
}

#[test]
fn seeded_random_models_round_trip() {
    let mut rng = Rng::new(11);
    let mut complete = 0;
    let cases = 3000;
    for _ in 0..cases {
        let len = 16 + rng.below(4096);
        let bytes = rng.bytes(len);
        let mut u = ggufscope_fuzzcheck::arbitrary::Unstructured::new(&bytes);
        let start = Instant::now();
        if roundtrip(&mut u).is_ok() {
            complete += 1;
        }
        assert!(start.elapsed() < CASE_LIMIT);
    }
    // The generator must not give up on most inputs.
    assert!(complete * 10 > cases * 9, "{complete} of {cases} completed");
}

/// 1–4 stacked mutations of every parse and analyze seed and of the whole tiny presets.
#[test]
fn seeded_mutations_of_the_seeds_pass_the_byte_bodies() {
    let mut bases: Vec<(String, Vec<u8>)> = seeds::corpus()
        .into_iter()
        .filter(|s| s.target != "roundtrip")
        .map(|s| (s.name, s.bytes))
        .collect();
    bases.extend(seeds::tiny_preset_files());
    let mut rng = Rng::new(0xF00D);
    let mut n = 0;
    while n < 4000 {
        for (name, base) in &bases {
            let mut bytes = base.clone();
            let focus =
                ggufscope_gguf::Gguf::parse_with(base, ggufscope_gguf::ParseOptions::lenient())
                    .map_or(base.len(), |g| g.tensor_infos_end() as usize + 64);
            let mut kinds = Vec::new();
            for _ in 0..1 + rng.below(4) {
                kinds.push(mutate(&mut rng, &mut bytes, focus));
            }
            let what = format!("{name} mutated by {kinds:?}");
            timed(&what, || parse_any(&bytes));
            timed(&what, || analyze(&bytes));
            n += 1;
        }
    }
}
