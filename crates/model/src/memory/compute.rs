//! The compute buffer: an estimate of the peak of the graph llama.cpp reserves.
//!
//! llama.cpp sizes its compute buffers by building the worst-case graph once
//! (`llama_context::sched_reserve` → `graph_reserve`, `src/llama-context.cpp`: one ubatch of
//! `n_ubatch` tokens with `n_outputs = n_ubatch`, every KV cell visible) and letting ggml's graph
//! allocator place its tensors (`ggml_gallocr_alloc_graph_impl`, `ggml/src/ggml-alloc.c`): graph
//! inputs first, then each node in order, a node's memory freed when its last consumer ran and
//! element-wise ops (`ggml_op_can_inplace`, `ggml-alloc.c:22-51`: add, mul, scale, rms_norm,
//! rope, unary, soft_max …) reusing their parent's. The buffer is the allocator's high-water
//! mark, so it is a few large tensors alive at once plus the activations beside them.
//!
//! The estimate follows that structure without replaying the graph: the graph inputs that live
//! through every layer (the KQ masks), plus the largest of the phases of one layer and of the
//! output head, each the tensors the phase holds at its peak (formulas in `docs/memory.md`,
//! "Compute buffer"). The widths come from the architecture table's run of llama.cpp's
//! `load_hparams` (per layer: heads, head sizes, FFN and expert widths, recurrent layers).

use serde::Serialize;

impl Graph {
    /// The `attn_inp_v_idxs` inputs of every cache the graph writes V into: `[n_ubatch ·
    /// n_embd_v_gqa_max]` i64 each with a transposed V cache (flash attention off); with flash
    /// attention one index per token, counted with the other small inputs.
    pub fn v_idx_bytes(&self) -> u64 {
        if self.flash_attn || self.no_cache {
            return 0;
        }
        self.masks
            .saturating_mul(self.ub)
            .saturating_mul(self.v_idx_width)
            .saturating_mul(8)
    }

    /// The bytes of [`Graph::input_cols`] and [`Graph::decay_cols`].
    pub fn extra_input_bytes(&self) -> u64 {
        let [mask, f32s, f16s] = self.input_cols;
        mask.saturating_mul(if self.flash_attn { 2 } else { 4 })
            .saturating_add(f32s.saturating_mul(4))
            .saturating_add(f16s.saturating_mul(2))
            .saturating_mul(self.ub)
            .saturating_add(self.decay_bytes())
    }

    /// The bytes of [`Graph::decay_cols`].
    pub fn decay_bytes(&self) -> u64 {
        self.decay_cols.saturating_mul(4).saturating_mul(self.ub)
    }

    /// One KQ mask `[n_kv, n_ubatch]`: f16 with flash attention, else f32
    /// (`llm_graph_input_attn_kv::set_input`, src/llama-graph.cpp).
    pub fn mask_bytes(&self) -> u64 {
        self.n_kv
            .saturating_mul(self.ub)
            .saturating_mul(if self.flash_attn { 2 } else { 4 })
    }
}

/// What shapes the reserved graph, per layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerGraph {
    /// `n_head(il)` (0: no attention in this layer).
    pub n_head: u64,
    /// `n_embd_head_k(il)`.
    pub head_k: u64,
    /// `n_embd_head_v(il)`.
    pub head_v: u64,
    /// `n_head_kv(il)` (1 for MLA's compressed cache).
    pub n_head_kv: u64,
    /// `n_ff(il)` (dense FFN width; 0 for none).
    pub n_ff: u64,
    /// `n_ff_exp(il)` (expert FFN width) with `n_expert_used(il)` experts (0: dense layer).
    pub n_ff_exp: u64,
    /// `n_expert_used(il)`.
    pub n_expert_used: u64,
    /// `is_recr(il)`: a recurrent (SSM / linear-attention) block.
    pub recurrent: bool,
    /// Whether the layer reads a KV cache (has attention over cached cells).
    pub attention: bool,
    /// A dense FFN runs beside the routed experts and its output is held while they run.
    pub dense_beside_experts: bool,
    /// Q, K and V come from one fused `wqkv` projection (`build_qkv`'s fused path).
    pub fused_qkv: bool,
    /// The layer reads the sliding-window cache (its mask and V indices).
    pub swa: bool,
    /// Compressed K cells the layer's attention reads beside the raw cache (DeepSeek-V4's CSA
    /// and HCA layers: `k_all = concat(raw_k, csa_k)`, src/models/deepseek4.cpp:750, 806), so
    /// KQ is `n_kv + comp_kv` wide.
    pub comp_kv: u64,
    /// The layer runs the graph's DSA or QSA indexer (every attention layer of a DSA graph;
    /// DeepSeek-V4's CSA layers only).
    pub indexer: bool,
}

/// The recurrent block family (from the hyper-parameters llama.cpp's loader reads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurrentKind {
    /// No recurrent layer.
    #[default]
    None,
    /// Mamba-1 selective scan (`ssm_n_group == 0`): `src/models/mamba-base.cpp`.
    Mamba1,
    /// Mamba-2 (`ssm_n_group > 0`): `src/models/mamba-base.cpp` (`build_mamba2_layer`).
    Mamba2,
    /// LFM2's gated short convolution (`src/models/lfm2.cpp`, `build_shortconv_block`).
    ShortConv,
    /// MiniMax-01's lightning attention (`src/models/minimax-01.cpp:284-416`): per-head
    /// `[n_ubatch, n_ubatch]` products beside the activations.
    Lightning,
    /// Gated delta net / linear attention (`src/models/delta-net-base.cpp`), RWKV, short
    /// convolutions: every other recurrent block.
    Other,
}

