//! The memory plan: what loading the model with a given context costs, following llama.cpp's
//! own sizing (ggml-org/llama.cpp@0c1e57098). See `docs/memory.md`.
//!
//! - weights: the exact byte size of every tensor of the file, what `llama_model_size` returns
//!   (`ggml_nbytes` summed over the file's tensors, `src/llama-model-loader.cpp:591-592`);
//! - context: `n_ctx` is padded to 256 (`src/llama-context.cpp:290`), and per stream
//!   `n_ctx_seq = PAD(n_ctx / n_seq, 256)` unless the cache is unified (lines 292-304);
//! - KV cache, recurrent state and DeepSeek-V4 compressor state: the buffers
//!   `llama_model::create_memory` allocates for the architecture (`src/llama-model.cpp:2352`),
//!   computed by [`caches`] from the architecture table's run of llama.cpp's loader;
//! - output buffer: `n_vocab × max(n_outputs, n_seq_max)` f32 logits
//!   (`llama_context::output_reserve`, `src/llama-context.cpp:2116-2170`);
//! - compute buffer: an estimate (the formula is returned with the number).

mod caches;
pub mod clip;
pub mod compute;
mod fit;
pub mod galloc;
mod placement;
pub mod text;

use ggufscope_gguf::{GgmlType, Gguf};
use serde::Serialize;

pub use caches::{llama_memory, CacheBuffer, CacheKind, CacheLayer, CacheParams, LlamaMemory};
pub use clip::{projector_compute, vision_compute, ProjectorCompute};
pub use fit::{
    fit_params, offload_curve, CurvePoint, FitMode, FitOptions, FitOutcome, FitOverride,
    DEFAULT_FIT_MARGIN, DEFAULT_FIT_MIN_CTX,
};
pub use placement::{
    alloc_bytes, n_cpu_moe_overrides, place, Backend, DeviceMemory, LayerKind, OverrideTarget,
    Placement, PlacementError, PlacementOptions, PlanTensor, SplitMode, TensorOverride,
    DEFAULT_CUDA_OVERHEAD, FFN_EXPS_REGEX,
};

use crate::config::ModelConfig;
use crate::schema::expected_layout;
use crate::table::{self, Loaded, TableError, TensorMode};

/// Runtime parameters of the plan (llama.cpp's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryOptions {
    /// Context length requested (`--ctx`); 0 = the model's training context.
    pub n_ctx: u64,
    /// Logical batch (`-b`, default 2048).
    pub n_batch: u64,
    /// Physical batch (`-ub`, default 512).
    pub n_ubatch: u64,
    /// Parallel sequences (`-np`, default 1).
    pub n_parallel: u64,
    /// K cache type (`-ctk`, default f16; one of [`KV_CACHE_TYPES`]).
    pub type_k: GgmlType,
    /// V cache type (`-ctv`, default f16; one of [`KV_CACHE_TYPES`]).
    pub type_v: GgmlType,
    /// Full-size cache for sliding-window layers (`--swa-full`).
    pub swa_full: bool,
    /// One KV stream for every sequence (`--kv-unified`; llama.cpp's default is one stream
    /// per sequence, `src/llama-context.cpp:292-304`).
    pub kv_unified: bool,
    /// Flash attention (llama.cpp's default `auto` enables it where the backend supports it,
    /// the CPU included); it changes the compute buffer, and without it V is stored transposed
    /// at the widest layer's width (`src/llama-kv-cache.cpp:210`).
    pub flash_attn: bool,
    /// Running on llama.cpp's CPU backend, which keeps a second, repacked copy of q4_0, q4_K
    /// and iq4_nl matrices (`CPU_REPACK model buffer`; not `token_embd`, read by row lookups).
    pub cpu_repack: bool,
    /// For vocab-only files: the type weights are assumed to have.
    pub assumed_weight_type: GgmlType,
}

/// The JSON form (`options` in docs/memory-json.md): wave 1's `kv_type` (one name, or
/// `K/V` when they differ) beside `cache_type_k` and `cache_type_v`.
impl Serialize for MemoryOptions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("MemoryOptions", 12)?;
        m.serialize_field("n_ctx", &self.n_ctx)?;
        m.serialize_field("n_batch", &self.n_batch)?;
        m.serialize_field("n_ubatch", &self.n_ubatch)?;
        m.serialize_field("n_parallel", &self.n_parallel)?;
        m.serialize_field("kv_type", &self.kv_type_name())?;
        m.serialize_field("cache_type_k", &self.type_k.to_string())?;
        m.serialize_field("cache_type_v", &self.type_v.to_string())?;
        m.serialize_field("swa_full", &self.swa_full)?;
        m.serialize_field("kv_unified", &self.kv_unified)?;
        m.serialize_field("flash_attn", &self.flash_attn)?;
        m.serialize_field("cpu_repack", &self.cpu_repack)?;
        m.serialize_field("assumed_weight_type", &self.assumed_weight_type.to_string())?;
        m.end()
    }
}

/// The cache types llama.cpp's `-ctk`/`-ctv` accept (`kv_cache_types`,
/// common/arg.cpp:304-314).
pub const KV_CACHE_TYPES: [GgmlType; 9] = [
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::IQ4_NL,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
];

impl MemoryOptions {
    /// The K/V cache type as one name: `q8_0`, or `q8_0/f16` when K and V differ.
    pub fn kv_type_name(&self) -> String {
        if self.type_k == self.type_v {
            self.type_k.to_string()
        } else {
            format!("{}/{}", self.type_k, self.type_v)
        }
    }
}

/// Why llama.cpp refuses to create a context with these cache types and flash-attention
/// setting for this model (`llama_init_from_model`, src/llama-context.cpp:3835-3871, and
/// src/llama-context.cpp:466-467), or `None`. `options.flash_attn` is llama.cpp's `auto`
/// (which a quantized V cache turns on) when true, `disabled` when false.
pub fn cache_type_refusal(l: &Loaded, options: &MemoryOptions) -> Option<String> {
    let (tk, tv) = (options.type_k, options.type_v);
    let is_mla = l.hparams.int("n_embd_head_k_mla_impl").unwrap_or(0) != 0
        && l.hparams.int("n_embd_head_v_mla_impl").unwrap_or(0) != 0;
    if (is_mla || l.arch == "deepseek4") && tk != tv {
        return Some(format!(
            "model does not support different K ({tk}) and V ({tv}) cache types \
             (src/llama-context.cpp:3835-3838)"
        ));
    }
    if tv.is_quantized() && !options.flash_attn {
        return Some(
            "quantized V cache requires flash_attn to be enabled (src/llama-context.cpp:3840-3849)"
                .to_string(),
        );
    }
    if !options.flash_attn {
        return None;
    }
    let n_layer = usize::try_from(l.n_layer).unwrap_or(0);
    for (t, what, line) in [(tk, "K", "3851-3860"), (tv, "V", "3862-3871")] {
        if !t.is_quantized() {
            continue;
        }
        let blck = i64::try_from(t.block_size().unwrap_or(1))
            .unwrap_or(1)
            .max(1);
        for x in l.layers.iter().take(n_layer) {
            let head = if what == "K" {
                x.n_embd_head_k
            } else {
                x.n_embd_head_v
            };
            if head % blck != 0 {
                let field = if what == "K" {
                    "n_embd_head_k"
                } else {
                    "n_embd_head_v"
                };
                return Some(format!(
                    "{what} cache type {t} with block size {blck} does not divide {field}={head} \
                     (layer {}, src/llama-context.cpp:{line})",
                    x.index
                ));
            }
        }
    }
    None
}

