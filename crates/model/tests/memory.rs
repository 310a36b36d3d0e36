//! The memory plan against llama.cpp's sizing rules.

use ggufscope_gguf::{GgmlType, Gguf};
use ggufscope_model::{fit_gpus, plan_memory, MemoryOptions, ModelConfig};
use ggufscope_testkit::{presets, read_real};

use crate::Written;

#[test]
fn phi3_mini_at_4096_tokens() {
    let w = Written::new(&presets::phi3_mini_4k());
    let g = w.gguf();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let p = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 4096,
            ..MemoryOptions::default()
        },
    );
    let exact: u64 = g.tensors().iter().map(|t| t.n_bytes().unwrap()).sum();
    assert_eq!((p.weights_bytes, p.weights_estimated), (exact, false));
    // 32 layers x 4096 cells x 3072 (MHA: K width = n_embd) x 2 bytes, for K and for V:
    // the 1536 MiB llama.cpp reports for Phi-3-mini at n_ctx 4096 with an f16 cache.
    assert_eq!(p.kv_cache_bytes, 32 * 4096 * 3072 * 2 * 2);
    assert_eq!(p.kv_cache_bytes, 1536 << 20);
    assert_eq!(p.output_bytes, 32064 * 4);
    assert_eq!(
        p.layers.iter().filter(|l| l.swa).count(),
        0,
        "phi3's window is disabled in llama.cpp"
    );
    let layer_weights: u64 = p.layers.iter().map(|l| l.weights_bytes).sum();
    assert_eq!(layer_weights + p.non_layer_weights_bytes, exact);
    assert_eq!(
        p.total_bytes,
        exact + p.kv_cache_bytes + p.output_bytes + p.compute_bytes
    );
    assert_eq!(p.cpu_repack_bytes, 0);
    // llama.cpp@0c1e57098 loading this layout on its CPU backend logs
    // `CPU_REPACK model buffer size = 1242.00 MiB` (the 80 q4_K matrices other than token_embd).
    let cpu = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 4096,
            cpu_repack: true,
            ..MemoryOptions::default()
        },
    );
    assert_eq!(cpu.cpu_repack_bytes, 1_302_331_392);
    assert_eq!(cpu.cpu_repack_bytes as f64 / 1048576.0, 1242.0);
}

/// llama.cpp@0c1e57098 (`sched_reserve: CPU compute buffer size`, `llama_kv_cache: size`,
/// `output buffer size`, `CPU_Mapped model buffer size`), loading the Phi-3-mini and
/// Qwen2.5-0.5B layouts written by the testkit (tokenizer replaced by `no_vocab` + vocab_size),
/// n_batch 2048, n_ubatch 512, one sequence, f16 cache. MiB as llama.cpp prints them.
#[test]
fn figures_match_what_llama_cpp_reports() {
    let mib = |b: u64| (b as f64 / 1048576.0 * 100.0).round() / 100.0;
    let cases = [
        // (fixture, n_ctx, flash_attn, weights, kv, output, compute)
        (
            presets::phi3_mini_4k(),
            4096,
            false,
            2281.66,
            1536.00,
            0.12,
            294.01,
        ),
        (
            presets::phi3_mini_4k(),
            16384,
            false,
            2281.66,
            6144.00,
            0.12,
            1086.01,
        ),
        (
            presets::phi3_mini_4k(),
            16384,
            true,
            2281.66,
            6144.00,
            0.12,
            82.01,
        ),
        (
            presets::phi3_mini_4k(),
            4096,
            true,
            2281.66,
            1536.00,
            0.12,
            90.64,
        ),
        (
            presets::qwen2_5_0_5b(),
            4096,
            false,
            942.43,
            48.00,
            0.58,
            302.00,
        ),
        (
            presets::qwen2_5_0_5b(),
            16384,
            false,
            942.43,
            192.00,
            0.58,
            489.26,
        ),
        (
            presets::qwen2_5_0_5b(),
            4096,
            true,
            942.43,
            48.00,
            0.58,
            300.25,
        ),
    ];
    for (f, n_ctx, flash_attn, weights, kv, output, compute) in cases {
        let w = Written::new(&f);
        let g = w.gguf();
        let cfg = ModelConfig::from_gguf(&g).unwrap();
        let p = plan_memory(
            &g,
            &cfg,
            MemoryOptions {
                n_ctx,
                flash_attn,
                ..MemoryOptions::default()
            },
        );
        assert_eq!(
            mib(p.weights_bytes),
            weights,
            "{} weights",
            cfg.architecture
        );
        assert_eq!(mib(p.kv_cache_bytes), kv, "{} kv", cfg.architecture);
        assert_eq!(mib(p.output_bytes), output, "{} output", cfg.architecture);
        // The compute buffer is an estimate: within 12% of llama.cpp's (and the total within 1%).
        let c = mib(p.compute_bytes);
        assert!(
            (c - compute).abs() / compute < 0.12,
            "{} n_ctx {n_ctx} fa {flash_attn}: compute {c} vs {compute}",
            cfg.architecture
        );
        let theirs = weights + kv + output + compute;
        let ours = mib(p.total_bytes);
        assert!(
            (ours - theirs).abs() / theirs < 0.01,
            "total {ours} vs {theirs}"
        );
    }
}

