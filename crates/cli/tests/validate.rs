//! `ggufscope validate`: clean files (exit 0), a defective built file (exit 1), and the bert
//! fixture, whose architecture has no spec: format-level checks only, a warning, exit 0.

use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_testkit::presets;
use ggufscope_testkit::raw::{ty, Raw};

use crate::snapshot;
use crate::util::Case;

/// tiny_llama without `blk.1.ffn_down.weight` and with `blk.0.attn_k.weight` the wrong shape.
pub fn defective_tiny_llama() -> Vec<u8> {
    let mut model = presets::tiny_llama();
    model
        .remove_tensor("blk.1.ffn_down.weight")
        .set_dims("blk.0.attn_k.weight", &[64, 64]);
    model.to_bytes()
}

#[test]
fn phi3_text_and_json() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    snapshot!(case, "phi3_text", case.cmd("validate", &[]));
    snapshot!(case, "phi3_json", case.cmd("validate", &["--json"]));
}

#[test]
fn qwen2_and_llama_spm_are_vocab_only() {
    for name in ["ggml-vocab-qwen2.gguf", "ggml-vocab-llama-spm.gguf"] {
        let case = Case::fixture(name);
        let out = case.cmd("validate", &["--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["findings"][0]["code"], "vocab_only");
        assert_eq!(v["findings"][0]["severity"], "info");
    }
}

#[test]
fn bert_is_checked_by_the_table() {
    let case = Case::fixture("ggml-vocab-bert-bge.gguf");
    snapshot!(case, "bert_text", case.cmd("validate", &[]));
    snapshot!(case, "bert_json", case.cmd("validate", &["--json"]));
}

#[test]
fn tiny_llama_is_clean() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(case, "tiny_llama_text", case.cmd("validate", &[]));
    snapshot!(case, "tiny_llama_json", case.cmd("validate", &["--json"]));
}

#[test]
fn defects_are_errors_and_exit_1() {
    let case = Case::temp("tiny-llama-broken.gguf", &defective_tiny_llama());
    snapshot!(case, "defective_text", case.cmd("validate", &[]));
    snapshot!(case, "defective_json", case.cmd("validate", &["--json"]));
}

/// Format findings (here: data cut short) are reported with their offset, next to the schema
/// findings.
#[test]
fn data_cut_short_is_a_format_error() {
    let bytes = presets::tiny_llama().to_bytes();
    let case = Case::temp("tiny-llama-cut.gguf", &bytes[..bytes.len() / 2]);
    snapshot!(case, "cut_text", case.cmd("validate", &[]));
}

/// A configuration that cannot be read is an error finding, not a failure.
#[test]
fn missing_required_key_is_an_error_finding() {
    let mut model = presets::tiny_llama();
    model.remove_kv("llama.attention.layer_norm_rms_epsilon");
    let case = Case::temp("no-eps.gguf", &model.to_bytes());
    snapshot!(case, "missing_key_json", case.cmd("validate", &["--json"]));
}

/// Issue 17, one finding per cause: each of llama.cpp's 128 conformance heads (the tensor data
/// cut off) gets exactly one format error, `data_truncated`, with the bytes present and needed,
/// the number of tensors cut and the first of them; never one finding per tensor.
#[test]
fn a_file_cut_short_gets_one_data_truncated_error() {
    let files = ggufscope_testkit::llama_archs_files();
    assert_eq!(files.len(), 128);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        // Lenient, as the command reads: some architectures' keys hold a `-` (`command-r.…`).
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let len = bytes.len() as u64;
        // (start, end, name) of every tensor the file cuts, computed here from the tensor infos.
        let mut cut: Vec<(u64, u64, &str)> = g
            .tensors()
            .iter()
            .map(|t| {
                let start = g.data_offset() + t.offset();
                (start, start + t.n_bytes().unwrap(), t.name())
            })
            .filter(|s| s.1 > len)
            .collect();
        let needed = cut.iter().map(|s| s.1).max().unwrap();
        cut.sort_by_key(|s| s.0);
        let (first_start, first_end, first) = cut[0];

        let case = Case::at(&path);
        let out = case.cmd("validate", &["--json"]).output().unwrap();
        let name = case.file();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = v["findings"].as_array().unwrap();
        let format_errors: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["source"] == "format" && f["severity"] == "error")
            .collect();
        assert_eq!(format_errors.len(), 1, "{name}: {findings:#?}");
        let f = format_errors[0];
        assert_eq!(f["code"], "data_truncated", "{name}");
        assert_eq!(f["offset"], len, "{name}");
        assert_eq!(f["tensor"], first, "{name}");
        let tensors = match cut.len() {
            1 => "1 tensor ends".to_owned(),
            n => format!("{n} tensors end"),
        };
        assert_eq!(
            f["message"],
            format!(
                "tensor data cut short: the file has {len} bytes, its tensors need {needed} ({} missing); {tensors} past the end of the file, the first `{first}` (bytes {first_start}..{first_end})",
                needed - len
            ),
            "{name}"
        );
        assert!(
            !findings.iter().any(|f| f["code"] == "tensor_out_of_bounds"),
            "{name}"
        );
    }
}

