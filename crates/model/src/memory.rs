//! The memory plan: what loading the model with a given context costs, following llama.cpp's
//! own sizing (ggml-org/llama.cpp@0c1e57098):
//!
//! - weights: the exact byte size of every tensor (by ggml type and by layer);
//! - KV cache: `n_ctx` is padded to 256 (`src/llama-context.cpp:290`); each layer holds
//!   `cells × (row_size(type_k, n_embd_k_gqa) + row_size(type_v, n_embd_v_gqa))` bytes
//!   (`src/llama-kv-cache.cpp`), with `cells = n_ctx` for one unified stream; sliding-window
//!   layers hold `PAD(min(n_ctx, n_swa·n_seq + n_ubatch), 256)` cells unless `--swa-full`
//!   (`src/llama-kv-cache-iswa.cpp:73-81`);
//! - output buffer: `n_vocab × max(n_outputs, n_seq_max)` f32 logits
//!   (`llama_context::output_reserve`, `src/llama-context.cpp:2116-2170`);
//! - compute buffer: an estimate (the formula is returned with the number).

use ggufscope_gguf::{GgmlType, Gguf};
use serde::Serialize;

use crate::arch::SwaRule;
use crate::config::ModelConfig;
use crate::keys::Hparam;
use crate::schema::expected_layout;

/// Runtime parameters of the plan (llama.cpp's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryOptions {
    /// Context length requested (`--ctx`); 0 = the model's training context.
    pub n_ctx: u64,
    /// Logical batch (`-b`, default 2048).
    pub n_batch: u64,
    /// Physical batch (`-ub`, default 512).
    pub n_ubatch: u64,
    /// Parallel sequences (`-np`, default 1).
    pub n_parallel: u64,
    /// KV cache type (`-ctk/-ctv`, default f16).
    #[serde(serialize_with = "type_name")]
    pub kv_type: GgmlType,
    /// Full-size cache for sliding-window layers (`--swa-full`).
    pub swa_full: bool,
    /// Flash attention (llama.cpp's default `auto` enables it where the backend supports it,
    /// the CPU included); it changes the compute buffer.
    pub flash_attn: bool,
    /// Running on llama.cpp's CPU backend, which keeps a second, repacked copy of q4_0, q4_K
    /// and iq4_nl matrices (`CPU_REPACK model buffer`; not `token_embd`, read by row lookups).
    pub cpu_repack: bool,
    /// For vocab-only files: the type weights are assumed to have.
    #[serde(serialize_with = "type_name")]
    pub assumed_weight_type: GgmlType,
}

fn type_name<S: serde::Serializer>(t: &GgmlType, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

impl Default for MemoryOptions {
    fn default() -> Self {
        Self {
            n_ctx: 0,
            n_batch: 2048,
            n_ubatch: 512,
            n_parallel: 1,
            kv_type: GgmlType::F16,
            swa_full: false,
            flash_attn: true,
            cpu_repack: false,
            assumed_weight_type: GgmlType::F16,
        }
    }
}

/// Weights of one ggml type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeBytes {
    /// Type name.
    pub ggml_type: String,
    /// Tensors of this type.
    pub tensors: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Memory of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerMemory {
    /// The layer.
    pub layer: u64,
    /// Weights of its tensors.
    pub weights_bytes: u64,
    /// Whether it uses the sliding-window cache.
    pub swa: bool,
    /// KV cells it holds.
    pub kv_cells: u64,
    /// K bytes.
    pub k_bytes: u64,
    /// V bytes.
    pub v_bytes: u64,
}

/// The memory plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPlan {
    /// The options used.
    pub options: MemoryOptions,
    /// Context after llama.cpp's padding to 256.
    pub n_ctx: u64,
    /// Whether weights are an estimate (a vocab-only file: expected layout × assumed type).
    pub weights_estimated: bool,
    /// Bytes of every tensor.
    pub weights_bytes: u64,
    /// Weights by type.
    pub weights_by_type: Vec<TypeBytes>,
    /// Weights outside the layers (embeddings, output, norms).
    pub non_layer_weights_bytes: u64,
    /// With `cpu_repack`: the CPU backend's repacked copy of q4_0/q4_K/iq4_nl matrices.
    pub cpu_repack_bytes: u64,
    /// Per layer: weights and KV cache.
    pub layers: Vec<LayerMemory>,
    /// KV cache: K bytes.
    pub k_bytes: u64,
    /// KV cache: V bytes.
    pub v_bytes: u64,
    /// KV cache total.
    pub kv_cache_bytes: u64,
    /// Output (logits) buffer.
    pub output_bytes: u64,
    /// Compute buffer estimate.
    pub compute_bytes: u64,
    /// How the compute estimate is made.
    pub compute_formula: String,
    /// Everything.
    pub total_bytes: u64,
}

