//! `ggufscope memory`: the plan on a built file and a vocab-only fixture, `--gpu-mem`, the
//! JSON keys the issue asks for, and architectures planned from the table alone (llama.cpp's
//! corpus heads in `tests/fixtures/llama-archs/`).

use ggufscope_testkit::presets;

use crate::snapshot;
use crate::util::Case;

#[test]
fn memory_of_a_tiny_model() {
    let case = Case::temp("tiny-llama.gguf", &presets::tiny_llama().to_bytes());
    snapshot!(
        case,
        "tiny_llama_text",
        case.cmd("memory", &["--ctx", "1000"])
    );
    snapshot!(
        case,
        "tiny_llama_gpu",
        case.cmd(
            "memory",
            &["--ctx", "512", "--gpu-mem", "1400KiB", "--gpu-mem", "8MiB"]
        )
    );
}

#[test]
fn memory_json_has_every_term() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case
        .cmd("memory", &["--ctx", "4096", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "weights_bytes",
        "kv_cache_bytes",
        "recurrent_state_bytes",
        "compute_bytes",
        "total_bytes",
        "output_bytes",
        "layers",
        "weights_by_type",
        "compute_formula",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["weights_estimated"], true, "vocab-only: an estimate");
    // 32 layers x 4096 x 3072 x 2 bytes x (K + V): llama.cpp's 1536 MiB.
    assert_eq!(v["kv_cache_bytes"], 1_610_612_736u64);
    assert_eq!(v["output_bytes"], 32064 * 4);
}

