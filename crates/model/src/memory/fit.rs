//! `--fit`: the `n_gpu_layers`, tensor split, expert overrides and (with `--fit ctx`) context
//! that fit the given GPUs, as llama.cpp's `common_fit_params` (`llama-fit-params`, and `--fit
//! on`, the default of llama.cpp's tools) chooses them: `common/fit.cpp:179-877` of 0c1e570.
//!
//! llama.cpp measures each candidate by loading the model with `no_alloc` and reading the memory
//! breakdown per device (`common_get_device_memory_data_impl`, `common/fit.cpp:30-154`); here
//! each candidate is a [`MemoryPlan`] placed by [`apply_placement`], a device's use being its
//! model, context and compute buffers (`mb.total()`, the device overhead left out: llama.cpp
//! compares against the device's *free* memory, which is `--gpu-mem` less that overhead).
//!
//! The steps, in llama.cpp's order:
//! 1. with the parameters as given (all layers offloaded unless `--ngl`), nothing to do if every
//!    GPU keeps its margin free (`common/fit.cpp:261-371`);
//! 2. only when the context is left to llama.cpp (`-c 0`; here `--fit ctx`): reduce it,
//!    interpolating linearly between the smallest (`--fit-ctx`, default 4096) and the largest
//!    context, rounded down to `256 × n_streams`; one GPU: done (`:373-458`);
//! 3. refused if `-ngl`, `-ts` or `-ot`/`--n-cpu-moe` were given (`:463-486`); else fill the GPUs
//!    back to front with whole layers, by the method of false position; for a MoE model every
//!    layer but the output one first keeps its experts in host memory (`:488-733`);
//! 4. MoE, when every dense weight fits: turn expert-less layers into full layers front to back,
//!    and try one more layer with part of its FFN overflowing to the next device (`:735-876`).

use super::{apply_placement, MemoryPlan, OverrideTarget, PlacementError, PlacementOptions};
use super::{DeviceMemory, TensorOverride};
use serde::Serialize;

/// What `--fit` may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FitMode {
    /// The context is the user's: only layers, split and expert overrides change (llama.cpp
    /// with `-c N`).
    #[default]
    Ngl,
    /// The context is left to llama.cpp (`-c 0`): it is reduced first, down to `--fit-ctx`.
    Ctx,
}

/// `--fit`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitOptions {
    /// What may change.
    pub mode: FitMode,
    /// Memory to leave free per GPU (`--fit-target`, llama.cpp's default 1024 MiB per device,
    /// `common/common.h:483`); one value is used for every GPU.
    pub margins: Vec<u64>,
    /// The smallest context `--fit ctx` may choose (`--fit-ctx`, default 4096,
    /// `common/common.h:480`), per sequence stream.
    pub n_ctx_min: u64,
    /// The largest context (`--fit ctx`: llama.cpp's training context `× n_streams`, or `--ctx`
    /// when given); with `--fit ngl` the context of the plan.
    pub n_ctx_max: u64,
    /// Sequence streams (`n_seq_max` unless the cache is unified).
    pub n_streams: u64,
    /// `hparams.n_expert` (0: a dense model).
    pub n_expert: u64,
}

/// llama.cpp's default margin: 1 GiB per device (`common/common.h:483`).
pub const DEFAULT_FIT_MARGIN: u64 = 1 << 30;
/// llama.cpp's default smallest context for `--fit` (`common/common.h:480`).
pub const DEFAULT_FIT_MIN_CTX: u64 = 4096;

/// One `-ot` override `--fit` sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitOverride {
    /// The regex.
    pub pattern: String,
    /// The buffer type: `CPU` or `CUDAn`.
    pub buffer: String,
}

/// `--fit`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitOutcome {
    /// What could change.
    pub mode: FitMode,
    /// Whether llama.cpp's procedure succeeded (`COMMON_PARAMS_FIT_STATUS_SUCCESS`).
    pub success: bool,
    /// Why it did not (llama.cpp's message).
    pub failure: Option<String>,
    /// Whether every GPU keeps its margin with the answer.
    pub meets_margins: bool,
    /// What changed: `none` (fits as given), `context`, `layers`.
    pub changed: &'static str,
    /// The context chosen (`-c`).
    pub n_ctx: u64,
    /// `-ngl`.
    pub n_gpu_layers: u64,
    /// `-ts`: layers per GPU (empty with one GPU).
    pub tensor_split: Vec<u64>,
    /// `-ot`: expert (and partial-layer) overrides.
    pub overrides: Vec<FitOverride>,
    /// The margins used per GPU.
    pub margin_bytes: Vec<u64>,
    /// The arguments as `llama-fit-params` prints them (`tools/fit-params/fit-params.cpp:45-69`).
    pub args: String,
    /// Plans measured.
    pub measurements: u64,
}

