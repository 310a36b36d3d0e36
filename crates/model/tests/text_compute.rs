//! The text model's CPU compute buffer, replayed (`crates/model/src/memory/text.rs`), against
//! llama.cpp 0c1e570's own bytes: each set's `compute-truth.jsonl` (written by
//! `tools/llama-ref/make-compute-truth.sh`: the set's files written again by llama.cpp's
//! generator, their heads checked equal to the committed ones, loaded at n_ctx 512 and 4096 with
//! flash attention off and on, and the largest end of any tensor the graph allocator placed).
//! Every figure whose architecture's graph is replayed must be llama.cpp's to the byte; the
//! others are held to issue 12's tolerance by `memory_corpus.rs` and listed here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_model::{
    apply_placement, plan_memory_table, Backend, MemoryOptions, PlacementOptions,
};
use ggufscope_testkit::{fixtures_dir, llama_archs_dir, llama_archs_sized_sets, read_fixture};

use crate::memory_corpus::options;
use serde_json::Value as J;

/// Figures of the committed truth files the replay must cover at least (so that a family
/// dropped by mistake shows): every replayed architecture's files of the four sets, four
/// figures each (n_ctx 512 and 4096, flash attention off and on).
const REPLAYED_AT_LEAST: usize = 1632;

fn sets() -> Vec<PathBuf> {
    let mut sets = vec![llama_archs_dir()];
    sets.extend(llama_archs_sized_sets());
    sets
}

fn head(set: &Path, name: &str) -> Vec<u8> {
    let plain = set.join(name);
    if plain.exists() {
        read_fixture(&plain)
    } else {
        read_fixture(&set.join(format!("{name}.gz")))
    }
}

#[test]
fn replayed_compute_buffers_equal_llama_cpp_bytes() {
    let mut replayed = 0;
    let mut estimated: BTreeMap<String, usize> = BTreeMap::new();
    let mut differ = Vec::new();
    for set in sets() {
        let Ok(text) = std::fs::read_to_string(set.join("compute-truth.jsonl")) else {
            continue;
        };
        let set_name = set.file_name().unwrap().to_string_lossy().to_string();
        for line in text.lines() {
            let r: J = serde_json::from_str(line).unwrap();
            let name = r["file"].as_str().unwrap();
            let bytes = head(&set, name);
            let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
            let arch = ggufscope_testkit::arch_of(&g);
            // The truth runs' settings (`memory_corpus::options`), flash attention as recorded.
            let options = MemoryOptions {
                flash_attn: r["flash_attn"].as_bool().unwrap(),
                ..options(r["n_ctx"].as_u64().unwrap())
            };
            let plan = plan_memory_table(&g, &arch, options).unwrap().0;
            let theirs = r["compute_bytes"].as_u64().unwrap();
            // The truth's own cross-check: llama.cpp printed the same buffer in MiB.
            let printed = r["compute_mib"].as_f64().unwrap();
            assert!(
                (theirs as f64 / 1048576.0 - printed).abs() <= 0.005 + 1e-9,
                "{set_name}/{name}: {theirs} bytes, printed {printed} MiB"
            );
            if !plan.cpu_compute_replayed {
                *estimated.entry(arch).or_default() += 1;
                continue;
            }
            replayed += 1;
            if plan.cpu_compute_bytes != theirs {
                differ.push(format!(
                    "{set_name}/{name} n_ctx {} flash attention {}: ours {} llama.cpp {theirs}",
                    r["n_ctx"], r["flash_attn"], plan.cpu_compute_bytes
                ));
            }
        }
    }
    eprintln!("replayed {replayed} figures; estimated (not replayed): {estimated:?}");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(
        replayed >= REPLAYED_AT_LEAST,
        "only {replayed} figures replayed (at least {REPLAYED_AT_LEAST} expected)"
    );
}

/// Families replayed whose byte-exact truth (`compute-truth.jsonl`) is not generated yet are
/// held to llama.cpp's own 4-decimal line (`~llama_context: CPU compute buffer size is X MiB`,
/// about 100 bytes) of every set's `llama-truth.json` (flash attention off, n_ctx 512 and 4096).
/// The files replayed here must cover at least this many figures.
const PRINTED_REPLAYED_AT_LEAST: usize = 816;

