//! The seed corpus, built by code: the hostile-input catalogue (`shared/docs/hostile-inputs.md`
//! §6, sections A–H), small valid models of every supported shape, the tiny presets, and the
//! real fixtures (their first 64 KiB, and re-encoded with their arrays cut short).
//!
//! [`corpus`] is what `write-corpus` writes to `fuzz/corpus/<target>/` (kept under 2 MB);
//! [`huge`] holds the catalogue's large cases and [`tiny_preset_files`] the whole tiny presets,
//! built in memory by the tests only.

use ggufscope_gguf::{Endian, GgmlType, Gguf, GgufWriter, OwnedValue, TensorData, Value};
use ggufscope_testkit::presets::{self, ModelFixture};
use ggufscope_testkit::raw::{self, ty, Raw};
use ggufscope_testkit::{read_real, REAL_FIXTURES};

use crate::mutate::Rng;

/// One seed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The fuzz target whose corpus it belongs to.
    pub target: &'static str,
    /// File name in `fuzz/corpus/<target>/`.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// How much of each real fixture the `parse` corpus keeps.
pub const REAL_PREFIX_BYTES: usize = 64 << 10;
/// Arrays of the real fixtures are cut to this many elements when re-encoded.
pub const REAL_ARRAY_ELEMENTS: usize = 64;

/// Every seed of every target, in a fixed order.
pub fn corpus() -> Vec<Seed> {
    let mut out = Vec::new();
    let mut add = |target: &'static str, name: String, bytes: Vec<u8>| {
        out.push(Seed {
            target,
            name,
            bytes,
        })
    };
    for (name, bytes) in catalogue() {
        add("parse", format!("{name}.gguf"), bytes);
    }
    for name in REAL_FIXTURES {
        let bytes = read_real(name);
        let stem = name.trim_end_matches(".gguf");
        let head = bytes.get(..REAL_PREFIX_BYTES).unwrap_or(&bytes).to_vec();
        add("parse", format!("real-{stem}-first-64k.gguf"), head);
        let cut = cut_arrays(&bytes);
        add("parse", format!("real-{stem}-cut.gguf"), cut.clone());
        add("analyze", format!("real-{stem}-cut.gguf"), cut);
    }
    // The tiny presets whole are 0.4-0.7 MB each: the corpus keeps their heads (the tests
    // also run the whole files, see `tiny_preset_files`).
    for (name, m) in tiny_presets() {
        let head = head_of(&m);
        add("parse", format!("{name}-head.gguf"), head.clone());
        add("analyze", format!("{name}-head.gguf"), head);
    }
    for (name, bytes) in micro_models() {
        add("parse", format!("{name}.gguf"), bytes.clone());
        add("analyze", format!("{name}.gguf"), bytes);
    }
    let mut rng = Rng::new(0x5EED_0001);
    for i in 0..32 {
        let len = 64 + rng.below(2048);
        add("roundtrip", format!("random-{i:02}"), rng.bytes(len));
    }
    out
}

/// The header, metadata and tensor infos of a fixture, padded, plus its first 64 data bytes.
fn head_of(m: &ModelFixture) -> Vec<u8> {
    let bytes = m.to_bytes();
    let end = Gguf::parse(&bytes)
        .map(|g| g.data_offset())
        .ok()
        .and_then(|o| usize::try_from(o).ok())
        .unwrap_or(bytes.len());
    bytes.get(..end + 64).unwrap_or(&bytes).to_vec()
}

/// The tiny presets written whole (data all zeros), for the tests.
pub fn tiny_preset_files() -> Vec<(String, Vec<u8>)> {
    tiny_presets()
        .into_iter()
        .map(|(name, m)| (name.to_string(), m.to_bytes()))
        .collect()
}

/// The three tiny presets of the test kit.
pub fn tiny_presets() -> Vec<(&'static str, ModelFixture)> {
    vec![
        ("tiny-llama", presets::tiny_llama()),
        ("tiny-phi3", presets::tiny_phi3()),
        ("tiny-qwen2", presets::tiny_qwen2()),
    ]
}

/// A real fixture re-encoded by `GgufWriter` with every array cut to
/// [`REAL_ARRAY_ELEMENTS`] elements: the same keys and configuration in a few kilobytes.
pub fn cut_arrays(bytes: &[u8]) -> Vec<u8> {
    let Ok(g) = Gguf::parse(bytes) else {
        return Vec::new();
    };
    let mut w = GgufWriter::new().version(g.version()).endian(g.endian());
    for kv in g.metadata().iter() {
        let value = match kv.value() {
            Value::Array(a) => OwnedValue::array(
                a.element_type(),
                a.iter()
                    .take(REAL_ARRAY_ELEMENTS)
                    .map(|v| v.to_owned_value()),
            ),
            other => other.to_owned_value(),
        };
        w.add_kv(kv.key().as_bytes(), value);
    }
    let mut out = Vec::new();
    match w.write(&mut out) {
        Ok(_) => out,
        Err(_) => Vec::new(),
    }
}

