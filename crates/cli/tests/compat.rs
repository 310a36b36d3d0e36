//! `ggufscope compat` and `ggufscope llamafy`: verdicts, plans, and the adapted file.

use ggufscope_gguf::Gguf;
use ggufscope_model::{validate, ModelConfig, RopeType};
use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

#[test]
fn compat_on_the_real_fixtures() {
    let phi = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(phi, "compat_phi3_text", phi.cmd("compat", &[]));
    snapshot!(phi, "compat_phi3_json", phi.cmd("compat", &["--json"]));
    let llama = Case::fixture("ggml-vocab-llama-spm.gguf");
    snapshot!(llama, "compat_llama_text", llama.cmd("compat", &[]));
    let bert = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(bert, "compat_bert_text", bert.cmd("compat", &[]));
}

#[test]
fn compat_on_a_qwen2_model() {
    let case = Case::temp("tiny-qwen2.gguf", &presets::tiny_qwen2().to_bytes());
    snapshot!(case, "compat_tiny_qwen2_text", case.cmd("compat", &[]));
}

#[test]
fn compat_exits_1_when_incompatible() {
    let mut f = presets::tiny_phi3();
    f.set_kv("phi3.rope.dimension_count", 8u32);
    let case = Case::temp("partial.gguf", &f.to_bytes());
    let out = case.cmd("compat", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "incompatible");
    assert_eq!(v["plan"]["blockers"][0]["blocker"], "partial_rotary");
}

fn llamafied(case: &Case, out_name: &str) -> Vec<u8> {
    std::fs::read(case.dir().join(out_name)).unwrap()
}

#[test]
fn llamafy_writes_a_clean_llama_file() {
    for (name, f) in [
        ("tiny-phi3.gguf", presets::tiny_phi3()),
        ("tiny-qwen2.gguf", presets::tiny_qwen2()),
    ] {
        let case = Case::temp(name, &f.to_bytes());
        let out = case
            .cmd("llamafy", &["-o", "out.gguf", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["validates_clean"], true);
        let bytes = llamafied(&case, "out.gguf");
        let g = Gguf::parse(&bytes).unwrap();
        let cfg = ModelConfig::from_gguf(&g).unwrap();
        assert_eq!(
            (cfg.architecture.as_str(), cfg.rope_type),
            ("llama", RopeType::Norm)
        );
        assert_eq!(validate(&g, &cfg).findings, vec![]);
        // No temporary file is left beside the output.
        let names: Vec<String> = std::fs::read_dir(case.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}

#[test]
fn llamafy_refuses_to_overwrite_without_force() {
    let case = Case::temp("tiny-phi3.gguf", &presets::tiny_phi3().to_bytes());
    case.add("out.gguf", b"keep me");
    snapshot!(
        case,
        "llamafy_exists",
        case.cmd("llamafy", &["-o", "out.gguf"])
    );
    assert_eq!(llamafied(&case, "out.gguf"), b"keep me");
    let out = case
        .cmd("llamafy", &["-o", "out.gguf", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(Gguf::parse(&llamafied(&case, "out.gguf")).is_ok());
}

#[test]
fn llamafy_never_leaves_a_half_written_output() {
    // Tensor data cut short: the plan is fine, the data is not there.
    let bytes = presets::tiny_phi3().to_bytes();
    let case = Case::temp("cut.gguf", &bytes[..bytes.len() / 2]);
    let out = case.cmd("llamafy", &["-o", "out.gguf"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let names: Vec<String> = std::fs::read_dir(case.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["cut.gguf"], "no output and no temporary file");
}

#[test]
fn llamafy_explains_vocab_only_files() {
    let case = Case::fixture_copy("ggml-vocab-phi-3.gguf");
    snapshot!(
        case,
        "llamafy_vocab_only",
        case.cmd("llamafy", &["-o", "out.gguf"])
    );
}