fn row_size(t: GgmlType, n: u64) -> u64 {
    match (t.block_size(), t.type_size()) {
        (Some(b), Some(s)) if b > 0 => n.div_ceil(b).saturating_mul(s),
        _ => n.saturating_mul(2),
    }
}

/// Which layers use a sliding window, per llama.cpp.
pub fn swa_layers(gguf: &Gguf<'_>, cfg: &ModelConfig) -> Vec<bool> {
    let n = usize::try_from(cfg.block_count).unwrap_or(0);
    let Some(spec) = cfg.spec() else {
        return vec![false; n];
    };
    match (spec.swa, cfg.sliding_window) {
        (SwaRule::Pattern { default_period }, Some(_)) => {
            let key = Hparam::SlidingWindowPattern.key(&cfg.architecture);
            let md = gguf.metadata();
            if let Some(a) = md.value(&key).and_then(|v| v.as_array()) {
                return (0..cfg.block_count)
                    .map(|il| a.get(il).and_then(|v| v.as_bool()).unwrap_or(false))
                    .collect();
            }
            let period = md
                .get_u64(&key)
                .ok()
                .flatten()
                .unwrap_or(u64::from(default_period));
            (0..cfg.block_count)
                .map(|il| period == 0 || il % period < period - 1)
                .collect()
        }
        _ => vec![false; n],
    }
}

