//! Where llama.cpp 0c1e570 puts each buffer: the weights of each tensor, each cache layer, the
//! output buffer and the compute buffers, per device (`llama_model_base::load_tensors`,
//! `src/llama-model.cpp:1500-1614`; `llama_model_loader::create_tensor`,
//! `src/llama-model-loader.cpp:1116-1290`; `llama_kv_cache`, `src/llama-kv-cache.cpp:210-225`;
//! `llama_memory_recurrent`, `src/llama-memory-recurrent.cpp:83-96`;
//! `llama_context::output_reserve`, `src/llama-context.cpp:2190-2201`).
//!
//! - The input layer (`LLM_TENSOR_LAYER_INPUT`: token embeddings …) is always on the CPU
//!   (`src/llama-model.cpp:1603-1605`).
//! - `n_gpu_layers` counts the repeating layers *and* the output layer: `i_gpu_start =
//!   max(n_layer_all + 1 - n_gpu_layers, 0)` and `act_gpu_layers = min(n_gpu_layers,
//!   n_layer_all + 1)` (lines 1589-1590), so the *last* layers go first and the output layer
//!   (index `n_layer_all`, line 1614) is the first one offloaded: `-ngl 1` puts only
//!   `output.weight`/`output_norm` on the GPU. The library default `-1` is `n_layer_all + 1`
//!   (line 2004).
//! - A GPU layer's device is `upper_bound(splits, (il - i_gpu_start) / act_gpu_layers)` over the
//!   cumulative, normalised `tensor_split` (lines 1560-1597); without one, the devices' free
//!   memory is the split (lines 1561-1574).
//! - Tensor overrides (`-ot REGEX=BUFT`, `--n-cpu-moe N`, `--cpu-moe`) are tried in order before
//!   the layer's list; the first `std::regex_search` match wins
//!   (`src/llama-model-loader.cpp:1235-1259`).
//! - Split mode `none` keeps only the main GPU (`src/llama.cpp:289-300`); `row` needs a split
//!   buffer type, which 0c1e570's CUDA backend does not have: llama.cpp refuses
//!   (`src/llama-model.cpp:1145-1164`).
//! - KV and recurrent layers go on their layer's device unless `--no-kv-offload`
//!   (`src/llama-kv-cache.cpp:214-218`, `src/llama-memory-recurrent.cpp:85-89`); the output
//!   buffer is in host memory, pinned (`CUDA_Host`) when the output layer's device has a host
//!   buffer type (`src/llama-context.cpp:2194-2201`).
//! - Weights with mmap on the host are one `CPU_Mapped` buffer per file spanning the file range of
//!   its tensors (`llama_model_loader::get_mapping_range`); on a CUDA device each tensor takes
//!   `ggml_backend_cuda_buffer_type_get_alloc_size` (quantized rows padded to 512 elements,
//!   `ggml/src/ggml-cuda/ggml-cuda.cu:903-920`) aligned to 128 bytes (line 897).

use ggufscope_gguf::GgmlType;
use serde::Serialize;

use super::caches::row_size;

/// The compute backend a plan is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// llama.cpp's CPU backend only.
    #[default]
    Cpu,
    /// CUDA GPUs (with the CPU for what is not offloaded).
    Cuda,
}

/// `llama_split_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SplitMode {
    /// One GPU (`main_gpu`).
    None,
    /// Layers split over the GPUs (llama.cpp's default).
    #[default]
    Layer,
    /// Rows of each matrix split over the GPUs (needs a split buffer type).
    Row,
}

/// Where an override sends a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideTarget {
    /// A host buffer (`CPU`, `CUDA_Host`).
    Host,
    /// GPU number `n` (`CUDAn`).
    Gpu(usize),
}

/// One `--override-tensor` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorOverride {
    /// The pattern (`std::regex_search` on the tensor name).
    pub pattern: String,
    /// Where a match goes.
    pub target: OverrideTarget,
}

/// `LLM_FFN_EXPS_REGEX` (`common/common.h:1198`).
pub const FFN_EXPS_REGEX: &str = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps";

/// The overrides `--n-cpu-moe N` adds: `blk\.I\.ffn_(up|down|gate|gate_up)_(ch|)exps` to the
/// CPU for `I < N` (`common/arg.cpp:2766-2775`, `llm_add_n_cpu_ffn_overrides`,
/// `common/common.h:1202-1214`).
pub fn n_cpu_moe_overrides(n: u64) -> Vec<TensorOverride> {
    (0..n)
        .map(|i| TensorOverride {
            pattern: format!("blk\\.{i}{FFN_EXPS_REGEX}"),
            target: OverrideTarget::Host,
        })
        .collect()
}

