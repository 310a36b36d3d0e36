//! Schema validation on written files: clean model layouts and planted defects.

use ggufscope_gguf::{GgmlType, Gguf};
use ggufscope_model::{validate, ModelConfig, QkvLayout, SchemaIssue, SchemaReport};
use ggufscope_testkit::presets::{self, ModelFixture};
use ggufscope_testkit::read_real;

use crate::Written;

fn report(f: &ModelFixture) -> SchemaReport {
    let w = Written::new(f);
    let g = w.gguf();
    let c = ModelConfig::from_gguf(&g).unwrap();
    validate(&g, &c)
}

fn small_report(f: &ModelFixture) -> SchemaReport {
    let bytes = f.to_bytes();
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    validate(&g, &c)
}

#[test]
fn phi3_mini_validates_clean() {
    let r = report(&presets::phi3_mini_4k());
    assert_eq!(r.findings, vec![]);
    assert_eq!(
        (r.tensor_count, r.qkv_layout),
        (195, Some(QkvLayout::Fused))
    );
}

#[test]
fn qwen2_5_validates_clean_with_biases_and_tied_output() {
    let r = report(&presets::qwen2_5_0_5b());
    assert_eq!(r.findings, vec![]);
    assert_eq!(
        (r.tensor_count, r.qkv_layout),
        (290, Some(QkvLayout::Split))
    );
}

#[test]
fn vocab_only_files_are_recognised() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    let r = validate(&g, &c);
    assert!(r.vocab_only);
    assert_eq!(r.findings, vec![SchemaIssue::VocabOnly]);
    assert!(!r.has_errors());
}

#[test]
fn planted_defects_are_each_reported() {
    let mut f = presets::phi3_mini_4k();
    f.remove_tensor("blk.5.ffn_down.weight")
        .set_dims("blk.0.attn_qkv.weight", &[3072, 9000])
        .push_tensor("blk.3.ffn_gate.weight", GgmlType::Q4_K, &[3072, 8192]);
    let r = report(&f);
    assert!(r.findings.contains(&SchemaIssue::MissingTensor {
        tensor: "blk.5.ffn_down.weight".into(),
        expected: Some(vec![8192, 3072])
    }));
    assert!(r.findings.iter().any(|i| matches!(i,
        SchemaIssue::WrongShape { tensor, expected, found, .. }
            if tensor == "blk.0.attn_qkv.weight" && expected == &[3072, 9216] && found == &[3072, 9000])));
    assert!(r.findings.contains(&SchemaIssue::UnexpectedTensor {
        tensor: "blk.3.ffn_gate.weight".into()
    }));
    assert_eq!(r.findings.len(), 3, "{:#?}", r.findings);
    assert!(r.has_errors());
}

#[test]
fn layer_count_disagreeing_with_block_count() {
    let mut f = presets::tiny_llama();
    f.set_kv("llama.block_count", 1u32);
    let r = small_report(&f);
    assert_eq!(
        r.findings,
        vec![SchemaIssue::LayerCountMismatch {
            block_count: 1,
            layers_in_file: 2,
            absent_layers: vec![],
            extra_layers: vec![1]
        }]
    );
    let mut f = presets::tiny_llama();
    f.set_kv("llama.block_count", 3u32);
    let r = small_report(&f);
    assert_eq!(
        r.findings,
        vec![SchemaIssue::LayerCountMismatch {
            block_count: 3,
            layers_in_file: 2,
            absent_layers: vec![2],
            extra_layers: vec![]
        }]
    );
}

#[test]
fn a_head_count_that_does_not_divide_is_refused_before_validation() {
    let mut f = presets::qwen2_5_0_5b();
    f.set_kv("qwen2.attention.head_count_kv", 3u32);
    let w = Written::new(&f);
    let e = ModelConfig::from_gguf(&w.gguf()).unwrap_err();
    assert!(
        e.to_string()
            .contains("14 attention heads are not a multiple of 3"),
        "{e}"
    );
}

