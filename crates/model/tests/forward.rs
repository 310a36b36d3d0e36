//! Equivalence proof of the adapter: a small f32 reference forward pass runs a tiny model in
//! its source layout with its source semantics (NEOX rope, fused Q/K/V and gate‖up for phi3,
//! biases and tied output for qwen2) and in the llamafied layout with Llama semantics (NORM
//! rope, separate tensors); the logits must agree.

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, OwnedValue, TensorData};
use ggufscope_model::{llamafy, plan, validate, ModelConfig, RopeType, Verdict};

/// Keys and values of one layer, per position.
type KvCache = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// A deterministic generator (xorshift), so the tests need no crate and never vary.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-scale, scale).
    fn f32(&mut self, scale: f32) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    }
}

#[derive(Clone, Copy)]
struct Shape {
    embd: u64,
    heads: u64,
    kv_heads: u64,
    ff: u64,
    vocab: u64,
    layers: u64,
}

impl Shape {
    fn head_dim(&self) -> u64 {
        self.embd / self.heads
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Builds a tiny model of `arch` ("phi3": fused attn_qkv and gate‖up ffn_up; "qwen2": split
/// q/k/v with biases, gate/up, tied output) with random f32 weights.
fn tiny(arch: &str, s: Shape, seed: u64) -> Vec<u8> {
    tiny_with(arch, s, seed, false)
}

/// As [`tiny`], optionally with a fused `attn_qkv.bias` on the phi3 shape.
fn tiny_with(arch: &str, s: Shape, seed: u64, qkv_bias: bool) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut w = GgufWriter::new();
    let k = |n: &str| format!("{arch}.{n}");
    w.add_kv("general.architecture", arch);
    w.add_kv(k("context_length"), 64u32);
    w.add_kv(k("embedding_length"), s.embd as u32);
    w.add_kv(k("block_count"), s.layers as u32);
    w.add_kv(k("feed_forward_length"), s.ff as u32);
    w.add_kv(k("attention.head_count"), s.heads as u32);
    w.add_kv(k("attention.head_count_kv"), s.kv_heads as u32);
    w.add_kv(k("attention.layer_norm_rms_epsilon"), 1e-5f32);
    w.add_kv(k("rope.freq_base"), 10000f32);
    if arch == "phi3" {
        w.add_kv(k("attention.sliding_window"), 2047u32);
    }
    w.add_kv("tokenizer.ggml.model", "llama");
    w.add_kv(
        "tokenizer.ggml.tokens",
        OwnedValue::strings((0..s.vocab).map(|i| format!("t{i}"))),
    );
    let mut tensor =
        |w: &mut GgufWriter<'_>, name: String, dims: &[u64], scale: f32, around: f32| {
            let n: u64 = dims.iter().product();
            let v: Vec<f32> = (0..n).map(|_| around + rng.f32(scale)).collect();
            w.add_tensor(name, GgmlType::F32, dims, TensorData::Bytes(f32_bytes(&v)));
        };
    let (e, hd) = (s.embd, s.head_dim());
    let (q, kv) = (hd * s.heads, hd * s.kv_heads);
    tensor(&mut w, "token_embd.weight".into(), &[e, s.vocab], 1.0, 0.0);
    for il in 0..s.layers {
        let b = |n: &str| format!("blk.{il}.{n}");
        tensor(&mut w, b("attn_norm.weight"), &[e], 0.2, 1.0);
        if arch == "phi3" {
            tensor(&mut w, b("attn_qkv.weight"), &[e, q + 2 * kv], 0.3, 0.0);
            if qkv_bias {
                tensor(&mut w, b("attn_qkv.bias"), &[q + 2 * kv], 0.5, 0.0);
            }
        } else {
            tensor(&mut w, b("attn_q.weight"), &[e, q], 0.3, 0.0);
            tensor(&mut w, b("attn_q.bias"), &[q], 0.5, 0.0);
            tensor(&mut w, b("attn_k.weight"), &[e, kv], 0.3, 0.0);
            tensor(&mut w, b("attn_k.bias"), &[kv], 0.5, 0.0);
            tensor(&mut w, b("attn_v.weight"), &[e, kv], 0.3, 0.0);
            tensor(&mut w, b("attn_v.bias"), &[kv], 0.5, 0.0);
        }
        tensor(&mut w, b("attn_output.weight"), &[q, e], 0.2, 0.0);
        tensor(&mut w, b("ffn_norm.weight"), &[e], 0.2, 1.0);
        if arch == "phi3" {
            tensor(&mut w, b("ffn_up.weight"), &[e, 2 * s.ff], 0.3, 0.0);
        } else {
            tensor(&mut w, b("ffn_gate.weight"), &[e, s.ff], 0.3, 0.0);
            tensor(&mut w, b("ffn_up.weight"), &[e, s.ff], 0.3, 0.0);
        }
        tensor(&mut w, b("ffn_down.weight"), &[s.ff, e], 0.2, 0.0);
    }
    tensor(&mut w, "output_norm.weight".into(), &[e], 0.2, 1.0);
    if arch == "phi3" {
        tensor(&mut w, "output.weight".into(), &[e, s.vocab], 0.5, 0.0);
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

/// A weight as (data, ne0, ne1): row r (one output) is `data[r*ne0..(r+1)*ne0]`.
fn weight(g: &Gguf<'_>, name: &str) -> Option<(Vec<f32>, usize, usize)> {
    let t = g.tensor(name)?;
    assert_eq!(t.ggml_type(), GgmlType::F32, "{name}");
    let data = g.tensor_data(t)?;
    let v: Vec<f32> = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let ne0 = t.dims()[0] as usize;
    let ne1 = t.dims().get(1).copied().unwrap_or(1) as usize;
    Some((v, ne0, ne1))
}

fn matvec(w: &(Vec<f32>, usize, usize), x: &[f32]) -> Vec<f32> {
    let (data, ne0, ne1) = w;
    assert_eq!(*ne0, x.len());
    (0..*ne1)
        .map(|r| {
            data[r * ne0..(r + 1) * ne0]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

fn rms_norm(x: &[f32], w: &[f32], eps: f32) -> Vec<f32> {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let s = 1.0 / (ms + eps).sqrt();
    x.iter().zip(w).map(|(v, g)| v * s * g).collect()
}

/// Rotates one head in place: NORM pairs (2i, 2i+1), NEOX pairs (i, i + n/2), both with
/// θ_i = pos · base^(-2i/n) (ggml-cpu/ops.cpp rotate_pairs).
fn rope(x: &mut [f32], pos: usize, base: f32, style: RopeType) {
    let n = x.len();
    for i in 0..n / 2 {
        let theta = pos as f32 * base.powf(-2.0 * i as f32 / n as f32);
        let (c, s) = (theta.cos(), theta.sin());
        let (a, b) = match style {
            RopeType::Norm => (2 * i, 2 * i + 1),
            RopeType::Neox => (i, i + n / 2),
            other => panic!("no rotation written for {other:?}"),
        };
        let (x0, x1) = (x[a], x[b]);
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

/// Logits of every position, reading whatever tensors the file has (fused or split Q/K/V,
/// fused or split gate/up, biases, output or tied), with the rope style of its architecture.
fn forward(bytes: &[u8], tokens: &[usize]) -> Vec<Vec<f32>> {
    let g = Gguf::parse(bytes).unwrap();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let (hd, heads, kvh) = (
        cfg.head_dim as usize,
        cfg.attention_head_count as usize,
        cfg.attention_head_count_kv as usize,
    );
    let (qw, kw) = (hd * heads, hd * kvh);
    let eps = cfg.rms_norm_eps as f32;
    let base = cfg.rope_freq_base as f32;
    let embd = weight(&g, "token_embd.weight").unwrap();
    let output = weight(&g, "output.weight").unwrap_or_else(|| embd.clone());
    let mut caches: Vec<KvCache> = vec![(vec![], vec![]); cfg.block_count as usize];
    let mut logits = Vec::new();
    for (pos, &tok) in tokens.iter().enumerate() {
        let e = embd.1;
        let mut x = embd.0[tok * e..(tok + 1) * e].to_vec();
        for (il, cache) in caches.iter_mut().enumerate() {
            let w = |n: &str| weight(&g, &format!("blk.{il}.{n}"));
            let add_bias = |v: &mut Vec<f32>, n: &str| {
                if let Some((b, _, _)) = w(n) {
                    v.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                }
            };
            let h = rms_norm(&x, &w("attn_norm.weight").unwrap().0, eps);
            let (mut q, mut k, v) = match w("attn_qkv.weight") {
                Some(qkv) => {
                    let mut all = matvec(&qkv, &h);
                    add_bias(&mut all, "attn_qkv.bias");
                    (
                        all[..qw].to_vec(),
                        all[qw..qw + kw].to_vec(),
                        all[qw + kw..].to_vec(),
                    )
                }
                None => {
                    let (mut q, mut k, mut v) = (
                        matvec(&w("attn_q.weight").unwrap(), &h),
                        matvec(&w("attn_k.weight").unwrap(), &h),
                        matvec(&w("attn_v.weight").unwrap(), &h),
                    );
                    add_bias(&mut q, "attn_q.bias");
                    add_bias(&mut k, "attn_k.bias");
                    add_bias(&mut v, "attn_v.bias");
                    (q, k, v)
                }
            };
            for head in q.chunks_mut(hd).chain(k.chunks_mut(hd)) {
                rope(head, pos, base, cfg.rope_type);
            }
            cache.0.push(k);
            cache.1.push(v);
            let mut attn = vec![0f32; qw];
            for hq in 0..heads {
                let hk = hq / (heads / kvh);
                let qh = &q[hq * hd..(hq + 1) * hd];
                let scores: Vec<f32> = cache
                    .0
                    .iter()
                    .map(|k| {
                        qh.iter()
                            .zip(&k[hk * hd..(hk + 1) * hd])
                            .map(|(a, b)| a * b)
                            .sum::<f32>()
                            / (hd as f32).sqrt()
                    })
                    .collect();
                let m = scores.iter().cloned().fold(f32::MIN, f32::max);
                let p: Vec<f32> = scores.iter().map(|s| (s - m).exp()).collect();
                let z: f32 = p.iter().sum();
                for (pi, v) in p.iter().zip(&cache.1) {
                    for d in 0..hd {
                        attn[hq * hd + d] += pi / z * v[hk * hd + d];
                    }
                }
            }
            let o = matvec(&w("attn_output.weight").unwrap(), &attn);
            x.iter_mut().zip(o).for_each(|(a, b)| *a += b);
            let h = rms_norm(&x, &w("ffn_norm.weight").unwrap().0, eps);
            let (gate, up) = match w("ffn_gate.weight") {
                Some(gw) => (matvec(&gw, &h), matvec(&w("ffn_up.weight").unwrap(), &h)),
                None => {
                    let gu = matvec(&w("ffn_up.weight").unwrap(), &h);
                    let ff = gu.len() / 2;
                    (gu[..ff].to_vec(), gu[ff..].to_vec())
                }
            };
            let act: Vec<f32> = gate
                .iter()
                .zip(&up)
                .map(|(g, u)| g / (1.0 + (-g).exp()) * u)
                .collect();
            let d = matvec(&w("ffn_down.weight").unwrap(), &act);
            x.iter_mut().zip(d).for_each(|(a, b)| *a += b);
        }
        let h = rms_norm(&x, &weight(&g, "output_norm.weight").unwrap().0, eps);
        logits.push(matvec(&output, &h));
    }
    logits
}

/// llamafy in memory, check the result is a clean `llama` file, and return its bytes.
fn adapt(src: &[u8]) -> Vec<u8> {
    let g = Gguf::parse(src).unwrap();
    let p = plan(&g);
    assert_eq!(p.verdict, Verdict::CompatibleWithAdapter, "{p:#?}");
    let mut out = Vec::new();
    llamafy(&g, &p).unwrap().write(&mut out).unwrap();
    let a = Gguf::parse(&out).unwrap();
    let cfg = ModelConfig::from_gguf(&a).unwrap();
    assert_eq!(
        (cfg.architecture.as_str(), cfg.rope_type),
        ("llama", RopeType::Norm)
    );
    assert_eq!(
        validate(&a, &cfg).findings,
        vec![],
        "the output validates clean against llama"
    );
    assert_eq!(a.check_layout(), vec![]);
    out
}

/// Largest |a - b| relative to the largest |logit|.
fn max_relative_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    let scale = a.iter().flatten().fold(0f32, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    diff / scale
}

fn assert_equivalent(arch: &str, s: Shape, seed: u64) -> f32 {
    assert_equivalent_bytes(arch, s, tiny(arch, s, seed))
}

fn assert_equivalent_bytes(arch: &str, s: Shape, src: Vec<u8>) -> f32 {
    let out = adapt(&src);
    let tokens = [1usize, 7, 42, 3, 99, 250, 17, 8];
    let (a, b) = (forward(&src, &tokens), forward(&out, &tokens));
    let d = max_relative_diff(&a, &b);
    println!(
        "{arch} {}x{} heads {}/{}: max relative logit difference {d:e}",
        s.layers, s.embd, s.heads, s.kv_heads
    );
    assert!(d <= 1e-4, "{arch}: logits differ by {d}");
    // The check can fail: the same weights read with the other rope style disagree.
    d
}

#[test]
fn phi3_shaped_mha_model_is_equivalent_after_llamafy() {
    assert_equivalent(
        "phi3",
        Shape {
            embd: 64,
            heads: 4,
            kv_heads: 4,
            ff: 96,
            vocab: 256,
            layers: 2,
        },
        1,
    );
}

#[test]
fn phi3_shaped_gqa_model_is_equivalent_after_llamafy() {
    assert_equivalent(
        "phi3",
        Shape {
            embd: 96,
            heads: 6,
            kv_heads: 2,
            ff: 64,
            vocab: 256,
            layers: 2,
        },
        2,
    );
}

#[test]
fn qwen2_shaped_gqa7_model_with_biases_and_tied_output_is_equivalent() {
    assert_equivalent(
        "qwen2",
        Shape {
            embd: 112,
            heads: 14,
            kv_heads: 2,
            ff: 128,
            vocab: 256,
            layers: 2,
        },
        3,
    );
}

#[test]
fn qwen2_shaped_mqa_model_is_equivalent() {
    assert_equivalent(
        "qwen2",
        Shape {
            embd: 64,
            heads: 4,
            kv_heads: 1,
            ff: 96,
            vocab: 256,
            layers: 2,
        },
        4,
    );
}

#[test]
fn phi3_shaped_model_with_a_fused_qkv_bias_is_equivalent() {
    let s = Shape {
        embd: 64,
        heads: 4,
        kv_heads: 2,
        ff: 96,
        vocab: 256,
        layers: 2,
    };
    assert_equivalent_bytes("phi3", s, tiny_with("phi3", s, 6, true));
}

#[test]
fn without_the_permutation_the_logits_would_differ() {
    // The same llamafied weights run with NEOX rope (i.e. the permutation undone by the wrong
    // semantics) must not match: the test above can fail.
    let s = Shape {
        embd: 64,
        heads: 4,
        kv_heads: 4,
        ff: 96,
        vocab: 256,
        layers: 2,
    };
    let src = tiny("phi3", s, 5);
    let out = adapt(&src);
    let mut as_phi3 = Gguf::parse(&out)
        .unwrap()
        .metadata()
        .iter()
        .map(|kv| (kv.key().to_string(), kv.value().to_owned_value()))
        .collect::<Vec<_>>();
    for (k, v) in &mut as_phi3 {
        if let Some(rest) = k.strip_prefix("llama.") {
            *k = format!("phi3.{rest}");
        }
        if k == "general.architecture" {
            *v = OwnedValue::from("phi3");
        }
    }
    // Rebuild the llamafied tensors under phi3 (NEOX) semantics.
    let g = Gguf::parse(&out).unwrap();
    let mut w = GgufWriter::new();
    for (k, v) in as_phi3 {
        w.add_kv(k, v);
    }
    for t in g.tensors() {
        w.add_tensor(
            t.name(),
            t.ggml_type(),
            t.dims(),
            TensorData::Borrowed(g.tensor_data(t).unwrap()),
        );
    }
    let mut neox = Vec::new();
    w.write(&mut neox).unwrap();
    let tokens = [1usize, 7, 42, 3, 99];
    let d = max_relative_diff(&forward(&src, &tokens), &forward(&neox, &tokens));
    assert!(d > 1e-3, "difference {d}");
}
