//! Sweeps (issue 7): every strict prefix of the header, metadata and tensor infos of the
//! Phi-3-mini- and Qwen2.5-0.5B-shaped files the writer builds (gigabytes, written sparse and
//! memory-mapped), and 100,000 seeded single- and multi-byte mutations of the tiny presets and
//! of the real fixtures' first 64 KiB. Each case gives a typed error or a valid parse, never a
//! panic, and finishes within a time bound.

use std::time::{Duration, Instant};

use ggufscope_gguf::{open, ErrorKind, Gguf, ParseOptions, Severity, Value};
use ggufscope_testkit::{presets, raw, read_real, REAL_FIXTURES};

/// No single parse (strict and lenient, with the layout check) may take longer.
const CASE_LIMIT: Duration = Duration::from_millis(200);

/// The `Truncated { needed }` of a prefix, checked: more than the prefix, at most the head.
fn truncated_needing(prefix: &[u8], head_end: u64, options: ParseOptions) -> u64 {
    match Gguf::parse_with(prefix, options) {
        Err(e) => match *e.kind() {
            ErrorKind::Truncated { needed, available } => {
                let len = prefix.len() as u64;
                assert_eq!(available, len);
                assert!(needed > len, "needed {needed} at {len}");
                assert!(
                    needed <= head_end,
                    "needed {needed} past the head ({head_end})"
                );
                assert!(e.offset() <= len);
                needed
            }
            ref other => panic!("prefix {}: {other:?} at byte {}", prefix.len(), e.offset()),
        },
        Ok(_) => panic!("prefix {} of a {head_end}-byte head parsed", prefix.len()),
    }
}

/// Sweeps the prefixes `lens` (increasing) of `full`, whose head ends at `head_end`: each is
/// `Truncated` strictly and leniently with the same `needed`, which never decreases as the
/// prefix grows; and fetching exactly `needed` bytes makes progress (a larger `needed`, or the
/// whole head).
fn sweep_head(full: &[u8], head_end: usize, lens: impl IntoIterator<Item = usize>) -> usize {
    let mut last = 0u64;
    let mut count = 0;
    for len in lens {
        assert!(len < head_end);
        let start = Instant::now();
        let prefix = &full[..len];
        let needed = truncated_needing(prefix, head_end as u64, ParseOptions::strict());
        assert_eq!(
            truncated_needing(prefix, head_end as u64, ParseOptions::lenient()),
            needed
        );
        assert!(
            needed >= last,
            "needed went from {last} to {needed} at {len}"
        );
        last = needed;
        if count % 16 == 0 {
            let refetched = &full[..needed as usize];
            if needed < head_end as u64 {
                let next = truncated_needing(refetched, head_end as u64, ParseOptions::strict());
                assert!(next > needed, "no progress from {needed}");
            } else {
                assert!(Gguf::parse(refetched).is_ok());
            }
        }
        assert!(
            start.elapsed() < CASE_LIMIT,
            "prefix {len}: {:?}",
            start.elapsed()
        );
        count += 1;
    }
    count
}

/// Prefixes: every one of the first 4 KiB; ~4,000 evenly spaced up to the head's end; every
/// 7th in the tensor-info table and every one of its first two and last entries; every one of
/// the 128 bytes either side of each metadata entry's start.
fn head_prefixes(g: &Gguf<'_>) -> Vec<usize> {
    let head_end = g.tensor_infos_end() as usize;
    let table = g.metadata_end() as usize;
    let mut lens: Vec<usize> = (0..4096.min(head_end)).collect();
    lens.extend((0..head_end).step_by(head_end / 4000 + 1));
    lens.extend((table..head_end).step_by(7));
    let tensors = g.tensors();
    let third = tensors
        .get(2)
        .map_or(head_end, |t| t.info_offset() as usize);
    let last = tensors.last().map_or(table, |t| t.info_offset() as usize);
    lens.extend(table..third);
    lens.extend(last..head_end);
    for kv in g.metadata().iter() {
        let at = kv.offset() as usize;
        lens.extend(at.saturating_sub(128)..(at + 128).min(head_end));
    }
    lens.sort_unstable();
    lens.dedup();
    lens
}

fn sweep_sparse_model(fixture: &presets::ModelFixture) -> usize {
    let tmp = fixture.write_sparse_temp();
    let map = open(tmp.path()).unwrap();
    let full: &[u8] = &map;
    let g = Gguf::parse(full).unwrap();
    let head_end = g.tensor_infos_end() as usize;
    let lens = head_prefixes(&g);
    let n = sweep_head(full, head_end, lens);
    eprintln!(
        "{n} prefixes of a {head_end}-byte head ({} tensors)",
        g.tensors().len()
    );

    // Past the head the file parses, and the layout says the data is cut short.
    let data_offset = g.data_offset() as usize;
    for len in [
        head_end,
        data_offset,
        data_offset + 1,
        data_offset + 4096,
        full.len() / 2,
        full.len() - 1,
    ] {
        for options in [ParseOptions::strict(), ParseOptions::lenient()] {
            let cut = Gguf::parse_with(&full[..len], options).unwrap();
            assert!(
                cut.check_layout()
                    .iter()
                    .any(|f| f.severity == Severity::Error),
                "prefix {len} of {} has a clean layout",
                full.len()
            );
        }
    }
    n
}

#[test]
fn every_prefix_of_the_phi3_mini_shaped_head_is_truncated() {
    let n = sweep_sparse_model(&presets::phi3_mini_4k());
    assert!(n > 10_000, "{n} prefixes");
}

#[test]
fn every_prefix_of_the_qwen2_5_shaped_head_is_truncated() {
    let n = sweep_sparse_model(&presets::qwen2_5_0_5b());
    assert!(n > 10_000, "{n} prefixes");
}

/// SplitMix64, so that the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
        0 => vec![(rng.next() & 0xFF) as u8],
        1 => vec![bytes.get(at).copied().unwrap_or(0) ^ (1 << rng.below(8))],
        2 => (0..2 + rng.below(7))
            .map(|_| (rng.next() & 0xFF) as u8)
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
                .map(|_| (rng.next() & 0xFF) as u8)
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
    let mut rng = Rng(0x1551_0007);
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