#[test]
fn a_quant_type_whose_block_does_not_divide_the_row() {
    // Qwen2.5's 896-wide rows cannot hold 256-element k-quant blocks (ground-truth §5). The
    // writer refuses such a tensor, so the defect is planted in valid bytes: the type id of
    // blk.0.attn_q.weight (64 wide in the tiny model) becomes q4_K.
    let mut bytes = presets::tiny_llama().to_bytes();
    let g = Gguf::parse(&bytes).unwrap();
    let t = g.tensor("blk.0.attn_q.weight").unwrap();
    let type_at =
        (t.info_offset() + 8 + t.name().len() as u64 + 4 + 8 * t.dims().len() as u64) as usize;
    drop(g);
    bytes[type_at..type_at + 4].copy_from_slice(&GgmlType::Q4_K.id().to_le_bytes());
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    assert_eq!(
        validate(&g, &c).findings,
        vec![SchemaIssue::BlockSizeMismatch {
            tensor: "blk.0.attn_q.weight".into(),
            ggml_type: "q4_K".into(),
            ne0: 64,
            block_size: 256
        }]
    );
}

#[test]
fn both_qkv_layouts_are_accepted_but_not_together() {
    // llama.cpp [LN] accepts a fused attn_qkv for llama (`create_tensor_qkv`, models/llama.cpp:53).
    let mut f = presets::tiny_llama();
    for il in 0..2 {
        for n in ["attn_q", "attn_k", "attn_v"] {
            f.remove_tensor(&format!("blk.{il}.{n}.weight"));
        }
        f.push_tensor(
            &format!("blk.{il}.attn_qkv.weight"),
            GgmlType::F32,
            &[64, 64 + 32 + 32],
        );
    }
    let r = small_report(&f);
    assert_eq!(
        (r.findings.clone(), r.qkv_layout),
        (vec![], Some(QkvLayout::Fused))
    );
    f.push_tensor("blk.0.attn_q.weight", GgmlType::F32, &[64, 64]);
    let r = small_report(&f);
    assert!(
        r.findings
            .contains(&SchemaIssue::BothQkvLayouts { layer: 0 }),
        "{:#?}",
        r.findings
    );
}

#[test]
fn token_arrays_of_different_lengths() {
    use ggufscope_gguf::{OwnedValue, ValueType};
    let mut f = presets::tiny_llama();
    f.set_kv(
        "tokenizer.ggml.scores",
        OwnedValue::array(ValueType::F32, (0..255).map(|_| OwnedValue::F32(0.0))),
    );
    let r = small_report(&f);
    assert_eq!(
        r.findings,
        vec![SchemaIssue::TokenArrayLength {
            key: "tokenizer.ggml.scores".into(),
            len: 255,
            tokens: 256
        }]
    );
}

