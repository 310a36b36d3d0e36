//! `ggufscope verify`'s engine: every tensor of a GGUF file read once, its values checked with
//! exactly the rules of llama.cpp's `ggml_validate_row_data` ([`rules`]), its bounds checked,
//! and its bytes hashed as llama.cpp's `llama-gguf-hash` hashes them ([`hash`]), with manifests
//! read and compared as that tool does ([`check`]).
//!
//! The input is a [`ggufscope_gguf::Gguf`] over the whole file (a memory map); [`verify`]
//! scans it in parallel (rayon) over tensors and over 4 MiB pieces of large tensors, and hashes
//! it in one sequential pass beside the scan. Nothing here panics on any input: every access is
//! checked.
#![deny(missing_docs)]

pub mod check;
pub mod hash;
pub mod rules;
pub mod run;

pub use check::{check, CheckResult, Checked, Outcome, Verdict};
pub use hash::{manifest_line, parse_manifest, Algorithm, Entry, Hasher};
pub use rules::{rule_for, Defect, Rule, TypeRule, LLAMA_CPP_COMMIT};
pub use run::{verify, work_bytes, Finding, Options, Report, TensorResult, Unit};
