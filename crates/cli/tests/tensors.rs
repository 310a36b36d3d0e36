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
