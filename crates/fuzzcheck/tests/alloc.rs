//! Bounded memory, measured (issue 7): a counting global allocator (this test binary only)
//! tracks live heap bytes and their peak, and every parse (strict and lenient) plus
//! `check_layout` of an input must peak below `8 × input size + 1 MiB`
//! (`shared/docs/hostile-inputs.md` §5 rule 2), over the catalogue, its "huge count" cases, the
//! real fixtures, the tiny presets and a corpus of seeded mutations.
//!
//! The tests hold one lock for their whole body, so that no other test allocates while a
//! measurement runs. `cargo test -p ggufscope-fuzzcheck --test alloc -- --nocapture` prints
//! the worst ratio of each corpus.
// A `GlobalAlloc` is `unsafe` by definition; it only forwards to `System` and counts.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    missing_docs
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ggufscope_fuzzcheck::mutate::{mutate, Rng};
use ggufscope_fuzzcheck::seeds;
use ggufscope_gguf::{Gguf, ParseOptions};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

fn shrank(n: usize) {
    LIVE.fetch_sub(n, Ordering::SeqCst);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; the counters are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// One test at a time: a measurement must see only its own allocations.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: usize = 1 << 20;

/// The bound: `8 × len + 1 MiB` of live heap above what was live before.
fn bound(len: usize) -> usize {
    len.saturating_mul(8).saturating_add(MIB)
}

/// Peak live heap bytes of parsing `bytes` strictly and leniently, each with its layout check
/// (the parse and its findings alive together).
fn peak_of_parsing(bytes: &[u8]) -> usize {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        let parsed = Gguf::parse_with(bytes, options);
        if let Ok(g) = &parsed {
            black_box(g.check_layout());
        }
        drop(black_box(parsed));
    }
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

/// The worst cases of a corpus.
#[derive(Default)]
struct Tally {
    cases: usize,
    /// Largest peak / len among inputs of at least 64 KiB (below that the 1 MiB dominates).
    worst_ratio: (f64, String),
    /// Largest peak.
    largest: (usize, String),
    /// Cases over the bound: (name, len, peak).
    over: Vec<(String, usize, usize)>,
}

impl Tally {
    fn measure(&mut self, name: &str, bytes: &[u8]) -> usize {
        let peak = peak_of_parsing(bytes);
        self.cases += 1;
        if bytes.len() >= 64 << 10 {
            let ratio = peak as f64 / bytes.len() as f64;
            if ratio > self.worst_ratio.0 {
                self.worst_ratio = (ratio, name.to_string());
            }
        }
        if peak >= self.largest.0 {
            self.largest = (peak, name.to_string());
        }
        if peak > bound(bytes.len()) {
            self.over.push((name.to_string(), bytes.len(), peak));
        }
        peak
    }

    fn report(&self, corpus: &str) {
        eprintln!(
            "{corpus}: {} cases; worst peak/len (inputs >= 64 KiB) {:.2}x ({}); largest peak {} bytes ({})",
            self.cases, self.worst_ratio.0, self.worst_ratio.1, self.largest.0, self.largest.1
        );
        for (name, len, peak) in &self.over {
            eprintln!(
                "  OVER THE BOUND: {name}: {len} bytes in, peak {peak} bytes = {:.2}x, {} bytes over 8 x len + 1 MiB",
                *peak as f64 / *len as f64,
                peak - bound(*len)
            );
        }
    }

    fn assert_within_bound(&self, corpus: &str) {
        self.report(corpus);
        assert!(
            self.over.is_empty(),
            "{corpus}: {} cases over 8 x len + 1 MiB: {:?}",
            self.over.len(),
            self.over
        );
    }
}

#[test]
fn the_counting_allocator_sees_the_parse_allocate() {
    let _serial = serial();
    // A file of 1,000 tensor infos keeps a Vec of them: the counter must see it.
    let bytes = seeds::catalogue()
        .into_iter()
        .find(|(n, _)| n == "h79-1000-scalar-tensors")
        .unwrap()
        .1;
    let peak = peak_of_parsing(&bytes);
    assert!(peak > 1000 * 64, "peak {peak}");
}

#[test]
fn the_catalogue_and_the_seed_corpus_stay_within_the_bound() {
    let _serial = serial();
    let mut t = Tally::default();
    for (name, bytes) in seeds::catalogue() {
        t.measure(&name, &bytes);
    }
    for seed in seeds::corpus()
        .into_iter()
        .filter(|s| s.target != "roundtrip")
    {
        t.measure(&seed.name, &seed.bytes);
    }
    for (name, bytes) in seeds::tiny_preset_files() {
        t.measure(&name, &bytes);
    }
    t.assert_within_bound("catalogue + seed corpus");
}

#[test]
fn the_real_fixtures_stay_within_the_bound() {
    let _serial = serial();
    let mut t = Tally::default();
    for name in ggufscope_testkit::REAL_FIXTURES {
        let bytes = ggufscope_testkit::read_real(name);
        let peak = t.measure(name, &bytes);
        eprintln!("  {name}: {} bytes, peak {peak} bytes", bytes.len());
    }
    t.assert_within_bound("real fixtures");
}

/// Huge-count cases that peaked above the bound before the format crate capped its layout
/// findings per kind and cut the keys it quotes in errors (issue 7): 400,000 tensors at
/// offset 0 (a `NonContiguous` and a `TensorsOverlap` finding per tensor, 12.4x and, with
/// duplicate names, 14.6x the input) and two 4 MiB keys of `0xFF` parsed leniently (each key
/// escaped 4x, twice per diagnostic: 12.0x). `issue_7_layout_findings_and_quoted_keys_stay_bounded`
/// keeps them within the bound.
const KNOWN_OVER: [&str; 3] = [
    "h79-400k-tensors-overlapping",
    "h79-400k-duplicate-tensors-overlapping",
    "b16-b18-two-4mib-keys-of-0xff",
];

fn measure_huge(known: bool) -> Tally {
    let mut t = Tally::default();
    for (name, bytes) in seeds::huge(true) {
        if KNOWN_OVER.contains(&name.as_str()) != known {
            continue;
        }
        let peak = t.measure(&name, &bytes);
        eprintln!(
            "  {name}: {} bytes, peak {peak} bytes ({:.2}x)",
            bytes.len(),
            peak as f64 / bytes.len() as f64
        );
    }
    t
}

/// The catalogue's huge-count cases: counts of 10^8 and 2^29 (header only and with the full
/// 512 MiB), 400,000 keys (distinct, duplicate, nested arrays), 400,000 tensors (in bounds, out
/// of bounds), a million empty nested arrays or strings, a nesting bomb of 100,000 levels, a
/// 2 MB string, 4 MiB keys — all but [`KNOWN_OVER`] (measured by their own test).
#[test]
fn the_huge_count_cases_stay_within_the_bound() {
    let _serial = serial();
    measure_huge(false).assert_within_bound("huge-count cases");
}

/// Regression (issue 7): the cases of [`KNOWN_OVER`] once peaked at 12–15x their input.
#[test]
fn issue_7_layout_findings_and_quoted_keys_stay_bounded() {
    let _serial = serial();
    measure_huge(true).assert_within_bound("issue 7 regressions");
}

/// 20,000 seeded mutations (1–4 stacked) of the parse seeds and the tiny presets.
#[test]
fn seeded_mutations_stay_within_the_bound() {
    let _serial = serial();
    let mut bases: Vec<(String, Vec<u8>)> = seeds::corpus()
        .into_iter()
        .filter(|s| s.target == "parse")
        .map(|s| (s.name, s.bytes))
        .collect();
    bases.extend(seeds::tiny_preset_files());
    let mut rng = Rng::new(0xA110C);
    let mut t = Tally::default();
    while t.cases < 20_000 {
        for (name, base) in &bases {
            let focus = Gguf::parse_with(base, ParseOptions::lenient())
                .map_or(base.len(), |g| g.tensor_infos_end() as usize + 64);
            let mut bytes = base.clone();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut bytes, focus);
            }
            t.measure(name, &bytes);
        }
    }
    t.assert_within_bound("seeded mutations");
}
