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

/// An architecture the table does not hold still gets the keys every architecture has, read
/// by llama.cpp's architecture-independent code (exit 0; `tensors --expected` is exit 3).
#[test]
fn an_architecture_outside_the_table_gets_the_generic_keys() {
    let llama = presets::tiny_llama();
    let mut m = ggufscope_testkit::presets::ModelFixture::default();
    for (k, v) in &llama.kvs {
        let k = k.replace("llama.", "nonesuch.");
        let v = if k == "general.architecture" {
            "nonesuch".into()
        } else {
            v.clone()
        };
        m.set_kv(&k, v);
    }
    m.tensors = llama.tensors.clone();
    let case = Case::temp("nonesuch.gguf", &m.to_bytes());
    let out = case.cmd("config", &["--json"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["architecture"], "nonesuch");
    assert_eq!(v["embedding_length"], 64);
    assert_eq!(v["block_count"], 2);
    assert_eq!(v["attention_head_count"], 4);
    assert_eq!(v["attention_head_count_kv"], 2);
    assert_eq!(v["feed_forward_length"], 128);
    assert_eq!(v["context_length"], 512);
    assert_eq!(v["parameter_count"], llama.element_count());
    let out = case.cmd("tensors", &["--expected"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}