/// The graph's shape: what the estimate reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// Tokens of the reserved ubatch: `min(n_ubatch, n_ctx)`.
    pub ub: u64,
    /// KV cells attention reads (the context; the ubatch for models without a cache).
    pub n_kv: u64,
    /// `n_embd`.
    pub n_embd: u64,
    /// Logit rows: `n_vocab`.
    pub n_vocab: u64,
    /// KQ masks built (one per cache an attention layer reads: 2 for iSWA).
    pub masks: u64,
    /// Extra `[n_kv, n_ubatch]` inputs beside the masks (DSA's indexer mask).
    pub extra_masks: u64,
    /// Other graph inputs alive through every layer, as columns of `n_ubatch` rows: of the
    /// masks' type (f16 with flash attention, else f32), f32, and f16 (DSA top-k mask fills, the
    /// hyper-connection graphs' compressed-cache masks, QSA block bias, token embeddings).
    pub input_cols: [u64; 3],
    /// MiniMax-01's decay input `inp_diag_decay` `[n_ubatch, n_ubatch, n_head]` f32, as columns
    /// of `n_ubatch` rows (0 for other graphs): alive through the graph, set by the host.
    pub decay_cols: u64,
    /// DeepSeek-V4's graph (`src/models/deepseek4.cpp`): its indexer's scores are fused
    /// (`ggml_lightning_indexer`, line 646) and dead before KQ peaks.
    pub dsv4: bool,
    /// A DSA graph built by `build_attn` with top-k indices (`src/llama-graph.cpp:3039-3100`:
    /// deepseek32, glm-dsa, dots3note, hy-v4, glm5-next): the indexer's queries and its scores
    /// take turns above KQ.
    pub dsa_top_k: bool,
    /// MLA's `n_lora_q` (the query's low-rank width; 0 without).
    pub q_lora: u64,
    /// MLA's `n_embd_head_k_mla` (per-head width of the query before absorption; 0 without).
    pub mla_q_head: u64,
    /// `n_embd_v_gqa_max()` when the graph writes V into a transposed cache (flash attention
    /// off, a V cache written: not absorbed MLA, whose V is a view of K), else 0: each cache's
    /// `attn_inp_v_idxs` input is then `n_ubatch · n_embd_v_gqa_max` i64
    /// (`llama_kv_cache::build_input_v_idxs`, src/llama-kv-cache.cpp:1430-1445), alive through
    /// the whole graph beside the masks.
    pub v_idx_width: u64,
    /// Flash attention (mask f16, no KQ matrix).
    pub flash_attn: bool,
    /// `ssm_d_inner` (0 without SSM).
    pub ssm_d_inner: u64,
    /// `ssm_d_state`, `ssm_n_group` (0 without SSM).
    pub ssm_d_state: u64,
    /// `ssm_n_group`.
    pub ssm_n_group: u64,
    /// `ssm_dt_rank` (Mamba-2: the SSM's head count).
    pub ssm_dt_rank: u64,
    /// Hyper-connection streams (`dsv4_hc_mult`: deepseek4, qwen4exp), 0 or 1 without: the
    /// residual is that many `n_embd` rows wide.
    pub hc_streams: u64,
    /// The recurrent family.
    pub recurrent: RecurrentKind,
    /// `indexer_n_head` of a DSA lightning indexer (0: none).
    pub indexer_heads: u64,
    /// MLA (`n_lora_kv > 0`): `n_embd_head_v`, the width of the V view of the compressed
    /// cache; 0 otherwise.
    pub mla_v: u64,
    /// `indexer_head_size`.
    pub indexer_head_size: u64,
    /// Qwen4exp's QSA indexer (`build_qsa_top_k`): the smallest `compress_ratio` of its blocks
    /// (0: none, or DSA's fused indexer).
    pub qsa_ratio: u64,
    /// `n_expert` (router width).
    pub n_expert: u64,
    /// The router's weights scale the expert input before the experts run (llama4:
    /// `weight_before_ffn`, src/llama-graph.cpp:2034, 2173-2177).
    pub moe_weight_before: bool,
    /// No KV cache (`memory.class` none: dream, llada): attention reads `Kcur` and `Vcur`
    /// themselves.
    pub no_cache: bool,
    /// The graph ropes Q and K (`llama_model_rope_type` is not `LLAMA_ROPE_TYPE_NONE`, no learned
    /// position embeddings).
    pub rope: bool,
    /// Per layer.
    pub layers: Vec<LayerGraph>,
}

/// `n_embd`-wide activations below the KQ matrix in the allocator's buffer at the attention peak
/// (the residual, the normed input and the holes of the previous layer's output) …
const ATTN_UNITS: u64 = 4;
/// … beside this many Q-shaped ones (`n_head·n_embd_head_k` wide: Q and its roped copy).
/// (What was measured here on three sizes as two more `n_embd_k_gqa`-wide units, two more for
/// an iSWA graph, is each cache's `attn_inp_v_idxs` input, `n_ubatch · n_embd_v_gqa_max` i64,
/// alive through the whole graph: counted with the graph inputs, [`Graph::v_idx_bytes`].)
const ATTN_Q_UNITS: u64 = 2;

/// `(n_embd units, Q units, n_embd_k_gqa units)` below KQ for each form of `build_qkv`
/// (src/llama-graph.cpp:1647-1760) and whether the graph ropes Q and K: separate
/// `wq`/`wk`/`wv` roped in place (llama.cpp's common form) holds the residual, its norm and two
/// more beside Q and its roped copy; without rope (ALiBi: refact, baichuan-13b) the norm's hole
/// is reused; a fused `wqkv` roped (falcon.cpp, gptneox.cpp) copies Q and K out of the `qkv`
/// views, whose memory is then free; a fused `wqkv` without rope (gpt2, bloom, mpt, starcoder,
/// jais) keeps `qkv` (`q + 2·n_embd_k_gqa` wide) alive while KQ reads Q as its view.
/// Absorbed MLA (deepseek2.cpp; one KV head: the compressed cache) writes one `kv_cmpr` row
/// per token instead of per-head K and V; its absorbed Q (`n_head·(kv_lora_rank + n_rot)` wide) is alive once at the peak, beside
/// the down-projected `n_embd`-sized activations (measured on three sizes: `n_head` 1, 3, 4).
/// With flash attention there is no KQ matrix: `flash_attn_ext`'s output is Q-sized and fits
/// the holes K and V leave: six `n_embd` units beside two of Q, as set on the corpus (and held
/// by the CUDA figures, `cuda-truth.json`).
fn attn_units(fused_qkv: bool, rope: bool, mla: bool, flash_attn: bool) -> (u64, u64, u64) {
    if flash_attn {
        return (ATTN_UNITS + 2, ATTN_Q_UNITS, 0);
    }
    if mla {
        return (ATTN_UNITS + 5, ATTN_Q_UNITS - 1, 0);
    }
    match (fused_qkv, rope) {
        (false, true) => (ATTN_UNITS, ATTN_Q_UNITS, 0),
        (false, false) => (ATTN_UNITS - 1, ATTN_Q_UNITS, 0),
        (true, true) => (ATTN_UNITS - 2, ATTN_Q_UNITS, 0),
        // `qkv`'s K and V parts.
        (true, false) => (ATTN_UNITS - 1, ATTN_Q_UNITS, 2),
    }
}
/// Activations beside the FFN intermediates (residual, FFN input, its norm).
const FFN_UNITS: u64 = 3;
/// Activations beside the expert intermediates (residual, FFN input, norm, router logits).
const MOE_UNITS: u64 = 3;
/// Activations beside the logits (the last hidden state, its norm, the output-row selection).
const OUT_UNITS: u64 = 4;
/// Activations beside an SSM block's intermediates (residual and its norm).
const SSM_UNITS: u64 = 2;

/// `[conv_dim, n_ubatch]` f32 intermediates alive at a gated delta net's peak.
const DELTA_NET_CONV_UNITS: u64 = 4;

/// `[d_inner, n_ubatch]` f32 intermediates alive at a recurrent block's peak, per family:
/// Mamba-1 (`build_mamba_layer`): `xz` (2), the conv input with its `d_conv - 1` cached columns,
/// the conv output, `dt` and the scan output (`y` and the final states): 6; Mamba-2
/// (`build_mamba2_layer`): `zxBCdt` (2 + groups), conv input and output over `x‖B‖C`, the scan
/// output and the gated norm: 9; gated delta nets and other linear attention: q, k, v, gate,
/// beta, decay and the chunked products: 13; LFM2's short convolution (`in_proj` to B, C, x,
/// the gated product and the convolution output): 3; MiniMax-01's lightning attention: 6 beside
/// its `[n_ubatch, n_ubatch, n_head]` products.
fn recurrent_factor(kind: RecurrentKind) -> u64 {
    match kind {
        RecurrentKind::None => 0,
        RecurrentKind::Mamba1 => 6,
        RecurrentKind::Mamba2 => 9,
        RecurrentKind::ShortConv => 3,
        // minimax-01.cpp:294-357, alive when `qk` is computed: QKVcur (3, silu in place), q_s,
        // qkv_none_diag and the contiguous v_trans (built before qk, qkv_diag's first source).
        RecurrentKind::Lightning => 6,
        RecurrentKind::Other => 13,
    }
}

