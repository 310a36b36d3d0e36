//! The memory plan on llama.cpp's own per-architecture corpus (`tests/fixtures/llama-archs/`):
//! weights, KV cache, recurrent state and output buffer against what llama.cpp 0c1e570 logged
//! when it loaded each full file (`llama-truth.json`: one sequence, f16 KV cache, n_ubatch 512,
//! `swa_full = true`), at n_ctx 512 and 4096. Weights to the byte (`llama_model_size`); buffers
//! to llama.cpp's printed precision (each buffer line is `%.2f` MiB, and the truth's `kv_mib`
//! and `recurrent_mib` are the sums of those lines).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_model::{plan_memory_table, CacheKind, MemoryOptions, MemoryPlan};
use ggufscope_testkit::{fixture_name, llama_archs_dir, llama_archs_files, read_fixture};
use serde_json::Value as J;

use crate::corpus::{sized_key, sized_sets, truth, truth_in};

/// Corpus files whose memory figures we cannot yet match, each with the reason. A test asserts
/// that exactly these differ, so a fix (or a new gap) shows.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The CPU compute buffer is an estimate of the peak of llama.cpp's reserved graph
/// (`crates/model/src/memory/compute.rs`, docs/memory.md "Compute buffer"). These figures are
/// outside "10 % or 2 MiB, whichever is larger" of llama.cpp's, each with the reason; the test
/// asserts that exactly these are, so a fix (or a new miss) shows.
const COMPUTE_OUTSIDE: &[(&str, &str)] = &[];

/// Figures where the total (weights + caches + output + compute) is under llama.cpp's by more
/// than 1 % (an under-estimate is an out-of-memory at load); the test asserts exactly these.
const TOTAL_UNDER: &[&str] = &[];

/// The range of ours / llama.cpp's seen on the corpus (held so a regression shows): only
/// deepseek4 and qwen4exp are estimated.
const COMPUTE_RATIO_RANGE: (f64, f64) = (0.99, 1.02);

/// The same at the other sizes (`tests/fixtures/llama-archs-sized/`), as `set/file`, each with the
/// reason; the same exactness rule.
const KNOWN_SIZED_GAPS: &[(&str, &str)] = &[];

fn known_gap(file: &str) -> bool {
    KNOWN_GAPS.iter().any(|(f, _)| *f == file)
}

/// What llama.cpp prints for a buffer: `%.2f` of its MiB.
fn printed_mib(bytes: u64) -> f64 {
    format!("{:.2}", bytes as f64 / 1048576.0).parse().unwrap()
}

/// The sum of the buffer lines llama.cpp logs for one kind (a cache with no layer allocates no
/// buffer and logs no line).
fn logged(plan: &MemoryPlan, kind: CacheKind) -> f64 {
    plan.caches
        .iter()
        .filter(|b| b.kind == kind && !b.layers.is_empty())
        .map(|b| printed_mib(b.bytes))
        .fold(0.0, |a, b| a + b)
}