fn tokens(n: u64) -> OwnedValue {
    OwnedValue::strings((0..n).map(|i| format!("<t{i}>")))
}

/// Small valid models of each shape the model layer knows (llama GQA, phi3 fused, qwen2 with
/// biases and tied output), little- and big-endian and v2, a few kilobytes each.
pub fn micro_models() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, m) in [
        ("micro-llama", micro_llama()),
        ("micro-phi3", micro_phi3()),
        ("micro-qwen2", micro_qwen2()),
    ] {
        out.push((name.to_string(), m.to_bytes()));
        for (suffix, version, endian) in [("be", 3, Endian::Big), ("v2", 2, Endian::Little)] {
            let mut bytes = Vec::new();
            let w = m.writer().version(version).endian(endian);
            if w.write(&mut bytes).is_ok() {
                out.push((format!("{name}-{suffix}"), bytes));
            }
        }
    }
    out
}

/// llama, 1 layer, width 16, 2 heads / 1 KV head, vocab 8, with scores and token types.
pub fn micro_llama() -> ModelFixture {
    let (n_embd, n_ff, n_vocab, n_kv) = (16u64, 32u64, 8u64, 8u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "llama")
        .set_kv("llama.context_length", 64u32)
        .set_kv("llama.embedding_length", 16u32)
        .set_kv("llama.feed_forward_length", 32u32)
        .set_kv("llama.block_count", 1u32)
        .set_kv("llama.attention.head_count", 2u32)
        .set_kv("llama.attention.head_count_kv", 1u32)
        .set_kv("llama.rope.dimension_count", 8u32)
        .set_kv("llama.attention.layer_norm_rms_epsilon", 1e-5f32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab))
        .set_kv(
            "tokenizer.ggml.scores",
            OwnedValue::array(
                ggufscope_gguf::ValueType::F32,
                (0..8u8).map(|i| OwnedValue::F32(f32::from(i))),
            ),
        );
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab])
        .push_tensor("blk.0.attn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.attn_q.weight", GgmlType::F32, &[n_embd, n_embd])
        .push_tensor("blk.0.attn_k.weight", GgmlType::F32, &[n_embd, n_kv])
        .push_tensor("blk.0.attn_v.weight", GgmlType::F32, &[n_embd, n_kv])
        .push_tensor("blk.0.attn_output.weight", GgmlType::F32, &[n_embd, n_embd])
        .push_tensor("blk.0.ffn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.ffn_gate.weight", GgmlType::F16, &[n_embd, n_ff])
        .push_tensor("blk.0.ffn_up.weight", GgmlType::F16, &[n_embd, n_ff])
        .push_tensor("blk.0.ffn_down.weight", GgmlType::Q8_0, &[n_ff, n_embd])
        .push_tensor("output_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("output.weight", GgmlType::F32, &[n_embd, n_vocab]);
    m
}

/// phi3, 1 layer, width 16, 2 heads MHA, fused `attn_qkv` and gate‖up `ffn_up`, vocab 8.
pub fn micro_phi3() -> ModelFixture {
    let (n_embd, n_ff, n_vocab) = (16u64, 32u64, 8u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "phi3")
        .set_kv("phi3.context_length", 64u32)
        .set_kv("phi3.embedding_length", 16u32)
        .set_kv("phi3.feed_forward_length", 32u32)
        .set_kv("phi3.block_count", 1u32)
        .set_kv("phi3.attention.head_count", 2u32)
        .set_kv("phi3.attention.head_count_kv", 2u32)
        .set_kv("phi3.attention.layer_norm_rms_epsilon", 1e-5f32)
        .set_kv("phi3.rope.dimension_count", 8u32)
        .set_kv("phi3.attention.sliding_window", 31u32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab));
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab])
        .push_tensor("blk.0.attn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor(
            "blk.0.attn_qkv.weight",
            GgmlType::F32,
            &[n_embd, 3 * n_embd],
        )
        .push_tensor("blk.0.attn_output.weight", GgmlType::F32, &[n_embd, n_embd])
        .push_tensor("blk.0.ffn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.ffn_up.weight", GgmlType::F32, &[n_embd, 2 * n_ff])
        .push_tensor("blk.0.ffn_down.weight", GgmlType::F32, &[n_ff, n_embd])
        .push_tensor("output_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("output.weight", GgmlType::F32, &[n_embd, n_vocab]);
    m
}

