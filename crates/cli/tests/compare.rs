//! `ggufscope compare A B` in text, JSON and markdown: real fixtures (vocab-only sides are
//! compared through their expected layouts), built files, and the bert fixture (exit 3).

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

const PHI3: &str = "ggml-vocab-phi-3.gguf";
const QWEN2: &str = "ggml-vocab-qwen2.gguf";

#[test]
fn phi3_and_qwen2_text() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_qwen2_text", case.cmd("compare", &[QWEN2]));
}

#[test]
fn phi3_and_qwen2_json() {
    let case = Case::fixture(PHI3);
    snapshot!(
        case,
        "phi3_qwen2_json",
        case.cmd("compare", &[QWEN2, "--json"])
    );
}

#[test]
fn phi3_and_qwen2_markdown() {
    let case = Case::fixture(PHI3);
    snapshot!(
        case,
        "phi3_qwen2_markdown",
        case.cmd("compare", &[QWEN2, "--markdown"])
    );
}

/// A file with tensors against a vocab-only one.
#[test]
fn tiny_llama_and_llama_spm_text() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    case.add(
        "llama-spm.gguf",
        &ggufscope_testkit::read_real("ggml-vocab-llama-spm.gguf"),
    );
    snapshot!(
        case,
        "tiny_llama_llama_spm_text",
        case.cmd("compare", &["llama-spm.gguf"])
    );
}

#[test]
fn phi3_and_bert_are_compared_through_the_table() {
    // bert has no Llama-shaped spec: the pair is compared by what the architecture table reads.
    let case = Case::fixture(PHI3);
    snapshot!(
        case,
        "bert_b",
        case.cmd("compare", &["ggml-vocab-bert-bge.gguf"])
    );
}

#[test]
fn an_architecture_outside_the_table_is_exit_3() {
    let mut m = ggufscope_testkit::presets::tiny_llama();
    m.set_kv("general.architecture", "nonesuch");
    let case = Case::temp("nonesuch.gguf", &m.to_bytes());
    case.add(PHI3, &ggufscope_testkit::read_real(PHI3));
    let out = case.cmd("compare", &[PHI3, "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not in the architecture table (llama.cpp 0c1e570, 152 architectures)"),
        "{err}"
    );
}

#[test]
fn table_architectures_side_by_side() {
    let dir = ggufscope_testkit::llama_archs_dir();
    let case = Case::temp(
        "qwen35moe-moe.gguf",
        &std::fs::read(dir.join("qwen35moe-moe.gguf")).unwrap(),
    );
    case.add(
        "qwen3moe-moe.gguf",
        &std::fs::read(dir.join("qwen3moe-moe.gguf")).unwrap(),
    );
    snapshot!(
        case,
        "qwen35moe_qwen3moe",
        case.cmd("compare", &["qwen3moe-moe.gguf"])
    );
}

#[test]
fn json_and_markdown_are_exclusive() {
    let case = Case::fixture(PHI3);
    let out = case
        .cmd("compare", &[QWEN2, "--json", "--markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The facts the story compares: MHA against GQA group 7, head_dim 96 against 64.
#[test]
fn phi3_and_qwen2_5_attention_rows() {
    let case = crate::report::phi3_and_qwen();
    let out = case
        .cmd("compare", &["qwen2.5-0.5b.gguf", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |field: &str| {
        let r = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["field"] == field)
            .unwrap()
            .clone();
        (r["a"].clone(), r["b"].clone())
    };
    use serde_json::json;
    assert_eq!(row("attention_kind"), (json!("MHA"), json!("GQA")));
    assert_eq!(row("gqa_group_size"), (json!(1), json!(7)));
    assert_eq!(row("head_dim"), (json!(96), json!(64)));
    assert_eq!(row("tied_embeddings"), (json!(null), json!(true)));
    assert_eq!(v["a"]["tensor_source"], "expected");
    assert_eq!(v["a"]["tensor_count"], 195);
    assert_eq!(v["a"]["parameter_count"], 3_821_079_552u64);
    assert_eq!(v["b"]["tensor_source"], "file");
    assert_eq!(v["b"]["tensor_count"], 290);
    assert_eq!(v["b"]["parameter_count"], 494_032_768u64);
}