/// The lines llama.cpp logs while it allocates the memory module, rebuilt from the plan with
/// llama.cpp's formats (`src/llama-kv-cache.cpp:283,293`, `src/llama-memory-recurrent.cpp:124,
/// 133`, `src/llama-kv-cache-dsv4.cpp:983`): buffer sizes, cells, layers, K/V/R/S/P sizes.
fn log_lines(plan: &MemoryPlan, n_layer: i64) -> Vec<String> {
    let mib = |b: u64| b as f64 / 1048576.0;
    // The size lines print `(float)bytes / (1024.0f * 1024.0f)`.
    let fmib = |b: u64| f64::from(b as f32 / (1024.0f32 * 1024.0f32));
    let mut out = Vec::new();
    for b in &plan.caches {
        match b.kind {
            CacheKind::Kv => {
                if !b.layers.is_empty() {
                    out.push(format!(
                        "llama_kv_cache: {:>10} KV buffer size = {:8.2} MiB",
                        "CPU",
                        mib(b.bytes)
                    ));
                }
                out.push(format!(
                    "llama_kv_cache: size = {:7.2} MiB ({:6} cells, {:3} layers, {:2}/{} seqs), K ({}): {:7.2} MiB, V ({}): {:7.2} MiB",
                    fmib(b.k_bytes + b.v_bytes),
                    b.cells,
                    b.layers.len(),
                    plan.options.n_parallel,
                    b.streams,
                    plan.options.type_k,
                    fmib(b.k_bytes),
                    plan.options.type_v,
                    fmib(b.v_bytes)
                ));
            }
            CacheKind::Recurrent => {
                if !b.layers.is_empty() {
                    out.push(format!(
                        "llama_memory_recurrent: {:>10} RS buffer size = {:8.2} MiB",
                        "CPU",
                        mib(b.bytes)
                    ));
                }
                out.push(format!(
                    "llama_memory_recurrent: size = {:7.2} MiB ({:6} cells, {:3} layers, {:2} seqs {:2} rs_seq), R (f32): {:7.2} MiB, S (f32): {:7.2} MiB, P (f32): {:7.2} MiB",
                    fmib(b.k_bytes + b.v_bytes + b.p_bytes),
                    b.cells,
                    n_layer,
                    plan.options.n_parallel,
                    0,
                    fmib(b.k_bytes),
                    fmib(b.v_bytes),
                    fmib(b.p_bytes)
                ));
            }
            CacheKind::CompressorState => {
                let name = b
                    .name
                    .trim_start_matches("dsv4_")
                    .trim_end_matches("_state")
                    .replace("indexer", "lid");
                if !b.layers.is_empty() {
                    out.push(format!(
                        "llama_dsv4_comp_state: {:>10} DSV4 {name} state buffer size = {:8.2} MiB",
                        "CPU",
                        mib(b.bytes)
                    ));
                }
            }
        }
    }
    out
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// llama.cpp's settings of the truth run. Flash attention: `auto`, which llama.cpp resolved to
/// off on the CPU for these models (the compute buffers hold the KQ matrix); the memory module is
/// created before that resolution with flash attention on (V not transposed), which on this
/// corpus gives the same caches (no model has per-layer V widths).
pub(crate) fn options(n_ctx: u64) -> MemoryOptions {
    MemoryOptions {
        n_ctx,
        n_batch: 512,
        n_ubatch: 512,
        n_parallel: 1,
        swa_full: true,
        flash_attn: false,
        ..MemoryOptions::default()
    }
}

struct Compared {
    /// (class, file, ours, theirs) of every figure compared.
    figures: Vec<(&'static str, String, f64, f64)>,
}

#[test]
fn memory_of_every_corpus_file_matches_llama_cpp() {
    let files = llama_archs_files();
    assert_eq!(files.len(), 128);
    let mut cmp = Compared {
        figures: Vec::new(),
    };
    let failures = memory_differences(
        &truth(),
        &files,
        &|file| file.to_string(),
        &known_gap,
        &mut cmp,
    );
    eprintln!("{}", summary(&cmp));
    // (figure, ours - llama.cpp's compute, llama.cpp's total) in MiB.
    let totals: Vec<(String, f64, f64)> = cmp
        .figures
        .iter()
        .filter(|f| f.0 == "total")
        .map(|f| (f.1.clone(), f.2 - f.3, f.3))
        .collect();
    let (lo, hi) = COMPUTE_RATIO_RANGE;
    let mut outside = Vec::new();
    let mut missed = Vec::new();
    let mut within = 0;
    for f in cmp.figures.iter().filter(|f| f.0 == "compute") {
        let ratio = f.2 / f.3;
        if std::env::var_os("GGUFSCOPE_PRINT_COMPUTE").is_some() {
            eprintln!(
                "compute {}: ours {:.2} MiB, llama.cpp {:.2} MiB, ratio {ratio:.3}",
                f.1, f.2, f.3
            );
        }
        if !(lo..=hi).contains(&ratio) {
            outside.push(format!(
                "compute {}: ratio {ratio:.3} outside {lo}..{hi}",
                f.1
            ));
        }
        let ok = (f.2 - f.3).abs() <= (0.1 * f.3).max(2.0);
        let listed = COMPUTE_OUTSIDE.iter().any(|(n, _)| *n == f.1);
        if ok {
            within += 1;
        }
        if ok == listed {
            missed.push(format!(
                "compute {}: ours {:.2} MiB, llama.cpp {:.2} MiB ({})",
                f.1,
                f.2,
                f.3,
                if ok {
                    "within tolerance but listed in COMPUTE_OUTSIDE"
                } else {
                    "outside 10 % or 2 MiB"
                }
            ));
        }
    }
    if std::env::var_os("GGUFSCOPE_PRINT_COMPUTE").is_some() {
        for (n, diff, total) in totals.iter().filter(|(_, d, _)| *d < 0.0) {
            eprintln!("total {n}: under by {:.2} %", -100.0 * diff / total);
        }
    }
    let under: Vec<&str> = totals
        .iter()
        .filter(|(_, diff, total)| *diff < -0.01 * total)
        .map(|(n, _, _)| n.as_str())
        .collect();
    eprintln!(
        "compute: {within}/{} within 10 % or 2 MiB; total under by more than 1 %: {}",
        totals.len(),
        under.len()
    );
    assert!(outside.is_empty(), "{}", outside.join("\n"));
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    assert_eq!(
        under, TOTAL_UNDER,
        "figures whose total is under llama.cpp's by more than 1 %"
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ from llama.cpp:\n{}",
        failures.len(),
        files.len(),
        report(&failures)
    );
}

/// The same architectures at other sizes (`tests/fixtures/llama-archs-sized/`, see its README):
/// weights, KV cache, recurrent state, output buffer and the cache log lines as llama.cpp's,
/// so the plan is not fitted to the corpus's one size. (The compute buffer: the next test.)
#[test]
fn memory_of_every_sized_file_matches_llama_cpp() {
    let known = |key: &str| KNOWN_SIZED_GAPS.iter().any(|(k, _)| *k == key);
    let mut failures = BTreeMap::new();
    let mut cmp = Compared {
        figures: Vec::new(),
    };
    let mut n = 0;
    for (set, files) in sized_sets() {
        n += files.len();
        let key = |file: &str| sized_key(&set, file);
        failures.extend(memory_differences(
            &truth_in(&set),
            &files,
            &key,
            &known,
            &mut cmp,
        ));
    }
    eprintln!("{}", summary(&cmp));
    assert!(
        failures.is_empty(),
        "{} of {n} sized files differ from llama.cpp:\n{}",
        failures.len(),
        report(&failures)
    );
}

/// Sized-set compute buffers (`set/file n_ctx_N`) outside issue 12's tolerance with the
/// graph-following estimate of `crates/model/src/memory/compute.rs` (its unit counts were set on
/// the corpus's one size; these files show where that does not carry over). An entry that comes
/// within tolerance fails the test (remove it), as does an entry not listed that falls outside.
/// At this commit: none of 578
/// (the replayed architectures of `text_compute.rs` are exact).
const KNOWN_COMPUTE_OUT_OF_TOLERANCE: &[&str] = &[];

/// Issue 12's tolerance for the CPU compute buffer: within 10% or 2 MiB of llama.cpp's,
/// whichever is larger.
fn compute_within_tolerance(ours_mib: f64, theirs_mib: f64) -> bool {
    (ours_mib - theirs_mib).abs() <= (0.10 * theirs_mib).max(2.0)
}

/// The CPU compute buffer on the sized sets against issue 12's tolerance, apart from the
/// entries of [`KNOWN_COMPUTE_OUT_OF_TOLERANCE`]. `GGUFSCOPE_PRINT_COMPUTE=1` prints every figure.
#[test]
fn compute_buffer_of_sized_files_within_issue_12_tolerance() {
    let mut cmp = Compared {
        figures: Vec::new(),
    };
    for (set, files) in sized_sets() {
        let key = |file: &str| sized_key(&set, file);
        // The other figures are held by memory_of_every_sized_file_matches_llama_cpp.
        let _ = memory_differences(&truth_in(&set), &files, &key, &|_| false, &mut cmp);
    }
    let print = std::env::var_os("GGUFSCOPE_PRINT_COMPUTE").is_some();
    let mut outside = Vec::new();
    let mut fixed = Vec::new();
    let mut n = 0;
    for f in cmp.figures.iter().filter(|f| f.0 == "compute") {
        n += 1;
        let ok = compute_within_tolerance(f.2, f.3);
        let known = KNOWN_COMPUTE_OUT_OF_TOLERANCE.contains(&f.1.as_str());
        if print {
            eprintln!(
                "compute {}: ours {:.2} MiB, llama.cpp {:.2} MiB, ratio {:.3}{}",
                f.1,
                f.2,
                f.3,
                f.2 / f.3,
                if ok { "" } else { " OUT" }
            );
        }
        if !ok && !known {
            outside.push(format!(
                "{}: ours {:.2} MiB, llama.cpp {:.2} MiB",
                f.1, f.2, f.3
            ));
        }
        if ok && known {
            fixed.push(f.1.clone());
        }
    }
    assert!(n > 400, "{n} compute figures");
    assert!(
        fixed.is_empty(),
        "now within tolerance, remove from KNOWN_COMPUTE_OUT_OF_TOLERANCE:\n{}",
        fixed.join("\n")
    );
    assert!(
        outside.is_empty(),
        "{} of {n} sized compute buffers outside 10% / 2 MiB of llama.cpp's:\n{}",
        outside.len(),
        outside.join("\n")
    );
}

fn report(failures: &BTreeMap<String, Vec<String>>) -> String {
    failures
        .iter()
        .map(|(f, e)| format!("{f}:\n    {}", e.join("\n    ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// For each file: which memory figures differ from llama.cpp's at n_ctx 512 and 4096, keyed by
/// `name_of(file)` (a file `known(name)` must differ, else it is reported as fixed); every figure
/// compared goes to `cmp`.
fn memory_differences(
    truth: &J,
    files: &[PathBuf],
    name_of: &dyn Fn(&str) -> String,
    known: &dyn Fn(&str) -> bool,
    cmp: &mut Compared,
) -> BTreeMap<String, Vec<String>> {
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files {
        let file = fixture_name(path);
        let name = name_of(&file);
        let bytes = read_fixture(path);
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = ggufscope_testkit::arch_of(&g);
        let mut errs = Vec::new();
        for (key, n_ctx) in [("n_ctx_512", 512u64), ("n_ctx_4096", 4096)] {
            let t = &truth[key][&file];
            let (plan, l) = plan_memory_table(&g, &arch, options(n_ctx)).unwrap();
            if let Some(r) = &l.hparams_refusal {
                errs.push(format!("hparams refused: {} ({})", r.message, r.source));
                continue;
            }
            if let Some(size) = t["model_size"].as_u64() {
                cmp.figures.push((
                    "weights",
                    name.clone(),
                    plan.weights_bytes as f64,
                    size as f64,
                ));
                if plan.weights_bytes != size {
                    errs.push(format!(
                        "{key} weights: ours {}, llama.cpp {size}",
                        plan.weights_bytes
                    ));
                }
            }
            let rows = [
                ("kv", logged(&plan, CacheKind::Kv), "kv_mib"),
                (
                    "recurrent",
                    logged(&plan, CacheKind::Recurrent),
                    "recurrent_mib",
                ),
                ("output", printed_mib(plan.output_bytes), "output_mib"),
            ];
            for (class, ours, field) in rows {
                let theirs = t[field].as_f64().unwrap();
                cmp.figures
                    .push((class, format!("{name} {key}"), ours, theirs));
                if !same(ours, theirs) {
                    errs.push(format!(
                        "{key} {class}: ours {ours:.2} MiB, llama.cpp {theirs:.2} MiB ({})",
                        plan.memory_class
                    ));
                }
            }
            let theirs_lines: Vec<&str> = t["memory_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .filter(|v| {
                    v.starts_with("llama_kv_cache:")
                        || v.starts_with("llama_memory_recurrent:")
                        || v.starts_with("llama_dsv4_comp_state:")
                })
                .collect();
            let ours_lines = log_lines(&plan, l.n_layer);
            if ours_lines != theirs_lines {
                errs.push(format!(
                    "{key} log lines differ:\n      ours      {}\n      llama.cpp {}",
                    ours_lines.join("\n                "),
                    theirs_lines.join("\n                ")
                ));
            }
            let compute = t["compute_mib"].as_f64().unwrap();
            let ours = plan.compute_bytes as f64 / 1048576.0;
            cmp.figures
                .push(("compute", format!("{name} {key}"), ours, compute));
            if std::env::var_os("GGUFSCOPE_PRINT_COMPUTE").is_some() {
                eprintln!("formula {name} {key}: {}", plan.compute_formula);
            }
            // The total: llama.cpp's buffers, with our compute in place of its compute (the
            // other figures are compared exactly above).
            let total: f64 = ["model_mib", "kv_mib", "recurrent_mib", "output_mib"]
                .iter()
                .map(|k| t[*k].as_f64().unwrap_or(0.0))
                .sum::<f64>()
                + compute;
            cmp.figures.push((
                "total",
                format!("{name} {key}"),
                total + ours - compute,
                total,
            ));
        }
        if errs.is_empty() == known(&name) {
            let why = if errs.is_empty() {
                vec!["listed as a known gap but now matches llama.cpp: remove it".to_string()]
            } else {
                errs
            };
            failures.insert(name, why);
        }
    }
    failures
}

/// The closing figures: per class, how many match and the worst relative error.
fn summary(cmp: &Compared) -> String {
    let mut summary = String::new();
    for class in ["weights", "kv", "recurrent", "output", "compute"] {
        let rows: Vec<_> = cmp.figures.iter().filter(|f| f.0 == class).collect();
        let rel = |f: &&(&str, String, f64, f64)| {
            if f.3 == 0.0 {
                if f.2 == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                (f.2 - f.3).abs() / f.3
            }
        };
        // Equal as llama.cpp prints it (the compute figure is ours in full, theirs `%.2f`).
        let matching = rows
            .iter()
            .filter(|f| same(f.2, f.3) || same((f.2 * 100.0).round() / 100.0, f.3))
            .count();
        let worst = rows
            .iter()
            .max_by(|a, b| rel(a).total_cmp(&rel(b)))
            .map(|f| {
                format!(
                    "{:.4} ({}: ours {:.2}, llama.cpp {:.2})",
                    rel(f),
                    f.1,
                    f.2,
                    f.3
                )
            })
            .unwrap_or_default();
        summary.push_str(&format!(
            "{class}: {matching}/{} equal, worst relative error {worst}\n",
            rows.len()
        ));
    }
    summary
}

fn corpus_plan(file: &str, options: MemoryOptions) -> MemoryPlan {
    let bytes = std::fs::read(llama_archs_dir().join(file)).unwrap();
    let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
    let arch = ggufscope_testkit::arch_of(&g);
    plan_memory_table(&g, &arch, options).unwrap().0
}

/// Several sequences: one stream per sequence of `n_ctx_seq = PAD(n_ctx / n_seq, 256)` cells,
/// `n_ctx` rounded to `n_ctx_seq × n_seq` (`src/llama-context.cpp:290-304`), or one unified
/// stream; the sliding cache holds `PAD(min(kv_size, n_swa·(unified ? n_seq : 1) + n_ubatch),
/// 256)` cells (`src/llama-kv-cache-iswa.cpp:73`); the recurrent state one row per sequence.
#[test]
fn parallel_sequences_streams_and_sliding_cells() {
    let opts = |n_ctx, n_parallel, kv_unified, swa_full| MemoryOptions {
        n_ctx,
        n_parallel,
        kv_unified,
        swa_full,
        ..MemoryOptions::default()
    };
    let p = corpus_plan("llama-dense.gguf", opts(1000, 3, false, false));
    assert_eq!((p.n_ctx, p.n_ctx_seq), (1536, 512));
    assert_eq!((p.caches[0].cells, p.caches[0].streams), (512, 3));
    let one = corpus_plan("llama-dense.gguf", opts(1536, 1, false, false));
    assert_eq!(p.kv_cache_bytes, one.kv_cache_bytes);
    let u = corpus_plan("llama-dense.gguf", opts(1000, 3, true, false));
    assert_eq!((u.n_ctx, u.n_ctx_seq), (1024, 1024));
    assert_eq!((u.caches[0].cells, u.caches[0].streams), (1024, 1));
    // Logits for every sequence.
    assert_eq!(p.output_bytes, 3 * 128 * 4);

    let g = corpus_plan("gemma3-dense.gguf", opts(16384, 4, false, false));
    let n_swa = 32; // gemma3-dense.gguf's gemma3.attention.sliding_window
    assert_eq!(g.caches[1].name, "kv_swa");
    assert_eq!(g.caches[1].cells, (n_swa + 512u64).next_multiple_of(256));
    assert_eq!(g.caches[1].cells, 768);
    assert_eq!(g.caches[1].streams, 4);
    let gu = corpus_plan("gemma3-dense.gguf", opts(16384, 16, true, false));
    assert_eq!(
        gu.caches[1].cells,
        (16 * n_swa + 512u64).next_multiple_of(256)
    );
    assert_eq!(gu.caches[1].cells, 1024);
    assert_eq!(gu.caches[1].streams, 1);
    let gf = corpus_plan("gemma3-dense.gguf", opts(16384, 4, false, true));
    assert_eq!(gf.caches[1].cells, 4096);

    let m = corpus_plan("mamba-dense.gguf", opts(4096, 2, false, false));
    let m1 = corpus_plan("mamba-dense.gguf", opts(4096, 1, false, false));
    assert_eq!(m.recurrent_state_bytes, 2 * m1.recurrent_state_bytes);
    assert_eq!(m.caches[0].cells, 2);
}

/// Quantized caches: rows of `ggml_row_size(type, width)`, each tensor padded to 32 bytes.
#[test]
fn quantized_cache_rows() {
    let f16 = corpus_plan(
        "llama-dense.gguf",
        MemoryOptions {
            n_ctx: 4096,
            ..MemoryOptions::default()
        },
    );
    let q8 = corpus_plan(
        "llama-dense.gguf",
        MemoryOptions {
            n_ctx: 4096,
            type_k: ggufscope_gguf::GgmlType::Q8_0,
            type_v: ggufscope_gguf::GgmlType::Q8_0,
            ..MemoryOptions::default()
        },
    );
    // 256-wide K and V rows: 512 bytes in f16, 8 blocks of 34 bytes in q8_0.
    assert_eq!(f16.kv_cache_bytes, 2 * 2 * 4096 * 512);
    assert_eq!(q8.kv_cache_bytes, 2 * 2 * 4096 * 8 * 34);
}

/// Every cache type of llama.cpp's `-ctk`/`-ctv` (and mixed pairs, with and without flash
/// attention) on four memory classes, against what llama.cpp allocated and refused
/// (`tests/fixtures/cache-types/`, `tools/llama-ref/make-cache-types.sh`): the KV buffer to the
/// printed MiB, llama.cpp's KV log lines rebuilt word for word, and a refusal (MLA with two
/// types, quantized V without flash attention, a block size that does not divide 48-wide heads)
/// exactly where llama.cpp refuses, with llama.cpp's message.
#[test]
fn every_cache_type_as_llama_cpp_allocates_and_refuses() {
    let fixtures = ggufscope_testkit::fixtures_dir();
    let truth: J = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("cache-types/cache-types.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    let mut refused = 0;
    let mut types = std::collections::BTreeSet::new();
    for (file, cases) in truth["files"].as_object().unwrap() {
        let bytes = read_fixture(&fixtures.join(file));
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = ggufscope_testkit::arch_of(&g);
        for (case, rec) in cases.as_object().unwrap() {
            let mut it = case.split(':');
            let (fa, k, v) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let ty = |n: &str| ggufscope_gguf::GgmlType::from_name(n).unwrap();
            types.insert(k.to_string());
            let o = MemoryOptions {
                flash_attn: fa == "on",
                type_k: ty(k),
                type_v: ty(v),
                ..options(4096)
            };
            let (plan, loaded) = plan_memory_table(&g, &arch, o).unwrap();
            let refusal = ggufscope_model::cache_type_refusal(&loaded, &o);
            let what = format!("{file} {case}");
            if rec["created"].as_bool().unwrap() {
                assert_eq!(refusal, None, "{what}: llama.cpp created the context");
                assert!(
                    same(
                        logged(&plan, CacheKind::Kv),
                        rec["kv_mib"].as_f64().unwrap()
                    ),
                    "{what}: KV {} MiB, llama.cpp {}",
                    logged(&plan, CacheKind::Kv),
                    rec["kv_mib"]
                );
                let theirs: Vec<String> = rec["kv_lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap().to_string())
                    .collect();
                let ours: Vec<String> = log_lines(&plan, loaded.n_layer)
                    .into_iter()
                    .filter(|l| l.starts_with("llama_kv_cache"))
                    .collect();
                assert_eq!(ours, theirs, "{what}");
                checked += 1;
            } else {
                let msg = rec["error"][0].as_str().unwrap();
                let msg = msg.strip_prefix("llama_init_from_model: ").unwrap();
                let ours = refusal.unwrap_or_else(|| panic!("{what}: llama.cpp refused: {msg}"));
                assert!(
                    ours.starts_with(msg),
                    "{what}: ours `{ours}`, llama.cpp `{msg}`"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(types.len(), ggufscope_model::KV_CACHE_TYPES.len());
    assert!(
        checked >= 50 && refused >= 10,
        "{checked} created, {refused} refused"
    );
}