/// How the model is spread over devices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacementOptions {
    /// The backend.
    pub backend: Backend,
    /// `n_gpu_layers`; `None` is llama.cpp's library default, every layer and the output
    /// (`n_layer_all + 1`, `src/llama-model.cpp:2004`). Ignored on the CPU backend.
    pub n_gpu_layers: Option<u64>,
    /// GPUs and their memory (`None`: unknown). With the CUDA backend and none given, one GPU.
    pub gpu_mem: Vec<Option<u64>>,
    /// `--tensor-split` proportions (empty or all zero: by the GPUs' memory).
    pub tensor_split: Vec<f64>,
    /// `--split-mode`.
    pub split_mode: SplitMode,
    /// `--main-gpu` (split mode `none`).
    pub main_gpu: usize,
    /// Tensor overrides in order (`-ot`, then `--n-cpu-moe`).
    pub overrides: Vec<TensorOverride>,
    /// `--no-kv-offload`: every cache in host memory.
    pub no_kv_offload: bool,
    /// Weights mapped from the file (llama.cpp's default); without, host weights are copied
    /// into a (pinned) host buffer.
    pub use_mmap: bool,
    /// Bytes each GPU loses to the driver and the CUDA context before any buffer.
    pub device_overhead: u64,
}

/// The CUDA context and driver overhead on an H200 measured in `cuda-truth.json` (device memory
/// used after `ggml_backend` initialisation, before any buffer: 765,329,408 bytes, NVIDIA driver
/// 580.159, CUDA 13.0). Other GPUs and drivers differ by a few hundred MiB.
pub const DEFAULT_CUDA_OVERHEAD: u64 = 765_329_408;

impl Default for PlacementOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Cpu,
            n_gpu_layers: None,
            gpu_mem: Vec::new(),
            tensor_split: Vec::new(),
            split_mode: SplitMode::Layer,
            main_gpu: 0,
            overrides: Vec::new(),
            no_kv_offload: false,
            use_mmap: true,
            device_overhead: DEFAULT_CUDA_OVERHEAD,
        }
    }
}

/// Why llama.cpp would not place the model so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// `--split-mode row` on a backend without split buffers.
    #[error("device CUDA0 does not support split buffers (llama.cpp 0c1e570 has no CUDA split buffer type; src/llama-model.cpp:1163)")]
    NoSplitBuffers,
    /// An override pattern that is not a regular expression.
    #[error("invalid --override-tensor pattern `{0}`: {1}")]
    BadPattern(String, String),
    /// An override to a GPU that does not exist.
    #[error("--override-tensor names {0}, but there are {1} GPU(s)")]
    NoSuchGpu(String, usize),
    /// `--main-gpu` past the GPUs.
    #[error("invalid value for main_gpu: {0} (available devices: {1}) (src/llama.cpp:293-296)")]
    BadMainGpu(usize, usize),
    /// `--fit` without a GPU memory (`--gpu-mem`).
    #[error("--fit needs the GPUs' memory (--gpu-mem); llama.cpp only reduces the context to host memory without GPUs (common/fit.cpp:459-461)")]
    NoGpuForFit,
}

/// llama.cpp's layer kind of a tensor (`llm_tensor_layer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// `LLM_TENSOR_LAYER_INPUT`.
    Input,
    /// `LLM_TENSOR_LAYER_REPEATING`.
    Repeating,
    /// `LLM_TENSOR_LAYER_OUTPUT`.
    Output,
}

/// One weight tensor as the loader creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTensor {
    /// Its name.
    pub name: String,
    /// `bid`.
    pub layer: Option<u32>,
    /// Layer kind.
    pub kind: LayerKind,
    /// The ggml op llama.cpp uses it with (`llm_tensor_info`; `add` for biases).
    pub op: &'static str,
    /// ggml type.
    pub ggml_type: GgmlType,
    /// `ne[0]`.
    pub ne0: u64,
    /// `ne[1]`.
    pub ne1: u64,
    /// `ggml_nbytes`.
    pub bytes: u64,
    /// Offset of its data in the file (`None` for a vocab-only file's expected layout).
    pub offset: Option<u64>,
    /// The `TENSOR_DUPLICATED` copy (token embeddings used as the output).
    pub duplicate: bool,
}

/// What one device holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceMemory {
    /// `CPU` (host memory: mapped, plain and pinned) or `CUDA0`, `CUDA1`, ….
    pub name: String,
    /// `host` or `gpu`.
    pub kind: &'static str,
    /// Model buffers.
    pub weights_bytes: u64,
    /// KV cache buffers (every KV-like cache).
    pub kv_cache_bytes: u64,
    /// Recurrent state buffers (and DeepSeek-V4 compressor states).
    pub recurrent_state_bytes: u64,
    /// Compute buffers (on the host: the CPU backend's, or the pinned `CUDA_Host` one).
    pub compute_bytes: u64,
    /// Output (logits) buffer: host only.
    pub output_bytes: u64,
    /// Driver/context overhead (`--device-overhead`; GPUs only).
    pub overhead_bytes: u64,
    /// The sum.
    pub total_bytes: u64,
    /// Its memory when given (`--gpu-mem`).
    pub budget_bytes: Option<u64>,
    /// Whether `total_bytes` fits the budget (absent without one).
    pub fits: Option<bool>,
    /// Repeating layers (and the output layer, as `n_layer_all`) assigned to it.
    pub layers: Vec<u32>,
}

