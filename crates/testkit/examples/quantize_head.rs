//! Writes a head of `tests/fixtures/llama-archs*/` (plain or gzipped) as a whole file with its
//! weights in a Q4_K_M-like mix of block types (`presets::quantize_like_q4_k_m`), sparse (the
//! data all zeros, left as holes), for llama.cpp's loader to measure real-model weight types:
//!
//! ```sh
//! cargo run -p ggufscope-testkit --example quantize_head -- HEAD.gguf[.gz] OUT.gguf
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use ggufscope_testkit::presets;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [head, out] = args.as_slice() else {
        eprintln!("usage: quantize_head HEAD.gguf[.gz] OUT.gguf");
        return ExitCode::from(2);
    };
    let bytes = ggufscope_testkit::read_fixture(std::path::Path::new(head));
    let g = match ggufscope_gguf::Gguf::parse_with(&bytes, ggufscope_gguf::ParseOptions::lenient())
    {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{head}: {e}");
            return ExitCode::from(2);
        }
    };
    let arch = ggufscope_testkit::arch_of(&g);
    let n_layer = g
        .metadata()
        .get_u64(&format!("{arch}.block_count"))
        .ok()
        .flatten()
        .unwrap_or(0);
    let mut m = presets::extend_head_bytes(&bytes, n_layer);
    presets::quantize_like_q4_k_m(&mut m);
    let written = File::create(out).map_err(|e| e.to_string()).and_then(|f| {
        let mut w = BufWriter::new(f);
        m.writer().write_sparse(&mut w).map_err(|e| e.to_string())
    });
    match written {
        Ok(len) => {
            println!("{out}: {len} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::from(2)
        }
    }
}
