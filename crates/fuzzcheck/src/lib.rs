//! The bodies of ggufscope's fuzz targets, as plain functions (wasm-tools keeps its targets'
//! logic in a library the same way), so that `fuzz/fuzz_targets/*.rs` are one-liners and
//! `cargo test` runs the very same code over the seed corpus and seeded random inputs.
//!
//! - [`parse_any`]: raw bytes → strict and lenient parse, layout check, every value and tensor
//!   visited; oracles: strict ⊆ lenient, errors located inside the input, `Truncated` asks for
//!   more than there is, arrays yield exactly their length, a strictly valid head re-encodes to
//!   the same bytes.
//! - [`roundtrip`]: a model built from structured input → `GgufWriter` → parse: the parse is the
//!   model, and writing the parse again gives the same bytes.
//! - [`analyze`]: lenient parse → configuration → schema validation → expected layout → Llama
//!   compatibility plan → `llamafy`, whose output must parse with a clean layout.
//!
//! [`seeds`] builds the seed corpus (`fuzz/corpus/<target>/`, written by the `write-corpus`
//! binary) and [`mutate`] the seeded mutations the tests use.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// The bodies are oracles: panicking is how they report a broken invariant to the fuzzer.
#![allow(clippy::panic)]

mod analyze;
mod compare;
pub mod mutate;
mod parse;
mod roundtrip;
pub mod seeds;

pub use analyze::analyze;
pub use arbitrary;
pub use parse::parse_any;
pub use roundtrip::roundtrip;

/// The fuzz targets, named as the files of `fuzz/fuzz_targets/` and the folders of
/// `fuzz/corpus/`.
pub const TARGETS: [&str; 3] = ["parse", "roundtrip", "analyze"];

/// Runs the body of `target` on `data` (for `roundtrip`, `data` feeds an
/// [`arbitrary::Unstructured`]). Unknown target names are ignored.
pub fn run_target(target: &str, data: &[u8]) {
    match target {
        "parse" => parse_any(data),
        "analyze" => analyze(data),
        "roundtrip" => {
            // Running out of structured input is not a failure.
            let _ = roundtrip(&mut arbitrary::Unstructured::new(data));
        }
        _ => {}
    }
}
