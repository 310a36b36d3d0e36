//! The memory module llama.cpp 0c1e570 builds for a model (`llama_model::create_memory`,
//! `src/llama-model.cpp:2352-2880`), sized buffer by buffer from the architecture table's run
//! ([`Loaded`]: llama.cpp's own hyper-parameters and per-layer accessors).
//!
//! Every class of that function is followed:
//!
//! - no memory (encoders and diffusion models, `src/llama-model.cpp:2358-2374`);
//! - one `llama_kv_cache` (`src/llama-kv-cache.cpp:65-300`): for every layer `il <
//!   n_layer_all` that `has_kv(il)` (`n_layer_kv_from_start`, line 166) and passes the filter, a
//!   K tensor `[n_embd_k_gqa(il), kv_size, n_stream]` and, unless the model is MLA (`is_mla`,
//!   lines 163 and 231), a V tensor `[n_embd_v_gqa(il), kv_size, n_stream]` — with V transposed
//!   (no flash attention) every V row is `n_embd_v_gqa_max()` wide (line 210);
//! - iSWA (`src/llama-kv-cache-iswa.cpp:50-104`): a full cache for the non-sliding layers and a
//!   sliding one of `PAD(min(kv_size, n_swa·(unified ? n_seq : 1) + n_ubatch), 256)` cells
//!   (line 73), or `kv_size` with `swa_full` (line 80);
//! - recurrent (`src/llama-memory-recurrent.cpp:20-140`): per layer `il < n_layer()` passing the
//!   filter, R `[n_embd_r(), rows]`, S `[n_embd_s(), rows]` and, for PLE layers, P
//!   `[ple_conv_state(), rows]`, all f32, `rows = max(1, n_seq_max)` (lines 101-111);
//! - hybrid (`src/llama-memory-hybrid.cpp:34-54`, `-iswa.cpp:34-53`, `-idx.cpp:46-72`): a KV cache
//!   over the attention layers and a recurrent one over the recurrent layers, with the
//!   architecture's filters (`src/llama-model.cpp:2679-2774`), and for `qwen4exp`/`glm5-next`
//!   an indexer key cache;
//! - DSA (`src/llama-kv-cache-dsa.cpp:14-54`), DSA + iSWA (`-dsa-iswa.cpp:14-76`), MSA
//!   (`-msa.cpp:13-50`): the main cache plus an indexer key cache (one KV head of
//!   `indexer_head_size`);
//! - DeepSeek-V4 (`src/llama-kv-cache-dsv4.cpp:1210-1340`): a K-only iSWA raw cache, CSA/HCA
//!   compressed K caches of `PAD(ceil(kv_size/ratio), 256)` cells, an indexer cache and three
//!   f32 compressor states.
//!
//! A buffer's size is what `ggml_backend_alloc_ctx_tensors_from_buft` allocates: every tensor
//! padded to the buffer type's alignment (`ggml/src/ggml-alloc.c:1184`; 32 bytes for the CPU,
//! `TENSOR_ALIGNMENT`, `ggml/src/ggml-impl.h:44`).

use ggufscope_gguf::GgmlType;
use serde::Serialize;

use crate::table::{LayerFacts, Loaded};

/// `TENSOR_ALIGNMENT` (`ggml/src/ggml-impl.h:44`), the CPU buffer type's alignment.
const ALIGN: u64 = 32;

/// DeepSeek-V4 compression ratios (`src/llama-kv-cache-dsv4.cpp:18-19`).
const DSV4_CSA_RATIO: u64 = 4;
const DSV4_HCA_RATIO: u64 = 128;

/// The context parameters the memory module is built with (`llama_cparams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheParams {
    /// `cparams.n_ctx_seq`: cells per stream.
    pub n_ctx_seq: u64,
    /// `cparams.n_seq_max`.
    pub n_seq_max: u64,
    /// `cparams.kv_unified`: one stream for every sequence.
    pub unified: bool,
    /// `cparams.n_ubatch`.
    pub n_ubatch: u64,
    /// `type_k`.
    pub type_k: GgmlType,
    /// `type_v`.
    pub type_v: GgmlType,
    /// `!cparams.flash_attn` when the memory is created (`auto` counts as on).
    pub v_trans: bool,
    /// `swa_full`.
    pub swa_full: bool,
}

