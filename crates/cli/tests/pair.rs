//! `ggufscope pair` and companion files in the other commands: a LoRA adapter, a projector, a
//! control vector and an imatrix written with the project's writer (llama.cpp's key and tensor
//! names: src/llama-adapter.cpp:205-219, tools/mtmd/clip-impl.h:32-60, common/common.cpp:1904,
//! tools/imatrix/imatrix.cpp:603-619), beside real corpus heads.

use ggufscope_gguf::{GgmlType, GgufWriter, OwnedArray, OwnedValue, TensorData, ValueType};
use serde_json::Value;

use crate::snapshot;
use crate::util::Case;

fn bytes(w: GgufWriter<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    w.write(&mut v).unwrap();
    v
}

/// A rank-8 LoRA on `blk.0.attn_q.weight` ([256, 256] in the corpus llama head).
fn lora() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama")
        .add_kv("general.type", "adapter")
        .add_kv("adapter.type", "lora")
        .add_kv("adapter.lora.alpha", 16.0f32);
    w.add_tensor(
        "blk.0.attn_q.weight.lora_a",
        GgmlType::F32,
        &[256, 8],
        TensorData::Zeros,
    );
    w.add_tensor(
        "blk.0.attn_q.weight.lora_b",
        GgmlType::F32,
        &[8, 256],
        TensorData::Zeros,
    );
    bytes(w)
}

/// A pixtral projector whose `mm.2.weight` gives `width` (clip.cpp:5979).
fn projector(width: u64) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "clip")
        .add_kv("clip.projector_type", "pixtral")
        .add_kv("clip.has_vision_encoder", true);
    for (k, v) in [
        ("embedding_length", 64u32),
        ("attention.head_count", 2),
        ("feed_forward_length", 128),
        ("block_count", 2),
        ("projection_dim", 256),
        ("image_size", 224),
        ("patch_size", 14),
    ] {
        w.add_kv(format!("clip.vision.{k}"), v);
    }
    w.add_kv("clip.vision.attention.layer_norm_epsilon", 1e-6f32);
    w.add_tensor(
        "mm.2.weight",
        GgmlType::F32,
        &[1024, width],
        TensorData::Zeros,
    );
    bytes(w)
}

fn cvec(width: u64) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "controlvector")
        .add_kv("controlvector.model_hint", "llama")
        .add_kv("controlvector.layer_count", 1i32);
    w.add_tensor("direction.1", GgmlType::F32, &[width], TensorData::Zeros);
    bytes(w)
}

fn imatrix() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.type", "imatrix")
        .add_kv(
            "imatrix.datasets",
            OwnedValue::Array(OwnedArray {
                element_type: ValueType::String,
                items: vec!["wiki.train.raw".into()],
            }),
        )
        .add_kv("imatrix.chunk_count", 10u32)
        .add_kv("imatrix.chunk_size", 512u32);
    let sums: Vec<u8> = (0..256).flat_map(|_| 1.0f32.to_le_bytes()).collect();
    w.add_tensor(
        "blk.0.attn_q.weight.in_sum2",
        GgmlType::F32,
        &[256, 1],
        TensorData::Bytes(sums),
    );
    w.add_tensor(
        "blk.0.attn_q.weight.counts",
        GgmlType::F32,
        &[1, 1],
        TensorData::Bytes(512.0f32.to_le_bytes().to_vec()),
    );
    bytes(w)
}

/// The corpus head `name` copied into a temporary directory, with `files` beside it.
fn with(name: &str, files: &[(&str, Vec<u8>)]) -> Case {
    let head = std::fs::read(ggufscope_testkit::llama_archs_dir().join(name)).unwrap();
    let case = Case::temp(name, &head);
    for (n, b) in files {
        case.add(n, b);
    }
    case
}

fn json(case: &Case, args: &[&str]) -> (Option<i32>, Value) {
    let out = case.cmd("pair", args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), v)
}

