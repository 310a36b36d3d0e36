//! The tokenizer section of `config --json` against llama.cpp 0c1e570's own vocabulary loader
//! (`tools/vocab-ref/llama_vocab_ref`, its answers in `tests/fixtures/*/llama-vocab.jsonl`) on
//! the four real vocab files and the planted ones; `validate` on the planted defects;
//! capabilities of default and named chat templates in `config` and `report`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::Case;
use ggufscope_testkit::vocab_ref::{PRE_TYPES, VOCAB_TYPES};

/// `tests/fixtures/` of this checkout.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn reference() -> Vec<(PathBuf, Value)> {
    ggufscope_testkit::vocab_ref::cases(&fixtures())
}

fn json_of(case: &Case, command: &str) -> Value {
    let out = case.cmd(command, &["--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} {command}: {e}: {}",
            case.file(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// llama.cpp's answer in the shape of `config --json`'s `vocab` (the parts both report).
fn expected(want: &Value) -> Value {
    if let Some(e) = want.get("error") {
        return json!({ "load_error": e.as_str().unwrap().trim_end() });
    }
    if let Some(a) = want.get("abort") {
        return json!({ "load_error": a });
    }
    let hist: serde_json::Map<String, Value> = [
        ("1", "normal"),
        ("2", "unknown"),
        ("3", "control"),
        ("4", "user_defined"),
        ("5", "unused"),
        ("6", "byte"),
    ]
    .iter()
    .map(|(code, name)| {
        (
            name.to_string(),
            want["token_types"].get(*code).cloned().unwrap_or(json!(0)),
        )
    })
    .chain([("undefined".to_string(), json!(0))])
    .collect();
    let pre = want["pre"].as_str().unwrap();
    json!({
        "model": want["model"],
        "pre": if pre.is_empty() { Value::Null } else { json!(pre) },
        "vocab_type": VOCAB_TYPES[want["vocab_type"].as_u64().unwrap() as usize],
        "pre_type": PRE_TYPES[want["pre_type"].as_u64().unwrap() as usize],
        "n_vocab": want["n_vocab"],
        "token_types": hist,
        "special": want["special"],
        "add_bos": want["add_bos"],
        "add_eos": want["add_eos"],
        "add_sep": want["add_sep"],
        "eog": want["eog"],
        "load_error": null,
    })
}

/// `config --json`'s `vocab` in the same shape; a special token left open among candidates
/// shows llama.cpp's pick when it is one of them.
fn ours(vocab: &Value, want: &Value) -> Value {
    if !vocab["load_error"].is_null() {
        let err = vocab["load_error"].as_str().unwrap();
        // An abort is matched by its GGML_ASSERT line; our message adds the token text.
        let err = match want.get("abort").and_then(Value::as_str) {
            Some(a) if err.starts_with(a) => a,
            _ => err,
        };
        return json!({ "load_error": err });
    }
    let mut special = serde_json::Map::new();
    for s in vocab["special"].as_array().unwrap() {
        let role = s["role"].as_str().unwrap();
        let entry = if s["id"].is_null() {
            let pick = &want["special"][role];
            let among = s["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == pick);
            if among {
                pick.clone()
            } else {
                json!({ "candidates": s["candidates"] })
            }
        } else {
            json!({ "id": s["id"], "text": s["text"] })
        };
        special.insert(role.to_string(), entry);
    }
    json!({
        "model": vocab["model"],
        "pre": vocab["pre"],
        "vocab_type": vocab["vocab_type"],
        "pre_type": vocab["pre_type"],
        "n_vocab": vocab["n_vocab"],
        "token_types": vocab["token_types"],
        "special": special,
        "add_bos": vocab["add_bos"]["value"],
        "add_eos": vocab["add_eos"]["value"],
        "add_sep": vocab["add_sep"]["value"],
        "eog": vocab["eog"],
        "load_error": vocab["load_error"],
    })
}

#[test]
fn config_json_vocab_equals_llama_cpp_on_every_reference_file() {
    let cases = reference();
    assert_eq!(cases.len(), 18, "4 real files + 14 planted");
    for (path, want) in &cases {
        let case = Case::at(path);
        let config = json_of(&case, "config");
        assert_eq!(
            ours(&config["vocab"], want),
            expected(want),
            "{}",
            path.display()
        );
    }
}

fn validate_codes(name: &str) -> (i32, Vec<String>) {
    let case = Case::at(&fixtures().join("vocab").join(name));
    let out = case.cmd("validate", &["--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "tokenizer")
        .map(|f| {
            format!(
                "{} {}",
                f["severity"].as_str().unwrap(),
                f["code"].as_str().unwrap()
            )
        })
        .collect();
    (out.status.code().unwrap(), codes)
}

#[test]
fn validate_names_each_planted_vocabulary_defect() {
    let cases: &[(&str, i32, &[&str])] = &[
        ("unknown-pre.gguf", 1, &["error pre_tokenizer_unknown"]),
        ("unknown-model.gguf", 1, &["error vocab_load"]),
        ("eos-wrong-type.gguf", 1, &["error vocab_load"]),
        ("duplicate-token.gguf", 1, &["error vocab_load"]),
        ("missing-pre.gguf", 0, &["warning pre_tokenizer_missing"]),
        (
            "bos-out-of-range.gguf",
            0,
            &["warning special_token_out_of_range"],
        ),
        ("harmony-end.gguf", 0, &["info eot_dropped_from_eog"]),
        ("turn-end-not-eog.gguf", 1, &["error eot_not_eog"]),
        ("fim-qwen.gguf", 0, &[]),
        ("gemma4-s.gguf", 0, &[]),
        ("named-templates.gguf", 0, &[]),
    ];
    for (name, code, codes) in cases {
        assert_eq!(
            validate_codes(name),
            (*code, codes.iter().map(|s| s.to_string()).collect()),
            "{name}"
        );
    }
    // The message names llama.cpp's own words and line.
    let case = Case::at(&fixtures().join("vocab/unknown-pre.gguf"));
    let out = case.cmd("validate", &[]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("unknown pre-tokenizer type: 'future-bpe'")
            && text.contains("src/llama-vocab.cpp:2428"),
        "{text}"
    );
}

#[test]
fn config_and_report_show_each_templates_capabilities() {
    let case = Case::at(&fixtures().join("vocab/named-templates.gguf"));
    let config = json_of(&case, "config");
    let templates = config["chat_templates"].as_array().unwrap();
    let keys: Vec<&str> = templates
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "tokenizer.chat_template",
            "tokenizer.chat_template.tool_use"
        ]
    );
    // ChatML without tools; the named one takes tools and tool calls (llama.cpp's probe).
    assert_eq!(templates[0]["capabilities"]["supports_tools"], false);
    assert_eq!(templates[0]["capabilities"]["supports_system_role"], true);
    assert_eq!(templates[1]["capabilities"]["supports_tools"], true);
    assert_eq!(templates[1]["capabilities"]["supports_tool_calls"], true);
    // `template --name tool_use` probes the same template the same way.
    let named = case
        .cmd("template", &["--name", "tool_use", "--json"])
        .output()
        .unwrap();
    let named: Value = serde_json::from_slice(&named.stdout).unwrap();
    assert_eq!(named["capabilities"], templates[1]["capabilities"]);
    let text = String::from_utf8(case.cmd("config", &[]).output().unwrap().stdout).unwrap();
    assert!(
        text.contains("chat template (tokenizer.chat_template.tool_use)"),
        "{text}"
    );
    assert!(text.contains("system role, tools, tool calls"), "{text}");
    let report = String::from_utf8(case.cmd("report", &[]).output().unwrap().stdout).unwrap();
    assert!(report.contains("## Chat templates"), "{report}");
    assert!(
        report.contains("| `tokenizer.chat_template.tool_use` | system role, tools, tool calls"),
        "{report}"
    );
    let report = json_of(&case, "report");
    assert_eq!(
        report["tokenizer"]["chat_templates"][1]["capabilities"],
        templates[1]["capabilities"]
    );
}

/// Phi-3's real template writes `<s>` itself while the tokenizer adds BOS: a warning in
/// `validate` and `report`, not an error.
#[test]
fn phi3_template_adds_bos_twice() {
    let case = Case::at(&fixtures().join("real/ggml-vocab-phi-3.gguf"));
    let out = case.cmd("validate", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tok: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "tokenizer")
        .collect();
    assert_eq!(tok.len(), 1);
    assert_eq!(tok[0]["code"], "bos_twice");
    assert_eq!(tok[0]["key"], "tokenizer.chat_template");
}
