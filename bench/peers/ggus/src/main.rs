//! Peer benchmark: `bench-ggus FILE` opens FILE, parses it with `ggus::GGuf::new` (header, every
//! metadata entry, every tensor info) over a read-only memory map, reads the architecture and
//! prints `arch n_kv n_tensors`.

use std::fs::File;
use std::process::ExitCode;

use ggus::{GGuf, GGufMetaMapExt};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench-ggus FILE.gguf");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    // SAFETY: read-only private map of a file nobody modifies during the benchmark.
    let map = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let gguf = match GGuf::new(&map) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let arch = gguf.general_architecture().unwrap_or("?");
    println!(
        "{} {} {}",
        arch.trim_end_matches('\0'),
        gguf.meta_kvs.len(),
        gguf.tensors.len()
    );
    ExitCode::SUCCESS
}
