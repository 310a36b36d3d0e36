//! The benchmark's two helpers (`bench/verify.sh`):
//!
//! - `write PATH`: a Phi-3-mini-shaped Q4_K_M-like file (q4_K, q5_K and q6_K matrices, f32
//!   norms, 2.39 GB) whose bytes are pseudo-random with valid scales, written with the project's
//!   writer, streaming (no tensor is held in memory);
//! - `plain PATH`: the baseline, a plain pass over the same mapping: every 8-byte word of the
//!   data section XOR-folded, in parallel over 4 MiB pieces with rayon (as `verify` splits its
//!   work), printing the time and GB/s.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::should_implement_trait,
    missing_docs
)]

#[path = "verify_fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::io::Read;
use std::time::Instant;

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, TensorData};
use rayon::prelude::*;

/// Serves `len` bytes cycling through `pattern` (whole blocks, so every block stays valid).
struct Cycle {
    pattern: std::sync::Arc<Vec<u8>>,
    at: usize,
    left: u64,
}

impl Read for Cycle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.left > 0 {
            let from = &self.pattern[self.at..];
            let k = from.len().min(buf.len() - n).min(self.left as usize);
            buf[n..n + k].copy_from_slice(&from[..k]);
            n += k;
            self.at = (self.at + k) % self.pattern.len();
            self.left -= k as u64;
        }
        Ok(n)
    }
}

fn write(path: &str) {
    let mut rng = fixture::Rng(0x5eed);
    // 8 MiB of valid blocks per type, cycled (a pattern of whole blocks).
    let pattern = |t: GgmlType, rng: &mut fixture::Rng| {
        let units = (8 << 20) / t.type_size().unwrap() as usize;
        std::sync::Arc::new(fixture::clean_data(t, units, rng))
    };
    let types = [
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::F32,
    ];
    let patterns: Vec<_> = types.iter().map(|&t| (t, pattern(t, &mut rng))).collect();
    let data = |t: GgmlType, dims: &[u64]| {
        let p = patterns.iter().find(|(pt, _)| *pt == t).unwrap().1.clone();
        let n: u64 =
            dims.iter().product::<u64>() / t.block_size().unwrap() * t.type_size().unwrap();
        TensorData::Reader(Box::new(Cycle {
            pattern: p,
            at: 0,
            left: n,
        }))
    };
    let (e, ff, vocab) = (3072u64, 8192u64, 32064u64);
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "phi3");
    w.add_kv("general.name", "verify bench (Q4_K_M-like, random)");
    let add = |w: &mut GgufWriter<'_>, name: String, t: GgmlType, dims: Vec<u64>| {
        let d = data(t, &dims);
        w.add_tensor(name, t, &dims, d);
    };
    add(
        &mut w,
        "token_embd.weight".into(),
        GgmlType::Q4_K,
        vec![e, vocab],
    );
    for i in 0..32 {
        add(
            &mut w,
            format!("blk.{i}.attn_norm.weight"),
            GgmlType::F32,
            vec![e],
        );
        add(
            &mut w,
            format!("blk.{i}.attn_qkv.weight"),
            GgmlType::Q5_K,
            vec![e, 3 * e],
        );
        add(
            &mut w,
            format!("blk.{i}.attn_output.weight"),
            GgmlType::Q4_K,
            vec![e, e],
        );
        add(
            &mut w,
            format!("blk.{i}.ffn_norm.weight"),
            GgmlType::F32,
            vec![e],
        );
        add(
            &mut w,
            format!("blk.{i}.ffn_down.weight"),
            GgmlType::Q6_K,
            vec![ff, e],
        );
        add(
            &mut w,
            format!("blk.{i}.ffn_up.weight"),
            GgmlType::Q4_K,
            vec![e, 2 * ff],
        );
    }
    add(&mut w, "output_norm.weight".into(), GgmlType::F32, vec![e]);
    add(
        &mut w,
        "output.weight".into(),
        GgmlType::Q6_K,
        vec![e, vocab],
    );
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::with_capacity(8 << 20, file);
    let n = w.write(&mut out).unwrap();
    println!("wrote {path}: {n} bytes");
}

fn plain(path: &str) {
    let started = Instant::now();
    let map = ggufscope_gguf::open(path).unwrap();
    let g = Gguf::parse(map.bytes()).unwrap();
    let data = &map.bytes()[g.data_offset() as usize..];
    let x = data
        .par_chunks(4 << 20)
        .map(|c| {
            c.chunks_exact(8)
                .fold(0u64, |a, w| a ^ u64::from_le_bytes(w.try_into().unwrap()))
        })
        .reduce(|| 0, |a, b| a ^ b);
    let s = started.elapsed().as_secs_f64();
    println!(
        "plain pass: {} bytes in {s:.3} s = {:.2} GB/s (xor {x:016x})",
        data.len(),
        data.len() as f64 / s / 1e9
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("write"), Some(path)) => write(path),
        (Some("plain"), Some(path)) => plain(path),
        _ => eprintln!("usage: verify_bench write|plain PATH"),
    }
}