#[test]
fn pair_loads_or_refuses() {
    let files = [
        ("lora.gguf", lora()),
        ("mmproj.gguf", projector(256)),
        ("cvec.gguf", cvec(256)),
        ("imatrix.gguf", imatrix()),
    ];
    let llama = with("llama-dense.gguf", &files);
    let all = [
        "lora.gguf",
        "mmproj.gguf",
        "cvec.gguf",
        "imatrix.gguf",
        "--json",
    ];
    let (code, v) = json(&llama, &all);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true);
    let kinds: Vec<&str> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file_kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["lora_adapter", "projector", "control_vector", "imatrix"]
    );
    // The same files with another architecture's head: the LoRA's architecture differs.
    let qwen2 = with("qwen2-dense.gguf", &files);
    let (code, v) = json(&qwen2, &["lora.gguf", "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["ok"], false);
    assert_eq!(v["findings"][0]["code"], "lora_arch_mismatch");
    assert_eq!(v["findings"][0]["key"], "general.architecture");
    assert_eq!(v["findings"][0]["companion"], "lora.gguf");
    // A projector for a 4096-wide model.
    let wide = with(
        "llama-dense.gguf",
        &[("mmproj.gguf", projector(4096)), ("cvec.gguf", cvec(4096))],
    );
    let (code, v) = json(&wide, &["mmproj.gguf", "cvec.gguf", "--json"]);
    assert_eq!(code, Some(1));
    let found: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["projector_width_mismatch", "cvec_width_mismatch"]);
    assert_eq!(v["findings"][0]["tensor"], "mm.2.weight");
    snapshot!(
        wide,
        "pair_mismatch_text",
        wide.cmd("pair", &["mmproj.gguf", "cvec.gguf"])
    );
}