/// qwen2, 1 layer, width 16, 2 heads / 1 KV head, q/k/v biases, tied output, vocab 8.
pub fn micro_qwen2() -> ModelFixture {
    let (n_embd, n_ff, n_vocab, n_kv) = (16u64, 32u64, 8u64, 8u64);
    let mut m = ModelFixture::default();
    m.set_kv("general.architecture", "qwen2")
        .set_kv("qwen2.context_length", 64u32)
        .set_kv("qwen2.embedding_length", 16u32)
        .set_kv("qwen2.feed_forward_length", 32u32)
        .set_kv("qwen2.block_count", 1u32)
        .set_kv("qwen2.attention.head_count", 2u32)
        .set_kv("qwen2.attention.head_count_kv", 1u32)
        .set_kv("qwen2.rope.freq_base", 1_000_000f32)
        .set_kv("qwen2.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("tokenizer.ggml.model", "gpt2")
        .set_kv("tokenizer.ggml.tokens", tokens(n_vocab))
        .set_kv("tokenizer.ggml.merges", OwnedValue::strings(["a b", "c d"]));
    m.push_tensor("token_embd.weight", GgmlType::F32, &[n_embd, n_vocab])
        .push_tensor("blk.0.attn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.attn_q.weight", GgmlType::F32, &[n_embd, n_embd])
        .push_tensor("blk.0.attn_q.bias", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.attn_k.weight", GgmlType::F32, &[n_embd, n_kv])
        .push_tensor("blk.0.attn_k.bias", GgmlType::F32, &[n_kv])
        .push_tensor("blk.0.attn_v.weight", GgmlType::F32, &[n_embd, n_kv])
        .push_tensor("blk.0.attn_v.bias", GgmlType::F32, &[n_kv])
        .push_tensor("blk.0.attn_output.weight", GgmlType::F32, &[n_embd, n_embd])
        .push_tensor("blk.0.ffn_norm.weight", GgmlType::F32, &[n_embd])
        .push_tensor("blk.0.ffn_gate.weight", GgmlType::F32, &[n_embd, n_ff])
        .push_tensor("blk.0.ffn_up.weight", GgmlType::F32, &[n_embd, n_ff])
        .push_tensor("blk.0.ffn_down.weight", GgmlType::F32, &[n_ff, n_embd])
        .push_tensor("output_norm.weight", GgmlType::F32, &[n_embd]);
    m
}

/// `HDR(3,0,1) ‖ KV(key, type)` then `payload`.
fn one_kv(key: &str, type_id: u32, payload: Raw) -> Vec<u8> {
    let mut bytes = Raw::le().hdr(3, 0, 1).kv(key, type_id).build();
    bytes.extend(payload.build());
    bytes
}

/// `HDR(3,1,0) ‖ TI(name, dims, type, offset) ‖ PAD(32) ‖ data bytes`.
fn one_tensor(name: &[u8], dims: &[u64], ggml_type: u32, offset: u64, data: usize) -> Vec<u8> {
    Raw::le()
        .hdr(3, 1, 0)
        .ti(name, dims, ggml_type, offset)
        .pad(32)
        .fill(0x5A, data)
        .build()
}

/// `HDR(3,1,1) ‖ align_kv ‖ TI("t",[32],f32,offset) ‖ PAD ‖ data`.
fn aligned(align: Raw, pad: usize, offset: u64, data: usize) -> Vec<u8> {
    let mut bytes = Raw::le().hdr(3, 1, 1).build();
    bytes.extend(align.build());
    let rest = Raw::le()
        .bytes(&bytes)
        .ti("t", &[32], 0, offset)
        .pad(pad)
        .fill(0, data);
    rest.build()
}

/// A `llama` file with one changed hyper-parameter (catalogue B22, D38, D39).
fn llama_with(edit: impl FnOnce(&mut ModelFixture)) -> Vec<u8> {
    let mut m = micro_llama();
    edit(&mut m);
    let mut out = Vec::new();
    match m.writer().write(&mut out) {
        Ok(_) => out,
        Err(_) => Vec::new(),
    }
}

/// The hostile-input catalogue, sections A–H, as small files (named `<case>-<what>`).
pub fn catalogue() -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| c.push((name.to_string(), bytes));
    let b0 = raw::b0();

    // A. Header.
    add("a01-empty", Vec::new());
    for (what, magic) in [
        ("lmgg", b"lmgg"),
        ("tjgg", b"tjgg"),
        ("lowercase", b"gguf"),
        ("xxxx", b"XXXX"),
        ("nul-ggu", b"\0GGU"),
    ] {
        let mut bytes = b0.clone();
        bytes.splice(0..4, magic.iter().copied());
        add(&format!("a03-magic-{what}"), bytes);
    }
    add("a04-version-0", Raw::le().hdr(0, 0, 0).build());
    add(
        "a05-v1-hostile-string",
        Raw::le()
            .bytes(b"GGUF")
            .u32(1)
            .u32(0)
            .u32(1)
            .u32(0xFFFF_FFFF)
            .bytes(b"ab")
            .build(),
    );
    let v1_body = Raw::le()
        .v1_lengths()
        .hdr(1, 0, 1)
        .kv("general.architecture", ty::STRING)
        .s("llama")
        .build();
    let mut v1_as_v3 = v1_body.clone();
    v1_as_v3.splice(4..8, 3u32.to_le_bytes());
    add("a06-v1-body-as-v3", v1_as_v3);
    let mut v3_as_v1 = raw::b1();
    v3_as_v1.splice(4..8, 1u32.to_le_bytes());
    add("a06-v3-body-as-v1", v3_as_v1);
    add("a06-v1-valid", v1_body);
    for v in [4u32, 0xFFFF, 0x0001_0003] {
        add(
            &format!("a07-version-{v:#x}"),
            Raw::le().hdr(v, 0, 0).build(),
        );
    }
    add("a08-byte-swapped-version", Raw::be().hdr(3, 0, 0).build());
    add("a09-n-tensors-max", Raw::le().hdr(3, u64::MAX, 0).build());
    add("a10-n-kv-max", Raw::le().hdr(3, 0, u64::MAX).build());
    add("a11-n-kv-1e8", Raw::le().hdr(3, 0, 100_000_000).build());
    add("a11-n-tensors-2p33", Raw::le().hdr(3, 1 << 33, 0).build());
    add("a11-n-kv-2p40", Raw::le().hdr(3, 0, 1 << 40).build());
    add("a11-n-kv-2p24", Raw::le().hdr(3, 0, 1 << 24).build());
    add("a12-b0", b0.clone());
    add(
        "a12-b0-trailing",
        Raw::le().bytes(&b0).fill(0xAA, 1000).build(),
    );
    add("a12-b1", raw::b1());

    // B. Keys and scalar values.
    add(
        "b13-key-length-max",
        Raw::le().hdr(3, 0, 1).u64(u64::MAX).bytes(b"k").build(),
    );
    add(
        "b14-key-length-2p30",
        Raw::le().hdr(3, 0, 1).u64(1 << 30).fill(b'a', 10).build(),
    );
    add(
        "b14-key-length-2p30-plus-1",
        Raw::le()
            .hdr(3, 0, 1)
            .u64((1 << 30) + 1)
            .fill(b'a', 10)
            .build(),
    );
    add("b15-empty-key", one_kv("", ty::U8, Raw::le().u8(1)));
    add(
        "b16-duplicate-key",
        Raw::le()
            .hdr(3, 0, 2)
            .kv("a", ty::U8)
            .u8(1)
            .kv("a", ty::U8)
            .u8(2)
            .build(),
    );
    add(
        "b16-duplicate-key-other-type",
        Raw::le()
            .hdr(3, 0, 2)
            .kv("a", ty::U8)
            .u8(1)
            .kv("a", ty::STRING)
            .s("x")
            .build(),
    );
    add(
        "b16-duplicate-alignment",
        Raw::le()
            .hdr(3, 1, 2)
            .align_kv(32)
            .align_kv(64)
            .ti("t", &[32], 0, 0)
            .pad(64)
            .fill(0, 128)
            .build(),
    );
    add(
        "b17-nul-in-key",
        Raw::le()
            .hdr(3, 1, 1)
            .kv("general.alignment\0x", ty::U32)
            .u32(64)
            .ti("t", &[32], 0, 0)
            .pad(32)
            .fill(0, 128)
            .build(),
    );
    for (what, key) in [
        ("not-ascii", &b"\xFF\xFEA"[..]),
        ("uppercase", b"General.Alignment"),
        ("empty-segments", b".a..b."),
        ("newline", b"a\nb"),
    ] {
        let bytes = Raw::le().hdr(3, 0, 1).kv(key, ty::U8).u8(1).build();
        add(&format!("b18-key-{what}"), bytes);
    }
    add(
        "b18-key-65536",
        Raw::le()
            .hdr(3, 0, 1)
            .kv(vec![b'a'; 65_536], ty::U8)
            .u8(1)
            .build(),
    );
    for t in [13u32, 0xFFFF_FFFF, 0x8000_0000] {
        add(
            &format!("b19-value-type-{t:#x}"),
            one_kv("k", t, Raw::le().u8(0)),
        );
    }
    for v in [2u8, 0xFF] {
        add(
            &format!("b20-bool-{v:#x}"),
            one_kv("b", ty::BOOL, Raw::le().u8(v)),
        );
    }
    add(
        "b21-truncated-scalar",
        one_kv("k", ty::U64, Raw::le().bytes(&[1, 2, 3])),
    );
    for (what, value) in [
        ("i32-minus-1", OwnedValue::I32(-1)),
        ("u64-2p40", OwnedValue::U64(1 << 40)),
        ("u8-7", OwnedValue::U8(7)),
        ("f32", OwnedValue::F32(4096.0)),
        ("string", OwnedValue::from("4096")),
    ] {
        add(
            &format!("b22-context-length-{what}"),
            llama_with(|m| {
                m.set_kv("llama.context_length", value);
            }),
        );
    }

    // C. Strings.
    add(
        "c23-string-past-end",
        one_kv("s", ty::STRING, Raw::le().u64(1 << 20).bytes(b"abcde")),
    );
    add(
        "c24-string-length-above-32-bits",
        one_kv(
            "s",
            ty::STRING,
            Raw::le().u64(0x1_0000_0005).bytes(b"hello").fill(0, 16),
        ),
    );
    for (what, s) in [
        ("overlong", &b"\xC0\xAF"[..]),
        ("surrogate", b"\xED\xA0\x80"),
        ("f5", b"\xF5\x80\x80\x80"),
        ("lone-continuation", b"\x80"),
        ("cut-sequence", b"\xE2\x82"),
    ] {
        add(
            &format!("c25-utf8-{what}"),
            one_kv("s", ty::STRING, Raw::le().s(s)),
        );
    }
    add(
        "c26-nuls",
        one_kv("s", ty::STRING, Raw::le().s(b"a\0b\0\0")),
    );
    add(
        "c27-empty-string",
        one_kv("s", ty::STRING, Raw::le().u64(0)),
    );

    // D. Arrays.
    add(
        "d29-array-2p63",
        one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 1 << 63)),
    );
    add(
        "d30-u64-count-wraps",
        one_kv(
            "a",
            ty::ARRAY,
            Raw::le().arr(ty::U64, 0x2000_0000_0000_0001).u64(7),
        ),
    );
    add(
        "d30-u32-count-wraps",
        one_kv(
            "a",
            ty::ARRAY,
            Raw::le().arr(ty::U32, 0x4000_0000_0000_0001).u32(7),
        ),
    );
    add(
        "d31-string-array-2p40",
        one_kv(
            "a",
            ty::ARRAY,
            Raw::le().arr(ty::STRING, 1 << 40).fill(0, 100),
        ),
    );
    add(
        "d32-string-element-truncated",
        one_kv(
            "a",
            ty::ARRAY,
            Raw::le()
                .arr(ty::STRING, 3)
                .s("a")
                .s("b")
                .u64(1000)
                .bytes(b"xy"),
        ),
    );
    add(
        "d33-element-type-13",
        one_kv("a", ty::ARRAY, Raw::le().arr(13, 1).u8(0)),
    );
    add(
        "d33-element-type-max-empty",
        one_kv("a", ty::ARRAY, Raw::le().arr(0xFFFF_FFFF, 0)),
    );
    let mut empties = Raw::le().hdr(3, 0, 13);
    for t in 0..=12u32 {
        empties = empties.kv(format!("e{t}"), ty::ARRAY).arr(t, 0);
    }
    add("d34-empty-arrays", empties.build());
    add(
        "d35-nested-one-level",
        one_kv(
            "m",
            ty::ARRAY,
            Raw::le()
                .arr(ty::ARRAY, 2)
                .arr(ty::U8, 2)
                .bytes(&[1, 2])
                .arr(ty::U32, 1)
                .u32(7),
        ),
    );
    for depth in [16usize, 17, 1000] {
        let mut payload = Raw::le();
        for _ in 0..depth - 1 {
            payload = payload.arr(ty::ARRAY, 1);
        }
        payload = payload.arr(ty::U8, 0);
        add(
            &format!("d36-nesting-{depth}"),
            one_kv("m", ty::ARRAY, payload),
        );
    }
    let mut wide = Raw::le().arr(ty::ARRAY, 1000);
    for _ in 0..1000 {
        wide = wide.arr(ty::U8, 0);
    }
    add("d37-wide-nesting-1000", one_kv("m", ty::ARRAY, wide));
    add(
        "d38-scores-as-i8",
        llama_with(|m| {
            m.set_kv(
                "tokenizer.ggml.scores",
                OwnedValue::array(ggufscope_gguf::ValueType::I8, (0..8).map(OwnedValue::I8)),
            );
        }),
    );
    add(
        "d39-parallel-arrays-differ",
        llama_with(|m| {
            m.set_kv(
                "tokenizer.ggml.token_type",
                OwnedValue::array(ggufscope_gguf::ValueType::I32, (0..11).map(OwnedValue::I32)),
            );
        }),
    );

    // E. Tensor infos.
    add(
        "e40-name-length-max",
        Raw::le().hdr(3, 1, 0).u64(u64::MAX).bytes(b"t").build(),
    );
    for n in [63usize, 64, 65] {
        add(
            &format!("e41-name-{n}"),
            one_tensor(&vec![b'n'; n], &[32], 0, 0, 128),
        );
    }
    add("e42-empty-name", one_tensor(b"", &[32], 0, 0, 128));
    add(
        "e42-nul-names",
        Raw::le()
            .hdr(3, 2, 0)
            .ti(b"w\0a", &[32], 0, 0)
            .ti(b"w\0b", &[32], 0, 128)
            .pad(32)
            .fill(0, 256)
            .build(),
    );
    add(
        "e42-newline-name",
        one_tensor(b"evil\nname", &[32], 0, 0, 128),
    );
    add("e43-5-dims", one_tensor(b"t", &[1, 1, 1, 1, 1], 0, 0, 32));
    add("e43-9-dims", one_tensor(b"t", &[1; 9], 0, 0, 32));
    add(
        "e44-n-dims-max",
        Raw::le().hdr(3, 1, 0).s("t").u32(u32::MAX).build(),
    );
    add("e45-scalar", one_tensor(b"s", &[], 0, 0, 32));
    add("e46-dim-max", one_tensor(b"t", &[u64::MAX], 0, 0, 32));
    add("e46-dim-2p63", one_tensor(b"t", &[1 << 63], 0, 0, 32));
    add("e47-zero-dim", one_tensor(b"t", &[32, 0], 0, 0, 0));
    add(
        "e47-zero-dim-huge-others",
        one_tensor(b"t", &[0, 1 << 62, 1 << 62, 1 << 62], 0, 0, 0),
    );
    add(
        "e48-elements-2p64",
        one_tensor(b"t", &[1 << 32, 1 << 32], 0, 0, 32),
    );
    let i32max = u64::from(i32::MAX.unsigned_abs());
    add(
        "e48-ne-too-big",
        one_tensor(b"t", &[4 * i32max, 4 * i32max], 0, 0, 32),
    );
    add(
        "e48-half-max-times-3",
        one_tensor(b"t", &[u64::MAX >> 1, 3], 0, 0, 32),
    );
    add("e49-i64-2p61", one_tensor(b"t", &[1 << 61], 27, 0, 32));
    add(
        "e50-q4-0-wrap",
        one_tensor(b"t", &[0x471C_71C7_1C71_C720], 2, 0, 32),
    );
    add(
        "e51-padding-wrap",
        Raw::le()
            .hdr(3, 2, 0)
            .ti("a", &[0x3FFF_FFFF_FFFF_FFFF], 0, 0)
            .ti("b", &[8], 0, 0)
            .pad(32)
            .fill(0, 32)
            .build(),
    );
    for t in [43u32, 1000, 0xFFFF_FFFF] {
        add(
            &format!("e52-type-{t:#x}"),
            one_tensor(b"t", &[256], t, 0, 1024),
        );
    }
    for t in [4u32, 5, 31, 32, 33, 36, 37, 38] {
        add(
            &format!("e53-removed-type-{t}"),
            one_tensor(b"t", &[256], t, 0, 1024),
        );
    }
    add("e54-q4k-100", one_tensor(b"t", &[100], 12, 0, 256));
    add("e54-q8-0-33x2", one_tensor(b"t", &[33, 2], 8, 0, 256));
    add("e54-q8-0-16x2", one_tensor(b"t", &[16, 2], 8, 0, 256));
    add(
        "e55-duplicate-names",
        Raw::le()
            .hdr(3, 2, 0)
            .ti("w", &[32], 0, 0)
            .ti("w", &[32], 0, 128)
            .pad(32)
            .fill(0, 256)
            .build(),
    );
    let t1 = raw::t1();
    add(
        "e56-cut-in-offset",
        t1.get(..52).unwrap_or_default().to_vec(),
    );
    add(
        "e56-cut-before-offset",
        t1.get(..49).unwrap_or_default().to_vec(),
    );

    // F. Alignment and offsets.
    for a in [0u32, 13, 48, 0xFFFF_FFFF] {
        add(
            &format!("f57-f58-alignment-{a:#x}"),
            aligned(Raw::le().align_kv(a), 32, 0, 128),
        );
    }
    let wrong: [(&str, Raw); 6] = [
        ("i32", Raw::le().kv("general.alignment", ty::I32).i32(32)),
        ("u64", Raw::le().kv("general.alignment", ty::U64).u64(32)),
        ("u8", Raw::le().kv("general.alignment", ty::U8).u8(32)),
        (
            "string",
            Raw::le().kv("general.alignment", ty::STRING).s("32"),
        ),
        (
            "array",
            Raw::le()
                .kv("general.alignment", ty::ARRAY)
                .arr(ty::U32, 1)
                .u32(32),
        ),
        (
            "empty-array",
            Raw::le().kv("general.alignment", ty::ARRAY).arr(ty::U32, 0),
        ),
    ];
    for (what, kv) in wrong {
        add(&format!("f59-alignment-{what}"), aligned(kv, 32, 0, 128));
    }
    for a in [1u32 << 31, 1 << 30] {
        add(
            &format!("f60-alignment-{a:#x}"),
            aligned(Raw::le().align_kv(a), 8, 0, 128),
        );
    }
    for a in [1u32, 2, 4, 16] {
        add(
            &format!("f61-alignment-{a}"),
            aligned(Raw::le().align_kv(a), a as usize, 0, 128),
        );
    }
    add("f62-misaligned", raw::t2_with_offsets(0, 136, 384));
    add("f63-offset-max", one_tensor(b"t", &[32], 0, u64::MAX, 128));
    add("f64-gap", raw::t2_with_offsets(0, 256, 384));
    add("f65-reordered", raw::t2_with_offsets(128, 0, 256));
    add(
        "f66-inconsistent-alignment",
        raw::t2_with_offsets(0, 129, 384),
    );
    add(
        "f67-cut-after-tensor-info",
        t1.get(..57).unwrap_or_default().to_vec(),
    );
    let mut dirty = t1.clone();
    for b in dirty.get_mut(57..64).unwrap_or_default() {
        *b = 0xAA;
    }
    add("f67-nonzero-padding", dirty);

    // G. Data region.
    add(
        "g68-one-byte-short",
        t1.get(..191).unwrap_or_default().to_vec(),
    );
    add("g69-offset-2p40", one_tensor(b"t", &[32], 0, 1 << 40, 128));
    add("g69-size-past-end", one_tensor(b"t", &[1 << 30], 0, 0, 128));
    add(
        "g70-total-size-overflow",
        Raw::le()
            .hdr(3, 2, 0)
            .ti("a", &[0x7FFF_FFFF_FFFF_FFC0], 24, 0)
            .ti("b", &[0x7FFF_FFFF_FFFF_FFC0], 24, 0x7FFF_FFFF_FFFF_FFC0)
            .pad(32)
            .fill(0, 32)
            .build(),
    );
    add("g71-exact-eof", t1.clone());
    add(
        "g71-empty-tensor-at-eof",
        Raw::le()
            .hdr(3, 2, 0)
            .ti("a", &[32], 0, 0)
            .ti("b", &[0], 0, 128)
            .pad(32)
            .fill(0, 128)
            .build(),
    );

    // H. Semantic.
    add("h73-overlap", raw::t2_with_offsets(0, 64, 256));
    add(
        "h74-zero-size-aliases",
        Raw::le()
            .hdr(3, 3, 0)
            .ti("a", &[0], 0, 0)
            .ti("b", &[0], 0, 0)
            .ti("c", &[32], 0, 0)
            .pad(32)
            .fill(0, 128)
            .build(),
    );
    add(
        "h75-transposed-embedding",
        llama_with(|m| {
            m.set_dims("token_embd.weight", &[8, 16]);
        }),
    );
    add(
        "h76-b1-big-endian",
        Raw::be()
            .hdr(3, 0, 1)
            .kv("general.architecture", ty::STRING)
            .s("llama")
            .build(),
    );
    add(
        "h76-t2-big-endian",
        Raw::be()
            .hdr(3, 2, 0)
            .ti("a", &[32], 0, 0)
            .ti("b", &[32], 0, 128)
            .pad(32)
            .fill(0x22, 256)
            .build(),
    );
    let mut fugg = Raw::be().hdr(3, 0, 0).build();
    fugg.splice(0..4, *b"FUGG");
    add("h77-fugg", fugg);
    add(
        "h78-le-version-be-counts",
        Raw::le()
            .bytes(b"GGUF")
            .u32(3)
            .bytes(&0u64.to_be_bytes())
            .bytes(&1u64.to_be_bytes())
            .build(),
    );
    add("h78-le-v2", Raw::le().hdr(2, 0, 0).build());
    let mut keys = Raw::le().hdr(3, 0, 1000);
    for i in 0..1000 {
        keys = keys.kv(format!("k{i:06}"), ty::U8).u8(0);
    }
    add("h79-1000-keys", keys.build());
    let mut names = Raw::le().hdr(3, 1000, 0);
    for i in 0..1000u64 {
        names = names.ti(format!("t{i:06}"), &[], 0, i * 32);
    }
    add(
        "h79-1000-scalar-tensors",
        names.pad(32).fill(0, 32_000).build(),
    );
    add("h80-maximal", maximal());
    c
}

