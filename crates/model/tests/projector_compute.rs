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
    assert_eq!(check(""), 46);
}

#[test]
fn projector_compute_equals_llama_cpp_real_widths() {
    assert_eq!(check("real"), 26);
}
