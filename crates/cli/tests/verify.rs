//! `ggufscope verify`: clean files exit 0; planted NaN/Inf and bad scales, and a tensor cut
//! short, exit 1 with the tensor, the first bad block and the count; unreadable input exits 2;
//! `--hash` prints what llama.cpp's `llama-gguf-hash` printed for the same file (the manifest in
//! `tests/fixtures/verify-hash.manifest`, made by `bench/verify-llama-gguf-hash.sh manifest`),
//! and `--check` reads that manifest.

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, TensorData};
use serde_json::Value;

use crate::httpd::{Mode, Server};
use crate::util::{bin, Case};

#[path = "../../verify/examples/verify_fixture.rs"]
#[allow(dead_code)]
mod fixture;

const MANIFEST: &str = include_str!("fixtures/verify-hash.manifest");

fn json(case: &Case, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = case.cmd("verify", &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code().unwrap(), v)
}

fn fixture_case() -> Case {
    Case::temp(fixture::FILE_NAME, &fixture::build())
}

#[test]
fn a_clean_file_passes() {
    let case = fixture_case();
    let (code, v) = json(&case, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["tensors"].as_array().unwrap().len(), 10);
    let out = case.cmd("verify", &[]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("ok: 10 tensors"), "{text}");
}

#[test]
fn hashes_are_the_lines_llama_gguf_hash_printed() {
    let case = fixture_case();
    let out = case
        .cmd("verify", &["--hash", "all", "--hash", "uuid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let ours: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    let theirs: Vec<&str> = MANIFEST.lines().collect();
    assert_eq!(ours, theirs);
    // JSON: tensors: [{name, <algorithm>: hex}] and the model's.
    let (_, v) = json(&case, &["--hash", "xxh64,sha256"]);
    let line = MANIFEST
        .lines()
        .find(|l| l.starts_with("sha256") && l.ends_with(":blk.0.ffn_up.weight"))
        .unwrap();
    let hash = line.split_whitespace().nth(1).unwrap();
    let t = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "blk.0.ffn_up.weight")
        .unwrap();
    assert_eq!(t["sha256"], hash);
    let model = MANIFEST
        .lines()
        .find(|l| l.starts_with("xxh64") && l.ends_with(" verify-hash.gguf"))
        .unwrap();
    assert_eq!(
        v["model"]["xxh64"],
        model.split_whitespace().nth(1).unwrap()
    );
}

#[test]
fn check_reads_llama_gguf_hash_manifests() {
    let case = fixture_case();
    case.add("m.txt", MANIFEST.as_bytes());
    // Without --hash: the strongest hash of the manifest (sha256), as llama-gguf-hash picks.
    let (code, v) = json(&case, &["--check", "m.txt"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["check"]["outcome"], "success");
    let checked = v["check"]["checked"].as_array().unwrap();
    assert_eq!(checked.len(), 11);
    assert!(checked
        .iter()
        .all(|c| c["algorithm"] == "sha256" && c["verdict"] == "ok"));
    // uuid and xxh64 too.
    let (code, v) = json(&case, &["--check", "m.txt", "--hash", "uuid,xxh64"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["check"]["checked"].as_array().unwrap().len(), 12);
    // The manifest made for another path still checks (matched by tensor name).
    let moved = MANIFEST.replace("verify-hash.gguf", "/elsewhere/model.gguf");
    case.add("moved.txt", moved.as_bytes());
    let (code, v) = json(&case, &["--check", "moved.txt"]);
    assert_eq!((code, &v["check"]["outcome"]), (0, &Value::from("success")));
    // One changed hash: exit 1, that tensor named.
    let line = MANIFEST
        .lines()
        .find(|l| l.starts_with("sha1") && l.ends_with(":blk.0.attn_k.weight"))
        .unwrap();
    let hash = line.split_whitespace().nth(1).unwrap();
    let bad = MANIFEST.replace(hash, &"0".repeat(40));
    case.add("bad.txt", bad.as_bytes());
    let out = case
        .cmd("verify", &["--check", "bad.txt", "--hash", "sha1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("verify-hash.gguf:blk.0.attn_k.weight  -  Mismatch"),
        "{text}"
    );
    assert!(text.contains("Mismatch (1 hashes differ)"), "{text}");
    // A manifest of another file: missing entries, exit 1; no known hash: exit 2.
    case.add("other.txt", b"xxh64     0123456789abcdef  other.gguf:x\n");
    let (code, v) = json(&case, &["--check", "other.txt"]);
    assert_eq!(
        (code, &v["check"]["outcome"]),
        (1, &Value::from("missing_entry"))
    );
    case.add("junk.txt", b"hello world\n");
    let out = case
        .cmd("verify", &["--check", "junk.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn write(tensors: Vec<(&str, GgmlType, Vec<u64>, Vec<u8>)>) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama");
    for (name, t, dims, data) in tensors {
        w.add_tensor(name, t, &dims, TensorData::Bytes(data));
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

#[test]
fn planted_defects_are_found_and_located() {
    let mut rng = fixture::Rng(21);
    let mut f32_data = fixture::clean_data(GgmlType::F32, 64, &mut rng);
    f32_data[4 * 37..4 * 38].copy_from_slice(&f32::NAN.to_le_bytes());
    let mut f16_data = fixture::clean_data(GgmlType::F16, 64, &mut rng);
    f16_data[2 * 50..2 * 51].copy_from_slice(&0x7c00u16.to_le_bytes());
    let mut bf16_data = fixture::clean_data(GgmlType::BF16, 64, &mut rng);
    bf16_data[2 * 3..2 * 4].copy_from_slice(&0xff80u16.to_le_bytes());
    let mut q4k = fixture::clean_data(GgmlType::Q4_K, 6, &mut rng);
    // dmin of block 4 (row 2 of rows of 2 blocks).
    q4k[144 * 4 + 2..144 * 4 + 4].copy_from_slice(&0x7e00u16.to_le_bytes());
    let mut q6k = fixture::clean_data(GgmlType::Q6_K, 4, &mut rng);
    for block in [1, 3] {
        q6k[210 * block + 208..210 * block + 210].copy_from_slice(&0xfc00u16.to_le_bytes());
    }
    let mut q8 = fixture::clean_data(GgmlType::Q8_0, 8, &mut rng);
    q8[34 * 7..34 * 7 + 2].copy_from_slice(&0x7c01u16.to_le_bytes());
    let bytes = write(vec![
        ("f32", GgmlType::F32, vec![16, 4], f32_data),
        ("f16", GgmlType::F16, vec![16, 4], f16_data),
        ("bf16", GgmlType::BF16, vec![16, 4], bf16_data),
        ("q4k", GgmlType::Q4_K, vec![512, 3], q4k),
        ("q6k", GgmlType::Q6_K, vec![256, 4], q6k),
        ("q8", GgmlType::Q8_0, vec![64, 4], q8),
        (
            "clean",
            GgmlType::Q4_0,
            vec![64, 2],
            fixture::clean_data(GgmlType::Q4_0, 4, &mut rng),
        ),
    ]);
    let case = Case::temp("bad.gguf", &bytes);
    let (code, v) = json(&case, &[]);
    assert_eq!(code, 1, "{v}");
    let found: Vec<(String, String, u64, u64, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["tensor"].as_str().unwrap().to_owned(),
                f["defect"].as_str().unwrap().to_owned(),
                f["first"].as_u64().unwrap(),
                f["row"].as_u64().unwrap(),
                f["count"].as_u64().unwrap(),
                f["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("f32", "nan", 37, 2, 1, "value"),
        ("f16", "inf", 50, 3, 1, "value"),
        ("bf16", "inf", 3, 0, 1, "value"),
        ("q4k", "nan", 4, 2, 1, "dmin"),
        ("q6k", "inf", 1, 1, 2, "d"),
        ("q8", "nan", 7, 3, 1, "d"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(t, d, f, r, c, field)| (t.to_string(), d.to_string(), *f, *r, *c, field.to_string()))
        .collect();
    assert_eq!(found, want);
    let text = String::from_utf8(case.cmd("verify", &[]).output().unwrap().stdout).unwrap();
    assert!(
        text.contains("q6_K  values: scale `d` infinity (0xfc00) at block 1 (row 1); 2 bad blocks (ggml/src/ggml-quants.c:5557-5560, ggml/src/ggml-common.h:362-367)"),
        "{text}"
    );
    assert!(text.contains("6 findings in 6 tensors"), "{text}");
}

#[test]
fn a_tensor_cut_short_is_found() {
    let bytes = fixture::build();
    let g = Gguf::parse(&bytes).unwrap();
    let last = g.tensors().last().unwrap();
    let start = (g.data_offset() + last.offset()) as usize;
    let case = Case::temp("cut.gguf", &bytes[..start + 100]);
    let (code, v) = json(&case, &["--hash", "xxh64"]);
    assert_eq!(code, 1);
    let f = &v["findings"][0];
    assert_eq!(f["tensor"], "output.weight");
    assert_eq!(f["code"], "truncated");
    assert_eq!(f["present"], 100);
    assert_eq!(f["needed"], 168);
    assert_eq!(v["model"]["xxh64"], Value::Null);
}

#[test]
fn unreadable_input_is_exit_2() {
    let case = Case::temp("junk.gguf", b"not a gguf file at all");
    let out = case.cmd("verify", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let case = Case::absent("missing.gguf");
    let out = case.cmd("verify", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let case = fixture_case();
    let out = case.cmd("verify", &["--tensor", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tensor named `nope`"));
}

#[test]
fn remote_files_need_tensor_and_then_read_only_its_range() {
    let mut rng = fixture::Rng(4);
    let mut bad = fixture::clean_data(GgmlType::Q8_0, 1000, &mut rng);
    bad[34 * 999..34 * 999 + 2].copy_from_slice(&0x7c00u16.to_le_bytes());
    let bytes = write(vec![
        (
            "big",
            GgmlType::F32,
            vec![1024, 1024],
            fixture::clean_data(GgmlType::F32, 1024 * 1024, &mut rng),
        ),
        ("bad", GgmlType::Q8_0, vec![32 * 1000], bad),
    ]);
    let server = Server::start(Mode::Range, vec![("/m.gguf".to_owned(), bytes.clone())]);
    let url = server.url("m.gguf");
    let out = bin().args(["verify", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass --tensor NAME"), "{stderr}");
    let out = bin()
        .args([
            "verify", &url, "--json", "--tensor", "bad", "--hash", "xxh64",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["tensor"], "bad");
    assert_eq!(v["findings"][0]["first"], 999);
    // The same hash as the local file's; the head's first read (1 MiB) and the tensor's range,
    // not the file's 4 MiB.
    let case = Case::temp("m.gguf", &bytes);
    let (_, local) = json(&case, &["--tensor", "bad", "--hash", "xxh64"]);
    assert_eq!(v["tensors"][0]["xxh64"], local["tensors"][0]["xxh64"]);
    assert_eq!(v["tensors"][0]["offset"], local["tensors"][0]["offset"]);
    assert!(
        server.body_bytes() < (1 << 20) + 100_000,
        "{}",
        server.body_bytes()
    );
}
