//! `ggufscope memory`: the plan on a built file and a vocab-only fixture, `--gpu-mem`, and the
//! JSON keys the issue asks for.

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

#[test]
fn memory_of_a_tiny_model() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(
        case,
        "tiny_llama_text",
        case.cmd("memory", &["--ctx", "1000"])
    );
    snapshot!(
        case,
        "tiny_llama_gpu",
        case.cmd(
            "memory",
            &["--ctx", "512", "--gpu-mem", "1400KiB", "--gpu-mem", "8MiB"]
        )
    );
}

#[test]
fn memory_json_has_every_term() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case
        .cmd("memory", &["--ctx", "4096", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "weights_bytes",
        "kv_cache_bytes",
        "compute_bytes",
        "total_bytes",
        "output_bytes",
        "layers",
        "weights_by_type",
        "compute_formula",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["weights_estimated"], true, "vocab-only: an estimate");
    // 32 layers x 4096 x 3072 x 2 bytes x (K + V): llama.cpp's 1536 MiB.
    assert_eq!(v["kv_cache_bytes"], 1_610_612_736u64);
    assert_eq!(v["output_bytes"], 32064 * 4);
}

#[test]
fn memory_refuses_an_unknown_cache_type_and_unsupported_architectures() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case.cmd("memory", &["--kv-type", "q5_9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let bert = Case::fixture("ggml-vocab-bert-bge.gguf");
    let out = bert.cmd("memory", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}