/// The estimate and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Bytes.
    pub bytes: u64,
    /// The formula with its numbers.
    pub formula: String,
}

/// llama.cpp's CPU compute buffer for this graph (the peak of `sched_reserve`'s graph).
pub fn cpu(g: &Graph) -> Estimate {
    let f32s = |n: u64| n.saturating_mul(4);
    let ub = g.ub;
    let u = f32s(ub.saturating_mul(g.n_embd));
    // Graph inputs alive through every layer: the KQ masks, tokens, positions (4 per token for
    // M-RoPE) and the output ids.
    let inputs = g
        .masks
        .saturating_add(g.extra_masks)
        .saturating_mul(g.mask_bytes())
        .saturating_add(g.v_idx_bytes())
        .saturating_add(g.extra_input_bytes())
        .saturating_add(f32s(ub.saturating_mul(8)));
    // A graph input dies after its last consumer (ggml-alloc frees it then): each cache's mask
    // and V indices after the last layer that attends over that cache. So the FFN and experts of
    // the last layer reading a cache, and every phase after it, run without that cache's
    // inputs (ggml-alloc's log: deepseek-moe's only MoE layer is its last and reuses the mask's
    // memory; gpt-oss's first MoE runs where its sliding mask was).
    let small = f32s(ub.saturating_mul(8)).saturating_add(g.extra_input_bytes());
    let per_cache = g
        .mask_bytes()
        .saturating_add(g.v_idx_bytes().checked_div(g.masks).unwrap_or(0));
    let last_use = |swa: bool| {
        g.layers
            .iter()
            .rposition(|l| l.attention && l.n_head > 0 && l.swa == swa)
    };
    let last = [last_use(false), last_use(true)];
    let by_layer = last.iter().flatten().count() as u64 == g.masks;
    // The inputs alive while layer `il` runs its attention (`during`) or after it.
    let live = |il: usize, during: bool| -> u64 {
        if !by_layer {
            return inputs;
        }
        let mut b = small;
        for (k, last) in last.iter().enumerate() {
            if last.is_some_and(|last| last > il || (during && last == il)) {
                b = b.saturating_add(per_cache);
                if k == 0 {
                    b = b.saturating_add(g.extra_masks.saturating_mul(g.mask_bytes()));
                }
            }
        }
        b
    };
    let mut attn = 0u64;
    let mut ffn = 0u64;
    let mut moe = 0u64;
    let mut recr = 0u64;
    let mut layer_peak = 0u64;
    for (il, l) in g.layers.iter().enumerate() {
        let ph = layer_phases(g, l);
        attn = attn.max(ph.attn);
        ffn = ffn.max(ph.ffn);
        moe = moe.max(ph.moe);
        recr = recr.max(ph.recr);
        // A recurrent block keeps every input's memory: the SSM's large tensors do not fit
        // the holes dead masks leave (ggml-alloc's log of jamba, nemotron_h, plamo2, whose
        // recurrent layers after the last attention peak as high as with the masks alive).
        layer_peak = layer_peak
            .max(live(il, true).saturating_add(ph.attn))
            .max(inputs.saturating_add(ph.recr))
            .max(live(il, false).saturating_add(ph.ffn.max(ph.moe)));
    }
    // The output head: the logits `[n_vocab, n_outputs]` f32 (n_outputs = n_ubatch at reserve)
    // beside the last hidden state; the masks are free by then (their memory may hold logits).
    let output = f32s(ub.saturating_mul(g.n_vocab)).saturating_add(u.saturating_mul(OUT_UNITS));
    let bytes = layer_peak.max(output);
    let formula = format!(
        "max(layers {layer_peak} (inputs {inputs} while every cache is read, + attention {attn}, ffn {ffn}, moe {moe}, recurrent {recr}), output {output}) (n_ubatch {ub}, n_kv {}, masks {}{}{}{}; estimate of llama.cpp's reserved graph)",
        g.n_kv,
        g.masks + g.extra_masks,
        if g.flash_attn { ", flash attention" } else { "" },
        if g.rope { "" } else { ", no rope" },
        if g.layers.iter().any(|l| l.fused_qkv) { ", fused qkv" } else { "" }
    );
    Estimate { bytes, formula }
}

/// One layer's phases at their peaks (the graph inputs not included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Attention (KQ or flash attention with the activations beside it; MLA's V copy; a DSA or
    /// QSA indexer).
    pub attn: u64,
    /// The dense FFN.
    pub ffn: u64,
    /// The routed experts.
    pub moe: u64,
    /// The recurrent block.
    pub recr: u64,
    /// The part of `attn` a DSA or QSA indexer holds (0 without one).
    pub idx: u64,
    /// What a DSA indexer holds beyond `idx` when it runs on a GPU without its layer's
    /// attention (partial offload): its queries and its scores together.
    pub idx_alone: u64,
}

