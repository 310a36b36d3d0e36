//! llama.cpp's own per-architecture corpus (`tests/fixtures/llama-archs/`, the heads of the 128
//! models `tests/test-llama-archs.cpp` writes at llama.cpp 0c1e570): the architecture table must
//! accept every file exactly as llama.cpp's loader did, read the hyper-parameters llama.cpp
//! printed (`llama-truth.json`, `print_info`), and find planted defects as llama.cpp would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, ParseOptions, TensorData};
use ggufscope_model::table::{self, Loaded, TensorMode};
use ggufscope_model::ArchFacts;
use ggufscope_testkit::{
    arch_of, fixture_name, gguf_files_in, llama_archs_dir, llama_archs_files,
    llama_archs_sized_sets, read_fixture,
};
use serde_json::Value as J;

/// Corpus files the table cannot yet run as llama.cpp does, each with the reason. A test
/// asserts that exactly these differ, so a fix (or a new gap) shows.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The same gaps at the other sizes (`tests/fixtures/llama-archs-sized/`), as `set/file`, each
/// with the reason; the same exactness rule.
const KNOWN_SIZED_GAPS: &[(&str, &str)] = &[];

fn known_gap(file: &str) -> bool {
    KNOWN_GAPS.iter().any(|(f, _)| *f == file)
}

/// `set/file` of a sized-set file, the key of [`KNOWN_SIZED_GAPS`].
pub(crate) fn sized_key(set: &Path, file: &str) -> String {
    format!("{}/{file}", set.file_name().unwrap().to_str().unwrap())
}

pub(crate) fn truth() -> J {
    truth_in(&llama_archs_dir())
}