/// The part of a layer a partial layer keeps on its device (`common/fit.cpp:17-24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fraction {
    Attn,
    Up,
    Gate,
    Moe,
}

/// The tensors of layer `il` that overflow (`get_overflow_pattern`, `common/fit.cpp:493-530`).
fn overflow_pattern(il: u64, f: Fraction) -> String {
    match f {
        Fraction::Attn => format!("blk\\.{il}\\.ffn_(gate|up|gate_up|down).*"),
        Fraction::Up => format!("blk\\.{il}\\.ffn_(gate|gate_up|down).*"),
        Fraction::Gate => format!("blk\\.{il}\\.ffn_down.*"),
        Fraction::Moe => format!("blk\\.{il}\\.ffn_(up|down|gate_up|gate)_(ch|)exps"),
    }
}

/// `ngl_t` (`common/fit.cpp:532-543`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ngl {
    n_layer: u64,
    n_part: u64,
    overflow: Fraction,
}

impl Default for Ngl {
    fn default() -> Self {
        Self {
            n_layer: 0,
            n_part: 0,
            overflow: Fraction::Moe,
        }
    }
}

impl Ngl {
    fn n_full(&self) -> u64 {
        self.n_layer.saturating_sub(self.n_part)
    }
}

/// `uint32_t step_size = int64_t(delta) * (target - mem) / (mem_high - mem)` with C++'s
/// conversion (a negative value wraps), then clamped to `[1, delta - 1]`
/// (`common/fit.cpp:694-696`).
fn step_size(delta: u64, target: i64, mem: i64, mem_high: i64) -> u64 {
    let den = (mem_high - mem).max(1);
    let raw = i128::from(i64::try_from(delta).unwrap_or(i64::MAX)) * i128::from(target - mem)
        / i128::from(den);
    let wrapped = u64::try_from(raw.rem_euclid(1 << 32)).unwrap_or(0);
    wrapped.max(1).min(delta.saturating_sub(1))
}

struct Fitter<'a> {
    plan: MemoryPlan,
    base: &'a PlacementOptions,
    hp_ngl: u64,
    nd: usize,
    measurements: u64,
}

/// A configuration: layers per GPU and where each device's first partial layer overflows.
type Config = (Vec<Ngl>, Vec<OverrideTarget>);

impl Fitter<'_> {
    /// Per GPU: model + context + compute (`mb.total()`).
    fn used(plan: &MemoryPlan) -> Vec<i64> {
        plan.devices
            .iter()
            .skip(1)
            .map(|d| i64::try_from(d.total_bytes - d.overhead_bytes).unwrap_or(i64::MAX))
            .collect()
    }

    /// `set_ngl_tensor_split_tbo` (`common/fit.cpp:548-586`): the options of a configuration.
    fn options(&self, (ngl, bufts): &Config) -> (PlacementOptions, Vec<FitOverride>) {
        let mut o = self.base.clone();
        let n_gpu_layers: u64 = ngl.iter().map(|n| n.n_layer).sum();
        o.n_gpu_layers = Some(n_gpu_layers);
        if self.nd > 1 {
            #[allow(clippy::cast_precision_loss)]
            let split = ngl.iter().map(|n| n.n_layer as f64).collect();
            o.tensor_split = split;
        }
        let mut shown = Vec::new();
        let mut il0 = (self.hp_ngl + 1).saturating_sub(n_gpu_layers);
        for (n, &buft) in ngl.iter().zip(bufts) {
            il0 += n.n_full();
            for il in il0..il0 + n.n_part {
                let first = il == il0;
                let pattern = overflow_pattern(il, if first { n.overflow } else { Fraction::Moe });
                let target = if first { buft } else { OverrideTarget::Host };
                shown.push(FitOverride {
                    pattern: pattern.clone(),
                    buffer: match target {
                        OverrideTarget::Host => "CPU".to_string(),
                        OverrideTarget::Gpu(g) => format!("CUDA{g}"),
                    },
                });
                o.overrides.push(TensorOverride { pattern, target });
            }
            il0 += n.n_part;
        }
        (o, shown)
    }

    fn place(&mut self, o: &PlacementOptions) -> Result<MemoryPlan, PlacementError> {
        self.measurements += 1;
        let mut p = self.plan.clone();
        apply_placement(&mut p, o)?;
        Ok(p)
    }

    /// `get_memory_for_layers` (`common/fit.cpp:589-614`).
    fn memory(&mut self, c: &Config) -> Result<Vec<i64>, PlacementError> {
        let (o, _) = self.options(c);
        Ok(Self::used(&self.place(&o)?))
    }
}