/// The peaks of one layer's phases in the reserved graph `g`.
pub fn layer_phases(g: &Graph, l: &LayerGraph) -> Phases {
    let f32s = |n: u64| n.saturating_mul(4);
    let ub = g.ub;
    let u = f32s(ub.saturating_mul(g.n_embd));
    let mut ph = Phases::default();
    if l.attention && l.n_head > 0 {
        // KQ = mul_mat(k, q) `[n_kv, n_ubatch, n_head]` f32, soft_max in place
        // (build_attn_mha, src/llama-graph.cpp); with flash attention one
        // `flash_attn_ext` output `[head_v, n_head, n_ubatch]` instead.
        let kq = if g.flash_attn {
            0
        } else {
            f32s(
                l.n_head
                    .saturating_mul(g.n_kv.saturating_add(l.comp_kv))
                    .saturating_mul(ub),
            )
        };
        // A DSA lightning indexer (deepseek32.cpp:226-315) runs before KQ: its queries
        // `[indexer_head_size, indexer_n_head, n_ubatch]` and their Hadamard-rotated copy,
        // then (fused on the CPU and CUDA, `cparams.fused_lid`, src/llama-context.cpp:237)
        // one score row per cell `[n_kv, n_ubatch]` and the masked scores `ggml_top_k`
        // reads.
        let idx = if g.indexer_heads == 0 || !l.indexer {
            0
        } else if g.dsv4 {
            // DeepSeek-V4's indexer (deepseek4.cpp:600-672): its query projection
            // `[indexer_n_head·indexer_head_size, n_ubatch]` and the roped query are allocated
            // above KQ; the fused scores (`ggml_lightning_indexer`) are not alive with them
            // (ggml-alloc's log at n_embd 512 and 1024, n_ctx 512 and 4096).
            f32s(
                ub.saturating_mul(g.indexer_heads)
                    .saturating_mul(g.indexer_head_size)
                    .saturating_mul(2),
            )
        } else if g.qsa_ratio > 0 {
            // QSA (qwen4exp.cpp:548-696) scores pooled blocks, unfused: its queries
            // `[indexer_head_size, indexer_n_head, n_ubatch]` and their norm (a copy: the
            // projection is read through a reshape), one score per block and head
            // `[n_kv / ratio, indexer_n_head, n_ubatch]` and its relu, again a copy. The scores
            // take the query's hole when they fit in it, the relu the normed query's (ggml-alloc's
            // log of qwen4exp: 16 + 16 MiB above KQ at n_ctx 512, where the scores are 16 MiB
            // too; 16 + 16 + 128 + 128 MiB at n_ctx 4096).
            let blocks = g.n_kv.div_ceil(g.qsa_ratio);
            let q = f32s(
                ub.saturating_mul(g.indexer_heads)
                    .saturating_mul(g.indexer_head_size),
            );
            let scores = f32s(ub.saturating_mul(g.indexer_heads).saturating_mul(blocks));
            let two_q = q.saturating_mul(2);
            if scores <= q {
                two_q
            } else if scores <= two_q {
                two_q.saturating_add(scores)
            } else {
                two_q.saturating_add(scores.saturating_mul(2))
            }
        } else if g.dsa_top_k {
            // Alone on a GPU (partial offload, the layer's attention in host memory) the
            // indexer holds its queries and its scores together (cuda-truth.json, n_gpu_layers
            // 0 and 1: deepseek32, glm-dsa 1.06 × with both, 0.79 × with the larger; dots3note,
            // glm5-next, hy_v4 over, 1.22-1.44 ×).
            ph.idx_alone = f32s(
                ub.saturating_mul(g.indexer_heads)
                    .saturating_mul(g.indexer_head_size)
                    .min(g.n_kv.saturating_mul(ub))
                    .saturating_mul(2),
            );
            // The indexer's query and its rotated copy above KQ, or, once they are free, its
            // fused scores `[n_kv, n_ubatch]` and the masked copy `ggml_top_k` reads: whichever
            // is larger (ggml-alloc's log of deepseek32: the queries, 16 + 16 MiB, at n_ctx
            // 4096; the scores, 64 + 64 MiB, at 32768).
            f32s(
                ub.saturating_mul(g.indexer_heads)
                    .saturating_mul(g.indexer_head_size)
                    .max(g.n_kv.saturating_mul(ub))
                    .saturating_mul(2),
            )
        } else {
            f32s(
                ub.saturating_mul(g.indexer_heads)
                    .saturating_mul(g.indexer_head_size)
                    .saturating_mul(2)
                    .saturating_add(g.n_kv.saturating_mul(ub).saturating_mul(2)),
            )
        };
        // Q and its roped (or, for MLA, absorbed) copy are `n_head·n_embd_head_k` wide; the
        // other activations beside KQ (residual, norm, K, V, output) `n_embd` wide.
        let q = f32s(ub.saturating_mul(l.n_head).saturating_mul(l.head_k));
        let kv = f32s(
            ub.saturating_mul(l.n_head_kv.max(1))
                .saturating_mul(l.head_k),
        );
        let absorbed_mla = g.mla_v > 0 && l.n_head_kv == 1;
        let act = if absorbed_mla && g.dsa_top_k {
            // A DSA graph's absorbed MLA (deepseek32.cpp:323-390, ggml-alloc's log of
            // deepseek32 at n_embd 128, 192, 256, 1024): below KQ the token embeddings and the
            // norm, the query's low-rank projection `qr` `[n_lora_q, n_ubatch]`, and, when KQ
            // does not fit the hole the absorbed query `q_nope_absorbed` `[kv_lora_rank,
            // n_head, n_ubatch]` leaves (more cells than `kv_lora_rank`), the query `q`
            // `[n_embd_head_k_mla, n_head, n_ubatch]` and two of `Qcur`'s width (`q_nope_absorbed`
            // with `q_pe`, and `Qcur` itself, which KQ reads).
            let below = u
                .saturating_mul(2)
                .saturating_add(f32s(ub.saturating_mul(g.q_lora)));
            if g.n_kv > g.mla_v {
                below
                    .saturating_add(f32s(ub.saturating_mul(l.n_head).saturating_mul(
                        g.mla_q_head.saturating_add(l.head_k.saturating_mul(2)),
                    )))
            } else if g.hc_streams > 0 {
                // With hyper-connections (hy-v4.cpp) the `hc`-row `hc_init` and its copy stay
                // below a KQ small enough to land low (ggml-alloc's log of hy_v4 at n_ctx 512).
                below.saturating_add(u.saturating_mul(g.hc_streams.saturating_add(1)))
            } else {
                below
            }
        } else {
            let (units, q_units, kv_units) = if g.dsv4 || (absorbed_mla && g.indexer_heads > 0) {
                // DeepSeek-V4: below KQ, beside the residual streams (counted below), each
                // layer's `hc_attn_pre` and the previous layer's `l_last`, placed above the holes
                // its experts left: 13.5 (n_embd 512) and 12.25 (n_embd 1024) residual widths
                // above the inputs in ggml-alloc's log, where Q is one residual wide; counted as
                // 8 + 6. Absorbed MLA with an indexer outside the DSA top-k graphs keeps the same
                // units, set on the corpus.
                (ATTN_UNITS + 2, ATTN_Q_UNITS, 0)
            } else if g.no_cache && !g.flash_attn {
                // Without a cache nothing is copied out before KQ: K and V stay alive as the
                // views KQ and KQV read, and the two units their holes take elsewhere are
                // not there (measured: dream, llada at three sizes).
                (ATTN_UNITS - 2, ATTN_Q_UNITS, 2)
            } else {
                attn_units(l.fused_qkv, g.rope, absorbed_mla, g.flash_attn)
            };
            u.saturating_mul(units)
                .saturating_add(q.max(u).saturating_mul(q_units))
                .saturating_add(kv.saturating_mul(kv_units))
        };
        // MLA without flash attention: V is a view of the compressed K cache, transposed
        // into a contiguous f16 copy `[n_kv, kv_lora_rank]` for `mul_mat(v, kq)`.
        let v_t = if g.flash_attn {
            0
        } else {
            g.mla_v.saturating_mul(g.n_kv).saturating_mul(2)
        };
        ph.idx = idx;
        ph.attn = ph.attn.max(
            kq.saturating_add(idx)
                .saturating_add(act)
                .saturating_add(v_t),
        );
        if absorbed_mla && g.indexer_heads == 0 {
            // Before KQ, absorbed MLA builds its query and key (deepseek2.cpp, kimi-linear.cpp):
            // `kv_cmpr_pe` `[kv_lora_rank + n_rot, n_ubatch]`, the absorbed query `Qcur`
            // `[kv_lora_rank + n_rot, n_head, n_ubatch]` (a concat of `q_nope_absorbed` and
            // `q_pe`), the normed compressed KV `[kv_lora_rank, n_ubatch]` and `Kcur` (its
            // concat with the roped `k_pe`) alive together above the residual and its norm
            // (ggml-alloc's log of kimi-linear: 1.13 + 1.13 + 1.00 + 1.13 MiB at n_head 1),
            // and two residual-width units of holes (the query's projection `[n_head·(nope +
            // rope), n_ubatch]`, and what `kv_cmpr_pe` leaves between the two queries).
            let build = f32s(
                ub.saturating_mul(
                    l.head_k
                        .saturating_mul(l.n_head.saturating_add(2))
                        .saturating_add(g.mla_v),
                ),
            )
            .saturating_add(u.saturating_mul(4));
            ph.attn = ph.attn.max(build);
        }
    }
    if l.n_ff_exp > 0 && l.n_expert_used > 0 {
        // build_moe_ffn (src/llama-graph.cpp): up and gate `[n_ff_exp, n_used, n_ubatch]`
        // (mul_mat_id), the GLU product, the down projection `[n_embd, n_used, n_ubatch]`.
        // With `weight_before_ffn` the input is first repeated per expert and scaled
        // (`ggml_repeat_4d` then an in-place `ggml_mul`): `[n_embd, n_used, n_ubatch]`,
        // alive until the up and gate projections have read it.
        // The down projection's output lands in the hole gate and up leave once the GLU
        // product is made when it fits there (`n_embd ≤ 2·n_ff_exp`), else above the product
        // (ggml-alloc.c's best fit; seen in the allocator's log on qwen3moe, llama4).
        let weighted = if g.moe_weight_before { g.n_embd } else { 0 };
        let down = if g.n_embd <= l.n_ff_exp.saturating_mul(2) {
            0
        } else {
            g.n_embd
        };
        let per_tok = l.n_expert_used.saturating_mul(
            l.n_ff_exp
                .saturating_mul(3)
                .saturating_add(down)
                .saturating_add(weighted),
        );
        let router = f32s(ub.saturating_mul(g.n_expert).saturating_mul(3));
        // Without a cache, attention's contiguous V copy (`v_cont`) leaves a hole below the
        // experts' intermediates (allocator log of rnd1, llada-moe).
        // In a gated delta net's layer the experts run above the previous layer's output, which
        // the allocator placed above that layer's own recurrent holes: three residual widths
        // more below up and gate (ggml-alloc's log of qwen35moe at n_embd 512; under by 1, 3 and
        // 2 widths at n_embd 384, 512 and 2048 without them).
        let delta_net = l.recurrent && g.recurrent == RecurrentKind::Other && g.ssm_d_state > 0;
        let units = MOE_UNITS
            + u64::from(l.dense_beside_experts)
            + u64::from(g.no_cache)
            + 3 * u64::from(delta_net);
        ph.moe = ph.moe.max(
            f32s(ub.saturating_mul(per_tok))
                .saturating_add(router)
                .saturating_add(u.saturating_mul(units)),
        );
    }
    if l.n_ff > 0 {
        // build_ffn: up, gate (or one fused gate_up of twice the width) and the GLU
        // product `[n_ff, n_ubatch]`.
        ph.ffn = ph.ffn.max(
            f32s(ub.saturating_mul(l.n_ff).saturating_mul(3))
                .saturating_add(u.saturating_mul(FFN_UNITS)),
        );
    }
    if l.recurrent {
        let d = g.ssm_d_inner.max(g.n_embd);
        let mut r = if g.recurrent == RecurrentKind::Mamba2 {
            // build_mamba2_layer (src/models/mamba-base.cpp): the `ssm_in` projection
            // `zxBCdt` (`2·d_inner + 2·n_group·d_state + n_head` wide), the convolution input
            // (`xBC` after the cached columns, `conv_dim = d_inner + 2·n_group·d_state` wide)
            // and its output, alive together at the block's peak (allocator log of mamba2 at
            // n_embd 512: 5.02 + 3.02 + 3.00 MiB above the residual and its norm), and one
            // `d_inner`-wide unit more: the scan output `y` and the gated norm leave a hole of
            // that size below the next layer's tensors (within 0.7 MiB on the corpus, s384,
            // s512).
            let groups = g
                .ssm_n_group
                .saturating_mul(g.ssm_d_state)
                .saturating_mul(2);
            let conv_dim = g.ssm_d_inner.saturating_add(groups);
            let zxbcdt = g
                .ssm_d_inner
                .saturating_mul(2)
                .saturating_add(groups)
                .saturating_add(g.ssm_dt_rank);
            f32s(
                ub.saturating_mul(
                    zxbcdt
                        .saturating_add(conv_dim.saturating_mul(2))
                        .saturating_add(g.ssm_d_inner),
                ),
            )
        } else if g.recurrent == RecurrentKind::Other && g.ssm_d_state > 0 {
            // A gated delta net (delta-net-base.cpp, qwen3next.cpp, qwen35.cpp): its
            // tensors are `conv_dim = d_inner + 2·n_group·d_state` wide (q and k before
            // their repeat to the value heads, then v): the `qkv_mixed` projection, the
            // convolution input with its cached columns, its output and the normed q/k/v.
            // Measured at d_inner = n_embd (corpus) and 2·n_embd (sized sets).
            let conv_dim = g.ssm_d_inner.saturating_add(
                g.ssm_n_group
                    .saturating_mul(g.ssm_d_state)
                    .saturating_mul(2),
            );
            f32s(ub.saturating_mul(conv_dim)).saturating_mul(DELTA_NET_CONV_UNITS)
        } else {
            f32s(ub.saturating_mul(d)).saturating_mul(recurrent_factor(g.recurrent))
        };
        r = r.saturating_add(u.saturating_mul(SSM_UNITS));
        if g.recurrent == RecurrentKind::Lightning {
            // `qk = mul_mat(k, q)` `[n_ubatch, n_ubatch, n_head]` beside the decay input (a graph
            // input, [`Graph::input_cols`]) (minimax-01.cpp:233, 330, 348-351); with several
            // lightning layers their product is another such tensor above `qk` (ggml-alloc's
            // log at n_embd 384 and 512, three and five layers: `diag_decay_exp`, `qk` and the
            // product, 8 + 8 + 8 MiB at n_embd 512); with one (the corpus) it is not at the peak.
            let several = g.layers.iter().filter(|x| x.recurrent).count() > 1;
            r = r.saturating_add(
                f32s(ub.saturating_mul(ub).saturating_mul(l.n_head))
                    .saturating_mul(1 + u64::from(several)),
            );
        }
        if l.attention && l.n_head > 0 {
            // Falcon-H1: attention and SSM side by side in one layer, the attention output
            // held while the SSM runs.
            r = r.saturating_add(u.saturating_mul(2));
        }
        ph.recr = ph.recr.max(r);
    }
    // With hyper-connections the residual stream and its norm are `hc` rows per token
    // (`l_last`, `hc_combine`, `DSV4_HC_POST`; ggml-alloc's log of qwen4exp): beside every
    // phase, `2·(hc - 1)` residual widths more.
    let hc = u.saturating_mul(g.hc_streams.saturating_sub(1).saturating_mul(2));
    if hc > 0 {
        for p in [&mut ph.attn, &mut ph.ffn, &mut ph.moe, &mut ph.recr] {
            if *p > 0 {
                *p = p.saturating_add(hc);
            }
        }
    }
    ph
}

