//! Every strict prefix (issue 7): of the real fixtures and of the header, metadata and tensor
//! infos of the Phi-3-mini- and Qwen2.5-0.5B-shaped files the writer builds (gigabytes, written
//! sparse and memory-mapped). Each prefix is parsed strictly and leniently; both must say
//! `Truncated` with the same `needed` (more than the prefix, at most the head, never less than
//! for a shorter prefix), or, once the head is complete, parse with a layout error (the data is
//! cut short). Fetching exactly `needed` bytes must make progress (checked for every 16th
//! prefix, strictly), and the head estimate is never below `needed` (every 64th). No parse may
//! take longer than [`CASE_LIMIT`].
//!
//! Every prefix, with one exception that keeps the run to seconds: inside the elements of an
//! array of more than [`BIG_ARRAY`] elements in a head larger than [`EXHAUSTIVE_HEAD`] (the
//! Qwen2 vocabulary's 151,936 tokens and 151,387 merges, 5.9 MB: every prefix would be 5.9
//! million parses of up to 0.4 ms), the cuts are: every byte of the array's first and last
//! 4 KiB, then for a string array three cuts of every 16th string (inside its length, at its
//! first byte, in its middle) each with the exact `needed` (the least the whole head could
//! take, then all the array's length fields, while the prefix cannot hold them; then the end
//! of the length or of the string cut), and every 61st
//! byte of any big array. Within one string every cut takes
//! the same path through the parser; the exhaustive run over the other files covers the rest.

use std::ops::Range;
use std::time::{Duration, Instant};

use ggufscope_gguf::{ErrorKind, Gguf, ParseOptions, Severity, Value, ValueType};
use ggufscope_testkit::{presets, read_real};

/// No single prefix (strict and lenient parse, layout check) may take longer.
const CASE_LIMIT: Duration = Duration::from_millis(200);
/// Arrays longer than this are cut per element in heads larger than [`EXHAUSTIVE_HEAD`].
const BIG_ARRAY: u64 = 65_536;
/// Heads up to this size are swept at every byte.
const EXHAUSTIVE_HEAD: usize = 1 << 20;

/// One prefix to check: its length and, when known, the exact `needed` it must report.
type Cut = (usize, Option<u64>);

/// What one prefix gave: `Some(needed)` while inside the head, `None` once it parses. A case
/// over [`CASE_LIMIT`] is timed again (twice at most) and the quickest run counts, so a thread
/// the scheduler set aside on a busy machine does not fail the sweep; a slow parse stays slow.
fn check(full: &[u8], head_end: usize, cut: Cut) -> Option<u64> {
    let (needed, mut took) = check_once(full, head_end, cut);
    for _ in 0..2 {
        if took < CASE_LIMIT {
            break;
        }
        took = took.min(check_once(full, head_end, cut).1);
    }
    assert!(took < CASE_LIMIT, "prefix {}: {took:?}", cut.0);
    needed
}

/// [`check`] once, with the time it took.
fn check_once(full: &[u8], head_end: usize, (len, want): Cut) -> (Option<u64>, Duration) {
    let start = Instant::now();
    let prefix = &full[..len];
    let mut needed = None;
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        match Gguf::parse_with(prefix, options) {
            Err(e) => match *e.kind() {
                ErrorKind::Truncated {
                    needed: n,
                    available,
                } => {
                    assert!(
                        len < head_end,
                        "prefix {len} past the head ({head_end}): {e}"
                    );
                    assert_eq!(available, len as u64);
                    assert!(n > len as u64, "needed {n} at {len}");
                    assert!(
                        n <= head_end as u64,
                        "needed {n} past the head ({head_end})"
                    );
                    assert!(e.offset() <= len as u64, "{e}");
                    if let Some(w) = want {
                        assert_eq!(n, w, "needed at {len}");
                    }
                    assert!(
                        needed.is_none_or(|m| m == n),
                        "strict {needed:?}, lenient {n}"
                    );
                    needed = Some(n);
                }
                ref other => panic!("prefix {len}: {other:?} at byte {}", e.offset()),
            },
            Ok(g) => {
                assert!(
                    len >= head_end,
                    "prefix {len} of a {head_end}-byte head parsed"
                );
                // One cause, one error: the data is cut short.
                let errors: Vec<_> = g
                    .check_layout()
                    .into_iter()
                    .filter(|f| f.severity == Severity::Error)
                    .collect();
                assert!(
                    matches!(&errors[..], [f] if f.issue.code() == "data_truncated"),
                    "prefix {len} of {}: {errors:?}",
                    full.len()
                );
            }
        }
    }
    (needed, start.elapsed())
}

