//! `--fit` (llama.cpp's `common_fit_params`, `common/fit.cpp:179-877`) and `--ngl-step` on
//! corpus heads extended to many layers: the answer is checked against every alternative
//! (each `-ngl`, each split), planned independently.

use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_model::{
    apply_placement, fit_params, offload_curve, plan_memory_table, Backend, FitMode, FitOptions,
    MemoryOptions, MemoryPlan, PlacementOptions,
};
use ggufscope_testkit::{llama_archs_dir, presets::extend_corpus_head};

const MIB: u64 = 1 << 20;

/// The corpus head `file` with `n_layer` layers, planned at `n_ctx` (unplaced: CPU).
fn planner(file: &str, n_layer: u64) -> impl Fn(u64) -> MemoryPlan {
    let bytes = extend_corpus_head(&llama_archs_dir().join(file), n_layer).to_bytes();
    move |n_ctx| {
        let g = Gguf::parse_with(&bytes, ParseOptions::lenient()).unwrap();
        let arch = g
            .metadata()
            .get_str("general.architecture")
            .unwrap()
            .unwrap();
        let options = MemoryOptions {
            n_ctx,
            ..MemoryOptions::default()
        };
        plan_memory_table(&g, arch, options).unwrap().0
    }
}

fn gpus(mems: &[u64]) -> PlacementOptions {
    PlacementOptions {
        backend: Backend::Cuda,
        gpu_mem: mems.iter().map(|&m| Some(m)).collect(),
        device_overhead: 0,
        ..PlacementOptions::default()
    }
}

/// What a GPU uses (model + context + compute), as llama.cpp's `mb.total()`.
fn used(plan: &MemoryPlan, o: &PlacementOptions) -> Vec<u64> {
    let mut p = plan.clone();
    apply_placement(&mut p, o).unwrap();
    p.devices[1..]
        .iter()
        .map(|d| d.total_bytes - d.overhead_bytes)
        .collect()
}

fn fit_options(mode: FitMode, margin: u64, n_ctx: u64) -> FitOptions {
    FitOptions {
        mode,
        margins: vec![margin],
        n_ctx_min: 4096,
        n_ctx_max: n_ctx,
        n_streams: 1,
        n_expert: 0,
    }
}

/// One GPU, a dense 32-layer model, several budgets: `--fit` answers the largest `-ngl` whose
/// GPU use leaves the margin free, found here by planning every `-ngl` from 0 to 33.
#[test]
fn fit_finds_the_largest_ngl_on_one_gpu() {
    let plan = planner("llama-dense.gguf", 32);
    let base = plan(4096);
    assert_eq!(base.n_layer_all, 32);
    let margin = 4 * MIB;
    let mut answers = Vec::new();
    for budget_mib in [8, 12, 20, 40, 60, 80, 200, 400] {
        let budget = budget_mib * MIB;
        let o = gpus(&[budget]);
        let (fit, fitted) = fit_params(
            &mut |n| plan(n),
            &o,
            &fit_options(FitMode::Ngl, margin, 4096),
        )
        .unwrap();
        // Every -ngl, planned on its own.
        let fits = |ngl: u64| {
            let mut oo = o.clone();
            oo.n_gpu_layers = Some(ngl);
            used(&base, &oo)[0] + margin <= budget
        };
        let want = (0..=33).rev().find(|&n| fits(n)).unwrap_or(0);
        assert!(fit.success, "{budget_mib} MiB: {:?}", fit.failure);
        if fits(33) {
            // Step 1: the defaults (every layer) fit; nothing changes.
            assert_eq!(fit.changed, "none");
            assert_eq!(fit.n_gpu_layers, 33);
        } else {
            assert_eq!(fit.changed, "layers");
            assert_eq!(fit.n_gpu_layers, want, "{budget_mib} MiB");
            assert_eq!(fit.args, format!("-c 4096 -ngl {want}"));
        }
        assert_eq!(fit.meets_margins, fits(fit.n_gpu_layers));
        assert_eq!(fitted.placement.n_gpu_layers, fit.n_gpu_layers);
        assert!(fit.overrides.is_empty() && fit.tensor_split.is_empty());
        answers.push(fit.n_gpu_layers);
    }
    // The budgets span nothing offloaded to everything, through partial offloads.
    assert!(answers.windows(2).all(|w| w[0] <= w[1]), "{answers:?}");
    assert_eq!(answers.first(), Some(&0));
    assert_eq!(answers.last(), Some(&33));
    assert!(
        answers.iter().filter(|&&n| n > 0 && n < 33).count() >= 3,
        "{answers:?}"
    );
}

