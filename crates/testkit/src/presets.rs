//! Model layouts written with the project's own writer.
//!
//! Shapes are in ggml `ne` order and come from `shared/docs/ground-truth.md` §2.5 (checked there
//! against llama.cpp's loader and real loader dumps); they are written down here independently of
//! the architecture specs in `crates/model`, so that each checks the other.

use std::fs::File;
use std::io::BufWriter;

use ggufscope_gguf::{GgmlType, GgufWriter, OwnedValue, TensorData};
use tempfile::NamedTempFile;

/// One tensor of a fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct FixtureTensor {
    /// Name.
    pub name: String,
    /// Type.
    pub ggml_type: GgmlType,
    /// Shape, ggml order.
    pub dims: Vec<u64>,
}

/// A model layout: metadata and tensor infos, data all zeros (a hole when written sparse).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelFixture {
    /// Metadata in file order.
    pub kvs: Vec<(String, OwnedValue)>,
    /// Tensors in file order.
    pub tensors: Vec<FixtureTensor>,
}

impl ModelFixture {
    /// Sets a key (replacing it in place if present, appending otherwise).
    pub fn set_kv(&mut self, key: &str, value: impl Into<OwnedValue>) -> &mut Self {
        let value = value.into();
        match self.kvs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.kvs.push((key.to_string(), value)),
        }
        self
    }

    /// Removes a key.
    pub fn remove_kv(&mut self, key: &str) -> &mut Self {
        self.kvs.retain(|(k, _)| k != key);
        self
    }

    /// The value of a key.
    pub fn kv(&self, key: &str) -> Option<&OwnedValue> {
        self.kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Appends a tensor.
    pub fn push_tensor(&mut self, name: &str, ggml_type: GgmlType, dims: &[u64]) -> &mut Self {
        self.tensors.push(FixtureTensor {
            name: name.to_string(),
            ggml_type,
            dims: dims.to_vec(),
        });
        self
    }

    /// Removes a tensor; panics if absent (a test asking for it is wrong).
    pub fn remove_tensor(&mut self, name: &str) -> &mut Self {
        let before = self.tensors.len();
        self.tensors.retain(|t| t.name != name);
        assert_ne!(before, self.tensors.len(), "no tensor {name}");
        self
    }

    /// Changes a tensor's shape; panics if absent.
    pub fn set_dims(&mut self, name: &str, dims: &[u64]) -> &mut Self {
        let t = self.tensor_mut(name);
        t.dims = dims.to_vec();
        self
    }

    /// Changes a tensor's type; panics if absent.
    pub fn set_type(&mut self, name: &str, ggml_type: GgmlType) -> &mut Self {
        self.tensor_mut(name).ggml_type = ggml_type;
        self
    }

    fn tensor_mut(&mut self, name: &str) -> &mut FixtureTensor {
        self.tensors
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
    }

    /// Sum of every tensor's element count.
    pub fn element_count(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| t.dims.iter().product::<u64>())
            .sum()
    }

    /// A writer holding this layout, every tensor's data zeros.
    pub fn writer(&self) -> GgufWriter<'static> {
        let mut w = GgufWriter::new();
        for (k, v) in &self.kvs {
            w.add_kv(k, v.clone());
        }
        for t in &self.tensors {
            w.add_tensor(&t.name, t.ggml_type, &t.dims, TensorData::Zeros);
        }
        w
    }

    /// The whole file in memory (only for small layouts).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.writer().write(&mut out).expect("writing to memory");
        out
    }

    /// Writes the file sparse (data left as a hole) to a temporary file.
    pub fn write_sparse_temp(&self) -> NamedTempFile {
        let tmp = tempfile::Builder::new()
            .suffix(".gguf")
            .tempfile()
            .expect("temp file");
        let file: &File = tmp.as_file();
        let mut w = BufWriter::new(file);
        self.writer()
            .write_sparse(&mut w)
            .expect("writing sparse file");
        drop(w);
        tmp
    }
}

fn tokens(n: u64) -> OwnedValue {
    OwnedValue::strings((0..n).map(|i| format!("<t{i}>")))
}