/// Weights, layer devices and tensor devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Placement {
    /// `n_gpu_layers` used (after the library default).
    pub n_gpu_layers: u64,
    /// `i_gpu_start`.
    pub i_gpu_start: u64,
    /// Layers llama.cpp logs as offloaded (`min(n_gpu_layers, n_layer_all + 1)` with a GPU).
    pub offloaded_layers: u64,
    /// The device of each repeating layer, then of the output layer (`n_layer_all + 1`
    /// entries; device index: 0 the host, `1 + g` GPU `g`).
    pub layer_devices: Vec<usize>,
    /// Each weight tensor's device (index as `layer_devices`), in the loader's order.
    #[serde(skip)]
    pub tensors: Vec<(usize, bool)>,
    /// Model buffer bytes per device.
    pub weights: Vec<u64>,
}

fn align(n: u64, a: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.next_multiple_of(a)
    }
}

/// The bytes a tensor takes in a buffer of device `dev` (0 host, else a CUDA GPU):
/// `get_alloc_size` aligned to the buffer type's alignment.
pub fn alloc_bytes(dev: usize, ty: GgmlType, ne0: u64, nbytes: u64) -> u64 {
    if dev == 0 {
        return align(nbytes, 32);
    }
    let mut size = nbytes;
    if ty.is_quantized() && ne0 % 512 != 0 {
        size += row_size(ty, 512 - ne0 % 512);
    }
    align(size, 128)
}

/// Whether 0c1e570's CUDA backend runs the op llama.cpp tries a weight with
/// (`weight_buft_supported`, `src/llama-model-loader.cpp:927-1060`; CUDA's `supports_op`,
/// `ggml/src/ggml-cuda/ggml-cuda.cu:5499-5519`). Only the SSM kernels refuse shapes; every other
/// weight op of the table runs on CUDA.
fn cuda_supports(t: &PlanTensor, ssm: [u64; 3]) -> bool {
    let [d_state_hp, d_inner, n_group] = ssm;
    match t.op {
        // conv_x [w.ne0 - 1 + 512, w.ne1, 3]: d_inner % 128 (ggml-cuda.cu:5517-5519).
        "ssm_conv" => t.ne1 % 128 == 0,
        "ssm_scan" => {
            // src/llama-model-loader.cpp:1010-1026: s [d_state, head_dim, n_head, 3].
            let mamba2 = t.ne0 == 1;
            let d_state = if mamba2 { d_state_hp } else { t.ne0 };
            let n_head = t.ne1.max(1);
            let head_dim = d_inner / n_head;
            if mamba2 {
                matches!(d_state, 96 | 128 | 256) && head_dim % 16 == 0
            } else {
                d_state == 16 && head_dim == 1 && n_head % 128 == 0 && n_group.max(1) == 1
            }
        }
        _ => true,
    }
}

/// The GPUs of a placement: `(name, memory)`.
pub fn gpus(o: &PlacementOptions) -> Vec<(String, Option<u64>)> {
    if o.backend == Backend::Cpu {
        return Vec::new();
    }
    let n = o.gpu_mem.len().max(o.tensor_split.len()).max(1);
    (0..n)
        .map(|i| (format!("CUDA{i}"), o.gpu_mem.get(i).copied().flatten()))
        .collect()
}