/// Two GPUs: llama.cpp fills the last GPU first with as many layers as fit, then the one
/// before with what is left (`common/fit.cpp:675-729`) and writes the counts as `-ts`.
#[test]
fn fit_fills_two_gpus_back_to_front() {
    let plan = planner("llama-dense.gguf", 32);
    let base = plan(4096);
    let margin = 2 * MIB;
    for (a, b) in [(30, 30), (60, 30), (30, 60), (200, 30)] {
        let budgets = [a * MIB, b * MIB];
        let o = gpus(&budgets);
        let (fit, _) = fit_params(
            &mut |n| plan(n),
            &o,
            &fit_options(FitMode::Ngl, margin, 4096),
        )
        .unwrap();
        let split_fits = |n0: u64, n1: u64| {
            let mut oo = o.clone();
            oo.n_gpu_layers = Some(n0 + n1);
            oo.tensor_split = vec![n0 as f64, n1 as f64];
            let u = used(&base, &oo);
            (u[0] + margin <= budgets[0], u[1] + margin <= budgets[1])
        };
        if fit.changed == "none" {
            continue;
        }
        let [n0, n1] = [fit.tensor_split[0], fit.tensor_split[1]];
        assert_eq!(fit.n_gpu_layers, n0 + n1);
        // The last GPU holds the most layers it can (with none on the first).
        let n1_max = (0..=33).rev().find(|&n| split_fits(0, n).1).unwrap();
        assert_eq!(n1, n1_max, "{a},{b} MiB");
        // The first GPU, the most of what is left.
        let n0_max = (0..=33 - n1).rev().find(|&n| split_fits(n, n1).0).unwrap();
        assert_eq!(n0, n0_max, "{a},{b} MiB");
        assert!(fit.meets_margins);
        assert_eq!(fit.args, format!("-c 4096 -ngl {} -ts {n0},{n1}", n0 + n1));
    }
}

/// `--fit ctx` (llama.cpp with `-c 0`): the context is reduced first, by llama.cpp's linear
/// interpolation between the smallest and the largest context (`common/fit.cpp:424-431`),
/// rounded down to 256; one GPU that fits then keeps every layer.
#[test]
fn fit_ctx_interpolates_the_context() {
    let plan = planner("llama-dense.gguf", 32);
    let (n_min, n_max) = (4096, 65536);
    let o = gpus(&[400 * MIB]);
    let margin = 8 * MIB;
    let used_max = i64::try_from(used(&plan(n_max), &o)[0]).unwrap();
    let used_min = i64::try_from(used(&plan(n_min), &o)[0]).unwrap();
    let target = i64::try_from(400 * MIB - margin).unwrap();
    assert!(
        used_max > target && used_min < target,
        "{used_min} {used_max}"
    );
    let (fit, fitted) = fit_params(
        &mut |n| plan(n),
        &o,
        &fit_options(FitMode::Ctx, margin, n_max),
    )
    .unwrap();
    let mut want = n_min
        + u64::try_from(
            i64::try_from(n_max - n_min).unwrap() * (target - used_min) / (used_max - used_min),
        )
        .unwrap();
    want -= want % 256;
    assert_eq!(fit.changed, "context");
    assert_eq!(fit.n_ctx, want);
    assert!(fit.n_ctx > n_min && fit.n_ctx < n_max);
    assert_eq!(fit.n_gpu_layers, 33);
    assert_eq!(fitted.n_ctx, want);
    assert!(fit.meets_margins);
    // With the context fixed (--fit ngl), the same budget takes layers off instead.
    let (fit, _) = fit_params(
        &mut |n| plan(n),
        &o,
        &fit_options(FitMode::Ngl, margin, n_max),
    )
    .unwrap();
    assert_eq!(fit.n_ctx, n_max);
    assert!(fit.n_gpu_layers < 33);
}

/// llama.cpp refuses to change what the user set (`common/fit.cpp:463-486`).
#[test]
fn fit_keeps_what_the_user_set() {
    let plan = planner("llama-dense.gguf", 8);
    let mut o = gpus(&[12 * MIB]);
    o.n_gpu_layers = Some(9);
    let (fit, _) = fit_params(&mut |n| plan(n), &o, &fit_options(FitMode::Ngl, MIB, 4096)).unwrap();
    assert!(!fit.success);
    assert_eq!(
        fit.failure.as_deref(),
        Some("n_gpu_layers already set by user to 9, abort")
    );
}