/// Phi-3-mini-4k-instruct as `microsoft/Phi-3-mini-4k-instruct-gguf`'s q4 file lays it out:
/// 195 tensors (ground-truth §2.5.1) with the types of that file (f32 65, q4_K 81, q5_K 32,
/// q6_K 17; the per-tensor assignment is inferred in ground-truth §2.3 from llama.cpp's
/// quantization rules), 3,821,079,552 parameters.
pub fn phi3_mini_4k() -> ModelFixture {
    let (n_embd, n_ff, n_layer, n_vocab) = (3072u64, 8192u64, 32u32, 32064u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "phi3")
        .set_kv("general.name", "Phi3")
        .set_kv("phi3.context_length", 4096u32)
        .set_kv("phi3.embedding_length", n_embd as u32)
        .set_kv("phi3.feed_forward_length", n_ff as u32)
        .set_kv("phi3.block_count", n_layer)
        .set_kv("phi3.attention.head_count", 32u32)
        .set_kv("phi3.attention.head_count_kv", 32u32)
        .set_kv("phi3.attention.layer_norm_rms_epsilon", 1e-5f32)
        .set_kv("phi3.rope.dimension_count", 96u32)
        .set_kv("general.file_type", 15u32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.pre", "default")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab))
        .set_kv("tokenizer.ggml.bos_token_id", 1u32)
        .set_kv("tokenizer.ggml.eos_token_id", 32000u32)
        .set_kv("tokenizer.ggml.unknown_token_id", 0u32)
        .set_kv("tokenizer.ggml.padding_token_id", 32000u32)
        .set_kv("tokenizer.ggml.add_bos_token", true)
        .set_kv("tokenizer.ggml.add_eos_token", false)
        .set_kv("general.quantization_version", 2u32);
    m.push_tensor("token_embd.weight", GgmlType::Q4_K, &[n_embd, n_vocab]);
    let q6_down = |i: u32| !(4..28).contains(&i) || (i - 3) % 3 == 0;
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_qkv.weight"), GgmlType::Q5_K, &[n_embd, 3 * n_embd])
            .push_tensor(&b("attn_output.weight"), GgmlType::Q4_K, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("ffn_up.weight"), GgmlType::Q4_K, &[n_embd, 2 * n_ff]);
        let down = if q6_down(i) {
            GgmlType::Q6_K
        } else {
            GgmlType::Q4_K
        };
        m.push_tensor(&b("ffn_down.weight"), down, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("output.weight", GgmlType::Q6_K, &[n_embd, n_vocab]);
    m
}

/// Qwen2.5-0.5B-Instruct as an f16 conversion lays it out: 290 tensors (ground-truth §2.5.2:
/// f32 121, f16 169), q/k/v biases, no `output.weight` (tied), 494,032,768 parameters.
pub fn qwen2_5_0_5b() -> ModelFixture {
    let (n_embd, n_ff, n_layer, n_vocab, n_kv) = (896u64, 4864u64, 24u32, 151936u64, 128u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "qwen2")
        .set_kv("general.type", "model")
        .set_kv("general.name", "Qwen2.5 0.5B Instruct")
        .set_kv("general.size_label", "0.5B")
        .set_kv("qwen2.block_count", n_layer)
        .set_kv("qwen2.context_length", 32768u32)
        .set_kv("qwen2.embedding_length", n_embd as u32)
        .set_kv("qwen2.feed_forward_length", n_ff as u32)
        .set_kv("qwen2.attention.head_count", 14u32)
        .set_kv("qwen2.attention.head_count_kv", 2u32)
        .set_kv("qwen2.rope.freq_base", 1_000_000f32)
        .set_kv("qwen2.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("general.file_type", 1u32)
        .set_kv("tokenizer.ggml.model", "gpt2")
        .set_kv("tokenizer.ggml.pre", "qwen2")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab))
        .set_kv("tokenizer.ggml.eos_token_id", 151645u32)
        .set_kv("tokenizer.ggml.padding_token_id", 151643u32)
        .set_kv("tokenizer.ggml.bos_token_id", 151643u32)
        .set_kv("tokenizer.ggml.add_bos_token", false)
        .set_kv(
            "tokenizer.chat_template",
            "{% for message in messages %}{{ message.content }}{% endfor %}",
        )
        .set_kv("general.quantization_version", 2u32);
    m.push_tensor("token_embd.weight", GgmlType::F16, &[n_embd, n_vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_q.weight"), GgmlType::F16, &[n_embd, n_embd])
            .push_tensor(&b("attn_q.bias"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_k.weight"), GgmlType::F16, &[n_embd, n_kv])
            .push_tensor(&b("attn_k.bias"), GgmlType::F32, &[n_kv])
            .push_tensor(&b("attn_v.weight"), GgmlType::F16, &[n_embd, n_kv])
            .push_tensor(&b("attn_v.bias"), GgmlType::F32, &[n_kv])
            .push_tensor(&b("attn_output.weight"), GgmlType::F16, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("ffn_gate.weight"), GgmlType::F16, &[n_embd, n_ff])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F16, &[n_embd, n_ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F16, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", GgmlType::F32, &[n_embd]);
    m
}

/// A tiny `llama` model (2 layers, width 64, 4 heads / 2 kv heads, vocab 256), f32, small
/// enough to write in memory.
pub fn tiny_llama() -> ModelFixture {
    let (n_embd, n_ff, n_layer, n_vocab, n_kv) = (64u64, 128u64, 2u32, 256u64, 32u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "llama")
        .set_kv("llama.context_length", 512u32)
        .set_kv("llama.embedding_length", n_embd as u32)
        .set_kv("llama.feed_forward_length", n_ff as u32)
        .set_kv("llama.block_count", n_layer)
        .set_kv("llama.attention.head_count", 4u32)
        .set_kv("llama.attention.head_count_kv", 2u32)
        .set_kv("llama.rope.dimension_count", 16u32)
        .set_kv("llama.attention.layer_norm_rms_epsilon", 1e-5f32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab));
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_q.weight"), GgmlType::F32, &[n_embd, n_embd])
            .push_tensor(&b("attn_k.weight"), GgmlType::F32, &[n_embd, n_kv])
            .push_tensor(&b("attn_v.weight"), GgmlType::F32, &[n_embd, n_kv])
            .push_tensor(&b("attn_output.weight"), GgmlType::F32, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("ffn_gate.weight"), GgmlType::F32, &[n_embd, n_ff])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F32, &[n_embd, n_ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F32, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("output.weight", GgmlType::F32, &[n_embd, n_vocab]);
    m
}

/// A tiny `phi3` model (2 layers, width 64, 4 heads MHA, fused `attn_qkv` and gate‖up
/// `ffn_up`, vocab 256, untied output), f32, with a sliding window of 2047 as Phi-3-mini's
/// config has.
pub fn tiny_phi3() -> ModelFixture {
    let (n_embd, n_ff, n_layer, n_vocab) = (64u64, 96u64, 2u32, 256u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "phi3")
        .set_kv("phi3.context_length", 512u32)
        .set_kv("phi3.embedding_length", n_embd as u32)
        .set_kv("phi3.feed_forward_length", n_ff as u32)
        .set_kv("phi3.block_count", n_layer)
        .set_kv("phi3.attention.head_count", 4u32)
        .set_kv("phi3.attention.head_count_kv", 4u32)
        .set_kv("phi3.attention.layer_norm_rms_epsilon", 1e-5f32)
        .set_kv("phi3.rope.dimension_count", 16u32)
        .set_kv("phi3.attention.sliding_window", 2047u32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab));
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_qkv.weight"), GgmlType::F32, &[n_embd, 3 * n_embd])
            .push_tensor(&b("attn_output.weight"), GgmlType::F32, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F32, &[n_embd, 2 * n_ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F32, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("output.weight", GgmlType::F32, &[n_embd, n_vocab]);
    m
}

/// A tiny `qwen2` model (2 layers, width 112, 14 heads / 2 KV heads: GQA group 7, q/k/v
/// biases, tied output, vocab 256), f32.
pub fn tiny_qwen2() -> ModelFixture {
    let (n_embd, n_ff, n_layer, n_vocab, n_kv) = (112u64, 128u64, 2u32, 256u64, 16u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "qwen2")
        .set_kv("qwen2.context_length", 1024u32)
        .set_kv("qwen2.embedding_length", n_embd as u32)
        .set_kv("qwen2.feed_forward_length", n_ff as u32)
        .set_kv("qwen2.block_count", n_layer)
        .set_kv("qwen2.attention.head_count", 14u32)
        .set_kv("qwen2.attention.head_count_kv", 2u32)
        .set_kv("qwen2.rope.freq_base", 1_000_000f32)
        .set_kv("qwen2.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("tokenizer.ggml.model", "gpt2")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab));
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab]);
    for i in 0..n_layer {
        let b = |s: &str| format!("blk.{i}.{s}");
        m.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_q.weight"), GgmlType::F32, &[n_embd, n_embd])
            .push_tensor(&b("attn_q.bias"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("attn_k.weight"), GgmlType::F32, &[n_embd, n_kv])
            .push_tensor(&b("attn_k.bias"), GgmlType::F32, &[n_kv])
            .push_tensor(&b("attn_v.weight"), GgmlType::F32, &[n_embd, n_kv])
            .push_tensor(&b("attn_v.bias"), GgmlType::F32, &[n_kv])
            .push_tensor(&b("attn_output.weight"), GgmlType::F32, &[n_embd, n_embd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[n_embd])
            .push_tensor(&b("ffn_gate.weight"), GgmlType::F32, &[n_embd, n_ff])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F32, &[n_embd, n_ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F32, &[n_ff, n_embd]);
    }
    m.push_tensor("output_norm.weight", GgmlType::F32, &[n_embd]);
    m
}

/// A head of `tests/fixtures/llama-archs/` "extended to full length" (the fixture README's
/// phrase): its metadata with `{arch}.block_count = n_layer`, its non-layer tensors, and layer
/// `il`'s tensors shaped as the head's layer `il % n` (`n` the head's layer count), so that
/// repeating patterns (dense/MoE, SWA) carry on. Per-layer metadata arrays of the head's length
/// are repeated the same way. Sizes only: the data is zeros.
pub fn extend_corpus_head(path: &std::path::Path, n_layer: u64) -> ModelFixture {
    extend_head_bytes(&std::fs::read(path).unwrap(), n_layer)
}

/// [`extend_corpus_head`] on a head already in memory (e.g. a gzipped fixture read with
/// `read_fixture`).
pub fn extend_head_bytes(bytes: &[u8], n_layer: u64) -> ModelFixture {
    let g =
        ggufscope_gguf::Gguf::parse_with(bytes, ggufscope_gguf::ParseOptions::lenient()).unwrap();
    let md = g.metadata();
    let arch = md
        .get_str("general.architecture")
        .unwrap()
        .unwrap()
        .to_string();
    let count_key = format!("{arch}.block_count");
    let n_head = md.get_u64(&count_key).unwrap().unwrap();
    let mut m = ModelFixture::default();
    for kv in md.iter() {
        let key = kv.key().to_str().unwrap().to_string();
        let mut value = kv.value().to_owned_value();
        if key.starts_with(&format!("{arch}.")) {
            if let OwnedValue::Array(a) = &mut value {
                if a.items.len() as u64 == n_head && n_head > 0 {
                    let items = a.items.clone();
                    a.items = (0..n_layer)
                        .map(|il| items[(il % n_head) as usize].clone())
                        .collect();
                }
            }
        }
        m.set_kv(&key, value);
    }
    m.set_kv(&count_key, OwnedValue::U32(n_layer as u32));
    let layer_of = |name: &str| -> Option<(u64, String)> {
        let rest = name.strip_prefix("blk.")?;
        let (il, tail) = rest.split_once('.')?;
        Some((il.parse().ok()?, tail.to_string()))
    };
    let fixture = |name: String, t: &ggufscope_gguf::TensorInfo<'_>| FixtureTensor {
        name,
        ggml_type: t.ggml_type(),
        dims: t.dims().to_vec(),
    };
    let first_layer = g
        .tensors()
        .iter()
        .position(|t| layer_of(t.name()).is_some());
    let mut tail_tensors: Vec<FixtureTensor> = Vec::new();
    for (i, t) in g.tensors().iter().enumerate() {
        if layer_of(t.name()).is_some() {
            continue;
        }
        let ft = fixture(t.name().to_string(), t);
        match first_layer {
            Some(f) if i > f => tail_tensors.push(ft),
            _ => m.tensors.push(ft),
        }
    }
    for il in 0..n_layer {
        for t in g.tensors() {
            if let Some((jl, tail)) = layer_of(t.name()) {
                if jl == il % n_head {
                    m.tensors.push(fixture(format!("blk.{il}.{tail}"), t));
                }
            }
        }
    }
    m.tensors.extend(tail_tensors);
    m
}

/// The tensor types of a "Q4_K_M-like" quantization of `m`, as llama.cpp's `llama-quantize`
/// chooses them in outline (src/llama-quant.cpp, 0c1e570): only tensors it allows to be
/// quantized (`tensor_allows_quantization`, 287-383: 2-D and 3-D tensors whose name ends in
/// `weight`, not norms, the MoE router, altup/laurel, position/token-type embeddings, SSM and
/// short convolutions, the time-mix vectors, MiniMax's indexer projections); Q6_K for the output
/// (or the token embedding when it is tied), `attn_v`, `attn_qkv` and `ffn_down`, Q4_K for the
/// rest; a row length the block does not divide falls back as `tensor_type_fallback` does
/// (389-442: Q4_K to Q5_0, Q6_K to Q8_0, then F16). Not llama.cpp's exact Q4_K_M (which keeps
/// half the `attn_v`/`ffn_down` in Q4_K and has per-architecture rules): the point is weights of
/// block types in every role a real file has them.
pub fn quantize_like_q4_k_m(m: &mut ModelFixture) {
    const KEEP: [&str; 26] = [
        "_norm.weight",
        "ffn_gate_inp.weight",
        "ffn_gate_tid2eid.weight",
        "altup",
        "laurel",
        "per_layer_model_proj",
        "ssm_conv1d",
        "shortconv.conv.weight",
        "indexer.k_proj.weight",
        "indexer.q_proj.weight",
        "time_mix_first.weight",
        "time_mix_w0.weight",
        "time_mix_w1.weight",
        "time_mix_w2.weight",
        "time_mix_v0.weight",
        "time_mix_v1.weight",
        "time_mix_v2.weight",
        "time_mix_a0.weight",
        "time_mix_a1.weight",
        "time_mix_a2.weight",
        "time_mix_g1.weight",
        "time_mix_g2.weight",
        "time_mix_decay_w1.weight",
        "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight",
        "attn_rel_b.weight",
    ];
    const KEEP_EXACT: [&str; 2] = ["position_embd.weight", "token_types.weight"];
    let tied = !m.tensors.iter().any(|t| t.name == "output.weight");
    let glm5_next = matches!(m.kv("general.architecture"),
        Some(OwnedValue::String(a)) if a == b"glm5-next");
    for t in &mut m.tensors {
        let n = t.name.as_str();
        let dims = t.dims.iter().rev().skip_while(|&&d| d == 1).count();
        let allowed = dims >= 2
            && n.ends_with("weight")
            && !KEEP.iter().any(|k| n.contains(k))
            && !KEEP_EXACT.contains(&n)
            && !(glm5_next
                && [
                    "hc_",
                    "indexer.attn_q_b",
                    "indexer.attn_k",
                    "indexer.proj",
                    "indexer_compressor_gate",
                    "indexer_compressor_ape",
                    "ssm_f_a.weight",
                    "ssm_f_b.weight",
                    "ssm_g_a.weight",
                    "ssm_g_b.weight",
                    "ssm_beta.weight",
                    "attn_kv_a_mqa.weight",
                    "attn_k_b.weight",
                    "attn_v_b.weight",
                ]
                .iter()
                .any(|k| n.contains(k)));
        if !allowed {
            continue;
        }
        let six = n == "output.weight"
            || (tied && n == "token_embd.weight")
            || ["attn_v.weight", "attn_qkv.weight", "ffn_down"]
                .iter()
                .any(|k| n.contains(k));
        let ne0 = t.dims.first().copied().unwrap_or(0);
        t.ggml_type = match (six, ne0 % 256 == 0, ne0 % 32 == 0) {
            (true, true, _) => GgmlType::Q6_K,
            (false, true, _) => GgmlType::Q4_K,
            (true, false, true) => GgmlType::Q8_0,
            (false, false, true) => GgmlType::Q5_0,
            (_, false, false) => GgmlType::F16,
        };
    }
}
