//! Peer benchmark: `bench-candle FILE` opens FILE and parses it with
//! `candle_core::quantized::gguf_file::Content::read` through a `BufReader` (header, every
//! metadata entry, every tensor info; no tensor data), reads the architecture and prints
//! `arch n_kv n_tensors`.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use candle_core::quantized::gguf_file::Content;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench-candle FILE.gguf");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reader = BufReader::new(file);
    let content = match Content::read(&mut reader) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let arch = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .map_or("?", String::as_str);
    println!(
        "{arch} {} {}",
        content.metadata.len(),
        content.tensor_infos.len()
    );
    ExitCode::SUCCESS
}