/// The recurrent block each architecture builds (its `src/models/*.cpp`): the one place this
/// module names architectures. Architectures with recurrent layers not listed here build a
/// gated delta net, RWKV or short-convolution block
/// ([`RecurrentKind::Other`]).
const RECURRENT_BLOCKS: &[(&str, RecurrentKind)] = &[
    // build_mamba_layer (src/models/mamba-base.cpp), used by mamba.cpp and jamba.cpp; plamo2's
    // own Mamba block (plamo2.cpp) has the same intermediates.
    ("mamba", RecurrentKind::Mamba1),
    ("jamba", RecurrentKind::Mamba1),
    ("plamo2", RecurrentKind::Mamba1),
    // build_mamba2_layer (src/models/mamba-base.cpp).
    ("mamba2", RecurrentKind::Mamba2),
    ("falcon-h1", RecurrentKind::Mamba2),
    ("nemotron_h", RecurrentKind::Mamba2),
    ("nemotron_h_moe", RecurrentKind::Mamba2),
    ("granitehybrid", RecurrentKind::Mamba2),
    ("lfm2", RecurrentKind::ShortConv),
    ("lfm2moe", RecurrentKind::ShortConv),
    ("minimax-01", RecurrentKind::Lightning),
];

/// The graph of a model the architecture table ran llama.cpp's loader on.
#[allow(clippy::too_many_arguments)]
pub(crate) fn graph_from_table(
    l: &crate::table::Loaded,
    memory: &super::LlamaMemory,
    ub: u64,
    n_kv: u64,
    n_embd: u64,
    n_vocab: u64,
    masks: u64,
    flash_attn: bool,
) -> Graph {
    let hint = |name: &str| {
        l.hparams
            .int(name)
            .map_or(0, |v| u64::try_from(v).unwrap_or(0))
    };
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    let in_kv = |il: u32| {
        memory
            .buffers
            .iter()
            .any(|b| b.kind == super::CacheKind::Kv && b.layers.iter().any(|x| x.layer == il))
    };
    let any_recurrent = l.layers.iter().any(|x| x.is_recurrent);
    let recurrent = if any_recurrent {
        RECURRENT_BLOCKS
            .iter()
            .find(|(a, _)| *a == l.arch)
            .map_or(RecurrentKind::Other, |(_, k)| *k)
    } else {
        RecurrentKind::None
    };
    let n_layer = usize::try_from(l.n_layer).unwrap_or(l.layers.len());
    // A layer routes to experts when the model has experts, the layer uses some, and the
    // loader created expert tensors for it: leading dense layers (`n_layer_dense_lead`, where
    // the architecture reads it) get a dense FFN instead, and some files carry expert keys for an
    // architecture whose graph has none (refact, ernie4_5 without `_exps` tensors build
    // `build_ffn`). The tensors decide, not the key: bailingmoe's files carry
    // `leading_dense_block_count` its loader does not read (every layer has experts).
    let n_expert = hint("n_expert");
    let has_experts = |il: u32| {
        l.tensors
            .iter()
            .any(|t| t.created && t.layer == i64::from(il) && t.name.contains("_exps."))
    };
    let moe_layer =
        |x: &crate::table::LayerFacts| n_expert > 0 && x.n_expert_used > 0 && has_experts(x.index);
    // A layer with a dense FFN beside its routed experts (arctic.cpp: `ffn_out` is added to the
    // experts' output, so it is held while they run).
    let has_tensor = |il: u32, suffix: &str| {
        l.tensors
            .iter()
            .any(|t| t.created && t.layer == i64::from(il) && t.name.ends_with(suffix))
    };
    let dense_beside =
        |il: u32| has_tensor(il, ".ffn_up.weight") && has_tensor(il, ".ffn_up_exps.weight");
    let indexer_heads = if hint("indexer_head_size") > 0 {
        hint("indexer_n_head")
    } else {
        0
    };
    // DeepSeek-V4 (`llama_kv_cache_dsv4`): a CSA layer reads its compressed cache and the
    // indexer's, an HCA layer its own, each beside the raw cache (deepseek4.cpp:715-815).
    let dsv4 = memory.class == "kv_cache_dsv4";
    let cells_of = |name: &str, il: Option<u32>| {
        memory
            .buffers
            .iter()
            .find(|b| {
                b.kind == super::CacheKind::Kv
                    && b.name == name
                    && b.layers.iter().any(|x| il.is_none_or(|il| x.layer == il))
            })
            .map(|b| b.cells)
    };
    let comp_kv = |il: u32| {
        if dsv4 {
            cells_of("kv_csa", Some(il))
                .or_else(|| cells_of("kv_hca", Some(il)))
                .unwrap_or(0)
        } else {
            0
        }
    };
    // An indexer runs in the layers that attend (a hybrid's recurrent layers have none:
    // glm5-next).
    let runs_indexer = |il: u32| {
        indexer_heads > 0 && in_kv(il) && (!dsv4 || cells_of("kv_indexer", Some(il)).is_some())
    };
    let layers: Vec<LayerGraph> = l
        .layers
        .iter()
        .take(n_layer.max(1))
        .map(|x| LayerGraph {
            dense_beside_experts: moe_layer(x) && dense_beside(x.index),
            fused_qkv: has_tensor(x.index, ".attn_qkv.weight"),
            swa: x.is_swa,
            comp_kv: comp_kv(x.index),
            indexer: runs_indexer(x.index),
            n_head: u(x.n_head),
            head_k: u(x.n_embd_head_k),
            head_v: u(x.n_embd_head_v),
            n_head_kv: u(x.n_head_kv),
            n_ff: if moe_layer(x) { 0 } else { u(x.n_ff) },
            n_ff_exp: if moe_layer(x) {
                u(if x.n_ff_exp > 0 { x.n_ff_exp } else { x.n_ff })
            } else {
                0
            },
            n_expert_used: u(x.n_expert_used),
            recurrent: x.is_recurrent,
            attention: n_kv > 0
                && x.n_head > 0
                && (!x.is_recurrent || in_kv(x.index))
                && (memory.class == "none" || in_kv(x.index) || !x.has_kv),
        })
        .collect();
    // `n_embd_v_gqa_max()` (src/llama-hparams.cpp:199-206), for the V index input; absorbed
    // MLA (one KV head, deepseek2.cpp's `is_mla` path) writes no V (its V is a view of the
    // compressed K), so the input is no graph node.
    let absorbed_mla = hint("n_lora_kv") > 0 && layers.iter().all(|x| x.n_head_kv <= 1);
    let v_idx_width = if absorbed_mla {
        0
    } else {
        l.layers
            .iter()
            .map(|x| u(x.n_embd_head_v).saturating_mul(u(x.n_head_kv)))
            .max()
            .unwrap_or(0)
    };
    // The hyper-connection graphs' inputs, alive through every layer (ggml-alloc's log): the
    // token embeddings (read again after the first layer), and the `-inf` fill the top-k mask
    // is set into (`ggml_fill` of the mask, its type). DeepSeek-V4 (deepseek4.cpp:679-704,
    // src/llama-graph.cpp:960-1015): one raw mask, and per compressed cache a `[cells,
    // n_ubatch]` mask (the indexer's f16, fused), the fill over the CSA cells. Qwen4exp
    // (qwen4exp.cpp:589-592, 741): the fill over the KV cells and the QSA bias `[n_blocks,
    // n_ubatch]` f32.
    let qsa_ratio = if indexer_heads > 0 && l.arch == "qwen4exp" {
        l.hparams
            .ints("dsv4_compress_ratios")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| u64::try_from(r).ok().filter(|&r| r > 0))
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let dsa_top_k = indexer_heads > 0
        && (memory.class.starts_with("kv_cache_dsa") || memory.class == "memory_hybrid_idx");
    let (masks, input_cols) = if dsv4 {
        let csa = cells_of("kv_csa", None).unwrap_or(0);
        let hca = cells_of("kv_hca", None).unwrap_or(0);
        let lid = cells_of("kv_indexer", None).unwrap_or(0);
        (1, [csa.saturating_mul(2).saturating_add(hca), n_embd, lid])
    } else if dsa_top_k {
        // One top-k mask per indexer layer: `ggml_fill(kq_mask, -inf)`
        // (src/llama-graph.cpp:3072), a graph leaf `[1, n_kv, n_ubatch]` of the mask's type,
        // each allocated before the first layer runs (ggml-alloc's log of deepseek32: one
        // per layer, 2, 3 and 5 layers, all alive at the first layer's peak).
        let layers = layers.iter().filter(|x| x.indexer).count() as u64;
        (masks, [layers.saturating_mul(n_kv), 0, 0])
    } else if qsa_ratio > 0 {
        (
            masks,
            [n_kv, n_kv.div_ceil(qsa_ratio).saturating_add(n_embd), 0],
        )
    } else {
        (masks, [0; 3])
    };
    // MiniMax-01's decay `inp_diag_decay` `[n_ubatch, n_ubatch, n_head]` f32 (exp of its scale,
    // minimax-01.cpp:233): one graph input every lightning layer reads, alive through the graph
    // (ggml-alloc's log: `diag_decay_exp` below the full-attention layers' KQ too).
    let decay_cols = if recurrent == RecurrentKind::Lightning {
        let heads = layers
            .iter()
            .filter(|x| x.recurrent)
            .map(|x| x.n_head)
            .max()
            .unwrap_or(0);
        ub.saturating_mul(heads)
    } else {
        0
    };
    Graph {
        ub,
        n_kv,
        n_embd,
        n_vocab,
        masks,
        extra_masks: u64::from(indexer_heads > 0 && !dsv4),
        input_cols,
        decay_cols,
        dsv4,
        dsa_top_k,
        q_lora: hint("n_lora_q"),
        mla_q_head: hint("n_embd_head_k_mla_impl"),
        v_idx_width,
        // llama.cpp turns flash attention off for Grok on every backend
        // (`llama_init_from_model`, src/llama-context.cpp:3816-3819).
        flash_attn: flash_attn && l.arch != "grok",
        ssm_d_inner: hint("ssm_d_inner"),
        ssm_d_state: hint("ssm_d_state"),
        ssm_n_group: hint("ssm_n_group"),
        ssm_dt_rank: hint("ssm_dt_rank"),
        hc_streams: hint("dsv4_hc_mult"),
        recurrent,
        indexer_heads,
        mla_v: if hint("n_lora_kv") > 0 {
            l.layers
                .iter()
                .map(|x| u(x.n_embd_head_v))
                .max()
                .unwrap_or(0)
        } else {
            0
        },
        indexer_head_size: if indexer_heads > 0 {
            hint("indexer_head_size")
        } else {
            0
        },
        n_expert: hint("n_expert"),
        moe_weight_before: l.arch == "llama4",
        no_cache: memory.class == "none",
        // A rope type, and no learned position embeddings (starcoder.cpp adds `pos_embd` and
        // ropes nothing although `llama_model_rope_type` gives it NORM).
        rope: l.rope_type.is_some_and(|r| r != "none")
            && !l
                .tensors
                .iter()
                .any(|t| t.created && t.name == "position_embd.weight"),
        qsa_ratio,
        layers,
    }
}