/// Runs llama.cpp's `common_fit_params` over plans: `replan(n_ctx)` makes the (unplaced) plan
/// at a context; `base` are the user's placement options (its `gpu_mem` are the GPUs' memory,
/// free memory being that less `device_overhead`). Returns the answer and the plan it gives.
pub fn fit_params(
    replan: &mut dyn FnMut(u64) -> MemoryPlan,
    base: &PlacementOptions,
    f: &FitOptions,
) -> Result<(FitOutcome, MemoryPlan), PlacementError> {
    let nd = base.gpu_mem.len();
    let free: Vec<i64> = base
        .gpu_mem
        .iter()
        .map(|m| {
            i64::try_from(m.unwrap_or(0).saturating_sub(base.device_overhead)).unwrap_or(i64::MAX)
        })
        .collect();
    let margins: Vec<i64> = (0..nd)
        .map(|i| {
            let m = f.margins.get(i).or(f.margins.last()).copied();
            i64::try_from(m.unwrap_or(DEFAULT_FIT_MARGIN)).unwrap_or(i64::MAX)
        })
        .collect();
    let n_streams = f.n_streams.max(1);
    let n_ctx_max = f
        .n_ctx_max
        .saturating_mul(if f.mode == FitMode::Ctx { n_streams } else { 1 });
    let n_ctx_min_total = f.n_ctx_min.saturating_mul(n_streams);
    let mut n_ctx = n_ctx_max;
    let plan = replan(n_ctx);
    let hp_ngl = plan.n_layer_all;
    let mut fitter = Fitter {
        plan,
        base,
        hp_ngl,
        nd,
        measurements: 0,
    };
    let margin_bytes: Vec<u64> = margins
        .iter()
        .map(|&m| u64::try_from(m).unwrap_or(0))
        .collect();
    let finish = |fitter: &mut Fitter<'_>,
                  o: PlacementOptions,
                  shown: Vec<FitOverride>,
                  n_ctx: u64,
                  changed: &'static str,
                  failure: Option<String>|
     -> Result<(FitOutcome, MemoryPlan), PlacementError> {
        let p = fitter.place(&o)?;
        let used = Fitter::used(&p);
        let meets = used
            .iter()
            .zip(free.iter().zip(&margins))
            .all(|(u, (fr, m))| fr - u >= *m);
        let n_gpu_layers = p.placement.n_gpu_layers;
        let tensor_split: Vec<u64> = if nd > 1 && !o.tensor_split.is_empty() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            o.tensor_split.iter().map(|&x| x as u64).collect()
        } else {
            Vec::new()
        };
        let mut args = format!("-c {n_ctx} -ngl {n_gpu_layers}");
        if !tensor_split.is_empty() {
            let ts: Vec<String> = tensor_split.iter().map(u64::to_string).collect();
            args.push_str(&format!(" -ts {}", ts.join(",")));
        }
        if !shown.is_empty() {
            let ot: Vec<String> = shown
                .iter()
                .map(|s| format!("{}={}", s.pattern, s.buffer))
                .collect();
            args.push_str(&format!(" -ot \"{}\"", ot.join(",")));
        }
        Ok((
            FitOutcome {
                mode: f.mode,
                success: failure.is_none(),
                failure,
                meets_margins: meets,
                changed,
                n_ctx,
                n_gpu_layers,
                tensor_split,
                overrides: shown,
                margin_bytes: margin_bytes.clone(),
                args,
                measurements: fitter.measurements,
            },
            p,
        ))
    };

    // Step 1 (common/fit.cpp:261-371): the parameters as given.
    let full = fitter.place(base)?;
    let used_full = Fitter::used(&full);
    let fits_all = |used: &[i64]| {
        used.iter()
            .zip(free.iter().zip(&margins))
            .all(|(u, (fr, m))| fr - u >= *m)
    };
    if nd == 0 {
        return Err(PlacementError::NoGpuForFit);
    }
    if fits_all(&used_full) {
        return finish(&mut fitter, base.clone(), Vec::new(), n_ctx, "none", None);
    }
    let sum_free: i64 = free.iter().sum();
    let sum_used: i64 = used_full.iter().sum();
    let sum_margin: i64 = margins.iter().sum();
    let sum_model: i64 = full
        .devices
        .iter()
        .skip(1)
        .map(|d| i64::try_from(d.weights_bytes).unwrap_or(i64::MAX))
        .sum();

    // Step 2 (common/fit.cpp:373-458): reduce the context when it is llama.cpp's to choose.
    if sum_free - sum_used - sum_margin < 0 && f.mode == FitMode::Ctx && n_ctx_max > n_ctx_min_total
    {
        let mut target = sum_free - sum_margin;
        if nd > 1 {
            // :404-411, with -ngl at its default (-1 read as uint32_t): min(that, hp_ngl).
            let layers = base.n_gpu_layers.unwrap_or(u64::MAX).min(hp_ngl).max(1);
            let per_layer = sum_model / i64::try_from(layers).unwrap_or(i64::MAX);
            let nd1 = i64::try_from(nd + 1).unwrap_or(i64::MAX);
            target -= nd1 * per_layer / if f.n_expert == 0 { 2 } else { 6 };
        }
        n_ctx = n_ctx_min_total;
        fitter.plan = replan(n_ctx);
        let min_plan = fitter.place(base)?;
        let used_min: i64 = Fitter::used(&min_plan).iter().sum();
        if target > used_min {
            let span = i64::try_from(n_ctx_max - n_ctx_min_total).unwrap_or(i64::MAX);
            let add = i128::from(span) * i128::from(target - used_min)
                / i128::from((sum_used - used_min).max(1));
            n_ctx += u64::try_from(add).unwrap_or(0);
            let align = 256 * n_streams;
            n_ctx = (n_ctx - n_ctx % align).max(n_ctx_min_total);
            fitter.plan = replan(n_ctx);
            if nd <= 1 {
                return finish(
                    &mut fitter,
                    base.clone(),
                    Vec::new(),
                    n_ctx,
                    "context",
                    None,
                );
            }
        }
    }

    // Step 3 (common/fit.cpp:463-486): only what the user left unset may change.
    let fail = |fitter: &mut Fitter<'_>, why: String| {
        finish(fitter, base.clone(), Vec::new(), n_ctx, "none", Some(why))
    };
    if let Some(n) = base.n_gpu_layers {
        return fail(
            &mut fitter,
            format!("n_gpu_layers already set by user to {n}, abort"),
        );
    }
    if nd > 1 && base.tensor_split.iter().any(|&x| x != 0.0) {
        return fail(
            &mut fitter,
            "model_params::tensor_split already set by user, abort".into(),
        );
    }
    if !base.overrides.is_empty() {
        return fail(
            &mut fitter,
            "model_params::tensor_buft_overrides already set by user, abort".into(),
        );
    }

    // MoE: the surplus with every expert in host memory (:616-645).
    let mut surplus_cpu_moe = 0i64;
    if f.n_expert > 0 {
        let mut o = base.clone();
        o.overrides = vec![TensorOverride {
            pattern: FFN_EXPS_REGEX_ALL.to_string(),
            target: OverrideTarget::Host,
        }];
        let p = fitter.place(&o)?;
        for ((u, fr), m) in Fitter::used(&p).iter().zip(&free).zip(&margins) {
            surplus_cpu_moe += fr - u - m;
        }
    }
    let targets: Vec<i64> = free.iter().zip(&margins).map(|(f, m)| f - m).collect();
    let target = |id: usize| targets.get(id).copied().unwrap_or(0);
    let mut bufts = vec![OverrideTarget::Host; nd];
    let mut ngl = vec![Ngl::default(); nd];
    let mut mem = fitter.memory(&(ngl.clone(), bufts.clone()))?;
    let at = |v: &[i64], id: usize| v.get(id).copied().unwrap_or(0);
    let moe = f.n_expert > 0;

    // Fill back to front with dense (MoE: expert-less) layers (:663-729).
    for id in (0..nd).rev() {
        let assigned: u64 = ngl.iter().skip(id + 1).map(|n| n.n_layer).sum();
        let n_unassigned = (hp_ngl + 1).saturating_sub(assigned);
        let mut high = ngl.clone();
        if let Some(h) = high.get_mut(id) {
            h.n_layer = n_unassigned;
            if moe {
                h.n_part = if id < nd - 1 {
                    h.n_layer
                } else {
                    h.n_layer.saturating_sub(1)
                };
            }
        }
        let layer = |v: &[Ngl]| v.get(id).map_or(0, |n| n.n_layer);
        if layer(&high) == 0 {
            continue;
        }
        let mut mem_high = fitter.memory(&(high.clone(), bufts.clone()))?;
        if at(&mem_high, id) > target(id) {
            let mut delta = layer(&high) - layer(&ngl);
            while delta > 1 {
                let step = step_size(delta, target(id), at(&mem, id), at(&mem_high, id));
                let mut test = ngl.clone();
                if let Some(t) = test.get_mut(id) {
                    t.n_layer += step;
                    if moe {
                        // The first layer of the last device is the output layer: always full.
                        t.n_part += if id == nd - 1 && t.n_part == 0 {
                            step - 1
                        } else {
                            step
                        };
                    }
                }
                let mem_test = fitter.memory(&(test.clone(), bufts.clone()))?;
                if at(&mem_test, id) <= target(id) {
                    ngl = test;
                    mem = mem_test;
                } else {
                    high = test;
                    mem_high = mem_test;
                }
                delta = layer(&high) - layer(&ngl);
            }
        } else {
            ngl = high;
            mem = mem_high;
        }
    }
    let (o, shown) = fitter.options(&(ngl.clone(), bufts.clone()));
    if !moe || surplus_cpu_moe <= 0 {
        return finish(&mut fitter, o, shown, n_ctx, "layers", None);
    }

    // Step 4 (:735-876): MoE with every dense weight on the GPUs: full layers front to back.
    let mut dense_start = nd;
    for id in (0..nd).rev() {
        if ngl.get(id).is_some_and(|n| n.n_layer > 0) {
            dense_start = id;
            continue;
        }
        break;
    }
    let mut id = 0;
    while id <= dense_start && dense_start < nd {
        let mut high = ngl.clone();
        for jd in dense_start..nd {
            let moved = high.get(jd).map_or(0, |n| {
                if jd < nd - 1 {
                    n.n_layer
                } else {
                    n.n_layer.saturating_sub(1)
                }
            });
            if let Some(h) = high.get_mut(id) {
                h.n_layer += moved;
            }
            if let Some(h) = high.get_mut(jd) {
                h.n_layer -= moved;
                h.n_part = 0;
            }
        }
        let dense_start_high = nd - 1;
        let mut mem_high = fitter.memory(&(high.clone(), bufts.clone()))?;
        let full = |v: &[Ngl]| v.get(id).map_or(0, Ngl::n_full);
        if at(&mem_high, id) > target(id) {
            let mut delta = full(&high).saturating_sub(full(&ngl));
            while delta > 1 {
                let step = step_size(delta, target(id), at(&mem, id), at(&mem_high, id));
                let mut test = ngl.clone();
                let mut ds_test = dense_start;
                let mut converted = 0;
                while ds_test < nd {
                    let part = test.get(ds_test).map_or(0, |n| n.n_part);
                    let n = (step - converted).min(part);
                    if let Some(t) = test.get_mut(ds_test) {
                        t.n_layer -= n;
                        t.n_part -= n;
                    }
                    if let Some(t) = test.get_mut(id) {
                        t.n_layer += n;
                    }
                    converted += n;
                    if test.get(ds_test).is_some_and(|t| t.n_part > 0) {
                        break;
                    }
                    ds_test += 1;
                }
                let mem_test = fitter.memory(&(test.clone(), bufts.clone()))?;
                if at(&mem_test, id) <= target(id) {
                    ngl = test;
                    mem = mem_test;
                    dense_start = ds_test;
                } else {
                    high = test;
                    mem_high = mem_test;
                    // (:795 also records id_dense_start_high here; it is never read again.)
                }
                delta = full(&high).saturating_sub(full(&ngl));
            }
        } else {
            ngl = high;
            mem = mem_high;
            dense_start = dense_start_high;
        }

        // One more layer, part of its FFN overflowing (:810-860).
        let floor = if id < nd - 1 { 0 } else { 1 };
        if ngl.get(dense_start).is_some_and(|n| n.n_layer > floor) {
            let mut test = ngl.clone();
            let mut ds_test = dense_start;
            if let Some(t) = test.get_mut(ds_test) {
                t.n_layer -= 1;
                t.n_part = t.n_part.saturating_sub(1);
                if t.n_part == 0 {
                    ds_test += 1;
                }
            }
            if let Some(t) = test.get_mut(id) {
                t.n_layer += 1;
                t.n_part += 1;
                t.overflow = Fraction::Up;
            }
            let mut bufts_test = bufts.clone();
            if id < nd - 1 {
                if let Some(b) = bufts_test.get_mut(id) {
                    *b = OverrideTarget::Gpu(id + 1);
                }
            }
            let ok = |m: &[i64]| {
                at(m, id) < target(id) && (id + 1 == nd || at(m, id + 1) < target(id + 1))
            };
            let mem_test = fitter.memory(&(test.clone(), bufts_test.clone()))?;
            if ok(&mem_test) {
                ngl = test.clone();
                bufts = bufts_test.clone();
                mem = mem_test;
                dense_start = ds_test;
                if let Some(t) = test.get_mut(id) {
                    t.overflow = Fraction::Gate;
                }
                let mem_test = fitter.memory(&(test.clone(), bufts_test.clone()))?;
                if ok(&mem_test) {
                    ngl = test;
                    bufts = bufts_test;
                    mem = mem_test;
                }
            } else {
                if let Some(t) = test.get_mut(id) {
                    t.overflow = Fraction::Attn;
                }
                let mem_test = fitter.memory(&(test.clone(), bufts_test.clone()))?;
                if ok(&mem_test) {
                    ngl = test;
                    bufts = bufts_test;
                    mem = mem_test;
                    dense_start = ds_test;
                }
            }
        }
        id += 1;
    }
    let _ = mem;
    let (o, shown) = fitter.options(&(ngl, bufts));
    finish(&mut fitter, o, shown, n_ctx, "layers", None)
}

