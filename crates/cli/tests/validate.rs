//! `ggufscope validate`: clean files (exit 0), a defective built file (exit 1), and the bert
//! fixture, whose architecture has no spec: format-level checks only, a warning, exit 0.

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

/// tiny_llama without `blk.1.ffn_down.weight` and with `blk.0.attn_k.weight` the wrong shape.
pub fn defective_tiny_llama() -> Vec<u8> {
    let mut model = presets::tiny_llama();
    model
        .remove_tensor("blk.1.ffn_down.weight")
        .set_dims("blk.0.attn_k.weight", &[64, 64]);
    model.to_bytes()
}

#[test]
fn phi3_text_and_json() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(case, "phi3_text", case.cmd("validate", &[]));
    snapshot!(case, "phi3_json", case.cmd("validate", &["--json"]));
}

#[test]
fn qwen2_and_llama_spm_are_vocab_only() {
    for name in ["ggml-vocab-qwen2.gguf", "ggml-vocab-llama-spm.gguf"] {
        let case = Case::fixture(name);
        let out = case.cmd("validate", &["--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["findings"][0]["code"], "vocab_only");
        assert_eq!(v["findings"][0]["severity"], "info");
    }
}

#[test]
fn bert_is_checked_by_the_table() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert_text", case.cmd("validate", &[]));
    snapshot!(case, "bert_json", case.cmd("validate", &["--json"]));
}

#[test]
fn tiny_llama_is_clean() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_text", case.cmd("validate", &[]));
    snapshot!(case, "tiny_llama_json", case.cmd("validate", &["--json"]));
}

#[test]
fn defects_are_errors_and_exit_1() {
    let case = Case::temp("tiny-llama-broken.gguf", &defective_tiny_llama());
    snapshot!(case, "defective_text", case.cmd("validate", &[]));
    snapshot!(case, "defective_json", case.cmd("validate", &["--json"]));
}

/// Format findings (here: data cut short) are reported with their offset, next to the schema
/// findings.
#[test]
fn data_cut_short_is_a_format_error() {
    let bytes = presets::tiny_llama().to_bytes();
    let case = Case::temp("tiny-llama-cut.gguf", &bytes[..bytes.len() / 2]);
    snapshot!(case, "cut_text", case.cmd("validate", &[]));
}

/// A configuration that cannot be read is an error finding, not a failure.
#[test]
fn missing_required_key_is_an_error_finding() {
    let mut model = presets::tiny_llama();
    model.remove_kv("llama.attention.layer_norm_rms_epsilon");
    let case = Case::temp("no-eps.gguf", &model.to_bytes());
    snapshot!(case, "missing_key_json", case.cmd("validate", &["--json"]));
}
