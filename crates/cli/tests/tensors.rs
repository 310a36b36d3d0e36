//! `ggufscope tensors` on real fixtures (vocab-only: no tensors) and a preset model.

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

#[test]
fn phi3_text() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(case, "phi3_text", case.cmd("tensors", &[]));
}

#[test]
fn phi3_json() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(case, "phi3_json", case.cmd("tensors", &["--json"]));
}

#[test]
fn bert_text() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert_text", case.cmd("tensors", &[]));
}

#[test]
fn bert_json() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert_json", case.cmd("tensors", &["--json"]));
}

#[test]
fn tiny_llama_text() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_text", case.cmd("tensors", &[]));
}

#[test]
fn tiny_llama_json() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_json", case.cmd("tensors", &["--json"]));
}

#[test]
fn phi3_expected_text() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(
        case,
        "phi3_expected_text",
        case.cmd("tensors", &["--expected"])
    );
}

#[test]
fn phi3_expected_json() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(
        case,
        "phi3_expected_json",
        case.cmd("tensors", &["--expected", "--json"])
    );
}

#[test]
fn qwen2_expected_text() {
    let case = Case::fixture("ggml-vocab-qwen2.gguf");
    snapshot!(
        case,
        "qwen2_expected_text",
        case.cmd("tensors", &["--expected"])
    );
}

#[test]
fn llama_spm_expected_text() {
    let case = Case::fixture("ggml-vocab-llama-spm.gguf");
    snapshot!(
        case,
        "llama_spm_expected_text",
        case.cmd("tensors", &["--expected"])
    );
}

#[test]
fn tiny_llama_expected_text_and_json() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(
        case,
        "tiny_llama_expected_text",
        case.cmd("tensors", &["--expected"])
    );
    snapshot!(
        case,
        "tiny_llama_expected_json",
        case.cmd("tensors", &["--expected", "--json"])
    );
}

/// `tensors` works on any GGUF; `--expected` needs the architecture: exit 3.
#[test]
fn bert_expected_from_the_table() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert_expected", case.cmd("tensors", &["--expected"]));
}

/// The layout a vocab-only Phi-3 file requires: 195 tensors, the fused attn_qkv and ffn_up,
/// 3,821,079,552 parameters (ground-truth §2.5.1).
#[test]
fn phi3_expected_layout_is_the_real_one() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case
        .cmd("tensors", &["--expected", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tensors = v["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 195);
    assert_eq!(v["tensor_count"], 195);
    assert_eq!(v["total_elements"], 3_821_079_552u64);
    assert_eq!(v["unknown_shapes"], 0);
    let shape = |name: &str| {
        tensors
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["shape"].clone())
            .unwrap()
    };
    assert_eq!(
        shape("blk.0.attn_qkv.weight"),
        serde_json::json!([3072, 9216])
    );
    assert_eq!(
        shape("blk.31.ffn_up.weight"),
        serde_json::json!([3072, 16384])
    );
    assert_eq!(shape("token_embd.weight"), serde_json::json!([3072, 32064]));
    assert!(tensors.iter().all(|t| t["name"] != "blk.0.ffn_gate.weight"));
}