impl Default for MemoryOptions {
    fn default() -> Self {
        Self {
            n_ctx: 0,
            n_batch: 2048,
            n_ubatch: 512,
            n_parallel: 1,
            type_k: GgmlType::F16,
            type_v: GgmlType::F16,
            swa_full: false,
            kv_unified: false,
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
    /// KV cells it holds (per stream; 0 when the layer has no KV cache).
    pub kv_cells: u64,
    /// K bytes (every KV cache of the layer: main, indexer, compressed).
    pub k_bytes: u64,
    /// V bytes.
    pub v_bytes: u64,
    /// Recurrent state (R, S, P) and compressor state bytes.
    pub state_bytes: u64,
}

/// The memory plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPlan {
    /// The options used.
    pub options: MemoryOptions,
    /// Context after llama.cpp's padding to 256 (`n_ctx_seq × n_seq` for per-sequence streams).
    pub n_ctx: u64,
    /// Cells of one stream (`cparams.n_ctx_seq`).
    pub n_ctx_seq: u64,
    /// Whether weights are an estimate (a vocab-only file: expected layout × assumed type).
    pub weights_estimated: bool,
    /// Bytes of every tensor (`llama_model_size`).
    pub weights_bytes: u64,
    /// Weights by type.
    pub weights_by_type: Vec<TypeBytes>,
    /// Weights outside the layers (embeddings, output, norms).
    pub non_layer_weights_bytes: u64,
    /// With `cpu_repack`: the CPU backend's repacked copy of q4_0/q4_K/iq4_nl matrices.
    pub cpu_repack_bytes: u64,
    /// The memory class llama.cpp builds (`kv_cache`, `kv_cache_iswa`, `memory_recurrent`,
    /// `memory_hybrid`, … or `none`).
    pub memory_class: &'static str,
    /// The `create_memory` lines choosing it.
    pub memory_source: &'static str,
    /// Every cache buffer, in llama.cpp's allocation order.
    pub caches: Vec<CacheBuffer>,
    /// Per layer: weights, KV cache and state.
    pub layers: Vec<LayerMemory>,
    /// KV cache: K bytes.
    pub k_bytes: u64,
    /// KV cache: V bytes.
    pub v_bytes: u64,
    /// KV cache total (the `KV buffer` sizes llama.cpp logs, summed).
    pub kv_cache_bytes: u64,
    /// Recurrent state (the `RS buffer` sizes: R and S per sequence, f32).
    pub recurrent_state_bytes: u64,
    /// DeepSeek-V4 compressor state (the `DSV4 … state buffer` sizes).
    pub compressor_state_bytes: u64,
    /// Output (logits) buffer.
    pub output_bytes: u64,
    /// Compute buffers (every device's, summed).
    pub compute_bytes: u64,
    /// The CPU backend's compute buffer estimate (all on the CPU).
    #[serde(skip)]
    pub cpu_compute_bytes: u64,
    /// Whether that figure is the allocator's replay of the architecture's graph
    /// (`memory/text.rs`), llama.cpp's to the byte, rather than the estimate of `compute.rs`.
    #[serde(skip)]
    pub cpu_compute_replayed: bool,
    /// How the compute estimate is made.
    pub compute_formula: String,
    /// Everything (the devices' totals summed).
    pub total_bytes: u64,
    /// The backend the devices are planned for.
    pub backend: Backend,
    /// Per device (the host first): weights, KV cache, recurrent state, compute, output.
    pub devices: Vec<DeviceMemory>,
    /// Where llama.cpp's loader puts the layers (`n_gpu_layers`, layer devices).
    pub placement: Placement,
    /// Every weight tensor the loader creates, in its order (for placement).
    #[serde(skip)]
    pub tensors: Vec<PlanTensor>,
    /// `hparams.n_layer_all`.
    #[serde(skip)]
    pub n_layer_all: u64,
    /// `n_ubatch`, `n_kv`, `n_embd`, KQ masks (2 with a sliding cache): the compute inputs.
    #[serde(skip)]
    pub graph: [u64; 4],
    /// The reserved graph's shape (for the compute estimates).
    #[serde(skip)]
    pub compute_graph: compute::Graph,
    /// The graph llama.cpp's flash-attention probe reserves (one token per sequence, flash
    /// attention on: `resolve_fused_ops`, src/llama-context.cpp:507-560), where it is written
    /// out (`text.rs`).
    #[serde(skip)]
    pub fa_probe: Option<text::Decoder>,
    /// The reserved prompt graph where it is written out (`text.rs`), for the CUDA scheduler's
    /// replay.
    #[serde(skip)]
    pub pp_graph: Option<text::Decoder>,
    /// The CUDA compute buffers are the replay of llama.cpp's scheduler (not an estimate).
    #[serde(skip)]
    pub cuda_compute_replayed: bool,
    /// `ssm_d_state`, `ssm_d_inner`, `ssm_n_group` (which SSM weights CUDA takes).
    #[serde(skip)]
    pub ssm: [u64; 3],
}

fn row_size(t: GgmlType, n: u64) -> u64 {
    caches::row_size(t, n)
}

/// Which layers use a sliding window, per llama.cpp: the architecture table's run of the
/// file's hyper-parameters (`llama_hparams::is_swa`, set by `set_swa_pattern`,
/// `src/llama-model.cpp:3434-3441`); none when the table cannot read the file.
pub fn swa_layers(gguf: &Gguf<'_>, cfg: &ModelConfig) -> Vec<bool> {
    let n = usize::try_from(cfg.block_count).unwrap_or(0);
    let mut swa = vec![false; n];
    if cfg.sliding_window.is_none() || !table::table().holds(&cfg.architecture) {
        return swa;
    }
    if let Ok(l) = table::load(gguf, &cfg.architecture, TensorMode::Required) {
        for x in &l.layers {
            if let Some(s) = swa.get_mut(usize::try_from(x.index).unwrap_or(usize::MAX)) {
                *s = x.is_swa;
            }
        }
    }
    swa
}

/// Runs the architecture table for the memory plan: the loader's run when llama.cpp would
/// read the file's hyper-parameters (`None` when the table does not hold the architecture or
/// `load_hparams` refuses the file).
fn table_run(gguf: &Gguf<'_>, arch: &str) -> Option<Loaded> {
    if !table::table().holds(arch) {
        return None;
    }
    let mode = if gguf.tensors().is_empty() {
        TensorMode::Required
    } else {
        TensorMode::File
    };
    table::load(gguf, arch, mode)
        .ok()
        .filter(|l| l.hparams_refusal.is_none())
}

/// Plans the memory of `gguf` (configuration `cfg`, one of the Llama-shaped specs) under
/// `options`. The caches follow llama.cpp through the architecture table when it reads the
/// file, else the spec's configuration.
pub fn plan_memory(gguf: &Gguf<'_>, cfg: &ModelConfig, options: MemoryOptions) -> MemoryPlan {
    let loaded = table_run(gguf, &cfg.architecture);
    plan_inner(gguf, Some(cfg), loaded.as_ref(), options)
}

/// Plans the memory of a file of any architecture the table holds, from the table's run
/// (`l`, from [`crate::table::load`] or [`crate::ArchFacts::read`]).
pub fn plan_memory_loaded(gguf: &Gguf<'_>, l: &Loaded, options: MemoryOptions) -> MemoryPlan {
    plan_inner(gguf, None, Some(l), options)
}

/// The largest per-layer width and context the planner takes: with these, every product it
/// forms (width × cells × layers × bytes) stays far inside `u64`.
pub const MAX_PLANNED_WIDTH: i64 = 1 << 24;
/// The largest context the planner takes.
pub const MAX_PLANNED_CONTEXT: u64 = 1 << 26;

/// Why a configuration is too large to plan (a hostile or broken file: llama.cpp would fail to
/// allocate it), or `None`. Callers refuse to plan such a file instead of printing wrapped
/// numbers.
pub fn implausible(l: &Loaded, n_ctx: u64) -> Option<String> {
    if n_ctx > MAX_PLANNED_CONTEXT {
        return Some(format!("context {n_ctx} is above {MAX_PLANNED_CONTEXT}"));
    }
    let n_vocab = l.hparams.int("n_vocab").unwrap_or(0);
    let n_embd = l.hparams.int("n_embd").unwrap_or(0);
    for (what, v) in [("n_embd", n_embd), ("n_vocab", n_vocab)] {
        if !(0..=MAX_PLANNED_WIDTH).contains(&v) {
            return Some(format!("{what} {v} is outside 0..={MAX_PLANNED_WIDTH}"));
        }
    }
    for x in &l.layers {
        for (what, v) in [
            ("n_embd_k_gqa", x.n_embd_k_gqa),
            ("n_embd_v_gqa", x.n_embd_v_gqa),
            ("n_ff", x.n_ff),
            ("n_ff_exp", x.n_ff_exp),
            ("n_embd_r", x.n_embd_r),
            ("n_embd_s", x.n_embd_s),
            ("ple_conv_state", x.ple_conv_state),
        ] {
            if !(0..=MAX_PLANNED_WIDTH).contains(&v) {
                return Some(format!(
                    "layer {}: {what} {v} is outside 0..={MAX_PLANNED_WIDTH}",
                    x.index
                ));
            }
        }
    }
    for r in &l.tensors {
        let n = r
            .shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(u64::try_from(d).unwrap_or(0)));
        if n.is_none_or(|n| n > 1 << 48) {
            return Some(format!("tensor `{}` has {:?} elements", r.name, r.shape));
        }
    }
    None
}