/// A MoE model: the dense part of every layer goes to the GPU first, the experts in host
/// memory (`blk.I.ffn_*_exps` to CPU), then whole layers from the front as far as they fit
/// (`common/fit.cpp:616-876`).
#[test]
fn fit_moe_keeps_experts_on_the_host_first() {
    let plan = planner("qwen3moe-moe.gguf", 16);
    let base = plan(4096);
    let margin = 2 * MIB;
    let all = gpus(&[1 << 40]);
    let full = used(&base, &all)[0];
    let mut dense_only = all.clone();
    dense_only.overrides = ggufscope_model::n_cpu_moe_overrides(16);
    let dense = used(&base, &dense_only)[0];
    assert!(dense < full);
    // A budget between the dense part and the whole model.
    let budget = margin + dense + (full - dense) / 2;
    let o = gpus(&[budget]);
    let mut f = fit_options(FitMode::Ngl, margin, 4096);
    f.n_expert = 4;
    let (fit, fitted) = fit_params(&mut |n| plan(n), &o, &f).unwrap();
    assert!(fit.success);
    assert!(fit.meets_margins);
    assert_eq!(
        fit.n_gpu_layers, 17,
        "every layer offloaded, experts overflowing"
    );
    assert!(!fit.overrides.is_empty());
    assert!(fit.overrides.iter().all(|x| x.buffer == "CPU"));
    // Some layers keep their experts on the GPU, others not.
    let exps_on = |dev: usize| {
        fitted
            .tensors
            .iter()
            .zip(&fitted.placement.tensors)
            .filter(|(t, &(d, _))| t.name.contains("_exps") && d == dev)
            .count()
    };
    assert!(exps_on(0) > 0 && exps_on(1) > 0, "{:?}", fit.args);
}

/// `--ngl-step`: one plan per step, from nothing offloaded to everything; each point is the
/// plan placed at that `-ngl`.
#[test]
fn offload_curve_steps_through_the_layers() {
    let plan = planner("llama-dense.gguf", 10);
    let base = plan(4096);
    let o = gpus(&[1 << 30]);
    let curve = offload_curve(&base, &o, 4).unwrap();
    let ngls: Vec<u64> = curve.iter().map(|c| c.n_gpu_layers).collect();
    assert_eq!(ngls, vec![0, 4, 8, 11]);
    for c in &curve {
        let mut oo = o.clone();
        oo.n_gpu_layers = Some(c.n_gpu_layers);
        let mut p = base.clone();
        apply_placement(&mut p, &oo).unwrap();
        assert_eq!(c.devices, p.devices);
        assert_eq!(c.total_bytes, p.total_bytes);
    }
    // GPU weights grow with every step.
    let gpu_w: Vec<u64> = curve.iter().map(|c| c.devices[1].weights_bytes).collect();
    assert!(gpu_w.windows(2).all(|w| w[0] < w[1]), "{gpu_w:?}");
}

/// The device of every tensor of a plan, by name (`blk.N.` kept; per-layer tensors without the
/// prefix, such as `rope_freqs`, named by their layer).
fn tensor_devices(plan: &MemoryPlan) -> Vec<(String, Option<u32>, String)> {
    plan.tensors
        .iter()
        .zip(&plan.placement.tensors)
        .map(|(t, &(d, _))| (t.name.clone(), t.layer, plan.devices[d].name.clone()))
        .collect()
}

/// llama.cpp's layer device (`src/llama-model.cpp:1579-1614`), written out independently:
/// `i_gpu_start = max(n_layer + 1 - ngl, 0)`, `act = min(ngl, n_layer + 1)`, a layer below
/// `i_gpu_start` on the CPU, else on GPU `upper_bound(cumulative normalised splits,
/// (il - i_gpu_start) / act)`; the output layer is layer `n_layer`; the input layer is always
/// on the CPU (:1603-1605).
fn llama_layer_device(il: u64, n_layer: u64, ngl: u64, split: &[f32]) -> String {
    let i_gpu_start = (n_layer + 1).saturating_sub(ngl);
    let act = ngl.min(n_layer + 1);
    if il < i_gpu_start || il - i_gpu_start >= act {
        return "CPU".into();
    }
    let sum: f32 = split.iter().sum();
    let mut acc = 0.0;
    let points: Vec<f32> = split
        .iter()
        .map(|s| {
            acc += s;
            acc / sum
        })
        .collect();
    let x = (il - i_gpu_start) as f32 / act as f32;
    let g = points
        .iter()
        .position(|&p| p > x)
        .unwrap_or(split.len() - 1);
    format!("CUDA{g}")
}