/// 1,000 tensors all at offset 0 (one `tensors_overlap` and one `non_contiguous` finding each
/// but the first), in a file whose data is complete.
fn overlapping_tensors(n: u64) -> Vec<u8> {
    let mut r = Raw::le().hdr(3, n, 0);
    for i in 0..n {
        r = r.ti(format!("t{i:04}"), &[8], 0, 0);
    }
    r.pad(32).fill(0, 32).build()
}

/// Lines of `text` whose code column (after severity and, for `validate`, source) is `code`.
fn lines_with_code(lines: &[&str], code: &str) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.split_whitespace().any(|w| w == code))
        .map(|(i, _)| i)
        .collect()
}

/// Issue 17: a cap on repeated findings lists the first ones, then prints the exact count of
/// the others once, after everything it lists; in `validate` and in `inspect`.
#[test]
fn a_capped_finding_prints_its_exact_count_once_after_the_list() {
    let max = ggufscope_gguf::limits::MAX_FINDINGS_PER_KIND;
    let n = 1000u64;
    let rest = n - 1 - max as u64;
    let case = Case::temp("overlaps.gguf", &overlapping_tensors(n));
    for command in ["validate", "inspect"] {
        let out = case.cmd(command, &[]).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        let counts = lines_with_code(&lines, "suppressed");
        assert_eq!(counts.len(), 2, "{command}:\n{stdout}");
        for kind in ["tensors_overlap", "non_contiguous"] {
            let listed = lines_with_code(&lines, kind);
            assert_eq!(listed.len(), max, "{command} {kind}");
            // The count after every listed line, said once.
            assert!(listed.iter().all(|l| l < &counts[0]), "{command} {kind}");
            let text =
                format!("{rest} more `{kind}` findings are not listed (the first {max} are)");
            assert_eq!(stdout.matches(&text).count(), 1, "{command}");
            assert!(
                counts.iter().any(|&c| lines[c].contains(&text)),
                "{command}:\n{stdout}"
            );
        }
        // Nothing else of the format layer after the counts.
        let last_listed = lines_with_code(&lines, "tensors_overlap")
            .into_iter()
            .chain(lines_with_code(&lines, "non_contiguous"))
            .max()
            .unwrap();
        assert_eq!(counts[0], last_listed + 1, "{command}:\n{stdout}");
    }
}

/// Issue 17: the lenient parse keeps the first 1,024 diagnostics; the exact number of the
/// others is said once, after them, in `inspect` and `validate`.
#[test]
fn dropped_diagnostics_are_counted_once_after_the_list() {
    let max = ggufscope_gguf::limits::MAX_DIAGNOSTICS;
    let n = 5000usize;
    let mut r = Raw::le().hdr(3, 0, n as u64);
    for i in 0..n {
        r = r.kv(format!("K{i}"), ty::U8).u8(0);
    }
    let case = Case::temp("keys.gguf", &r.build());
    let text = format!(
        "{} more diagnostics are not listed (the first {max} are)",
        n - max
    );
    for command in ["inspect", "validate"] {
        let out = case.cmd(command, &[]).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        let dropped = lines_with_code(&lines, "diagnostics_dropped");
        assert_eq!(dropped.len(), 1, "{command}:\n{stdout}");
        assert!(lines[dropped[0]].contains(&text), "{}", lines[dropped[0]]);
        let kept = lines_with_code(&lines, "invalid_key");
        assert_eq!(kept.len(), max, "{command}");
        assert_eq!(dropped[0], kept[max - 1] + 1, "{command}");
    }
}

/// One finding per cause for schema findings too: 300 tensors llama.cpp never creates are 256
/// `unexpected_tensor` errors and one `suppressed` line with the exact count, after them.
#[test]
fn repeated_schema_findings_are_capped_with_their_count() {
    let mut model = presets::tiny_llama();
    for i in 0..300 {
        model.push_tensor(
            &format!("blk.0.extra_{i}.weight"),
            ggufscope_gguf::GgmlType::F32,
            &[4],
        );
    }
    let case = Case::temp("extra.gguf", &model.to_bytes());
    let out = case.cmd("validate", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let unexpected = findings
        .iter()
        .filter(|f| f["code"] == "unexpected_tensor")
        .count();
    assert_eq!(unexpected, 256);
    let last = findings.last().unwrap();
    assert_eq!(last["code"], "suppressed");
    assert_eq!(
        last["message"],
        "44 more `unexpected_tensor` findings are not listed (the first 256 are)"
    );
    assert_eq!(last["severity"], "error");
}

/// A file llama.cpp loads but cannot run (olmoe with fewer KV heads than heads: its graph's K
/// norm is `{n_embd}` wide, `src/models/olmoe.cpp:95`): `validate` names the graph line, and
/// `memory` refuses the context, as llama.cpp aborts creating one.
#[test]
fn a_file_llama_cpp_cannot_run_is_an_error() {
    let dir = ggufscope_testkit::fixtures_dir().join("llama-archs-refused");
    let case = Case::temp(
        "olmoe-gqa.gguf",
        &ggufscope_testkit::read_fixture(&dir.join("olmoe-gqa.gguf.gz")),
    );
    let out = case.cmd("validate", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "llama_cannot_run")
        .collect();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["severity"], "error");
    let msg = found[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("attn_k_norm is {384} but K is {128}")
            && msg.contains("src/models/olmoe.cpp:95"),
        "{msg}"
    );
    let out = case.cmd("memory", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("llama.cpp refuses this context") && err.contains("olmoe.cpp:95"),
        "{err}"
    );
}
