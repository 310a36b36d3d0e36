//! Split sets (`PREFIX-00001-of-00003.gguf`, llama.cpp's gguf-split layout) built with the
//! writer: every shard is read, the merged view equals the unsplit file, and a missing,
//! duplicated or inconsistent shard is exit 2 with one stderr line naming it.

use ggufscope_gguf::OwnedValue;
use ggufscope_testkit::presets::{self, ModelFixture};

use crate::httpd::{Mode, Server};
use crate::snapshot;
use crate::util::{bin, Case};

const FIRST: &str = "tiny-00001-of-00003.gguf";

fn name(no: usize) -> String {
    format!("tiny-{no:05}-of-00003.gguf")
}

/// `model`'s tensors spread over shards of `sizes` tensors as gguf-split writes them: every
/// key in the first shard, the split keys in each; `edit` changes shard `i` (0-based) before
/// it is written.
fn split_files(
    model: &ModelFixture,
    sizes: &[usize],
    edit: impl Fn(usize, &mut ModelFixture),
) -> Vec<(String, Vec<u8>)> {
    let count = u16::try_from(sizes.len()).unwrap();
    let total = i32::try_from(model.tensors.len()).unwrap();
    let mut tensors = model.tensors.iter();
    let mut out = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let mut shard = ModelFixture {
            kvs: if i == 0 {
                model.kvs.clone()
            } else {
                Vec::new()
            },
            tensors: tensors.by_ref().take(n).cloned().collect(),
        };
        shard
            .set_kv("split.no", u16::try_from(i).unwrap())
            .set_kv("split.count", count)
            .set_kv("split.tensors.count", total);
        edit(i, &mut shard);
        out.push((name(i + 1), shard.to_bytes()));
    }
    assert!(tensors.next().is_none(), "sizes do not cover the model");
    out
}

/// The files written in one temporary directory; the case's file is the first shard.
fn case_of(files: &[(String, Vec<u8>)]) -> Case {
    let case = Case::temp(&files[0].0, &files[0].1);
    for (n, b) in &files[1..] {
        case.add(n, b);
    }
    case
}

fn tiny_set() -> Vec<(String, Vec<u8>)> {
    split_files(&presets::tiny_llama(), &[7, 7, 7], |_, _| {})
}

fn json(case: &Case, sub: &str, extra: &[&str]) -> serde_json::Value {
    let out = case.cmd(sub, extra).output().unwrap();
    assert!(
        out.status.success(),
        "{sub}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_shards_tensors_are_listed_with_their_shard() {
    let case = case_of(&tiny_set());
    snapshot!(case, "tensors_text", case.cmd("tensors", &[]));
    snapshot!(
        case,
        "inspect_text",
        case.cmd("inspect", &["--array-limit", "2"])
    );
    let v = json(&case, "tensors", &["--json"]);
    let rows = v["tensors"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = presets::tiny_llama()
        .tensors
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, expected);
    let shards: Vec<u64> = rows.iter().map(|t| t["shard"].as_u64().unwrap()).collect();
    assert_eq!(shards, [[1; 7], [2; 7], [3; 7]].concat());
}

/// config, validate, compat and the tensor totals of the set are those of the unsplit file.
#[test]
fn the_merged_view_equals_the_unsplit_file() {
    let case = case_of(&tiny_set());
    let whole = Case::temp("tiny.gguf", &presets::tiny_llama().to_bytes());
    let mut merged = json(&case, "config", &["--json"]);
    let single = json(&whole, "config", &["--json"]);
    assert_eq!(merged, single);
    merged = json(&case, "validate", &["--json"]);
    assert_eq!(merged, json(&whole, "validate", &["--json"]));
    assert_eq!(merged["ok"], true);
    let (a, b) = (
        json(&case, "compat", &["--json"]),
        json(&whole, "compat", &["--json"]),
    );
    assert_eq!(a["plan"], b["plan"]);
    let (a, b) = (
        json(&case, "tensors", &["--json"]),
        json(&whole, "tensors", &["--json"]),
    );
    assert_eq!(a["total_bytes"], b["total_bytes"]);
    assert_eq!(a["total_elements"], b["total_elements"]);
    let report = json(&case, "report", &["--json"]);
    assert_eq!(report["inputs"][0]["tensor_count"], 21);
    let out = case
        .cmd("compare", &[whole.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// A defect in one shard of the set: exit 2, one stderr line naming it.
fn broken(snapshot_name: &str, files: Vec<(String, Vec<u8>)>) {
    let case = case_of(&files);
    let out = case.cmd("tensors", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{snapshot_name}");
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
    snapshot!(case, snapshot_name, case.cmd("config", &["--json"]));
}

#[test]
fn a_missing_shard_is_named() {
    let mut files = tiny_set();
    files.remove(1);
    broken("missing_shard", files);
}

#[test]
fn an_inconsistent_split_count_is_named() {
    let files = split_files(&presets::tiny_llama(), &[7, 7, 7], |i, m| {
        if i == 2 {
            m.set_kv("split.count", 4u16);
        }
    });
    broken("wrong_split_count", files);
}

#[test]
fn a_wrong_tensor_total_is_named() {
    let files = split_files(&presets::tiny_llama(), &[7, 7, 7], |i, m| {
        if i == 0 {
            m.set_kv("split.tensors.count", 22i32);
        }
    });
    broken("wrong_tensor_total", files);
}

#[test]
fn a_duplicated_shard_is_named() {
    let files = split_files(&presets::tiny_llama(), &[7, 7, 7], |i, m| {
        if i == 2 {
            m.set_kv("split.no", 1u16);
        }
    });
    broken("duplicate_split_no", files);
}

#[test]
fn a_tensor_in_two_shards_is_named() {
    let files = split_files(&presets::tiny_llama(), &[7, 7, 7], |i, m| {
        if i == 2 {
            m.tensors[0].name = "token_embd.weight".into();
        }
    });
    broken("duplicate_tensor", files);
}

#[test]
fn a_mistyped_split_key_is_named() {
    let files = split_files(&presets::tiny_llama(), &[7, 7, 7], |i, m| {
        if i == 1 {
            m.set_kv("split.count", OwnedValue::U32(3));
        }
    });
    broken("mistyped_split_count", files);
}

#[test]
fn a_later_shard_given_first_points_at_the_first() {
    let files = tiny_set();
    let case = case_of(&files);
    let mut cmd = bin();
    cmd.current_dir(case.dir()).args(["config", &name(2)]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("is shard 2 of 3: give the first shard ({FIRST})")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn llamafy_refuses_a_split_set() {
    let case = case_of(&split_files(&presets::tiny_phi3(), &[5, 5, 5], |_, _| {}));
    let out = case.cmd("llamafy", &["-o", "out.gguf"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("first of 3 shards"), "{err}");
    assert!(!case.dir().join("out.gguf").exists());
}

/// The shards of a remote set are found beside the first: one request each.
#[test]
fn a_remote_split_set_is_read_shard_by_shard() {
    let files = tiny_set();
    let case = case_of(&files);
    let server = Server::start(
        Mode::Range,
        files
            .iter()
            .map(|(n, b)| (format!("/m/{n}"), b.clone()))
            .collect(),
    );
    let url = server.url(&format!("m/{FIRST}"));
    let out = bin().args(["tensors", "--json", &url]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(remote, json(&case, "tensors", &["--json"]));
    assert_eq!(server.requests(), 3);
    let paths: Vec<String> = server.log().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        (1..=3)
            .map(|i| format!("/m/{}", name(i)))
            .collect::<Vec<_>>()
    );
}