pub(crate) fn truth_in(dir: &Path) -> J {
    let text = std::fs::read_to_string(dir.join("llama-truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every sized set with its files; each set holds files (a set that lost every file is a
/// failure of the generator, not a pass).
pub(crate) fn sized_sets() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let sets: Vec<_> = llama_archs_sized_sets()
        .into_iter()
        .map(|set| {
            let files = gguf_files_in(&set);
            // s384 and s512 hold every corpus architecture; s2048 (real widths: head size
            // 128, vocabulary 32000) a selection of the architectures people run.
            let least = if set.ends_with("s2048") { 30 } else { 100 };
            assert!(
                files.len() > least,
                "{}: {} files",
                set.display(),
                files.len()
            );
            (set, files)
        })
        .collect();
    assert!(sets.len() >= 3, "{} sized sets", sets.len());
    sets
}

fn report(failures: &BTreeMap<String, Vec<String>>) -> String {
    failures
        .iter()
        .map(|(f, e)| format!("{f}:\n    {}", e.join("\n    ")))
        .collect::<Vec<_>>()
        .join("\n")
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
    let files = llama_archs_files();
    assert_eq!(files.len(), 128);
    let failures = facts_differences(&truth(), &files, &|file| file.to_string(), &known_gap);
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ from llama.cpp:\n{}",
        failures.len(),
        files.len(),
        report(&failures)
    );
}

/// The same architectures at other sizes (`tests/fixtures/llama-archs-sized/`, see its README):
/// the table is not fitted to the corpus's one size.
#[test]
fn every_sized_file_loads_and_reads_as_llama_cpp_printed() {
    let known = |key: &str| KNOWN_SIZED_GAPS.iter().any(|(k, _)| *k == key);
    let mut failures = BTreeMap::new();
    let mut n = 0;
    for (set, files) in sized_sets() {
        n += files.len();
        let key = |file: &str| sized_key(&set, file);
        failures.extend(facts_differences(&truth_in(&set), &files, &key, &known));
    }
    assert!(
        failures.is_empty(),
        "{} of {n} sized files differ from llama.cpp:\n{}",
        failures.len(),
        report(&failures)
    );
}

/// For each file: what differs from llama.cpp's load of the full file (refusals, validation
/// problems, unexpected tensors, the printed facts, the parameter count), keyed by `key(file)`;
/// a file `known(key)` must differ (else it is reported as fixed).
fn facts_differences(
    truth: &J,
    files: &[PathBuf],
    key: &dyn Fn(&str) -> String,
    known: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, Vec<String>> {
    let mut failures = BTreeMap::new();
    for path in files {
        let file = fixture_name(path);
        let t = &truth["n_ctx_4096"][&file];
        let info = &t["print_info"];
        let bytes = read_fixture(path);
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
                if let Some(r) = &l.graph_refusal {
                    errs.push(format!("graph refused: {} ({})", r.message, r.source));
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
        let k = key(&file);
        if errs.is_empty() == known(&k) {
            let why = if errs.is_empty() {
                vec!["listed as a known gap but now matches llama.cpp: remove it".to_string()]
            } else {
                errs
            };
            failures.insert(k, why);
        }
    }
    failures
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
    read_fixture(path)
}

#[test]
fn planted_defects_are_found_in_every_corpus_file_and_named() {
    let failures = planted_defect_failures(&llama_archs_files(), &|file| known_gap(file));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// At one other size (the smaller set, to keep the test short): the planted defects are found.
#[test]
fn planted_defects_are_found_in_every_s384_file_and_named() {
    let mut failures = Vec::new();
    for (set, files) in sized_sets()
        .into_iter()
        .filter(|(s, _)| s.ends_with("s384"))
    {
        let known = |file: &str| {
            let k = sized_key(&set, file);
            KNOWN_SIZED_GAPS.iter().any(|(g, _)| *g == k)
        };
        failures.extend(
            planted_defect_failures(&files, &known)
                .into_iter()
                .map(|f| format!("{}/{f}", set.file_name().unwrap().to_str().unwrap())),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// In each file not `skip`ped: a required tensor removed, one of its dimensions changed, and a
/// tensor name the architecture never creates are each found and named.
fn planted_defect_failures(files: &[PathBuf], skip: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut failures = Vec::new();
    for path in files {
        let file = fixture_name(path);
        if skip(&file) {
            continue;
        }
        let bytes = load_file(path);
        let (_, clean) = run(&bytes);
        if clean.hparams_refusal.is_some()
            || clean.tensors_refusal.is_some()
            || clean.graph_refusal.is_some()
        {
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
    failures
}

/// `kv_bytes_per_token` is what llama.cpp's caches grow by per token: on the files without a
/// sliding window, llama.cpp's KV (+ indexer) buffer for 4096 cells is 4096 times it, within
/// llama.cpp's printed precision.
#[test]
fn kv_bytes_per_token_matches_llama_cpp_kv_cache() {
    let (checked, failures) =
        kv_per_token_failures(&truth(), &llama_archs_files(), &|file| known_gap(file));
    assert!(checked > 80, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kv_bytes_per_token_matches_llama_cpp_kv_cache_at_other_sizes() {
    for (set, files) in sized_sets() {
        let known = |file: &str| {
            let k = sized_key(&set, file);
            KNOWN_SIZED_GAPS.iter().any(|(g, _)| *g == k)
        };
        let (checked, failures) = kv_per_token_failures(&truth_in(&set), &files, &known);
        // s2048 holds 33 files, 25 of them without a sliding window.
        let least = if set.ends_with("s2048") { 20 } else { 80 };
        assert!(checked > least, "{}: {checked}", set.display());
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            set.display(),
            failures.join("\n")
        );
    }
}

/// Files without a sliding window (and not `skip`ped): the number checked and the ones whose
/// `kv_bytes_per_token × 4096` is not llama.cpp's KV buffer at n_ctx 4096.
fn kv_per_token_failures(
    truth: &J,
    files: &[PathBuf],
    skip: &dyn Fn(&str) -> bool,
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in files {
        let file = fixture_name(path);
        if skip(&file) {
            continue;
        }
        let bytes = read_fixture(path);
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
    (checked, failures)
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

/// Files llama.cpp 0c1e570 loads but cannot run (`tests/fixtures/llama-archs-refused/`, see its
/// README): every tensor has the shape the loader asks for, then llama.cpp aborts building the
/// graph when it creates a context. The table's `@graph` rules must find each, and nothing else:
/// no load-time finding (llama.cpp loads the file), the refusal cited in the architecture's graph
/// code, at llama.cpp's own line where its abort names one.
#[test]
fn files_llama_cpp_cannot_run_are_flagged() {
    let dir = ggufscope_testkit::fixtures_dir().join("llama-archs-refused");
    let text = std::fs::read_to_string(dir.join("refused.json")).unwrap();
    let refused: J = serde_json::from_str(&text).unwrap();
    let files = gguf_files_in(&dir);
    assert_eq!(files.len(), refused["files"].as_object().unwrap().len());
    assert_eq!(files.len(), 5);
    let mut failures = Vec::new();
    for path in &files {
        let file = fixture_name(path);
        let said = refused["files"][&file]["llama_cpp"].as_str().unwrap();
        assert!(said.starts_with("aborts"));
        let (_, l) = run(&read_fixture(path));
        if l.hparams_refusal.is_some()
            || l.tensors_refusal.is_some()
            || !l.problems.is_empty()
            || !l.unexpected.is_empty()
        {
            failures.push(format!(
                "{file}: a load-time finding, but llama.cpp loads the file"
            ));
        }
        let Some(r) = &l.graph_refusal else {
            failures.push(format!("{file}: llama.cpp {said}, the table finds nothing"));
            continue;
        };
        let arch = refused["files"][&file]["arch"].as_str().unwrap();
        if r.table_error || !r.source.starts_with(&format!("{}:", l.source)) {
            failures.push(format!(
                "{file} ({arch}): refusal {:?} at {} is not in {}'s graph code",
                r.message, r.source, l.source
            ));
        }
        // llama.cpp names a source line when a GGML_ASSERT of the model's own code fails.
        if let Some(at) = said.split(": ").find(|p| p.starts_with("src/models/")) {
            if r.source != at {
                failures.push(format!(
                    "{file}: llama.cpp aborts at {at}, the table says {}",
                    r.source
                ));
            }
        }
        eprintln!("{file}: {} ({})", r.message, r.source);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