/// The graph of a model planned from its GGUF metadata alone (no table run).
pub(crate) fn graph_from_spec(
    cfg: &crate::config::ModelConfig,
    ub: u64,
    n_kv: u64,
    n_vocab: u64,
    masks: u64,
    flash_attn: bool,
) -> Graph {
    let layers = (0..cfg.block_count)
        .map(|il| {
            let d = cfg.layer(il);
            LayerGraph {
                n_head: d.head_count,
                head_k: cfg.head_dim,
                head_v: cfg.head_dim,
                n_head_kv: d.head_count_kv,
                n_ff: d.feed_forward_length,
                n_ff_exp: 0,
                n_expert_used: 0,
                recurrent: false,
                attention: n_kv > 0 && d.head_count > 0,
                dense_beside_experts: false,
                fused_qkv: false,
                swa: false,
                comp_kv: 0,
                indexer: false,
            }
        })
        .collect();
    let v_idx_width = (0..cfg.block_count)
        .map(|il| cfg.head_dim.saturating_mul(cfg.layer(il).head_count_kv))
        .max()
        .unwrap_or(0);
    Graph {
        ub,
        n_kv,
        n_embd: cfg.embedding_length,
        n_vocab,
        masks,
        v_idx_width,
        flash_attn,
        rope: true,
        layers,
        ..Graph::default()
    }
}