/// Plans the memory of `gguf` (configuration `cfg`) under `options`.
pub fn plan_memory(gguf: &Gguf<'_>, cfg: &ModelConfig, options: MemoryOptions) -> MemoryPlan {
    let ctx = if options.n_ctx == 0 {
        cfg.context_length
    } else {
        options.n_ctx
    };
    let n_ctx = ctx.max(1).next_multiple_of(256);
    let n_seq = options.n_parallel.max(1);
    // (name, layer, type, bytes) of every tensor, real or expected.
    let weights_estimated = gguf.tensors().is_empty();
    let repackable = |name: &str, ty: GgmlType, dims: usize| {
        dims == 2
            && name != "token_embd.weight"
            && [GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::IQ4_NL].contains(&ty)
    };
    let mut cpu_repack_bytes = 0u64;
    let tensors: Vec<(Option<u64>, GgmlType, u64)> = if weights_estimated {
        cfg.spec()
            .map(|s| expected_layout(s, cfg, None))
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let ne0 = t
                    .dims
                    .as_ref()
                    .and_then(|d| d.first().copied())
                    .unwrap_or(0);
                let ty = match options.assumed_weight_type.block_size() {
                    Some(b)
                        if b > 0
                            && ne0 % b == 0
                            && t.dims.as_ref().is_some_and(|d| d.len() > 1) =>
                    {
                        options.assumed_weight_type
                    }
                    _ if t.dims.as_ref().is_some_and(|d| d.len() > 1) => GgmlType::F16,
                    _ => GgmlType::F32,
                };
                let rows = t.elements().unwrap_or(0) / ne0.max(1);
                let bytes = row_size(ty, ne0).saturating_mul(rows);
                if repackable(&t.name, ty, t.dims.as_ref().map_or(0, Vec::len)) {
                    cpu_repack_bytes = cpu_repack_bytes.saturating_add(bytes);
                }
                (t.layer, ty, bytes)
            })
            .collect()
    } else {
        gguf.tensors()
            .iter()
            .map(|t| {
                let layer = t
                    .name()
                    .strip_prefix("blk.")
                    .and_then(|r| r.split_once('.'))
                    .and_then(|(n, _)| n.parse().ok());
                let bytes = t.n_bytes().unwrap_or(0);
                if repackable(t.name(), t.ggml_type(), t.dims().len()) {
                    cpu_repack_bytes = cpu_repack_bytes.saturating_add(bytes);
                }
                (layer, t.ggml_type(), bytes)
            })
            .collect()
    };
    let weights_bytes = tensors.iter().fold(0u64, |a, t| a.saturating_add(t.2));
    let mut weights_by_type: Vec<TypeBytes> = Vec::new();
    for (_, ty, bytes) in &tensors {
        let name = ty.to_string();
        match weights_by_type.iter_mut().find(|t| t.ggml_type == name) {
            Some(t) => {
                t.tensors += 1;
                t.bytes = t.bytes.saturating_add(*bytes);
            }
            None => weights_by_type.push(TypeBytes {
                ggml_type: name,
                tensors: 1,
                bytes: *bytes,
            }),
        }
    }
    weights_by_type.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.ggml_type.cmp(&b.ggml_type)));
    let swa = swa_layers(gguf, cfg);
    let n_swa = cfg.sliding_window.unwrap_or(0);
    let swa_cells = if options.swa_full {
        n_ctx
    } else {
        n_ctx
            .min(n_swa.saturating_mul(n_seq).saturating_add(options.n_ubatch))
            .next_multiple_of(256)
    };
    let layers: Vec<LayerMemory> = (0..cfg.block_count)
        .map(|il| {
            let is_swa = swa
                .get(usize::try_from(il).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(false);
            let cells = if is_swa { swa_cells } else { n_ctx };
            let l = cfg.layer(il);
            let k_width = cfg.head_dim.saturating_mul(l.head_count_kv);
            let v_width = cfg.head_dim_v.saturating_mul(l.head_count_kv);
            LayerMemory {
                layer: il,
                weights_bytes: tensors
                    .iter()
                    .filter(|t| t.0 == Some(il))
                    .fold(0u64, |a, t| a.saturating_add(t.2)),
                swa: is_swa,
                kv_cells: cells,
                k_bytes: row_size(options.kv_type, k_width).saturating_mul(cells),
                v_bytes: row_size(options.kv_type, v_width).saturating_mul(cells),
            }
        })
        .collect();
    let non_layer_weights_bytes = tensors
        .iter()
        .filter(|t| t.0.is_none())
        .fold(0u64, |a, t| a.saturating_add(t.2));
    let k_bytes = layers.iter().fold(0u64, |a, l| a.saturating_add(l.k_bytes));
    let v_bytes = layers.iter().fold(0u64, |a, l| a.saturating_add(l.v_bytes));
    let kv_cache_bytes = k_bytes.saturating_add(v_bytes);
    let n_vocab = cfg.vocab_size.unwrap_or(0);
    let output_bytes = n_vocab.saturating_mul(n_seq).saturating_mul(4);
    // The compute buffer is the peak of the graph llama.cpp reserves for one ubatch (ggml's
    // allocator reuses memory, so it is the largest set of tensors alive at once). Fitted on
    // llama.cpp@0c1e57098's `sched_reserve: CPU compute buffer size` for the Phi-3-mini and
    // Qwen2.5-0.5B layouts at n_ctx 4096 and 16384 (see the tests):
    //   output:    n_ubatch·n_vocab·4 (logits) + 3·n_ubatch·n_embd·4
    //   attention: without flash attention n_ubatch·n_kv·n_head·4 (KQ) + n_ubatch·n_kv·4 (mask)
    //              + 5·n_ubatch·n_embd·4; with it n_ubatch·n_kv·2 (f16 mask) + 5·n_ubatch·n_embd·4
    let ub = options.n_ubatch.min(n_ctx);
    let embd = cfg.embedding_length;
    let heads = (0..cfg.block_count)
        .map(|il| cfg.layer(il).head_count)
        .max()
        .unwrap_or(0);
    let f32s = |n: u64| n.saturating_mul(4);
    let output = f32s(ub.saturating_mul(n_vocab))
        .saturating_add(f32s(ub.saturating_mul(embd).saturating_mul(3)));
    let residual = f32s(ub.saturating_mul(embd).saturating_mul(5));
    let attention = if options.flash_attn {
        ub.saturating_mul(n_ctx)
            .saturating_mul(2)
            .saturating_add(residual)
    } else {
        f32s(ub.saturating_mul(n_ctx).saturating_mul(heads))
            .saturating_add(f32s(ub.saturating_mul(n_ctx)))
            .saturating_add(residual)
    };
    let compute_bytes = output.max(attention);
    let compute_formula = if options.flash_attn {
        format!("max(output n_ubatch*(n_vocab+3*n_embd)*4 = {output}, attention (flash) n_ubatch*n_ctx*2 + 5*n_ubatch*n_embd*4 = {attention}) (estimate of llama.cpp's reserved graph)")
    } else {
        format!("max(output n_ubatch*(n_vocab+3*n_embd)*4 = {output}, attention n_ubatch*n_ctx*(n_head+1)*4 + 5*n_ubatch*n_embd*4 = {attention}) (estimate of llama.cpp's reserved graph)")
    };
    if !options.cpu_repack {
        cpu_repack_bytes = 0;
    }
    let total_bytes = weights_bytes
        .saturating_add(cpu_repack_bytes)
        .saturating_add(kv_cache_bytes)
        .saturating_add(output_bytes)
        .saturating_add(compute_bytes);
    tracing::info!(target: "ggufscope::memory", weights = weights_bytes, kv = kv_cache_bytes, output = output_bytes, compute = compute_bytes, n_ctx, "memory plan");
    MemoryPlan {
        options,
        n_ctx,
        weights_estimated,
        weights_bytes,
        weights_by_type,
        non_layer_weights_bytes,
        cpu_repack_bytes,
        layers,
        k_bytes,
        v_bytes,
        kv_cache_bytes,
        output_bytes,
        compute_bytes,
        compute_formula,
        total_bytes,
    }
}