/// llama.cpp's own line of the compute buffer, to four decimals.
fn printed_compute_mib(record: &J) -> Option<f64> {
    record["memory_lines"].as_array()?.iter().find_map(|l| {
        let l = l.as_str()?;
        let rest = l.split("CPU compute buffer size is").nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[test]
fn replayed_compute_buffers_equal_llama_cpp_printed_figures() {
    let mut replayed: BTreeMap<String, usize> = BTreeMap::new();
    let mut differ = Vec::new();
    for set in sets() {
        let truth: J =
            serde_json::from_str(&std::fs::read_to_string(set.join("llama-truth.json")).unwrap())
                .unwrap();
        let set_name = set.file_name().unwrap().to_string_lossy().to_string();
        for n_ctx in [512u64, 4096] {
            let Some(records) = truth[format!("n_ctx_{n_ctx}")].as_object() else {
                continue;
            };
            for (name, r) in records {
                let Some(theirs) = printed_compute_mib(r) else {
                    continue;
                };
                let bytes = head(&set, name);
                let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
                let arch = ggufscope_testkit::arch_of(&g);
                let Ok((plan, _)) = plan_memory_table(&g, &arch, options(n_ctx)) else {
                    continue;
                };
                if !plan.cpu_compute_replayed {
                    continue;
                }
                *replayed.entry(arch).or_default() += 1;
                let ours = format!("{:.4}", plan.cpu_compute_bytes as f64 / 1048576.0);
                if ours != format!("{theirs:.4}") {
                    differ.push(format!(
                        "{set_name}/{name} n_ctx {n_ctx}: ours {ours} MiB ({} bytes), llama.cpp {theirs:.4} MiB",
                        plan.cpu_compute_bytes
                    ));
                }
            }
        }
    }
    let total: usize = replayed.values().sum();
    eprintln!("replayed {total} printed figures: {replayed:?}");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(
        total >= PRINTED_REPLAYED_AT_LEAST,
        "only {total} figures replayed (at least {PRINTED_REPLAYED_AT_LEAST} expected)"
    );
}

/// A copy of a head with one key set to a u64 (tensors kept, data zeros).
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

/// Expert groups (DeepSeek-V3's routing, `build_moe_ffn` at src/llama-graph.cpp:2094-2117): no
/// file of llama.cpp's generator has them, so `tests/fixtures/expert-groups/` holds the heads of
/// two corpus files widened to 8 experts in 4 groups of which 2 are kept
/// (`cargo run -p ggufscope-testkit --example expert_groups`), with what llama.cpp printed loading
/// each full file (`tools/llama-ref/llama-ref-load`, flash attention off, n_ctx 512 and 4096).
#[test]
fn expert_groups_equal_llama_cpp_printed_figures() {
    let set = fixtures_dir().join("expert-groups");
    let truth: J =
        serde_json::from_str(&std::fs::read_to_string(set.join("llama-truth.json")).unwrap())
            .unwrap();
    let mut compared = 0;
    for n_ctx in [512u64, 4096] {
        for (name, r) in truth[format!("n_ctx_{n_ctx}")].as_object().unwrap() {
            let theirs = printed_compute_mib(r).unwrap();
            let bytes = read_fixture(&set.join(name));
            let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
            let groups = g
                .metadata()
                .get_u64(&format!(
                    "{}.expert_group_count",
                    ggufscope_testkit::arch_of(&g)
                ))
                .unwrap();
            assert_eq!(groups, Some(4), "{name}");
            let (plan, _) =
                plan_memory_table(&g, &ggufscope_testkit::arch_of(&g), options(n_ctx)).unwrap();
            assert!(plan.cpu_compute_replayed, "{name} n_ctx {n_ctx}");
            assert_eq!(
                format!("{:.4}", plan.cpu_compute_bytes as f64 / 1048576.0),
                format!("{theirs:.4}"),
                "{name} n_ctx {n_ctx}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 4);
}

/// Extreme header values never panic the replay (the tests run with overflow checks): every
/// size key of each replayed architecture's corpus file at 0, 1, 7, 2^16, 2^32 - 1 and
/// 2^63 - 1, at n_ctx 512 with four sequences and flash attention off (placed on one CUDA GPU
/// with one layer: the scheduler's replay) and at n_ctx 4096 with one and flash attention on,
/// gives a plan or an error.
#[test]
fn replay_survives_hostile_sizes() {
    let suffixes = [
        "embedding_length",
        "block_count",
        "feed_forward_length",
        "attention.head_count",
        "attention.head_count_kv",
        "attention.key_length",
        "attention.value_length",
        "expert_count",
        "expert_used_count",
        "expert_feed_forward_length",
        "attention.sliding_window",
        "vocab_size",
        "ssm.conv_kernel",
        "ssm.inner_size",
        "ssm.state_size",
        "ssm.time_step_rank",
        "ssm.group_count",
        "shortconv.l_cache",
        "kda.head_dim",
        "expert_group_count",
        "expert_group_used_count",
        "hrm.layers_per_stack",
        "hrm.h_cycles",
        "hrm.l_cycles",
        "experts_per_group",
        "expert_chunk_feed_forward_length",
        "hyper_connection.count",
        "attn_res.block_size",
        "expert_latent_length",
        "attention.indexer.top_k",
        "attention.indexer.head_count",
    ];
    let (mut planned, mut replayed, mut cuda_replayed) = (0, 0, 0);
    for name in [
        "llama-dense.gguf",
        "llama-moe.gguf",
        "qwen3-dense.gguf",
        "phi3-dense.gguf",
        "gemma3-dense.gguf",
        "deepseek2-moe.gguf",
        "minicpm3-dense.gguf",
        "gpt-oss-moe.gguf",
        "qwen2moe-moe.gguf",
        "cohere2moe-moe.gguf",
        "llama4-moe.gguf",
        "granitehybrid-dense.gguf",
        "mamba2-dense.gguf",
        "nemotron_h_moe-dense.gguf",
        "falcon-h1-dense.gguf",
        "jamba-dense.gguf",
        "qwen35moe-moe.gguf",
        "lfm2moe-moe.gguf",
        "kimi-linear-moe.gguf",
        "deci-dense.gguf",
        "bailingmoe2-moe.gguf",
        "dots3note-moe.gguf",
        "glm-dsa-moe.gguf",
        "glm5-next-moe.gguf",
        "minimax-m3-moe.gguf",
        "hrm_text-dense.gguf",
        "plamo2-dense.gguf",
        "minimax-01-moe.gguf",
        "grovemoe-moe.gguf",
        "laguna-moe.gguf",
        "bailingmoe3-moe.gguf",
        "hy_v4-moe.gguf",
        "kimi-k3-moe.gguf",
    ] {
        let bytes = read_fixture(&llama_archs_dir().join(name));
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = ggufscope_testkit::arch_of(&g);
        for suffix in suffixes {
            let key = format!("{arch}.{suffix}");
            for value in [0, 1, 7, 1 << 16, u64::from(u32::MAX), i64::MAX as u64] {
                let head = with_kv(&g, &key, value);
                let h = Gguf::parse_with(&head, ParseOptions::lenient()).unwrap();
                // The first with four sequences, one KV stream and one state row each.
                for (n_ctx, fa, n_parallel) in [(512, false, 4), (4096, true, 1)] {
                    let options = MemoryOptions {
                        n_ctx,
                        flash_attn: fa,
                        n_parallel,
                        ..MemoryOptions::default()
                    };
                    if let Ok((mut plan, _)) = plan_memory_table(&h, &arch, options) {
                        planned += 1;
                        replayed += usize::from(plan.cpu_compute_replayed);
                        // The CUDA scheduler's replay (one layer on the GPU) on the first.
                        if n_parallel > 1 {
                            let o = PlacementOptions {
                                backend: Backend::Cuda,
                                n_gpu_layers: Some(1),
                                ..PlacementOptions::default()
                            };
                            if apply_placement(&mut plan, &o).is_ok() {
                                cuda_replayed += usize::from(plan.cuda_compute_replayed);
                            }
                        }
                    }
                }
            }
        }
    }
    // Both paths ran: the replay (hostile values within its bounds, or keys the graph does
    // not read) and the estimate.
    assert!(
        planned > 100 && replayed > 50 && replayed < planned && cuda_replayed > 25,
        "{replayed} of {planned}, CUDA {cuda_replayed}"
    );
}

/// Every line of a corpus truth file (`tests/fixtures/<path>`) replayed with the options
/// `settings` reads off it, each required replayed and equal to llama.cpp's bytes; returns the
/// count compared.
fn replay_truth_lines(path: &str, settings: impl Fn(&J, MemoryOptions) -> MemoryOptions) -> usize {
    let text = std::fs::read_to_string(fixtures_dir().join(path)).unwrap();
    let mut differ = Vec::new();
    let mut compared = 0;
    for line in text.lines() {
        let r: J = serde_json::from_str(line).unwrap();
        let name = r["file"].as_str().unwrap();
        let bytes = read_fixture(&llama_archs_dir().join(name));
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = ggufscope_testkit::arch_of(&g);
        let base = MemoryOptions {
            flash_attn: r["flash_attn"].as_bool().unwrap(),
            ..options(r["n_ctx"].as_u64().unwrap())
        };
        let plan = plan_memory_table(&g, &arch, settings(&r, base)).unwrap().0;
        let theirs = r["compute_bytes"].as_u64().unwrap();
        assert!(plan.cpu_compute_replayed, "{line}: not replayed");
        compared += 1;
        if plan.cpu_compute_bytes != theirs {
            differ.push(format!("{line}: ours {}", plan.cpu_compute_bytes));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    compared
}

/// Quantized KV caches (`--cache-type-k/-v`): the Hadamard rotations llama.cpp adds around the
/// attention (src/llama-kv-cache.cpp:321-337, src/llama-graph.cpp:2883-2930) replayed, held to
/// llama.cpp's bytes (`tests/fixtures/cache-types/compute-truth.jsonl`, written by
/// `tools/llama-ref/make-cache-compute-truth.sh`: llama, qwen3, phi3's fused QKV, gemma3's two
/// caches and qwen35's hybrid, n_ctx 512 and 4096, six K/V type and flash-attention cases).
#[test]
fn quantized_cache_compute_buffers_equal_llama_cpp_bytes() {
    let ty = |r: &J, k: &str| ggufscope_gguf::GgmlType::from_name(r[k].as_str().unwrap()).unwrap();
    let compared = replay_truth_lines("cache-types/compute-truth.jsonl", |r, o| MemoryOptions {
        type_k: ty(r, "type_k"),
        type_v: ty(r, "type_v"),
        ..o
    });
    assert_eq!(compared, 72);
}

/// Several sequences (`--parallel N`): one KV stream each (the ubatch split per stream, each
/// group attending to its stream's cells) or one shared (`--kv-unified`), and the ubatch split
/// into `N` sequences of `ub / N` tokens whose recurrent layers read and write one state each;
/// replayed and held to llama.cpp's bytes (`tests/fixtures/parallel/compute-truth.jsonl`, written
/// by `tools/llama-ref/make-parallel-truth.sh`: llama dense and MoE, qwen3, gemma3's two caches,
/// phi3's fused QKV, deepseek2's absorbed and minicpm3's decompressed latent attention,
/// cohere2's parallel blocks, and the recurrent and hybrid graphs — Mamba, Mamba-2, short
/// convolutions, gated delta nets, Kimi delta attention, lightning attention, and glm5-next's
/// k-pool indexer over one shared stream; N 2 and 4, n_ctx 512 and 4096, flash attention off
/// and on).
#[test]
fn parallel_sequence_compute_buffers_equal_llama_cpp_bytes() {
    let compared = replay_truth_lines("parallel/compute-truth.jsonl", |r, o| MemoryOptions {
        n_parallel: r["n_parallel"].as_u64().unwrap(),
        kv_unified: r["kv_unified"].as_bool().unwrap(),
        ..o
    });
    assert_eq!(compared, 408);
}