fn expected_device(
    name: &str,
    layer: Option<u32>,
    n_layer: u64,
    ngl: u64,
    split: &[f32],
) -> String {
    if name.starts_with("token_embd") || name.starts_with("token_types") {
        return "CPU".into();
    }
    match layer {
        Some(il) => llama_layer_device(u64::from(il), n_layer, ngl, split),
        None => llama_layer_device(n_layer, n_layer, ngl, split),
    }
}

/// The placement table on an 8-layer file: `--ngl` 0 … 9 on one GPU, and `--tensor-split`
/// 3,1 / 1,1 / 1,3 on two GPUs at several `--ngl`: every tensor on the device llama.cpp's
/// loader gives it. cuda-truth.json's partial records (the 2-layer heads at -ngl 1 and 2) give
/// the same counts of offloaded layers, checked in `memory_cuda.rs`.
#[test]
fn placement_table_on_eight_layers() {
    let plan = planner("llama-dense.gguf", 8)(4096);
    assert_eq!(plan.n_layer_all, 8);
    let place = |ngl: u64, split: &[f32]| {
        let mut p = plan.clone();
        let o = PlacementOptions {
            backend: Backend::Cuda,
            n_gpu_layers: Some(ngl),
            gpu_mem: vec![Some(24 << 30); split.len().max(1)],
            tensor_split: split.iter().map(|&x| f64::from(x)).collect(),
            ..PlacementOptions::default()
        };
        apply_placement(&mut p, &o).unwrap();
        p
    };
    let mut checked = 0;
    for ngl in 0..=9 {
        let p = place(ngl, &[]);
        for (name, layer, dev) in tensor_devices(&p) {
            assert_eq!(
                dev,
                expected_device(&name, layer, 8, ngl, &[1.0]),
                "-ngl {ngl}: {name}"
            );
            checked += 1;
        }
        assert_eq!(p.placement.offloaded_layers, ngl);
    }
    for split in [[3.0f32, 1.0], [1.0, 1.0], [1.0, 3.0]] {
        for ngl in [3, 6, 9] {
            let p = place(ngl, &split);
            for (name, layer, dev) in tensor_devices(&p) {
                let want = expected_device(&name, layer, 8, ngl, &split);
                assert_eq!(dev, want, "-ts {split:?} -ngl {ngl}: {name}");
                checked += 1;
            }
        }
    }
    // 3,1 with every layer: layers 0-6 (x < 0.75) on CUDA0, layer 7 and the output on CUDA1.
    assert_eq!(
        place(9, &[3.0, 1.0]).placement.layer_devices,
        [1, 1, 1, 1, 1, 1, 1, 2, 2]
    );
    assert!(checked > 500, "{checked}");
}

/// `--n-cpu-moe N` on an 8-layer MoE file: the expert tensors of layers `< N` in host memory,
/// everything else where `--ngl` puts it (`common/arg.cpp:2766-2775`, first matching override
/// wins, `src/llama-model-loader.cpp:1235-1259`).
#[test]
fn n_cpu_moe_on_eight_layers() {
    let plan = planner("qwen3moe-moe.gguf", 8)(4096);
    for n in [0, 1, 4, 8] {
        for ngl in [5, 9] {
            let mut p = plan.clone();
            let o = PlacementOptions {
                backend: Backend::Cuda,
                n_gpu_layers: Some(ngl),
                overrides: ggufscope_model::n_cpu_moe_overrides(n),
                ..PlacementOptions::default()
            };
            apply_placement(&mut p, &o).unwrap();
            let mut experts = 0;
            for (name, layer, dev) in tensor_devices(&p) {
                let want = match layer {
                    Some(il) if name.contains("_exps") && u64::from(il) < n => "CPU".to_string(),
                    _ => expected_device(&name, layer, 8, ngl, &[1.0]),
                };
                experts += usize::from(name.contains("_exps"));
                assert_eq!(dev, want, "--n-cpu-moe {n} -ngl {ngl}: {name}");
            }
            // The same expert tensors in every layer.
            assert!(experts >= 8 * 3 && experts % 8 == 0, "{experts}");
        }
    }
}
