//! The projector's compute buffer against what llama.cpp 0c1e570's `clip_init` reserved on the
//! CPU for the same files (`tests/fixtures/mmproj/truth.jsonl` and `real/truth.jsonl`, made by
//! tools/mmproj-ref/make-set.sh; the files are cut to their heads).

use std::path::{Path, PathBuf};

use ggufscope_gguf::{Gguf, ParseOptions};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mmproj")
}

struct Truth {
    file: PathBuf,
    flash_attn: bool,
    projector_type: String,
    warmup_image_size: u64,
    compute_bytes: u64,
}

fn truth(sub: &str) -> Vec<Truth> {
    let d = dir().join(sub);
    std::fs::read_to_string(d.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Truth {
                file: d.join(v["file"].as_str().unwrap().rsplit('/').next().unwrap()),
                flash_attn: v["flash_attn"] == "on",
                projector_type: v["projector_type"].as_str().unwrap().to_owned(),
                warmup_image_size: v["warmup_image_size"].as_u64().unwrap(),
                compute_bytes: v["compute_bytes"].as_u64().unwrap(),
            }
        })
        .collect()
}

/// Every file whose projector type has its graph modelled: the bytes llama.cpp reserved,
/// exactly; the others: a reason, never a number.
fn check(sub: &str) -> usize {
    let mut equal = 0;
    let mut report = Vec::new();
    for t in truth(sub) {
        let bytes = std::fs::read(&t.file).unwrap();
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        match ggufscope_model::projector_compute(&g, t.flash_attn) {
            Ok(c) => {
                assert_eq!(c.projector_type, t.projector_type);
                assert_eq!(
                    c.warmup_image_size,
                    t.warmup_image_size,
                    "{}",
                    t.file.display()
                );
                if c.compute_bytes == t.compute_bytes {
                    equal += 1;
                } else {
                    report.push(format!(
                        "{} fa {}: {} against llama.cpp's {} ({:.3} ×)",
                        t.file.display(),
                        t.flash_attn,
                        c.compute_bytes,
                        t.compute_bytes,
                        c.compute_bytes as f64 / t.compute_bytes as f64
                    ));
                }
            }
            Err(why) => assert!(why.contains("not modelled"), "{}: {why}", t.file.display()),
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
    equal
}

#[test]
fn projector_compute_equals_llama_cpp_tiny() {
    assert_eq!(check(""), 82);
}

#[test]
fn projector_compute_equals_llama_cpp_real_widths() {
    assert_eq!(check("real"), 44);
}

/// A copy of `g` with `key` set to `value` (every other key and every tensor info kept; the
/// tensor data is zeros).
fn with_kv(g: &Gguf<'_>, key: &str, value: u64) -> Vec<u8> {
    let mut w = ggufscope_gguf::GgufWriter::new();
    for kv in g.metadata().iter() {
        if kv.key().as_bytes() != key.as_bytes() {
            w.add_kv(kv.key().as_bytes(), kv.value().to_owned_value());
        }
    }
    w.add_kv(key, value);
    for t in g.tensors() {
        w.add_tensor(
            t.name(),
            t.ggml_type(),
            t.dims(),
            ggufscope_gguf::TensorData::Zeros,
        );
    }
    w.encode_head().unwrap()
}

/// Extreme header values never panic (the tests run with overflow checks): every size key of
/// every fixture at 0, 1, 7, 2^16, 2^32 - 1 and 2^63 - 1 (as u64) gives a figure or a reason.
#[test]
fn projector_compute_survives_hostile_sizes() {
    let keys = [
        "clip.vision.embedding_length",
        "clip.vision.attention.head_count",
        "clip.vision.attention.head_count_kv",
        "clip.vision.attention.head_dim",
        "clip.vision.block_count",
        "clip.vision.image_size",
        "clip.vision.patch_size",
        "clip.vision.projector.scale_factor",
        "clip.vision.spatial_merge_size",
        "clip.vision.n_wa_pattern",
        "clip.vision.window_size",
    ];
    let mut answered = 0;
    for sub in ["", "real"] {
        for t in truth(sub).iter().filter(|t| !t.flash_attn) {
            let bytes = std::fs::read(&t.file).unwrap();
            let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
            for key in keys {
                for value in [0, 1, 7, 1 << 16, u64::from(u32::MAX), i64::MAX as u64] {
                    let head = with_kv(&g, key, value);
                    let h = Gguf::parse_with(&head, ParseOptions::lenient()).unwrap();
                    for fa in [false, true] {
                        let _ = ggufscope_model::projector_compute(&h, fa);
                        answered += 1;
                    }
                }
            }
        }
    }
    assert!(answered > 1000);
}

/// Files of the old converters name fc1 `ffn_down` and fc2 `ffn_up`; for the types clip.cpp
/// lists (Qwen2-VL and Qwen2.5-VL among them) it swaps them back (clip.cpp:2333-2365), so the
/// buffer is the same as the correctly named file's: llama.cpp's figure for it.
#[test]
fn legacy_ffn_names_are_swapped_back() {
    for t in truth("real")
        .into_iter()
        .filter(|t| t.projector_type.starts_with("qwen2"))
    {
        let bytes = std::fs::read(&t.file).unwrap();
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let mut w = ggufscope_gguf::GgufWriter::new();
        for kv in g.metadata().iter() {
            w.add_kv(kv.key().as_bytes(), kv.value().to_owned_value());
        }
        let mut swapped = 0;
        for ti in g.tensors() {
            let name = ti.name();
            let renamed = if name.contains(".ffn_up.") {
                swapped += 1;
                name.replace(".ffn_up.", ".ffn_down.")
            } else {
                name.replace(".ffn_down.", ".ffn_up.")
            };
            w.add_tensor(
                &renamed,
                ti.ggml_type(),
                ti.dims(),
                ggufscope_gguf::TensorData::Zeros,
            );
        }
        assert!(swapped > 0);
        let head = w.encode_head().unwrap();
        let h = Gguf::parse_with(&head, ParseOptions::lenient()).unwrap();
        let c = ggufscope_model::projector_compute(&h, t.flash_attn).unwrap();
        assert_eq!(c.compute_bytes, t.compute_bytes, "{}", t.file.display());
    }
}

/// Hostile tensor shapes never panic either: every tensor of every fixture, one at a time, with
/// its last dimension at 2^40 (a header may declare it; the data need not exist), and the image
/// at its largest (65536 px, 1-px patches), gives a figure or a reason.
#[test]
fn projector_compute_survives_hostile_shapes() {
    let mut answered = 0;
    for sub in ["", "real"] {
        for t in truth(sub).iter().filter(|t| !t.flash_attn) {
            let bytes = std::fs::read(&t.file).unwrap();
            let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
            for victim in g.tensors() {
                let mut w = ggufscope_gguf::GgufWriter::new();
                for kv in g.metadata().iter() {
                    let k = kv.key().as_bytes();
                    if k != b"clip.vision.image_size" && k != b"clip.vision.patch_size" {
                        w.add_kv(k, kv.value().to_owned_value());
                    }
                }
                w.add_kv("clip.vision.image_size", 65536u32);
                w.add_kv("clip.vision.patch_size", 1u32);
                for ti in g.tensors() {
                    let mut dims = ti.dims().to_vec();
                    if ti.name() == victim.name() {
                        if let Some(last) = dims.last_mut() {
                            *last = 1 << 40;
                        }
                    }
                    w.add_tensor(
                        ti.name(),
                        ti.ggml_type(),
                        &dims,
                        ggufscope_gguf::TensorData::Zeros,
                    );
                }
                let Ok(head) = w.encode_head() else { continue };
                let Ok(h) = Gguf::parse_with(&head, ParseOptions::lenient()) else {
                    continue;
                };
                let _ = ggufscope_model::projector_compute(&h, false);
                answered += 1;
            }
        }
    }
    assert!(answered > 1000, "{answered}");
}