/// Layers placed on one GPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuPlacement {
    /// GPU index (order of `--gpu-mem`).
    pub gpu: usize,
    /// Its budget.
    pub budget_bytes: u64,
    /// Layers placed on it (`first..first+count`).
    pub first_layer: u64,
    /// How many.
    pub layer_count: u64,
    /// Bytes used: those layers' weights and KV, plus a compute buffer.
    pub used_bytes: u64,
}

/// Where the layers go when GPUs with these budgets are available (greedy, in order, as
/// llama.cpp's `-ngl` offloads whole layers; each GPU keeps room for one compute buffer; the
/// non-layer tensors and the output buffer stay on the host). An estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuFit {
    /// Per GPU.
    pub gpus: Vec<GpuPlacement>,
    /// Layers that fit on GPUs.
    pub layers_on_gpus: u64,
    /// Layers left on the host.
    pub layers_on_host: u64,
    /// Bytes left on the host (non-layer weights, output buffer, host layers, compute).
    pub host_bytes: u64,
}

/// Fits the plan's layers onto GPUs with these budgets.
pub fn fit_gpus(plan: &MemoryPlan, budgets: &[u64]) -> GpuFit {
    let mut next = 0usize;
    let mut gpus = Vec::new();
    for (gpu, &budget) in budgets.iter().enumerate() {
        let first = next;
        let mut used = plan.compute_bytes;
        while let Some(l) = plan.layers.get(next) {
            let need = l
                .weights_bytes
                .saturating_add(l.k_bytes)
                .saturating_add(l.v_bytes);
            if used.saturating_add(need) > budget {
                break;
            }
            used = used.saturating_add(need);
            next += 1;
        }
        let count = (next - first) as u64;
        gpus.push(GpuPlacement {
            gpu,
            budget_bytes: budget,
            first_layer: first as u64,
            layer_count: count,
            used_bytes: if count == 0 { 0 } else { used },
        });
    }
    let host_layers = plan.layers.get(next..).unwrap_or_default();
    let host_bytes = host_layers.iter().fold(
        plan.non_layer_weights_bytes
            .saturating_add(plan.output_bytes)
            .saturating_add(plan.compute_bytes),
        |a, l| {
            a.saturating_add(l.weights_bytes)
                .saturating_add(l.k_bytes)
                .saturating_add(l.v_bytes)
        },
    );
    GpuFit {
        layers_on_gpus: next as u64,
        layers_on_host: host_layers.len() as u64,
        host_bytes,
        gpus,
    }
}
