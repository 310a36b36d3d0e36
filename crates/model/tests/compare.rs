//! Comparison of Phi-3 with Qwen2.5 and the story's assumptions.

use ggufscope_gguf::Gguf;
use ggufscope_model::story::seed_claims;
use ggufscope_model::{compare, Field, ModelConfig, TensorSource};
use ggufscope_testkit::{presets, read_real};

use crate::Written;

#[test]
fn phi3_against_qwen2_5() {
    let phi_bytes = read_real("ggml-vocab-phi-3.gguf");
    let phi = Gguf::parse(&phi_bytes).unwrap();
    let phi_cfg = ModelConfig::from_gguf(&phi).unwrap();
    let w = Written::new(&presets::qwen2_5_0_5b());
    let qwen = w.gguf();
    let qwen_cfg = ModelConfig::from_gguf(&qwen).unwrap();
    let c = compare((&phi, &phi_cfg), (&qwen, &qwen_cfg));
    let row = |f: &str| c.rows.iter().find(|r| r.field == f).unwrap();
    assert_eq!(
        (
            row("attention_kind").a.clone(),
            row("attention_kind").b.clone()
        ),
        (Field::from("MHA"), Field::from("GQA"))
    );
    assert_eq!(
        (
            row("gqa_group_size").a.clone(),
            row("gqa_group_size").b.clone()
        ),
        (Field::Int(1), Field::Int(7))
    );
    assert_eq!(
        (
            row("context_length").a.clone(),
            row("context_length").b.clone()
        ),
        (Field::Int(4096), Field::Int(32768))
    );
    assert_eq!(
        (row("block_count").a.clone(), row("block_count").b.clone()),
        (Field::Int(32), Field::Int(24))
    );
    assert!(row("rope_type").same, "both NEOX");
    assert_eq!(
        row("tied_embeddings").a,
        Field::None,
        "unknowable for a vocab-only file"
    );
    assert_eq!(
        c.tensor_sources,
        (TensorSource::Expected, TensorSource::File)
    );
    let t = |n: &str| c.tensors.iter().find(|r| r.name == n).unwrap();
    let qkv = t("blk.*.attn_qkv.weight");
    assert_eq!(
        (qkv.in_a, qkv.in_b, qkv.a.clone()),
        (true, false, Some(vec![3072, 9216]))
    );
    let up = t("blk.*.ffn_up.weight");
    assert_eq!(
        (up.a.clone(), up.b.clone()),
        (Some(vec![3072, 16384]), Some(vec![896, 4864]))
    );
    assert!(!t("blk.*.ffn_gate.weight").in_a && t("blk.*.ffn_gate.weight").in_b);
    assert!(t("output.weight").in_a && !t("output.weight").in_b);
    assert!(c.tensors.iter().all(|r| !r.name.starts_with("blk.1.")));
}

#[test]
fn the_story_assumptions_against_the_phi3_file() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let claims = seed_claims(&g, &cfg);
    let holds = |prefix: &str| {
        claims
            .iter()
            .find(|c| c.claim.starts_with(prefix))
            .unwrap()
            .holds
    };
    assert!(!holds("general.architecture is"));
    assert!(!holds("hyper-parameters are read from llama"));
    assert!(!holds("same tensor names as Qwen"));
    assert!(!holds("vocabulary of ~32000"));
    assert!(!holds("ffn_length = 4 x d_model"));
    assert!(!holds("RoPE as in Llama"));
    assert!(holds("MHA"));
    assert!(holds("head_dim 96"));
    assert!(holds("context 4096"));
    assert!(holds("rope_freq_base 10000"));
    let naming = claims
        .iter()
        .find(|c| c.claim.starts_with("same tensor names"))
        .unwrap();
    assert_eq!(naming.found, "attn_qkv.weight, ffn_up.weight (no attn_q.weight, attn_k.weight, attn_v.weight, ffn_gate.weight)");
    let vocab = claims
        .iter()
        .find(|c| c.claim.starts_with("vocabulary"))
        .unwrap();
    assert_eq!(vocab.found, "32064");
}