/// Plans from a table run already made, with the Llama-shaped spec's configuration when the
/// architecture has one (what [`plan_memory`] does without running the table again).
pub fn plan_memory_with(
    gguf: &Gguf<'_>,
    cfg: Option<&ModelConfig>,
    l: &Loaded,
    options: MemoryOptions,
) -> MemoryPlan {
    plan_inner(gguf, cfg, Some(l), options)
}

/// Runs the table on a file and plans its memory; the run comes back with the plan (its
/// `hparams_refusal` says whether llama.cpp would refuse the file).
pub fn plan_memory_table(
    gguf: &Gguf<'_>,
    arch: &str,
    options: MemoryOptions,
) -> Result<(MemoryPlan, Loaded), TableError> {
    let mode = if gguf.tensors().is_empty() {
        TensorMode::Required
    } else {
        TensorMode::File
    };
    let l = table::load(gguf, arch, mode)?;
    Ok((plan_memory_loaded(gguf, &l, options), l))
}

/// The type a vocab-only file's tensor is assumed to have.
fn assumed(options: &MemoryOptions, dims: &[u64]) -> GgmlType {
    let ne0 = dims.first().copied().unwrap_or(0);
    match options.assumed_weight_type.block_size() {
        Some(b) if b > 0 && ne0 % b == 0 && dims.len() > 1 => options.assumed_weight_type,
        _ if dims.len() > 1 => GgmlType::F16,
        _ => GgmlType::F32,
    }
}