/// One plan of the offload curve (`--ngl-step`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurvePoint {
    /// `-ngl`.
    pub n_gpu_layers: u64,
    /// Layers offloaded (`min(ngl, n_layer_all + 1)` with a GPU).
    pub offloaded_layers: u64,
    /// Every device's compute buffer.
    pub compute_bytes: u64,
    /// Every device's total.
    pub total_bytes: u64,
    /// Per device, as the plan's `devices`.
    pub devices: Vec<DeviceMemory>,
}

/// The offload curve: `plan` placed with `o` at `-ngl` 0, `step`, `2·step` … and
/// `n_layer_all + 1` (every layer and the output layer).
pub fn offload_curve(
    plan: &MemoryPlan,
    o: &PlacementOptions,
    step: u64,
) -> Result<Vec<CurvePoint>, PlacementError> {
    let all = plan.n_layer_all + 1;
    let step = usize::try_from(step.max(1)).unwrap_or(usize::MAX);
    let mut ngls: Vec<u64> = (0..=all).step_by(step).collect();
    if ngls.last() != Some(&all) {
        ngls.push(all);
    }
    let mut p = plan.clone();
    ngls.into_iter()
        .map(|ngl| {
            let mut oo = o.clone();
            oo.n_gpu_layers = Some(ngl);
            apply_placement(&mut p, &oo)?;
            Ok(CurvePoint {
                n_gpu_layers: ngl,
                offloaded_layers: p.placement.offloaded_layers,
                compute_bytes: p.compute_bytes,
                total_bytes: p.total_bytes,
                devices: p.devices.clone(),
            })
        })
        .collect()
}

/// Every expert tensor of every layer (`pattern_moe_all`, `common/fit.cpp:618`).
const FFN_EXPS_REGEX_ALL: &str = "blk\\.\\d+\\.ffn_(up|down|gate_up|gate)_(ch|)exps";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_size_follows_the_cpp_conversions() {
        // 10 layers between, the target a third of the way: 3.
        assert_eq!(step_size(10, 130, 100, 190), 3);
        // Never 0, never the whole interval.
        assert_eq!(step_size(10, 100, 100, 190), 1);
        assert_eq!(step_size(10, 1000, 100, 190), 9);
        // A target below the low end is negative: C++ wraps it to a large uint32_t, then
        // clamps it to delta - 1.
        assert_eq!(step_size(10, 50, 100, 190), 9);
        assert_eq!(
            overflow_pattern(3, Fraction::Moe),
            FFN_EXPS_REGEX_ALL.replace("\\d+", "3")
        );
    }
}