/// What the first GPU does with one layer when the model is partly offloaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerOffload {
    /// The layer's weights and caches are on a GPU.
    pub on_gpu: bool,
    /// The layer uses the sliding-window cache (and its mask).
    pub swa: bool,
    /// Bytes of the layer's cache views the attention reads (K, V; MLA's compressed cache
    /// twice, as K and as the V view), copied to the GPU when it runs a host-held layer's
    /// attention.
    pub kv_view_bytes: u64,
    /// Its recurrent state (views copied when the GPU runs the block).
    pub state_bytes: u64,
    /// Its largest host-held weight by phase (`mul_mat` / `mul_mat_id` operands, copied to the
    /// GPU for the op): attention, dense FFN, experts, recurrent block.
    pub weight_copy: Phases,
}

/// The first GPU's compute buffer when some layers stay in host memory: ggml's scheduler
/// offloads every op that reads a host-held weight with a batch of at least 32 rows to the GPU
/// (`ggml_backend_sched_backend_id_from_cur`, ggml/src/ggml-backend.cpp:961-980;
/// `ggml_backend_cuda_device_offload_op`, min batch 32) and the nodes between them follow
/// (pass 2, ggml-backend.cpp:1124-1200), so the GPU runs the host layers' ops too, on copies of
/// their inputs made at the start of each split (ggml-backend.cpp:1370-1395, 1524-1540): the
/// weight a `mul_mat` reads, the K and V views of the host-held cache a layer's attention reads
/// (flash attention runs there only where CUDA supports its shapes, else on the CPU,
/// `supports_op`), the recurrent state. A graph input (the KQ masks) is copied once, at its
/// first use on the GPU, and lives until its last: masks live per layer. Per layer: the masks
/// alive there plus the largest phase with its copies; then the output head, plus a copy of
/// `output.weight` when the output layer is in host memory. Measured on llama.cpp's CUDA
/// figures (`cuda-truth.json`, n_gpu_layers 0, 1, 2): a host-held attention layer also holds
/// one more `[n_embd, n_ubatch]` f32 beside its copies.
pub fn partial_offload_gpu(g: &Graph, layers: &[LayerOffload], output_copy: u64) -> u64 {
    let f32s = |n: u64| n.saturating_mul(4);
    let ub = g.ub;
    let u = f32s(ub.saturating_mul(g.n_embd));
    // Below 32 rows nothing is offloaded: the GPU runs only the layers it holds.
    let offload = ub >= 32;
    let mask_bytes = g.mask_bytes();
    // The mask (0: the full cache's, 1: the sliding one's) a layer's attention reads.
    let mask_of = |o: &LayerOffload| usize::from(g.masks > 1 && o.swa);
    let attention_on_gpu = |l: &LayerGraph, o: &LayerOffload| {
        l.attention
            && l.n_head > 0
            && (o.on_gpu || (offload && (!g.flash_attn || cuda_supports_flash_attn(l))))
    };
    // Each mask (0: the full cache's, 1: the sliding one's) lives on the GPU from the first
    // layer whose attention reads it there to the last.
    let mut span = [(usize::MAX, 0usize); 2];
    for (il, (l, o)) in g.layers.iter().zip(layers).enumerate() {
        if attention_on_gpu(l, o) {
            if let Some(sp) = span.get_mut(mask_of(o)) {
                *sp = (sp.0.min(il), sp.1.max(il));
            }
        }
    }
    let extra = g
        .extra_masks
        .saturating_mul(mask_bytes)
        .saturating_add(g.extra_input_bytes().saturating_sub(g.decay_bytes()));
    let small = f32s(ub.saturating_mul(8));
    let mut seen = [false; 2];
    let mut peak = 0u64;
    for (il, (l, o)) in g.layers.iter().zip(layers).enumerate() {
        if !o.on_gpu && !offload {
            continue;
        }
        let live = span.iter().filter(|&&(a, b)| a <= il && il <= b).count() as u64;
        let masks = mask_bytes.saturating_mul(live).saturating_add(extra);
        let ph = layer_phases(g, l);
        let host = u64::from(!o.on_gpu);
        // The cache views are copied when the layer is in host memory; a weight whenever it is
        // (`--n-cpu-moe` keeps a GPU layer's experts there) and ops are offloaded at all.
        let none = Phases::default();
        let c = if offload { &o.weight_copy } else { &none };
        let attn = if attention_on_gpu(l, o) {
            // The first host-held layer of a cache copies its views into an empty buffer;
            // the next ones land beside the holes the earlier copies left (measured:
            // half the views at the first, all of them from the second on).
            let views = match seen.get_mut(mask_of(o)) {
                Some(seen) if *seen => o.kv_view_bytes,
                Some(seen) => {
                    *seen |= !o.on_gpu;
                    o.kv_view_bytes / 2
                }
                None => o.kv_view_bytes,
            };
            ph.attn
                .saturating_add(views.saturating_add(u).saturating_mul(host))
        } else if ph.idx > 0 {
            // A DSA indexer runs on the GPU (its fused op is CUDA's) even where the attention
            // after it stays on the CPU; counted as the whole phase.
            ph.attn.saturating_add(ph.idx_alone)
        } else {
            0
        };
        let with = |phase: u64, copy: u64| {
            if phase > 0 {
                phase.saturating_add(copy)
            } else {
                0
            }
        };
        let ffn = with(ph.ffn, c.ffn);
        let moe = with(ph.moe, c.moe);
        let recr = with(
            ph.recr,
            c.recr.saturating_add(o.state_bytes.saturating_mul(host)),
        );
        let layer = attn.max(ffn).max(moe).max(recr).max(c.attn);
        peak = peak.max(masks.saturating_add(small).saturating_add(layer));
    }
    let output = f32s(ub.saturating_mul(g.n_vocab))
        .saturating_add(u.saturating_mul(OUT_UNITS))
        .saturating_add(if offload { output_copy } else { 0 });
    peak.max(output)
}