/// The caches from the spec's configuration alone (a file the table cannot read).
fn spec_caches(gguf: &Gguf<'_>, cfg: &ModelConfig, p: &CacheParams) -> LlamaMemory {
    let swa = swa_layers(gguf, cfg);
    let n_swa = cfg.sliding_window.unwrap_or(0);
    let streams = if p.unified { 1 } else { p.n_seq_max.max(1) };
    let seqs = if p.unified { p.n_seq_max.max(1) } else { 1 };
    let swa_cells = if p.swa_full {
        p.n_ctx_seq
    } else {
        p.n_ctx_seq
            .min(n_swa.saturating_mul(seqs).saturating_add(p.n_ubatch))
            .next_multiple_of(256)
    };
    let mut bufs = Vec::new();
    for sliding in [false, true] {
        let cells = if sliding { swa_cells } else { p.n_ctx_seq };
        let mut b = CacheBuffer {
            kind: CacheKind::Kv,
            name: if sliding { "kv_swa" } else { "kv" },
            cells,
            streams,
            layers: Vec::new(),
            k_bytes: 0,
            v_bytes: 0,
            p_bytes: 0,
            bytes: 0,
            source: "src/llama-kv-cache.cpp:65-300",
        };
        for il in 0..cfg.block_count {
            let is_swa = swa
                .get(usize::try_from(il).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(false);
            if is_swa != sliding {
                continue;
            }
            let l = cfg.layer(il);
            let k = row_size(p.type_k, cfg.head_dim.saturating_mul(l.head_count_kv))
                .saturating_mul(cells * streams);
            let v = row_size(p.type_v, cfg.head_dim_v.saturating_mul(l.head_count_kv))
                .saturating_mul(cells * streams);
            b.k_bytes += k;
            b.v_bytes += v;
            b.bytes += k.next_multiple_of(32) + v.next_multiple_of(32);
            b.layers.push(CacheLayer {
                layer: u32::try_from(il).unwrap_or(u32::MAX),
                k_bytes: k,
                v_bytes: v,
                p_bytes: 0,
            });
        }
        if !(sliding && b.layers.is_empty()) {
            bufs.push(b);
        }
    }
    LlamaMemory {
        class: if bufs.len() > 1 {
            "kv_cache_iswa"
        } else {
            "kv_cache"
        },
        source: "src/llama-model.cpp:2776-2874",
        buffers: bufs,
    }
}

/// What the table's run says of a tensor: layer kind (`llm_tensor_info_for`), whether llama.cpp
/// leaves it unused (`GGML_OP_NONE`, `TENSOR_SKIP`: not loaded), its op, its layer (`bid`).
#[derive(Debug, Clone, Copy)]
struct Req {
    kind: LayerKind,
    unused: bool,
    op: &'static str,
    layer: Option<u32>,
}

fn req_of(r: &crate::table::TensorRequest) -> Req {
    let names = table::table().tensor_names();
    let n = names.get(r.kind as usize);
    let mut kind = match n.map(|n| n.layer) {
        Some("input") => LayerKind::Input,
        Some("output") => LayerKind::Output,
        _ => LayerKind::Repeating,
    };
    // Token embeddings loaded again as the output (src/llama-model-loader.cpp:1162-1167).
    if r.flags & 2 != 0 && n.is_some_and(|n| n.ident == "LLM_TENSOR_TOKEN_EMBD") {
        kind = LayerKind::Output;
    }
    // `bias` tensors are used by GGML_OP_ADD (src/llama-model-loader.cpp:1184-1190).
    let op = if r.name.ends_with(".bias") {
        "add"
    } else {
        n.map_or("", |n| n.op)
    };
    Req {
        kind,
        unused: r.unused,
        op,
        layer: u32::try_from(r.layer).ok(),
    }
}

fn request_kinds(l: Option<&Loaded>) -> std::collections::HashMap<String, Req> {
    l.map(|l| {
        l.tensors
            .iter()
            .filter(|r| r.created && r.flags & 2 == 0)
            .map(|r| (r.name.clone(), req_of(r)))
            .collect()
    })
    .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn plan_tensor(
    kinds: &std::collections::HashMap<String, Req>,
    name: String,
    layer: Option<u64>,
    ggml_type: GgmlType,
    ne0: u64,
    ne1: u64,
    bytes: u64,
    offset: Option<u64>,
) -> PlanTensor {
    let r = kinds.get(&name).copied().unwrap_or_else(|| Req {
        kind: match (layer, name.starts_with("token_embd")) {
            (Some(_), _) => LayerKind::Repeating,
            (None, true) => LayerKind::Input,
            (None, false) => LayerKind::Output,
        },
        unused: false,
        op: "",
        layer: layer.and_then(|x| u32::try_from(x).ok()),
    });
    PlanTensor {
        name,
        layer: if r.kind == LayerKind::Repeating {
            r.layer
        } else {
            None
        },
        kind: r.kind,
        op: r.op,
        ggml_type,
        ne0,
        ne1,
        bytes,
        offset,
        duplicate: false,
    }
}

fn plan_inner(
    gguf: &Gguf<'_>,
    cfg: Option<&ModelConfig>,
    l: Option<&Loaded>,
    options: MemoryOptions,
) -> MemoryPlan {
    let hint = |name: &str| {
        l.and_then(|l| l.hparams.int(name))
            .map_or(0, |v| u64::try_from(v).unwrap_or(0))
    };
    let n_ctx_train = cfg.map_or_else(|| hint("n_ctx_train"), |c| c.context_length);
    // llama_context's n_ctx and n_ctx_seq (src/llama-context.cpp:133, 290-304).
    let ctx = if options.n_ctx == 0 {
        n_ctx_train
    } else {
        options.n_ctx
    };
    let n_seq = options.n_parallel.max(1);
    let mut n_ctx = ctx.max(1).next_multiple_of(256);
    let n_ctx_seq = if options.kv_unified {
        n_ctx
    } else {
        (n_ctx / n_seq).next_multiple_of(256).max(256)
    };
    if !options.kv_unified {
        n_ctx = n_ctx_seq * n_seq;
    }
    // (layer, type, bytes) of every tensor, real or expected.
    let weights_estimated = gguf.tensors().is_empty();
    let repackable = |name: &str, ty: GgmlType, dims: usize| {
        dims == 2
            && name != "token_embd.weight"
            && [GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::IQ4_NL].contains(&ty)
    };
    let mut cpu_repack_bytes = 0u64;
    let kinds = request_kinds(l);
    let mut plan_tensors: Vec<PlanTensor> = Vec::new();
    let tensors: Vec<(Option<u64>, GgmlType, u64)> = if weights_estimated {
        // Expected layout: the spec's, else the tensors the table's loader run creates
        // (TENSOR_DUPLICATED ones are the same tensor again).
        let spec = cfg.and_then(|c| c.spec().map(|s| (c, s)));
        let expected: Vec<(String, Option<u64>, Vec<u64>)> = match spec {
            Some((cfg, spec)) => expected_layout(spec, cfg, None)
                .into_iter()
                .map(|t| (t.name, t.layer, t.dims.unwrap_or_default()))
                .collect(),
            None => l
                .map(|l| {
                    l.tensors
                        .iter()
                        .filter(|r| r.created && r.flags & 2 == 0 && !r.shape.is_empty())
                        .map(|r| {
                            (
                                r.name.clone(),
                                u64::try_from(r.layer).ok(),
                                r.shape
                                    .iter()
                                    .map(|&d| u64::try_from(d).unwrap_or(0))
                                    .collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        expected
            .into_iter()
            .map(|(name, layer, dims)| {
                let ty = assumed(&options, &dims);
                let ne0 = dims.first().copied().unwrap_or(0);
                let elements: u64 = dims.iter().fold(1u64, |a, &d| a.saturating_mul(d));
                let rows = elements / ne0.max(1);
                let bytes = row_size(ty, ne0).saturating_mul(rows);
                if repackable(&name, ty, dims.len()) {
                    cpu_repack_bytes = cpu_repack_bytes.saturating_add(bytes);
                }
                let ne1 = dims.get(1).copied().unwrap_or(1);
                plan_tensors.push(plan_tensor(&kinds, name, layer, ty, ne0, ne1, bytes, None));
                (layer, ty, bytes)
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
                if kinds.get(t.name()).is_none_or(|k| !k.unused) {
                    plan_tensors.push(plan_tensor(
                        &kinds,
                        t.name().to_owned(),
                        layer,
                        t.ggml_type(),
                        t.dims().first().copied().unwrap_or(0),
                        t.dims().get(1).copied().unwrap_or(1),
                        bytes,
                        Some(t.offset()),
                    ));
                }
                (layer, t.ggml_type(), bytes)
            })
            .collect()
    };
    // The output copy of tied token embeddings (`TENSOR_DUPLICATED`): the same data in the
    // output layer's buffer (src/llama-model-loader.cpp:1162-1167).
    if let Some(l) = l {
        for r in l.tensors.iter().filter(|r| r.created && r.flags & 2 != 0) {
            if let Some(t) = plan_tensors
                .iter()
                .find(|t| t.name == r.name && !t.duplicate)
            {
                let q = req_of(r);
                let mut d = t.clone();
                d.kind = q.kind;
                d.layer = if q.kind == LayerKind::Repeating {
                    q.layer
                } else {
                    None
                };
                d.duplicate = true;
                plan_tensors.push(d);
            }
        }
    }
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

    let params = CacheParams {
        n_ctx_seq,
        n_seq_max: n_seq,
        unified: options.kv_unified,
        n_ubatch: options.n_ubatch,
        type_k: options.type_k,
        type_v: options.type_v,
        v_trans: !options.flash_attn,
        swa_full: options.swa_full,
    };
    let memory = match (l, cfg) {
        (Some(l), _) => caches::llama_memory(l, &params),
        (None, Some(cfg)) => spec_caches(gguf, cfg, &params),
        (None, None) => LlamaMemory {
            class: "none",
            source: "",
            buffers: Vec::new(),
        },
    };
    // Per layer: n_layer_all of the table's run, else the spec's block count.
    let n_layers = l.map_or_else(
        || cfg.map_or(0, |c| c.block_count),
        |l| u64::try_from(l.layers.len()).unwrap_or(0),
    );
    let is_swa = |il: u64| match l {
        Some(l) => l
            .layers
            .get(usize::try_from(il).unwrap_or(usize::MAX))
            .is_some_and(|x| x.is_swa),
        None => memory
            .buffers
            .iter()
            .any(|b| b.name == "kv_swa" && b.layers.iter().any(|x| u64::from(x.layer) == il)),
    };
    let layers: Vec<LayerMemory> = (0..n_layers)
        .map(|il| {
            let mut lm = LayerMemory {
                layer: il,
                weights_bytes: tensors
                    .iter()
                    .filter(|t| t.0 == Some(il))
                    .fold(0u64, |a, t| a.saturating_add(t.2)),
                swa: is_swa(il),
                kv_cells: 0,
                k_bytes: 0,
                v_bytes: 0,
                state_bytes: 0,
            };
            for b in &memory.buffers {
                for x in b.layers.iter().filter(|x| u64::from(x.layer) == il) {
                    match b.kind {
                        CacheKind::Kv => {
                            lm.kv_cells = lm.kv_cells.max(b.cells);
                            lm.k_bytes += x.k_bytes;
                            lm.v_bytes += x.v_bytes;
                        }
                        CacheKind::Recurrent | CacheKind::CompressorState => {
                            lm.state_bytes += x.k_bytes + x.v_bytes + x.p_bytes;
                        }
                    }
                }
            }
            lm
        })
        .collect();
    let non_layer_weights_bytes = tensors
        .iter()
        .filter(|t| t.0.is_none())
        .fold(0u64, |a, t| a.saturating_add(t.2));
    let kv_bufs = memory.buffers.iter().filter(|b| b.kind == CacheKind::Kv);
    let k_bytes = kv_bufs.clone().map(|b| b.k_bytes).sum();
    let v_bytes = kv_bufs.map(|b| b.v_bytes).sum();
    let kv_cache_bytes = memory.bytes(CacheKind::Kv);
    let recurrent_state_bytes = memory.bytes(CacheKind::Recurrent);
    let compressor_state_bytes = memory.bytes(CacheKind::CompressorState);
    // llama_context::output_reserve (src/llama-context.cpp:2116-2160): logits for
    // max(n_outputs, n_seq_max) rows, and T5's embeddings beside them.
    let n_vocab = cfg.map_or_else(|| hint("n_vocab"), |c| c.vocab_size.unwrap_or(0));
    let arch = l.map_or("", |l| l.arch.as_str());
    let embd_out = if arch == "t5" {
        let out = hint("n_embd_out_impl");
        if out > 0 {
            out
        } else {
            hint("n_embd")
        }
    } else {
        0
    };
    let output_bytes = n_vocab
        .saturating_add(embd_out)
        .saturating_mul(n_seq)
        .saturating_mul(4);
    // The compute buffer: see `compute.rs` (the peak of the graph `sched_reserve` builds).
    let ub = options.n_ubatch.min(n_ctx);
    let embd = cfg.map_or_else(|| hint("n_embd"), |c| c.embedding_length);
    // The cells attention reads: the context, except for models without a KV cache (llama.cpp
    // builds none for encoders and diffusion models, whose batch attends to itself, and a
    // recurrent model has no attention at all).
    let has_kv = memory.buffers.iter().any(|b| b.kind == CacheKind::Kv);
    let n_kv = match (memory.class, has_kv) {
        ("none", _) if l.is_some() => ub,
        (_, false) if l.is_some() => 0,
        _ => n_ctx,
    };
    // One KQ mask per cache some layer reads (`llm_graph_input_attn_kv_iswa` builds two, but a
    // mask no layer uses is no graph node and takes no memory: LFM2's layers are all SWA).
    let used = |swa: bool| {
        u64::from(memory.buffers.iter().any(|b| {
            b.kind == CacheKind::Kv
                && !b.layers.is_empty()
                && b.name.contains("swa") == swa
                && !b.name.contains("indexer")
        }))
    };
    let masks = (used(false) + used(true)).max(1);
    let graph = match (l, cfg) {
        (Some(l), _) => compute::graph_from_table(
            l,
            &memory,
            ub,
            n_kv,
            embd,
            n_vocab,
            masks,
            options.flash_attn,
        ),
        (None, Some(cfg)) => {
            compute::graph_from_spec(cfg, ub, n_kv, n_vocab, masks, options.flash_attn)
        }
        (None, None) => compute::Graph::default(),
    };
    let est = compute::cpu(&graph);
    // Where the architecture's graph is written out (`text.rs`), the allocator's replay of it
    // is llama.cpp's figure; elsewhere the estimate stands.
    let replayed = l
        .and_then(|l| {
            // The sliding-window cache's cells, when the model has one in use.
            // Per stream: with several (`--parallel` without `--kv-unified`) each group of the
            // ubatch attends to its own stream's cells (`text::decoder`).
            let kv = |swa: bool| {
                memory.buffers.iter().find(|b| {
                    b.kind == CacheKind::Kv
                        && !b.layers.is_empty()
                        && b.name.contains("swa") == swa
                        && !b.name.contains("indexer")
                })
            };
            let n_kv_swa = kv(true).map(|b| b.cells);
            let n_kv = match kv(false) {
                Some(b) if b.streams > 1 => b.cells,
                _ => n_kv,
            };
            let probe = MemoryOptions {
                flash_attn: true,
                ..options
            };
            let n_seq = options.n_parallel.max(1);
            Some((
                text::decoder(l, ub, n_kv, n_kv_swa, n_vocab, &options)?,
                text::decoder(l, n_seq, n_kv, n_kv_swa, n_vocab, &probe),
            ))
        })
        .map(|(d, probe)| {
            (
                text::cpu_compute_bytes(&d),
                d.family,
                d.n_kv,
                d.n_stream,
                probe,
                d,
            )
        });
    let fa_probe = replayed.as_ref().and_then(|r| r.4.clone());
    let pp_graph = replayed.as_ref().map(|r| r.5.clone());
    let (compute_bytes, compute_formula) = match replayed {
        Some((bytes, family, cells, streams, _, _)) => (
            bytes,
            format!(
                "llama.cpp's reserved graph ({family:?}: {ub} tokens, {cells} KV cells{}, flash attention {}) placed by a replay of ggml's graph allocator",
                if streams > 1 {
                    format!(" in each of {streams} streams")
                } else {
                    String::new()
                },
                if options.flash_attn { "on" } else { "off" }
            ),
        ),
        None => (est.bytes, est.formula),
    };
    if !options.cpu_repack {
        cpu_repack_bytes = 0;
    }
    let total_bytes = weights_bytes
        .saturating_add(cpu_repack_bytes)
        .saturating_add(kv_cache_bytes)
        .saturating_add(recurrent_state_bytes)
        .saturating_add(compressor_state_bytes)
        .saturating_add(output_bytes)
        .saturating_add(compute_bytes);
    tracing::info!(target: "ggufscope::memory", weights = weights_bytes, kv = kv_cache_bytes, recurrent = recurrent_state_bytes, output = output_bytes, compute = compute_bytes, n_ctx, "memory plan");
    let n_layer_all = n_layers;
    let mut plan = MemoryPlan {
        options,
        n_ctx,
        n_ctx_seq,
        weights_estimated,
        weights_bytes,
        weights_by_type,
        non_layer_weights_bytes,
        cpu_repack_bytes,
        memory_class: memory.class,
        memory_source: memory.source,
        caches: memory.buffers,
        layers,
        k_bytes,
        v_bytes,
        kv_cache_bytes,
        recurrent_state_bytes,
        compressor_state_bytes,
        output_bytes,
        compute_bytes,
        cpu_compute_bytes: compute_bytes,
        cpu_compute_replayed: replayed.is_some(),
        compute_formula,
        total_bytes,
        backend: Backend::Cpu,
        devices: Vec::new(),
        placement: Placement::default(),
        tensors: plan_tensors,
        n_layer_all,
        ssm: ["ssm_d_state", "ssm_d_inner", "ssm_n_group"].map(hint),
        graph: [ub, n_kv, embd, masks],
        compute_graph: graph,
        fa_probe,
        pp_graph,
        cuda_compute_replayed: false,
    };
    // The CPU backend cannot fail to place.
    let _ = apply_placement(&mut plan, &PlacementOptions::default());
    plan
}

/// Places the plan on devices as llama.cpp's loader would with `o` (`--ngl`, `--gpu-mem`,
/// `--tensor-split`, overrides …), filling `devices`, `placement`, `compute_bytes` and
/// `total_bytes`.
pub fn apply_placement(plan: &mut MemoryPlan, o: &PlacementOptions) -> Result<(), PlacementError> {
    let p = place(plan.n_layer_all, &plan.tensors, plan.ssm, o)?;
    let gpus = placement::gpus(o);
    let mut devs: Vec<DeviceMemory> = std::iter::once(("CPU".to_string(), None))
        .chain(gpus)
        .enumerate()
        .map(|(i, (name, budget))| DeviceMemory {
            name,
            kind: if i == 0 { "host" } else { "gpu" },
            weights_bytes: p.weights.get(i).copied().unwrap_or(0),
            kv_cache_bytes: 0,
            recurrent_state_bytes: 0,
            compute_bytes: 0,
            output_bytes: 0,
            overhead_bytes: if i == 0 { 0 } else { o.device_overhead },
            total_bytes: 0,
            budget_bytes: budget,
            fits: None,
            layers: p
                .layer_devices
                .iter()
                .enumerate()
                .filter(|(_, &d)| d == i)
                .filter_map(|(il, _)| u32::try_from(il).ok())
                .collect(),
        })
        .collect();
    if let Some(h) = devs.first_mut() {
        // Everything on the CPU: `llama_model_size` (the mapped range adds only the file's
        // alignment padding between tensors).
        if o.backend == Backend::Cpu {
            h.weights_bytes = plan.weights_bytes;
        }
        h.weights_bytes += plan.cpu_repack_bytes;
        h.output_bytes = plan.output_bytes;
    }
    for b in &plan.caches {
        let rows = b.cells.saturating_mul(b.streams).max(1);
        let (ty_k, ty_v) = match b.kind {
            CacheKind::Kv => (plan.options.type_k, plan.options.type_v),
            _ => (GgmlType::F32, GgmlType::F32),
        };
        for x in &b.layers {
            let dev = if o.no_kv_offload {
                0
            } else {
                p.layer_devices.get(x.layer as usize).copied().unwrap_or(0)
            };
            let size = |ty: GgmlType, bytes: u64| {
                let ne0 = (bytes / rows / ty.type_size().unwrap_or(1).max(1))
                    * ty.block_size().unwrap_or(1);
                alloc_bytes(dev, ty, ne0, bytes)
            };
            let bytes = size(ty_k, x.k_bytes) + size(ty_v, x.v_bytes) + size(ty_k, x.p_bytes);
            if let Some(d) = devs.get_mut(dev) {
                match b.kind {
                    CacheKind::Kv => d.kv_cache_bytes += bytes,
                    _ => d.recurrent_state_bytes += bytes,
                }
            }
        }
    }
    // A plan placed again (`--fit`, `--ngl-step`) keeps only the latest placement's note.
    const FA_NOTE: &str = "; CUDA: flash attention auto resolved off";
    const SCHED_NOTE: &str = "; CUDA: llama.cpp's scheduler replayed";
    for note in [FA_NOTE, SCHED_NOTE] {
        if let Some(i) = plan.compute_formula.find(note) {
            plan.compute_formula.truncate(i);
        }
    }
    if o.backend == Backend::Cuda && plan.compute_graph.flash_attn && !cuda_flash_attn(plan, o, &p)
    {
        plan.compute_formula.push_str(FA_NOTE);
        plan.compute_formula.push_str(
            " (an attention layer on the GPU has head sizes without a CUDA kernel), GPU graph and masks without it",
        );
    }
    let (split, replayed) = compute_split(plan, o, &p);
    plan.cuda_compute_replayed = replayed;
    if replayed {
        plan.compute_formula.push_str(SCHED_NOTE);
        plan.compute_formula.push_str(
            " (each node's device, the splits and the copies of what a split reads from another device, one buffer per device; prompt and one-token graphs)",
        );
    }
    for (d, c) in devs.iter_mut().zip(split) {
        d.compute_bytes = c;
    }
    for d in &mut devs {
        d.total_bytes = d.weights_bytes
            + d.kv_cache_bytes
            + d.recurrent_state_bytes
            + d.compute_bytes
            + d.output_bytes
            + d.overhead_bytes;
        d.fits = d.budget_bytes.map(|b| d.total_bytes <= b);
    }
    plan.compute_bytes = devs.iter().map(|d| d.compute_bytes).sum();
    plan.total_bytes = devs.iter().map(|d| d.total_bytes).sum();
    plan.backend = o.backend;
    plan.devices = devs;
    plan.placement = p;
    Ok(())
}

/// The compute buffers per device (host first).
///
/// - CPU backend: the CPU estimate (`compute_formula`).
/// - CUDA: every GPU reserves a compute buffer, the CPU estimate (measured on the corpus:
///   llama.cpp's CUDA0 compute at full offload is the CPU graph's KQ, mask and residuals, and
///   with op offload a GPU computes the large batches of CPU-held weights too, so a GPU without
///   layers still reserves one); the host reserves the pinned `CUDA_Host` buffer of the graph
///   inputs: the KQ masks (`n_ubatch × n_kv`, f16 with flash attention, else f32; one per
///   cache of an iSWA model), each cache's V index input with flash attention off
///   (`n_ubatch · n_embd_v_gqa_max` i64, [`compute::Graph::v_idx_bytes`]) and the input embeddings (`get_rows` on the CPU-held
///   `token_embd`, `n_ubatch × n_embd` f32, and its copy), plus 64 KiB of small inputs.
fn compute_split(plan: &MemoryPlan, o: &PlacementOptions, p: &Placement) -> (Vec<u64>, bool) {
    let gpus = placement::gpus(o);
    let mut out = vec![0u64; 1 + gpus.len()];
    if o.backend == Backend::Cpu {
        if let Some(h) = out.first_mut() {
            *h = plan.cpu_compute_bytes;
        }
        return (out, false);
    }
    let [ub, n_kv, embd, masks] = plan.graph;
    // `--flash-attn on` is llama.cpp's default `auto`, resolved per model and placement.
    let fa = cuda_flash_attn(plan, o, p);
    let resolved;
    let graph = if fa == plan.compute_graph.flash_attn {
        &plan.compute_graph
    } else {
        resolved = compute::Graph {
            flash_attn: fa,
            ..plan.compute_graph.clone()
        };
        &resolved
    };
    let mask_elt = if graph.flash_attn { 2 } else { 4 };
    let mask_bytes = ub
        .saturating_mul(n_kv)
        .saturating_mul(mask_elt)
        .saturating_mul(masks)
        // A DSA indexer's own mask, f16 with the fused lightning indexer CUDA runs
        // (src/llama-graph.cpp:982).
        .saturating_add(
            ub.saturating_mul(n_kv)
                .saturating_mul(2)
                .saturating_mul(graph.extra_masks),
        );
    // A selective scan CUDA cannot run stays on the CPU with its inputs and output there; the
    // masks are copied to the GPU before it runs, so the two share the buffer.
    let host = mask_bytes
        .max(compute::cpu_scan_bytes(graph))
        .saturating_add(graph.v_idx_bytes())
        .saturating_add(graph.decay_bytes())
        .saturating_add(ub.saturating_mul(embd).saturating_mul(8))
        .saturating_add(65536);
    let full_graph = if fa == plan.compute_graph.flash_attn {
        plan.cpu_compute_bytes
    } else {
        compute::cpu(graph).bytes
    };
    // One GPU, no tensor overrides, f16 caches (CUDA's flash attention converts others to f16
    // in its own allocation, fattn-common.cuh:53-85), a graph written out: llama.cpp's
    // scheduler replayed on the prompt and one-token graphs (`text::cuda_compute_bytes`).
    let f16_caches = plan.options.type_k == GgmlType::F16 && plan.options.type_v == GgmlType::F16;
    if gpus.len() == 1 && o.overrides.is_empty() && f16_caches {
        if let (Some(pp), Some(tg)) = (&plan.pp_graph, &plan.fa_probe) {
            let (mut pp, mut tg) = (pp.clone(), tg.clone());
            pp.flash_attn &= fa;
            tg.flash_attn &= fa;
            let dev = |il: usize| {
                let d = p.layer_devices.get(il).copied().unwrap_or(0);
                text::Device::try_from(d).unwrap_or(text::Device::MAX)
            };
            let cache = |il: usize| if o.no_kv_offload { 0 } else { dev(il) };
            let output = dev(p.layer_devices.len().saturating_sub(1));
            let full_offload = p.n_gpu_layers > plan.n_layer_all;
            // The file's weights, for the copies of the ones read across devices (a quantized
            // copy in a GPU buffer padded as ggml-cuda pads it).
            let weights: Vec<text::WeightSize> = plan
                .tensors
                .iter()
                .map(|t| {
                    let pad = if t.ggml_type.is_quantized() && t.ne0 % 512 != 0 {
                        let blocks =
                            (512 - t.ne0 % 512) / t.ggml_type.block_size().unwrap_or(1).max(1);
                        blocks.saturating_mul(t.ggml_type.type_size().unwrap_or(0))
                    } else {
                        0
                    };
                    text::WeightSize {
                        layer: t.layer,
                        ne: [t.ne0, t.ne1],
                        bytes: t.bytes,
                        gpu_pad: pad,
                    }
                })
                .collect();
            if let Some(v) = text::cuda_compute_bytes(
                &pp,
                &tg,
                &weights,
                gpus.len(),
                dev,
                cache,
                output,
                full_offload,
            ) {
                return (v, true);
            }
        }
    }
    let (layers, output_copy, host_weights) = offload_inputs(plan, p);
    let partial = host_weights || p.layer_devices.contains(&0);
    // The first GPU takes over the host-held layers' large ops (`compute::partial_offload_gpu`);
    // every other GPU runs the graph of its own layers.
    let first = if partial {
        // Where the whole graph is replayed (`text.rs`) and the estimate of it fell short, the
        // partial-offload figure, made of the same per-layer phases, falls short by as much.
        // Not for a DSA graph: what its replay adds over the estimate (each layer's zero rows
        // for the top-k mask, allocated before the graph runs; the indexer's scores) does not
        // carry over to the first GPU (`cuda-truth.json`: deepseek32 and glm-dsa at
        // n_gpu_layers 0 and 1, n_ctx 4096, flash attention auto: 60.69 MiB, the CPU replay
        // 72.45, the estimate 64.14).
        let short = if fa == plan.compute_graph.flash_attn
            && plan.cpu_compute_replayed
            && graph.extra_masks == 0
        {
            full_graph.saturating_sub(compute::cpu(graph).bytes)
        } else {
            0
        };
        compute::partial_offload_gpu(graph, &layers, output_copy).saturating_add(short)
    } else {
        full_graph
    };
    // The CPU backend runs the host layers' small ops (cache writes, row selections) beside the
    // inputs: one `[n_embd, n_ubatch]` f32 more (measured, `cuda-truth.json`).
    let host = if partial {
        host.saturating_add(ub.saturating_mul(embd).saturating_mul(4))
    } else {
        host
    };
    // The context's GPU backends are the model's devices (src/llama.cpp:289-300): with split
    // mode none only the main GPU, which then takes the offloaded ops; other GPUs reserve none.
    let model_gpus: Vec<usize> = if o.split_mode == SplitMode::None {
        vec![o.main_gpu]
    } else {
        (0..gpus.len()).collect()
    };
    if let Some(h) = out.first_mut() {
        *h = host;
    }
    for (k, &g) in model_gpus.iter().enumerate() {
        if let Some(c) = out.get_mut(1 + g) {
            *c = if k == 0 { first } else { full_graph };
        }
    }
    (out, false)
}

/// Per layer, what the first GPU copies when it runs a host-held layer's ops; the largest
/// host-held output weight; whether any `mul_mat` weight of a layer or of the output is in
/// host memory.
fn offload_inputs(plan: &MemoryPlan, p: &Placement) -> (Vec<compute::LayerOffload>, u64, bool) {
    let mut layers: Vec<compute::LayerOffload> = plan
        .compute_graph
        .layers
        .iter()
        .enumerate()
        .map(|(il, _)| {
            let m = plan.layers.get(il);
            let mla = plan.compute_graph.mla_v > 0;
            let (k, v) = m.map_or((0, 0), |m| (m.k_bytes, m.v_bytes));
            compute::LayerOffload {
                on_gpu: p.layer_devices.get(il).is_some_and(|&d| d > 0),
                swa: m.is_some_and(|m| m.swa),
                // MLA's V is a view of the compressed K cache: a second copy.
                kv_view_bytes: if mla && v == 0 {
                    k.saturating_mul(2)
                } else {
                    k.saturating_add(v)
                },
                state_bytes: m.map_or(0, |m| m.state_bytes),
                weight_copy: compute::Phases::default(),
            }
        })
        .collect();
    let mut output_copy = 0u64;
    let mut host_weights = false;
    for (t, &(dev, _)) in plan.tensors.iter().zip(&p.tensors) {
        if dev != 0 || !matches!(t.op, "mul_mat" | "mul_mat_id") {
            continue;
        }
        match (t.kind, t.layer) {
            (LayerKind::Output, _) => {
                host_weights = true;
                output_copy = output_copy.max(t.bytes);
            }
            (LayerKind::Repeating, Some(il)) => {
                let Some(l) = layers.get_mut(il as usize) else {
                    continue;
                };
                host_weights = true;
                let suffix = t.name.splitn(3, '.').nth(2).unwrap_or("");
                let c = &mut l.weight_copy;
                let slot = if suffix.contains("_exps")
                    || suffix.contains("_shexp")
                    || suffix.starts_with("ffn_gate_inp")
                {
                    &mut c.moe
                } else if suffix.starts_with("ffn_") {
                    &mut c.ffn
                } else if suffix.starts_with("ssm_")
                    || suffix.starts_with("shortconv")
                    || suffix.starts_with("time_mix")
                {
                    &mut c.recr
                } else {
                    &mut c.attn
                };
                *slot = (*slot).max(t.bytes);
            }
            _ => {}
        }
    }
    (layers, output_copy, host_weights)
}

/// Flash attention on CUDA for this placement: `--flash-attn on` is llama.cpp's default `auto`,
/// resolved per model and placement ([`compute::cuda_flash_attn_auto`]); a quantized V cache turns
/// `auto` into `enabled` before any probe (`llama_init_from_model`,
/// src/llama-context.cpp:3840-3844).
fn cuda_flash_attn(plan: &MemoryPlan, o: &PlacementOptions, p: &Placement) -> bool {
    let on_gpu = |il: usize| p.layer_devices.get(il).is_some_and(|&d| d > 0);
    if plan.options.type_v.is_quantized() {
        return plan.compute_graph.flash_attn;
    }
    // Where the graph is written out, the scheduler's own assignment of the probe's graph.
    let dev = |il: usize| {
        let d = p.layer_devices.get(il).copied().unwrap_or(0);
        text::Device::try_from(d).unwrap_or(text::Device::MAX)
    };
    let cache = |il: usize| if o.no_kv_offload { 0 } else { dev(il) };
    let output = dev(p.layer_devices.len().saturating_sub(1));
    let probed = plan
        .fa_probe
        .as_ref()
        .filter(|_| plan.compute_graph.flash_attn)
        .and_then(|d| text::cuda_flash_attn_auto(d, dev, cache, output));
    probed.unwrap_or_else(|| compute::cuda_flash_attn_auto(&plan.compute_graph, on_gpu))
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
                .saturating_add(l.v_bytes)
                .saturating_add(l.state_bytes);
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
                .saturating_add(l.state_bytes)
        },
    );
    GpuFit {
        layers_on_gpus: next as u64,
        layers_on_host: host_layers.len() as u64,
        host_bytes,
        gpus,
    }
}