/// Checks every cut (sorted by length) on all cores, then the order: `needed` never decreases
/// as the prefix grows, and every 16th one, fetched, makes progress. Returns how many were
/// checked.
fn sweep(full: &[u8], head_end: usize, cuts: &[Cut]) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut results: Vec<(usize, Option<u64>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    cuts.iter()
                        .skip(t)
                        .step_by(threads)
                        .map(|&cut| (cut.0, check(full, head_end, cut)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    results.sort_unstable_by_key(|r| r.0);
    let mut last = 0;
    for (i, &(len, needed)) in results.iter().enumerate() {
        let Some(needed) = needed else { continue };
        assert!(
            needed >= last,
            "needed went from {last} to {needed} at {len}"
        );
        last = needed;
        if i % 16 == 0 {
            // The estimate a range reader follows never falls short of what is needed (its
            // budget and read counts: `estimate.rs`).
            if i % 64 == 0 {
                let estimate = ggufscope_gguf::estimate_head_len(&full[..len]);
                assert!(
                    estimate >= needed,
                    "estimate {estimate} < needed {needed} at {len}"
                );
            }
            let refetched = &full[..needed as usize];
            match Gguf::parse(refetched) {
                Err(e) => assert!(
                    e.needed().is_some_and(|next| next > needed),
                    "no progress from {needed}: {e}"
                ),
                Ok(_) => assert!(needed >= head_end as u64),
            }
        }
    }
    results.len()
}

/// Where the elements of each big array lie, and the cuts that stand for them.
fn big_array_cuts(g: &Gguf<'_>, full: &[u8]) -> (Vec<Range<usize>>, Vec<Cut>) {
    const EDGE: usize = 4096;
    // Once it has the counts (24 bytes into a v2/v3 file), the parser asks for the least every
    // entry and tensor info could take before it reads any of them.
    let header_floor = Gguf::parse(&full[..24])
        .err()
        .and_then(|e| e.needed())
        .unwrap();
    let mut skipped = Vec::new();
    let mut cuts = Vec::new();
    for kv in g.metadata().iter() {
        let Value::Array(a) = kv.value() else {
            continue;
        };
        if a.len() <= BIG_ARRAY {
            continue;
        }
        let (start, end) = (a.offset() as usize, (a.offset() + a.byte_len()) as usize);
        let inner = start + EDGE..end - EDGE;
        let mut own: Vec<Cut> = inner.clone().step_by(61).map(|len| (len, None)).collect();
        if a.element_type() == ValueType::String {
            // The strings, walked independently of the parser (little-endian u64 lengths). A
            // prefix too short to hold every length field needs at least all of them (the
            // parser checks that before walking); past that, the string it cuts.
            let floor = (start + 8 * a.len() as usize) as u64;
            let want = |cut: usize, end: usize| {
                let cut = cut as u64;
                Some(if cut < header_floor {
                    header_floor
                } else if cut < floor {
                    floor
                } else {
                    end as u64
                })
            };
            let mut at = start;
            for i in 0..a.len() {
                let n = u64::from_le_bytes(full[at..at + 8].try_into().unwrap()) as usize;
                let body = at + 8;
                if i % 16 == 0 {
                    own.push((at + 3, want(at + 3, body)));
                    if n > 0 {
                        own.push((body, want(body, body + n)));
                        own.push((body + n / 2, want(body + n / 2, body + n)));
                    }
                }
                at = body + n;
            }
            assert_eq!(
                at,
                end,
                "`{}`: the walk ends where the array does",
                kv.key()
            );
        }
        cuts.extend(own.into_iter().filter(|c| inner.contains(&c.0)));
        skipped.push(inner);
    }
    (skipped, cuts)
}

/// The cuts of a file: every length below `full.len()`, or, for a head larger than
/// [`EXHAUSTIVE_HEAD`], every length outside the big arrays' elements and the cuts that stand
/// for those.
fn cuts_of(full: &[u8], g: &Gguf<'_>) -> Vec<Cut> {
    let head_end = g.tensor_infos_end() as usize;
    if head_end <= EXHAUSTIVE_HEAD {
        return (0..full.len()).map(|len| (len, None)).collect();
    }
    let (skipped, mut cuts) = big_array_cuts(g, full);
    cuts.extend(
        (0..full.len())
            .filter(|len| !skipped.iter().any(|r| r.contains(len)))
            .map(|len| (len, None)),
    );
    // Where two cuts share a length, keep the one with an exact `needed`.
    cuts.sort_unstable_by_key(|c| (c.0, c.1.is_none()));
    cuts.dedup_by_key(|c| c.0);
    cuts
}

fn sweep_real(name: &str) -> usize {
    let full = read_real(name);
    let g = Gguf::parse(&full).unwrap();
    let head_end = g.tensor_infos_end() as usize;
    let cuts = cuts_of(&full, &g);
    let n = sweep(&full, head_end, &cuts);
    eprintln!("{name}: {n} prefixes of {} bytes", full.len());
    n
}

/// The head of a sparse model file at every byte (or as [`cuts_of`] says), then a few lengths
/// past it: the file parses and its layout says the data is cut short. (On a 32-bit target
/// the Phi-3-mini-sized file cannot be mapped; its first 8 MiB stand for it, see `hold`.)
fn sweep_sparse_model(fixture: &presets::ModelFixture) -> (usize, usize) {
    let tmp = fixture.write_sparse_temp();
    let held = crate::hold(tmp.path());
    let full: &[u8] = &held;
    let g = Gguf::parse(full).unwrap();
    let head_end = g.tensor_infos_end() as usize;
    let data_offset = g.data_offset() as usize;
    let mut cuts: Vec<Cut> = cuts_of(&full[..head_end], &g);
    cuts.extend(
        [
            head_end,
            data_offset,
            data_offset + 1,
            data_offset + 4096,
            full.len() / 2,
            full.len() - 1,
        ]
        .map(|len| (len, None)),
    );
    cuts.sort_unstable_by_key(|c| (c.0, c.1.is_none()));
    cuts.dedup_by_key(|c| c.0);
    let n = sweep(full, head_end, &cuts);
    eprintln!(
        "{n} prefixes of a {head_end}-byte head ({} tensors)",
        g.tensors().len()
    );
    (n, head_end)
}

#[test]
fn every_prefix_of_the_phi3_fixture() {
    assert_eq!(sweep_real("ggml-vocab-phi-3.gguf"), 726_019);
}

#[test]
fn every_prefix_of_the_llama_spm_fixture() {
    assert_eq!(sweep_real("ggml-vocab-llama-spm.gguf"), 723_869);
}

#[test]
fn every_prefix_of_the_bert_fixture() {
    assert_eq!(sweep_real("ggml-vocab-bert-bge.gguf"), 627_549);
}

#[test]
fn every_prefix_of_the_qwen2_fixture_with_its_big_arrays_sampled_per_string() {
    let n = sweep_real("ggml-vocab-qwen2.gguf");
    assert!(n > 100_000, "{n} prefixes");
}

#[test]
fn every_prefix_of_the_phi3_mini_shaped_head() {
    let (n, head_end) = sweep_sparse_model(&presets::phi3_mini_4k());
    assert!(head_end <= EXHAUSTIVE_HEAD, "{head_end}");
    assert!(n > head_end, "{n} prefixes");
}

#[test]
fn every_prefix_of_the_qwen2_5_shaped_head_with_its_vocabulary_sampled_per_string() {
    let (n, head_end) = sweep_sparse_model(&presets::qwen2_5_0_5b());
    assert!(head_end > EXHAUSTIVE_HEAD, "{head_end}");
    assert!(n > 20_000, "{n} prefixes");
}