/// One layer's tensors in a buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheLayer {
    /// The layer.
    pub layer: u32,
    /// K bytes (recurrent: R; compressor state: kv).
    pub k_bytes: u64,
    /// V bytes (recurrent: S; compressor state: score).
    pub v_bytes: u64,
    /// Recurrent P bytes (PLE convolution rows).
    pub p_bytes: u64,
}

/// What llama.cpp logs a buffer as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    /// `llama_kv_cache: … KV buffer size`.
    Kv,
    /// `llama_memory_recurrent: … RS buffer size`.
    Recurrent,
    /// `llama_dsv4_comp_state: … DSV4 … state buffer size`.
    CompressorState,
}

/// One cache buffer of the memory module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheBuffer {
    /// KV, recurrent state or compressor state.
    pub kind: CacheKind,
    /// Which cache (`kv`, `kv_swa`, `kv_indexer`, `kv_csa`, `rs`, …).
    pub name: &'static str,
    /// Cells per stream (recurrent: rows).
    pub cells: u64,
    /// Streams (`n_stream`: 1 unified, else one per sequence).
    pub streams: u64,
    /// The layers with tensors in it.
    pub layers: Vec<CacheLayer>,
    /// K (R) bytes.
    pub k_bytes: u64,
    /// V (S) bytes.
    pub v_bytes: u64,
    /// P bytes.
    pub p_bytes: u64,
    /// The buffer: every tensor padded to 32 bytes.
    pub bytes: u64,
    /// The llama.cpp code that builds it.
    pub source: &'static str,
}

/// The memory module of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlamaMemory {
    /// The class `create_memory` instantiates (`none`, `kv_cache`, `kv_cache_iswa`,
    /// `memory_recurrent`, `memory_hybrid`, `memory_hybrid_iswa`, `memory_hybrid_idx`,
    /// `kv_cache_dsa`, `kv_cache_dsa_iswa`, `kv_cache_msa`, `kv_cache_dsv4`).
    pub class: &'static str,
    /// The `create_memory` lines that choose it.
    pub source: &'static str,
    /// Its buffers, in llama.cpp's allocation order.
    pub buffers: Vec<CacheBuffer>,
}

impl LlamaMemory {
    /// Bytes of the buffers of one kind.
    pub fn bytes(&self, kind: CacheKind) -> u64 {
        self.buffers
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| b.bytes)
            .sum()
    }
}

fn pad(n: u64) -> u64 {
    n.next_multiple_of(ALIGN)
}

/// `ggml_row_size`.
pub(crate) fn row_size(t: GgmlType, n: u64) -> u64 {
    match (t.block_size(), t.type_size()) {
        (Some(b), Some(s)) if b > 0 => n.div_ceil(b).saturating_mul(s),
        _ => n.saturating_mul(2),
    }
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A modified copy of `llama_hparams`, as the DSA/MSA/DSV4/indexer caches make one.
#[derive(Debug, Clone, Copy, Default)]
struct View {
    /// `std::fill(n_head_kv_arr, 1)`.
    head_kv_one: bool,
    /// `n_embd_head_k_full` replaced.
    k_full: Option<i64>,
    /// `n_embd_head_v_full` replaced.
    v_full: Option<i64>,
    /// `n_embd_head_k_swa` replaced.
    k_swa: Option<i64>,
    /// `n_embd_head_v_swa` replaced.
    v_swa: Option<i64>,
    /// `is_mla()` forced true (`n_embd_head_*_mla_impl` set).
    k_only: bool,
}

/// The model, as the caches read it.
struct Model<'l> {
    l: &'l Loaded,
    layers: &'l [LayerFacts],
    n_layer: i64,
    is_mla: bool,
}

impl Model<'_> {
    fn int(&self, name: &str) -> i64 {
        self.l.hparams.int(name).unwrap_or(0)
    }

    fn trunk(&self, x: &LayerFacts) -> bool {
        i64::from(x.index) < self.n_layer
    }
}

type Filter<'f> = &'f dyn Fn(&LayerFacts) -> bool;

