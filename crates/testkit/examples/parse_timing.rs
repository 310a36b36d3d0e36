//! In-process parse time of GGUF files, for the peer benchmark (`bench/peers.sh`): the time
//! `ggufscope_gguf` takes to parse a memory-mapped file (header, every metadata entry, every
//! tensor info, leniently as the CLI parses) and to check its layout, without process start,
//! argument parsing, logging or output.
//!
//! ```sh
//! cargo run --release -p ggufscope-testkit --example parse_timing -- FILE...
//! ```
//!
//! Prints one tab-separated line per file: `name  parse_median_us  parse_min_us
//! layout_median_us  iterations`. Each measurement repeats for about half a second (at least
//! 20 times) after a warm-up; the map is made once, so the file's pages are resident.
#![allow(clippy::cast_precision_loss)]

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ggufscope_gguf::{Gguf, ParseOptions};

/// Runs `f` repeatedly for about `budget` (at least `min_runs` times, after 5 warm-up runs) and
/// returns the sorted durations.
fn measure(mut f: impl FnMut() -> usize, budget: Duration, min_runs: usize) -> Vec<Duration> {
    let mut sink = 0usize;
    for _ in 0..5 {
        sink = sink.wrapping_add(f());
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min_runs || start.elapsed() < budget {
        let t = Instant::now();
        sink = sink.wrapping_add(f());
        times.push(t.elapsed());
    }
    std::hint::black_box(sink);
    times.sort();
    times
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn run(path: &Path) -> Result<String, String> {
    let map = ggufscope_gguf::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes: &[u8] = &map;
    Gguf::parse_with(bytes, ParseOptions::lenient())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let budget = Duration::from_millis(500);
    let parse = measure(
        || {
            Gguf::parse_with(std::hint::black_box(bytes), ParseOptions::lenient())
                .map(|g| g.metadata().len() + g.tensors().len())
                .unwrap_or(0)
        },
        budget,
        20,
    );
    let gguf = Gguf::parse_with(bytes, ParseOptions::lenient())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let layout = measure(|| gguf.check_layout().len(), budget, 20);
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    Ok(format!(
        "{name}\t{:.1}\t{:.1}\t{:.1}\t{}",
        micros(median(&parse)),
        micros(parse.first().copied().unwrap_or_default()),
        micros(median(&layout)),
        parse.len()
    ))
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: parse_timing FILE...");
        return ExitCode::from(2);
    }
    println!("file\tparse_median_us\tparse_min_us\tlayout_median_us\titerations");
    for f in &files {
        match run(Path::new(f)) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("parse_timing: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
