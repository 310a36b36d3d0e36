//! Prints a summary of a GGUF file: `cargo run --example summary -- FILE`.

use std::process::ExitCode;

use ggufscope_gguf::{open, Gguf, ParseOptions, Value};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: summary FILE.gguf");
        return ExitCode::from(2);
    };
    let map = match open(&path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let gguf = match Gguf::parse_with(&map, ParseOptions::lenient()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "GGUF v{} ({}-endian), {} metadata entries, {} tensors, alignment {}, data at byte {}",
        gguf.version(),
        gguf.endian().as_str(),
        gguf.metadata().len(),
        gguf.tensors().len(),
        gguf.alignment(),
        gguf.data_offset()
    );
    for kv in gguf.metadata().iter() {
        let shown = match kv.value() {
            Value::Array(a) => format!("[{}; {}]", a.element_type(), a.len()),
            Value::String(s) if s.len() > 60 => format!("<{} bytes of text>", s.len()),
            Value::String(s) => format!("{s:?}"),
            other => format!("{:?}", other),
        };
        println!(
            "  {:<45} {:<7} {}",
            kv.key(),
            kv.value().value_type(),
            shown
        );
    }
    for t in gguf.tensors() {
        println!("  {:<45} {:<8} {:?}", t.name(), t.ggml_type(), t.dims());
    }
    for d in gguf.diagnostics() {
        eprintln!("diagnostic: {d}");
    }
    for f in gguf.check_layout() {
        eprintln!("{}: {}", f.severity.as_str(), f.issue);
    }
    ExitCode::SUCCESS
}