#[test]
fn context_is_padded_to_256_and_kv_type_counts() {
    let w = Written::new(&presets::qwen2_5_0_5b());
    let g = w.gguf();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let p = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 1000,
            ..MemoryOptions::default()
        },
    );
    assert_eq!(p.n_ctx, 1024);
    // GQA 14/2: K and V are 2 x 64 = 128 wide.
    assert_eq!(p.kv_cache_bytes, 24 * 1024 * 128 * 2 * 2);
    let q8 = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 1024,
            type_k: GgmlType::Q8_0,
            type_v: GgmlType::Q8_0,
            ..MemoryOptions::default()
        },
    );
    assert_eq!(q8.kv_cache_bytes, 24 * 1024 * (128 / 32 * 34) * 2);
    // Default context: the training context.
    let d = plan_memory(&g, &cfg, MemoryOptions::default());
    assert_eq!(d.n_ctx, 32768);
}

#[test]
fn sliding_window_layers_hold_the_window_plus_a_ubatch() {
    let g3 = gemma3_bytes(8);
    let g = Gguf::parse(&g3).unwrap();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let p = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 8192,
            ..MemoryOptions::default()
        },
    );
    // Period 6: layers 5 (and 11, ...) are global; the others hold PAD(512 + 512, 256) cells.
    let cells: Vec<(bool, u64)> = p.layers.iter().map(|l| (l.swa, l.kv_cells)).collect();
    assert_eq!(
        cells,
        [
            (true, 1024),
            (true, 1024),
            (true, 1024),
            (true, 1024),
            (true, 1024),
            (false, 8192),
            (true, 1024),
            (true, 1024)
        ]
    );
    let full = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 8192,
            swa_full: true,
            ..MemoryOptions::default()
        },
    );
    assert!(full.layers.iter().all(|l| l.kv_cells == 8192));
}

fn gemma3_bytes(layers: u32) -> Vec<u8> {
    use ggufscope_gguf::OwnedValue;
    let (e, ff, hd, h, kv, vocab) = (48u64, 64u64, 32u64, 2u64, 1u64, 100u64);
    let mut f = ggufscope_testkit::presets::ModelFixture::default();
    f.set_kv("general.architecture", "gemma3")
        .set_kv("gemma3.context_length", 8192u32)
        .set_kv("gemma3.embedding_length", e as u32)
        .set_kv("gemma3.block_count", layers)
        .set_kv("gemma3.feed_forward_length", ff as u32)
        .set_kv("gemma3.attention.head_count", h as u32)
        .set_kv("gemma3.attention.head_count_kv", kv as u32)
        .set_kv("gemma3.attention.key_length", hd as u32)
        .set_kv("gemma3.attention.value_length", hd as u32)
        .set_kv("gemma3.attention.sliding_window", 512u32)
        .set_kv("gemma3.attention.layer_norm_rms_epsilon", 1e-6f32)
        .set_kv("tokenizer.ggml.model", "llama")
        .set_kv(
            "tokenizer.ggml.tokens",
            OwnedValue::strings((0..vocab).map(|i| format!("t{i}"))),
        );
    f.to_bytes()
}

#[test]
fn vocab_only_files_get_an_estimate() {
    let bytes = read_real("ggml-vocab-phi-3.gguf");
    let g = Gguf::parse(&bytes).unwrap();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let p = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 4096,
            assumed_weight_type: GgmlType::Q8_0,
            ..MemoryOptions::default()
        },
    );
    assert!(p.weights_estimated);
    // 3,821,079,552 parameters: matrices as q8_0 (34 bytes per 32), norms as f32.
    let norms = 65 * 3072 * 4;
    let matrices = (3_821_079_552u64 - 65 * 3072) / 32 * 34;
    assert_eq!(p.weights_bytes, matrices + norms);
}

#[test]
fn gpu_fit_places_whole_layers_in_order() {
    let w = Written::new(&presets::phi3_mini_4k());
    let g = w.gguf();
    let cfg = ModelConfig::from_gguf(&g).unwrap();
    let p = plan_memory(
        &g,
        &cfg,
        MemoryOptions {
            n_ctx: 4096,
            ..MemoryOptions::default()
        },
    );
    let per_layer = p.layers[0].weights_bytes + p.layers[0].k_bytes + p.layers[0].v_bytes;
    let fit = fit_gpus(&p, &[p.compute_bytes + 10 * per_layer, u64::MAX]);
    assert!(
        fit.gpus[0].layer_count <= 10 && fit.gpus[0].layer_count >= 9,
        "{fit:?}"
    );
    assert_eq!(fit.layers_on_gpus, 32);
    assert_eq!(fit.layers_on_host, 0);
    let none = fit_gpus(&p, &[1 << 20]);
    assert_eq!((none.layers_on_gpus, none.layers_on_host), (0, 32));
}

#[path = "memory_cuda.rs"]
mod memory_cuda;

#[path = "memory_fit.rs"]
mod memory_fit;