/// The bytes a Mamba-1 selective scan holds on the CPU when CUDA cannot run it
/// (`ggml_backend_cuda_device_supports_op`, ggml/src/ggml-cuda/ggml-cuda.cu:5499-5515: Mamba-1
/// only with `d_state == 16` and `d_inner % 128 == 0`), 0 when it can or for other blocks: the
/// scan's inputs `x`, `dt` `[d_inner, n_ubatch]`, `B`, `C` `[d_state, n_ubatch]`, the state
/// `[d_state, d_inner]` (one sequence) and its output (`y` and the new state), all f32
/// (`ggml_ssm_scan`, build_mamba_layer in src/models/mamba-base.cpp). Measured: mamba, jamba,
/// plamo2 on `cuda-truth.json` (d_state 128).
pub fn cpu_scan_bytes(g: &Graph) -> u64 {
    if g.recurrent != RecurrentKind::Mamba1 || (g.ssm_d_state == 16 && g.ssm_d_inner % 128 == 0) {
        return 0;
    }
    let (d, n, ub) = (g.ssm_d_inner, g.ssm_d_state, g.ub);
    d.saturating_mul(ub)
        .saturating_mul(3)
        .saturating_add(n.saturating_mul(ub).saturating_mul(2))
        .saturating_add(n.saturating_mul(d).saturating_mul(2))
        .saturating_mul(4)
}

/// Whether CUDA runs `flash_attn_ext` for an attention layer of these shapes
/// (`ggml_cuda_get_best_fattn_kernel`, ggml/src/ggml-cuda/fattn.cu:541-616; the grouped-query
/// optimisation the wide heads need applies from `gqa_ratio = n_head / n_head_kv >= 2`, with the
/// reserve graph's mask and a KV length padded to 256).
pub fn cuda_supports_flash_attn(l: &LayerGraph) -> bool {
    let gqa = l.n_head.checked_div(l.n_head_kv).unwrap_or(0);
    match l.head_k {
        40 | 64 | 72 | 80 | 96 | 112 | 128 | 256 => l.head_v == l.head_k,
        192 => l.head_v == 128 && gqa >= 2 && gqa % 8 == 0,
        320 => l.head_v == 256 && gqa >= 2 && gqa % 32 == 0,
        512 => l.head_v == 512 && gqa >= 2,
        576 => l.head_v == 512 && gqa >= 2,
        _ => false,
    }
}

/// llama.cpp's `auto` flash attention on CUDA: `resolve_fused_ops` (src/llama-context.cpp:
/// 507-560) reserves a one-token graph and turns flash attention off when some layer's
/// `flash_attn_ext` is not on that layer's device, which happens when the layer is on a GPU
/// whose backend does not support the op for its shapes (the scheduler then runs it on the
/// CPU). `on_gpu(il)`: the layer is on a CUDA device.
pub fn cuda_flash_attn_auto(g: &Graph, on_gpu: impl Fn(usize) -> bool) -> bool {
    g.flash_attn
        && g.layers.iter().enumerate().all(|(il, l)| {
            !(l.attention && l.n_head > 0 && on_gpu(il)) || cuda_supports_flash_attn(l)
        })
}
