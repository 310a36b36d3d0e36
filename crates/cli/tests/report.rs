//! `ggufscope report`: the analysis report as markdown and as JSON (one structure), on real
//! fixtures and built files; `-o FILE`; unsupported architectures; and the committed
//! `docs/phi3_architecture_analysis.md`, regenerated here byte for byte.

use std::path::Path;

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;
use crate::validate::defective_tiny_llama;

const PHI3: &str = "ggml-vocab-phi-3.gguf";
/// The name the doc gives the Qwen2.5-0.5B-shaped file.
const QWEN: &str = "qwen2.5-0.5b.gguf";

/// The fixture and the Qwen2.5-0.5B-shaped file written by the `write_preset` example, side
/// by side in a temporary directory, as the doc says they were made.
pub fn phi3_and_qwen() -> Case {
    let case = Case::fixture_copy(PHI3);
    crate::write_preset::write_preset("qwen2.5-0.5b", &case.dir().join(QWEN)).unwrap();
    case
}

#[test]
fn phi3_markdown() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_markdown", case.cmd("report", &[]));
}

#[test]
fn phi3_json() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_json", case.cmd("report", &["--json"]));
}

#[test]
fn qwen2_markdown() {
    let case = Case::fixture("ggml-vocab-qwen2.gguf");
    snapshot!(case, "qwen2_markdown", case.cmd("report", &[]));
}

#[test]
fn llama_spm_markdown() {
    let case = Case::fixture("ggml-vocab-llama-spm.gguf");
    snapshot!(case, "llama_spm_markdown", case.cmd("report", &[]));
}

#[test]
fn tiny_llama_markdown() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_markdown", case.cmd("report", &[]));
}

/// Schema errors are reported in the document; the report itself succeeds.
#[test]
fn defective_tiny_llama_markdown() {
    let case = Case::temp("tiny-llama-broken.gguf", &defective_tiny_llama());
    snapshot!(case, "defective_markdown", case.cmd("report", &[]));
}

#[test]
fn bert_report_from_the_table_and_a_comparison_with_it() {
    // bert has no Llama-shaped spec: its report is the architecture table's.
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert", case.cmd("report", &[]));
    // A Phi-3 file compared with it goes through the table too.
    let case = Case::fixture(PHI3);
    let out = case
        .cmd("report", &["--compare", "ggml-vocab-bert-bge.gguf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# `phi3` architecture analysis"), "{text}");
    assert!(text.contains("## Comparison"), "{text}");
    assert!(
        text.contains("| config | architecture | phi3 | bert | ≠ |"),
        "{text}"
    );
}

/// The markdown and the JSON are renderings of one structure: every summary sentence, every
/// finding and every assumption of the JSON is in the markdown.
#[test]
fn markdown_and_json_say_the_same_things() {
    let case = phi3_and_qwen();
    let md = case.cmd("report", &["--compare", QWEN]).output().unwrap();
    let json = case
        .cmd("report", &["--compare", QWEN, "--json"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for s in v["summary"].as_array().unwrap() {
        assert!(md.contains(s.as_str().unwrap()), "{s}");
    }
    for a in v["assumptions"].as_array().unwrap() {
        assert!(md.contains(a["claim"].as_str().unwrap()), "{a}");
    }
    assert_eq!(v["tensors"]["source"], "expected");
    assert_eq!(v["tensors"]["tensor_count"], 195);
    assert_eq!(v["tensors"]["parameter_count"], 3_821_079_552u64);
    assert_eq!(v["llama_layout"]["compatible_as_is"], false);
    assert_eq!(v["comparison"]["b"]["tensor_count"], 290);
}

#[test]
fn output_file_gets_what_stdout_would() {
    let case = Case::fixture_copy(PHI3);
    let out = case.cmd("report", &["-o", "phi3.md"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stdout = case.cmd("report", &[]).output().unwrap().stdout;
    assert_eq!(std::fs::read(case.dir().join("phi3.md")).unwrap(), stdout);
}

/// `docs/phi3_architecture_analysis.md` is exactly what the commands it names produce:
/// `cargo run -p ggufscope-testkit --example write_preset -- qwen2.5-0.5b qwen2.5-0.5b.gguf`
/// then `ggufscope report ggml-vocab-phi-3.gguf --compare qwen2.5-0.5b.gguf`.
#[test]
fn the_committed_phi3_analysis_is_what_the_tool_produces() {
    let doc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/phi3_architecture_analysis.md");
    let case = phi3_and_qwen();
    let out = case.cmd("report", &["--compare", QWEN]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    if std::env::var_os("GGUFSCOPE_UPDATE_DOCS").is_some() {
        std::fs::write(&doc, &out.stdout).unwrap();
    }
    let committed = std::fs::read_to_string(&doc).unwrap();
    let produced = String::from_utf8(out.stdout).unwrap();
    assert!(
        committed == produced,
        "docs/phi3_architecture_analysis.md has drifted from `ggufscope report`; \
         regenerate it with GGUFSCOPE_UPDATE_DOCS=1 cargo test -p ggufscope"
    );
}