#[test]
fn pair_draft_and_unreadable() {
    let llama = with(
        "llama-dense.gguf",
        &[("not.gguf", b"not a gguf file".to_vec())],
    );
    let qwen2 = ggufscope_testkit::llama_archs_dir().join("qwen2-dense.gguf");
    let (code, v) = json(&llama, &[qwen2.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["pairs"][0]["role"], "draft model (--model-draft)");
    let phi3 = ggufscope_testkit::real_fixture("ggml-vocab-phi-3.gguf");
    let (code, v) = json(&llama, &[phi3.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["findings"][0]["code"], "draft_vocab_type");
    let out = llama.cmd("pair", &["not.gguf"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn companions_are_not_models_of_an_unknown_architecture() {
    let case = with(
        "llama-dense.gguf",
        &[("lora.gguf", lora()), ("mmproj.gguf", projector(256))],
    );
    let run = |cmd: &str, file: &str, extra: &[&str]| {
        let mut c = crate::util::bin();
        c.current_dir(case.dir()).arg(cmd).arg(file).args(extra);
        c.output().unwrap()
    };
    // config: the kind's own facts, exit 0 (it was read as a llama model before).
    let out = run("config", "lora.gguf", &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file_kind"], "lora_adapter");
    assert_eq!(v["facts"]["rank"], 8);
    assert_eq!(v["facts"]["scale"], 2.0);
    let out = run("config", "mmproj.gguf", &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file_kind"], "projector");
    assert_eq!(v["facts"]["encoders"][0]["projection_width"]["n_embd"], 256);
    assert_eq!(v["facts"]["encoders"][0]["image_size"], 224);
    // inspect says the kind; validate runs the file's own checks, not llama's schema.
    let v: Value =
        serde_json::from_slice(&run("inspect", "lora.gguf", &["--json"]).stdout).unwrap();
    assert_eq!(v["file_kind"], "lora_adapter");
    let out = run("validate", "lora.gguf", &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] != "missing_tensor"),
        "{v}"
    );
    // report: a markdown page about the companion.
    let out = run("report", "mmproj.gguf", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("# mmproj.gguf — projector"));
    // Commands that need a model say what the file is: exit 1, not 3.
    for (cmd, extra) in [
        ("compat", vec![]),
        ("memory", vec![]),
        ("tensors", vec!["--expected"]),
        ("compare", vec!["llama-dense.gguf"]),
        ("llamafy", vec!["-o", "out.gguf"]),
    ] {
        let out = run(cmd, "lora.gguf", &extra);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is a lora_adapter file, not a model"),
            "{cmd}"
        );
    }
}

#[test]
fn memory_adds_the_companions_weights() {
    let case = with(
        "llama-dense.gguf",
        &[("lora.gguf", lora()), ("mmproj.gguf", projector(256))],
    );
    let plain = case
        .cmd("memory", &["--ctx", "512", "--json"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0));
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(plain.get("companions").is_none());
    let out = case
        .cmd(
            "memory",
            &[
                "--ctx",
                "512",
                "--json",
                "--lora",
                "lora.gguf",
                "--mmproj",
                "mmproj.gguf",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // lora_a [256, 8] + lora_b [8, 256] in F32; mm.2.weight [1024, 256] in F32.
    assert_eq!(v["companions"][0]["file"], "mmproj.gguf");
    assert_eq!(v["companions"][0]["weights_bytes"], 1024 * 256 * 4);
    assert_eq!(v["companions"][1]["weights_bytes"], 2 * 256 * 8 * 4);
    assert_eq!(v["total_bytes"], plain["total_bytes"]);
    assert_eq!(
        v["total_with_companions_bytes"].as_u64().unwrap(),
        plain["total_bytes"].as_u64().unwrap() + 1024 * 256 * 4 + 2 * 256 * 8 * 4
    );
}

/// A projector whose encoder graph is modelled adds its compute buffer as `clip_init` reserves
/// it on the CPU (Gemma 3's SigLIP at 896 px: llama.cpp 0c1e570 reserved 127,139,840 bytes with
/// flash attention and 1,186,988,032 without, tests/fixtures/mmproj/real/truth.jsonl).
#[test]
fn memory_adds_the_projector_compute_buffer() {
    let mmproj = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/mmproj/real/gemma3-real.gguf"),
    )
    .unwrap();
    let case = with("gemma3-dense.gguf", &[("mmproj.gguf", mmproj)]);
    for (fa, compute) in [("on", 127_139_840u64), ("off", 1_186_988_032)] {
        let args = [
            "--ctx",
            "512",
            "--json",
            "--flash-attn",
            fa,
            "--mmproj",
            "mmproj.gguf",
        ];
        let out = case.cmd("memory", &args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let c = &v["companions"][0];
        assert_eq!(c["compute_bytes"], compute, "flash attention {fa}");
        assert_eq!(c["compute"]["warmup_image_size"], 896);
        assert_eq!(c["compute"]["n_patches"], 4096);
        assert_eq!(
            v["total_with_companions_bytes"].as_u64().unwrap(),
            v["total_bytes"].as_u64().unwrap() + c["weights_bytes"].as_u64().unwrap() + compute
        );
        let text = case
            .cmd(
                "memory",
                &[
                    "--ctx",
                    "512",
                    "--flash-attn",
                    fa,
                    "--mmproj",
                    "mmproj.gguf",
                ],
            )
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        let mib = compute as f64 / 1024.0 / 1024.0;
        assert!(
            text.contains("(CPU, gemma3 image 896×896, 4096 patches"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{mib:.2} MiB")) || text.contains("1.11 GiB"),
            "{text}"
        );
    }
}

/// A projector whose encoder cannot be built (here: its projection matrix alone, no patch
/// embedding) adds its weights and says why its compute buffer is not included.
#[test]
fn memory_says_why_a_projector_compute_buffer_is_missing() {
    let case = with("llama-dense.gguf", &[("mmproj.gguf", projector(256))]);
    let out = case
        .cmd(
            "memory",
            &["--ctx", "512", "--json", "--mmproj", "mmproj.gguf"],
        )
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["companions"][0];
    assert!(c.get("compute_bytes").is_none());
    assert!(c["compute_unknown"]
        .as_str()
        .unwrap()
        .contains("v.patch_embd.weight missing"));
}
