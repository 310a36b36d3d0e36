//! Writes a model preset as a GGUF file, sparse (tensor data all zeros, left as holes), with a
//! `general.description` saying how it was made:
//!
//! ```sh
//! cargo run -p ggufscope-testkit --example write_preset -- qwen2.5-0.5b qwen2.5-0.5b.gguf
//! ```
//!
//! Presets: `phi3-mini-4k`, `qwen2.5-0.5b`, `tiny-llama` (see `ggufscope_testkit::presets`).
//! The ggufscope CLI tests include this file (`#[path]`) to build the same files.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

use ggufscope_testkit::presets::{self, ModelFixture};

/// The preset names, as the command line takes them.
pub const PRESETS: [&str; 5] = [
    "phi3-mini-4k",
    "qwen2.5-0.5b",
    "tiny-llama",
    "tiny-phi3",
    "tiny-qwen2",
];

/// The preset called `name`, its `general.description` saying it was written by this example
/// as `out_name` (a file name, so the description does not depend on where it was written).
pub fn preset(name: &str, out_name: &str) -> Option<ModelFixture> {
    let mut fixture = match name {
        "phi3-mini-4k" => presets::phi3_mini_4k(),
        "qwen2.5-0.5b" => presets::qwen2_5_0_5b(),
        "tiny-llama" => presets::tiny_llama(),
        "tiny-phi3" => presets::tiny_phi3(),
        "tiny-qwen2" => presets::tiny_qwen2(),
        _ => return None,
    };
    fixture.set_kv(
        "general.description",
        format!(
            "layout only, tensor data all zeros; written by `cargo run -p ggufscope-testkit --example write_preset -- {name} {out_name}`"
        ),
    );
    Some(fixture)
}

/// Writes the preset called `name` to `out`, sparse. Returns the file length.
pub fn write_preset(name: &str, out: &Path) -> Result<u64, String> {
    let out_name = out.file_name().map_or_else(
        || out.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let fixture = preset(name, &out_name)
        .ok_or_else(|| format!("unknown preset `{name}` (presets: {})", PRESETS.join(", ")))?;
    let file = File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut w = BufWriter::new(file);
    let len = fixture
        .writer()
        .write_sparse(&mut w)
        .map_err(|e| format!("writing {}: {e}", out.display()))?;
    w.into_inner()
        .map_err(|e| format!("writing {}: {}", out.display(), e.error()))?;
    Ok(len)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, out] = args.as_slice() else {
        eprintln!(
            "usage: write_preset PRESET OUT.gguf (presets: {})",
            PRESETS.join(", ")
        );
        return ExitCode::from(2);
    };
    match write_preset(name, Path::new(out)) {
        Ok(len) => {
            println!("wrote {out} ({len} bytes, sparse)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write_preset: {e}");
            ExitCode::FAILURE
        }
    }
}
