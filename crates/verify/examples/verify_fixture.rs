//! Writes `verify-hash.gguf`: a small GGUF with one tensor of each of several types, filled
//! with deterministic bytes whose scales are valid, written with the project's writer. Its
//! manifest from llama.cpp's `llama-gguf-hash` (built from the llama.cpp 0c1e570 sdist by
//! `bench/verify-llama-gguf-hash.sh`) is `crates/cli/tests/fixtures/verify-hash.manifest`, and
//! the CLI tests check that `ggufscope verify --hash` prints the same lines.
//!
//! `cargo run -p ggufscope-verify --example verify_fixture -- DIR` writes DIR/verify-hash.gguf.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::should_implement_trait
)]

use ggufscope_gguf::{GgmlType, GgufWriter, TensorData};

/// The file name the manifest was made with.
pub const FILE_NAME: &str = "verify-hash.gguf";

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// The byte offsets and widths of the fields `ggml_validate_row_data` reads in one block of
/// `t` (from `ggml/src/ggml-common.h`, written out here independently of the crate's table):
/// `(offset, kind)` with kind `h` an f16, `f` an f32, `e` an E8M0 byte, `m` iq1_m's scales.
pub fn checked_fields(t: GgmlType) -> Vec<(usize, char)> {
    match t {
        GgmlType::Q4_0
        | GgmlType::Q5_0
        | GgmlType::Q8_0
        | GgmlType::Q1_0
        | GgmlType::Q2_0
        | GgmlType::IQ1_S
        | GgmlType::IQ2_XXS
        | GgmlType::IQ2_XS
        | GgmlType::IQ2_S
        | GgmlType::IQ3_XXS
        | GgmlType::IQ3_S
        | GgmlType::IQ4_NL
        | GgmlType::IQ4_XS => vec![(0, 'h')],
        GgmlType::Q4_1 | GgmlType::Q5_1 | GgmlType::Q4_K | GgmlType::Q5_K => {
            vec![(0, 'h'), (2, 'h')]
        }
        GgmlType::Q2_K => vec![(80, 'h'), (82, 'h')],
        GgmlType::Q3_K => vec![(108, 'h')],
        GgmlType::Q6_K => vec![(208, 'h')],
        GgmlType::TQ1_0 => vec![(52, 'h')],
        GgmlType::TQ2_0 => vec![(64, 'h')],
        GgmlType::Q8_K => vec![(0, 'f')],
        GgmlType::MXFP4 => vec![(0, 'e')],
        GgmlType::IQ1_M => vec![(48, 'm')],
        _ => vec![],
    }
}

/// Deterministic bytes for `units` elements or blocks of `t` that llama.cpp accepts: finite
/// floats, and every checked scale a valid value.
pub fn clean_data(t: GgmlType, units: usize, rng: &mut Rng) -> Vec<u8> {
    let size = t.type_size().unwrap() as usize;
    let mut data = rng.bytes(size * units);
    match t {
        GgmlType::F32 => {
            for w in data.chunks_exact_mut(4) {
                let v = (rng.next() % 2001) as f32 / 1000.0 - 1.0;
                w.copy_from_slice(&v.to_le_bytes());
            }
        }
        GgmlType::F64 => {
            for w in data.chunks_exact_mut(8) {
                let v = (rng.next() % 2001) as f64 / 1000.0 - 1.0;
                w.copy_from_slice(&v.to_le_bytes());
            }
        }
        // Clear the top exponent bit: never all ones.
        GgmlType::F16 => data.chunks_exact_mut(2).for_each(|w| w[1] &= 0xbf),
        GgmlType::BF16 => data.chunks_exact_mut(2).for_each(|w| w[1] &= 0xbf),
        _ => {
            for block in data.chunks_exact_mut(size) {
                for (at, kind) in checked_fields(t) {
                    match kind {
                        'h' => block[at + 1] &= 0xbf,
                        'f' => block[at..at + 4].copy_from_slice(&0.5f32.to_le_bytes()),
                        'e' => block[at] = 127,
                        // iq1_m: the scale's exponent nibble comes from the top nibble of
                        // the 4th u16 (byte at+7); keep it below 0x7.
                        'm' => block[at + 7] &= 0x3f,
                        _ => {}
                    }
                }
            }
        }
    }
    data
}

/// The tensors of the fixture: name, type, dims.
pub fn tensors() -> Vec<(String, GgmlType, Vec<u64>)> {
    let mut out = Vec::new();
    for (name, t, dims) in [
        ("token_embd.weight", GgmlType::Q4_K, vec![256, 3]),
        ("blk.0.attn_norm.weight", GgmlType::F32, vec![77]),
        ("blk.0.attn_q.weight", GgmlType::Q8_0, vec![64, 5]),
        ("blk.0.attn_k.weight", GgmlType::F16, vec![33, 2]),
        ("blk.0.attn_v.weight", GgmlType::BF16, vec![40, 3]),
        ("blk.0.ffn_up.weight", GgmlType::Q6_K, vec![256, 2]),
        ("blk.0.ffn_down.weight", GgmlType::Q4_0, vec![32, 7]),
        ("blk.0.ffn_gate.weight", GgmlType::Q5_K, vec![256, 1]),
        ("blk.0.extra.i32", GgmlType::I32, vec![9]),
        ("output.weight", GgmlType::Q2_K, vec![256, 2]),
    ] {
        out.push((name.to_owned(), t, dims));
    }
    out
}

/// The fixture's bytes.
pub fn build() -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama");
    w.add_kv("general.name", "verify-hash fixture");
    for (name, t, dims) in tensors() {
        let units = (dims.iter().product::<u64>() / t.block_size().unwrap()) as usize;
        w.add_tensor(
            name,
            t,
            &dims,
            TensorData::Bytes(clean_data(t, units, &mut rng)),
        );
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

#[allow(dead_code)]
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    let path = std::path::Path::new(&dir).join(FILE_NAME);
    std::fs::write(&path, build()).unwrap();
    println!("wrote {}", path.display());
}
