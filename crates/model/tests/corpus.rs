//! llama.cpp's own per-architecture corpus (`tests/fixtures/llama-archs/`, the heads of the 128
//! models `tests/test-llama-archs.cpp` writes at llama.cpp 0c1e570): the architecture table must
//! accept every file exactly as llama.cpp's loader did, read the hyper-parameters llama.cpp
//! printed (`llama-truth.json`, `print_info`), and find planted defects as llama.cpp would.

use std::collections::BTreeMap;
use std::path::Path;

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, ParseOptions, TensorData};
use ggufscope_model::table::{self, Loaded, TensorMode};
use ggufscope_model::ArchFacts;
use ggufscope_testkit::{llama_archs_dir, llama_archs_files};
use serde_json::Value as J;

/// Corpus files the table cannot yet run as llama.cpp does, each with the reason. A test
/// asserts that exactly these differ, so a fix (or a new gap) shows.
const KNOWN_GAPS: &[(&str, &str)] = &[];

fn known_gap(file: &str) -> bool {
    KNOWN_GAPS.iter().any(|(f, _)| *f == file)
}

fn truth() -> J {
    let text = std::fs::read_to_string(llama_archs_dir().join("llama-truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn arch_of(g: &Gguf<'_>) -> String {
    g.metadata()
        .get_str("general.architecture")
        .unwrap()
        .unwrap()
        .to_string()
}

fn run(bytes: &[u8]) -> (String, Loaded) {
    let g = Gguf::parse_with(bytes, ParseOptions::lenient()).unwrap();
    let arch = arch_of(&g);
    let l = table::load(&g, &arch, TensorMode::File).unwrap();
    (arch, l)
}

/// llama.cpp's `print_f`: one value, or the per-layer list when the layers differ.
fn printed(values: &[i64]) -> String {
    match values.first() {
        Some(first) if values.iter().all(|v| v == first) => first.to_string(),
        _ => format!(
            "[{}]",
            values
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn every_corpus_file_loads_and_reads_as_llama_cpp_printed() {
    let truth = truth();
    let mut failures = BTreeMap::new();
    let files = llama_archs_files();
    assert_eq!(files.len(), 128);
    for path in &files {
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let t = &truth["n_ctx_4096"][&file];
        let info = &t["print_info"];
        let bytes = std::fs::read(path).unwrap();
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = arch_of(&g);
        let mut errs = Vec::new();
        match table::load(&g, &arch, TensorMode::File) {
            Err(e) => errs.push(format!("load: {e}")),
            Ok(l) => {
                if let Some(r) = &l.hparams_refusal {
                    errs.push(format!("hparams refused: {} ({})", r.message, r.source));
                }
                if let Some(r) = &l.tensors_refusal {
                    errs.push(format!("tensors refused: {} ({})", r.message, r.source));
                }
                for p in &l.problems {
                    errs.push(format!("{}: {}", p.code, p.message));
                }
                if !l.unexpected.is_empty() {
                    errs.push(format!("unexpected tensors: {:?}", l.unexpected));
                }
                if l.hparams_refusal.is_none() {
                    let facts = ArchFacts::from_loaded(&g, &l);
                    let ours: [(&str, String); 9] = [
                        ("n_embd", facts.embedding_length.to_string()),
                        ("n_layer", facts.block_count.to_string()),
                        ("n_head", printed(&facts.head_count.0)),
                        ("n_head_kv", printed(&facts.head_count_kv.0)),
                        ("n_ff", printed(&facts.feed_forward_length.0)),
                        ("n_rot", facts.rope_dimension_count.to_string()),
                        ("n_swa", facts.sliding_window.unwrap_or(0).to_string()),
                        ("n_expert", facts.expert_count.to_string()),
                        ("n_expert_used", facts.expert_used_count.to_string()),
                    ];
                    for (k, v) in ours {
                        let want = info[k].as_str().unwrap_or("<absent>");
                        if want != v {
                            errs.push(format!("{k}: ours {v}, llama.cpp {want}"));
                        }
                    }
                    let n_params = t["n_params"].as_u64().unwrap();
                    if facts.parameter_count != Some(n_params) {
                        errs.push(format!(
                            "n_params: ours {:?}, llama.cpp {n_params}",
                            facts.parameter_count
                        ));
                    }
                }
            }
        }
        if errs.is_empty() == known_gap(&file) {
            let why = if errs.is_empty() {
                vec!["listed in KNOWN_GAPS but now matches llama.cpp: remove it".to_string()]
            } else {
                errs
            };
            failures.insert(file, why);
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|(f, e)| format!("{f}:\n    {}", e.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ from llama.cpp:\n{}",
        failures.len(),
        files.len(),
        report.join("\n")
    );
}

/// Rewrites a head with the project's writer: `edit` changes the tensor list.
fn rewrite(bytes: &[u8], edit: impl FnOnce(&mut Vec<(String, GgmlType, Vec<u64>)>)) -> Vec<u8> {
    let g = Gguf::parse_with(bytes, ParseOptions::lenient()).unwrap();
    let mut w = GgufWriter::new();
    for kv in g.metadata().iter() {
        w.add_kv(kv.key().as_bytes(), kv.value().to_owned_value());
    }
    let mut tensors: Vec<(String, GgmlType, Vec<u64>)> = g
        .tensors()
        .iter()
        .map(|t| (t.name().to_string(), t.ggml_type(), t.dims().to_vec()))
        .collect();
    edit(&mut tensors);
    for (name, ty, dims) in &tensors {
        w.add_tensor(name.clone(), *ty, dims, TensorData::Zeros);
    }
    // The head is all the table reads.
    w.encode_head().unwrap()
}

fn load_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn planted_defects_are_found_in_every_corpus_file_and_named() {
    let mut failures = Vec::new();
    for path in llama_archs_files() {
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        if known_gap(&file) {
            continue;
        }
        let bytes = load_file(&path);
        let (_, clean) = run(&bytes);
        if clean.hparams_refusal.is_some() || clean.tensors_refusal.is_some() {
            failures.push(format!("{file}: clean file refused"));
            continue;
        }
        // A required tensor: created, not optional, not a duplicate.
        let Some(req) = clean
            .tensors
            .iter()
            .find(|r| r.created && r.flags & 3 == 0)
            .cloned()
        else {
            failures.push(format!("{file}: no required tensor"));
            continue;
        };
        // 1. Removed.
        let cut = rewrite(&bytes, |t| t.retain(|(n, _, _)| *n != req.name));
        let (_, l) = run(&cut);
        if !l
            .problems
            .iter()
            .any(|p| p.code == "missing_tensor" && p.subject.as_deref() == Some(&req.name))
            && l.tensors_refusal.is_none()
        {
            failures.push(format!("{file}: removing {} not found", req.name));
        }
        // 2. One dimension changed.
        let bent = rewrite(&bytes, |t| {
            for (n, _, dims) in t.iter_mut() {
                if *n == req.name {
                    dims[0] += 32;
                }
            }
        });
        let (_, l) = run(&bent);
        if !l
            .problems
            .iter()
            .any(|p| p.code == "wrong_shape" && p.subject.as_deref() == Some(&req.name))
        {
            failures.push(format!("{file}: reshaping {} not found", req.name));
        }
        // 3. A name the architecture never creates.
        let extra = rewrite(&bytes, |t| {
            t.push(("blk.0.not_a_tensor.weight".into(), GgmlType::F32, vec![32]));
        });
        let (_, l) = run(&extra);
        if l.unexpected != ["blk.0.not_a_tensor.weight"] {
            failures.push(format!(
                "{file}: unknown tensor not found: {:?}",
                l.unexpected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `kv_bytes_per_token` is what llama.cpp's caches grow by per token: on the files without a
/// sliding window, llama.cpp's KV (+ indexer) buffer for 4096 cells is 4096 times it, within
/// llama.cpp's printed precision.
#[test]
fn kv_bytes_per_token_matches_llama_cpp_kv_cache() {
    let truth = truth();
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in llama_archs_files() {
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        if known_gap(&file) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let (facts, _) = ArchFacts::read(&g, &arch_of(&g)).unwrap();
        if facts.sliding_window.is_some() {
            continue;
        }
        let kv_mib = truth["n_ctx_4096"][&file]["kv_mib"].as_f64().unwrap();
        let ours = (facts.kv_bytes_per_token.unwrap() * 4096) as f64 / 1048576.0;
        checked += 1;
        if (ours - kv_mib).abs() > 0.006 {
            failures.push(format!(
                "{file}: ours {ours:.2} MiB, llama.cpp {kv_mib} MiB"
            ));
        }
    }
    assert!(checked > 80, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The front door: one `Model` per file gives the facts, the validation, the comparison and the
/// memory plan from one run of the table.
#[test]
fn model_front_door_on_corpus_files() {
    let read = |name: &str| std::fs::read(llama_archs_dir().join(name)).unwrap();
    let (a, b) = (read("qwen35moe-moe.gguf"), read("deepseek2-moe.gguf"));
    let ga = Gguf::parse_with(&a, ParseOptions::lenient()).unwrap();
    let gb = Gguf::parse_with(&b, ParseOptions::lenient()).unwrap();
    let ma = ggufscope_model::Model::new(&ga).unwrap();
    let mb = ggufscope_model::Model::new(&gb).unwrap();
    assert_eq!(ma.architecture(), "qwen35moe");
    assert!(ma.in_table() && ma.validate().loads());
    assert_eq!(ma.facts().recurrent_layers, [0]);
    // Every tensor of the file is in exactly one block or the globals.
    let indexed = ma.index().globals.len() + ma.index().blocks.iter().map(Vec::len).sum::<usize>();
    assert_eq!(indexed, ga.tensors().len());
    assert!(ma.block(1).all(|t| t.name().starts_with("blk.1.")));
    let cmp = ma.compare(&mb);
    let kv_lora = cmp.rows.iter().find(|r| r.field == "kv_lora_rank").unwrap();
    assert_eq!(kv_lora.b, ggufscope_model::Field::Int(512));
    assert!(!kv_lora.same);
    // Per-layer tensors that layer 0 lacks are compared too: deepseek2's experts start at
    // block 1 (one leading dense block), qwen35moe's attention at block 1.
    let row = |name: &str| cmp.tensors.iter().find(|t| t.name == name).unwrap();
    assert!(row("blk.*.ffn_down_exps.weight").in_b);
    assert!(row("blk.*.attn_q.weight").in_a);
    // The memory plan from the same run: deepseek2's MLA cache as llama.cpp logged it.
    let plan = mb
        .memory(ggufscope_model::MemoryOptions {
            n_ctx: 4096,
            swa_full: true,
            flash_attn: false,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(plan.kv_cache_bytes, 9 * 1024 * 1024);
    // A planted unknown tensor is what llama.cpp refuses.
    let extra = rewrite(&a, |t| {
        t.push(("blk.0.nope.weight".into(), GgmlType::F32, vec![4]))
    });
    let ge = Gguf::parse_with(&extra, ParseOptions::lenient()).unwrap();
    let me = ggufscope_model::Model::new(&ge).unwrap();
    assert_eq!(me.validate().unexpected, ["blk.0.nope.weight"]);
    assert!(!me.validate().loads());
}