/// One `llama_kv_cache` (`src/llama-kv-cache.cpp:65-300`).
#[allow(clippy::too_many_arguments)]
fn kv_cache(
    m: &Model<'_>,
    view: View,
    p: &CacheParams,
    kv_size: u64,
    unified: bool,
    filter: Filter<'_>,
    name: &'static str,
    source: &'static str,
) -> CacheBuffer {
    let n_stream = if unified { 1 } else { p.n_seq_max.max(1) };
    let is_mla = view.k_only || m.is_mla;
    let n_head_kv = |x: &LayerFacts| if view.head_kv_one { 1 } else { x.n_head_kv };
    let head_k = |x: &LayerFacts| {
        if x.is_swa {
            view.k_swa.unwrap_or(x.n_embd_head_k)
        } else {
            view.k_full.unwrap_or(x.n_embd_head_k)
        }
    };
    let head_v = |x: &LayerFacts| {
        if x.is_swa {
            view.v_swa.unwrap_or(x.n_embd_head_v)
        } else {
            view.v_full.unwrap_or(x.n_embd_head_v)
        }
    };
    let v_gqa = |x: &LayerFacts| head_v(x) * n_head_kv(x);
    // n_embd_v_gqa_max() (src/llama-hparams.cpp:199): over every layer of n_layer_all.
    let v_max = m.layers.iter().map(v_gqa).max().unwrap_or(0);
    let cells = kv_size.saturating_mul(n_stream);
    let mut b = CacheBuffer {
        kind: CacheKind::Kv,
        name,
        cells: kv_size,
        streams: n_stream,
        layers: Vec::new(),
        k_bytes: 0,
        v_bytes: 0,
        p_bytes: 0,
        bytes: 0,
        source,
    };
    for x in m.layers {
        if !x.has_kv || !filter(x) {
            continue;
        }
        let k_w = u(head_k(x) * n_head_kv(x));
        let v_w = u(if p.v_trans { v_max } else { v_gqa(x) });
        let k = row_size(p.type_k, k_w).saturating_mul(cells);
        let v = if is_mla {
            0
        } else {
            row_size(p.type_v, v_w).saturating_mul(cells)
        };
        b.k_bytes += k;
        b.v_bytes += v;
        b.bytes += pad(k) + if is_mla { 0 } else { pad(v) };
        b.layers.push(CacheLayer {
            layer: x.index,
            k_bytes: k,
            v_bytes: v,
            p_bytes: 0,
        });
    }
    b
}