#[test]
fn memory_refuses_an_unknown_cache_type_and_unsupported_architectures() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case.cmd("memory", &["--kv-type", "q5_9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // An architecture neither a spec nor the table holds.
    let mut m = presets::tiny_llama();
    m.set_kv("general.architecture", "nonesuch");
    let unknown = Case::temp("nonesuch.gguf", &m.to_bytes());
    let out = unknown.cmd("memory", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// `docs/memory.schema.json`, compiled (JSON Schema draft 2020-12, by `boon`).
struct MemorySchema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl MemorySchema {
    fn load() -> Self {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/memory.schema.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        let url = "file:///ggufscope/docs/memory.schema.json";
        compiler.add_resource(url, value).unwrap();
        let index = compiler.compile(url, &mut schemas).unwrap();
        Self { schemas, index }
    }

    /// Asserts that `v` is valid, and the sums the schema cannot say: each device's total is
    /// its parts, the plan's totals are the devices', the plan's compute every device's.
    fn check(&self, v: &serde_json::Value, what: &str) {
        if let Err(e) = self.schemas.validate(v, self.index) {
            panic!("{what}: memory --json does not meet docs/memory.schema.json: {e:#}");
        }
        check_sums(v, what);
        for (i, point) in v["curve"].as_array().into_iter().flatten().enumerate() {
            check_sums(point, &format!("{what}, curve[{i}]"));
        }
    }
}

fn check_sums(v: &serde_json::Value, what: &str) {
    let u = |d: &serde_json::Value, k: &str| d[k].as_u64().unwrap_or_else(|| panic!("{what}: {k}"));
    let devices = v["devices"].as_array().unwrap();
    for d in devices {
        let parts = [
            "weights_bytes",
            "kv_cache_bytes",
            "recurrent_state_bytes",
            "compute_bytes",
            "output_bytes",
            "overhead_bytes",
        ]
        .iter()
        .map(|k| u(d, k))
        .sum::<u64>();
        assert_eq!(u(d, "total_bytes"), parts, "{what}: device {}", d["name"]);
        if let Some(budget) = d["budget_bytes"].as_u64() {
            assert_eq!(
                d["fits"],
                u(d, "total_bytes") <= budget,
                "{what}: {}",
                d["name"]
            );
        }
    }
    for key in ["total_bytes", "compute_bytes"] {
        let sum: u64 = devices.iter().map(|d| u(d, key)).sum();
        assert_eq!(u(v, key), sum, "{what}: {key} is the devices' sum");
    }
}

fn json(case: &Case, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = case.cmd("memory", &args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_slice(&out.stdout).unwrap();
    MemorySchema::load().check(&v, &format!("memory {extra:?}"));
    v
}

/// Every file of llama.cpp's test corpus under several option sets (CPU, CUDA, partial
/// offload, two GPUs, experts on the host, a tensor split): each `memory --json` meets the
/// schema and its sums hold.
#[test]
fn memory_json_meets_the_schema_on_the_corpus() {
    let schema = MemorySchema::load();
    let sets: &[&[&str]] = &[
        &["--ctx", "512"],
        &["--ctx", "4096", "--backend", "cuda"],
        &["--ctx", "4096", "--ngl", "1"],
        &["--ctx", "4096", "--gpu-mem", "24G,8G"],
        &["--ctx", "4096", "--gpu-mem", "24G", "--n-cpu-moe", "1"],
        &[
            "--ctx",
            "4096",
            "--gpu-mem",
            "1G,1G",
            "--tensor-split",
            "3,1",
            "--no-kv-offload",
        ],
    ];
    let files = ggufscope_testkit::llama_archs_files();
    assert_eq!(files.len(), 128);
    let mut checked = 0;
    for file in &files {
        let case = Case::at(file);
        for set in sets {
            let mut args = vec!["--json"];
            args.extend_from_slice(set);
            let out = case.cmd("memory", &args).output().unwrap();
            let what = format!("{} {set:?}", file.display());
            assert_eq!(
                out.status.code(),
                Some(0),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            schema.check(&v, &what);
            checked += 1;
        }
    }
    assert_eq!(checked, 128 * sets.len());
}

/// The schema refuses what it should: a missing key, a device of an unknown kind, a
/// negative size, another schema version.
#[test]
fn memory_schema_refuses_wrong_shapes() {
    let schema = MemorySchema::load();
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case
        .cmd("memory", &["--json", "--ctx", "512"])
        .output()
        .unwrap();
    let good: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema.schemas.validate(&good, schema.index).is_ok());
    let bad = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        schema.schemas.validate(&v, schema.index).is_err()
    };
    assert!(bad(&|v| {
        v.as_object_mut().unwrap().remove("kv_cache_bytes");
    }));
    assert!(bad(&|v| v["devices"][0]["kind"] = "gpu".into()));
    assert!(bad(&|v| v["devices"][0]["weights_bytes"] = (-1).into()));
    assert!(bad(&|v| v["schema_version"] = 2.into()));
    assert!(bad(&|v| v["devices"] = serde_json::json!([])));
}

/// Encoders get no KV cache from llama.cpp (`src/llama-model.cpp:2358-2374`): bert, read by the
/// table, is planned with none.
#[test]
fn memory_of_an_encoder_has_no_cache() {
    let bert = Case::fixture("ggml-vocab-bert-bge.gguf");
    let v = json(&bert, &["--ctx", "512"]);
    assert_eq!(v["memory_class"], "none");
    assert_eq!(v["kv_cache_bytes"], 0);
    assert_eq!(v["recurrent_state_bytes"], 0);
    assert_eq!(v["weights_estimated"], true);
}

/// Every table architecture is planned; the figures are llama.cpp's (`llama-truth.json`, the
/// whole corpus is checked in the model crate's `memory_corpus` test).
#[test]
fn memory_of_table_architectures() {
    let dir = ggufscope_testkit::llama_archs_dir();
    // jamba: hybrid, KV on its attention layer, R and S on its Mamba layer. llama.cpp:
    // `KV buffer size = 4.00 MiB`, `RS buffer size = 0.26 MiB`, model_size 6061160.
    let jamba = Case::at(&dir.join("jamba-dense.gguf"));
    let v = json(&jamba, &["--ctx", "4096"]);
    assert_eq!(v["memory_class"], "memory_hybrid");
    assert_eq!(v["weights_bytes"], 6_061_160u64);
    assert_eq!(v["kv_cache_bytes"], 4u64 << 20);
    assert_eq!(v["recurrent_state_bytes"], 268_288u64);
    assert_eq!(v["output_bytes"], 128 * 4);
    let total = [
        "weights_bytes",
        "kv_cache_bytes",
        "recurrent_state_bytes",
        "output_bytes",
    ]
    .iter()
    .map(|k| v[k].as_u64().unwrap())
    .sum::<u64>()
        + v["compute_bytes"].as_u64().unwrap();
    assert_eq!(v["total_bytes"], total);
    // mamba: recurrent only.
    let mamba = Case::at(&dir.join("mamba-dense.gguf"));
    let v = json(&mamba, &["--ctx", "4096"]);
    assert_eq!(v["memory_class"], "memory_recurrent");
    assert_eq!(v["kv_cache_bytes"], 0);
    assert!(v["recurrent_state_bytes"].as_u64().unwrap() > 0);
    // gemma3: iSWA, the sliding cache sized by the window unless --swa-full.
    let gemma3 = Case::at(&dir.join("gemma3-dense.gguf"));
    let full = json(&gemma3, &["--ctx", "4096", "--swa-full"]);
    assert_eq!(full["kv_cache_bytes"], 8u64 << 20);
    let windowed = json(&gemma3, &["--ctx", "4096"]);
    assert!(windowed["kv_cache_bytes"].as_u64() < full["kv_cache_bytes"].as_u64());
    snapshot!(jamba, "jamba_text", jamba.cmd("memory", &["--ctx", "4096"]));
}

/// `--plot FILE.svg`: a well-formed SVG with one line per device in each chart, whose numbers
/// (in `<desc>`) are the plans' totals: by context, each point is `memory --ctx N`'s device
/// totals; by layers, each point is `--ngl N`'s.
#[test]
fn memory_plot_is_an_svg_of_the_plan() {
    let dir = ggufscope_testkit::llama_archs_dir();
    let case = Case::at(&dir.join("llama-dense.gguf"));
    let tmp = tempfile::TempDir::new().unwrap();
    let svg_path = tmp.path().join("plot.svg");
    let args = [
        "--ctx",
        "4096",
        "--gpu-mem",
        "24G",
        "--plot",
        svg_path.to_str().unwrap(),
    ];
    let v = json(&case, &args);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let desc = root
        .descendants()
        .find(|n| n.tag_name().name() == "desc")
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(desc.text().unwrap()).unwrap();
    // Two devices, both charts.
    let names = |k: &str| -> Vec<String> {
        data[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["device"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("by_context"), ["CPU", "CUDA0"]);
    assert_eq!(names("by_layers"), ["CPU", "CUDA0"]);
    // One polyline per line drawn (plus the legend's samples).
    let lines = root
        .descendants()
        .filter(|n| n.tag_name().name() == "polyline")
        .count();
    assert!(lines >= 4, "{lines} polylines");
    // Text is drawn as SVG <text> (no font feature): titles, axes and each device's legend.
    let texts: Vec<&str> = root
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for want in [
        "llama-dense.gguf: memory per device",
        "n_gpu_layers",
        "CPU",
        "CUDA0",
    ] {
        assert!(texts.contains(&want), "{want} in {texts:?}");
    }
    // Contexts 512, 1024, 2048, 4096; each point is the plan at that context.
    let ctx_points = data["by_context"][1]["points"].as_array().unwrap();
    let ctxs: Vec<u64> = ctx_points.iter().map(|p| p[0].as_u64().unwrap()).collect();
    assert_eq!(ctxs, [512, 1024, 2048, 4096]);
    for (i, dev) in ["CPU", "CUDA0"].iter().enumerate() {
        for p in data["by_context"][i]["points"].as_array().unwrap() {
            let ctx = p[0].as_u64().unwrap().to_string();
            let plan = json(&case, &["--ctx", &ctx, "--gpu-mem", "24G"]);
            assert_eq!(plan["devices"][i]["name"], *dev);
            assert_eq!(
                p[1], plan["devices"][i]["total_bytes"],
                "{dev} at n_ctx {ctx}"
            );
        }
        let layers = data["by_layers"][i]["points"].as_array().unwrap();
        assert_eq!(layers.len(), 4, "-ngl 0..=3");
        for p in layers {
            let ngl = p[0].as_u64().unwrap().to_string();
            let plan = json(&case, &["--ctx", "4096", "--gpu-mem", "24G", "--ngl", &ngl]);
            assert_eq!(
                p[1], plan["devices"][i]["total_bytes"],
                "{dev} at -ngl {ngl}"
            );
        }
    }
    // The plot's last context point is the plan printed with it.
    assert_eq!(
        ctx_points.last().unwrap()[1],
        v["devices"][1]["total_bytes"]
    );
}

/// `report --plot-dir DIR`: the SVG is written there and the markdown embeds it.
#[test]
fn report_embeds_the_memory_plot() {
    let dir = ggufscope_testkit::llama_archs_dir();
    let case = Case::at(&dir.join("llama-dense.gguf"));
    let tmp = tempfile::TempDir::new().unwrap();
    let plots = tmp.path().join("plots");
    let out = case
        .cmd("report", &["--plot-dir", plots.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    let svg = plots.join("llama-dense.gguf.memory.svg");
    assert!(md.contains("## Memory plot"), "{md}");
    assert!(
        md.contains(&format!("![memory per device]({})", svg.display())),
        "{md}"
    );
    roxmltree::Document::parse(&std::fs::read_to_string(&svg).unwrap()).unwrap();
}

/// `-ctk`/`-ctv` of every llama.cpp cache type, apart or together, and the contexts llama.cpp
/// refuses to create (exit 1 with its reason); `--kv-unified`.
#[test]
fn memory_cache_types_and_refused_contexts() {
    let llama = Case::at(&ggufscope_testkit::llama_archs_dir().join("llama-dense.gguf"));
    let v = json(
        &llama,
        &["--ctx", "4096", "--ctk", "q4_1", "--cache-type-v", "iq4_nl"],
    );
    assert_eq!(v["options"]["kv_type"], "q4_1/iq4_nl");
    assert_eq!(v["options"]["cache_type_k"], "q4_1");
    assert_eq!(v["options"]["cache_type_v"], "iq4_nl");
    // Two layers of 4096 cells, 256-wide rows: 8 blocks of 20 bytes (q4_1) and of 18 bytes
    // (iq4_nl): llama.cpp's `K (q4_1): 1.25 MiB, V (iq4_nl): 1.12 MiB`.
    assert_eq!(v["kv_cache_bytes"], 2 * 4096 * 8 * (20 + 18));
    let v = json(&llama, &["--ctx", "4096", "--kv-type", "q5_1"]);
    assert_eq!(v["kv_cache_bytes"], 2 * 2 * 4096 * 8 * 24);
    let v = json(
        &llama,
        &["--kv-unified", "--parallel", "4", "--ctx", "4096"],
    );
    assert_eq!(v["options"]["kv_unified"], true);

    let refused = |case: &Case, args: &[&str], why: &str| {
        let out = case.cmd("memory", args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    };
    refused(
        &llama,
        &["--kv-type", "q8_0", "--flash-attn", "off"],
        "quantized V cache requires flash_attn to be enabled",
    );
    let mla = Case::at(&ggufscope_testkit::llama_archs_dir().join("deepseek2-moe.gguf"));
    refused(
        &mla,
        &["--ctk", "q8_0", "--ctv", "f16"],
        "model does not support different K (q8_0) and V (f16) cache types",
    );
    let head48 = Case::temp(
        "llama-head48-dense.gguf",
        &ggufscope_testkit::read_fixture(
            &ggufscope_testkit::fixtures_dir().join("cache-types/llama-head48-dense.gguf.gz"),
        ),
    );
    refused(
        &head48,
        &["--ctk", "q4_0"],
        "K cache type q4_0 with block size 32 does not divide n_embd_head_k=48",
    );
}

/// With companions the output still meets the schema: a projector whose compute buffer is
/// modelled (Gemma 3's, a fixture head), one whose is not (keys but no encoder tensors), and
/// the total with companions is the plan's plus their weights and compute buffers.
#[test]
fn memory_json_with_companions_meets_the_schema() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let case = Case::temp(
        "gemma3-dense.gguf",
        &std::fs::read(fixtures.join("llama-archs/gemma3-dense.gguf")).unwrap(),
    );
    case.add(
        "mmproj.gguf",
        &std::fs::read(fixtures.join("mmproj/real/gemma3-real.gguf")).unwrap(),
    );
    let mut w = ggufscope_gguf::GgufWriter::new();
    w.add_kv("general.architecture", "clip")
        .add_kv("clip.projector_type", "gemma3")
        .add_kv("clip.has_vision_encoder", true);
    case.add("bare.gguf", &w.encode_head().unwrap());
    for mmproj in ["mmproj.gguf", "bare.gguf"] {
        let v = json(&case, &["--ctx", "512", "--mmproj", mmproj]);
        let c = &v["companions"][0];
        let extra = c["weights_bytes"].as_u64().unwrap() + c["compute_bytes"].as_u64().unwrap_or(0);
        assert_eq!(
            v["total_with_companions_bytes"].as_u64().unwrap(),
            v["total_bytes"].as_u64().unwrap() + extra
        );
        assert_eq!(c["compute_bytes"].is_u64(), mmproj == "mmproj.gguf");
        assert_eq!(c["compute_unknown"].is_string(), mmproj == "bare.gguf");
    }
}
