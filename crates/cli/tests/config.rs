//! `ggufscope config` on the real fixtures and built files; the Phi-3 values of the
//! architecture issue; unsupported architectures (exit 3) and unreadable configurations
//! (exit 1).

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

const PHI3: &str = "ggml-vocab-phi-3.gguf";

#[test]
fn phi3_text() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_text", case.cmd("config", &[]));
}

#[test]
fn phi3_json() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_json", case.cmd("config", &["--json"]));
}

#[test]
fn qwen2_text_and_json() {
    let case = Case::fixture("ggml-vocab-qwen2.gguf");
    snapshot!(case, "qwen2_text", case.cmd("config", &[]));
    snapshot!(case, "qwen2_json", case.cmd("config", &["--json"]));
}

#[test]
fn llama_spm_text_and_json() {
    let case = Case::fixture("ggml-vocab-llama-spm.gguf");
    snapshot!(case, "llama_spm_text", case.cmd("config", &[]));
    snapshot!(case, "llama_spm_json", case.cmd("config", &["--json"]));
}

#[test]
fn tiny_llama_text_and_json() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_text", case.cmd("config", &[]));
    snapshot!(case, "tiny_llama_json", case.cmd("config", &["--json"]));
}

/// bert has no spec: exit 3, one stderr line listing the supported architectures.
#[test]
fn bert_config_from_the_table() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert", case.cmd("config", &["--json"]));
}

/// The file parses but a required key is missing: exit 1, the key named on stderr.
#[test]
fn missing_required_key_is_exit_1() {
    let mut model = presets::tiny_llama();
    model.remove_kv("llama.attention.layer_norm_rms_epsilon");
    let case = Case::temp("no-eps.gguf", &model.to_bytes());
    snapshot!(case, "missing_key", case.cmd("config", &[]));
}

/// The values the architecture issue lists for the Phi-3 fixture, exactly.
#[test]
fn phi3_json_has_the_values_of_the_architecture_issue() {
    let case = Case::fixture(PHI3);
    let out = case.cmd("config", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expect = serde_json::json!({
        "architecture": "phi3",
        "context_length": 4096,
        "embedding_length": 3072,
        "block_count": 32,
        "feed_forward_length": 8192,
        "attention_head_count": 32,
        "attention_head_count_kv": 32,
        "head_dim": 96,
        "attention_kind": "MHA",
        "gqa_group_size": 1,
        "rope_dimension_count": 96,
        "rope_freq_base": 10000.0,
        "rope_type": "neox",
        "sliding_window": null,
        "vocab_size": 32064,
        "tied_embeddings": null,
        "parameter_count": null,
    });
    for (key, want) in expect.as_object().unwrap() {
        assert_eq!(&v[key], want, "{key}");
    }
    assert_eq!(v["rms_norm_eps"].as_f64(), Some(1e-5));
    assert_eq!(v["phi3_config"]["is_mha"], true);
    assert!(v.get("qwen_config").is_none());
}