/// Places every layer and tensor as `llama_model_base::load_tensors` does. `n_layer_all` is
/// `hparams.n_layer_all`. Devices are numbered 0 (the host) and `1 + g` (GPU `g`).
pub fn place(
    n_layer_all: u64,
    tensors: &[PlanTensor],
    ssm: [u64; 3],
    o: &PlacementOptions,
) -> Result<Placement, PlacementError> {
    let all_gpus = gpus(o);
    if o.backend == Backend::Cuda && o.split_mode == SplitMode::Row {
        return Err(PlacementError::NoSplitBuffers);
    }
    // The model's devices (src/llama.cpp:289-300): split mode none keeps the main GPU.
    let devices: Vec<usize> = if o.split_mode == SplitMode::None && !all_gpus.is_empty() {
        if o.main_gpu >= all_gpus.len() {
            return Err(PlacementError::BadMainGpu(o.main_gpu, all_gpus.len()));
        }
        vec![o.main_gpu]
    } else {
        (0..all_gpus.len()).collect()
    };
    // Split points (src/llama-model.cpp:1558-1587), in f32 as llama.cpp computes them.
    let all_zero = o.tensor_split.iter().take(devices.len()).all(|&x| x == 0.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let mut splits: Vec<f32> = devices
        .iter()
        .enumerate()
        .map(|(i, &g)| {
            if all_zero {
                // Free memory; unknown memory counts alike for every GPU.
                all_gpus.get(g).and_then(|x| x.1).map_or(1.0, |m| m as f32)
            } else {
                o.tensor_split.get(i).copied().unwrap_or(0.0) as f32
            }
        })
        .collect();
    let mut sum = 0.0f32;
    for s in &mut splits {
        sum += *s;
        *s = sum;
    }
    for s in &mut splits {
        *s /= sum;
    }
    let n_layer_all = i64::try_from(n_layer_all).unwrap_or(i64::MAX);
    let ngl = match o.n_gpu_layers {
        Some(n) => i64::try_from(n).unwrap_or(i64::MAX),
        None => n_layer_all + 1,
    };
    let i_gpu_start = (n_layer_all + 1 - ngl).max(0);
    let act_gpu_layers = if devices.is_empty() {
        0
    } else {
        ngl.min(n_layer_all + 1)
    };
    let layer_dev = |il: i64| -> usize {
        if il < i_gpu_start || il - i_gpu_start >= act_gpu_layers {
            return 0;
        }
        #[allow(clippy::cast_precision_loss)]
        let x = (il - i_gpu_start) as f32 / act_gpu_layers as f32;
        let k = splits.partition_point(|&s| s <= x).min(devices.len() - 1);
        1 + devices.get(k).copied().unwrap_or(0)
    };
    let layer_devices: Vec<usize> = (0..=n_layer_all).map(layer_dev).collect();
    // Overrides, compiled once.
    let mut pats = Vec::with_capacity(o.overrides.len());
    for ov in &o.overrides {
        let re = regex_lite::Regex::new(&ov.pattern)
            .map_err(|e| PlacementError::BadPattern(ov.pattern.clone(), e.to_string()))?;
        let dev = match ov.target {
            OverrideTarget::Host => 0,
            OverrideTarget::Gpu(g) if g < all_gpus.len() => 1 + g,
            OverrideTarget::Gpu(g) => {
                return Err(PlacementError::NoSuchGpu(
                    format!("CUDA{g}"),
                    all_gpus.len(),
                ))
            }
        };
        pats.push((re, dev));
    }
    let mut placed = Vec::with_capacity(tensors.len());
    let n_dev = 1 + all_gpus.len();
    let mut weights = vec![0u64; n_dev];
    let mut range: Option<(u64, u64)> = None;
    let mut host_unmapped = 0u64;
    for t in tensors {
        let over = pats
            .iter()
            .find(|(re, _)| re.is_match(&t.name))
            .map(|(_, d)| *d);
        let mut dev = over.unwrap_or_else(|| match t.kind {
            LayerKind::Input => 0,
            LayerKind::Output => layer_devices.last().copied().unwrap_or(0),
            LayerKind::Repeating => t
                .layer
                .and_then(|l| layer_devices.get(l as usize).copied())
                .unwrap_or(0),
        });
        // select_weight_buft: a GPU that cannot run the weight's op leaves it to the CPU list.
        if dev != 0 && over.is_none() && !cuda_supports(t, ssm) {
            dev = 0;
        }
        // A duplicated tensor is created once per buffer (src/llama-model-loader.cpp: the
        // TENSOR_DUPLICATED lookup in the buffer's context).
        if t.duplicate
            && tensors
                .iter()
                .zip(&placed)
                .any(|(u, &(d, _))| u.name == t.name && d == dev)
        {
            placed.push((dev, over.is_some()));
            continue;
        }
        placed.push((dev, over.is_some()));
        if dev == 0 {
            match (o.use_mmap, t.offset) {
                (true, Some(off)) => {
                    let end = off.saturating_add(t.bytes);
                    range = Some(range.map_or((off, end), |(a, b)| (a.min(off), b.max(end))));
                }
                _ => {
                    host_unmapped =
                        host_unmapped.saturating_add(alloc_bytes(0, t.ggml_type, t.ne0, t.bytes))
                }
            }
        } else if let Some(w) = weights.get_mut(dev) {
            *w = w.saturating_add(alloc_bytes(dev, t.ggml_type, t.ne0, t.bytes));
        }
    }
    if let Some(w) = weights.first_mut() {
        *w = range.map_or(0, |(a, b)| b - a) + host_unmapped;
    }
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Placement {
        n_gpu_layers: u(ngl),
        i_gpu_start: u(i_gpu_start),
        offloaded_layers: u(act_gpu_layers),
        layer_devices,
        tensors: placed,
        weights,
    })
}
