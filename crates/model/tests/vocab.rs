//! `tokenizer::Vocab` against llama.cpp 0c1e570's own vocabulary loader
//! (`tools/vocab-ref/llama_vocab_ref`: `llama_model_loader` + `llama_vocab::load`), on the four
//! real vocab files and the planted ones of `tests/fixtures/vocab/` (their defects and
//! llama-vocab.cpp's special rules). The expected values are what that program printed.

use ggufscope_gguf::Gguf;
use ggufscope_model::tokenizer::Vocab;
use ggufscope_testkit::vocab_ref::{PRE_TYPES, VOCAB_TYPES};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `tests/fixtures/` of this checkout (named from this crate, not from a testkit build that a
/// shared target directory may hold for another checkout).
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn real_dir() -> PathBuf {
    fixtures_dir().join("real")
}

fn cases() -> Vec<(PathBuf, Value)> {
    ggufscope_testkit::vocab_ref::cases(&fixtures_dir())
}

fn check(diffs: &mut Vec<String>, what: &str, got: Value, exp: &Value) {
    if &got != exp {
        diffs.push(format!("{what}: ours {got}, llama.cpp {exp}"));
    }
}

/// Compares one file's `Vocab` with llama.cpp's answer; returns what differs.
pub fn differences(vocab: &Vocab, want: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(err) = want.get("error") {
        check(
            &mut diffs,
            "load_error",
            serde_json::json!(vocab.load_error),
            &Value::from(err.as_str().unwrap().trim_end()),
        );
        return diffs;
    }
    if let Some(abort) = want.get("abort") {
        let ours = vocab.load_error.clone().unwrap_or_default();
        if !ours.starts_with(abort.as_str().unwrap()) {
            diffs.push(format!("abort: ours {ours:?}, llama.cpp {abort}"));
        }
        return diffs;
    }
    check(
        &mut diffs,
        "load_error",
        serde_json::json!(vocab.load_error),
        &Value::Null,
    );
    check(
        &mut diffs,
        "model",
        serde_json::json!(vocab.model),
        &want["model"],
    );
    check(
        &mut diffs,
        "pre",
        serde_json::json!(vocab.pre.clone().unwrap_or_default()),
        &want["pre"],
    );
    let vt = VOCAB_TYPES[want["vocab_type"].as_u64().unwrap() as usize];
    check(
        &mut diffs,
        "vocab_type",
        serde_json::json!(vocab.vocab_type),
        &Value::from(vt),
    );
    let pt = PRE_TYPES[want["pre_type"].as_u64().unwrap() as usize];
    check(
        &mut diffs,
        "pre_type",
        serde_json::json!(vocab.pre_type),
        &Value::from(pt),
    );
    check(
        &mut diffs,
        "n_vocab",
        serde_json::json!(vocab.n_vocab),
        &want["n_vocab"],
    );
    let h = vocab.token_types.unwrap_or_default();
    let mut hist = serde_json::Map::new();
    for (code, n) in [
        (1, h.normal),
        (2, h.unknown),
        (3, h.control),
        (4, h.user_defined),
        (5, h.unused),
        (6, h.byte),
    ] {
        if n > 0 {
            hist.insert(code.to_string(), n.into());
        }
    }
    assert_eq!(h.undefined, 0);
    check(
        &mut diffs,
        "token_types",
        Value::Object(hist),
        &want["token_types"],
    );
    // Special tokens: every role llama.cpp has an id for; a role we leave open among several
    // candidates (std::unordered_map order) must list llama.cpp's pick.
    let roles = want["special"].as_object().unwrap();
    for s in &vocab.special {
        let Some(exp) = roles.get(s.role) else {
            diffs.push(format!(
                "special {}: ours {:?}, llama.cpp none",
                s.role, s.id
            ));
            continue;
        };
        match s.id {
            Some(id) => {
                check(
                    &mut diffs,
                    &format!("special {} id", s.role),
                    id.into(),
                    &exp["id"],
                );
                check(
                    &mut diffs,
                    &format!("special {} text", s.role),
                    serde_json::json!(s.text),
                    &exp["text"],
                );
            }
            None => {
                let ids: Vec<u64> = s.candidates.iter().map(|c| u64::from(c.id)).collect();
                if !ids.contains(&exp["id"].as_u64().unwrap()) {
                    diffs.push(format!(
                        "special {}: llama.cpp's {} not among {ids:?}",
                        s.role, exp["id"]
                    ));
                }
            }
        }
    }
    for role in roles.keys() {
        if vocab.special(role).is_none() {
            diffs.push(format!(
                "special {role}: ours none, llama.cpp {}",
                roles[role]
            ));
        }
    }
    check(
        &mut diffs,
        "add_bos",
        vocab.add_bos.value.into(),
        &want["add_bos"],
    );
    check(
        &mut diffs,
        "add_eos",
        vocab.add_eos.value.into(),
        &want["add_eos"],
    );
    check(
        &mut diffs,
        "add_sep",
        vocab.add_sep.value.into(),
        &want["add_sep"],
    );
    check(
        &mut diffs,
        "eog",
        serde_json::to_value(&vocab.eog).unwrap(),
        &want["eog"],
    );
    diffs
}

#[test]
fn vocab_matches_llama_cpp_on_every_reference_file() {
    let cases = cases();
    assert_eq!(cases.len(), 18, "4 real + 14 planted files");
    let mut failures = Vec::new();
    for (path, want) in &cases {
        let bytes = std::fs::read(path).unwrap();
        let gguf = Gguf::parse(&bytes).unwrap();
        let vocab = Vocab::read(&gguf);
        for d in differences(&vocab, want) {
            failures.push(format!("{}: {d}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn read(name: &str) -> Vocab {
    let path = fixtures_dir().join("vocab").join(name);
    let bytes = std::fs::read(path).unwrap();
    Vocab::read(&Gguf::parse(&bytes).unwrap())
}

fn codes(v: &Vocab) -> Vec<&'static str> {
    v.findings.iter().map(|f| f.code).collect()
}

#[test]
fn planted_defects_are_findings() {
    assert_eq!(codes(&read("unknown-pre.gguf")), ["pre-tokenizer-unknown"]);
    assert_eq!(read("unknown-pre.gguf").pre_type, None);
    assert_eq!(codes(&read("missing-pre.gguf")), ["pre-tokenizer-missing"]);
    assert_eq!(codes(&read("unknown-model.gguf")), ["vocab-load"]);
    assert_eq!(
        codes(&read("bos-out-of-range.gguf")),
        ["special-token-out-of-range"]
    );
    assert_eq!(codes(&read("eos-wrong-type.gguf")), ["vocab-load"]);
    assert_eq!(codes(&read("duplicate-token.gguf")), ["vocab-load"]);
    assert_eq!(codes(&read("short-token-types.gguf")), ["vocab-load"]);
    // <|end|> is the file's EOT, and llama.cpp drops it from the EOG set beside <|return|> and
    // <|call|> (src/llama-vocab.cpp:2960-3002).
    let harmony = read("harmony-end.gguf");
    assert_eq!(codes(&harmony), ["eot-dropped-from-eog"]);
    assert_eq!(harmony.id("eot"), Some(9));
    assert!(!harmony.is_eog(9));
    // Clean files have none.
    for f in [
        "gemma4-s.gguf",
        "fim-qwen.gguf",
        "t5-defaults.gguf",
        "chatglm-nobos.gguf",
    ] {
        assert_eq!(codes(&read(f)), Vec::<&str>::new(), "{f}");
    }
}

#[test]
fn real_files_have_no_vocab_findings_and_their_flags_sources() {
    for name in [
        "ggml-vocab-bert-bge.gguf",
        "ggml-vocab-llama-spm.gguf",
        "ggml-vocab-phi-3.gguf",
        "ggml-vocab-qwen2.gguf",
    ] {
        let bytes = std::fs::read(real_dir().join(name)).unwrap();
        let v = Vocab::read(&Gguf::parse(&bytes).unwrap());
        assert!(v.findings.is_empty(), "{name}: {:?}", v.findings);
    }
    // Phi-3: add_bos_token true from the file, SPM's default true too; EOT found by text among
    // two EOG texts (llama.cpp picks one by hash-map order).
    let bytes = std::fs::read(real_dir().join("ggml-vocab-phi-3.gguf")).unwrap();
    let v = Vocab::read(&Gguf::parse(&bytes).unwrap());
    assert!(v.add_bos.value && v.add_bos.from_key && v.add_bos.default);
    let eot = v.special("eot").unwrap();
    let ids: Vec<u32> = eot.candidates.iter().map(|c| c.id).collect();
    assert_eq!(ids, [32000, 32007]);
    // llama.cpp (built with GCC) took <|end|>: the libstdc++ iteration order puts it first.
    assert_eq!(eot.id, Some(32007));
}

/// llama.cpp loaded every head of `tests/fixtures/llama-archs/` (`llama-truth.json`): none of
/// their vocabularies (the `test` tokenizer) is refused or warned about.
#[test]
fn every_vocabulary_llama_cpp_loaded_is_clean() {
    let dir = fixtures_dir().join("llama-archs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("gguf") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let gguf =
            ggufscope_gguf::Gguf::parse_with(&bytes, ggufscope_gguf::ParseOptions::lenient())
                .unwrap();
        let v = Vocab::read(&gguf);
        assert_eq!(v.vocab_type, Some("TEST"), "{}", path.display());
        assert!(
            v.findings.is_empty(),
            "{}: {:?}",
            path.display(),
            v.findings
        );
        n += 1;
    }
    assert_eq!(n, 128);
}
