//! `template`: the real Phi-3 and Qwen2 templates rendered as transformers renders them, and
//! planted defects (a template that does not parse, a statement llama.cpp cannot parse, a
//! special token missing from the vocabulary, BOS twice, an end-of-turn token outside the
//! end-of-generation set) each found.

use ggufscope_gguf::{GgufWriter, OwnedValue, ValueType};
use serde_json::Value;

use crate::util::Case;

/// A vocab-only llama-style file with `tokens` (types: control for `<…>` tokens), BOS 1, EOS 2,
/// and `template`.
fn file(template: &str, tokens: &[&str], add_bos: bool, extra: &[(&str, u32)]) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama");
    w.add_kv("tokenizer.ggml.model", "llama");
    w.add_kv(
        "tokenizer.ggml.tokens",
        OwnedValue::strings(tokens.iter().copied()),
    );
    let types = tokens
        .iter()
        .map(|t| OwnedValue::I32(if t.starts_with('<') { 3 } else { 1 }));
    w.add_kv(
        "tokenizer.ggml.token_type",
        OwnedValue::array(ValueType::I32, types),
    );
    w.add_kv("tokenizer.ggml.bos_token_id", 1u32);
    w.add_kv("tokenizer.ggml.eos_token_id", 2u32);
    w.add_kv("tokenizer.ggml.add_bos_token", add_bos);
    for (k, v) in extra {
        w.add_kv(*k, *v);
    }
    w.add_kv("tokenizer.chat_template", template);
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

const CHATML: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
const TOKENS: &[&str] = &[
    "<unk>",
    "<s>",
    "</s>",
    "<|im_start|>",
    "<|im_end|>",
    "hello",
];

fn run(case: &Case, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = case.cmd("template", &args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

fn codes(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn real_phi3_renders_as_transformers_and_finds_bos_twice() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let (code, json) = run(&case, &[]);
    assert_eq!(code, 0);
    // transformers 5.24 apply_chat_template on this template with the sample conversation
    // (bos_token "<s>", eos_token "</s>"): the system message is dropped by the template.
    assert_eq!(
        json["rendered"],
        "<s><|user|>\nHello!<|end|>\n<|assistant|>\nHi there. How can I help?<|end|>\n<|user|>\nWhat is the capital of France?<|end|>\n<|assistant|>\n"
    );
    assert_eq!(json["capabilities"]["supports_system_role"], false);
    assert_eq!(codes(&json), ["bos-twice"]);
}

#[test]
fn real_qwen2_is_clean_and_reads_messages_from_stdin_or_file() {
    let case = Case::fixture("ggml-vocab-qwen2.gguf");
    let (code, json) = run(&case, &["--no-generation-prompt"]);
    assert_eq!(code, 0);
    assert!(json["rendered"]
        .as_str()
        .unwrap()
        .ends_with("What is the capital of France?<|im_end|>\n"));
    assert_eq!(json["capabilities"]["supports_system_role"], true);
    assert!(codes(&json).is_empty(), "{json}");

    let tmp = tempfile::tempdir().unwrap();
    let msgs = tmp.path().join("m.json");
    std::fs::write(&msgs, r#"[{"role": "user", "content": "Hi"}]"#).unwrap();
    let (_, json) = run(&case, &["--messages", msgs.to_str().unwrap()]);
    // transformers 5.24's render_jinja_template gives the same (its default system text has no
    // full stop).
    assert_eq!(json["rendered"], "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

#[test]
fn a_clean_chatml_file_has_no_findings() {
    let case = Case::temp("chatml.gguf", &file(CHATML, TOKENS, false, &[]));
    let (code, json) = run(&case, &[]);
    assert_eq!(code, 0, "{json}");
    assert!(codes(&json).is_empty(), "{json}");
}

#[test]
fn a_template_that_does_not_parse_is_named_with_its_line() {
    let bad = "{% for m in messages %}\n{{ m.content }\n{% endfor %}";
    let case = Case::temp("bad.gguf", &file(bad, TOKENS, false, &[]));
    let (code, json) = run(&case, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["rendered"], Value::Null);
    let f = &json["findings"][0];
    assert_eq!(f["code"], "template-syntax");
    assert_eq!(f["line"], 2, "{f}");
}

#[test]
fn statements_llama_cpp_cannot_parse_are_found() {
    let t = format!("{{% include 'x' ignore missing %}}{CHATML}");
    let case = Case::temp("inc.gguf", &file(&t, TOKENS, false, &[]));
    let (_, json) = run(&case, &[]);
    assert!(
        codes(&json).contains(&"llama-cpp-unsupported".to_string()),
        "{json}"
    );
}

#[test]
fn a_special_token_missing_from_the_vocabulary_is_found() {
    let t = CHATML.replace("<|im_end|>", "<|im_stop|>");
    let case = Case::temp("tok.gguf", &file(&t, TOKENS, false, &[]));
    let (_, json) = run(&case, &[]);
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "special-token-unknown")
        .unwrap();
    assert!(f["message"].as_str().unwrap().contains("<|im_stop|>"));
}

#[test]
fn bos_twice_is_found() {
    let t = format!("{{{{ bos_token }}}}{CHATML}");
    let case = Case::temp("bos.gguf", &file(&t, TOKENS, true, &[]));
    let (_, json) = run(&case, &[]);
    assert!(json["rendered"]
        .as_str()
        .unwrap()
        .starts_with("<s><|im_start|>"));
    assert_eq!(codes(&json), ["bos-twice"]);
    // Without add_bos_token the same template is fine.
    let case = Case::temp("bos.gguf", &file(&t, TOKENS, false, &[]));
    assert!(codes(&run(&case, &[]).1).is_empty());
}

#[test]
fn an_end_of_turn_token_outside_the_eog_set_is_an_error() {
    // `<|turn_end|>` is no text llama.cpp recognises, nor EOS/EOT: generation never stops.
    let t = CHATML.replace("<|im_end|>", "<|turn_end|>");
    let tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|turn_end|>"];
    let case = Case::temp("eot.gguf", &file(&t, &tokens, false, &[]));
    let (code, json) = run(&case, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&json), ["eot-not-eog"]);
    // Declared as the EOT token, it is in the set.
    let case = Case::temp(
        "eot.gguf",
        &file(&t, &tokens, false, &[("tokenizer.ggml.eot_token_id", 4)]),
    );
    let (code, json) = run(&case, &[]);
    assert_eq!(code, 0, "{json}");
}

#[test]
fn a_missing_template_is_exit_2() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    let out = case.cmd("template", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
