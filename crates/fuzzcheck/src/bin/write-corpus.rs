//! Writes the seed corpus to `fuzz/corpus/<target>/` (or to the folder given as the only
//! argument): `cargo run -p ggufscope-fuzzcheck --bin write-corpus`.
//!
//! Files a fuzzer added beside the seeds are kept; the seeds are rewritten, so the committed
//! corpus is always what `ggufscope_fuzzcheck::seeds::corpus()` builds (a test checks it).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"),
        PathBuf::from,
    );
    let seeds = ggufscope_fuzzcheck::seeds::corpus();
    let mut total = 0usize;
    for seed in &seeds {
        let dir = root.join(seed.target);
        let path = dir.join(&seed.name);
        if let Err(e) =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &seed.bytes))
        {
            eprintln!("write-corpus: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
        total += seed.bytes.len();
    }
    eprintln!(
        "write-corpus: {} seeds, {total} bytes, in {}",
        seeds.len(),
        root.display()
    );
    ExitCode::SUCCESS
}