/// Catalogue H80: every value type, alignment 64, the longest legal name, four dimensions,
/// BF16/TQ2_0/MXFP4 tensors with block-multiple shapes.
fn maximal() -> Vec<u8> {
    use ggufscope_gguf::ValueType;
    let mut w = GgufWriter::new();
    w.add_kv("general.alignment", 64u32)
        .add_kv("v.u8", 1u8)
        .add_kv("v.i8", -1i8)
        .add_kv("v.u16", 2u16)
        .add_kv("v.i16", -2i16)
        .add_kv("v.u32", 3u32)
        .add_kv("v.i32", -3i32)
        .add_kv("v.f32", 0.5f32)
        .add_kv("v.bool", true)
        .add_kv("v.string", "text")
        .add_kv(
            "v.array",
            OwnedValue::array(ValueType::U16, [OwnedValue::U16(1), OwnedValue::U16(2)]),
        )
        .add_kv("v.u64", 4u64)
        .add_kv("v.i64", -4i64)
        .add_kv("v.f64", 0.25f64);
    w.add_tensor(
        "x".repeat(64),
        GgmlType::F32,
        &[2, 1, 1, 1],
        TensorData::Zeros,
    )
    .add_tensor("bf16", GgmlType::BF16, &[4, 2], TensorData::Zeros)
    .add_tensor("tq2_0", GgmlType::TQ2_0, &[256], TensorData::Zeros)
    .add_tensor("mxfp4", GgmlType::MXFP4, &[32, 2], TensorData::Zeros);
    let mut out = Vec::new();
    match w.write(&mut out) {
        Ok(_) => out,
        Err(_) => Vec::new(),
    }
}

