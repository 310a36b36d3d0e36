//! The commands on llama.cpp's own files: the 128 conformance heads of
//! `tests/fixtures/llama-archs/` (validate finds nothing about the schema, config prints what
//! llama.cpp printed) and, when `LLAMA_CPP_DIR` points at llama.cpp's sources (`.ci/run` sets
//! it with `tools/fetch-llama-cpp.sh`), the 19 vocab-only files of its `models/` folder.

use std::path::Path;
use std::process::Command;

use serde_json::Value as J;

fn run(sub: &str, file: &Path, extra: &[&str]) -> (i32, J) {
    let out = Command::new(env!("CARGO_BIN_EXE_ggufscope"))
        .arg(sub)
        .arg(file)
        .args(extra)
        .arg("--json")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    (out.status.code().unwrap_or(-1), json)
}

/// llama.cpp's `print_f`: a number, or `[a, b, …]` when the layers differ.
fn printed(v: &J) -> String {
    match v {
        J::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        J::Null => "0".into(),
        other => other.to_string(),
    }
}

/// Files whose table run is known to differ from llama.cpp (see crates/model/tests/corpus.rs).
const KNOWN_GAPS: &[&str] = &[];

#[test]
fn corpus_config_and_validate_agree_with_llama_cpp() {
    let truth: J = serde_json::from_str(
        &std::fs::read_to_string(ggufscope_testkit::llama_archs_dir().join("llama-truth.json"))
            .unwrap(),
    )
    .unwrap();
    let mut failures = Vec::new();
    for path in ggufscope_testkit::llama_archs_files() {
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        if KNOWN_GAPS.contains(&file.as_str()) {
            continue;
        }
        let t = &truth["n_ctx_4096"][&file];
        let info = &t["print_info"];
        let (code, cfg) = run("config", &path, &[]);
        if code != 0 {
            failures.push(format!("{file}: config exit {code}"));
            continue;
        }
        let keys = [
            ("embedding_length", "n_embd"),
            ("block_count", "n_layer"),
            ("attention_head_count", "n_head"),
            ("attention_head_count_kv", "n_head_kv"),
            ("feed_forward_length", "n_ff"),
            ("rope_dimension_count", "n_rot"),
            ("sliding_window", "n_swa"),
            ("expert_count", "n_expert"),
            ("expert_used_count", "n_expert_used"),
        ];
        for (ours, theirs) in keys {
            let want = info[theirs].as_str().unwrap_or("?");
            let got = printed(&cfg[ours]);
            if got != want {
                failures.push(format!(
                    "{file}: {ours} = {got}, llama.cpp {theirs} = {want}"
                ));
            }
        }
        if cfg["parameter_count"] != t["n_params"] {
            failures.push(format!(
                "{file}: parameter_count {} vs llama.cpp {}",
                cfg["parameter_count"], t["n_params"]
            ));
        }
        let (_, v) = run("validate", &path, &[]);
        for f in v["findings"].as_array().into_iter().flatten() {
            if f["source"] == "schema" {
                failures.push(format!("{file}: schema finding {}", f["message"]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn llama_cpp_vocab_files_have_a_config_and_an_expected_layout() {
    let Some(dir) = std::env::var_os("LLAMA_CPP_DIR") else {
        eprintln!("LLAMA_CPP_DIR is not set: llama.cpp's models/ folder not checked");
        return;
    };
    let models = Path::new(&dir).join("models");
    let mut files: Vec<_> = std::fs::read_dir(&models)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ggml-vocab-") && n.ends_with(".gguf"))
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 19, "{files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let (code, cfg) = run("config", path, &[]);
        if code != 0 {
            failures.push(format!("{}: config exit {code}", path.display()));
        }
        let (code, layout) = run("tensors", path, &["--expected"]);
        let count = layout["tensor_count"].as_u64().unwrap_or(0);
        if code != 0 || count == 0 {
            failures.push(format!(
                "{} ({}): tensors --expected exit {code}, {count} tensors",
                path.display(),
                cfg["architecture"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