/// A Qwen3-shaped tiny model, written from llama.cpp's `src/models/qwen3.cpp:15-47`
/// independently of the spec: Q {n_embd, head_dim·n_head} with key_length ≠ n_embd/n_head,
/// per-head q/k norms, no biases, untied output.
#[test]
fn qwen3_shaped_file_validates_clean() {
    let (e, ff, hd, h, kv, vocab) = (64u64, 96u64, 32u64, 4u64, 2u64, 128u64);
    let mut f = ModelFixture::default();
    f.set_kv("general.architecture", "qwen3")
        .set_kv("qwen3.context_length", 1024u32)
        .set_kv("qwen3.embedding_length", e as u32)
        .set_kv("qwen3.block_count", 2u32)
        .set_kv("qwen3.feed_forward_length", ff as u32)
        .set_kv("qwen3.attention.head_count", h as u32)
        .set_kv("qwen3.attention.head_count_kv", kv as u32)
        .set_kv("qwen3.attention.key_length", hd as u32)
        .set_kv("qwen3.attention.value_length", hd as u32)
        .set_kv("qwen3.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("tokenizer.ggml.model", "gpt2")
        .set_kv(
            "tokenizer.ggml.tokens",
            ggufscope_gguf::OwnedValue::strings((0..vocab).map(|i| format!("t{i}"))),
        );
    f.push_tensor("token_embd.weight", GgmlType::F32, &[e, vocab]);
    for il in 0..2 {
        let b = |s: &str| format!("blk.{il}.{s}");
        f.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[e])
            .push_tensor(&b("attn_q.weight"), GgmlType::F32, &[e, hd * h])
            .push_tensor(&b("attn_k.weight"), GgmlType::F32, &[e, hd * kv])
            .push_tensor(&b("attn_v.weight"), GgmlType::F32, &[e, hd * kv])
            .push_tensor(&b("attn_output.weight"), GgmlType::F32, &[hd * h, e])
            .push_tensor(&b("attn_q_norm.weight"), GgmlType::F32, &[hd])
            .push_tensor(&b("attn_k_norm.weight"), GgmlType::F32, &[hd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[e])
            .push_tensor(&b("ffn_gate.weight"), GgmlType::F32, &[e, ff])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F32, &[e, ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F32, &[ff, e]);
    }
    f.push_tensor("output_norm.weight", GgmlType::F32, &[e])
        .push_tensor("output.weight", GgmlType::F32, &[e, vocab]);
    let r = small_report(&f);
    assert_eq!(r.findings, vec![]);
    let bytes = f.to_bytes();
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    assert_eq!(
        (c.head_dim, c.head_dim_explicit, c.rope_dimension_count),
        (32, true, 32)
    );
    assert_eq!(c.rope_type, ggufscope_model::RopeType::Neox);
    // Dropping a q/k norm is a missing tensor.
    f.remove_tensor("blk.1.attn_k_norm.weight");
    assert!(
        matches!(&small_report(&f).findings[..], [SchemaIssue::MissingTensor { tensor, .. }] if tensor == "blk.1.attn_k_norm.weight")
    );
}

/// A Gemma-3-shaped tiny model from llama.cpp's `src/models/gemma3.cpp:34-71`: sandwich norms,
/// q/k norms, key_length 256-style head dim, tied output; sliding window keys.
#[test]
fn gemma3_shaped_file_validates_clean() {
    let (e, ff, hd, h, kv, vocab) = (48u64, 64u64, 32u64, 2u64, 1u64, 100u64);
    let mut f = ModelFixture::default();
    f.set_kv("general.architecture", "gemma3")
        .set_kv("gemma3.context_length", 2048u32)
        .set_kv("gemma3.embedding_length", e as u32)
        .set_kv("gemma3.block_count", 2u32)
        .set_kv("gemma3.feed_forward_length", ff as u32)
        .set_kv("gemma3.attention.head_count", h as u32)
        .set_kv("gemma3.attention.head_count_kv", kv as u32)
        .set_kv("gemma3.attention.key_length", hd as u32)
        .set_kv("gemma3.attention.value_length", hd as u32)
        .set_kv("gemma3.attention.sliding_window", 512u32)
        .set_kv("gemma3.rope.freq_base", 1_000_000f32)
        .set_kv("gemma3.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv(
            "tokenizer.ggml.tokens",
            ggufscope_gguf::OwnedValue::strings((0..vocab).map(|i| format!("t{i}"))),
        );
    f.push_tensor("token_embd.weight", GgmlType::F32, &[e, vocab]);
    for il in 0..2 {
        let b = |s: &str| format!("blk.{il}.{s}");
        f.push_tensor(&b("attn_norm.weight"), GgmlType::F32, &[e])
            .push_tensor(&b("attn_q.weight"), GgmlType::F32, &[e, hd * h])
            .push_tensor(&b("attn_k.weight"), GgmlType::F32, &[e, hd * kv])
            .push_tensor(&b("attn_v.weight"), GgmlType::F32, &[e, hd * kv])
            .push_tensor(&b("attn_output.weight"), GgmlType::F32, &[hd * h, e])
            .push_tensor(&b("post_attention_norm.weight"), GgmlType::F32, &[e])
            .push_tensor(&b("attn_q_norm.weight"), GgmlType::F32, &[hd])
            .push_tensor(&b("attn_k_norm.weight"), GgmlType::F32, &[hd])
            .push_tensor(&b("ffn_norm.weight"), GgmlType::F32, &[e])
            .push_tensor(&b("ffn_gate.weight"), GgmlType::F32, &[e, ff])
            .push_tensor(&b("ffn_up.weight"), GgmlType::F32, &[e, ff])
            .push_tensor(&b("ffn_down.weight"), GgmlType::F32, &[ff, e])
            .push_tensor(&b("post_ffw_norm.weight"), GgmlType::F32, &[e]);
    }
    f.push_tensor("output_norm.weight", GgmlType::F32, &[e]);
    let r = small_report(&f);
    assert_eq!(r.findings, vec![]);
    let bytes = f.to_bytes();
    let g = Gguf::parse(&bytes).unwrap();
    let c = ModelConfig::from_gguf(&g).unwrap();
    assert_eq!(
        (c.sliding_window, c.tied_embeddings),
        (Some(512), Some(true))
    );
    assert_eq!(c.attention_kind, ggufscope_model::AttentionKind::Mqa);
}

#[test]
fn tiny_presets_validate_clean() {
    for f in [
        presets::tiny_llama(),
        presets::tiny_phi3(),
        presets::tiny_qwen2(),
    ] {
        assert_eq!(small_report(&f).findings, vec![]);
    }
}