/// `llama_kv_cache_iswa` (`src/llama-kv-cache-iswa.cpp:50-104`): base then sliding cache.
fn kv_iswa(
    m: &Model<'_>,
    view: View,
    p: &CacheParams,
    unified: bool,
    filter: Filter<'_>,
    names: [&'static str; 2],
) -> [CacheBuffer; 2] {
    let size_base = p.n_ctx_seq;
    let n_swa = u(m.int("n_swa"));
    let seqs = if unified { p.n_seq_max.max(1) } else { 1 };
    let size_swa = if p.swa_full {
        size_base
    } else {
        size_base
            .min(n_swa.saturating_mul(seqs).saturating_add(p.n_ubatch))
            .next_multiple_of(256)
    };
    let src = "src/llama-kv-cache-iswa.cpp:50-104";
    [
        kv_cache(
            m,
            view,
            p,
            size_base,
            unified,
            &|x| filter(x) && !x.is_swa,
            names[0],
            src,
        ),
        kv_cache(
            m,
            view,
            p,
            size_swa,
            unified,
            &|x| filter(x) && x.is_swa,
            names[1],
            src,
        ),
    ]
}

/// `llama_memory_recurrent` (`src/llama-memory-recurrent.cpp:20-140`).
fn recurrent(m: &Model<'_>, p: &CacheParams, filter: Filter<'_>) -> CacheBuffer {
    // mem_size = max(1, n_seq_max) (src/llama-model.cpp:2674), n_rs_seq = 0.
    let rows = p.n_seq_max.max(1);
    let mut b = CacheBuffer {
        kind: CacheKind::Recurrent,
        name: "rs",
        cells: rows,
        streams: 1,
        layers: Vec::new(),
        k_bytes: 0,
        v_bytes: 0,
        p_bytes: 0,
        bytes: 0,
        source: "src/llama-memory-recurrent.cpp:77-111",
    };
    for x in m.layers.iter().filter(|x| m.trunk(x)) {
        if !filter(x) {
            continue;
        }
        let r = u(x.n_embd_r) * rows * 4;
        let s = u(x.n_embd_s) * rows * 4;
        let pb = if x.ple_conv_state > 0 && x.is_ple {
            u(x.ple_conv_state) * rows * 4
        } else {
            0
        };
        b.k_bytes += r;
        b.v_bytes += s;
        b.p_bytes += pb;
        b.bytes += pad(r) + pad(s) + if pb > 0 { pad(pb) } else { 0 };
        b.layers.push(CacheLayer {
            layer: x.index,
            k_bytes: r,
            v_bytes: s,
            p_bytes: pb,
        });
    }
    b
}

/// `llama_dsv4_comp_state` (`src/llama-kv-cache-dsv4.cpp:893-990`): f32 kv and score tensors
/// `[n_embd_state, state_size, n_stream]` per layer.
fn dsv4_state(
    m: &Model<'_>,
    p: &CacheParams,
    name: &'static str,
    state_size: u64,
    n_embd_state: u64,
    filter: Filter<'_>,
) -> CacheBuffer {
    let planes = p.n_seq_max.max(1);
    let mut b = CacheBuffer {
        kind: CacheKind::CompressorState,
        name,
        cells: state_size,
        streams: planes,
        layers: Vec::new(),
        k_bytes: 0,
        v_bytes: 0,
        p_bytes: 0,
        bytes: 0,
        source: "src/llama-kv-cache-dsv4.cpp:941-972",
    };
    for x in m.layers.iter().filter(|x| m.trunk(x)) {
        if !filter(x) {
            continue;
        }
        let t = n_embd_state * state_size * planes * 4;
        b.k_bytes += t;
        b.v_bytes += t;
        b.bytes += 2 * pad(t);
        b.layers.push(CacheLayer {
            layer: x.index,
            k_bytes: t,
            v_bytes: t,
            p_bytes: 0,
        });
    }
    b
}

/// The memory module `llama_model::create_memory` builds for this model and these
/// parameters (the main context, not an MTP draft context).
pub fn llama_memory(l: &Loaded, p: &CacheParams) -> LlamaMemory {
    let n_layer_all = usize::try_from(l.hparams.int("n_layer_all").unwrap_or(0)).unwrap_or(0);
    let layers = l.layers.get(..n_layer_all).unwrap_or(&l.layers);
    let m = Model {
        l,
        layers,
        n_layer: l.n_layer,
        is_mla: l.hparams.int("n_embd_head_k_mla_impl").unwrap_or(0) != 0
            && l.hparams.int("n_embd_head_v_mla_impl").unwrap_or(0) != 0,
    };
    let all: Filter<'_> = &|_| true;
    let std = View::default();
    let unified = p.unified;
    let ihs = m.int("indexer_head_size");
    let swa = m.int("swa_type") != 0;
    let nextn = m.int("n_layer_nextn");
    let trunk = |x: &LayerFacts| m.trunk(x);
    let indexer = View {
        head_kv_one: true,
        k_full: Some(ihs),
        ..View::default()
    };
    let arch = l.arch.as_str();
    let (class, source, buffers): (&'static str, &'static str, Vec<CacheBuffer>) = match arch {
        "bert" | "jina-bert-v2" | "jina-bert-v3" | "nomic-bert" | "nomic-bert-moe" | "neo-bert"
        | "eurobert" | "wavtokenizer-dec" | "modern-bert" | "gemma-embedding" | "dream"
        | "llada" | "llada-moe" | "rnd1" => ("none", "src/llama-model.cpp:2358-2374", Vec::new()),
        "minimax-m3" => {
            let lead = m.int("n_layer_dense_lead");
            let src = "src/llama-kv-cache-msa.cpp:13-50";
            (
                "kv_cache_msa",
                "src/llama-model.cpp:2375-2395",
                vec![
                    kv_cache(&m, std, p, p.n_ctx_seq, unified, all, "kv", src),
                    kv_cache(
                        &m,
                        indexer,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &|x| i64::from(x.index) >= lead,
                        "kv_indexer",
                        src,
                    ),
                ],
            )
        }
        "glm-dsa" | "deepseek32" => {
            let f_mla = |x: &LayerFacts| nextn == 0 || trunk(x);
            let glm = arch == "glm-dsa";
            let f_lid = |x: &LayerFacts| trunk(x) && (!glm || x.is_indexer_full);
            let src = "src/llama-kv-cache-dsa.cpp:14-54";
            (
                "kv_cache_dsa",
                "src/llama-model.cpp:2397-2448",
                vec![
                    kv_cache(&m, std, p, p.n_ctx_seq, unified, &f_mla, "kv", src),
                    kv_cache(
                        &m,
                        indexer,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &f_lid,
                        "kv_indexer",
                        src,
                    ),
                ],
            )
        }
        "glm5-next" => {
            let f_attn = |x: &LayerFacts| trunk(x) && !x.is_recurrent;
            let f_idx = |x: &LayerFacts| trunk(x) && !x.is_recurrent && x.is_indexer_full;
            let f_recr = |x: &LayerFacts| trunk(x) && x.is_recurrent;
            let idx = hybrid_idx_view(&m);
            (
                "memory_hybrid_idx",
                "src/llama-model.cpp:2450-2492",
                vec![
                    kv_cache(
                        &m,
                        std,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &f_attn,
                        "kv",
                        "src/llama-memory-hybrid.cpp:34-53",
                    ),
                    recurrent(&m, p, &f_recr),
                    kv_cache(
                        &m,
                        idx,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &f_idx,
                        "kv_indexer",
                        "src/llama-memory-hybrid-idx.cpp:53-72",
                    ),
                ],
            )
        }
        "hy_v4" => {
            if m.int("indexer_top_k") == 0 {
                (
                    "kv_cache",
                    "src/llama-model.cpp:2494-2514",
                    vec![kv_cache(
                        &m,
                        std,
                        p,
                        p.n_ctx_seq,
                        unified,
                        all,
                        "kv",
                        "src/llama-kv-cache.cpp:65-300",
                    )],
                )
            } else {
                let src = "src/llama-kv-cache-dsa.cpp:14-54";
                (
                    "kv_cache_dsa",
                    "src/llama-model.cpp:2514-2534",
                    vec![
                        kv_cache(&m, std, p, p.n_ctx_seq, unified, all, "kv", src),
                        kv_cache(
                            &m,
                            indexer,
                            p,
                            p.n_ctx_seq,
                            unified,
                            &|x| x.is_indexer_full,
                            "kv_indexer",
                            src,
                        ),
                    ],
                )
            }
        }
        "dots3note" => {
            // llama_kv_cache_dsa_iswa (src/llama-kv-cache-dsa-iswa.cpp:14-76): a DSA cache of the
            // full-attention layers and an iSWA-sized cache of the sliding ones.
            let f_mla = |x: &LayerFacts| nextn == 0 || trunk(x);
            let f_lid = |x: &LayerFacts| trunk(x) && x.is_indexer_full;
            let n_swa = u(m.int("n_swa"));
            let seqs = if unified { p.n_seq_max.max(1) } else { 1 };
            let size_swa = if p.swa_full {
                p.n_ctx_seq
            } else {
                p.n_ctx_seq
                    .min(n_swa * seqs + p.n_ubatch)
                    .next_multiple_of(256)
            };
            let src = "src/llama-kv-cache-dsa-iswa.cpp:14-76";
            (
                "kv_cache_dsa_iswa",
                "src/llama-model.cpp:2536-2585",
                vec![
                    kv_cache(
                        &m,
                        std,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &|x| f_mla(x) && !x.is_swa,
                        "kv",
                        src,
                    ),
                    kv_cache(
                        &m,
                        indexer,
                        p,
                        p.n_ctx_seq,
                        unified,
                        &f_lid,
                        "kv_indexer",
                        src,
                    ),
                    kv_cache(
                        &m,
                        std,
                        p,
                        size_swa,
                        unified,
                        &|x| f_mla(x) && x.is_swa,
                        "kv_swa",
                        src,
                    ),
                ],
            )
        }
        "deepseek4" => (
            "kv_cache_dsv4",
            "src/llama-model.cpp:2587-2629",
            dsv4(&m, p),
        ),
        "dflash" if m.int("dsv4_hc_mult") > 0 => (
            "kv_cache_iswa",
            "src/llama-model.cpp:2630-2654",
            kv_iswa(&m, std, p, unified, all, ["kv", "kv_swa"]).into(),
        ),
        _ => default_memory(&m, p, arch, swa, nextn),
    };
    LlamaMemory {
        class,
        source,
        buffers,
    }
}

/// The indexer view of `llama_memory_hybrid_idx` (`src/llama-memory-hybrid-idx.cpp:53-66`).
fn hybrid_idx_view(m: &Model<'_>) -> View {
    let ihs = m.int("indexer_head_size");
    View {
        head_kv_one: true,
        k_full: Some(ihs * if m.int("indexer_kpool") > 0 { 3 } else { 1 }),
        k_only: true,
        ..View::default()
    }
}

/// `llama_kv_cache_dsv4` (`src/llama-kv-cache-dsv4.cpp:1210-1340`).
fn dsv4(m: &Model<'_>, p: &CacheParams) -> Vec<CacheBuffer> {
    let ratios = m.l.hparams.ints("dsv4_compress_ratios").unwrap_or_default();
    let ratio = |x: &LayerFacts| {
        ratios
            .get(x.index as usize)
            .copied()
            .map_or(0, |r| u64::try_from(r).unwrap_or(0))
    };
    let k_only = View {
        k_only: true,
        ..View::default()
    };
    let ihs = m.int("indexer_head_size");
    let lid = View {
        head_kv_one: true,
        k_full: Some(ihs),
        v_full: Some(ihs),
        k_swa: Some(ihs),
        v_swa: Some(ihs),
        k_only: true,
    };
    // Streams per sequence even when the KV cache is unified (lines 1240-1241, 1286).
    let mut out: Vec<CacheBuffer> =
        kv_iswa(m, k_only, p, false, &|_| true, ["kv_raw", "kv_raw_swa"]).into();
    let comp = |r: u64| (p.n_ctx_seq.div_ceil(r)).max(1).next_multiple_of(256);
    let src = "src/llama-kv-cache-dsv4.cpp:1288-1311";
    let csa = |x: &LayerFacts| ratio(x) == DSV4_CSA_RATIO;
    let hca = |x: &LayerFacts| ratio(x) == DSV4_HCA_RATIO;
    out.push(kv_cache(
        m,
        k_only,
        p,
        comp(DSV4_CSA_RATIO),
        false,
        &csa,
        "kv_csa",
        src,
    ));
    out.push(kv_cache(
        m,
        k_only,
        p,
        comp(DSV4_HCA_RATIO),
        false,
        &hca,
        "kv_hca",
        src,
    ));
    out.push(kv_cache(
        m,
        lid,
        p,
        comp(DSV4_CSA_RATIO),
        false,
        &csa,
        "kv_indexer",
        src,
    ));
    let head_k = u(m.layers.first().map_or(0, |x| x.n_embd_head_k));
    out.push(dsv4_state(
        m,
        p,
        "dsv4_csa_state",
        2 * DSV4_CSA_RATIO,
        2 * head_k,
        &csa,
    ));
    out.push(dsv4_state(
        m,
        p,
        "dsv4_hca_state",
        DSV4_HCA_RATIO,
        head_k,
        &hca,
    ));
    out.push(dsv4_state(
        m,
        p,
        "dsv4_indexer_state",
        2 * DSV4_CSA_RATIO,
        2 * u(ihs),
        &csa,
    ));
    out
}

/// The `default:` branch of `create_memory` (`src/llama-model.cpp:2658-2876`).
fn default_memory(
    m: &Model<'_>,
    p: &CacheParams,
    arch: &str,
    swa: bool,
    nextn: i64,
) -> (&'static str, &'static str, Vec<CacheBuffer>) {
    let std = View::default();
    let unified = p.unified;
    let trunk = |x: &LayerFacts| m.trunk(x);
    // llm_arch_is_recurrent (src/llama-arch.cpp:1071-1083).
    if matches!(
        arch,
        "mamba" | "mamba2" | "rwkv6" | "rwkv6qwen2" | "rwkv7" | "arwkv7"
    ) {
        return (
            "memory_recurrent",
            "src/llama-model.cpp:2669-2678",
            vec![recurrent(m, p, &|_| true)],
        );
    }
    // llm_arch_is_hybrid (src/llama-arch.cpp:1085-1109; glm5-next and deepseek4 are handled
    // above).
    let hybrid = matches!(
        arch,
        "jamba"
            | "falcon-h1"
            | "plamo2"
            | "granitehybrid"
            | "lfm2"
            | "lfm2moe"
            | "nemotron_h"
            | "nemotron_h_moe"
            | "qwen3next"
            | "kimi-linear"
            | "bailingmoe3"
            | "kimi-k3"
            | "qwen35"
            | "qwen35moe"
            | "qwen4exp"
            | "minimax-01"
    );
    if hybrid {
        // The architecture's filters (src/llama-model.cpp:2688-2712); none: !is_recr / is_recr.
        type F = Box<dyn Fn(&LayerFacts) -> bool>;
        let n_layer = m.n_layer;
        let (f_attn, f_recr): (F, F) = match arch {
            "falcon-h1" => (Box::new(|_| true), Box::new(|_| true)),
            "nemotron_h" | "nemotron_h_moe" => (
                Box::new(|x| !x.is_recurrent && x.n_ff == 0),
                Box::new(|x| x.is_recurrent && x.n_ff == 0),
            ),
            "qwen3next" | "qwen35" | "qwen35moe" | "qwen4exp" | "minimax-01" => (
                Box::new(move |x| i64::from(x.index) < n_layer && !x.is_recurrent),
                Box::new(move |x| i64::from(x.index) < n_layer && x.is_recurrent),
            ),
            _ => (Box::new(|x| !x.is_recurrent), Box::new(|x| x.is_recurrent)),
        };
        if swa {
            let [base, sliding] = kv_iswa(m, std, p, unified, &*f_attn, ["kv", "kv_swa"]);
            return (
                "memory_hybrid_iswa",
                "src/llama-model.cpp:2714-2733",
                vec![base, sliding, recurrent(m, p, &*f_recr)],
            );
        }
        let attn = kv_cache(
            m,
            std,
            p,
            p.n_ctx_seq,
            unified,
            &*f_attn,
            "kv",
            "src/llama-memory-hybrid.cpp:34-53",
        );
        let rs = recurrent(m, p, &*f_recr);
        if arch == "qwen4exp" {
            let mut v = vec![attn, rs];
            if m.int("indexer_head_size") > 0 {
                v.push(kv_cache(
                    m,
                    hybrid_idx_view(m),
                    p,
                    p.n_ctx_seq,
                    unified,
                    &|x| trunk(x) && !x.is_recurrent,
                    "kv_indexer",
                    "src/llama-memory-hybrid-idx.cpp:53-72",
                ));
            }
            return ("memory_hybrid_idx", "src/llama-model.cpp:2734-2755", v);
        }
        return (
            "memory_hybrid",
            "src/llama-model.cpp:2756-2774",
            vec![attn, rs],
        );
    }
    // Plain attention: the NextN/MTP blocks are left out of the trunk's cache
    // (src/llama-model.cpp:2798-2804); gemma3n/gemma4 reuse layers (no allocation).
    let router = m.int("router_layer");
    let filter = |x: &LayerFacts| !(nextn > 0 && m.n_layer > 0 && router < 0) || trunk(x);
    if swa {
        return (
            "kv_cache_iswa",
            "src/llama-model.cpp:2806-2855",
            kv_iswa(m, std, p, unified, &filter, ["kv", "kv_swa"]).into(),
        );
    }
    (
        "kv_cache",
        "src/llama-model.cpp:2856-2874",
        vec![kv_cache(
            m,
            std,
            p,
            p.n_ctx_seq,
            unified,
            &filter,
            "kv",
            "src/llama-kv-cache.cpp:65-300",
        )],
    )
}
