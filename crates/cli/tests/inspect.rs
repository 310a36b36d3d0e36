//! `ggufscope inspect` on real fixtures, a preset model, a file cut short in its tensor data
//! and a file full of edge cases.

use ggufscope_testkit::presets;
use ggufscope_testkit::raw::{ty, Raw};

use crate::snapshot;
use crate::util::Case;

const PHI3: &str = "ggml-vocab-phi-3.gguf";
const BERT: &str = "ggml-vocab-bert-bge.gguf";

#[test]
fn phi3_text() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_text", case.cmd("inspect", &[]));
}

#[test]
fn phi3_json() {
    let case = Case::fixture(PHI3);
    snapshot!(case, "phi3_json", case.cmd("inspect", &["--json"]));
}

#[test]
fn bert_text() {
    let case = Case::fixture(BERT);
    snapshot!(case, "bert_text", case.cmd("inspect", &[]));
}

#[test]
fn bert_json() {
    let case = Case::fixture(BERT);
    snapshot!(case, "bert_json", case.cmd("inspect", &["--json"]));
}

#[test]
fn tiny_llama_text() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_text", case.cmd("inspect", &[]));
}

#[test]
fn tiny_llama_json() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(
        case,
        "tiny_llama_json",
        case.cmd("inspect", &["--json", "--array-limit", "3"])
    );
}

/// The header, metadata and tensor infos are intact; half of the tensor data is missing. The
/// file is still inspected (exit 0) and the findings say which tensors are out of bounds.
#[test]
fn tiny_llama_with_data_cut_short_text() {
    let bytes = presets::tiny_llama().to_bytes();
    let case = Case::temp("tiny-llama-cut.gguf", &bytes[..bytes.len() / 2]);
    snapshot!(case, "tiny_llama_cut_text", case.cmd("inspect", &[]));
}

/// Invalid UTF-8 in a value and in array elements, extreme integers, NaN, an f64, a bool byte
/// of 2, a nested array, a key breaking the naming rules and a duplicate key.
fn edge_cases() -> Vec<u8> {
    Raw::le()
        .hdr(3, 0, 12)
        .kv("general.architecture", ty::STRING)
        .s("llama")
        .kv("test.bad_utf8", ty::STRING)
        .s(b"ok\xff\xfe end \\ done")
        .kv("test.names", ty::ARRAY)
        .arr(ty::STRING, 3)
        .s("a")
        .s(b"\xc3\x28")
        .s("back\\slash")
        .kv("test.u64_max", ty::U64)
        .u64(u64::MAX)
        .kv("test.i64_min", ty::I64)
        .bytes(&i64::MIN.to_le_bytes())
        .kv("test.nan", ty::F32)
        .f32(f32::NAN)
        .kv("test.f64", ty::F64)
        .u64(0.1f64.to_bits())
        .kv("test.flag", ty::BOOL)
        .u8(2)
        .kv("test.nested", ty::ARRAY)
        .arr(ty::ARRAY, 2)
        .arr(ty::U8, 2)
        .u8(1)
        .u8(2)
        .arr(ty::U8, 1)
        .u8(3)
        .kv("Test.Bad-Key", ty::U32)
        .u32(1)
        .kv("test.u64_max", ty::U32)
        .u32(7)
        .kv("test.multi", ty::STRING)
        .s("line1\nline2\t\"quoted\"")
        .build()
}

#[test]
fn edge_cases_text() {
    let case = Case::temp("edge.gguf", &edge_cases());
    snapshot!(
        case,
        "edge_cases_text",
        case.cmd("inspect", &["--array-limit", "2"])
    );
}

#[test]
fn edge_cases_json() {
    let case = Case::temp("edge.gguf", &edge_cases());
    snapshot!(
        case,
        "edge_cases_json",
        case.cmd("inspect", &["--json", "--array-limit", "2"])
    );
}

#[test]
fn full_arrays_shows_every_element() {
    let case = Case::fixture(PHI3);
    let out = case
        .cmd(
            "inspect",
            &["--json", "--full-arrays", "--array-limit", "1"],
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tokens = &v["metadata"][15];
    assert_eq!(tokens["key"], "tokenizer.ggml.tokens");
    assert_eq!(tokens["value"]["len"], 32064);
    assert_eq!(tokens["value"]["head"].as_array().unwrap().len(), 32064);
    assert_eq!(tokens["value"]["head"][32000], "<|endoftext|>");
    assert_eq!(tokens["value"]["head"][32063], "[PAD32063]");
}