/// The catalogue's large cases (megabytes to half a gigabyte): built in memory by the tests,
/// never written to the corpus. Each is `(name, bytes)`.
///
/// `u8-array-2p29-full` is 512 MiB: only the allocation test asks for it (`with_half_gib`).
pub fn huge(with_half_gib: bool) -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| c.push((name.to_string(), bytes));
    add("a11-n-kv-1e8", Raw::le().hdr(3, 0, 100_000_000).build());
    add(
        "d29-u8-array-2p29-header-only",
        one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 1 << 29)),
    );
    if with_half_gib {
        let mut bytes = one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 1 << 29));
        bytes.resize(bytes.len() + (1 << 29), 0);
        add("d37-u8-array-2p29-full", bytes);
    }
    let mut bytes = one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 50_000_000));
    bytes.resize(bytes.len() + 50_000_000, 1);
    add("d37-u8-array-5e7", bytes);

    let mut nested = one_kv("m", ty::ARRAY, Raw::le().arr(ty::ARRAY, 1_000_000));
    nested.extend(std::iter::repeat_n([0u8; 12], 1_000_000).flatten());
    add("d37-1e6-empty-nested-arrays", nested);

    let mut bomb = Raw::le().hdr(3, 0, 1).kv("m", ty::ARRAY).build();
    bomb.extend(std::iter::repeat_n(Raw::le().arr(ty::ARRAY, 1).build(), 100_000).flatten());
    bomb.extend(Raw::le().arr(ty::U8, 0).build());
    add("d36-nesting-bomb-1e5", bomb);

    let mut strings = one_kv("a", ty::ARRAY, Raw::le().arr(ty::STRING, 1_000_000));
    strings.resize(strings.len() + 8_000_000, 0);
    add("d31-1e6-empty-strings", strings);

    add(
        "b18-4mib-key-of-0xff",
        Raw::le()
            .hdr(3, 0, 1)
            .kv(vec![0xFF; 4 << 20], ty::U8)
            .u8(1)
            .build(),
    );
    add(
        "b16-b18-two-4mib-keys",
        Raw::le()
            .hdr(3, 0, 2)
            .kv(vec![b'a'; 4 << 20], ty::U8)
            .u8(1)
            .kv(vec![b'a'; 4 << 20], ty::U8)
            .u8(2)
            .build(),
    );
    add(
        "b16-b18-two-4mib-keys-of-0xff",
        Raw::le()
            .hdr(3, 0, 2)
            .kv(vec![0xFF; 4 << 20], ty::U8)
            .u8(1)
            .kv(vec![0xFF; 4 << 20], ty::U8)
            .u8(2)
            .build(),
    );

    let template = "{% x %}".repeat(300_000);
    add(
        "c28-2mb-chat-template",
        one_kv("tokenizer.chat_template", ty::STRING, Raw::le().s(template)),
    );

    let mut keys = Raw::le().hdr(3, 0, 400_000);
    for i in 0..400_000 {
        keys = keys.kv(format!("k{i:06}"), ty::U8).u8(0);
    }
    add("h79-400k-keys", keys.build());
    let mut dup_keys = Raw::le().hdr(3, 0, 400_000);
    for _ in 0..400_000 {
        dup_keys = dup_keys.kv("a", ty::U8).u8(0);
    }
    add("h79-400k-duplicate-keys", dup_keys.build());
    let mut nested_keys = Raw::le().hdr(3, 0, 400_000);
    for i in 0..400_000 {
        nested_keys = nested_keys
            .kv(format!("k{i:06}"), ty::ARRAY)
            .arr(ty::ARRAY, 0);
    }
    add("h79-400k-nested-array-keys", nested_keys.build());

    let mut tensors = Raw::le().hdr(3, 400_000, 0);
    for i in 0..400_000u64 {
        tensors = tensors.ti(format!("t{i:06}"), &[], 0, i * 32);
    }
    add(
        "h79-400k-scalar-tensors",
        tensors.pad(32).fill(0, 400_000 * 32).build(),
    );
    let mut no_data = Raw::le().hdr(3, 400_000, 0);
    for i in 0..400_000u64 {
        no_data = no_data.ti(format!("t{i:06}"), &[], 0, i * 32);
    }
    add("h79-400k-tensors-out-of-bounds", no_data.build());
    let mut overlapping = Raw::le().hdr(3, 400_000, 0);
    for i in 0..400_000u64 {
        overlapping = overlapping.ti(format!("t{i:06}"), &[], 0, 0);
    }
    add(
        "h79-400k-tensors-overlapping",
        overlapping.pad(32).fill(0, 32).build(),
    );
    let mut dup_names = Raw::le().hdr(3, 400_000, 0);
    for _ in 0..400_000u64 {
        dup_names = dup_names.ti("t", &[], 0, 0);
    }
    add(
        "h79-400k-duplicate-tensors-overlapping",
        dup_names.pad(32).fill(0, 32).build(),
    );
    c
}
