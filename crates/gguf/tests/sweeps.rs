//! Mutation sweep (issue 7): 100,000 seeded single- and multi-byte mutations of the tiny
//! presets and of the real fixtures' first 64 KiB. Each case gives a typed error or a valid
//! parse, never a panic, and finishes within a time bound. (The prefix sweeps are in
//! `prefixes.rs`.)

use std::time::{Duration, Instant};

use ggufscope_gguf::{ErrorKind, Gguf, ParseOptions, Value};
use ggufscope_testkit::rng::Rng;
use ggufscope_testkit::{presets, raw, read_real, REAL_FIXTURES};

/// No single parse (strict and lenient, with the layout check) may take longer.
const CASE_LIMIT: Duration = Duration::from_millis(200);

const INTERESTING: [u64; 14] = [
    0,
    1,
    2,
    8,
    9,
    12,
    13,
    0xFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0x1_0000_0000,
    1 << 40,
    0x7FFF_FFFF_FFFF_FFFF,
    u64::MAX,
];

/// Overwrites 1–8 bytes of `bytes[..focus]` in place: a random byte, a flipped bit, a random
/// run, or an interesting value as a `u32` or `u64` in either byte order. Returns what to
/// restore: `(offset, original bytes)`.
fn overwrite(rng: &mut Rng, bytes: &mut [u8], focus: usize) -> (usize, Vec<u8>) {
    let at = rng.below(focus.min(bytes.len()));
    let new: Vec<u8> = match rng.below(7) {
        0 => vec![(rng.next_u64() & 0xFF) as u8],
        1 => vec![bytes.get(at).copied().unwrap_or(0) ^ (1 << rng.below(8))],
        2 => (0..2 + rng.below(7))
            .map(|_| (rng.next_u64() & 0xFF) as u8)
            .collect(),
        _ => {
            let v = INTERESTING[rng.below(INTERESTING.len())];
            match rng.below(4) {
                0 => (v as u32).to_le_bytes().to_vec(),
                1 => (v as u32).to_be_bytes().to_vec(),
                2 => v.to_le_bytes().to_vec(),
                _ => v.to_be_bytes().to_vec(),
            }
        }
    };
    let end = (at + new.len()).min(bytes.len());
    let old = bytes[at..end].to_vec();
    bytes[at..end].copy_from_slice(&new[..end - at]);
    (at, old)
}

/// A mutation that changes the length: a random run inserted, 1–16 bytes deleted, or the
/// input truncated, within `..focus`.
fn restructure(rng: &mut Rng, bytes: &mut Vec<u8>, focus: usize) {
    let at = rng.below(focus.min(bytes.len()));
    match rng.below(3) {
        0 => {
            let run: Vec<u8> = (0..1 + rng.below(16))
                .map(|_| (rng.next_u64() & 0xFF) as u8)
                .collect();
            bytes.splice(at..at, run);
        }
        1 => {
            let n = (1 + rng.below(16)).min(bytes.len() - at);
            bytes.drain(at..at + n);
        }
        _ => bytes.truncate(at),
    }
}

/// Parses strictly and leniently, checks the layout, sizes every tensor and walks every array:
/// whatever the input, this returns (errors are values).
fn exercise(bytes: &[u8]) -> (bool, bool) {
    let strict = Gguf::parse(bytes);
    let lenient = Gguf::parse_with(bytes, ParseOptions::lenient());
    if strict.is_ok() {
        assert!(lenient.is_ok(), "strictly valid, leniently invalid");
    }
    for g in [strict.as_ref().ok(), lenient.as_ref().ok()]
        .into_iter()
        .flatten()
    {
        let _ = g.check_layout();
        for t in g.tensors() {
            let _ = (t.n_bytes(), g.tensor_data(t));
        }
        for kv in g.metadata().iter() {
            if let Value::Array(a) = kv.value() {
                assert_eq!(a.iter().count() as u64, a.len());
            }
        }
    }
    for e in [strict.as_ref().err(), lenient.as_ref().err()]
        .into_iter()
        .flatten()
    {
        assert!(e.offset() <= bytes.len() as u64, "{e}");
        if let ErrorKind::Truncated { needed, .. } = *e.kind() {
            assert!(needed > bytes.len() as u64);
        }
    }
    (strict.is_ok(), lenient.is_ok())
}

#[test]
fn a_hundred_thousand_seeded_mutations_never_panic_and_stay_fast() {
    let mut bases: Vec<(String, Vec<u8>)> = vec![
        ("tiny_llama".into(), presets::tiny_llama().to_bytes()),
        ("tiny_phi3".into(), presets::tiny_phi3().to_bytes()),
        ("tiny_qwen2".into(), presets::tiny_qwen2().to_bytes()),
        ("t2".into(), raw::t2()),
    ];
    for name in REAL_FIXTURES {
        let mut bytes = read_real(name);
        bytes.truncate(64 << 10);
        bases.push((format!("{name} (first 64 KiB)"), bytes));
    }
    let mut rng = Rng::new(0x1551_0007);
    let (mut cases, mut strict_ok, mut lenient_ok) = (0usize, 0usize, 0usize);
    let mut slowest = Duration::ZERO;
    let total = Instant::now();
    while cases < 100_000 {
        for (name, base) in &mut bases {
            // Where the parser reads: the header, metadata and tensor infos (and a little of
            // the data); the rest of the tiny presets is tensor data.
            let focus = Gguf::parse_with(base, ParseOptions::lenient())
                .map_or(base.len(), |g| g.data_offset() as usize + 64)
                .min(base.len());
            // Mostly one mutation, sometimes two to four stacked; one case in ten changes the
            // length (on a copy), the others overwrite in place and are undone afterwards.
            let stacked = if rng.below(3) == 0 {
                2 + rng.below(3)
            } else {
                1
            };
            let start;
            let (s, l) = if rng.below(10) == 0 {
                let mut bytes = base.clone();
                for _ in 0..stacked {
                    if rng.below(2) == 0 {
                        restructure(&mut rng, &mut bytes, focus);
                    } else {
                        overwrite(&mut rng, &mut bytes, focus);
                    }
                }
                start = Instant::now();
                exercise(&bytes)
            } else {
                let undo: Vec<_> = (0..stacked)
                    .map(|_| overwrite(&mut rng, base, focus))
                    .collect();
                start = Instant::now();
                let result = exercise(base);
                for (at, old) in undo.into_iter().rev() {
                    base[at..at + old.len()].copy_from_slice(&old);
                }
                result
            };
            let took = start.elapsed();
            assert!(took < CASE_LIMIT, "case {cases} ({name}): {took:?}");
            slowest = slowest.max(took);
            strict_ok += usize::from(s);
            lenient_ok += usize::from(l);
            cases += 1;
        }
    }
    eprintln!(
        "{cases} mutations in {:?}: {strict_ok} parse strictly, {lenient_ok} leniently; slowest case {slowest:?}",
        total.elapsed()
    );
    // The mutations must not all be caught by the magic or the version.
    assert!(lenient_ok > cases / 20, "{lenient_ok} of {cases} parse");
}
