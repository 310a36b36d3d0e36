//! The text model's CPU compute buffer, replayed: the graph llama.cpp reserves
//! (`llama_context::sched_reserve` → `graph_reserve`, src/llama-context.cpp: one ubatch of
//! `n_ubatch` tokens, every token an output, every KV cell visible) built with ggml's own shapes,
//! sources, views and node order, then placed by the allocator replay of `galloc.rs`. Where an
//! architecture's graph is written here the figure is llama.cpp's to the byte; elsewhere the
//! estimate of `compute.rs` stands.
//!
//! The graphs follow `src/models/<arch>.cpp` and the helpers of src/llama-graph.cpp:
//! `build_inp_embd` (2376-2463), `build_inp_pos` (2465), `build_inp_out_ids` (2494-2514),
//! `build_attn_inp_kv` (2835-2866, the mask of 29-46), `build_norm` (1597-1631), `build_qkv`
//! (1647-1760), `build_attn` (2868-2950), `build_attn_mha` (2616-2755), `build_ffn`
//! (1762-1961), and the cache's views and stores of src/llama-kv-cache.cpp (`get_k`/`get_v`
//! 1276-1326, `cpy_k`/`cpy_v` 1328-1417, the index inputs 1419-1445).

pub use super::galloc::{Device, WeightSize};
use super::galloc::{Graph, Id, Op, Placement, Stage, Ty};

/// Which graph of `src/models/*.cpp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The pre-norm decoder of `llama.cpp` (dense layers) and the graphs written the same way
    /// but for the options of [`Decoder`]: `qwen2.cpp` (an output bias), `qwen3.cpp` (Q and K
    /// RMS-normed before RoPE), `mistral3.cpp` (Q scaled by a temperature input),
    /// `smollm3.cpp` (every `n_no_rope_layer_step`-th layer without RoPE), `seed-oss.cpp`,
    /// `exaone.cpp`, `xverse.cpp`, `internlm2.cpp`, `ernie4-5.cpp` (dense), `baichuan.cpp`,
    /// `granite.cpp` (its scales are in place: embeddings, residuals, logits), `orion.cpp`
    /// (LayerNorm with biases), `starcoder2.cpp` (LayerNorms and products with biases, an
    /// ungated GELU FFN), `arcee.cpp` (an ungated squared-ReLU FFN), `maincoder.cpp` (Q
    /// and K normed after RoPE), `codeshell.cpp`, `nemotron.cpp` and `jais2.cpp` (LayerNorms
    /// with biases, ungated GELU or squared-ReLU FFNs), `olmo.cpp` (LayerNorms without
    /// weights), `qwen.cpp` (a fused `wqkv`, FFN products `n_ff / 2` wide), `refact.cpp` and
    /// `jais.cpp` (ALiBi: no position input; refact's graph reads no expert), `stablelm.cpp`
    /// (with `ffn_norm`; per-head Q/K LayerNorms), `hunyuan-dense` (`hunyuan-vl.cpp`: Q/K
    /// norms after RoPE), `pangu-embed.cpp`, `nanbeige.cpp` (one loop), `minicpm` (granite's
    /// graph); with routed experts and shared ones (`build_moe_ffn`: softmax, sigmoid or
    /// softmax-over-the-selected gating, a selection bias, router and expert biases):
    /// qwen2moe (a sigmoid-gated shared expert), olmoe, granitemoe, deepseek, hunyuan-moe (the
    /// shared expert first), dbrx, ernie4_5-moe (experts every `n_moe_layer_step` layers),
    /// dots1, minimax-m2, glm4moe (the sectioned RoPE's four positions per token), bailingmoe,
    /// qwen3vlmoe; `chatglm.cpp` and `glm4.cpp` (a fused up product halved by SwiGLU; glm4 with
    /// norms after attention and the FFN), `qwen2vl.cpp`, `paddleocr.cpp`, `qwen3vl.cpp` and
    /// `hunyuan-vl.cpp` (the sectioned RoPE, Q/K norms before or after it), `gpt2.cpp`,
    /// `starcoder.cpp` and `mpt.cpp` (learned positions), `bloom.cpp` (normed embeddings,
    /// ALiBi), `openai-moe.cpp` (gpt-oss: iSWA, attention sinks, biased experts with SwiGLU-OAI,
    /// the output rows kept after the last layer), `deepseek2.cpp` with MLA (the absorbed
    /// latent attention over a K-only cache, a fused gate/up expert product where the file has
    /// one; expert groups are not written here), `llama4.cpp` (chunked iSWA, layers without
    /// RoPE scaled by the temperature input, weightless Q/K norms, experts selected on the raw
    /// logits with the weights applied to their input), `exaone-moe.cpp` (iSWA, RoPE on the
    /// sliding layers only, leading dense layers), `cohere2moe.cpp` (the parallel block with
    /// experts, their shared expert's sum halved, the output rows kept after the final norm),
    /// `smallthinker.cpp` (the router on the layer input, ReGLU experts, layers without RoPE),
    /// `afmoe.cpp` (scaled embeddings, attention gated before its output product, post norms,
    /// layers without RoPE), `mellum.cpp` (Q/K norms, optional iSWA), `plamo3.cpp` (fused
    /// products, Q/K norms, post norms, optional iSWA), `openelm.cpp` (per-layer heads, the
    /// residual added first), `minicpm3.cpp` and deepseek2 without MLA (the latent attention
    /// decompressed into full heads), `mimo2.cpp` (iSWA, per-layer heads, K and V heads of
    /// different widths, sinks, sigmoid experts; its value scale is in place),
    /// `grok.cpp` (post norms, GELU experts with a dense FFN beside them, flash attention
    /// forced off, scaled and soft-capped logits), the DSA graphs `deepseek32.cpp`,
    /// `glm-dsa.cpp` (layers sharing the last full indexer's top-k) and `dots3note.cpp` (iSWA:
    /// the sliding layers without the indexer; the shared roped key normed, the attention gated
    /// per head): the absorbed latent attention over the top-k cells of a fused lightning
    /// indexer,
    /// `minimax-m3.cpp` (per-head Q/K norms, partial RoPE, leading dense layers, sigmoid
    /// experts beside a shared one; with flash attention its sparse attention, [`Msa`]),
    /// and with routed experts where a layer has them (`build_moe_ffn`:
    /// llama, mistral3, `qwen3moe.cpp`).
    Llama,
    /// `phi3.cpp`: a fused `wqkv` (or separate projections), Q scaled after RoPE, residuals
    /// added the other way round, a fused SwiGLU FFN (`ffn_up` twice `n_ff` wide), norm and
    /// output biases; the iSWA form where the file sets a sliding window; phimoe's routed
    /// experts in place of the FFN.
    Phi3,
    /// `gemma.cpp`, `gemma2.cpp`, `gemma3.cpp`: scaled input embeddings, Q scaled after RoPE
    /// (gemma3: Q/K norms before it), gemma2 and gemma3 with norms after attention and after
    /// the FFN (GELU-gated) too, their logits soft-capped and their layers iSWA (gemma2's
    /// attention soft-cap is three in-place ops on the KQ matrix: no bytes).
    Gemma,
    /// `olmo2.cpp`, `exaone4.cpp`: no norm before attention or the FFN, RMS norms after each,
    /// Q/K norms before RoPE (exaone4: RoPE on the sliding layers only when it has any); iSWA
    /// where the file sets a sliding window.
    PostNorm,
    /// Attention and the FFN side by side, both added to the layer's input: `command-r.cpp`,
    /// `cohere2.cpp` (Q/K LayerNorms where the file has them, RoPE on the sliding layers only,
    /// the logits scaled), `phi2.cpp` (Q scaled after RoPE, an output bias), `falcon.cpp` (a
    /// second norm for attention where the file has it), `gptneox.cpp` (with `use_par_res`; its
    /// own norm for the FFN), `plamo.cpp`.
    Parallel(Parallel),
    /// `falcon-h1.cpp`: attention and a Mamba-2 mixer side by side on the same norm
    /// (computed twice), their sum added to the input, then the FFN.
    FalconH1,
    /// `deci.cpp`: per-layer heads, where a layer may have no attention (`n_head` 0), a
    /// "linear attention" (`n_head_kv` 0: the output product alone) or no FFN (`n_ff` 0:
    /// the layer's output dropped).
    Deci,
    /// `glm5-next.cpp`: four hyper-connection streams mixed before and after each mixer and
    /// FFN, Kimi delta attention on the recurrent layers, the nope-only absorbed latent
    /// attention over a k-pool DSA indexer's selection on the others ([`Glm5`]).
    Glm5Next,
    /// `hrm-text.cpp`: a low and a high stack of decoder layers (weightless RMS norms,
    /// attention gated by `sigmoid(attn_gate · x)` made before Q, K and V) run in cycles over
    /// the same tokens, each pass on its own cache slots ([`Hrm`]).
    Hrm,
    /// `minimax-01.cpp`: attention or lightning attention ([`Mixer::Lightning`]) per layer,
    /// each sub-layer's residual the normed input scaled by `f_residual_scale`, routed experts.
    Minimax01,
    /// `hy-v4.cpp`: `hc` hyper-connection streams, each sub-layer reading their weighted sum
    /// (`build_hc_pre`) and writing them back (`build_hc_post`), the absorbed latent attention
    /// (over a DSA indexer's top-k cells where the file has one) gated by
    /// `sigmoid(wqkv_gate · x)`, routed experts beside a shared one.
    HyV4,
    /// `kimi-k3.cpp`: Kimi delta attention and the nope-only gated latent attention, the
    /// residual stream banked every `attn_res_block_size` layers and mixed back by a softmax
    /// over the banked checkpoints ([`Decoder::res_block`]), SiTU activations, latent experts.
    KimiK3,
}

/// HRM-Text's cycles (hrm-text.cpp:6-30): `h_cycles` times, `l_cycles` passes of the low stack
/// then one of the high stack, each `lps` layers on its own cache slots (the file's
/// `block_count` is `lps · h_cycles · (l_cycles + 1)` slots; the weights are the first low and
/// high passes', aliased by the later ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hrm {
    pub lps: usize,
    pub h_cycles: usize,
    pub l_cycles: usize,
}

/// How a parallel block feeds its FFN and sums its branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallel {
    /// `ffn(norm) + input + attention` (command-r, cohere2).
    Cohere,
    /// `ffn(ffn_norm(input)) + input + attention` (gptneox).
    NeoX,
    /// `ffn(norm) + attention + input` (falcon, plamo).
    Falcon,
    /// `attention + ffn(norm) + input` (phi2).
    Phi2,
}

impl Family {
    /// The family of an architecture whose graph is replayed here.
    pub fn of(arch: &str) -> Option<Family> {
        match arch {
            "llama" | "qwen2" | "qwen3" | "qwen3moe" | "mistral3" | "smollm3" | "seed_oss"
            | "exaone" | "xverse" | "internlm2" | "ernie4_5" | "baichuan" | "granite" | "orion"
            | "arcee" | "maincoder" | "starcoder2" | "codeshell" | "nemotron" | "jais2"
            | "olmo" | "qwen" | "refact" | "jais" | "pangu-embedded" | "nanbeige" | "minicpm"
            | "stablelm" | "hunyuan-dense" | "qwen2moe" | "olmoe" | "granitemoe" | "deepseek"
            | "hunyuan-moe" | "dbrx" | "ernie4_5-moe" | "dots1" | "minimax-m2" | "glm4moe"
            | "bailingmoe" | "chatglm" | "glm4" | "qwen2vl" | "paddleocr" | "qwen3vl"
            | "qwen3vlmoe" | "hunyuan_vl" | "gpt-oss" | "deepseek2" | "mistral4" | "llama4"
            | "exaone-moe" | "smallthinker" | "afmoe" | "mellum" | "plamo3" | "openelm"
            | "minicpm3" | "mimo2" | "grok" | "mamba" | "mamba2" | "jamba" | "granitehybrid"
            | "nemotron_h" | "nemotron_h_moe" | "qwen35" | "qwen35moe" | "qwen3next" | "lfm2"
            | "lfm2moe" | "kimi-linear" | "granite_swa" | "arctic" | "bailingmoe2" | "dream"
            | "llada" | "llada-moe" | "rnd1" | "spark2_5" | "muse-glimmer" | "talkie"
            | "deepseek32" | "glm-dsa" | "dots3note" | "maple" | "hy_v3" | "minimax-m3"
            | "cogvlm" | "grovemoe" | "laguna" | "qwen3tts" | "pockettts" | "plamo2"
            | "bailingmoe3" => Some(Family::Llama),
            "falcon-h1" => Some(Family::FalconH1),
            "deci" => Some(Family::Deci),
            "glm5-next" => Some(Family::Glm5Next),
            "hrm_text" => Some(Family::Hrm),
            "minimax-01" => Some(Family::Minimax01),
            "hy_v4" => Some(Family::HyV4),
            "kimi-k3" => Some(Family::KimiK3),
            "phi3" | "phimoe" => Some(Family::Phi3),
            "gemma" | "gemma2" | "gemma3" => Some(Family::Gemma),
            "olmo2" | "exaone4" => Some(Family::PostNorm),
            "command-r" | "cohere2" | "cohere2moe" => Some(Family::Parallel(Parallel::Cohere)),
            "phi2" => Some(Family::Parallel(Parallel::Phi2)),
            "falcon" | "plamo" => Some(Family::Parallel(Parallel::Falcon)),
            "gptneox" => Some(Family::Parallel(Parallel::NeoX)),
            "gpt2" | "starcoder" | "bloom" | "mpt" => Some(Family::Llama),
            _ => None,
        }
    }
}

/// One layer's widths and optional tensors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    pub n_head: u64,
    pub n_head_kv: u64,
    pub head_k: u64,
    pub head_v: u64,
    pub n_ff: u64,
    /// `attn_q.bias`, `attn_k.bias`, `attn_v.bias`, `attn_output.bias`.
    pub attn_bias: [bool; 4],
    /// `ffn_up.bias`, `ffn_gate.bias`, `ffn_down.bias`.
    pub ffn_bias: [bool; 3],
    /// Q and K roped (smollm3 skips it in some layers).
    pub rope: bool,
    /// Routed experts instead of the dense FFN.
    pub moe: Option<Moe>,
    /// Q, K and V from one `attn_qkv` product (with `attn_qkv.bias`: `attn_bias[0]`).
    pub fused_qkv: bool,
    /// The layer reads the sliding-window cache.
    pub swa: bool,
    /// `ffn_gate` present: the FFN's gate is parallel to its up product (`LLM_FFN_PAR`).
    pub ffn_gate: bool,
    /// No FFN weights: `build_ffn` with null products is its activation alone (refact.cpp
    /// with experts, which its graph does not read).
    pub ffn_none: bool,
    /// Multi-head latent attention with the absorbed products (deepseek2.cpp:494-566) instead
    /// of Q, K and V heads.
    pub mla: Option<Mla>,
    /// One `ffn_up` product `2 n_ff` wide halved by `ggml_swiglu` (`LLM_FFN_SWIGLU`,
    /// chatglm.cpp:128-133, glm4.cpp:154-158).
    pub ffn_fused_up: bool,
    /// What mixes the tokens: attention, or a recurrent block in its place.
    pub mixer: Mixer,
    /// No FFN: the layer ends with the mixer's residual (mamba.cpp:104-124).
    pub no_ffn: bool,
    /// glm5-next: the layer runs its own k-pool indexer (`is_indexer_full`); else it reuses
    /// the selection of the last layer that did.
    pub indexer_full: bool,
    /// The latent attention restricted to the top-k cells a DSA lightning indexer selects
    /// (deepseek32.cpp, glm-dsa.cpp, dots3note.cpp's full-attention layers).
    pub dsa: Option<Dsa>,
    /// laguna.cpp:201-259: the attention gate's product (this wide: one per head or one per
    /// element) made after Q, K and V's, before their norms; its softplus scales the
    /// attention output before `wo`.
    pub early_gate: Option<u64>,
    /// `swiglu_clamp_shexp` set for the layer: `build_ffn`'s SwiGLU as a clamped up product
    /// times the clamped SiLU of the gate (src/llama-graph.cpp:1841-1866), all in place.
    pub ffn_clamp: bool,
    /// MiniMax sparse attention ([`Decoder::msa`]) instead of `build_attn`
    /// (minimax-m3.cpp:334: the layers from `n_layer_dense_lead` on, flash attention on).
    pub msa: bool,
    /// `attn_sinks`: a weight the softmax (or the flash attention) reads
    /// (`ggml_soft_max_add_sinks`, `ggml_flash_attn_ext_add_sinks`, src/llama-graph.cpp:2664,
    /// 2723): the scheduler places the op with it.
    pub sinks: bool,
}

/// Where a DSA layer's top-k cells come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dsa {
    /// The layer's own lightning indexer (deepseek32.cpp:226-322).
    Indexer(Indexer),
    /// The previous full indexer layer's (glm-dsa.cpp:360-366, a "shared" indexer layer).
    Shared,
}

/// The widths of a DSA lightning indexer: `indexer_n_head` heads of `indexer_head_size`, and
/// `indexer_top_k` cells kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indexer {
    pub n_head: u64,
    pub head: u64,
    pub top_k: u64,
}

/// The widths of MiniMax sparse attention (minimax-m3.cpp:253-299, 337-459): an indexer of
/// `heads` (one per KV head) of `dim` ranks position blocks of `blk` tokens; each query group
/// attends to the top `top_k` blocks through a block mask over the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msa {
    /// `indexer_head_size`.
    pub dim: u64,
    /// `indexer_n_head`.
    pub heads: u64,
    /// `indexer_block_size`.
    pub blk: u64,
    /// The position axis, `GGML_PAD(get_n_pos(), blk)`: `get_n_pos` is at least 256
    /// (src/llama-kv-cache-msa.cpp:281-292), and the reserved cache is empty.
    pub n_ps: u64,
    /// `min(indexer_top_k, n_ps / blk)` blocks kept.
    pub top_k: u64,
}

/// A layer's token mixer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mixer {
    /// Attention over the KV cache ([`Layer::mla`] for the latent form).
    #[default]
    Attention,
    /// A Mamba mixer (`build_mamba_layer`, `build_mamba2_layer`; falcon-h1.cpp runs it beside
    /// attention).
    Ssm(Ssm),
    /// A gated delta net (qwen35.cpp's linear attention).
    Gdn(Gdn),
    /// LFM2's short convolution of `d_conv` stored columns (lfm2.cpp:159-231).
    ShortConv(u64),
    /// Kimi delta attention (kimi-linear.cpp:288-384).
    Kda(Kda),
    /// PLaMo-2's Mamba mixer (plamo2.cpp:258-426).
    Plamo2(Plamo2),
    /// MiniMax-01's lightning attention (minimax-01.cpp:278-419).
    Lightning(Lightning),
    /// The FFN (or experts) itself (nemotron-h.cpp's FFN layers).
    Ffn,
}

/// The widths of a Mamba-2 layer (src/models/mamba-base.cpp:148-170: `ssm_d_conv`,
/// `ssm_d_inner`, `ssm_d_state`, `ssm_dt_rank` heads, `ssm_n_group`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssm {
    pub d_conv: u64,
    pub d_inner: u64,
    pub d_state: u64,
    pub n_head: u64,
    pub n_group: u64,
    /// The grouped RMS norm (`ssm_norm`) before the output product.
    pub norm: bool,
    /// A Mamba-1 mixer (`build_mamba_layer`, mamba-base.cpp:9-142: one head per channel,
    /// `ssm_x` and `ssm_dt` products) instead.
    pub mamba1: Option<Mamba1>,
}

/// The widths of a PLaMo-2 Mamba layer (plamo2.cpp:37-81): `ssm_d_conv`, `ssm_d_inner`,
/// `ssm_d_state`, `ssm_dt_rank` heads (no groups), and, from the products, `ssm_x`'s output
/// (B, C and dt) and `ssm_dt`'s input (dt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plamo2 {
    pub d_conv: u64,
    pub d_inner: u64,
    pub d_state: u64,
    pub n_head: u64,
    pub n_bcdt: u64,
    pub dt_dim: u64,
}

/// The widths of a MiniMax-01 lightning-attention layer: `n_head` heads of `head`, the
/// recurrent state widths (`n_embd_r`, `n_embd_s`), and the output gate's width (`wg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lightning {
    pub head: u64,
    pub n_head: u64,
    pub n_embd_r: u64,
    pub n_embd_s: u64,
    pub gate: u64,
}

/// The widths of a gated-delta-net layer (qwen35.cpp:274-283): `ssm_d_conv`, `ssm_d_inner`,
/// key heads (`ssm_n_group`) of `ssm_d_state`, value heads (`ssm_dt_rank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gdn {
    pub d_conv: u64,
    pub d_inner: u64,
    pub head_k: u64,
    pub n_k_heads: u64,
    pub n_v_heads: u64,
    /// qwen3next.cpp:268-300: beta and alpha from one `ssm_beta_alpha` product grouped by key
    /// head (made contiguous), and Q and K repeated to the value heads where they differ
    /// (:366-387).
    pub qwen3next: bool,
}

/// The widths of a Kimi-delta-attention layer: `ssm_d_conv`, heads of `n_embd_head_kda`,
/// the ranks of the gate products (`ssm_f_a`, `ssm_g_a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kda {
    pub d_conv: u64,
    pub head_dim: u64,
    pub n_head: u64,
    pub f_rank: u64,
    pub g_rank: u64,
    /// glm5-next.cpp:714-718 with `kda_gate_lower_bound` set: the decay gate as
    /// `bound * sigmoid(-(g * A))` (a multiplication and three in-place ops) instead of
    /// `softplus(g) * A`.
    pub gate_bound: bool,
    /// The bounded gate as `bound * sigmoid(-(g * A))` (glm5-next, kimi-k3); bailingmoe3.cpp:
    /// 281 leaves the negation out.
    pub bound_negated: bool,
    /// The decay gate one `d_inner`-wide product (`ssm_f_a`: bailingmoe3.cpp:277) instead of
    /// `ssm_f_b · ssm_f_a`.
    pub f_single: bool,
    /// The output gate one `d_inner`-wide product (`ssm_g_a`: bailingmoe3.cpp:298, `ssm_g`:
    /// kimi-k3.cpp:465) instead of `ssm_g_b · ssm_g_a`.
    pub g_single: bool,
}

/// What a Mamba-1 mixer adds to the widths of [`Ssm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mamba1 {
    pub dt_rank: u64,
    /// dt, B and C RMS-normed (`ssm_dt_b_c_rms`, or the three norm weights: jamba).
    pub dt_b_c_norm: bool,
    /// Those norms with weights (`ssm_dt_norm`, `ssm_b_norm`, `ssm_c_norm`).
    pub norm_weights: bool,
}

/// The widths of a multi-head latent attention layer (deepseek2.cpp:65-111).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mla {
    /// `q_lora_rank` (`wq_a`, `wq_b`), or `None` for one `wq` (the lite form).
    pub q_lora: Option<u64>,
    pub kv_lora: u64,
    /// The roped part of a head (`n_rot`).
    pub rope: u64,
    /// The unroped part of a Q/K head (`n_embd_head_k_mla - n_rot`).
    pub nope: u64,
    /// A V head after decompression (`n_embd_head_v_mla`).
    pub head_v: u64,
    /// The latent attention absorbed into a K-only cache (deepseek2 `is_mla`); else
    /// decompressed by `wkv_b` into full heads cached as K and V (minicpm3.cpp,
    /// deepseek2.cpp:567-600).
    pub absorbed: bool,
}

/// A layer's routed experts as `build_moe_ffn` runs them (src/llama-graph.cpp:2007-2374).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moe {
    pub n_expert: u64,
    pub n_used: u64,
    pub n_ff: u64,
    /// How the router's logits become the experts' weights (2053-2073).
    pub gating: Gating,
    /// A router bias (`ffn_gate_inp.bias`, 2047-2050: gpt-oss).
    pub router_bias: bool,
    /// A selection bias (`exp_probs_b`, 2078-2082): the top-k reads biased probabilities, the
    /// weights the unbiased ones.
    pub probs_bias: bool,
    /// Gate experts present (fused or not; else the up product is the activation's input).
    pub gate: bool,
    /// One `ffn_gate_up_exps` product, split by two views (2183-2201).
    pub fused_gate_up: bool,
    /// Per-expert biases (`ggml_add_id`) after the up, gate and down products.
    pub exps_bias: [bool; 3],
    /// The selected experts' weights normalised (`norm_w`).
    pub norm_w: bool,
    /// `expert_weights_scale` neither 0 nor 1: the weights scaled.
    pub scale: bool,
    /// Shared experts beside the routed ones.
    pub shared: Option<Shared>,
    /// llama4 (src/llama-graph.cpp:2086-2088, 2173-2178): the raw logits select, and the
    /// weights scale the (repeated) input instead of the experts' output.
    pub llama4: bool,
    /// The router reads the layer's input (`probs_in`, smallthinker.cpp:109-159).
    pub router_on_input: bool,
    /// The layer's dense FFN (`Layer::n_ff`) beside the experts (grok).
    pub dense_beside: bool,
    /// The experts read the layer's normed input and are added after the dense FFN's
    /// residual (arctic.cpp:84-108).
    pub on_layer_input: bool,
    /// Expert groups (`n_expert_groups`, `n_group_used`): the selection masked to the best
    /// groups first (src/llama-graph.cpp:2094-2117, DeepSeek-V3's routing).
    pub groups: Option<(u64, u64)>,
    /// GroveMoE's adjugate experts (grovemoe.cpp:133-171).
    pub grove: Option<Grove>,
    /// kimi-k3.cpp:570-618: the experts read a down-projected input this wide, their sum RMS-normed
    /// and projected back where the file has those products.
    pub latent: Option<Latent>,
    /// `swiglu_clamp_exp` set for the layer: the experts' SwiGLU as a clamped up product times
    /// the clamped SiLU of the gate (src/llama-graph.cpp:2236-2258), all in place.
    pub clamp: bool,
}

/// kimi-k3's latent experts (kimi-k3.cpp:570-618).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latent {
    /// `ffn_routed_down`'s output width (absent: the experts read the layer input).
    pub down: Option<u64>,
    /// `ffn_routed_norm` present.
    pub norm: bool,
    /// `ffn_routed_up` present.
    pub up: bool,
}

/// GroveMoE (grovemoe.cpp:133-171): the selection reads the router logits' sigmoid
/// (src/llama-graph.cpp:2090-2093), and a second bank of `n_chunk` experts (one per group of
/// `experts_per_group`) reads the routed experts' output with the same logits; its output,
/// scaled by `expert_group_scale`, is added to theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grove {
    pub n_chunk: u64,
    /// `expert_chunk_feed_forward_length`, else `n_embd_head_k`.
    pub n_ff: u64,
    /// This call builds the chunk bank: with fewer chunk experts than experts, the selected
    /// indices are divided by `experts_per_group` through two f32 casts (2128-2131).
    pub chunk_call: bool,
}

/// `llama_expert_gating_func_type` as `build_moe_ffn` applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gating {
    /// `ggml_soft_max` over every expert.
    Softmax,
    /// `ggml_sigmoid`.
    Sigmoid,
    /// The raw logits select; a softmax over the selected weights (2141-2146).
    SoftmaxWeight,
}

/// A shared expert: `build_ffn` (SiLU, parallel gate) on the routed experts' input, added to
/// their output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub n_ff: u64,
    /// A gate product (else the up product is the activation's input: nemotron-h.cpp's
    /// squared ReLU).
    pub gate: bool,
    /// Scaled by `sigmoid(ffn_gate_inp_shexp · x)`, computed as `silu(g) / g`
    /// (qwen2moe.cpp:147-166).
    pub sigmoid_gate: bool,
    /// That sigmoid as one op (qwen35moe.cpp:294-302).
    pub plain_sigmoid: bool,
    /// Built before the routed experts, added as `moe + shared` (hunyuan-moe.cpp:138-161).
    pub first: bool,
    /// The sum halved (`ggml_scale`, cohere2moe.cpp:252-253).
    pub half: bool,
    /// The SwiGLU clamped ([`Layer::ffn_clamp`], `swiglu_clamp_shexp`).
    pub clamp: bool,
}

/// What the reserved graph is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    pub family: Family,
    pub n_embd: u64,
    pub n_vocab: u64,
    /// Tokens of the reserved ubatch (`min(n_ubatch, n_ctx)`), each an output.
    pub ub: u64,
    /// KV cells attention reads.
    pub n_kv: u64,
    pub flash_attn: bool,
    /// Q and K RMS-normed (with a weight) before RoPE (qwen3.cpp:41-53).
    pub qk_norm: bool,
    /// The Q/K norms after RoPE instead (maincoder.cpp).
    pub qk_norm_after_rope: bool,
    /// The Q/K norms without a weight (llama4.cpp's L2 norm).
    pub qk_norm_weightless: bool,
    /// K's norm without a weight (talkie.cpp:52-53).
    pub k_norm_weightless: bool,
    /// The normed embeddings, scaled by each layer's `out_scale`, added to its output
    /// (talkie.cpp:20, 78-80).
    pub embd_skip: bool,
    /// The temperature scales Q on the layers without RoPE only (llama4.cpp).
    pub attn_temp_nope: bool,
    /// The layer norms' op: `RmsNorm` (`LLM_NORM_RMS`) or `Norm` (`LLM_NORM`: orion).
    pub norm: Op,
    /// A norm before attention and before the FFN (all but [`Family::PostNorm`]).
    pub pre_norm: bool,
    /// A norm after attention and after the FFN (`attn_post_norm`, `ffn_post_norm`).
    pub post_norm: bool,
    /// The attention's post norm before the last layer keeps its output rows (afmoe).
    pub post_norm_before_rows: bool,
    /// The attention's residual added as `residual + attention` (openelm, jamba).
    pub residual_first: bool,
    /// The FFN's residual added as `residual + ffn` (jamba.cpp:183).
    pub ffn_residual_first: bool,
    /// The layer's norm expanded before its mixer (qwen35.cpp:30: `ggml_build_forward_expand`).
    pub expand_norm: bool,
    /// Q made twice as wide, its second half gating the attention output; Q, K and V as
    /// 2-D products (qwen35.cpp:200-262).
    pub gated_q: bool,
    /// Attention without a KV cache over the ubatch's own tokens (`build_attn_inp_no_cache`,
    /// src/llama-graph.cpp:2757-2834: the diffusion models).
    pub no_cache: bool,
    /// Attention gated by a sigmoid of another product of its input (afmoe's `wqkv_gate`).
    pub attn_gate: bool,
    /// The same with one gate per head (spark2_5).
    pub attn_gate_per_head: bool,
    /// The input embeddings scaled (gemma's `sqrt(n_embd)`, `f_embedding_scale`): in place.
    pub embd_scale: bool,
    /// The input embeddings LayerNormed with a weight and a bias (bloom's `tok_norm`).
    pub embd_norm: bool,
    /// The input embeddings RMS-normed without a weight (muse-glimmer.cpp:14).
    pub embd_rms_norm: bool,
    /// Learned position embeddings added to the input (`pos_embd`; no RoPE).
    pub pos_embd: bool,
    /// A second LayerNorm of the layer input feeding attention (falcon's `attn_norm_2`).
    pub attn_norm_2: bool,
    /// Q scaled after RoPE (`ggml_scale`, in place; gemma, phi3).
    pub q_scale: bool,
    /// The position input built (no layer ropes without it).
    pub pos_input: bool,
    /// Positions per token (`n_pos_per_embd`, src/llama-hparams.cpp:285-288): 4 for the
    /// sectioned RoPE (`ggml_rope_multi`), else 1.
    pub pos_per_embd: u64,
    /// The roped Q multiplied by `inp_attn_scale` (`build_inp_attn_scale`, `[1, 1, n_tokens]`
    /// f32; mistral3.cpp with `f_attn_temp_scale` set).
    pub attn_temp: bool,
    /// `output.bias` added to the logits (qwen2.cpp, phi3.cpp).
    pub output_bias: bool,
    /// Norm biases (`attn_norm.bias`, `ffn_norm.bias`, `output_norm.bias`: phi3.cpp).
    pub norm_bias: bool,
    /// The layer and output norms have weights (all but olmo.cpp's).
    pub norm_weight: bool,
    /// The sliding-window cache's cells when the graph is the iSWA form
    /// (`build_attn_inp_kv_iswa`); `None` for one cache.
    pub n_kv_swa: Option<u64>,
    /// The logits soft-capped (`f_final_logit_softcapping`: scale, tanh, scale, in place).
    pub final_softcap: bool,
    /// The logits scaled (`f_logit_scale` set: `ggml_scale`, in place; cohere2.cpp:151-153).
    pub logit_scale: bool,
    /// The last layer computes every token, and the output rows are kept after it
    /// (openai-moe.cpp:117-159 without `embeddings_nextn_masked`).
    pub rows_after_layers: bool,
    /// The same, the output rows kept after the final norm (cohere2moe.cpp:208-270).
    pub rows_after_norm: bool,
    /// No output rows taken: every token goes through the last layer and the head
    /// (cogvlm.cpp builds no `inp_out_ids`).
    pub all_rows: bool,
    /// The final norm's output scaled before the output product (minicpm3).
    pub head_scale: bool,
    /// A DSA graph (`build_attn_inp_k_dsa`, src/llama-graph.cpp:3336-3374): the indexer cache's
    /// index and f16 mask inputs and its `[n, n]` Hadamard rotation, `n` here
    /// (src/llama-kv-cache.cpp:1447-1466).
    pub dsa_rot: Option<u64>,
    /// The latent attention's shared roped key RMS-normed before RoPE, and its output gated per
    /// head by `sigmoid(wqkv_gate · x)` before the output product (dots3note.cpp:331-333,
    /// 375-402).
    pub head_gate: bool,
    /// bailingmoe3.cpp:358-362: the latent attention's output gated per head by
    /// `sigmoid(wqkv_gate · x)` (the sigmoid of a reshaped view: a tensor of its own), made
    /// contiguous before the output product.
    pub mla_gate_cont: bool,
    /// glm5-next's k-pool indexer ([`Family::Glm5Next`]).
    pub glm5: Option<Glm5>,
    /// MiniMax sparse attention on the layers marked [`Layer::msa`] (minimax-m3.cpp:226-235:
    /// flash attention on, one sequence or one stream per sequence).
    pub msa: Option<Msa>,
    /// HRM-Text's stacks and cycles ([`Family::Hrm`]).
    pub hrm: Option<Hrm>,
    /// kimi-k3's `attn_res_block_size` (0: no banked residuals).
    pub res_block: u64,
    /// SiTU activations (kimi-k3.cpp:175-185) in the FFNs and experts, with the up product's
    /// own tanh where `situ_linear_beta` is set.
    pub situ: Option<bool>,
    /// A quantized K cache's Hadamard rotation (`attn_rot_k`, src/llama-kv-cache.cpp:321-324):
    /// the rotation's size, Q and K rotated before the store.
    pub k_rot: Option<u64>,
    /// A quantized V cache's (`attn_rot_v`, :334-337, size 64): V rotated before the store, the
    /// attention's output after.
    pub v_rot: Option<u64>,
    /// KV streams (`--parallel N` without `--kv-unified`), each with `n_kv` cells.
    pub n_stream: u64,
    /// The reserved ubatch's sequences (`n_seq_max`: `graph_reserve` splits the ubatch into
    /// `n_seqs` equal sequences, src/llama-context.cpp:2549-2550): a recurrent layer reads and
    /// writes one state row per sequence over `ub / n_seqs` tokens each.
    pub n_seqs: u64,
    /// The recurrent memory's states (`mem_size` = `n_seq_max`, at least one): `build_rs`
    /// reads `n_seqs` of them and copies the other `n_rs - n_seqs` (src/llama-graph.cpp:
    /// 3525-3543).
    pub n_rs: u64,
    /// `sched_reserve` reserves its last prompt graph with one sequence (kimi-linear,
    /// minimax-01: their decay input grows with the square of the tokens per sequence,
    /// src/llama-context.cpp:712-725); the buffer is the larger of the two.
    pub reserve_one_seq: bool,
    /// hy_v4's hyper-connection streams (`dsv4_hc_mult`, [`Family::HyV4`]).
    pub hy_hc: Option<u64>,
    /// The DSA indexer's queries and key rotated by the Hadamard input (deepseek32.cpp:246-255;
    /// hy-v4.cpp:377-378 skips it).
    pub dsa_hadamard: bool,
    /// hy-v4.cpp:331-336, 486-491: the latent attention's output gated element-wise by
    /// `sigmoid(wqkv_gate · x)` before the output product.
    pub mla_gate_elem: bool,
    pub layers: Vec<Layer>,
}

impl Decoder {
    /// Tokens per sequence of the reserved ubatch.
    pub fn n_seq_tokens(&self) -> u64 {
        self.ub / self.n_seqs.max(1)
    }
}

/// glm5-next's k-pool DSA indexer (glm5-next.cpp:238-351, 766-919) as the reserved graph
/// sizes it: the full memory context (`llama_memory_hybrid_idx_context(mem)`,
/// src/llama-memory-hybrid-idx.cpp:822-839) counts `kv_size / kpool` real pools, all new, and
/// pads them (`kpool_pad`, :706-708) to `max(64, pad(n + 1, 64))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glm5 {
    /// `indexer_n_head`.
    pub n_head: u64,
    /// `indexer_head_size`: one key, one gate and one pooled key of this width per cell.
    pub head_size: u64,
    /// `indexer_kpool`: tokens per pool.
    pub kpool: u64,
    /// `indexer_top_k`.
    pub top_k: u64,
    /// `indexer_kpool_select_tail`: the incomplete tail's `kpool - 1` cells selected too.
    pub select_tail: bool,
    /// The indexer cache's cells (`kv_size`, per stream).
    pub kv_size: u64,
    /// `n_seq_max`: the reserved layout holds `kv_size / kpool` pools per sequence
    /// (src/llama-memory-hybrid-idx.cpp:831-838).
    pub n_seq_max: u64,
}

/// The bytes of the CPU compute buffer llama.cpp reserves for the graph (32-byte alignment,
/// `TENSOR_ALIGNMENT`, ggml/src/ggml-impl.h:44).
pub fn cpu_compute_bytes(d: &Decoder) -> u64 {
    let bytes = graph_bytes(d);
    if d.reserve_one_seq && d.n_seqs > 1 {
        // One sequence of the whole ubatch: one KV stream, every other state copied.
        let one = Decoder {
            n_seqs: 1,
            n_stream: 1,
            ..d.clone()
        };
        bytes.max(graph_bytes(&one))
    } else {
        bytes
    }
}

/// The bytes of one reserved graph (`ggml_gallocr_reserve_n`).
fn graph_bytes(d: &Decoder) -> u64 {
    build(d).reserve(32)
}

/// Where flash attention `auto` resolves on for CUDA with the layers on these devices
/// (`resolve_fused_ops`, src/llama-context.cpp:507-560): `d` is the probe's graph (one token
/// per sequence, flash attention on), placed by the scheduler's first passes
/// ([`Graph::sched_devices`]; the layer norms pinned, a small batch); each `flash_attn_ext` must
/// land on its layer's device (`layer_dev`; the output layer on `output_dev`, every KV cache or
/// state on `cache_dev` of its layer). `None` for the graphs whose layers are not tagged yet.
pub fn cuda_flash_attn_auto(
    d: &Decoder,
    layer_dev: impl Fn(usize) -> Device,
    cache_dev: impl Fn(usize) -> Device,
    output_dev: Device,
) -> Option<bool> {
    if !stages_tagged(d.family) || !d.flash_attn {
        return None;
    }
    let g = build(d);
    let placement = Placement {
        weight: |st: Stage| stage_device(st, &layer_dev, output_dev),
        cache: |st: Stage| stage_device(st, &cache_dev, output_dev),
        gpu_supports: |g: &Graph, t: Id| {
            g.op_of(t) != Op::FlashAttnExt || cuda_runs_flash_attn(g, t)
        },
        pin_norms: true,
    };
    let devs = g.sched_devices(&placement);
    let on_layer = g.nodes_of(Op::FlashAttnExt).all(|t| match g.stage_of(t) {
        Stage::Layer(il) => devs.get(t).copied().flatten().unwrap_or(0) == layer_dev(il as usize),
        _ => true,
    });
    Some(on_layer)
}

/// The CUDA compute buffers of the reserved graphs, one per device (0 the pinned host buffer,
/// 1.. the GPUs): llama.cpp's scheduler places the prompt graph `pp` and the one-token graph
/// `tg` (flash attention as resolved) with the layers on `layer_dev`, their caches on
/// `cache_dev`, the output layer on `output_dev` and `token_embd` in host memory, the GPU taking
/// over the large batches of host weights; each device's buffer is the larger of the two
/// reservations (`sched_reserve` reserves the prompt graph, the one-token graph, the prompt
/// graph again: src/llama-context.cpp:665-732; `ggml_gallocr_reserve_n` never shrinks a buffer).
/// GPU buffers align to 128 bytes (ggml-cuda.cu `ggml_backend_cuda_buffer_type_get_alignment`),
/// the host one to 32. `None` where the graph's layers are not tagged yet, or for a cache type
/// whose flash attention CUDA converts (only f16 caches here).
#[allow(clippy::too_many_arguments)]
pub fn cuda_compute_bytes(
    pp: &Decoder,
    tg: &Decoder,
    weights: &[WeightSize],
    n_gpu: usize,
    layer_dev: impl Fn(usize) -> Device,
    cache_dev: impl Fn(usize) -> Device,
    output_dev: Device,
    full_offload: bool,
) -> Option<Vec<u64>> {
    if !stages_tagged(pp.family) || pp.layers.iter().any(|x| x.msa) {
        return None;
    }
    let mut alignments = vec![128u64; n_gpu.saturating_add(1)];
    if let Some(h) = alignments.first_mut() {
        *h = 32;
    }
    let mut out = vec![0u64; alignments.len()];
    for (d, small) in [(pp, false), (tg, true)] {
        let g = build_with(d, weights.to_vec());
        let placement = Placement {
            weight: |st: Stage| stage_device(st, &layer_dev, output_dev),
            cache: |st: Stage| stage_device(st, &cache_dev, output_dev),
            gpu_supports: |g: &Graph, t: Id| {
                g.cuda_runs(t) && (g.op_of(t) != Op::FlashAttnExt || cuda_runs_flash_attn(g, t))
            },
            pin_norms: small || full_offload,
        };
        for (o, b) in out.iter_mut().zip(g.sched_reserve(&placement, &alignments)) {
            *o = (*o).max(b);
        }
    }
    Some(out)
}

/// The graphs whose builders tag each tensor with its layer ([`Graph::set_stage`]).
fn stages_tagged(f: Family) -> bool {
    matches!(
        f,
        Family::Llama
            | Family::Gemma
            | Family::PostNorm
            | Family::Phi3
            | Family::Parallel(_)
            | Family::FalconH1
            | Family::Minimax01
            | Family::KimiK3
            | Family::Deci
            | Family::HyV4
            | Family::Glm5Next
    )
}

/// The device of what a stage made: the inputs (`token_embd`) on the CPU, a layer's on `dev`, the
/// output layer's on `output_dev`.
fn stage_device(stage: Stage, dev: &dyn Fn(usize) -> Device, output_dev: Device) -> Device {
    match stage {
        Stage::Input => 0,
        Stage::Layer(il) => dev(il as usize),
        Stage::Output => output_dev,
    }
}

/// `ggml_cuda_get_best_fattn_kernel` finds a kernel for these shapes at compute capability 9.0
/// (ggml/src/ggml-cuda/fattn.cu:541-653: the head sizes, the grouped-query ratio the wide heads
/// need with the reserved graph's mask and a KV length padded to 256).
fn cuda_runs_flash_attn(g: &Graph, t: Id) -> bool {
    let src = g.src_of(t);
    let (Some(&q), Some(&k), Some(&v)) = (src.first(), src.get(1), src.get(2)) else {
        return false;
    };
    let (hk, hv) = (g.ne(k)[0], g.ne(v)[0]);
    let gqa = g.ne(q)[2].checked_div(g.ne(k)[2]).unwrap_or(0);
    match hk {
        40 | 64 | 72 | 80 | 96 | 112 | 128 | 256 => hv == hk,
        192 => hv == 128 && gqa >= 2 && gqa % 8 == 0,
        320 => hv == 256 && gqa >= 2 && gqa % 32 == 0,
        512 => hv == 512 && gqa >= 2,
        576 => hv == 512 && gqa >= 2,
        _ => false,
    }
}

/// The reserved graph of a decoder, built as llama.cpp builds it.
fn build(d: &Decoder) -> Graph {
    build_with(d, Vec::new())
}

/// [`build`] with the file's weight sizes ([`Graph::set_weight_sizes`]).
fn build_with(d: &Decoder, weights: Vec<WeightSize>) -> Graph {
    let mut b = Builder::new(d);
    b.g.set_weight_sizes(weights);
    match d.family {
        Family::Phi3 => b.phi3(),
        Family::Llama | Family::Gemma | Family::PostNorm => b.standard(),
        Family::Parallel(style) => b.parallel(style),
        Family::FalconH1 => b.falcon_h1(),
        Family::Deci => b.deci(),
        Family::Glm5Next => {
            if let Some(x) = d.glm5 {
                b.glm5_next(x);
            }
        }
        Family::Hrm => {
            if let Some(x) = d.hrm {
                b.hrm(x);
            }
        }
        Family::Minimax01 => b.minimax01(),
        Family::HyV4 => {
            if let Some(hc) = d.hy_hc {
                b.hy_v4(hc);
            }
        }
        Family::KimiK3 => b.kimi_k3(),
    }
    b.g
}

struct Builder<'d> {
    d: &'d Decoder,
    g: Graph,
    /// `build_inp_pos`, where the graph builds it.
    inp_pos: Option<Id>,
    /// The base cache's and the sliding one's inputs.
    caches: [CacheInputs; 2],
    attn_scale: Option<Id>,
    /// Router logits the layer computed before its FFN (`probs_in`, smallthinker).
    router_logits: Option<Id>,
    /// What gates the attention's output before its output product.
    attn_gate: Option<AttnGate>,
    /// `build_rs_inp` (src/llama-graph.cpp:3548-3569): the state copy indices' views for the
    /// ubatch's sequence and for the other states (none in the reserved graph: one sequence).
    rs_copy: Option<(Id, Id)>,
    /// MiniMax-01's lightning-attention inputs (slopes, Q, K and diagonal decays).
    la: Option<[Id; 4]>,
    /// Each cache's rotation inputs: base K, base V, sliding K, sliding V (`attn_inp_k_rot`,
    /// `attn_inp_v_rot`).
    rot: [Option<Id>; 4],
    /// The no-cache KQ mask (`build_attn_inp_no_cache`), built at its first use.
    no_cache_mask: Option<Id>,
    /// The DSA indexer cache's inputs.
    lid: Option<LidInputs>,
    /// The last full indexer layer's top-k cells (glm-dsa's shared layers reuse them).
    top_k: Option<Id>,
    /// The sparse attention's inputs, shared by its layers.
    msa: Option<MsaInputs>,
}

/// `build_attn_inp_k_dsa_impl`'s inputs of the indexer cache (src/llama-graph.cpp:3352-3363):
/// its store indices, its KQ mask (f16: the fused lightning indexer, `cparams.fused_lid`, is
/// always on, src/llama-context.cpp:237-238) and the `[n, n]` f32 Hadamard rotation.
#[derive(Clone, Copy)]
struct LidInputs {
    k_idxs: Id,
    mask: Id,
    k_rot: Id,
}

/// The inputs of MiniMax sparse attention (minimax-m3.cpp:262-299, and the indexer cache's
/// store indices of `build_attn_inp_kv_msa`, src/llama-graph.cpp:3415-3417).
#[derive(Clone, Copy)]
struct MsaInputs {
    /// The indexer cache's `k_idxs` (I64 `[ub]`).
    k_idxs: Id,
    /// The local-force bias (F32 `[nblk, ub]`).
    bias: Id,
    /// The visibility by position (F32 `[n_ps, ub]`).
    pos_mask: Id,
    /// Position -> cell (I32 `[n_ps, 1]`).
    pos_slot: Id,
    /// Cell -> position block (I32 `[n_kv, 1]`).
    cell_blk: Id,
    /// The KQ mask cast to F32 (`msa_mf`).
    mask_f32: Id,
}

/// The gate of an attention output.
#[derive(Clone, Copy)]
enum AttnGate {
    /// A product of this input, made after attention (afmoe).
    Product(Id),
    /// This tensor (qwen35's gate half of the Q product, made contiguous).
    Ready(Id),
    /// One gate per head, a product of this input (spark2-5.cpp:38-46).
    PerHead(Id),
    /// One gate per head, this tensor (laguna.cpp:248-255).
    ReadyPerHead(Id),
}

/// One cache's graph inputs (`build_input_k_idxs`, `build_input_v_idxs`, the KQ mask) and cells.
#[derive(Clone, Copy)]
struct CacheInputs {
    k_idxs: Id,
    v_idxs: Id,
    mask: Id,
    n_kv: u64,
}

/// glm5-next's hyper-connection streams (`dsv4_hc_mult`, asserted 4: glm5-next.cpp:53).
const HC: u64 = 4;

/// `llm_graph_input_kpool` (glm5-next.cpp:238-288) and the sizes `build_inp_kpool` gives it.
struct Kpool {
    k_idxs: Id,
    pool_cells: Id,
    pool_idxs: Id,
    pool_mask: Id,
    tail_idxs: Id,
    gather_mask: Id,
    new_pool_idxs: Id,
    new_pool_rep: Id,
    /// Padded pools.
    n_pool: u64,
    /// Pools pooled by the ubatch (at least one).
    n_new: u64,
    /// Pools each token selects: `min(n_pool, top_k / kpool)`.
    n_top: u64,
    /// Selected cells: the pools' and the tail's.
    n_sel: u64,
    x: Glm5,
}

/// SiTU (kimi-k3.cpp:175-185, src/llama-graph.cpp:2266-2279):
/// `beta·tanh(gate/beta)·sigmoid(gate)` times the up product (through its own scaled tanh
/// with `linear`); the gate's first scale is a tensor of its own (the sigmoid reads the gate
/// too), every other op in place.
fn situ(g: &mut Graph, gate: Id, up: Id, linear: bool) -> Id {
    let a = g.like(Op::Scale, gate, &[]);
    let a = g.like(Op::Unary, a, &[]);
    let a = g.like(Op::Scale, a, &[]);
    let sig = g.like(Op::Unary, gate, &[]);
    let a = g.like(Op::Mul, a, &[sig]);
    let up = if linear {
        let u = g.like(Op::Scale, up, &[]);
        let u = g.like(Op::Unary, u, &[]);
        g.like(Op::Scale, u, &[])
    } else {
        up
    };
    g.like(Op::Mul, a, &[up])
}

/// Contiguous strides of a `size`-byte element type (saturating: a hostile header's widths).
fn nb(size: u64, [n0, n1, n2, _]: [u64; 4]) -> [u64; 4] {
    let b1 = size.saturating_mul(n0);
    let b2 = b1.saturating_mul(n1);
    [size, b1, b2, b2.saturating_mul(n2)]
}

fn w(g: &mut Graph, ne0: u64, ne1: u64) -> Id {
    g.weight(Ty::F16, [ne0, ne1, 1, 1])
}

impl<'d> Builder<'d> {
    /// The inputs every graph here builds first: `build_inp_embd`, `build_inp_pos`,
    /// `build_attn_inp_kv`, `build_inp_out_ids` (created in that order; placed in the order the
    /// graph first reaches them).
    fn new(d: &'d Decoder) -> Self {
        let mut g = Graph::new();
        let ub = d.ub;
        let v_max = d
            .layers
            .iter()
            .map(|l| l.n_head_kv.saturating_mul(l.head_v))
            .max()
            .unwrap_or(0);
        let inp_pos = d
            .pos_input
            .then(|| g.input(Ty::I32, [ub.saturating_mul(d.pos_per_embd), 1, 1, 1]));
        let attn_scale = d.attn_temp.then(|| g.input(Ty::F32, [1, 1, ub, 1]));
        let mut cache = |n_kv: u64| {
            let k_idxs = g.input(Ty::I64, [ub, 1, 1, 1]);
            // One index per token with flash attention (V stored by rows), else one per
            // element of a transposed V row.
            let v_rows = if d.flash_attn {
                ub
            } else {
                ub.saturating_mul(v_max)
            };
            let v_idxs = g.input(Ty::I64, [v_rows, 1, 1, 1]);
            let mask_ty = if d.flash_attn { Ty::F16 } else { Ty::F32 };
            let mask = g.input(mask_ty, [n_kv, ub, 1, 1]);
            CacheInputs {
                k_idxs,
                v_idxs,
                mask,
                n_kv,
            }
        };
        let base = cache(d.n_kv);
        let swa = d.n_kv_swa.map_or(base, &mut cache);
        let lid = d.dsa_rot.map(|n| LidInputs {
            k_idxs: g.input(Ty::I64, [ub, 1, 1, 1]),
            mask: g.input(Ty::F16, [d.n_kv, ub, 1, 1]),
            k_rot: g.input(Ty::F32, [n, n, 1, 1]),
        });
        Self {
            d,
            g,
            inp_pos,
            caches: [base, swa],
            attn_scale,
            router_logits: None,
            attn_gate: None,
            rs_copy: None,
            la: None,
            rot: [None; 4],
            no_cache_mask: None,
            lid,
            top_k: None,
            msa: None,
        }
    }

    /// `build_inp_embd`: the token rows, and the embeddings input beside them
    /// (`ggml_build_forward_select` visits both).
    fn inp_embd(&mut self) -> Id {
        let d = self.d;
        let tok_embd = w(&mut self.g, d.n_embd, d.n_vocab);
        let tokens = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let embd_in = self.g.input(Ty::F32, [d.n_embd, d.ub, 1, 1]);
        let rows = self.g.op(
            Op::GetRows,
            Ty::F32,
            [d.n_embd, d.ub, 1, 1],
            &[tok_embd, tokens],
        );
        self.g.expand(rows);
        self.g.expand(embd_in);
        rows
    }

    /// `build_norm` with a weight (and a bias).
    fn norm(&mut self, cur: Id, op: Op, bias: bool) -> Id {
        self.norm_with(cur, op, true, bias)
    }

    /// The layer and output norms: [`Decoder::norm`], with a weight unless the graph has none
    /// (olmo.cpp's non-parametric LayerNorm), and [`Decoder::norm_bias`].
    fn layer_norm(&mut self, cur: Id) -> Id {
        let d = self.d;
        self.norm_with(cur, d.norm, d.norm_weight, d.norm_bias)
    }

    fn norm_with(&mut self, cur: Id, op: Op, weight: bool, bias: bool) -> Id {
        let n = self.g.like(op, cur, &[]);
        if !weight {
            return n;
        }
        self.g.mark_norm(n);
        let ne0 = self.g.ne(cur)[0];
        let mw = w(&mut self.g, ne0, 1);
        let mut cur = self.g.like(Op::Mul, n, &[mw]);
        if bias {
            let mb = w(&mut self.g, ne0, 1);
            cur = self.g.like(Op::Add, cur, &[mb]);
        }
        cur
    }

    /// `ggml_mul_mat` by an `[n_in, n_out]` weight, plus its bias.
    fn linear(&mut self, cur: Id, n_out: u64, bias: bool) -> Id {
        let n_in = self.g.ne(cur)[0];
        let wt = w(&mut self.g, n_in, n_out);
        let mut y = self.g.mul_mat(wt, cur);
        if bias {
            let b = w(&mut self.g, n_out, 1);
            y = self.g.like(Op::Add, y, &[b]);
        }
        y
    }

    /// `build_qkv` (the separate path reshaped to heads, or 3-D views of the fused `qkv`), the
    /// Q/K norms, `ggml_rope_ext` on Q and K, and what scales Q after them. Returns Q, K, V and
    /// whether V is a strided view (of the fused product).
    fn qkv_roped(&mut self, cur: Id, l: &Layer, q_scale: bool) -> (Id, Id, Id, bool) {
        let ub = self.d.ub;
        let (n_q, n_k, n_v) = (
            l.n_head.saturating_mul(l.head_k),
            l.n_head_kv.saturating_mul(l.head_k),
            l.n_head_kv.saturating_mul(l.head_v),
        );
        let (q, k, v) = if l.fused_qkv {
            let qkv = self.linear(
                cur,
                n_q.saturating_add(n_k).saturating_add(n_v),
                l.attn_bias[0],
            );
            let row = nb(4, self.g.ne(qkv))[1];
            let view = |g: &mut Graph, head: u64, heads: u64, off: u64| {
                g.view(
                    qkv,
                    [head, heads, ub, 1],
                    [4, 4u64.saturating_mul(head), row, row.saturating_mul(ub)],
                    off.saturating_mul(4),
                )
            };
            let q = view(&mut self.g, l.head_k, l.n_head, 0);
            let k = view(&mut self.g, l.head_k, l.n_head_kv, n_q);
            let v = view(&mut self.g, l.head_v, l.n_head_kv, n_q.saturating_add(n_k));
            (q, k, v)
        } else {
            let q = self.linear(cur, n_q, l.attn_bias[0]);
            let k = self.linear(cur, n_k, l.attn_bias[1]);
            let v = self.linear(cur, n_v, l.attn_bias[2]);
            (
                self.g.reshape(q, [l.head_k, l.n_head, ub, 1]),
                self.g.reshape(k, [l.head_k, l.n_head_kv, ub, 1]),
                self.g.reshape(v, [l.head_v, l.n_head_kv, ub, 1]),
            )
        };
        if let Some(width) = l.early_gate {
            let gate = self.linear(cur, width, false);
            self.attn_gate = Some(if width == l.n_head {
                AttnGate::ReadyPerHead(gate)
            } else {
                AttnGate::Ready(gate)
            });
        }
        let (mut q, mut k) = (q, k);
        let (before, after) = (
            self.d.qk_norm && !self.d.qk_norm_after_rope,
            self.d.qk_norm && self.d.qk_norm_after_rope,
        );
        for (i, x) in [&mut q, &mut k].into_iter().enumerate() {
            if before {
                *x = self.norm(*x, self.d.norm, false);
            }
            if let (true, Some(pos)) = (l.rope, self.inp_pos) {
                *x = self.g.like(Op::Rope, *x, &[pos]);
            }
            // llama4.cpp:180-186: weightless, and on the roped layers only; talkie.cpp:52-53:
            // K's without a weight.
            if after && l.rope {
                *x = if self.d.qk_norm_weightless || (i == 1 && self.d.k_norm_weightless) {
                    self.g.like(Op::RmsNorm, *x, &[])
                } else {
                    self.norm(*x, self.d.norm, false)
                };
            }
        }
        // llama4.cpp:160-162 scales Q by the temperature on the layers without RoPE only.
        if let (Some(scale), true) = (self.attn_scale, !self.d.attn_temp_nope || !l.rope) {
            q = self.g.like(Op::Mul, q, &[scale]);
        }
        if q_scale {
            q = self.g.like(Op::Scale, q, &[]);
        }
        (q, k, v, l.fused_qkv)
    }

    /// What both latent-attention graphs build first (deepseek2.cpp:498-532,
    /// minicpm3.cpp:40-60): Q from its low-rank products (or one `wq`) as heads, and the two
    /// views of the `wkv_a_mqa` product: the compressed KV `[kv_lora, ub]` and the shared roped
    /// part `[n_rot, 1, ub]`, neither normed nor roped yet.
    ///
    /// Also returns the normed low-rank Q (`qr`, which the DSA indexer reads); the DSA graphs
    /// view the 2-D Q product without reshaping it first (deepseek32.cpp:325-338).
    fn mla_inputs(&mut self, cur: Id, l: &Layer, m: Mla) -> (Id, Id, Id, Option<Id>) {
        let (ub, n_head) = (self.d.ub, l.n_head);
        let hk = m.nope.saturating_add(m.rope);
        let (q, qr) = match m.q_lora {
            Some(r) => {
                let q = self.linear(cur, r, false);
                let qr = self.norm(q, Op::RmsNorm, false);
                (self.linear(qr, n_head.saturating_mul(hk), false), Some(qr))
            }
            None => (self.linear(cur, n_head.saturating_mul(hk), false), None),
        };
        let q = if self.d.dsa_rot.is_some() {
            q
        } else {
            self.g.reshape(q, [hk, n_head, ub, 1])
        };
        let kr = m.kv_lora.saturating_add(m.rope);
        let kv_pe = self.linear(cur, kr, false);
        let row = 4u64.saturating_mul(kr);
        let kv_c = self.g.view(
            kv_pe,
            [m.kv_lora, ub, 1, 1],
            [4, row, row.saturating_mul(ub), row.saturating_mul(ub)],
            0,
        );
        let k_pe = self.g.view(
            kv_pe,
            [m.rope, 1, ub, 1],
            [4, row, row, row.saturating_mul(ub)],
            m.kv_lora.saturating_mul(4),
        );
        (q, kv_c, k_pe, qr)
    }

    /// The latent attention decompressed (minicpm3.cpp:40-110, deepseek2.cpp:567-600): Q from
    /// its low-rank products, K's unroped part and V from `wkv_b`, V made contiguous, Q roped
    /// past its unroped part, K the unroped part and the shared roped part repeated per head.
    fn qkv_mla_plain(&mut self, cur: Id, l: &Layer, m: Mla) -> (Id, Id, Id, bool) {
        let (ub, n_head) = (self.d.ub, l.n_head);
        let hk = m.nope.saturating_add(m.rope);
        let (q, kv_c, k_pe, _) = self.mla_inputs(cur, l, m);
        let kv_c = self.norm(kv_c, Op::RmsNorm, false);
        let w = m.nope.saturating_add(m.head_v);
        let kv = self.linear(kv_c, n_head.saturating_mul(w), false);
        let r1 = 4u64.saturating_mul(w);
        let st = [
            4,
            r1,
            r1.saturating_mul(n_head),
            r1.saturating_mul(n_head).saturating_mul(ub),
        ];
        let k_nope = self.g.view(kv, [m.nope, n_head, ub, 1], st, 0);
        let v = self
            .g
            .view(kv, [m.head_v, n_head, ub, 1], st, m.nope.saturating_mul(4));
        let v = self.g.cont(v);
        let pos = self.inp_pos;
        let rope = |g: &mut Graph, x: Id| match pos {
            Some(p) => g.like(Op::Rope, x, &[p]),
            None => x,
        };
        let q = rope(&mut self.g, q);
        let k_pe = rope(&mut self.g, k_pe);
        let rep = self
            .g
            .op(Op::Other, Ty::F32, [m.rope, n_head, ub, 1], &[k_pe]);
        let k = self
            .g
            .op(Op::Concat, Ty::F32, [hk, n_head, ub, 1], &[k_nope, rep]);
        (q, k, v, false)
    }

    /// `build_attn_mha` without flash attention over a V not stored transposed (no cache, or a
    /// latent V viewed from K): KQ, its softmax, V made contiguous transposed, KQV
    /// (src/llama-graph.cpp:2686-2727).
    fn kq_v(&mut self, qp: Id, kp: Id, vp: Id, mask: Id) -> Id {
        let kq = self.g.mul_mat(kp, qp);
        let kq = self.g.like(Op::SoftMax, kq, &[mask]);
        let vt = self.g.transpose(vp);
        let vt = self.g.cont(vt);
        self.g.mul_mat(vt, kq)
    }

    /// `build_attn_mha` over a K-only latent cache with `v_mla` (src/llama-graph.cpp:2640-2740):
    /// flash attention over the latent width, or KQ, its softmax and V (a view of K) made
    /// contiguous transposed; both decompressed by `wv_b`, made contiguous as heads × width.
    fn mla_mha(&mut self, [qp, kp, vp, mask]: [Id; 4], m: Mla, n_head: u64) -> Id {
        let ub = self.d.ub;
        let wv_b = self.g.weight(Ty::F16, [m.kv_lora, m.head_v, n_head, 1]);
        let width = m.head_v.saturating_mul(n_head);
        let out = if self.d.flash_attn {
            let o = self.g.op(
                Op::FlashAttnExt,
                Ty::F32,
                [m.kv_lora, n_head, ub, 1],
                &[qp, kp, vp, mask],
            );
            let o = self.g.permute(o, [0, 2, 1, 3]);
            let o = self.g.mul_mat(wv_b, o);
            let o = self.g.permute(o, [0, 2, 1, 3]);
            let o = self.g.cont(o);
            self.g.reshape(o, [width, ub, 1, 1])
        } else {
            let kqv = self.kq_v(qp, kp, vp, mask);
            let kqv = self.g.mul_mat(wv_b, kqv);
            let p = self.g.permute(kqv, [0, 2, 1, 3]);
            self.g.op(Op::Cont, Ty::F32, [width, ub, 1, 1], &[p])
        };
        self.g.expand(out);
        out
    }

    /// deepseek2.cpp:494-566 with `is_mla`: the compressed KV and its roped part from one
    /// product, Q's unroped part absorbed into the latent space (`wk_b`), Q and K concatenated,
    /// V a view of the K-only cache (`build_attn(llm_graph_input_attn_k *)`,
    /// src/llama-graph.cpp:2981-3032), decompressed by `wv_b` after attention
    /// (`build_attn_mha`'s `v_mla`, 2680-2693 and 2734-2738), then the output product.
    ///
    /// The DSA graphs (deepseek32.cpp:162-400, glm-dsa.cpp:196-444, dots3note.cpp:152-402) run the
    /// lightning indexer on the normed low-rank Q ([`Self::indexer`]) and attend over the
    /// top-k cells it selects (`build_attn(llm_graph_input_attn_k_dsa *)`,
    /// src/llama-graph.cpp:3039-3113, [`Self::dsa_mask`]); dots3note's sliding layers attend
    /// over the sliding cache (its `build_attn_inp_k_dsa_iswa`, 3376-3392), its shared roped
    /// key is normed before RoPE and its output gated per head.
    fn attn_mla(&mut self, cur: Id, l: &Layer, m: Mla) -> Id {
        let d = self.d;
        let (ub, n_head) = (d.ub, l.n_head);
        let hk = m.nope.saturating_add(m.rope);
        let kr = m.kv_lora.saturating_add(m.rope);
        let (q, kv_cmpr, k_pe, qr) = self.mla_inputs(cur, l, m);
        let top_k = match l.dsa {
            Some(Dsa::Indexer(ix)) => {
                self.top_k = self.indexer(cur, qr.unwrap_or(cur), ix);
                self.top_k
            }
            Some(Dsa::Shared) => self.top_k,
            None => None,
        };
        let pos = self.inp_pos;
        let rope = |g: &mut Graph, x: Id| match pos {
            Some(p) => g.like(Op::Rope, x, &[p]),
            None => x,
        };
        // dots3note.cpp:331-333: the shared roped key RMS-normed before RoPE.
        let k_pe = if d.head_gate {
            self.norm(k_pe, Op::RmsNorm, false)
        } else {
            k_pe
        };
        let k_pe = rope(&mut self.g, k_pe);
        let kv_cmpr = self.norm(kv_cmpr, Op::RmsNorm, false);
        let qs = nb(4, [hk, n_head, ub, 1]);
        let q_nope = self.g.view(q, [m.nope, n_head, ub, 1], qs, 0);
        let q_pe = self
            .g
            .view(q, [m.rope, n_head, ub, 1], qs, m.nope.saturating_mul(4));
        let q_pe = rope(&mut self.g, q_pe);
        let q_nope = self.g.permute(q_nope, [0, 2, 1, 3]);
        let wk_b = self.g.weight(Ty::F16, [m.nope, m.kv_lora, n_head, 1]);
        let absorbed = self.g.mul_mat(wk_b, q_nope);
        let absorbed = self.g.permute(absorbed, [0, 2, 1, 3]);
        let mut q_cur = self
            .g
            .op(Op::Concat, Ty::F32, [kr, n_head, ub, 1], &[absorbed, q_pe]);
        let kv3 = self.g.reshape(kv_cmpr, [m.kv_lora, 1, ub, 1]);
        let k_cur = self.g.op(Op::Concat, Ty::F32, [kr, 1, ub, 1], &[kv3, k_pe]);
        let v_cur = kv3;
        if let Some(scale) = self.attn_scale {
            q_cur = self.g.like(Op::Mul, q_cur, &[scale]);
        }
        // build_attn: Q, V, K expanded in that order, K stored.
        self.g.expand(q_cur);
        self.g.expand(v_cur);
        self.g.expand(k_cur);
        let c = if l.swa {
            self.caches[1]
        } else {
            self.caches[0]
        };
        let n_kv = c.n_kv;
        let k_cache = self.g.cache(Ty::F16, [kr, n_kv, 1, 1]);
        let k_rows = self.g.view(k_cur, [kr, ub, 1, 1], nb(4, [kr, ub, 1, 1]), 0);
        let st = self.g.set_rows(k_cache, k_rows, c.k_idxs);
        self.g.expand(st);
        let mask = match top_k {
            Some(t) => self.dsa_mask(c.mask, t, n_kv),
            None => c.mask,
        };
        // One group of the ubatch per KV stream (build_attn_mha, src/llama-graph.cpp:2140-2160):
        // the contiguous copy of the transposed V (`kq_v`) is one per stream.
        let ns = d.n_stream.max(1);
        let per = ub / ns;
        let ks = nb(2, [kr, 1, n_kv, ns]);
        let kk = self.g.view(k_cache, [kr, 1, n_kv, ns], ks, 0);
        let vv = self.g.view(kk, [m.kv_lora, 1, n_kv, ns], ks, 0);
        let q4 = self.g.view(
            q_cur,
            [kr, n_head, per, ns],
            nb(4, [kr, n_head, per, ns]),
            0,
        );
        let qp = self.g.permute(q4, [0, 2, 1, 3]);
        let kp = self.g.permute(kk, [0, 2, 1, 3]);
        let vp = self.g.permute(vv, [0, 2, 1, 3]);
        let out = self.mla_mha([qp, kp, vp, mask], m, n_head);
        if d.mla_gate_elem {
            let gate = self.linear(cur, m.head_v.saturating_mul(n_head), false);
            let sig = self.g.like(Op::Unary, gate, &[]);
            let gated = self.g.like(Op::Mul, out, &[sig]);
            return self.linear(gated, d.n_embd, false);
        }
        if d.mla_gate_cont {
            let gate = self.linear(cur, n_head, false);
            let g3 = self.g.reshape(gate, [1, n_head, ub, 1]);
            let sig = self.g.like(Op::Unary, g3, &[]);
            let a3 = self.g.reshape(out, [m.head_v, n_head, ub, 1]);
            let gated = self.g.like(Op::Mul, a3, &[sig]);
            let flat = self.g.op(
                Op::Cont,
                Ty::F32,
                [m.head_v.saturating_mul(n_head), ub, 1, 1],
                &[gated],
            );
            return self.linear(flat, d.n_embd, false);
        }
        if !d.head_gate {
            return self.linear(out, d.n_embd, false);
        }
        // dots3note.cpp:375-402: `wo` left out of build_attn; the output gated per head by
        // `sigmoid(wqkv_gate · x)` (broadcast over the head), then the output product.
        let gate = self.linear(cur, n_head, false);
        let gate = self.g.like(Op::Unary, gate, &[]);
        let a3 = self.g.reshape(out, [m.head_v, n_head, ub, 1]);
        let g3 = self.g.reshape(gate, [1, n_head, ub, 1]);
        let gated = self.g.like(Op::Mul, a3, &[g3]);
        let gated = self
            .g
            .reshape(gated, [m.head_v.saturating_mul(n_head), ub, 1, 1]);
        self.linear(gated, d.n_embd, false)
    }

    /// The lightning indexer (deepseek32.cpp:226-322): its queries from the normed low-rank Q
    /// and its one key from the layer's input (LayerNormed with a bias), both roped and rotated
    /// by the Hadamard input, the key stored in the indexer cache; the fused
    /// `ggml_lightning_indexer` (ggml.c:6432-6464: `[n_kv, n_tokens]` scores of the cached keys
    /// weighted per head by a scaled product of the input) and the indices of the top
    /// `min(n_kv, indexer_top_k)` scores, made contiguous.
    fn indexer(&mut self, cur: Id, qr: Id, ix: Indexer) -> Option<Id> {
        let lid = self.lid?;
        let ub = self.d.ub;
        let n_kv = self.caches[0].n_kv;
        let pos = self.inp_pos;
        let rope = |g: &mut Graph, x: Id| match pos {
            Some(p) => g.like(Op::Rope, x, &[p]),
            None => x,
        };
        let q = self.linear(qr, ix.n_head.saturating_mul(ix.head), false);
        let q = self.g.reshape(q, [ix.head, ix.n_head, ub, 1]);
        let q = rope(&mut self.g, q);
        let k = self.linear(cur, ix.head, false);
        let k = self.norm(k, Op::Norm, true);
        let k = self.g.reshape(k, [ix.head, 1, ub, 1]);
        let k = rope(&mut self.g, k);
        let (q, k) = if self.d.dsa_hadamard {
            (self.g.mul_mat(lid.k_rot, q), self.g.mul_mat(lid.k_rot, k))
        } else {
            (q, k)
        };
        // cpy_k into the indexer cache, expanded (deepseek32.cpp:257-260).
        let cache = self.g.cache(Ty::F16, [ix.head, n_kv, 1, 1]);
        let k_rows = self
            .g
            .view(k, [ix.head, ub, 1, 1], nb(4, [ix.head, ub, 1, 1]), 0);
        let st = self.g.set_rows(cache, k_rows, lid.k_idxs);
        self.g.expand(st);
        let weights = self.linear(cur, ix.n_head, false);
        let kk = self.g.view(
            cache,
            [ix.head, 1, n_kv, 1],
            nb(2, [ix.head, 1, n_kv, 1]),
            0,
        );
        // One stream: the views of the queries and the weights keep their shapes.
        let q4 = self.g.view(
            q,
            [ix.head, ix.n_head, ub, 1],
            nb(4, [ix.head, ix.n_head, ub, 1]),
            0,
        );
        let w4 = self.g.view(
            weights,
            [ix.n_head, ub, 1, 1],
            nb(4, [ix.n_head, ub, 1, 1]),
            0,
        );
        let w4 = self.g.like(Op::Scale, w4, &[]);
        let score = self.g.op(
            Op::Other,
            Ty::F32,
            [n_kv, ub, 1, 1],
            &[q4, kk, w4, lid.mask],
        );
        let n_top = n_kv.min(ix.top_k);
        let top = self.g.op(Op::Other, Ty::I32, [n_top, ub, 1, 1], &[score]);
        Some(self.g.cont(top))
    }

    /// The KQ mask of a DSA layer (src/llama-graph.cpp:3071-3095): the mask filled with
    /// `-INFINITY`, viewed as rows of one, zeros (a tensor the graph creates, filled) set at the
    /// top-k indices, viewed back and added to the mask.
    fn dsa_mask(&mut self, mask: Id, top_k: Id, n_kv: u64) -> Id {
        let ub = self.d.ub;
        let es: u64 = if self.d.flash_attn { 2 } else { 4 };
        let all = self.g.like(Op::Fill, mask, &[]);
        let row = es.saturating_mul(n_kv);
        let all = self.g.view(
            all,
            [1, n_kv, ub, 1],
            [es, es, row, row.saturating_mul(ub)],
            0,
        );
        let n_top = self.g.ne(top_k)[0];
        let t3 = self
            .g
            .view(top_k, [n_top, ub, 1, 1], nb(4, [n_top, ub, 1, 1]), 0);
        let zeros = self.g.leaf(Ty::F32, [1, n_top, ub, 1]);
        let zeros = self.g.like(Op::Fill, zeros, &[]);
        let set = self.g.set_rows(all, zeros, t3);
        let back = self.g.view(
            set,
            [n_kv, ub, 1, 1],
            [es, row, row.saturating_mul(ub), row.saturating_mul(ub)],
            0,
        );
        self.g.like(Op::Add, back, &[mask])
    }

    /// `build_attn` without a cache (src/llama-graph.cpp:2783-2834): Q, K and V expanded in
    /// that order, attention over the ubatch (`build_attn_mha`, 2616-2755: K and V cast to
    /// f16 for flash attention, else V made contiguous transposed), the output product.
    fn attn_no_cache(&mut self, (q, k, v): (Id, Id, Id), l: &Layer) -> Id {
        let d = self.d;
        let ub = d.ub;
        self.g.expand(q);
        self.g.expand(k);
        self.g.expand(v);
        let g = &mut self.g;
        let mask = *self.no_cache_mask.get_or_insert_with(|| {
            let ty = if d.flash_attn { Ty::F16 } else { Ty::F32 };
            g.input(ty, [ub, ub, 1, 1])
        });
        let qp = self.g.permute(q, [0, 2, 1, 3]);
        let kp = self.g.permute(k, [0, 2, 1, 3]);
        let vp = self.g.permute(v, [0, 2, 1, 3]);
        let width = l.head_v.saturating_mul(l.n_head);
        let cur = if d.flash_attn {
            let k16 = self.g.cast(kp, Ty::F16);
            let v16 = self.g.cast(vp, Ty::F16);
            let o = self.g.op(
                Op::FlashAttnExt,
                Ty::F32,
                [l.head_v, l.n_head, ub, 1],
                &[qp, k16, v16, mask],
            );
            self.g.reshape(o, [width, ub, 1, 1])
        } else {
            let kqv = self.kq_v(qp, kp, vp, mask);
            let p = self.g.permute(kqv, [0, 2, 1, 3]);
            self.g.op(Op::Cont, Ty::F32, [width, ub, 1, 1], &[p])
        };
        self.g.expand(cur);
        self.linear(cur, d.n_embd, l.attn_bias[3])
    }

    /// `build_attn` with a KV cache: the stores into the cache, attention over its cells
    /// (`build_attn_mha`), the output projection.
    fn attn(&mut self, (q, k, v, v_strided): (Id, Id, Id, bool), l: &Layer) -> Id {
        let d = self.d;
        if d.no_cache {
            return self.attn_no_cache((q, k, v), l);
        }
        let c = if l.swa {
            self.caches[1]
        } else {
            self.caches[0]
        };
        let (ub, n_kv, fa) = (d.ub, c.n_kv, d.flash_attn);
        // src/llama-graph.cpp:2883-2890: a quantized cache's rotations.
        let swa = l.swa;
        let (mut q, mut k, mut v, mut v_strided) = (q, k, v, v_strided);
        if let Some(n) = d.k_rot {
            let rot = self.rot_input(swa, false, n);
            q = self.hadamard(q, rot, n);
            k = self.hadamard(k, rot, n);
        }
        let v_rot = d.v_rot.map(|n| (self.rot_input(swa, true, n), n));
        if let Some((rot, n)) = v_rot {
            v = self.hadamard(v, rot, n);
            v_strided = false;
        }
        // "these nodes are added to the graph together so that they are not reordered": Q, V,
        // K with one cache (src/llama-graph.cpp:2897-2899), Q, K, V with two (3146-3154).
        self.g.expand(q);
        if d.n_kv_swa.is_some() {
            self.g.expand(k);
            self.g.expand(v);
        } else {
            self.g.expand(v);
            self.g.expand(k);
        }
        let (gqa_k, gqa_v) = (
            l.n_head_kv.saturating_mul(l.head_k),
            l.n_head_kv.saturating_mul(l.head_v),
        );
        // The cache tensors (their own buffer): K rows, V rows or V transposed.
        let k_cache = self.g.cache(Ty::F16, [gqa_k, n_kv, 1, 1]);
        let v_cache = self.g.cache(Ty::F16, [gqa_v, n_kv, 1, 1]);
        // cpy_k: a 2-D view of the roped K, stored by rows.
        let k_rows = self
            .g
            .view(k, [gqa_k, ub, 1, 1], nb(4, [gqa_k, ub, 1, 1]), 0);
        let st_k = self.g.set_rows(k_cache, k_rows, c.k_idxs);
        self.g.expand(st_k);
        // cpy_v: by rows with flash attention; else one element per row of the flattened cache.
        let st_v = if fa {
            let v_rows = self
                .g
                .view(v, [gqa_v, ub, 1, 1], nb(4, [gqa_v, ub, 1, 1]), 0);
            self.g.set_rows(v_cache, v_rows, c.v_idxs)
        } else {
            // A strided V (a view of the fused product) is made contiguous first.
            let v2 = if v_strided {
                self.g.op(Op::Cont, Ty::F32, [gqa_v, ub, 1, 1], &[v])
            } else {
                self.g.reshape(v, [gqa_v, ub, 1, 1])
            };
            let v_view = self
                .g
                .reshape(v_cache, [1, gqa_v.saturating_mul(n_kv), 1, 1]);
            let v1 = self.g.reshape(v2, [1, gqa_v.saturating_mul(ub), 1, 1]);
            self.g.set_rows(v_view, v1, c.v_idxs)
        };
        self.g.expand(st_v);
        // get_k / get_v: views of the cache (nothing allocated).
        let kk = self.g.view(
            k_cache,
            [l.head_k, l.n_head_kv, n_kv, 1],
            nb(2, [l.head_k, l.n_head_kv, n_kv, 1]),
            0,
        );
        let vv = if fa {
            self.g.view(
                v_cache,
                [l.head_v, l.n_head_kv, n_kv, 1],
                nb(2, [l.head_v, l.n_head_kv, n_kv, 1]),
                0,
            )
        } else {
            self.g.view(
                v_cache,
                [n_kv, l.n_head_kv, l.head_v, 1],
                // nb[1] > nb[2]: V stored transposed.
                {
                    let t = nb(2, [n_kv, l.head_v, l.n_head_kv, 1]);
                    [t[0], t[2], t[1], t[3]]
                },
                0,
            )
        };
        // build_attn_mha: Q as streams (one here), then the three permutes.
        let q4 = self.g.view(
            q,
            [l.head_k, l.n_head, ub, 1],
            nb(4, [l.head_k, l.n_head, ub, 1]),
            0,
        );
        let qp = self.g.permute(q4, [0, 2, 1, 3]);
        let kp = self.g.permute(kk, [0, 2, 1, 3]);
        let vp = self.g.permute(vv, [0, 2, 1, 3]);
        let sinks = l.sinks.then(|| w(&mut self.g, l.n_head, 1));
        let cur = if fa {
            let mut src = vec![qp, kp, vp, c.mask];
            src.extend(sinks);
            let o = self
                .g
                .op(Op::FlashAttnExt, Ty::F32, [l.head_v, l.n_head, ub, 1], &src);
            self.g
                .reshape(o, [l.head_v.saturating_mul(l.n_head), ub, 1, 1])
        } else {
            let kq = self.g.mul_mat(kp, qp);
            let mut src = vec![c.mask];
            src.extend(sinks);
            let kq = self.g.like(Op::SoftMax, kq, &src);
            let kqv = self.g.mul_mat(vp, kq);
            let p = self.g.permute(kqv, [0, 2, 1, 3]);
            self.g.op(
                Op::Cont,
                Ty::F32,
                [l.head_v.saturating_mul(l.n_head), ub, 1, 1],
                &[p],
            )
        };
        self.g.expand(cur);
        // src/llama-graph.cpp:2928-2930: the output rotated back.
        let cur = match v_rot {
            Some((rot, n)) => self.hadamard(cur, rot, n),
            None => cur,
        };
        // afmoe.cpp:152-188: attention gated by `sigmoid(wqkv_gate · x)` before `wo`;
        // qwen35.cpp:258-262 by the sigmoid of the gate half of its Q product.
        let (gate, per_head) = match self.attn_gate.take() {
            Some(AttnGate::Product(x)) => (
                Some(self.linear(x, l.n_head.saturating_mul(l.head_v), false)),
                false,
            ),
            Some(AttnGate::Ready(gate)) => (Some(gate), false),
            Some(AttnGate::PerHead(x)) => (Some(self.linear(x, l.n_head, false)), true),
            Some(AttnGate::ReadyPerHead(gate)) => (Some(gate), true),
            None => (None, false),
        };
        let cur = match gate {
            // spark2-5.cpp:38-46, laguna.cpp:248-255: one gate per head, over the heads.
            Some(gate) if per_head => {
                let sig = self.g.like(Op::Unary, gate, &[]);
                let heads = self.g.reshape(cur, [l.head_v, l.n_head, d.ub, 1]);
                let sig = self.g.reshape(sig, [1, l.n_head, d.ub, 1]);
                let gated = self.g.like(Op::Mul, heads, &[sig]);
                let cur = self
                    .g
                    .reshape(gated, [l.head_v.saturating_mul(l.n_head), d.ub, 1, 1]);
                return self.linear(cur, d.n_embd, false);
            }
            Some(gate) => {
                let sig = self.g.like(Op::Unary, gate, &[]);
                self.g.like(Op::Mul, cur, &[sig])
            }
            None => cur,
        };
        self.linear(cur, d.n_embd, l.attn_bias[3])
    }

    /// `build_ffn` (src/llama-graph.cpp:1762-1961) with a parallel gate
    /// (`ggml_swiglu_split(gate, up)`, `ggml_geglu_split`: the same shapes), or without a gate
    /// (the activations in place: SiLU, GELU, ReLU and its square).
    fn ffn(&mut self, cur: Id, l: &Layer) -> Id {
        if l.ffn_none {
            return self.g.like(Op::Unary, cur, &[]);
        }
        if l.ffn_fused_up {
            let up = self.linear(cur, l.n_ff.saturating_mul(2), l.ffn_bias[0]);
            let act = self
                .g
                .op(Op::Glu, Ty::F32, [l.n_ff, self.d.ub, 1, 1], &[up]);
            return self.linear(act, self.d.n_embd, l.ffn_bias[2]);
        }
        let up = self.linear(cur, l.n_ff, l.ffn_bias[0]);
        let act = if l.ffn_gate {
            let gate = self.linear(cur, l.n_ff, l.ffn_bias[1]);
            self.swiglu(gate, up, l.ffn_clamp)
        } else {
            self.g.like(Op::Unary, up, &[])
        };
        self.linear(act, self.d.n_embd, l.ffn_bias[2])
    }

    /// A cache's rotation input (`build_input_k_rot`, `build_input_v_rot`,
    /// src/llama-kv-cache.cpp:1447-1486): `[n, n]` f32, one per cache and kind.
    fn rot_input(&mut self, swa: bool, v: bool, n: u64) -> Id {
        let g = &mut self.g;
        match self.rot.get_mut(usize::from(swa) * 2 + usize::from(v)) {
            Some(slot) => *slot.get_or_insert_with(|| g.input(Ty::F32, [n, n, 1, 1])),
            None => g.input(Ty::F32, [n, n, 1, 1]),
        }
    }

    /// `llama_mul_mat_hadamard` (src/llama-impl.h:57-75): `cur` as rows of `n` (made contiguous
    /// first when it is not), times the rotation, viewed back in its shape.
    fn hadamard(&mut self, cur: Id, rot: Id, n: u64) -> Id {
        let ne = self.g.ne(cur);
        let rows = ne
            .iter()
            .fold(1u64, |a, &e| a.saturating_mul(e))
            .checked_div(n)
            .unwrap_or(0);
        let flat = if self.g.is_contiguous(cur) {
            self.g.reshape(cur, [n, rows, 1, 1])
        } else {
            self.g.op(Op::Cont, Ty::F32, [n, rows, 1, 1], &[cur])
        };
        let prod = self.g.mul_mat(rot, flat);
        self.g.reshape(prod, ne)
    }

    /// The SiLU-gated product of `gate` and `up`: `ggml_swiglu_split`, or, clamped, the
    /// clamped up times the clamped SiLU of the gate (src/llama-graph.cpp:1841-1866,
    /// 2236-2258: each op in place).
    fn swiglu(&mut self, gate: Id, up: Id, clamp: bool) -> Id {
        if let Some(linear) = self.d.situ {
            return situ(&mut self.g, gate, up, linear);
        }
        if !clamp {
            return self.g.like(Op::Glu, gate, &[up]);
        }
        let up = self.g.like(Op::Clamp, up, &[]);
        let act = self.g.like(Op::Unary, gate, &[]);
        let act = self.g.like(Op::Clamp, act, &[]);
        self.g.like(Op::Mul, act, &[up])
    }

    /// The layer's routed experts where it has them, else its dense FFN.
    fn ffn_or_moe(&mut self, cur: Id, l: &Layer) -> Id {
        match &l.moe {
            // grok.cpp:158-184: a dense FFN beside the experts, `(ffn + moe) * sqrt(2)/2`.
            Some(m) if m.dense_beside => {
                let moe = self.moe(cur, m);
                let f = self.ffn(cur, l);
                let sum = self.g.like(Op::Add, f, &[moe]);
                self.g.like(Op::Scale, sum, &[])
            }
            // grovemoe.cpp:133-171: the router logits once, read by both banks.
            Some(
                m @ Moe {
                    grove: Some(gr), ..
                },
            ) if !gr.chunk_call => {
                let gr = *gr;
                let gate_inp = self.g.weight(Ty::F16, [self.d.n_embd, m.n_expert, 1, 1]);
                let logits = self.g.mul_mat(gate_inp, cur);
                self.router_logits = Some(logits);
                let routed = self.moe(cur, m);
                self.router_logits = Some(logits);
                let chunk = Moe {
                    n_expert: gr.n_chunk,
                    n_used: m.n_used.min(gr.n_chunk),
                    n_ff: gr.n_ff,
                    grove: Some(Grove {
                        chunk_call: true,
                        ..gr
                    }),
                    ..m.clone()
                };
                let adj = self.moe(routed, &chunk);
                let scaled = self.g.like(Op::Scale, adj, &[]);
                self.g.like(Op::Add, routed, &[scaled])
            }
            Some(m) => self.moe(cur, m),
            None => self.ffn(cur, l),
        }
    }

    /// `build_moe_ffn` (src/llama-graph.cpp:2007-2374): router logits (and bias), the gating
    /// op, the top `n_used` by `ggml_argsort_top_k` (an argsort and a view) of the (biased)
    /// probabilities, the selected weights (row lookups; a softmax over them, normalised by
    /// their sum, scaled), the experts' products (`ggml_mul_mat_id`, fused or not, with biases),
    /// weighted, and the sum of the `n_used` per-expert views; a shared expert beside them.
    fn moe(&mut self, cur: Id, m: &Moe) -> Id {
        let first = match m.shared {
            Some(sh) if sh.first => Some(self.shared(cur, sh)),
            _ => None,
        };
        // The experts' input width: `n_embd`, or kimi-k3's latent width.
        let (n_embd, ub) = (self.g.ne(cur)[0], self.d.ub);
        let probs_in = self.router_logits.take();
        let g = &mut self.g;
        let mut logits = match probs_in {
            Some(p) => p,
            None => {
                let gate_inp = g.weight(Ty::F16, [n_embd, m.n_expert, 1, 1]);
                g.mul_mat(gate_inp, cur)
            }
        };
        if m.router_bias {
            let b = g.weight(Ty::F32, [m.n_expert, 1, 1, 1]);
            logits = g.like(Op::Add, logits, &[b]);
        }
        let probs = match m.gating {
            Gating::Softmax => g.like(Op::SoftMax, logits, &[]),
            Gating::Sigmoid => g.like(Op::Unary, logits, &[]),
            Gating::SoftmaxWeight => logits,
        };
        let selection = if m.llama4 {
            logits
        } else if m.probs_bias {
            let b = g.weight(Ty::F32, [m.n_expert, 1, 1, 1]);
            g.like(Op::Add, probs, &[b])
        } else {
            probs
        };
        let selection = if m.grove.is_some() {
            g.like(Op::Unary, logits, &[])
        } else {
            selection
        };
        // The logits' rows: every expert's, also where the chunk bank selects (GroveMoE).
        let n_rows = g.ne(logits)[0];
        // The groups ranked by the sum of their two best scores, the others filled with -inf.
        let selection = match m.groups {
            Some((n_groups, n_used_groups)) => {
                let per = m.n_expert / n_groups.max(1);
                let groups = g.reshape(selection, [per, n_groups, ub, 1]);
                let order = g.op(Op::Other, Ty::I32, [per, n_groups, ub, 1], &[groups]);
                let top2 = g.view(
                    order,
                    [2, n_groups, ub, 1],
                    nb(4, [per, n_groups, ub, 1]),
                    0,
                );
                let rows = g.reshape(groups, [1, per, n_groups, ub]);
                let scores = g.op(Op::GetRows, Ty::F32, [1, 2, n_groups, ub], &[rows, top2]);
                let scores = g.reshape(scores, [2, n_groups, ub, 1]);
                let sums = g.op(Op::Other, Ty::F32, [1, n_groups, ub, 1], &[scores]);
                let sums = g.reshape(sums, [n_groups, ub, 1, 1]);
                let order = g.op(Op::Other, Ty::I32, [n_groups, ub, 1, 1], &[sums]);
                let best = g.view(
                    order,
                    [n_used_groups, ub, 1, 1],
                    nb(4, [n_groups, ub, 1, 1]),
                    0,
                );
                let kept = g.op(
                    Op::GetRows,
                    Ty::F32,
                    [per, n_used_groups, ub, 1],
                    &[groups, best],
                );
                let filled = g.like(Op::Fill, groups, &[]);
                let masked = g.set_rows(filled, kept, best);
                g.reshape(masked, [m.n_expert, ub, 1, 1])
            }
            None => selection,
        };
        let order = g.op(Op::Other, Ty::I32, [n_rows, ub, 1, 1], &[selection]);
        let mut selected = g.view(order, [m.n_used, ub, 1, 1], nb(4, [n_rows, ub, 1, 1]), 0);
        if m.grove.is_some_and(|gr| gr.chunk_call) && m.n_expert != n_rows {
            let f = g.op(Op::Other, Ty::F32, [m.n_used, ub, 1, 1], &[selected]);
            let f = g.like(Op::Scale, f, &[]);
            selected = g.op(Op::Other, Ty::I32, [m.n_used, ub, 1, 1], &[f]);
        }
        let probs3 = g.reshape(probs, [1, n_rows, ub, 1]);
        let mut weights = g.op(
            Op::GetRows,
            Ty::F32,
            [1, m.n_used, ub, 1],
            &[probs3, selected],
        );
        if m.gating == Gating::SoftmaxWeight {
            let w2 = g.reshape(weights, [m.n_used, ub, 1, 1]);
            let sm = g.like(Op::SoftMax, w2, &[]);
            weights = g.reshape(sm, [1, m.n_used, ub, 1]);
        }
        if m.norm_w {
            let w2 = g.reshape(weights, [m.n_used, ub, 1, 1]);
            let sum = g.op(Op::Other, Ty::F32, [1, ub, 1, 1], &[w2]);
            let sum = g.like(Op::Clamp, sum, &[]);
            let div = g.like(Op::Div, w2, &[sum]);
            weights = g.reshape(div, [1, m.n_used, ub, 1]);
        }
        if m.scale {
            weights = g.like(Op::Scale, weights, &[]);
        }
        g.expand(weights);
        let mut cur3 = g.reshape(cur, [n_embd, 1, ub, 1]);
        if m.llama4 {
            let rep = g.op(Op::Other, Ty::F32, [n_embd, m.n_used, ub, 1], &[cur3]);
            cur3 = g.like(Op::Mul, rep, &[weights]);
        }
        // `build_lora_mm_id` and, with a bias, `ggml_add_id` (an in-place-able add).
        let mm_id = |g: &mut Graph, rows: u64, cols: u64, x: Id, bias: bool| {
            let a = g.weight(Ty::F16, [cols, rows, m.n_expert, 1]);
            let y = g.op(
                Op::MulMatId,
                Ty::F32,
                [rows, m.n_used, ub, 1],
                &[a, x, selected],
            );
            if bias {
                let b = g.weight(Ty::F32, [rows, m.n_expert, 1, 1]);
                g.like(Op::Add, y, &[b, selected])
            } else {
                y
            }
        };
        let act = if m.fused_gate_up {
            let gu = mm_id(g, m.n_ff.saturating_mul(2), n_embd, cur3, m.exps_bias[0]);
            let row = nb(4, g.ne(gu));
            let st = [4, row[1], row[2], row[3]];
            let gate = g.view(gu, [m.n_ff, m.n_used, ub, 1], st, 0);
            let up = g.view(gu, [m.n_ff, m.n_used, ub, 1], st, m.n_ff.saturating_mul(4));
            g.op(Op::Glu, Ty::F32, [m.n_ff, m.n_used, ub, 1], &[gate, up])
        } else {
            let up = mm_id(g, m.n_ff, n_embd, cur3, m.exps_bias[0]);
            if m.gate {
                let gate = mm_id(g, m.n_ff, n_embd, cur3, m.exps_bias[1]);
                if let Some(linear) = self.d.situ {
                    situ(g, gate, up, linear)
                } else if m.clamp {
                    // src/llama-graph.cpp:2236-2258 (each op in place).
                    let up = g.like(Op::Clamp, up, &[]);
                    let act = g.like(Op::Unary, gate, &[]);
                    let act = g.like(Op::Clamp, act, &[]);
                    g.like(Op::Mul, act, &[up])
                } else {
                    g.like(Op::Glu, gate, &[up])
                }
            } else {
                g.like(Op::Unary, up, &[])
            }
        };
        let mut experts = mm_id(g, n_embd, m.n_ff, act, m.exps_bias[2]);
        if !m.llama4 {
            experts = g.like(Op::Mul, experts, &[weights]);
        }
        g.expand(experts);
        let row = nb(4, [n_embd, m.n_used, ub, 1]);
        let mut out = None;
        for i in 0..m.n_used {
            let v = g.view(
                experts,
                [n_embd, ub, 1, 1],
                [4, row[2], row[3], row[3]],
                i.saturating_mul(row[1]),
            );
            g.expand(v);
            let sum = match out {
                None => v,
                Some(o) => {
                    let a = g.like(Op::Add, o, &[v]);
                    g.expand(a);
                    a
                }
            };
            out = Some(sum);
        }
        let out = out.unwrap_or(experts);
        let out = if m.n_used == 1 { g.cont(out) } else { out };
        match (m.shared, first) {
            (Some(_), Some(sh)) => self.g.like(Op::Add, out, &[sh]),
            (Some(sh), None) => {
                let s = self.shared(cur, sh);
                let sum = self.g.like(Op::Add, out, &[s]);
                if sh.half {
                    self.g.like(Op::Scale, sum, &[])
                } else {
                    sum
                }
            }
            _ => out,
        }
    }

    /// A shared expert (`build_ffn` with the `_shexp` products, SiLU, parallel gate), and its
    /// sigmoid gate where the graph has one.
    fn shared(&mut self, cur: Id, sh: Shared) -> Id {
        let up = self.linear(cur, sh.n_ff, false);
        let act = if sh.gate {
            let gate = self.linear(cur, sh.n_ff, false);
            self.swiglu(gate, up, sh.clamp)
        } else {
            self.g.like(Op::Unary, up, &[])
        };
        let out = self.linear(act, self.d.n_embd, false);
        if !sh.sigmoid_gate {
            return out;
        }
        let g_inp = self.linear(cur, 1, false);
        let silu = self.g.like(Op::Unary, g_inp, &[]);
        let sig = if sh.plain_sigmoid {
            silu
        } else {
            self.g.like(Op::Div, silu, &[g_inp])
        };
        self.g.like(Op::Mul, out, &[sig])
    }

    /// The sparse attention's inputs, created with the first layer that reads them (their
    /// place in the graph is where it first reaches them).
    fn msa_inputs(&mut self, m: Msa) -> MsaInputs {
        if let Some(x) = self.msa {
            return x;
        }
        let (ub, c) = (self.d.ub, self.caches[0]);
        let g = &mut self.g;
        let x = MsaInputs {
            k_idxs: g.input(Ty::I64, [ub, 1, 1, 1]),
            bias: g.input(Ty::F32, [m.n_ps / m.blk.max(1), ub, 1, 1]),
            pos_mask: g.input(Ty::F32, [m.n_ps, ub, 1, 1]),
            pos_slot: g.input(Ty::I32, [m.n_ps, 1, 1, 1]),
            cell_blk: g.input(Ty::I32, [c.n_kv, 1, 1, 1]),
            mask_f32: g.cast(c.mask, Ty::F32),
        };
        self.msa = Some(x);
        x
    }

    /// A sparse layer of minimax-m3.cpp (337-536) in its batch form (the reserved ubatch has
    /// `ub` tokens of one stream, minimax-m3.cpp:449-528): the indexer's Q and K products,
    /// per-head RMS-normed and roped, K stored in the indexer cache; Q, K and V stored; block
    /// scores (the cached indexer keys gathered by position, a product with the indexer
    /// queries, masked, max-pooled per block, biased), the top `top_k` blocks made a block
    /// mask, spread over the cells and added to the KQ mask; one flash attention with the
    /// query groups on its fourth axis (`build_attn_msa_fa`, 176-217); the output product.
    fn attn_msa(&mut self, cur: Id, l: &Layer) -> Id {
        let d = self.d;
        let Some(m) = d.msa else {
            let qkv = self.qkv_roped(cur, l, d.q_scale);
            return self.attn(qkv, l);
        };
        let (ub, dh, hkv) = (d.ub, l.head_k, l.n_head_kv);
        let (q, k, v, _) = self.qkv_roped(cur, l, false);
        // The indexer (minimax-m3.cpp:341-354).
        let iq = self.linear(cur, m.heads.saturating_mul(m.dim), false);
        let ik = self.linear(cur, m.dim, false);
        let iq = self.g.reshape(iq, [m.dim, m.heads, ub, 1]);
        let ik = self.g.reshape(ik, [m.dim, 1, ub, 1]);
        let mut iq = self.norm(iq, Op::RmsNorm, false);
        let mut ik = self.norm(ik, Op::RmsNorm, false);
        if let Some(pos) = self.inp_pos {
            iq = self.g.like(Op::Rope, iq, &[pos]);
            ik = self.g.like(Op::Rope, ik, &[pos]);
        }
        let mi = self.msa_inputs(m);
        let c = self.caches[0];
        let n_kv = c.n_kv;
        // :358: the indexer key stored (`cpy_k`: a 2-D view, by rows).
        let idx_cache = self.g.cache(Ty::F16, [m.dim, n_kv, 1, 1]);
        let ik_rows = self
            .g
            .view(ik, [m.dim, ub, 1, 1], nb(4, [m.dim, ub, 1, 1]), 0);
        let st = self.g.set_rows(idx_cache, ik_rows, mi.k_idxs);
        self.g.expand(st);
        let ik_kv = self.g.view(
            idx_cache,
            [m.dim, 1, n_kv, 1],
            nb(2, [m.dim, 1, n_kv, 1]),
            0,
        );
        // :369-376: Q, K, V expanded in that order, K and V stored by rows (V not transposed).
        self.g.expand(q);
        self.g.expand(k);
        self.g.expand(v);
        let (gqa_k, gqa_v) = (hkv.saturating_mul(dh), hkv.saturating_mul(l.head_v));
        let k_cache = self.g.cache(Ty::F16, [gqa_k, n_kv, 1, 1]);
        let v_cache = self.g.cache(Ty::F16, [gqa_v, n_kv, 1, 1]);
        let k_rows = self
            .g
            .view(k, [gqa_k, ub, 1, 1], nb(4, [gqa_k, ub, 1, 1]), 0);
        let st_k = self.g.set_rows(k_cache, k_rows, c.k_idxs);
        self.g.expand(st_k);
        let v_rows = self
            .g
            .view(v, [gqa_v, ub, 1, 1], nb(4, [gqa_v, ub, 1, 1]), 0);
        let st_v = self.g.set_rows(v_cache, v_rows, c.v_idxs);
        self.g.expand(st_v);
        let kk = self
            .g
            .view(k_cache, [dh, hkv, n_kv, 1], nb(2, [dh, hkv, n_kv, 1]), 0);
        let vv = self.g.view(
            v_cache,
            [l.head_v, hkv, n_kv, 1],
            nb(2, [l.head_v, hkv, n_kv, 1]),
            0,
        );
        // :451-470: the one stream's views.
        let (n_ps, nblk, hd) = (m.n_ps, m.n_ps / m.blk.max(1), m.heads);
        let iq_s = self
            .g
            .view(iq, [m.dim, hd, ub, 1], nb(4, [m.dim, hd, ub, 1]), 0);
        let ik_s = self
            .g
            .view(ik_kv, [m.dim, n_kv, 1, 1], nb(2, [m.dim, n_kv, 1, 1]), 0);
        let psl_s = self
            .g
            .view(mi.pos_slot, [n_ps, 1, 1, 1], nb(4, [n_ps, 1, 1, 1]), 0);
        let pm_s = self.token_rows(mi.pos_mask, n_ps);
        let cb_s = self
            .g
            .view(mi.cell_blk, [n_kv, 1, 1, 1], nb(4, [n_kv, 1, 1, 1]), 0);
        let mf_nb = nb(4, [n_kv, ub, 1, 1]);
        let mf_s = self.g.view(
            mi.mask_f32,
            [n_kv, ub, 1, 1],
            [4, mf_nb[1], mf_nb[3], mf_nb[3]],
            0,
        );
        let bias_s = self.token_rows(mi.bias, nblk);
        let q_s = self
            .g
            .view(q, [dh, l.n_head, ub, 1], nb(4, [dh, l.n_head, ub, 1]), 0);
        let k_s = self
            .g
            .view(kk, [dh, hkv, n_kv, 1], nb(2, [dh, hkv, n_kv, 1]), 0);
        let v_s = self.g.view(
            vv,
            [l.head_v, hkv, n_kv, 1],
            nb(2, [l.head_v, hkv, n_kv, 1]),
            0,
        );
        // :472-486: block scores, masked in place, max-pooled, biased.
        let g = &mut self.g;
        let ikp = g.op(Op::GetRows, Ty::F32, [m.dim, n_ps, 1, 1], &[ik_s, psl_s]);
        let hd_ub = hd.saturating_mul(ub);
        let iq2 = g.reshape(iq_s, [m.dim, hd_ub, 1, 1]);
        let sc = g.mul_mat(ikp, iq2);
        let sc = g.reshape(sc, [n_ps, hd, ub, 1]);
        let sc = g.inplace(Op::Add, sc, &[pm_s]);
        let bs = g.op(Op::Pool2d, Ty::F32, [nblk, hd, ub, 1], &[sc]);
        let bsf = g.like(Op::Add, bs, &[bias_s]);
        // :490-504: the top blocks, a block mask of -1e30 with zeros at them (`ggml_top_k`,
        // ggml.c:5468-5480; `ggml_set_rows` a view of the repeated -1e30s).
        let idx = g.op(Op::Other, Ty::I32, [m.top_k, hd, ub, 1], &[bsf]);
        let ninf = g.like(Op::Scale, bias_s, &[]);
        let ninf = g.cast(ninf, Ty::F16);
        let ninf = g.op(Op::Other, Ty::F16, [nblk, hd, ub, 1], &[ninf]);
        let zero = g.cast(idx, Ty::F32);
        let zero = g.like(Op::Scale, zero, &[]);
        let a = g.reshape(ninf, [1, nblk, hd_ub, 1]);
        let b = g.reshape(zero, [1, m.top_k, hd_ub, 1]);
        let ix = g.reshape(idx, [m.top_k, hd_ub, 1, 1]);
        let bm = g.set_rows(a, b, ix);
        let bm = g.reshape(bm, [nblk, hd, ub, 1]);
        let bm = g.permute(bm, [0, 2, 1, 3]);
        let bm = g.cont(bm);
        // :506-516: spread over the cells by their position blocks, the causal mask added in
        // place, cast to F16 with the groups on the fourth axis.
        let bm = g.reshape(bm, [nblk, hd_ub, 1, 1]);
        let bm2 = g.transpose(bm);
        let bm2 = g.cont(bm2);
        let bmc = g.op(Op::GetRows, Ty::F32, [hd_ub, n_kv, 1, 1], &[bm2, cb_s]);
        let bmx = g.transpose(bmc);
        let bmx = g.cont(bmx);
        let bmx = g.reshape(bmx, [n_kv, ub, hd, 1]);
        let mask4 = g.inplace(Op::Add, bmx, &[mf_s]);
        let mask4 = g.reshape(mask4, [n_kv, ub, 1, hd]);
        let mask4 = g.cast(mask4, Ty::F16);
        // :519-522, 176-217: the cache views with the groups on the fourth axis; Q as
        // `[D, R, Gp, C]` (C the KV heads, R the tokens); the output back to `[D, Gp, C, R]`,
        // copied where that is not contiguous (C and R both above 1).
        let kfa = g.permute(k_s, [0, 3, 1, 2]);
        let vfa = g.permute(v_s, [0, 3, 1, 2]);
        let gp = l.n_head / hkv.max(1);
        let q4 = g.reshape(q_s, [dh, gp, hkv, ub]);
        let q4 = g.permute(q4, [0, 2, 3, 1]);
        let o = g.op(
            Op::FlashAttnExt,
            Ty::F32,
            [l.head_v, gp, ub, hkv],
            &[q4, kfa, vfa, mask4],
        );
        let o = g.permute(o, [0, 1, 3, 2]);
        let o = if hkv != 1 && ub != 1 { g.cont(o) } else { o };
        let o = g.reshape(o, [l.head_v.saturating_mul(l.n_head), ub, 1, 1]);
        // :533-535: `wo` without a bias.
        self.linear(o, d.n_embd, false)
    }

    /// `build_rs` (src/llama-graph.cpp:3512-3546) over one recurrent state of `width` f32 per
    /// sequence: the zeroed state (an in-place scale of a view: nothing allocated), the
    /// sequence's state read by `read` (the states and the copy indices), and the other
    /// states' rows copied back (none here).
    fn build_rs(&mut self, width: u64, read: impl FnOnce(&mut Self, Id, Id) -> Id) -> Id {
        // `n_rs` states (`mem_size`), the ubatch's `n_seqs` read through the main view and the
        // others copied through the extra one (src/llama-graph.cpp:3548-3569); the head is 0.
        let (ns, n_rs) = (self.d.n_seqs, self.d.n_rs.max(self.d.n_seqs));
        let rest = n_rs - ns;
        let g = &mut self.g;
        let (main, extra) = *self.rs_copy.get_or_insert_with(|| {
            let s_copy = g.input(Ty::I32, [n_rs, 1, 1, 1]);
            (
                g.view(s_copy, [ns, 1, 1, 1], nb(4, [ns, 1, 1, 1]), 0),
                g.view(
                    s_copy,
                    [rest, 1, 1, 1],
                    nb(4, [rest, 1, 1, 1]),
                    ns.saturating_mul(4),
                ),
            )
        });
        let s = self.g.cache(Ty::F32, [width, n_rs, 1, 1]);
        let states = self.g.reshape(s, [width, n_rs, 1, 1]);
        let zero = self
            .g
            .view(states, [width, 1, 1, 1], nb(4, [width, 1, 1, 1]), 0);
        let zero = self
            .g
            .view(zero, [width, 1, 1, 1], nb(4, [width, 1, 1, 1]), 0);
        self.g.expand(zero);
        let out = read(self, states, main);
        self.g.expand(out);
        let rows = self
            .g
            .op(Op::GetRows, Ty::F32, [width, rest, 1, 1], &[states, extra]);
        let dst = self.g.view(
            s,
            [width, rest, 1, 1],
            nb(4, [width, rest, 1, 1]),
            width.saturating_mul(4).saturating_mul(ns),
        );
        let st = self.g.cpy_into(rows, dst);
        self.g.expand(st);
        out
    }

    /// [`Self::build_rs`] of `width`-wide states read as rows, `[width, n_seqs]`.
    fn rs_rows(&mut self, width: u64) -> Id {
        let ns = self.d.n_seqs;
        self.build_rs(width, |b, states, ids| {
            b.g.op(Op::GetRows, Ty::F32, [width, ns, 1, 1], &[states, ids])
        })
    }

    /// qwen35.cpp:195-250: Q twice as wide as its heads (`build_qkv` without reshaping), its
    /// first halves RMS-normed as Q, its second halves the gate (made contiguous, applied in
    /// [`Self::attn`]); K normed; the sectioned RoPE on Q and K.
    fn qkv_gated(&mut self, cur: Id, l: &Layer) -> (Id, Id, Id, bool) {
        let (ub, hd, nh) = (self.d.ub, l.head_k, l.n_head);
        let q_full = self.linear(cur, hd.saturating_mul(nh).saturating_mul(2), false);
        let k = self.linear(cur, hd.saturating_mul(l.n_head_kv), false);
        let v = self.linear(cur, l.head_v.saturating_mul(l.n_head_kv), false);
        let half = |g: &mut Graph, off: u64| {
            g.view(
                q_full,
                [hd, nh, ub, 1],
                [
                    4,
                    hd.saturating_mul(8),
                    hd.saturating_mul(8).saturating_mul(nh),
                    hd.saturating_mul(8).saturating_mul(nh).saturating_mul(ub),
                ],
                off,
            )
        };
        let q = half(&mut self.g, 0);
        let mut q = self.norm(q, Op::RmsNorm, false);
        let k = self.g.reshape(k, [hd, l.n_head_kv, ub, 1]);
        let mut k = self.norm(k, Op::RmsNorm, false);
        let gate = half(&mut self.g, hd.saturating_mul(4));
        let gate = self.g.op(
            Op::Cont,
            Ty::F32,
            [hd.saturating_mul(nh), ub, 1, 1],
            &[gate],
        );
        self.attn_gate = Some(AttnGate::Ready(gate));
        let v = self.g.reshape(v, [l.head_v, l.n_head_kv, ub, 1]);
        if let Some(pos) = self.inp_pos {
            q = self.g.like(Op::Rope, q, &[pos]);
            k = self.g.like(Op::Rope, k, &[pos]);
        }
        (q, k, v, false)
    }

    /// qwen35.cpp:265-400 (`build_layer_attn_linear`) with the fused gated delta net that
    /// llama.cpp's CPU backend resolves (`resolve_fused_ops`, src/llama-context.cpp:506-566;
    /// `build_delta_net_fused`, delta-net-base.cpp:373-423): the mixed QKV, z, beta and alpha
    /// products, the convolution over the stored columns (`build_conv_state`, :449-525), the
    /// state read (`build_rs`), Q and K L2-normed, the delta net (its final state stored back,
    /// `build_recurrent_attn` :527-560), the norm gated by `silu(z)`, the output product.
    fn gdn(&mut self, cur: Id, g: Gdn) -> Id {
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let (s_k, h_k, h_v) = (g.head_k, g.n_k_heads, g.n_v_heads);
        let s_v = g.d_inner / h_v.max(1);
        let conv_ch = g
            .d_inner
            .saturating_add(h_k.saturating_mul(s_k).saturating_mul(2));
        let d_conv1 = g.d_conv.saturating_sub(1);
        let n_embd_r = d_conv1.saturating_mul(conv_ch);
        let n_embd_s = s_v.saturating_mul(s_v).saturating_mul(h_v);
        let qkv = self.linear(cur, conv_ch, false);
        let qkv = self.g.reshape(qkv, [conv_ch, nst, ns, 1]);
        let z = self.linear(cur, g.d_inner, false);
        let (beta, alpha) = if g.qwen3next {
            let r = h_v / h_k.max(1);
            let ba = self.linear(cur, h_v.saturating_mul(2), false);
            let ba = self.g.reshape(ba, [r.saturating_mul(2), h_k, nst, ns]);
            let ba_nb = nb(4, self.g.ne(ba));
            let b = self.g.view(ba, [r, h_k, nst, ns], ba_nb, 0);
            let a = self
                .g
                .view(ba, [r, h_k, nst, ns], ba_nb, r.saturating_mul(4));
            let b = self.g.cont(b);
            let beta = self.g.like(Op::Unary, b, &[]);
            let alpha = self.g.op(Op::Cont, Ty::F32, [h_v, nst, ns, 1], &[a]);
            (self.g.reshape(beta, [1, h_v, nst, ns]), alpha)
        } else {
            let beta = self.linear(cur, h_v, false);
            let beta = self.g.reshape(beta, [1, h_v, nst, ns]);
            let beta = self.g.like(Op::Unary, beta, &[]);
            let alpha = self.linear(cur, h_v, false);
            (beta, self.g.reshape(alpha, [h_v, nst, ns, 1]))
        };
        let dt = w(&mut self.g, h_v, 1);
        let alpha = self.g.like(Op::Add, alpha, &[dt]);
        let alpha = self.g.like(Op::Unary, alpha, &[]);
        let a = w(&mut self.g, h_v, 1);
        let gate = self.g.like(Op::Mul, alpha, &[a]);
        let gate = self.g.reshape(gate, [1, h_v, nst, ns]);
        // build_conv_state (delta-net-base.cpp:449-520)
        let conv = self.rs_rows(n_embd_r);
        let conv = self.g.reshape(conv, [d_conv1, conv_ch, ns, 1]);
        let conv_in = self.conv_input(conv, qkv, d_conv1, conv_ch);
        let state = self.rs_rows(n_embd_s);
        let state = self.g.reshape(state, [s_v, s_v, h_v, ns]);
        let kernel = w(&mut self.g, g.d_conv, conv_ch);
        let conv_out = self.g.op(
            Op::Other,
            Ty::F32,
            [conv_ch, nst, ns, 1],
            &[conv_in, kernel],
        );
        self.g.mark_ssm_conv(conv_out);
        let mix = self.g.like(Op::Unary, conv_out, &[]);
        let row = conv_ch.saturating_mul(4);
        let head_view = |b: &mut Self, head: u64, heads: u64, off: u64| {
            b.g.view(
                mix,
                [head, heads, nst, ns],
                [4, head.saturating_mul(4), row, row.saturating_mul(nst)],
                off.saturating_mul(4),
            )
        };
        let q = head_view(self, s_k, h_k, 0);
        let k = head_view(self, s_k, h_k, s_k.saturating_mul(h_k));
        let v = head_view(self, s_v, h_v, s_k.saturating_mul(h_k).saturating_mul(2));
        let (mut q, mut k) = (self.l2_norm(q), self.l2_norm(k));
        if g.qwen3next && h_k != h_v {
            let r = h_v / h_k.max(1);
            let rows = nst.saturating_mul(ns);
            for x in [&mut q, &mut k] {
                let flat = self.g.reshape(*x, [s_k, 1, h_k, rows]);
                let rep = self.g.op(Op::Other, Ty::F32, [s_k, r, h_k, rows], &[flat]);
                *x = self.g.reshape(rep, [s_k, h_v, nst, ns]);
            }
        }
        let output = self.delta_net([q, k, v, gate, beta, state], s_v, h_v);
        let z = self.g.reshape(z, [s_v, h_v, nst, ns]);
        let normed = self.norm(output, Op::RmsNorm, false);
        let silu = self.g.like(Op::Unary, z, &[]);
        let gated = self.g.like(Op::Mul, normed, &[silu]);
        let out = self.g.reshape(gated, [s_v.saturating_mul(h_v), nst, ns, 1]);
        let out = self.linear(out, self.d.n_embd, false);
        self.g
            .reshape(out, [self.d.n_embd, nst.saturating_mul(ns), 1, 1])
    }

    /// LFM2's causal short convolution (lfm2.cpp:159-231): the `in_proj` product split in
    /// three (B, C, x), `B * x` transposed after the stored columns (the last ones stored
    /// back), the convolution, gated by C, the output product.
    fn shortconv(&mut self, cur: Id, d_conv: u64) -> Id {
        let (ns, nst, n) = (self.d.n_seqs, self.d.n_seq_tokens(), self.d.n_embd);
        let cur = self.g.reshape(cur, [n, nst, ns, 1]);
        let bcx = self.linear(cur, n.saturating_mul(3), false);
        let bcx_nb = nb(4, self.g.ne(bcx));
        let chunk = |g: &mut Graph, i: u64| {
            g.view(
                bcx,
                [n, nst, ns, 1],
                bcx_nb,
                n.saturating_mul(4).saturating_mul(i),
            )
        };
        let (b, c, x) = (
            chunk(&mut self.g, 0),
            chunk(&mut self.g, 1),
            chunk(&mut self.g, 2),
        );
        let bx = self.g.like(Op::Mul, b, &[x]);
        let n_embd_r = d_conv.saturating_mul(n);
        let conv = self.rs_rows(n_embd_r);
        let conv = self.g.reshape(conv, [d_conv, n, ns, 1]);
        let bx = self.conv_input(conv, bx, d_conv, n);
        let kernel = w(&mut self.g, d_conv.saturating_add(1), n);
        let conv_out = self
            .g
            .op(Op::Other, Ty::F32, [n, nst, ns, 1], &[bx, kernel]);
        self.g.mark_ssm_conv(conv_out);
        let y = self.g.like(Op::Mul, c, &[conv_out]);
        let y = self.linear(y, n, false);
        self.g.reshape(y, [n, nst.saturating_mul(ns), 1, 1])
    }

    /// kimi-linear.cpp:288-384 with the fused delta net (as [`Self::gdn`]): Q, K and V each
    /// convolved over their stored columns (`causal_conv1d`, :173-231, the last columns
    /// stored back), the per-channel gate from two low-rank products, beta, the state read,
    /// Q and K L2-normed, the delta net (its output made contiguous, its state stored back),
    /// the output normed and gated by the sigmoid of two more low-rank products, made
    /// contiguous, the output product.
    fn kda(&mut self, cur: Id, k: Kda) -> Id {
        let (ub, ns, nst) = (self.d.ub, self.d.n_seqs, self.d.n_seq_tokens());
        let (hd, nh) = (k.head_dim, k.n_head);
        let d_inner = hd.saturating_mul(nh);
        let d_conv1 = k.d_conv.saturating_sub(1);
        let per = d_conv1.saturating_mul(d_inner);
        let n_embd_r = per.saturating_mul(3);
        let n_embd_s = hd.saturating_mul(hd).saturating_mul(nh);
        let conv_all = self.rs_rows(n_embd_r);
        let conv = |b: &mut Self, i: u64| {
            let state = b.g.view(
                conv_all,
                [d_conv1, d_inner, ns, 1],
                [
                    4,
                    d_conv1.saturating_mul(4),
                    n_embd_r.saturating_mul(4),
                    n_embd_r.saturating_mul(4),
                ],
                per.saturating_mul(4).saturating_mul(i),
            );
            let x = b.linear(cur, d_inner, false);
            let x = b.g.reshape(x, [d_inner, nst, ns, 1]);
            let conv_x = b.conv_input(state, x, d_conv1, d_inner);
            let kernel = w(&mut b.g, k.d_conv, d_inner);
            let x =
                b.g.op(Op::Other, Ty::F32, [d_inner, nst, ns, 1], &[conv_x, kernel]);
            b.g.mark_ssm_conv(x);
            let x = b.g.reshape(x, [d_inner, ub, 1, 1]);
            let x = b.g.like(Op::Unary, x, &[]);
            b.g.reshape(x, [hd, nh, nst, ns])
        };
        let q = conv(self, 0);
        let kk = conv(self, 1);
        let v = conv(self, 2);
        let g1 = if k.f_single {
            self.linear(cur, d_inner, false)
        } else {
            let f_a = self.linear(cur, k.f_rank, false);
            self.linear(f_a, d_inner, false)
        };
        let dt_b = w(&mut self.g, d_inner, 1);
        let g1 = self.g.like(Op::Add, g1, &[dt_b]);
        let a = w(&mut self.g, 1, nh);
        let g1 = if k.gate_bound {
            // glm5-next.cpp:714-718: `bound * sigmoid(-(g * A))`.
            let g1 = self.g.reshape(g1, [hd, nh, ub, 1]);
            let mut g1 = self.g.like(Op::Mul, g1, &[a]);
            if k.bound_negated {
                g1 = self.g.like(Op::Scale, g1, &[]);
            }
            let g1 = self.g.like(Op::Unary, g1, &[]);
            self.g.like(Op::Scale, g1, &[])
        } else {
            let g1 = self.g.like(Op::Unary, g1, &[]);
            let g1 = self.g.reshape(g1, [hd, nh, ub, 1]);
            self.g.like(Op::Mul, g1, &[a])
        };
        let g1 = self.g.reshape(g1, [hd, nh, nst, ns]);
        let beta = self.linear(cur, nh, false);
        let beta = self.g.reshape(beta, [1, nh, nst, ns]);
        let beta = self.g.like(Op::Unary, beta, &[]);
        let state = self.rs_rows(n_embd_s);
        let state = self.g.reshape(state, [hd, hd, nh, ns]);
        let q = self.l2_norm(q);
        let kk = self.l2_norm(kk);
        let output = self.delta_net([q, kk, v, g1, beta, state], hd, nh);
        let output = self.g.cont(output);
        let g2 = if k.g_single {
            self.linear(cur, d_inner, false)
        } else {
            let g_a = self.linear(cur, k.g_rank, false);
            self.linear(g_a, d_inner, false)
        };
        let g2 = self.g.reshape(g2, [hd, nh, ub, 1]);
        let out = self.g.reshape(output, [hd, nh, ub, 1]);
        let normed = self.norm(out, Op::RmsNorm, false);
        let gate = self.g.like(Op::Unary, g2, &[]);
        let gated = self.g.like(Op::Mul, normed, &[gate]);
        let gated = self.g.op(Op::Cont, Ty::F32, [d_inner, ub, 1, 1], &[gated]);
        self.linear(gated, self.d.n_embd, false)
    }

    /// A convolution's input: the state's stored columns followed by `x` transposed
    /// (`ggml_concat`), its last `d_conv1` columns stored back into the state (`ggml_cpy`):
    /// mamba-base.cpp:47-63 and 187-209, delta-net-base.cpp:449-525, lfm2.cpp:192-218,
    /// kimi-linear.cpp:173-231.
    fn conv_input(&mut self, state: Id, x: Id, d_conv1: u64, channels: u64) -> Id {
        // Per sequence: `[channels, ub / n_seqs, n_seqs]` transposed and appended to its
        // stored columns.
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let xt = self.g.transpose(x);
        let conv_x = self.g.op(
            Op::Concat,
            Ty::F32,
            [d_conv1.saturating_add(nst), channels, ns, 1],
            &[state, xt],
        );
        let cx_nb = nb(4, self.g.ne(conv_x));
        let last = self.g.view(
            conv_x,
            [d_conv1, channels, ns, 1],
            cx_nb,
            nst.saturating_mul(4),
        );
        let dst = self.g.cache(Ty::F32, [d_conv1, channels, ns, 1]);
        let st = self.g.cpy_into(last, dst);
        self.g.expand(st);
        conv_x
    }

    /// An f32 `[width, ub]` input viewed as one row per token, `[width, 1, ub]`.
    fn token_rows(&mut self, t: Id, width: u64) -> Id {
        let row = width.saturating_mul(4);
        self.g.view(
            t,
            [width, 1, self.d.ub, 1],
            [4, row, row, row.saturating_mul(self.d.ub)],
            0,
        )
    }

    /// `build_gdn_l2_norm` (models.h:14-18): an RMS norm, scaled.
    fn l2_norm(&mut self, x: Id) -> Id {
        let n = self.g.like(Op::RmsNorm, x, &[]);
        self.g.like(Op::Scale, n, &[])
    }

    /// The fused delta net (`ggml_gated_delta_net`, ggml.c:6390-6428, K = 1:
    /// `build_delta_net_fused`, delta-net-base.cpp:373-423) over `h_v` heads of `s_v`, its final
    /// state stored back (`build_recurrent_attn`, :527-560); returns the output view.
    fn delta_net(&mut self, src: [Id; 6], s_v: u64, h_v: u64) -> Id {
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let rows = nst.saturating_mul(ns);
        let width = s_v.saturating_mul(h_v);
        // ggml.c:6414: the outputs, then one final state per sequence.
        let result = self.g.op(
            Op::Other,
            Ty::F32,
            [width, rows.saturating_add(s_v.saturating_mul(ns)), 1, 1],
            &src,
        );
        let output = self
            .g
            .view(result, [s_v, h_v, nst, ns], nb(4, [s_v, h_v, nst, ns]), 0);
        let new_state = self.g.view(
            result,
            [s_v, s_v, h_v, ns],
            nb(4, [s_v, s_v, h_v, ns]),
            width.saturating_mul(rows).saturating_mul(4),
        );
        let n_embd_s = width.saturating_mul(s_v);
        let s_dst = self.g.cache(Ty::F32, [n_embd_s, ns, 1, 1]);
        let st = self.g.cpy_into(new_state, s_dst);
        self.g.expand(st);
        output
    }

    /// `ggml_ssm_scan` over the sequence's state (`build_rs`, the state viewed as `state`),
    /// its final state stored back (mamba-base.cpp:110-125, 228-246): the scan's output, `n_x`
    /// values and then the `n_embd_s` of the state.
    fn ssm_scan(&mut self, state: [u64; 4], n_embd_s: u64, n_x: u64, src: [Id; 5]) -> Id {
        let [x, dt, a, b, c] = src;
        // One final state per sequence after the `n_x` outputs.
        let n_s = n_embd_s.saturating_mul(self.d.n_seqs);
        let y_ssm = self.build_rs(n_embd_s, |bld, states, ids| {
            let ssm = bld.g.reshape(states, state);
            let scan = bld.g.op(
                Op::Other,
                Ty::F32,
                [n_x.saturating_add(n_s), 1, 1, 1],
                &[ssm, x, dt, a, b, c, ids],
            );
            bld.g.mark_ssm_scan(scan);
            scan
        });
        let y_state = self.g.view(
            y_ssm,
            [n_s, 1, 1, 1],
            nb(4, [n_s, 1, 1, 1]),
            n_x.saturating_mul(4),
        );
        let s_dst = self.g.cache(Ty::F32, [n_s, 1, 1, 1]);
        let st = self.g.cpy_into(y_state, s_dst);
        self.g.expand(st);
        y_ssm
    }

    /// The selective scan over `n_head` heads of `head_dim` (mamba-base.cpp:228-270,
    /// plamo2.cpp:385-412): the scan (its state stored back), its output as heads, the skip
    /// term `x · D`, the SwiGLU with `z` made contiguous.
    fn scan_heads(&mut self, src: [Id; 5], z: Id, [d_state, head_dim, n_head]: [u64; 3]) -> Id {
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let d_inner = head_dim.saturating_mul(n_head);
        let n_x = d_inner.saturating_mul(nst).saturating_mul(ns);
        let n_embd_s = d_state.saturating_mul(d_inner);
        let state = [d_state, head_dim, n_head, self.d.n_rs.max(ns)];
        let y_ssm = self.ssm_scan(state, n_embd_s, n_x, src);
        let y = self.g.view(
            y_ssm,
            [head_dim, n_head, nst, ns],
            nb(4, [head_dim, n_head, nst, ns]),
            0,
        );
        let d_w = w(&mut self.g, 1, n_head);
        let xd = self.g.like(Op::Mul, src[0], &[d_w]);
        let y = self.g.like(Op::Add, y, &[xd]);
        let zc = self.g.cont(z);
        self.g.like(Op::Glu, zc, &[y])
    }

    /// The recurrent mixer: Mamba-1 or Mamba-2.
    fn ssm(&mut self, cur: Id, s: Ssm) -> Id {
        match s.mamba1 {
            Some(m) => self.mamba1(cur, s, m),
            None => self.mamba2(cur, s),
        }
    }

    /// `build_mamba_layer` (src/models/mamba-base.cpp:9-142) for the reserved ubatch: the
    /// input product split into x and z, the convolution (its last columns stored back),
    /// `ssm_x` split into dt, B and C (normed where the file says so), `ssm_dt`, the selective
    /// scan (its final state stored back), the skip term, the SwiGLU with z, the output
    /// product.
    fn mamba1(&mut self, cur: Id, s: Ssm, m: Mamba1) -> Id {
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let d_conv1 = s.d_conv.saturating_sub(1);
        let n_embd_r = d_conv1.saturating_mul(s.d_inner);
        let n_embd_s = s.d_state.saturating_mul(s.d_inner);
        let conv = self.rs_rows(n_embd_r);
        let conv = self.g.reshape(conv, [d_conv1, s.d_inner, ns, 1]);
        let cur = self.g.reshape(cur, [self.d.n_embd, nst, ns, 1]);
        let xz = self.linear(cur, s.d_inner.saturating_mul(2), false);
        let xz_nb = nb(4, self.g.ne(xz));
        let x = self.g.view(xz, [s.d_inner, nst, ns, 1], xz_nb, 0);
        let z = self.g.view(
            xz,
            [s.d_inner, nst, ns, 1],
            xz_nb,
            s.d_inner.saturating_mul(4),
        );
        let conv_x = self.conv_input(conv, x, d_conv1, s.d_inner);
        let conv_w = w(&mut self.g, s.d_conv, s.d_inner);
        let x = self.g.op(
            Op::Other,
            Ty::F32,
            [s.d_inner, nst, ns, 1],
            &[conv_x, conv_w],
        );
        self.g.mark_ssm_conv(x);
        let conv_b = w(&mut self.g, s.d_inner, 1);
        let x = self.g.like(Op::Add, x, &[conv_b]);
        let x = self.g.like(Op::Unary, x, &[]);
        let n_db = m.dt_rank.saturating_add(s.d_state.saturating_mul(2));
        let x_db = self.linear(x, n_db, false);
        let db_nb = nb(4, [n_db, nst, ns, 1]);
        let dt = self.g.view(x_db, [m.dt_rank, nst, ns, 1], db_nb, 0);
        let bc = |b: &mut Self, off: u64| {
            b.g.view(
                x_db,
                [s.d_state, 1, nst, ns],
                [4, s.d_state.saturating_mul(4), db_nb[1], db_nb[2]],
                off.saturating_mul(4),
            )
        };
        let mut bm = bc(self, m.dt_rank);
        let mut cm = bc(self, m.dt_rank.saturating_add(s.d_state));
        let mut dt = dt;
        if m.dt_b_c_norm {
            dt = self.norm_with(dt, Op::RmsNorm, m.norm_weights, false);
            bm = self.norm_with(bm, Op::RmsNorm, m.norm_weights, false);
            cm = self.norm_with(cm, Op::RmsNorm, m.norm_weights, false);
        } else {
            dt = self.g.cont(dt);
        }
        let dt = self.linear(dt, s.d_inner, false);
        let dt_b = w(&mut self.g, s.d_inner, 1);
        let dt = self.g.like(Op::Add, dt, &[dt_b]);
        let skip_in = x;
        let x = self.g.reshape(x, [1, s.d_inner, nst, ns]);
        let a = w(&mut self.g, s.d_state, s.d_inner);
        let n_x = s.d_inner.saturating_mul(nst).saturating_mul(ns);
        let state = [s.d_state, 1, s.d_inner, self.d.n_rs.max(ns)];
        let y_ssm = self.ssm_scan(state, n_embd_s, n_x, [x, dt, a, bm, cm]);
        let y = self.g.view(
            y_ssm,
            [s.d_inner, nst, ns, 1],
            nb(4, [s.d_inner, nst, ns, 1]),
            0,
        );
        let d_w = w(&mut self.g, s.d_inner, 1);
        let xd = self.g.like(Op::Mul, skip_in, &[d_w]);
        let y = self.g.like(Op::Add, y, &[xd]);
        let zc = self.g.cont(z);
        let y = self.g.like(Op::Glu, zc, &[y]);
        let out = self.linear(y, self.d.n_embd, false);
        self.g
            .reshape(out, [self.d.n_embd, nst.saturating_mul(ns), 1, 1])
    }

    /// `build_mamba2_layer` (src/models/mamba-base.cpp:144-290) for the reserved ubatch (one
    /// sequence of `ub` tokens, `K` = 1): the input product split into z, xBC and dt, the
    /// convolution over the stored columns and xBC (its last columns stored back), the
    /// selective scan (its final state stored back), the skip term, the SwiGLU with z, the
    /// grouped norm, the output product.
    fn mamba2(&mut self, cur: Id, s: Ssm) -> Id {
        let (ns, nst) = (self.d.n_seqs, self.d.n_seq_tokens());
        let conv_dim = s
            .d_inner
            .saturating_add(s.n_group.saturating_mul(s.d_state).saturating_mul(2));
        let head_dim = s.d_inner / s.n_head.max(1);
        let n_embd_r = s.d_conv.saturating_sub(1).saturating_mul(conv_dim);
        let conv = self.rs_rows(n_embd_r);
        let conv = self
            .g
            .reshape(conv, [s.d_conv.saturating_sub(1), conv_dim, ns, 1]);
        let d_in_proj = conv_dim.saturating_add(s.d_inner).saturating_add(s.n_head);
        let zx = self.linear(cur, d_in_proj, false);
        let zx = self.g.reshape(zx, [d_in_proj, nst, ns, 1]);
        let zx_nb = nb(4, [d_in_proj, nst, ns, 1]);
        let z = self.g.view(
            zx,
            [head_dim, s.n_head, nst, ns],
            [4, 4 * head_dim, zx_nb[1], zx_nb[2]],
            0,
        );
        let xbc = self.g.view(
            zx,
            [conv_dim, nst, ns, 1],
            [4, zx_nb[1], zx_nb[2], zx_nb[3]],
            4 * s.d_inner,
        );
        let dt = self.g.view(
            zx,
            [s.n_head, nst, ns, 1],
            [4, zx_nb[1], zx_nb[2], zx_nb[3]],
            s.d_inner.saturating_add(conv_dim).saturating_mul(4),
        );
        let conv_x = self.conv_input(conv, xbc, s.d_conv.saturating_sub(1), conv_dim);
        let conv_w = w(&mut self.g, s.d_conv, conv_dim);
        let xbc = self.g.op(
            Op::Other,
            Ty::F32,
            [conv_dim, nst, ns, 1],
            &[conv_x, conv_w],
        );
        self.g.mark_ssm_conv(xbc);
        let conv_b = w(&mut self.g, conv_dim, 1);
        let xbc = self.g.like(Op::Add, xbc, &[conv_b]);
        let xbc = self.g.like(Op::Unary, xbc, &[]);
        let xb_nb = nb(4, [conv_dim, nst, ns, 1]);
        let x = self.g.view(
            xbc,
            [head_dim, s.n_head, nst, ns],
            [4, 4 * head_dim, xb_nb[1], xb_nb[2]],
            0,
        );
        let bc = |b: &mut Self, off: u64| {
            b.g.view(
                xbc,
                [s.d_state, s.n_group, nst, ns],
                [4, 4 * s.d_state, xb_nb[1], xb_nb[2]],
                off.saturating_mul(4),
            )
        };
        let bm = bc(self, s.d_inner);
        let cm = bc(
            self,
            s.d_inner
                .saturating_add(s.n_group.saturating_mul(s.d_state)),
        );
        let dt = self.g.cont(dt);
        let dt_b = w(&mut self.g, s.n_head, 1);
        let dt = self.g.like(Op::Add, dt, &[dt_b]);
        let a = w(&mut self.g, 1, s.n_head);
        let mut y = self.scan_heads([x, dt, a, bm, cm], z, [s.d_state, head_dim, s.n_head]);
        if s.norm {
            let per = s.d_inner / s.n_group.max(1);
            y = self.g.reshape(y, [per, s.n_group, nst, ns]);
            y = self.norm(y, Op::RmsNorm, false);
        }
        let y = self.g.reshape(y, [s.d_inner, nst.saturating_mul(ns), 1, 1]);
        self.linear(y, self.d.n_embd, false)
    }

    /// `build_plamo2_mamba_layer` (plamo2.cpp:258-426) for the reserved ubatch: the input
    /// product as `[2·head_dim, n_head]` rows (a contiguous copy), x copied out of it, the
    /// convolution over the stored columns (no bias), `ssm_x` split into B, C and dt (each
    /// RMS-normed with its weight), `ssm_dt` and its bias, the selective scan, the skip term,
    /// the SwiGLU with z, the output product.
    fn plamo2_mamba(&mut self, cur: Id, p: Plamo2) -> Id {
        let (ub, ns, nst) = (self.d.ub, self.d.n_seqs, self.d.n_seq_tokens());
        let d_conv1 = p.d_conv.saturating_sub(1);
        let head_dim = p.d_inner / p.n_head.max(1);
        let n_embd_r = d_conv1.saturating_mul(p.d_inner);
        let conv = self.rs_rows(n_embd_r);
        let conv = self.g.reshape(conv, [d_conv1, p.d_inner, ns, 1]);
        let cur = self.g.reshape(cur, [self.d.n_embd, nst, ns, 1]);
        let zx = self.linear(cur, p.d_inner.saturating_mul(2), false);
        let zx = self.g.permute(zx, [0, 2, 1, 3]);
        let zx = self.g.op(
            Op::Cont,
            Ty::F32,
            [head_dim.saturating_mul(2), p.n_head, nst, ns],
            &[zx],
        );
        let zx_nb = nb(4, self.g.ne(zx));
        let x = self.g.view(
            zx,
            [head_dim, p.n_head, nst, ns],
            zx_nb,
            head_dim.saturating_mul(4),
        );
        let x = self.g.op(Op::Cont, Ty::F32, [p.d_inner, nst, ns, 1], &[x]);
        let z = self.g.view(zx, [head_dim, p.n_head, nst, ns], zx_nb, 0);
        let conv_x = self.conv_input(conv, x, d_conv1, p.d_inner);
        let conv_w = w(&mut self.g, p.d_conv, p.d_inner);
        let x = self.g.op(
            Op::Other,
            Ty::F32,
            [p.d_inner, nst, ns, 1],
            &[conv_x, conv_w],
        );
        self.g.mark_ssm_conv(x);
        let x = self.g.like(Op::Unary, x, &[]);
        let x_bcdt = self.linear(x, p.n_bcdt, false);
        let bc_nb = nb(4, [p.n_bcdt, nst, ns, 1]);
        let part = |b: &mut Self, width: u64, off: u64| {
            b.g.view(x_bcdt, [width, nst, ns, 1], bc_nb, off.saturating_mul(4))
        };
        let bm = part(self, p.d_state, 0);
        let cm = part(self, p.d_state, p.d_state);
        let dt = part(self, p.dt_dim, p.d_state.saturating_mul(2));
        let bm = self.norm(bm, Op::RmsNorm, false);
        let cm = self.norm(cm, Op::RmsNorm, false);
        let dt = self.norm(dt, Op::RmsNorm, false);
        let dt = self.linear(dt, p.n_head, false);
        let dt_b = w(&mut self.g, p.n_head, 1);
        let dt = self.g.like(Op::Add, dt, &[dt_b]);
        let a = w(&mut self.g, 1, p.n_head);
        let x = self.g.view(
            x,
            [head_dim, p.n_head, nst, ns],
            nb(4, [head_dim, p.n_head, nst, ns]),
            0,
        );
        let row = |b: &mut Self, t: Id| {
            let st = nb(4, b.g.ne(t));
            b.g.view(t, [p.d_state, 1, nst, ns], [4, st[1], st[1], st[2]], 0)
        };
        let bm = row(self, bm);
        let cm = row(self, cm);
        let y = self.scan_heads([x, dt, a, bm, cm], z, [p.d_state, head_dim, p.n_head]);
        let y = self.g.reshape(y, [p.d_inner, nst, ns, 1]);
        let out = self.linear(y, self.d.n_embd, false);
        // A 2-D view of the product (:422): the post-mixer norm cannot run in place on it.
        self.g.reshape(out, [self.d.n_embd, ub, 1, 1])
    }

    /// `llama_model_minimax_01::graph` (minimax-01.cpp:192-484): each layer's attention (or
    /// lightning attention) reads its normed input, which, scaled, is also its residual; the
    /// same around the experts; the lightning attention's decay inputs made once.
    fn minimax01(&mut self) {
        let d = self.d;
        let mut inp = self.inp_embd();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let cur = self.norm(inp, Op::RmsNorm, false);
            let mut residual = cur;
            let mut cur = match l.mixer {
                Mixer::Lightning(x) => self.lightning(cur, x),
                _ => {
                    let qkv = self.qkv_roped(cur, l, false);
                    self.attn(qkv, l)
                }
            };
            if il + 1 == n {
                (cur, residual) = self.out_rows(cur, residual, out_ids);
            }
            let residual = self.g.like(Op::Scale, residual, &[]);
            let ffn_inp = self.g.like(Op::Add, cur, &[residual]);
            let cur = self.norm(ffn_inp, Op::RmsNorm, false);
            let moe = self.ffn_or_moe(cur, l);
            let residual = self.g.like(Op::Scale, cur, &[]);
            inp = self.g.like(Op::Add, moe, &[residual]);
        }
        self.head(inp, out_ids);
    }

    /// The token embeddings repeated into `hc` hyper-connection streams (`ggml_repeat_4d`,
    /// glm5-next.cpp:579-580, hy-v4.cpp:517-518).
    fn streams(&mut self, inp: Id, hc: u64) -> Id {
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let inp3 = self.g.reshape(inp, [n_embd, 1, ub, 1]);
        self.g.op(Op::Other, Ty::F32, [n_embd, hc, ub, 1], &[inp3])
    }

    /// `llama_model_hy_v4::graph` (hy-v4.cpp:497-601): the embeddings repeated into `hc`
    /// streams; per layer the attention and then the FFN, each between `build_hc_pre` and
    /// `build_hc_post`; the output rows of the flattened streams, `build_hc_head`, the head.
    fn hy_v4(&mut self, hc: u64) {
        let d = self.d;
        let (ub, n_embd) = (d.ub, d.n_embd);
        let inp = self.inp_embd();
        let out_ids = self.g.input(Ty::I32, [ub, 1, 1, 1]);
        let mut streams = self.streams(inp, hc);
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let residual = streams;
            let (cur, post) = self.hy_hc_pre(streams, hc);
            let cur = self.norm(cur, Op::RmsNorm, false);
            let cur = match l.mla {
                Some(m) => self.attn_mla(cur, l, m),
                None => cur,
            };
            streams = self.hy_hc_post(cur, residual, post, hc);
            let residual = streams;
            let (cur, post) = self.hy_hc_pre(streams, hc);
            let cur = self.norm(cur, Op::RmsNorm, false);
            let cur = self.ffn_or_moe(cur, l);
            streams = self.hy_hc_post(cur, residual, post, hc);
        }
        let width = n_embd.saturating_mul(hc);
        let flat = self.g.reshape(streams, [width, ub, 1, 1]);
        let flat = self
            .g
            .op(Op::GetRows, Ty::F32, [width, ub, 1, 1], &[flat, out_ids]);
        let streams = self.g.reshape(flat, [n_embd, hc, ub, 1]);
        // build_hc_head (:249-266): one weight per stream.
        let flat = self.g.reshape(streams, [width, ub, 1, 1]);
        let normed = self.g.like(Op::RmsNorm, flat, &[]);
        let mixes = self.linear(normed, hc, false);
        let scale = w(&mut self.g, 1, 1);
        let pre = self.g.like(Op::Mul, mixes, &[scale]);
        let base = w(&mut self.g, hc, 1);
        let pre = self.g.like(Op::Add, pre, &[base]);
        let pre = self.g.like(Op::Unary, pre, &[]);
        let pre = self.g.like(Op::Scale, pre, &[]);
        let cur = self.hy_hc_reduce(streams, pre, hc);
        self.head(cur, out_ids);
    }

    /// `llama_model_kimi_k3::graph` (kimi-k3.cpp:236-356): per layer the banked residuals
    /// mixed in before the mixer and before the FFN ([`Self::res_mix`]), the stream banked on
    /// every `res_block`-th layer (and then restarted from the mixer's output), the last mix
    /// before the output rows and the head.
    fn kimi_k3(&mut self) {
        let d = self.d;
        let inp0 = self.inp_embd();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let bs = d.res_block;
        let mut stack: Option<Id> = None;
        let mut inp = inp0;
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let prefix = inp;
            let cur = if bs > 0 {
                self.res_mix(prefix, stack)
            } else {
                prefix
            };
            let banked = bs > 0 && (il as u64) % bs == 0;
            if banked {
                let ckpt = self.g.reshape(prefix, [d.n_embd, 1, d.ub, 1]);
                stack = Some(match stack {
                    None => ckpt,
                    Some(s) => {
                        let n = self.g.ne(s)[1].saturating_add(1);
                        self.g
                            .op(Op::Concat, Ty::F32, [d.n_embd, n, d.ub, 1], &[s, ckpt])
                    }
                });
            }
            let cur = self.norm(cur, Op::RmsNorm, false);
            self.g.expand(cur);
            let cur = match (l.mixer, l.mla) {
                (Mixer::Kda(k), _) => self.kda(cur, k),
                (_, Some(m)) => self.attn_mla(cur, l, m),
                _ => cur,
            };
            let prefix = if banked {
                cur
            } else {
                self.g.like(Op::Add, prefix, &[cur])
            };
            let cur = if bs > 0 {
                self.res_mix(prefix, stack)
            } else {
                prefix
            };
            let cur = self.norm(cur, Op::RmsNorm, false);
            let cur = match &l.moe {
                Some(m) => self.latent_moe(cur, m),
                None => self.ffn(cur, l),
            };
            inp = self.g.like(Op::Add, prefix, &[cur]);
        }
        let cur = if bs > 0 {
            self.res_mix(inp, stack)
        } else {
            inp
        };
        let rows = self.g.op(
            Op::GetRows,
            Ty::F32,
            [d.n_embd, d.ub, 1, 1],
            &[cur, out_ids],
        );
        self.head(rows, out_ids);
    }

    /// `res_mix` (kimi-k3.cpp:198-234): the banked checkpoints and the current stream scored
    /// by their RMS norms against the layer's score weight, a softmax over the scores, the
    /// checkpoints summed by their weights (`ggml_dsv4_hc_pre`) plus the stream by its own.
    fn res_mix(&mut self, cur: Id, stack: Option<Id>) -> Id {
        let Some(src) = stack else {
            return cur;
        };
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let n_ckpt = self.g.ne(src)[1];
        let sc = self.norm(src, Op::RmsNorm, false);
        let sc = self.g.op(Op::Other, Ty::F32, [1, n_ckpt, ub, 1], &[sc]);
        let sc_src = self.g.reshape(sc, [n_ckpt, ub, 1, 1]);
        let sc = self.norm(cur, Op::RmsNorm, false);
        let sc_cur = self.g.op(Op::Other, Ty::F32, [1, ub, 1, 1], &[sc]);
        let n = n_ckpt.saturating_add(1);
        let scores = self
            .g
            .op(Op::Concat, Ty::F32, [n, ub, 1, 1], &[sc_src, sc_cur]);
        let probs = self.g.like(Op::SoftMax, scores, &[]);
        let ps = nb(4, [n, ub, 1, 1]);
        let p_src = self.g.view(probs, [n_ckpt, ub, 1, 1], ps, 0);
        let p_src = self.g.cont(p_src);
        let p_cur = self
            .g
            .view(probs, [1, ub, 1, 1], ps, n_ckpt.saturating_mul(4));
        let p_cur = self.g.cont(p_cur);
        let out = self
            .g
            .op(Op::Other, Ty::F32, [n_embd, ub, 1, 1], &[src, p_src]);
        let m = self.g.like(Op::Mul, cur, &[p_cur]);
        self.g.like(Op::Add, out, &[m])
    }

    /// `build_latent_moe` (kimi-k3.cpp:570-618): the router logits of the full-width input,
    /// the experts over its down projection (SiTU), their sum normed and projected back, the
    /// shared expert (SiTU) over the full-width input added.
    fn latent_moe(&mut self, cur: Id, m: &Moe) -> Id {
        let lat = m.latent.unwrap_or(Latent {
            down: None,
            norm: false,
            up: false,
        });
        let routed_in = match lat.down {
            Some(w) => self.linear(cur, w, false),
            None => cur,
        };
        let gate_inp = self.g.weight(Ty::F16, [self.d.n_embd, m.n_expert, 1, 1]);
        self.router_logits = Some(self.g.mul_mat(gate_inp, cur));
        let routed = Moe {
            shared: None,
            ..m.clone()
        };
        let mut out = self.moe(routed_in, &routed);
        if lat.norm {
            out = self.norm(out, Op::RmsNorm, false);
        }
        if lat.up {
            out = self.linear(out, self.d.n_embd, false);
        }
        match m.shared {
            Some(sh) => {
                let s = self.shared(cur, sh);
                self.g.like(Op::Add, out, &[s])
            }
            None => out,
        }
    }

    /// `hy_v4_hc_reduce` (hy-v4.cpp:163-173): the streams (an f32 copy) summed, each weighted
    /// by its row of `w`, copied out.
    fn hy_hc_reduce(&mut self, x: Id, wts: Id, hc: u64) -> Id {
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let x32 = self.g.op(Op::Other, Ty::F32, [n_embd, hc, ub, 1], &[x]);
        let mut sum = None;
        for ih in 0..hc {
            let (xh, wh) = self.hy_stream(x32, wts, hc, ih);
            let cur = self.g.like(Op::Mul, xh, &[wh]);
            sum = Some(match sum {
                None => cur,
                Some(s) => self.g.like(Op::Add, s, &[cur]),
            });
        }
        let sum = sum.unwrap_or(x32);
        self.g.op(Op::Other, Ty::F32, [n_embd, ub, 1, 1], &[sum])
    }

    /// Stream `i` of `[n_embd, hc, ub]` f32 streams and its weight, row `i` of `[hc, ub]`
    /// weights: `[n_embd, ub]` and `[1, ub]` views (hy-v4.cpp:167-168, 236-237).
    fn hy_stream(&mut self, streams: Id, wts: Id, hc: u64, i: u64) -> (Id, Id) {
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let xs = nb(4, [n_embd, hc, ub, 1]);
        let ws = nb(4, [hc, ub, 1, 1]);
        let x = self.g.view(
            streams,
            [n_embd, ub, 1, 1],
            [4, xs[2], xs[3], xs[3]],
            i.saturating_mul(xs[1]),
        );
        let weight = self.g.view(
            wts,
            [1, ub, 1, 1],
            [4, ws[1], ws[2], ws[2]],
            i.saturating_mul(4),
        );
        (x, weight)
    }

    /// `build_hc_pre` (hy-v4.cpp:175-212): the streams' RMS norm, `2·hc` mixes, the pre
    /// weights (a sigmoid) reducing the streams and the post weights kept for
    /// [`Self::hy_hc_post`].
    fn hy_hc_pre(&mut self, x: Id, hc: u64) -> (Id, Id) {
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let flat = self.g.reshape(x, [n_embd.saturating_mul(hc), ub, 1, 1]);
        let normed = self.g.like(Op::RmsNorm, flat, &[]);
        let mixes = self.linear(normed, hc.saturating_mul(2), false);
        let ms = nb(4, [hc.saturating_mul(2), ub, 1, 1]);
        let part = |b: &mut Self, i: u64| {
            let v = b.g.view(
                mixes,
                [hc, ub, 1, 1],
                ms,
                i.saturating_mul(hc).saturating_mul(4),
            );
            let scale = w(&mut b.g, 1, 1);
            let v = b.g.like(Op::Mul, v, &[scale]);
            let base = w(&mut b.g, hc, 1);
            let v = b.g.like(Op::Add, v, &[base]);
            b.g.like(Op::Unary, v, &[])
        };
        let pre = part(self, 0);
        let pre = self.g.like(Op::Scale, pre, &[]);
        let post = part(self, 1);
        let post = self.g.like(Op::Scale, post, &[]);
        let post = self.g.like(Op::Scale, post, &[]);
        (self.hy_hc_reduce(x, pre, hc), post)
    }

    /// `build_hc_post` (hy-v4.cpp:217-247), in f32: each stream `residual_i + x · post_i`,
    /// concatenated back into `hc` streams, copied out.
    fn hy_hc_post(&mut self, x: Id, residual: Id, post: Id, hc: u64) -> Id {
        let (ub, n_embd) = (self.d.ub, self.d.n_embd);
        let x32 = self.g.op(Op::Other, Ty::F32, [n_embd, ub, 1, 1], &[x]);
        let post32 = self.g.op(Op::Other, Ty::F32, [hc, ub, 1, 1], &[post]);
        let res32 = self
            .g
            .op(Op::Other, Ty::F32, [n_embd, hc, ub, 1], &[residual]);
        let mut out: Option<Id> = None;
        for i in 0..hc {
            let (res_i, post_i) = self.hy_stream(res32, post32, hc, i);
            let m = self.g.like(Op::Mul, x32, &[post_i]);
            let cur = self.g.like(Op::Add, res_i, &[m]);
            let cur = self.g.reshape(cur, [n_embd, 1, ub, 1]);
            out = Some(match out {
                None => cur,
                Some(o) => self.g.op(
                    Op::Concat,
                    Ty::F32,
                    [n_embd, i.saturating_add(1), ub, 1],
                    &[o, cur],
                ),
            });
        }
        let out = out.unwrap_or(res32);
        self.g.op(Op::Other, Ty::F32, [n_embd, hc, ub, 1], &[out])
    }

    /// MiniMax-01's lightning attention (minimax-01.cpp:278-419) for the reserved ubatch: the
    /// convolution state read (unused), the SiLU of one QKV product, the state read as
    /// `[head, head, n_head]`, the decays, the intra-block `QKᵀ·V` and the inter-block `Q·KV`,
    /// the new state stored back, the output normed, gated by `sigmoid(wg · x)`, projected.
    fn lightning(&mut self, cur: Id, x: Lightning) -> Id {
        let (hd, nh) = (x.head, x.n_head);
        let (ub, ns, nst) = (self.d.ub, self.d.n_seqs, self.d.n_seq_tokens());
        // `llm_graph_input_la` (minimax-01.cpp:217-233): the slopes and decays, `n_head` (the
        // model's) wide.
        let g = &mut self.g;
        let [slopes, q_decay_exp, k_decay_exp, diag_decay_exp] =
            *self.la.get_or_insert_with(|| {
                [
                    g.input(Ty::F32, [nh, 1, 1, 1]),
                    g.input(Ty::F32, [1, nh, nst, ns]),
                    g.input(Ty::F32, [1, nh, nst, ns]),
                    g.input(Ty::F32, [nst, nst, nh, ns]),
                ]
            });
        let n_embd_r = x.n_embd_r;
        self.rs_rows(n_embd_r);
        let slope_rate = self.g.like(Op::Scale, slopes, &[]);
        let cur = self.g.reshape(cur, [self.d.n_embd, nst, 1, ns]);
        let qkv = self.linear(cur, hd.saturating_mul(3).saturating_mul(nh), false);
        let qkv = self.g.like(Op::Unary, qkv, &[]);
        let qkv_nb = nb(4, [hd.saturating_mul(3), nh, nst, ns]);
        let part = |b: &mut Self, i: u64| {
            b.g.view(
                qkv,
                [hd, nh, nst, ns],
                qkv_nb,
                hd.saturating_mul(4).saturating_mul(i),
            )
        };
        let (q, k, v) = (part(self, 0), part(self, 1), part(self, 2));
        let n_embd_s = x.n_embd_s;
        let state = self.rs_rows(n_embd_s);
        let kv_old = self.g.reshape(state, [hd, hd, nh, ns]);
        let decay = |b: &mut Self, t: Id| {
            let s = b.g.like(Op::Scale, t, &[]);
            b.g.like(Op::Unary, s, &[])
        };
        let q_decay = decay(self, q_decay_exp);
        let k_decay = decay(self, k_decay_exp);
        let diag_decay = decay(self, diag_decay_exp);
        let q_s = self.g.like(Op::Mul, q, &[q_decay]);
        let q_s_t = self.g.permute(q_s, [0, 2, 1, 3]);
        let none_diag = self.g.mul_mat(kv_old, q_s_t);
        let q_t = self.g.permute(q, [0, 2, 1, 3]);
        let k_t = self.g.permute(k, [0, 2, 1, 3]);
        let qk = self.g.mul_mat(k_t, q_t);
        let qk = self.g.like(Op::Mul, qk, &[diag_decay]);
        let v_p = self.g.permute(v, [1, 2, 0, 3]);
        let v_t = self.g.cont(v_p);
        let diag = self.g.mul_mat(v_t, qk);
        let out = self.g.like(Op::Add, none_diag, &[diag]);
        self.g.expand(out);
        let slopes_neg = self.g.like(Op::Scale, slope_rate, &[]);
        let block_decay = self.g.like(Op::Unary, slopes_neg, &[]);
        let block_decay = self.g.reshape(block_decay, [1, 1, nh, 1]);
        let kv_old_s = self.g.like(Op::Mul, kv_old, &[block_decay]);
        let k_after = self.g.like(Op::Mul, k, &[k_decay]);
        let k_after_p = self.g.permute(k_after, [1, 2, 0, 3]);
        let k_after_t = self.g.cont(k_after_p);
        let kv_cur = self.g.mul_mat(k_after_t, v_t);
        let kv_new = self.g.like(Op::Add, kv_old_s, &[kv_cur]);
        let s_dst = self.g.cache(Ty::F32, [n_embd_s, ns, 1, 1]);
        let st = self.g.cpy_into(kv_new, s_dst);
        self.g.expand(st);
        let out_p = self.g.permute(out, [0, 2, 1, 3]);
        let out = self.g.cont(out_p);
        let out = self.g.reshape(out, [hd.saturating_mul(nh), nst, 1, ns]);
        let out = self.norm(out, Op::RmsNorm, false);
        let gate = self.linear(cur, x.gate, false);
        let gate = self.g.like(Op::Unary, gate, &[]);
        let gated = self.g.like(Op::Mul, gate, &[out]);
        let out = self.linear(gated, self.d.n_embd, false);
        // A 2-D view of the product (:418): what reads it cannot take its memory in place.
        self.g.reshape(out, [self.d.n_embd, ub, 1, 1])
    }

    /// The output head: the final norm (`t_embd`, an output) and the logits (an output).
    fn head(&mut self, cur: Id, out_ids: Id) {
        self.g.set_stage(Stage::Output);
        let mut cur = self.layer_norm(cur);
        self.g.output(cur);
        if self.d.head_scale {
            // minicpm3.cpp:127-128: `t_embd` scaled before the output product (a new tensor:
            // an output is never overwritten).
            cur = self.g.like(Op::Scale, cur, &[]);
        }
        if self.d.rows_after_norm {
            // cohere2moe.cpp:262-270: the final norm is `t_h_nextn` (an output), its output
            // rows `t_embd`.
            cur = self.g.op(
                Op::GetRows,
                Ty::F32,
                [self.d.n_embd, self.d.ub, 1, 1],
                &[cur, out_ids],
            );
            self.g.output(cur);
        }
        let mut logits = self.linear(cur, self.d.n_vocab, self.d.output_bias);
        if self.d.final_softcap {
            logits = self.g.like(Op::Scale, logits, &[]);
            logits = self.g.like(Op::Unary, logits, &[]);
            logits = self.g.like(Op::Scale, logits, &[]);
        }
        if self.d.logit_scale {
            logits = self.g.like(Op::Scale, logits, &[]);
        }
        self.g.output(logits);
        self.g.expand(logits);
    }

    /// `llama_model_hrm_text::graph` (hrm-text.cpp:168-213): the low stack reads `zH + zL`
    /// (`zL` first the learned `hrm.z_l_init` row, broadcast), the high stack too after the
    /// low passes; the output rows of the last `zH`, then the output product (no output norm:
    /// each stack ends with its own).
    fn hrm(&mut self, x: Hrm) {
        let d = self.d;
        let mut zh = self.embeddings();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let mut zl = w(&mut self.g, d.n_embd, 1);
        for h in 0..x.h_cycles {
            for l in 0..=x.l_cycles {
                let base = h
                    .saturating_mul(x.l_cycles.saturating_add(1))
                    .saturating_add(l)
                    .saturating_mul(x.lps);
                let inp = self.g.like(Op::Add, zh, &[zl]);
                let out = self.hrm_stack(inp, base, x.lps);
                if l < x.l_cycles {
                    zl = out;
                } else {
                    zh = out;
                }
            }
        }
        let rows = self
            .g
            .op(Op::GetRows, Ty::F32, [d.n_embd, d.ub, 1, 1], &[zh, out_ids]);
        self.g.output(rows);
        let logits = self.linear(rows, d.n_vocab, false);
        self.g.output(logits);
        self.g.expand(logits);
    }

    /// One stack pass (`build_stack`, hrm-text.cpp:93-166): `lps` pre-norm layers on the cache
    /// slots from `base`, then the stack's norm.
    fn hrm_stack(&mut self, mut cur: Id, base: usize, lps: usize) -> Id {
        let d = self.d;
        for l in d.layers.iter().skip(base).take(lps) {
            let inp_sa = cur;
            let x = self.g.like(Op::RmsNorm, cur, &[]);
            let gate = self.linear(x, l.n_head.saturating_mul(l.head_k), false);
            self.attn_gate = Some(AttnGate::Ready(gate));
            let qkv = self.qkv_roped(x, l, false);
            let attn = self.attn(qkv, l);
            let ffn_inp = self.g.like(Op::Add, attn, &[inp_sa]);
            let x = self.g.like(Op::RmsNorm, ffn_inp, &[]);
            let ffn = self.ffn(x, l);
            cur = self.g.like(Op::Add, ffn, &[ffn_inp]);
        }
        self.g.like(Op::RmsNorm, cur, &[])
    }

    /// The last layer keeps only the output rows (`inp_out_ids`) of its two inputs.
    fn out_rows(&mut self, a: Id, b: Id, out_ids: Id) -> (Id, Id) {
        let ne = [self.d.n_embd, self.d.ub, 1, 1];
        (
            self.g.op(Op::GetRows, Ty::F32, ne, &[a, out_ids]),
            self.g.op(Op::GetRows, Ty::F32, ne, &[b, out_ids]),
        )
    }

    /// `llama_model_phi3::graph` (src/models/phi3.cpp:95-215).
    fn phi3(&mut self) {
        let d = self.d;
        let mut inp = self.inp_embd();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let mut residual = inp;
            let cur = self.norm(inp, Op::RmsNorm, d.norm_bias);
            let qkv = self.qkv_roped(cur, l, true);
            let mut cur = self.attn(qkv, l);
            if il + 1 == n {
                (cur, residual) = self.out_rows(cur, residual, out_ids);
            }
            let cur = self.g.like(Op::Add, cur, &[residual]);
            let residual = cur;
            let cur = self.norm(cur, Op::RmsNorm, d.norm_bias);
            // build_ffn(up, no gate, down, LLM_FFN_SWIGLU, LLM_FFN_SEQ): `ggml_swiglu` halves
            // the up product; phimoe's routed experts instead (phi3.cpp:147-163).
            let cur = match &l.moe {
                Some(m) => self.moe(cur, m),
                None => {
                    let up = self.linear(cur, l.n_ff.saturating_mul(2), l.ffn_bias[0]);
                    let act = self.g.op(Op::Glu, Ty::F32, [l.n_ff, d.ub, 1, 1], &[up]);
                    self.linear(act, d.n_embd, l.ffn_bias[2])
                }
            };
            inp = self.g.like(Op::Add, residual, &[cur]);
        }
        self.head(inp, out_ids);
    }

    /// The input embeddings and what the graphs do to them before the first layer: scaled
    /// (gemma, granite), LayerNormed with a bias (bloom.cpp:77-80), learned positions added
    /// (`get_rows(pos_embd, inp_pos)`: gpt2.cpp:70-78, starcoder.cpp, mpt.cpp:80-88).
    fn embeddings(&mut self) -> Id {
        let d = self.d;
        let mut inp = self.inp_embd();
        if d.embd_scale {
            inp = self.g.like(Op::Scale, inp, &[]);
        }
        if d.embd_norm {
            inp = self.norm_with(inp, Op::Norm, true, true);
        }
        if d.embd_rms_norm {
            inp = self.g.like(Op::RmsNorm, inp, &[]);
        }
        if let (true, Some(pos)) = (d.pos_embd, self.inp_pos) {
            let table = w(&mut self.g, d.n_embd, d.ub);
            let rows = self
                .g
                .op(Op::GetRows, Ty::F32, [d.n_embd, d.ub, 1, 1], &[table, pos]);
            inp = self.g.like(Op::Add, inp, &[rows]);
        }
        inp
    }

    /// Attention and the FFN side by side ([`Parallel`]): `command-r.cpp:46-144`,
    /// `cohere2.cpp:50-159`, `phi2.cpp`, `falcon.cpp`, `gptneox.cpp` (`use_par_res`),
    /// `plamo.cpp`. The last layer keeps the output rows of what the rest of the layer reads.
    fn parallel(&mut self, style: Parallel) {
        let d = self.d;
        let mut inp = self.embeddings();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        let ne = [d.n_embd, d.ub, 1, 1];
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let mut normed = self.layer_norm(inp);
            // falcon.cpp:79-88: Falcon-40B's second norm feeds attention.
            let attn_in = if d.attn_norm_2 {
                self.layer_norm(inp)
            } else {
                normed
            };
            let qkv = self.qkv_roped(attn_in, l, d.q_scale);
            let mut cur = self.attn(qkv, l);
            if il + 1 == n && !d.rows_after_norm {
                cur = self.g.op(Op::GetRows, Ty::F32, ne, &[cur, out_ids]);
                inp = self.g.op(Op::GetRows, Ty::F32, ne, &[inp, out_ids]);
                normed = self.g.op(Op::GetRows, Ty::F32, ne, &[normed, out_ids]);
            }
            let attn_out = cur;
            inp = match style {
                // cohere2.cpp:120-132: ffn(norm) + input + attention.
                Parallel::Cohere => {
                    let f = self.ffn_or_moe(normed, l);
                    let f = self.g.like(Op::Add, f, &[inp]);
                    self.g.like(Op::Add, f, &[attn_out])
                }
                // gptneox.cpp:143-172: ffn(ffn_norm(input)) + input + attention.
                Parallel::NeoX => {
                    let x = self.layer_norm(inp);
                    let f = self.ffn_or_moe(x, l);
                    let f = self.g.like(Op::Add, f, &[inp]);
                    self.g.like(Op::Add, f, &[attn_out])
                }
                // falcon.cpp:121-135, plamo.cpp:97-112: ffn(norm) + attention + input.
                Parallel::Falcon => {
                    let f = self.ffn_or_moe(normed, l);
                    let f = self.g.like(Op::Add, f, &[attn_out]);
                    self.g.like(Op::Add, f, &[inp])
                }
                // phi2.cpp:108-117: attention + ffn(norm) + input.
                Parallel::Phi2 => {
                    let f = self.ffn_or_moe(normed, l);
                    let a = self.g.like(Op::Add, attn_out, &[f]);
                    self.g.like(Op::Add, a, &[inp])
                }
            };
        }
        self.head(inp, out_ids);
    }

    /// `llama_model_deci::graph` (src/models/deci.cpp:84-170).
    fn deci(&mut self) {
        let d = self.d;
        let mut inp = self.embeddings();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let mut inp_sa = inp;
            let mut cur = if l.n_head == 0 {
                inp
            } else {
                self.layer_norm(inp)
            };
            if l.n_head > 0 && l.n_head_kv == 0 {
                cur = self.linear(cur, d.n_embd, false);
            } else if l.n_head > 0 {
                let qkv = self.qkv_roped(cur, l, false);
                cur = self.attn(qkv, l);
            }
            if il + 1 == n {
                (cur, inp_sa) = self.out_rows(cur, inp_sa, out_ids);
            }
            if l.n_ff == 0 {
                continue;
            }
            let ffn_inp = if l.n_head > 0 {
                self.g.like(Op::Add, cur, &[inp_sa])
            } else {
                cur
            };
            let x = self.layer_norm(ffn_inp);
            let f = self.ffn(x, l);
            inp = self.g.like(Op::Add, f, &[ffn_inp]);
        }
        self.head(inp, out_ids);
    }

    /// `llama_model_glm5_next::graph` (src/models/glm5-next.cpp:549-682): the embeddings
    /// repeated into four hyper-connection streams; each layer's mixer (Kimi delta attention,
    /// [`Self::kda`], or the DSA layer, [`Self::dsa`]) and FFN (dense or routed with a shared
    /// expert) between the fused stream mixes of `build_hc_pre` / `build_hc_post`, the
    /// layer's norm expanded before its mixer (:597); the output rows kept before the streams
    /// are averaged (`narrow_early`, :655-662), the final norm (`t_h_nextn` and `t_embd`, an
    /// output) and the logits.
    fn glm5_next(&mut self, x: Glm5) {
        let d = self.d;
        let (ub, n) = (d.ub, d.n_embd);
        let inp = self.inp_embd();
        let kp = self.inp_kpool(x);
        let out_ids = self.g.input(Ty::I32, [ub, 1, 1, 1]);
        let mut inp_l = self.streams(inp, HC);
        let mut prev_sel = None;
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let residual = inp_l;
            let (cur, post, comb) = self.hc_pre(inp_l);
            let cur = self.norm(cur, Op::RmsNorm, false);
            self.g.expand(cur);
            let cur = match (l.mixer, l.mla) {
                (Mixer::Kda(k), _) => self.kda(cur, k),
                (_, Some(m)) => self.dsa(cur, l, m, &kp, &mut prev_sel),
                // `decoder` gives every layer one of the two.
                _ => cur,
            };
            inp_l = self.hc_post(cur, residual, post, comb);
            let residual = inp_l;
            let (cur, post, comb) = self.hc_pre(inp_l);
            let cur = self.norm(cur, Op::RmsNorm, false);
            let cur = self.ffn_or_moe(cur, l);
            inp_l = self.hc_post(cur, residual, post, comb);
        }
        let flat = self.g.reshape(inp_l, [n.saturating_mul(HC), ub, 1, 1]);
        let flat = self.g.op(
            Op::GetRows,
            Ty::F32,
            [n.saturating_mul(HC), ub, 1, 1],
            &[flat, out_ids],
        );
        let x3 = self.g.reshape(flat, [n, HC, ub, 1]);
        // build_hc_mean (:370-378): the first sum is a new tensor (its source is a view), the
        // others and the scale in place.
        let x_nb = nb(4, [n, HC, ub, 1]);
        let st = [4, x_nb[2], x_nb[3], x_nb[3]];
        let mut acc = self.g.view(x3, [n, ub, 1, 1], st, 0);
        for s in 1..HC {
            let v = self
                .g
                .view(x3, [n, ub, 1, 1], st, x_nb[1].saturating_mul(s));
            acc = self.g.like(Op::Add, acc, &[v]);
        }
        let acc = self.g.like(Op::Scale, acc, &[]);
        self.head(acc, out_ids);
    }

    /// `build_inp_kpool` (glm5-next.cpp:290-351) for the reserved graph: the indexer cache's
    /// store indices, the pools' cells, members and mask (f16: the fused lightning indexer),
    /// the tail cells, the selection slots' mask (all five expanded), the new pools' members
    /// and the cells their pooled keys go to (the empty layout is `cache_safe`).
    fn inp_kpool(&mut self, x: Glm5) -> Kpool {
        let d = self.d;
        let ub = d.ub;
        let kp = x.kpool;
        let n_pool_real = (x.kv_size / kp.max(1)).saturating_mul(x.n_seq_max);
        let n_pool = n_pool_real
            .saturating_add(1)
            .div_ceil(64)
            .saturating_mul(64)
            .max(64);
        let n_new = n_pool_real.max(1);
        let n_top = n_pool.min(x.top_k / kp.max(1));
        let tail = if x.select_tail {
            kp.saturating_sub(1)
        } else {
            0
        };
        let n_sel = kp.saturating_mul(n_top).saturating_add(tail);
        let g = &mut self.g;
        let k_idxs = g.input(Ty::I64, [ub, 1, 1, 1]);
        let pool_cells = g.input(Ty::I32, [n_pool, 1, 1, 1]);
        let pool_idxs = g.input(Ty::I32, [kp, n_pool, 1, 1]);
        let pool_mask = g.input(Ty::F16, [n_pool, ub, 1, 1]);
        let tail_idxs = g.input(Ty::I32, [kp.saturating_sub(1), ub, 1, 1]);
        for t in [pool_cells, pool_idxs, pool_mask, tail_idxs] {
            g.expand(t);
        }
        let gather_mask = g.input(Ty::F32, [n_sel, 1, 1, ub]);
        g.expand(gather_mask);
        let new_pool_idxs = g.input(Ty::I32, [kp, n_new, 1, 1]);
        let new_pool_rep = g.input(Ty::I64, [n_new, 1, 1, 1]);
        Kpool {
            k_idxs,
            pool_cells,
            pool_idxs,
            pool_mask,
            tail_idxs,
            gather_mask,
            new_pool_idxs,
            new_pool_rep,
            n_pool,
            n_new,
            n_top,
            n_sel,
            x,
        }
    }

    /// `build_hc_pre` (glm5-next.cpp:454-510) with the fused stream ops llama.cpp's CPU backend
    /// resolves (`resolve_fused_ops`, src/llama-context.cpp:575-581): the flattened streams
    /// RMS-normed, the 24 mixes, the pre and post weights (views of the mixes scaled, biased,
    /// a sigmoid, scaled: in place after the first), `ggml_dsv4_hc_comb` and
    /// `ggml_dsv4_hc_pre` (ggml.c:6468-6562). Returns the mixed input, post and comb.
    fn hc_pre(&mut self, x: Id) -> (Id, Id, Id) {
        let (ub, n) = (self.d.ub, self.d.n_embd);
        let mix = (2 + HC) * HC;
        let flat = self.g.reshape(x, [n.saturating_mul(HC), ub, 1, 1]);
        let flat_norm = self.g.like(Op::RmsNorm, flat, &[]);
        let mixes = self.linear(flat_norm, mix, false);
        let scale = self.g.weight(Ty::F32, [3, 1, 1, 1]);
        let base = self.g.weight(Ty::F32, [mix, 1, 1, 1]);
        let m_nb = nb(4, [mix, ub, 1, 1]);
        let st = [4, m_nb[1], m_nb[2], m_nb[2]];
        let weights = |b: &mut Self, off: u64| {
            let v = b.g.view(mixes, [HC, ub, 1, 1], st, off);
            let s = w(&mut b.g, 1, 1);
            let v = b.g.like(Op::Mul, v, &[s]);
            let bias = w(&mut b.g, HC, 1);
            let v = b.g.like(Op::Add, v, &[bias]);
            let v = b.g.like(Op::Unary, v, &[]);
            b.g.like(Op::Scale, v, &[])
        };
        let pre = weights(self, 0);
        let post = weights(self, HC * 4);
        let comb = self
            .g
            .op(Op::Other, Ty::F32, [HC, HC, ub, 1], &[mixes, scale, base]);
        let cur = self.g.op(Op::Other, Ty::F32, [n, ub, 1, 1], &[x, pre]);
        (cur, post, comb)
    }

    /// `build_hc_post` (glm5-next.cpp:512-547) fused (`ggml_dsv4_hc_post`, ggml.c:6574-6617):
    /// the streams `[n_embd, 4, n_tokens]` from the branch's output and the residual ones.
    fn hc_post(&mut self, x: Id, residual: Id, post: Id, comb: Id) -> Id {
        let (ub, n) = (self.d.ub, self.d.n_embd);
        self.g.op(
            Op::Other,
            Ty::F32,
            [n, HC, ub, 1],
            &[x, residual, post, comb],
        )
    }

    /// `build_dsa_layer` (glm5-next.cpp:923-1013) for the reserved ubatch (the scatter form:
    /// `gather` needs at most 16 tokens): Q from its low-rank products, the normed latent KV,
    /// Q absorbed into the latent space (`wk_b`), the layer's own indexer selection
    /// ([`Self::kpool_select`]) or the last one, Q, the latent and its store expanded
    /// (:966-968), then `build_attn_mha` (src/llama-graph.cpp:2616-2755) over the K-only
    /// cache with the selection as its mask, `wv_b` decompressing after attention, the output
    /// product.
    fn dsa(&mut self, cur: Id, l: &Layer, m: Mla, kp: &Kpool, prev_sel: &mut Option<Id>) -> Id {
        let d = self.d;
        let (ub, nh) = (d.ub, l.n_head);
        let kv = m.kv_lora;
        let qr = self.linear(cur, m.q_lora.unwrap_or(0), false);
        let qr = self.norm(qr, Op::RmsNorm, false);
        let q = self.linear(qr, nh.saturating_mul(m.nope), false);
        let q = self.g.reshape(q, [m.nope, nh, ub, 1]);
        let kv_cmpr = self.linear(cur, kv, false);
        let kv_cmpr = self.norm(kv_cmpr, Op::RmsNorm, false);
        let kv_cmpr = self.g.reshape(kv_cmpr, [kv, 1, ub, 1]);
        let qp = self.g.permute(q, [0, 2, 1, 3]);
        let wk_b = self.g.weight(Ty::F16, [m.nope, kv, nh, 1]);
        let absorbed = self.g.mul_mat(wk_b, qp);
        let absorbed = self.g.permute(absorbed, [0, 2, 1, 3]);
        let c = self.caches[0];
        let sel = match (l.indexer_full, *prev_sel) {
            (false, Some(s)) => s,
            _ => {
                let s = self.kpool_select(cur, qr, c.mask, kp);
                *prev_sel = Some(s);
                s
            }
        };
        self.g.expand(absorbed);
        self.g.expand(kv_cmpr);
        let n_kv = c.n_kv;
        let k_cache = self.g.cache(Ty::F16, [kv, n_kv, 1, 1]);
        let k_rows = self
            .g
            .view(kv_cmpr, [kv, ub, 1, 1], nb(4, [kv, ub, 1, 1]), 0);
        let st = self.g.set_rows(k_cache, k_rows, c.k_idxs);
        self.g.expand(st);
        let mask = self.g.reshape(sel, [n_kv, ub, 1, 1]);
        let ks = nb(2, [kv, 1, n_kv, 1]);
        let kk = self.g.view(k_cache, [kv, 1, n_kv, 1], ks, 0);
        let vv = self.g.view(kk, [kv, 1, n_kv, 1], ks, 0);
        let a_nb = nb(4, [kv, ub, nh, 1]);
        let q4 = self.g.view(
            absorbed,
            [kv, nh, ub, 1],
            [4, a_nb[2], a_nb[1], a_nb[1].saturating_mul(ub)],
            0,
        );
        let qp = self.g.permute(q4, [0, 2, 1, 3]);
        let kp_ = self.g.permute(kk, [0, 2, 1, 3]);
        let vp = self.g.permute(vv, [0, 2, 1, 3]);
        let out = self.mla_mha([qp, kp_, vp, mask], m, nh);
        self.linear(out, d.n_embd, false)
    }

    /// `build_kpool_select` (glm5-next.cpp:766-919), scatter form: the indexer's queries, the
    /// per-token key (LayerNormed) and pool gate packed with zeros and stored
    /// (`cpy_k` into the indexer cache), the new pools gathered from it and pooled (a softmax
    /// over each pool's gates), stored (`scatter_pooled`, expanded), every pool's key gathered,
    /// the fused lightning indexer's scores (`ggml_lightning_indexer`, ggml.c:6432-6466:
    /// `cparams.fused_lid` is always on, src/llama-context.cpp:237-238), the top pools ordered
    /// by score, their member cells and the tail's, and the additive mask they scatter into
    /// (`-inf` everywhere, zeros at the selected cells), the causal mask added.
    fn kpool_select(&mut self, cur: Id, qr: Id, kq_mask: Id, kp: &Kpool) -> Id {
        let d = self.d;
        let ub = d.ub;
        let x = kp.x;
        let (di, nih, k) = (x.head_size, x.n_head, x.kpool);
        let n_kv = self.caches[0].n_kv;
        let iq = self.linear(qr, di.saturating_mul(nih), false);
        let iq = self.g.reshape(iq, [di, nih, ub, 1]);
        let ik = self.linear(cur, di, false);
        let ik = self.norm(ik, Op::Norm, true);
        let ig = self.linear(cur, di, false);
        let g = &mut self.g;
        let zero = g.leaf(Ty::F32, [di, ub, 1, 1]);
        let pzero = g.like(Op::Fill, zero, &[]);
        let kg = g.op(
            Op::Concat,
            Ty::F32,
            [di.saturating_mul(2), ub, 1, 1],
            &[ik, ig],
        );
        let w3 = di.saturating_mul(3);
        let packed = g.op(Op::Concat, Ty::F32, [w3, ub, 1, 1], &[kg, pzero]);
        let packed = g.reshape(packed, [w3, 1, ub, 1]);
        let cache = g.cache(Ty::F16, [w3, x.kv_size, 1, 1]);
        let rows_in = g.view(packed, [w3, ub, 1, 1], nb(4, [w3, ub, 1, 1]), 0);
        let st = g.set_rows(cache, rows_in, kp.k_idxs);
        g.expand(st);
        // kpool_access (src/llama-memory-hybrid-idx.cpp:935-945): views of the cache's rows.
        let c_nb = nb(2, [w3, x.kv_size, 1, 1]);
        let key_gate = g.view(cache, [di.saturating_mul(2), x.kv_size, 1, 1], c_nb, 0);
        let pooled_c = g.view(cache, [di, x.kv_size, 1, 1], c_nb, di.saturating_mul(4));
        let members = k.saturating_mul(kp.n_new);
        let npi = g.reshape(kp.new_pool_idxs, [members, 1, 1, 1]);
        let rows = g.op(
            Op::GetRows,
            Ty::F32,
            [di.saturating_mul(2), members, 1, 1],
            &[key_gate, npi],
        );
        let rows = g.reshape(rows, [di.saturating_mul(2), k, kp.n_new, 1]);
        let r_nb = nb(4, [di.saturating_mul(2), k, kp.n_new, 1]);
        let pk = g.view(rows, [di, k, kp.n_new, 1], r_nb, 0);
        let pg = g.view(rows, [di, k, kp.n_new, 1], r_nb, di.saturating_mul(4));
        let ape = g.weight(Ty::F32, [di, k, 1, 1]);
        let logits = g.like(Op::Add, pg, &[ape]);
        let logits = g.permute(logits, [1, 0, 2, 3]);
        let logits = g.cont(logits);
        let logits = g.reshape(logits, [k, di.saturating_mul(kp.n_new), 1, 1]);
        let probs = g.like(Op::SoftMax, logits, &[]);
        let probs = g.reshape(probs, [k, di, kp.n_new, 1]);
        let pk = g.permute(pk, [1, 0, 2, 3]);
        let pk = g.cont(pk);
        let prod = g.like(Op::Mul, probs, &[pk]);
        let pooled_new = g.op(Op::Other, Ty::F32, [1, di, kp.n_new, 1], &[prod]);
        let pooled_new = g.reshape(pooled_new, [di, kp.n_new, 1, 1]);
        let st = g.set_rows(pooled_c, pooled_new, kp.new_pool_rep);
        g.expand(st);
        let pooled = g.op(
            Op::GetRows,
            Ty::F32,
            [di, kp.n_pool, 1, 1],
            &[pooled_c, kp.pool_cells],
        );
        let pooled = g.reshape(pooled, [di, 1, kp.n_pool, 1]);
        let weights = self.linear(cur, nih, false);
        let g = &mut self.g;
        let weights = g.like(Op::Scale, weights, &[]);
        let score = g.op(
            Op::Other,
            Ty::F32,
            [kp.n_pool, ub, 1, 1],
            &[iq, pooled, weights, kp.pool_mask],
        );
        let n_top = kp.n_top;
        let top_k = g.op(Op::Other, Ty::I32, [n_top, ub, 1, 1], &[score]);
        let score3 = g.reshape(score, [1, kp.n_pool, ub, 1]);
        let sel_score = g.op(Op::GetRows, Ty::F32, [1, n_top, ub, 1], &[score3, top_k]);
        let sel_score = g.reshape(sel_score, [n_top, ub, 1, 1]);
        let order = g.op(Op::Other, Ty::I32, [n_top, ub, 1, 1], &[sel_score]);
        let top_f = g.cast(top_k, Ty::F32);
        let top_f = g.reshape(top_f, [1, n_top, ub, 1]);
        let top = g.op(Op::GetRows, Ty::F32, [1, n_top, ub, 1], &[top_f, order]);
        let top = g.reshape(top, [n_top, ub, 1, 1]);
        let top = g.cont(top);
        let top = g.cast(top, Ty::I32);
        let top = g.reshape(top, [n_top.saturating_mul(ub), 1, 1, 1]);
        let sel_idx = g.op(
            Op::GetRows,
            Ty::I32,
            [k, n_top.saturating_mul(ub), 1, 1],
            &[kp.pool_idxs, top],
        );
        let sel_idx = g.reshape(sel_idx, [k.saturating_mul(n_top), ub, 1, 1]);
        let n_sel = kp.n_sel;
        let sel_idx = if x.select_tail {
            g.op(
                Op::Concat,
                Ty::I32,
                [n_sel, ub, 1, 1],
                &[sel_idx, kp.tail_idxs],
            )
        } else {
            sel_idx
        };
        // The scatter (:889-918).
        let first = g.view(sel_idx, [1, 1, 1, 1], nb(4, [1, 1, 1, 1]), 0);
        let seed = g.cast(first, Ty::F32);
        let mask_ty = if d.flash_attn { Ty::F16 } else { Ty::F32 };
        let mask_seed = if d.flash_attn {
            g.cast(seed, Ty::F16)
        } else {
            seed
        };
        let mask_seed = g.like(Op::Fill, mask_seed, &[]);
        let all = n_kv.saturating_add(n_sel);
        let mask_all = g.op(Op::Other, mask_ty, [1, all, ub, 1], &[mask_seed]);
        let mask_all = g.reshape(mask_all, [1, all, ub, 1]);
        let zero_seed = g.like(Op::Fill, seed, &[]);
        let zeros = g.op(Op::Other, Ty::F32, [1, n_sel, ub, 1], &[zero_seed]);
        let zeros = g.reshape(zeros, [1, n_sel, ub, 1]);
        let gm = g.reshape(kp.gather_mask, [n_sel, ub, 1, 1]);
        let live = g.like(Op::Unary, gm, &[]);
        let dump = g.op(Op::Other, Ty::F32, [n_sel, 1, 1, 1], &[]);
        let idx_f = g.cast(sel_idx, Ty::F32);
        let idx_f = g.like(Op::Sub, idx_f, &[dump]);
        let idx_f = g.like(Op::Mul, idx_f, &[live]);
        let idx_f = g.like(Op::Add, idx_f, &[dump]);
        let sel_i = g.cast(idx_f, Ty::I32);
        let sel_i = g.reshape(sel_i, [n_sel, ub, 1, 1]);
        let sel = g.set_rows(mask_all, zeros, sel_i);
        let m_nb = nb(if d.flash_attn { 2 } else { 4 }, [1, all, ub, 1]);
        let sel = g.view(
            sel,
            [n_kv, ub, 1, 1],
            [m_nb[0], m_nb[2], m_nb[3], m_nb[3]],
            0,
        );
        let km = g.reshape(kq_mask, [n_kv, ub, 1, 1]);
        g.like(Op::Add, sel, &[km])
    }

    /// `llama_model_falcon_h1::graph` (src/models/falcon-h1.cpp:112-209).
    fn falcon_h1(&mut self) {
        let d = self.d;
        let mut inp = self.embeddings();
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let cur = self.layer_norm(inp);
            let qkv = self.qkv_roped(cur, l, false);
            let attn = self.attn(qkv, l);
            // Every layer has its mixer (`decoder`).
            let sum = match l.mixer {
                Mixer::Ssm(ssm) => {
                    let cur = self.layer_norm(inp);
                    let ssm = self.ssm(cur, ssm);
                    self.g.like(Op::Add, attn, &[ssm])
                }
                _ => attn,
            };
            let mut ffn_inp = self.g.like(Op::Add, sum, &[inp]);
            if il + 1 == n {
                ffn_inp = self.g.op(
                    Op::GetRows,
                    Ty::F32,
                    [d.n_embd, d.ub, 1, 1],
                    &[ffn_inp, out_ids],
                );
            }
            let cur = self.layer_norm(ffn_inp);
            let cur = self.ffn(cur, l);
            inp = self.g.like(Op::Add, cur, &[ffn_inp]);
        }
        self.head(inp, out_ids);
    }

    /// The pre-norm decoder of `llama_model_llama::graph` (src/models/llama.cpp:110-245) and
    /// what the other standard graphs change in it ([`Family`]): the norms around attention and
    /// the FFN as `gemma3.cpp:85-200` and `olmo2.cpp:75-195` place them, the embeddings and Q
    /// scaled as `gemma.cpp` does.
    fn standard(&mut self) {
        let d = self.d;
        let mut inp = self.embeddings();
        let mut skip = inp;
        let out_ids = self.g.input(Ty::I32, [d.ub, 1, 1, 1]);
        let n = d.layers.len();
        for (il, l) in d.layers.iter().enumerate() {
            self.g
                .set_stage(Stage::Layer(u32::try_from(il).unwrap_or(u32::MAX)));
            let mut inp_sa = inp;
            // smallthinker.cpp:109: the router reads the layer input, before its norm.
            let mut probs = match &l.moe {
                Some(m) if m.router_on_input => {
                    let gate_inp = self.g.weight(Ty::F16, [d.n_embd, m.n_expert, 1, 1]);
                    Some(self.g.mul_mat(gate_inp, inp))
                }
                _ => None,
            };
            let cur = if d.pre_norm {
                self.layer_norm(inp)
            } else {
                inp
            };
            if d.attn_gate {
                self.attn_gate = Some(AttnGate::Product(cur));
            }
            if d.attn_gate_per_head {
                self.attn_gate = Some(AttnGate::PerHead(cur));
            }
            if d.expand_norm {
                self.g.expand(cur);
            }
            let mut cur = match l.mixer {
                Mixer::Ffn => self.ffn_or_moe(cur, l),
                // mamba.cpp:98-101, granite-hybrid.cpp:159-165: the recurrent mixer.
                Mixer::Ssm(ssm) => self.ssm(cur, ssm),
                Mixer::Plamo2(p) => self.plamo2_mamba(cur, p),
                Mixer::Lightning(x) => self.lightning(cur, x),
                // qwen35.cpp:33-41: the gated delta net or the gated attention.
                Mixer::Gdn(gdn) => self.gdn(cur, gdn),
                Mixer::ShortConv(d_conv) => self.shortconv(cur, d_conv),
                Mixer::Kda(k) => self.kda(cur, k),
                Mixer::Attention => match l.mla {
                    Some(m) if m.absorbed => self.attn_mla(cur, l, m),
                    Some(m) => {
                        let qkv = self.qkv_mla_plain(cur, l, m);
                        self.attn(qkv, l)
                    }
                    None if l.msa => self.attn_msa(cur, l),
                    None if d.gated_q => {
                        let qkv = self.qkv_gated(cur, l);
                        self.attn(qkv, l)
                    }
                    None => {
                        let qkv = self.qkv_roped(cur, l, d.q_scale);
                        self.attn(qkv, l)
                    }
                },
            };
            // afmoe.cpp:192-195: the attention's post norm before the output rows.
            if d.post_norm && d.post_norm_before_rows {
                cur = self.norm(cur, d.norm, false);
            }
            if il + 1 == n && !d.rows_after_layers && !d.rows_after_norm && !d.all_rows {
                (cur, inp_sa) = self.out_rows(cur, inp_sa, out_ids);
                probs = probs.map(|p| {
                    let ne = self.g.ne(p);
                    self.g.op(Op::GetRows, Ty::F32, ne, &[p, out_ids])
                });
                if d.embd_skip {
                    skip = self.g.op(
                        Op::GetRows,
                        Ty::F32,
                        [d.n_embd, d.ub, 1, 1],
                        &[skip, out_ids],
                    );
                }
            }
            if d.post_norm && !d.post_norm_before_rows {
                cur = self.norm(cur, d.norm, false);
            }
            // openelm.cpp:126-130: the residual first.
            let ffn_inp = if d.residual_first {
                self.g.like(Op::Add, inp_sa, &[cur])
            } else {
                self.g.like(Op::Add, cur, &[inp_sa])
            };
            if l.no_ffn {
                inp = ffn_inp;
                continue;
            }
            let cur = if d.pre_norm {
                self.layer_norm(ffn_inp)
            } else {
                ffn_inp
            };
            self.router_logits = probs;
            let mut cur = match &l.moe {
                Some(m) if m.on_layer_input => self.ffn(cur, l),
                _ => self.ffn_or_moe(cur, l),
            };
            if d.post_norm {
                cur = self.norm(cur, d.norm, false);
            }
            inp = if d.ffn_residual_first {
                self.g.like(Op::Add, ffn_inp, &[cur])
            } else {
                self.g.like(Op::Add, cur, &[ffn_inp])
            };
            if d.embd_skip {
                let scale = w(&mut self.g, d.n_embd, 1);
                let scaled = self.g.like(Op::Mul, skip, &[scale]);
                inp = self.g.like(Op::Add, inp, &[scaled]);
            }
            if let Some(m) = l.moe.as_ref().filter(|m| m.on_layer_input) {
                let x = self.norm(inp_sa, d.norm, false);
                let moe = self.moe(x, m);
                inp = self.g.like(Op::Add, moe, &[inp]);
            }
        }
        if d.rows_after_layers {
            // openai-moe.cpp:155-159: the last layer's output is `t_h_nextn` (an output), its
            // output rows kept before the final norm.
            self.g.output(inp);
            inp = self.g.op(
                Op::GetRows,
                Ty::F32,
                [d.n_embd, d.ub, 1, 1],
                &[inp, out_ids],
            );
        }
        self.head(inp, out_ids);
    }
}

/// How an architecture's graph calls `build_moe_ffn` and adds its shared experts.
struct MoeConfig {
    gating: Gating,
    norm_w: bool,
    shared: SharedKind,
    /// Router and expert biases (`build_moe_ffn`'s biased overload).
    biases: bool,
    /// The graph passes a fused `ffn_gate_up_exps` where the file has one.
    fused_gate_up: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SharedKind {
    None,
    /// `moe + shared`, the shared expert built after the routed ones.
    Add,
    /// Built first (hunyuan-moe.cpp:138-161).
    First,
    /// `(moe + shared) * 0.5` (cohere2moe.cpp:243-254).
    AddHalf,
    /// Gated by a sigmoid (qwen2moe.cpp:147-166).
    SigmoidGated,
    /// Gated by `ggml_sigmoid` (qwen35moe.cpp:289-305).
    Sigmoid,
}

/// The `build_moe_ffn` arguments of the graphs replayed here: the gating function and
/// `norm_w` each passes (a constant, or `expert_gating_func` / `expert_weights_norm` from the
/// file), and its shared experts.
fn moe_config(
    arch: &str,
    h: &crate::table::Hparams,
    n_layer: usize,
    n_vocab: u64,
) -> Option<MoeConfig> {
    let from_file = || match h.int("expert_gating_func") {
        Some(1) => Some(Gating::Softmax),
        Some(2) => Some(Gating::Sigmoid),
        Some(3) => Some(Gating::SoftmaxWeight),
        _ => None,
    };
    let norm_from_file = h.int("expert_weights_norm").is_some_and(|v| v != 0);
    let base = |gating, norm_w, shared| MoeConfig {
        gating,
        norm_w,
        shared,
        biases: false,
        fused_gate_up: false,
    };
    let c = |gating, norm_w, shared| Some(base(gating, norm_w, shared));
    use Gating::Softmax;
    match arch {
        // llama.cpp:207-219, mistral3, qwen3moe.cpp, dbrx.cpp, granite.cpp (granitemoe),
        // ernie4-5-moe.cpp, hunyuan-moe.cpp:147-158.
        // mellum.cpp:172-187, phi3.cpp:149-160 (phimoe).
        "llama" | "mistral3" | "qwen3moe" | "dbrx" | "qwen3vlmoe" | "mellum" | "phimoe" => {
            c(Softmax, true, SharedKind::None)
        }
        // granite-hybrid.cpp:268-292.
        // arctic.cpp:95-105.
        "granitemoe" | "granitehybrid" | "granite_swa" | "minicpm" | "ernie4_5-moe" | "arctic" => {
            c(Softmax, true, SharedKind::Add)
        }
        "hunyuan-moe" => c(Softmax, true, SharedKind::First),
        // qwen2moe.cpp:131-142, olmoe.cpp, deepseek.cpp:145-155: no normalisation.
        "qwen2moe" => c(Softmax, false, SharedKind::SigmoidGated),
        // qwen35moe.cpp:271-305: a fused gate/up product where the file has one.
        "qwen35moe" | "qwen3next" => Some(MoeConfig {
            fused_gate_up: true,
            ..base(Softmax, true, SharedKind::Sigmoid)
        }),
        "olmoe" => c(Softmax, false, SharedKind::None),
        // llada-moe.cpp:126-136, rnd1.cpp:139-149.
        "llada-moe" => c(Softmax, false, SharedKind::None),
        "rnd1" => c(Softmax, true, SharedKind::None),
        // kimi-linear.cpp:508-538.
        "kimi-linear" => c(from_file()?, true, SharedKind::Add),
        // glm5-next.cpp:624-644 (sigmoid where the file gives none, :31-33).
        "glm5-next" => c(
            match h.int("expert_gating_func") {
                None | Some(0) => Gating::Sigmoid,
                _ => from_file()?,
            },
            norm_from_file,
            SharedKind::Add,
        ),
        // lfm2.cpp:115-127.
        "lfm2moe" => c(from_file()?, true, SharedKind::None),
        // jamba.cpp:170-180.
        "jamba" => c(Softmax, false, SharedKind::None),
        "deepseek" => c(Softmax, false, SharedKind::Add),
        // bailingmoe.cpp:128-138.
        "bailingmoe" => c(Softmax, norm_from_file, SharedKind::Add),
        // bailingmoe2.cpp:66-88.
        "bailingmoe2" => c(from_file()?, norm_from_file, SharedKind::Add),
        // dots1.cpp:145-155, glm4-moe.cpp:390-400 and afmoe.cpp:214-235 (sigmoid unless the
        // file says otherwise, glm4-moe.cpp:14-18), minimax-m2.cpp:130-140.
        "dots1" => c(from_file()?, norm_from_file, SharedKind::Add),
        "glm4moe" | "afmoe" => c(
            from_file().unwrap_or(Gating::Sigmoid),
            norm_from_file,
            SharedKind::Add,
        ),
        "minimax-m2" => c(from_file()?, true, SharedKind::None),
        // minimax-m3.cpp:470-492: the file's gating and normalisation, the shared expert
        // (SwiGLU-OAI: the shapes of SwiGLU) added after the routed ones.
        "minimax-m3" => c(from_file()?, norm_from_file, SharedKind::Add),
        // cohere2moe.cpp:226-254 (sigmoid unless the file says otherwise, :21-25).
        "cohere2moe" => Some(MoeConfig {
            fused_gate_up: true,
            ..base(
                from_file().unwrap_or(Gating::Sigmoid),
                norm_from_file,
                SharedKind::AddHalf,
            )
        }),
        // laguna.cpp:277-300 (sigmoid where the file gives none, :53-55), the shared expert
        // added after the routed ones.
        "laguna" => c(
            from_file().unwrap_or(Gating::Sigmoid),
            norm_from_file,
            SharedKind::Add,
        ),
        // minimax-01.cpp:442-455.
        "minimax-01" => c(Softmax, true, SharedKind::None),
        // kimi-k3.cpp:584-596: the file's gating, SiTU experts, the shared expert added.
        "kimi-k3" => c(from_file()?, norm_from_file, SharedKind::Add),
        // hy-v4.cpp:552-574: the file's gating, the shared expert added.
        "hy_v4" => c(from_file()?, norm_from_file, SharedKind::Add),
        // bailingmoe3.cpp:381-398: the file's gating (required), the shared expert added.
        "bailingmoe3" => c(from_file()?, norm_from_file, SharedKind::Add),
        // grovemoe.cpp:137-166.
        "grovemoe" => c(Softmax, true, SharedKind::None),
        // smallthinker.cpp:148-159 (ReGLU experts: the same shapes as SwiGLU).
        "smallthinker" => c(from_file()?, true, SharedKind::None),
        // exaone-moe.cpp:188-213.
        "exaone-moe" => c(from_file()?, norm_from_file, SharedKind::Add),
        // grok.cpp:158-168 (GELU experts: the same shapes as SwiGLU).
        "grok" => c(Softmax, true, SharedKind::None),
        // hy-v3.cpp:52-79.
        "hy_v3" => Some(MoeConfig {
            fused_gate_up: true,
            ..base(from_file()?, norm_from_file, SharedKind::Add)
        }),
        // maple.cpp:49-59.
        "maple" => c(Softmax, true, SharedKind::None),
        // mimo2.cpp:202-225.
        "mimo2" => c(Gating::Sigmoid, true, SharedKind::None),
        // nemotron-h.cpp:281-300 (squared-ReLU experts without a gate, their shared one too).
        "nemotron_h_moe" => c(Gating::Sigmoid, norm_from_file, SharedKind::Add),
        // llama4.cpp:219-241.
        "llama4" => c(Gating::Sigmoid, false, SharedKind::Add),
        // openai-moe.cpp:132-142: biases, softmax over the selected, SwiGLU-OAI.
        "gpt-oss" => Some(MoeConfig {
            biases: true,
            ..base(Gating::SoftmaxWeight, false, SharedKind::None)
        }),
        // deepseek32.cpp:422-453, dots3note.cpp:425-452 (the gating from the file), glm-dsa.cpp
        // (sigmoid unless the file says otherwise, :54-57).
        "deepseek32" | "dots3note" => c(from_file()?, norm_from_file, SharedKind::Add),
        "glm-dsa" => c(
            from_file().unwrap_or(Gating::Sigmoid),
            norm_from_file,
            SharedKind::Add,
        ),
        // deepseek2.cpp:586-611 (the gating default of :21-28: sigmoid for the 47/48-layer,
        // 154,880-token GLM-4.7-Flash files, else softmax).
        // mistral4: deepseek2's loader and graph (models.h:1399-1406).
        "deepseek2" | "mistral4" => {
            let glm = matches!(n_layer, 47 | 48) && n_vocab == 154_880;
            let default = if glm { Gating::Sigmoid } else { Softmax };
            Some(MoeConfig {
                fused_gate_up: true,
                ..base(
                    from_file().unwrap_or(default),
                    norm_from_file,
                    SharedKind::Add,
                )
            })
        }
        _ => None,
    }
}

/// Graphs of [`Family::Llama`] built with the iSWA input (`build_attn_inp_kv_iswa`).
const ISWA: &[&str] = &[
    "maple",
    "muse-glimmer",
    "spark2_5",
    "granite_swa",
    "lfm2",
    "lfm2moe",
    "gpt-oss",
    "llama4",
    "exaone-moe",
    "cohere2moe",
    "smallthinker",
    "afmoe",
    "mellum",
    "plamo3",
    "mimo2",
    "dots3note",
    "laguna",
];

/// The graphs whose layer and output norms are LayerNorms (`LLM_NORM`), with biases where the
/// file has `output_norm.bias`.
const LAYER_NORM: &[&str] = &[
    "pockettts",
    "orion",
    "phi2",
    "falcon",
    "gptneox",
    "gpt2",
    "starcoder",
    "bloom",
    "mpt",
    "dbrx",
    "command-r",
    "cohere2",
    "starcoder2",
    "codeshell",
    "nemotron",
    "jais2",
    "olmo",
    "jais",
    "stablelm",
];

/// The decoder of a file whose architecture's graph is written here, as the table loaded it
/// (per-layer widths from `load_hparams`, optional tensors from `load_tensors`), for one KV
/// stream and an f16 or bf16 cache; `None` otherwise (the estimate of `compute.rs` stands).
pub(crate) fn decoder(
    l: &crate::table::Loaded,
    ub: u64,
    n_kv: u64,
    n_kv_swa: Option<u64>,
    n_vocab: u64,
    o: &super::MemoryOptions,
) -> Option<Decoder> {
    use ggufscope_gguf::GgmlType;
    let arch = l.arch.as_str();
    let family = match Family::of(arch)? {
        // gptneox.cpp:178-195: without `use_par_res` the layers are sequential.
        Family::Parallel(Parallel::NeoX) if l.hparams.int("use_par_res") == Some(0) => {
            Family::Llama
        }
        f => f,
    };
    let streams = if o.kv_unified { 1 } else { o.n_parallel.max(1) };
    // f16 and bf16 caches, and the quantized ones `--cache-type-k/-v` take (read in place by
    // the attention; f32 adds casts, not written here).
    let cache_ok = |t: GgmlType| {
        matches!(
            t,
            GgmlType::F16
                | GgmlType::BF16
                | GgmlType::Q8_0
                | GgmlType::Q4_0
                | GgmlType::Q4_1
                | GgmlType::Q5_0
                | GgmlType::Q5_1
                | GgmlType::IQ4_NL
        )
    };
    // Several KV streams (`--parallel N` without `--kv-unified`): `build_attn_mha` splits the
    // ubatch into one group of `ub / n_stream` tokens per stream, each attending to its own
    // stream's `n_kv` cells (src/llama-graph.cpp:2140-2160, src/llama-kv-cache.cpp get_k/get_v):
    // every tensor the allocator places has the bytes of one stream of `n_kv` cells over the
    // whole ubatch, so the graph is replayed with the per-stream cells (`n_kv`, from the plan).
    // Written for the attention of `build_attn` only (checked below).
    // A recurrent layer reads `ub / n_seqs` tokens of each of the ubatch's `n_seq_max`
    // sequences (`graph_reserve` rounds `n_tokens` up to a multiple, not written here).
    if (streams > 1 && ub % streams != 0)
        || ub % o.n_parallel.max(1) != 0
        || !cache_ok(o.type_k)
        || !cache_ok(o.type_v)
        || ub == 0
    {
        return None;
    }
    let has = |il: u32, suffix: &str| {
        l.tensors
            .iter()
            .any(|t| t.created && t.layer == i64::from(il) && t.name.ends_with(suffix))
    };
    // A created tensor's dimension.
    let dim = |il: u32, suffix: &str, axis: usize| {
        l.tensors
            .iter()
            .find(|t| t.created && t.layer == i64::from(il) && t.name.ends_with(suffix))
            .and_then(|t| t.shape.get(axis).copied())
    };
    let u = |v: i64| u64::try_from(v).ok().filter(|&v| v > 0);
    // Sizes a real model has, checked before any graph is built: llama.cpp's layer limit
    // (`LLAMA_MAX_LAYERS`), widths up to 2^24, contexts and vocabularies up to 2^32. A hostile
    // header beyond them gets the estimate (whose arithmetic saturates) instead of a graph.
    const MAX_WIDTH: i64 = 1 << 24;
    const MAX_CELLS: u64 = 1 << 32;
    // A width read off a tensor's shape, held to the same bound.
    let width = |v: i64| u(v).filter(|&v| v <= MAX_WIDTH as u64);
    let n_layer = usize::try_from(l.n_layer)
        .ok()
        .filter(|&n| n as u64 <= crate::MAX_LAYERS)?;
    if ub > MAX_CELLS
        || n_kv > MAX_CELLS
        || n_kv_swa.is_some_and(|n| n > MAX_CELLS)
        || n_vocab > MAX_CELLS
    {
        return None;
    }
    let wide = |x: &crate::table::LayerFacts| {
        [
            x.n_head,
            x.n_head_kv,
            x.n_embd_head_k,
            x.n_embd_head_v,
            x.n_ff,
            x.n_ff_exp,
            x.n_expert_used,
        ]
        .iter()
        .any(|&v| v > MAX_WIDTH)
    };
    if l.layers.iter().take(n_layer).any(wide) {
        return None;
    }
    let n_expert = l
        .hparams
        .int("n_expert")
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0);
    // `LLAMA_MAX_EXPERTS` (src/llama-hparams.h:12): llama.cpp refuses more.
    if n_expert > 1024 {
        return None;
    }
    let w_scale = l.hparams.float("expert_weights_scale").unwrap_or(0.0);
    // Expert groups (`n_expert_groups > 1`), as `load_hparams` checks them
    // (src/llama-model.cpp:1764-1770 of the table's generator input).
    let groups = match l.hparams.int("n_expert_groups").unwrap_or(0) {
        g if g > 1 => {
            let g = u64::try_from(g).ok()?;
            let used = u64::try_from(l.hparams.int("n_group_used")?).ok()?;
            if n_expert % g != 0 || n_expert / g < 2 || used == 0 || used >= g {
                return None;
            }
            Some((g, used))
        }
        _ => None,
    };
    // The Mamba-2 mixer's widths (mamba2.cpp:3-7, granite-hybrid.cpp:10-14), checked as
    // `build_mamba2_layer` asserts them (mamba-base.cpp:165-166).
    // Mamba-1 (mamba.cpp, jamba.cpp: mamba-base.cpp:19-25) has one head per channel and
    // `ssm_dt_rank` as the width of dt.
    let mamba1 = matches!(arch, "mamba" | "jamba");
    let ssm_widths = || {
        let h = |k: &str| l.hparams.int(k).and_then(width);
        let (d_conv, d_inner, d_state, dt_rank) = (
            h("ssm_d_conv")?,
            h("ssm_d_inner")?,
            h("ssm_d_state")?,
            h("ssm_dt_rank")?,
        );
        let (n_head, n_group) = if mamba1 {
            (d_inner, 1)
        } else {
            (dt_rank, h("ssm_n_group")?)
        };
        (d_inner % n_head == 0 && d_inner % n_group == 0).then_some(Ssm {
            d_conv,
            d_inner,
            d_state,
            n_head,
            n_group,
            norm: false,
            mamba1: mamba1.then_some(Mamba1 {
                dt_rank,
                dt_b_c_norm: l.hparams.int("ssm_dt_b_c_rms").is_some_and(|v| v != 0),
                norm_weights: false,
            }),
        })
    };
    // The DSA graphs' lightning indexer (deepseek32.cpp:175-180) and its Hadamard rotation,
    // `[n, n]` with `n` the largest power of two from 64 up dividing the indexer cache's head
    // (src/llama-kv-cache.cpp:1447-1466, always built for these, :326-332): it multiplies the
    // indexer's heads, so it is their width.
    // hy-v4.cpp:505: the DSA form where the file sets `indexer_top_k`.
    let dsa_arch = matches!(arch, "deepseek32" | "glm-dsa" | "dots3note")
        || (arch == "hy_v4" && l.hparams.int("indexer_top_k").is_some_and(|k| k > 0));
    let dsa_indexer = if dsa_arch {
        let h = |k: &str| l.hparams.int(k).and_then(width);
        let ix = Indexer {
            n_head: h("indexer_n_head")?,
            head: h("indexer_head_size")?,
            top_k: u(l.hparams.int("indexer_top_k")?)?,
        };
        // The Hadamard rotation's size (deepseek32.cpp:246-255; hy_v4 rotates nothing).
        let mut nrot = 64u64;
        loop {
            nrot = nrot.saturating_mul(2);
            if ix.head % nrot != 0 {
                break;
            }
        }
        if nrot / 2 != ix.head && arch != "hy_v4" {
            return None;
        }
        Some(ix)
    } else {
        None
    };
    let mut seen_indexer = false;
    let mut layers = Vec::with_capacity(n_layer.min(l.layers.len()));
    // hrm-text.cpp:49-83: a later pass's cache slots read the first low or high pass's
    // weights (blocks `0..lps` and `lps..2·lps`).
    let hrm_block = |slot: u32| -> Option<u32> {
        let lps = u32::try_from(l.hparams.int("n_hrm_layers_per_stack")?).ok()?;
        let lc = u32::try_from(l.hparams.int("n_hrm_l_cycles")?).ok()?;
        let pass = slot.checked_div(lps)?.checked_rem(lc.checked_add(1)?)?;
        let base = if pass == lc { lps } else { 0 };
        base.checked_add(slot.checked_rem(lps)?)
    };
    // src/llama-graph.cpp:1841-1866, 2236-2258: a layer's SwiGLU clamp (`swiglu_clamp_shexp`
    // for `build_ffn`, `swiglu_clamp_exp` for the experts), except where the graph clamps with
    // `ggml_swiglu_clamp`, one GLU op of the unclamped shapes (deepseek4, glm5-next; maple and
    // hy_v4 for the experts).
    let swiglu_clamp = |key: &str, il: u32, special: &[&str]| {
        !special.contains(&arch)
            && l.hparams
                .floats(key)
                .and_then(|v| v.get(il as usize).copied())
                .is_some_and(|c| c > 1e-6)
    };
    for x in l.layers.iter().take(n_layer) {
        let aliased;
        let x = if arch == "hrm_text" {
            aliased = crate::table::LayerFacts {
                index: hrm_block(x.index)?,
                ..x.clone()
            };
            &aliased
        } else {
            x
        };
        // Attention layers, and the recurrent ones of the Mamba-2 graphs (one sequence: a
        // state per sequence of `--parallel` would add copies). Sliding-window layers only in
        // the graphs written with the iSWA input.
        // qwen35.cpp:265-283: the gated delta net (the fused form asserts equal key and value
        // head sizes, delta-net-base.cpp:389-390).
        let gdn = match x.is_recurrent {
            true if matches!(arch, "qwen35" | "qwen35moe" | "qwen3next")
                && has(x.index, ".attn_qkv.weight") =>
            {
                let h = |k: &str| l.hparams.int(k).and_then(width);
                let g = Gdn {
                    d_conv: h("ssm_d_conv")?,
                    d_inner: h("ssm_d_inner")?,
                    head_k: h("ssm_d_state")?,
                    n_k_heads: h("ssm_n_group")?,
                    n_v_heads: h("ssm_dt_rank")?,
                    qwen3next: arch == "qwen3next",
                };
                let s_v = g.d_inner / g.n_v_heads;
                if g.d_inner % g.n_v_heads != 0
                    || s_v != g.head_k
                    || g.n_v_heads % g.n_k_heads != 0
                    || u64::try_from(x.n_embd_s).ok()
                        != s_v
                            .checked_mul(s_v)
                            .and_then(|v| v.checked_mul(g.n_v_heads))
                {
                    return None;
                }
                Some(g)
            }
            _ => None,
        };
        // minimax-01.cpp:11-16, 44-52: the lightning layers' widths (one QKV product, the
        // output gate), their state widths as the table sizes them.
        let lightning = match x.is_recurrent && arch == "minimax-01" {
            true if has(x.index, ".attn_norm_2.weight") => {
                let head = width(x.n_embd_head_k)?;
                let n_head = width(x.n_head)?;
                let lt = Lightning {
                    head,
                    n_head,
                    n_embd_r: u(x.n_embd_r).unwrap_or(0),
                    n_embd_s: width(x.n_embd_s)?,
                    gate: width(dim(x.index, ".attn_gate.weight", 1)?)?,
                };
                if width(dim(x.index, ".attn_qkv.weight", 1)?)?
                    != head.checked_mul(3)?.checked_mul(n_head)?
                    || Some(lt.n_embd_s) != head.checked_mul(head)?.checked_mul(n_head)
                    || lt.n_embd_r > MAX_WIDTH as u64
                {
                    return None;
                }
                Some(lt)
            }
            true => return None,
            false => None,
        };
        // plamo2.cpp:37-81, 280-281 (whole heads, no groups).
        let plamo2 = match x.is_recurrent && arch == "plamo2" {
            true => {
                let h = |k: &str| l.hparams.int(k).and_then(width);
                let p = Plamo2 {
                    d_conv: h("ssm_d_conv")?,
                    d_inner: h("ssm_d_inner")?,
                    d_state: h("ssm_d_state")?,
                    n_head: h("ssm_dt_rank")?,
                    n_bcdt: width(dim(x.index, ".ssm_x.weight", 1)?)?,
                    dt_dim: width(dim(x.index, ".ssm_dt.weight", 0)?)?,
                };
                if l.hparams.int("ssm_n_group").is_some_and(|g| g != 0)
                    || p.d_inner % p.n_head != 0
                    || p.n_bcdt < p.d_state.saturating_mul(2).saturating_add(p.dt_dim)
                {
                    return None;
                }
                Some(p)
            }
            false => None,
        };
        let ssm = match x.is_recurrent {
            true if plamo2.is_some() || lightning.is_some() => None,
            true if gdn.is_some()
                || matches!(
                    arch,
                    "lfm2" | "lfm2moe" | "kimi-linear" | "glm5-next" | "bailingmoe3" | "kimi-k3"
                ) =>
            {
                None
            }
            true if matches!(
                arch,
                "mamba2"
                    | "granitehybrid"
                    | "nemotron_h"
                    | "nemotron_h_moe"
                    | "falcon-h1"
                    | "mamba"
                    | "jamba"
            ) && has(x.index, ".ssm_conv1d.bias") =>
            {
                let s = ssm_widths()?;
                // mamba-base.cpp:96-103: the three norms' weights where the file has them.
                let weights = has(x.index, ".ssm_dt_norm.weight")
                    && has(x.index, ".ssm_b_norm.weight")
                    && has(x.index, ".ssm_c_norm.weight");
                Some(Ssm {
                    norm: has(x.index, ".ssm_norm.weight"),
                    mamba1: s.mamba1.map(|m| Mamba1 {
                        dt_b_c_norm: m.dt_b_c_norm || weights,
                        norm_weights: weights,
                        ..m
                    }),
                    ..s
                })
            }
            true => return None,
            false => None,
        };
        // nemotron-h.cpp:212-220: a layer is a Mamba-2 mixer, attention (`n_ff` 0) or an FFN.
        let nemotron = matches!(arch, "nemotron_h" | "nemotron_h_moe");
        let ffn_mixer = nemotron && ssm.is_none() && x.n_ff > 0;
        // lfm2.cpp:251-252: the short convolution on the recurrent layers (causal only).
        let shortconv = match x.is_recurrent && matches!(arch, "lfm2" | "lfm2moe") {
            true if l.hparams.int("causal_attn").is_none_or(|c| c != 0) => {
                let l_cache = l.hparams.int("n_shortconv_l_cache").and_then(width)?;
                Some(l_cache.checked_sub(1).filter(|&d| d > 0)?)
            }
            true => return None,
            false => None,
        };
        // kimi-linear.cpp:288-384: Kimi delta attention on the recurrent layers (separate
        // Q, K and V products; the widths of its state as the table sizes it).
        // glm5-next.cpp:686-763: the same layer, its decay gate bounded where the file sets
        // `kda_gate_lower_bound`.
        // kimi-k3.cpp:399-483: the same with one output-gate product.
        let kda = match x.is_recurrent
            && matches!(
                arch,
                "kimi-linear" | "glm5-next" | "bailingmoe3" | "kimi-k3"
            ) {
            true if has(x.index, ".attn_q.weight") => {
                let k = Kda {
                    d_conv: l.hparams.int("ssm_d_conv").and_then(width)?,
                    head_dim: l.hparams.int("n_embd_head_kda").and_then(width)?,
                    // `hparams.n_head()`: layer 0's (the KDA layers' own count is 0).
                    n_head: u(l.layers.first()?.n_head).filter(|&n| n <= MAX_WIDTH as u64)?,
                    f_rank: width(dim(x.index, ".ssm_f_a.weight", 1)?)?,
                    g_rank: if arch == "kimi-k3" {
                        width(dim(x.index, ".ssm_g.weight", 1)?)?
                    } else {
                        width(dim(x.index, ".ssm_g_a.weight", 1)?)?
                    },
                    // bailingmoe3.cpp:33-34: the bound asserted set (negative).
                    gate_bound: arch == "bailingmoe3"
                        || (matches!(arch, "glm5-next" | "kimi-k3")
                            && l.hparams
                                .float("kda_gate_lower_bound")
                                .is_some_and(|b| b > f64::NEG_INFINITY)),
                    bound_negated: arch != "bailingmoe3",
                    f_single: arch == "bailingmoe3",
                    g_single: matches!(arch, "bailingmoe3" | "kimi-k3"),
                };
                let d_in = k.head_dim.checked_mul(k.n_head)?;
                if (k.f_single && k.f_rank != d_in) || (k.g_single && k.g_rank != d_in) {
                    return None;
                }
                let d_inner = k.head_dim.checked_mul(k.n_head)?;
                let r = d_inner.checked_mul(k.d_conv - 1)?.checked_mul(3)?;
                let s = d_inner.checked_mul(k.head_dim)?;
                if u64::try_from(x.n_embd_r).ok() != Some(r)
                    || u64::try_from(x.n_embd_s).ok() != Some(s)
                {
                    return None;
                }
                Some(k)
            }
            true => return None,
            false => None,
        };
        let mixer = if ffn_mixer {
            Mixer::Ffn
        } else if let Some(k) = kda {
            Mixer::Kda(k)
        } else if let Some(d_conv) = shortconv {
            Mixer::ShortConv(d_conv)
        } else if let Some(s) = ssm {
            Mixer::Ssm(s)
        } else if let Some(p) = plamo2 {
            Mixer::Plamo2(p)
        } else if let Some(lt) = lightning {
            Mixer::Lightning(lt)
        } else if let Some(g) = gdn {
            Mixer::Gdn(g)
        } else {
            Mixer::Attention
        };
        let swa_ok = (family != Family::Llama || ISWA.contains(&arch)) && n_kv_swa.is_some();
        if (x.is_swa && !swa_ok) || !x.has_kv {
            return None;
        }
        // Heads where the layer attends (falcon-h1's layers attend beside their mixer).
        // deci.cpp:105-125: attention-free and "linear attention" layers.
        if family == Family::Deci {
            let h = |v: i64| u64::try_from(v).ok().filter(|&v| v <= MAX_WIDTH as u64);
            let (n_head, n_head_kv, n_ff) = (h(x.n_head)?, h(x.n_head_kv)?, h(x.n_ff)?);
            let attends = n_head > 0 && n_head_kv > 0;
            layers.push(Layer {
                n_head,
                n_head_kv,
                head_k: if attends { u(x.n_embd_head_k)? } else { 0 },
                head_v: if attends { u(x.n_embd_head_v)? } else { 0 },
                n_ff,
                attn_bias: [
                    has(x.index, ".attn_q.bias"),
                    has(x.index, ".attn_k.bias"),
                    has(x.index, ".attn_v.bias"),
                    has(x.index, ".attn_output.bias"),
                ],
                ffn_bias: [
                    has(x.index, ".ffn_up.bias"),
                    has(x.index, ".ffn_gate.bias"),
                    has(x.index, ".ffn_down.bias"),
                ],
                rope: true,
                fused_qkv: has(x.index, ".attn_qkv.weight"),
                ffn_gate: has(x.index, ".ffn_gate.weight"),
                ..Layer::default()
            });
            continue;
        }
        let attends = !ffn_mixer
            && gdn.is_none()
            && !(x.is_recurrent
                && matches!(
                    arch,
                    "lfm2" | "lfm2moe" | "kimi-linear" | "glm5-next" | "bailingmoe3" | "kimi-k3"
                ))
            && plamo2.is_none()
            && lightning.is_none()
            && (ssm.is_none() || family == Family::FalconH1);
        let heads = |v: i64| if attends { u(v) } else { Some(0) };
        // ernie4-5-moe.cpp:62-64: experts on layers `il >= n_layer_dense_lead` with
        // `(il + 1) % n_moe_layer_step == 0`, the dense FFN elsewhere (the loader creates
        // experts on every layer from the lead on: those layers' dense products are absent).
        let dense_layer = arch == "ernie4_5-moe" && {
            let lead = l.hparams.int("n_layer_dense_lead").unwrap_or(0);
            let step = l.hparams.int("n_moe_layer_step").unwrap_or(0);
            if step <= 0 {
                return None;
            }
            i64::from(x.index) < lead || (i64::from(x.index) + 1) % step != 0
        };
        // refact.cpp:50 builds the dense FFN only, whose products a file with experts lacks;
        // `build_ffn` with no products is its activation alone.
        let ffn_clamp = swiglu_clamp("swiglu_clamp_shexp", x.index, &["deepseek4", "glm5-next"]);
        let ffn_none = (arch == "refact" || dense_layer) && !has(x.index, ".ffn_up.weight");
        let moe = if !ffn_none
            && !dense_layer
            && n_expert > 0
            && x.n_expert_used > 0
            && has(x.index, "_exps.weight")
        {
            let n_used = u(x.n_expert_used)?;
            let cfg = moe_config(arch, &l.hparams, n_layer, n_vocab)?;
            // Expert biases, a fused gate/up product and a router bias only where the graph
            // reads them; every routed layer needs its up and down experts.
            let biased = has(x.index, "_exps.bias") || has(x.index, ".ffn_gate_inp.bias");
            let fused_gate_up = has(x.index, ".ffn_gate_up_exps.weight");
            if biased != cfg.biases
                || (fused_gate_up && !cfg.fused_gate_up)
                || !(fused_gate_up || has(x.index, ".ffn_up_exps.weight"))
                || !has(x.index, ".ffn_down_exps.weight")
                || n_used > n_expert
                || !matches!(
                    family,
                    Family::Llama
                        | Family::Parallel(_)
                        | Family::Phi3
                        | Family::Glm5Next
                        | Family::Minimax01
                        | Family::HyV4
                        | Family::KimiK3
                )
                // nemotron-h.cpp:271-273,295-297: latent products around the experts.
                || has(x.index, ".ffn_latent_down.weight")
            {
                return None;
            }
            let shared = if has(x.index, ".ffn_up_shexp.weight") {
                if cfg.shared == SharedKind::None {
                    return None;
                }
                let n_ff = width(dim(x.index, ".ffn_up_shexp.weight", 1)?)?;
                let sigmoid_gate = has(x.index, ".ffn_gate_inp_shexp.weight");
                if sigmoid_gate
                    != matches!(cfg.shared, SharedKind::SigmoidGated | SharedKind::Sigmoid)
                {
                    return None;
                }
                Some(Shared {
                    n_ff,
                    gate: has(x.index, ".ffn_gate_shexp.weight"),
                    sigmoid_gate,
                    plain_sigmoid: cfg.shared == SharedKind::Sigmoid,
                    first: cfg.shared == SharedKind::First,
                    half: cfg.shared == SharedKind::AddHalf,
                    clamp: ffn_clamp,
                })
            } else {
                None
            };
            // grovemoe.cpp:50-59: the chunk experts' widths from their products.
            let grove = if arch == "grovemoe" {
                if groups.is_some() {
                    return None;
                }
                let n_chunk = width(dim(x.index, ".ffn_up_chexps.weight", 2)?)?;
                if n_chunk == 0 || n_chunk > n_expert {
                    return None;
                }
                Some(Grove {
                    n_chunk,
                    n_ff: width(dim(x.index, ".ffn_up_chexps.weight", 1)?)?,
                    chunk_call: false,
                })
            } else {
                None
            };
            Some(Moe {
                n_expert,
                n_used,
                n_ff: u(if x.n_ff_exp > 0 { x.n_ff_exp } else { x.n_ff })?,
                gating: cfg.gating,
                router_bias: has(x.index, ".ffn_gate_inp.bias"),
                probs_bias: has(x.index, ".exp_probs_b.bias"),
                gate: fused_gate_up || has(x.index, ".ffn_gate_exps.weight"),
                fused_gate_up,
                exps_bias: [
                    has(x.index, ".ffn_up_exps.bias"),
                    has(x.index, ".ffn_gate_exps.bias"),
                    has(x.index, ".ffn_down_exps.bias"),
                ],
                norm_w: cfg.norm_w,
                // maple.cpp:58 passes a weight scale of 1.
                scale: w_scale != 0.0 && w_scale != 1.0 && arch != "maple",
                shared,
                llama4: arch == "llama4",
                router_on_input: arch == "smallthinker",
                dense_beside: arch == "grok" && has(x.index, ".ffn_up.weight"),
                on_layer_input: arch == "arctic",
                groups,
                grove,
                // kimi-k3.cpp:154-158: the latent products where the file has them.
                latent: if arch == "kimi-k3" {
                    Some(Latent {
                        down: match dim(x.index, ".ffn_routed_down.weight", 1) {
                            Some(w) => Some(width(w)?),
                            None => None,
                        },
                        norm: has(x.index, ".ffn_routed_norm.weight"),
                        up: has(x.index, ".ffn_routed_up.weight"),
                    })
                } else {
                    None
                },
                clamp: swiglu_clamp(
                    "swiglu_clamp_exp",
                    x.index,
                    &["maple", "deepseek4", "glm5-next", "hy_v4"],
                ),
            })
        } else {
            None
        };
        // deepseek2.cpp with `is_mla` (`attn_k_b`, `attn_v_b`) or without (`attn_kv_b`), and
        // minicpm3.cpp; the widths from the products.
        let mla = if matches!(arch, "deepseek2" | "mistral4" | "minicpm3")
            || dsa_arch
            || (matches!(
                arch,
                "kimi-linear" | "glm5-next" | "bailingmoe3" | "hy_v4" | "kimi-k3"
            ) && !x.is_recurrent)
        {
            let kr = width(dim(x.index, ".attn_kv_a_mqa.weight", 1)?)?;
            let kv_lora = width(dim(x.index, ".attn_kv_a_norm.weight", 0)?)?;
            let absorbed = has(x.index, ".attn_k_b.weight");
            // kimi-linear.cpp:452-483: without the absorbed products its K repeats the roped
            // part before the unroped one (not written here).
            if matches!(
                arch,
                "kimi-linear" | "glm5-next" | "bailingmoe3" | "hy_v4" | "kimi-k3"
            ) && !absorbed
            {
                return None;
            }
            // The DSA graphs are the absorbed form with the low-rank Q only
            // (deepseek32.cpp:59-62, 96-97).
            if dsa_arch && (!absorbed || !has(x.index, ".attn_q_a.weight")) {
                return None;
            }
            // glm5-next.cpp:935: nope-only (no roped part); elsewhere a roped part.
            let rope = kr
                .checked_sub(kv_lora)
                .filter(|&r| (r > 0) != (arch == "glm5-next"))?;
            let (nope, head_v) = if absorbed {
                (
                    width(dim(x.index, ".attn_k_b.weight", 0)?)?,
                    width(dim(x.index, ".attn_v_b.weight", 1)?)?,
                )
            } else {
                let hk = u(x.n_embd_head_k)?;
                (
                    hk.checked_sub(rope)?, // may be 0: a zero-width view
                    u(x.n_embd_head_v)?,
                )
            };
            let q_lora = match dim(x.index, ".attn_q_a.weight", 1) {
                Some(r) => Some(width(r)?),
                None => None,
            };
            // glm5-next.cpp:937-968: Q from its low-rank products, a cache row of the latent.
            if arch == "glm5-next"
                && (q_lora.is_none() || u64::try_from(x.n_embd_k_gqa).ok() != Some(kv_lora))
            {
                return None;
            }
            Some(Mla {
                q_lora,
                kv_lora,
                rope,
                nope,
                head_v,
                absorbed,
            })
        } else {
            None
        };
        // The DSA layers: deepseek32's every layer runs its indexer; glm-dsa's full indexer
        // layers do and the others reuse the last one's top-k (glm-dsa.cpp:264-366);
        // dots3note's full-attention layers do, its sliding ones attend over their window
        // (dots3note.cpp:208, whose loader creates the indexer where `is_indexer_full`, :109).
        let dsa = match (dsa_indexer, arch) {
            (Some(ix), "deepseek32") => Some(Dsa::Indexer(ix)),
            (Some(ix), "glm-dsa") if x.is_indexer_full => Some(Dsa::Indexer(ix)),
            (Some(_), "glm-dsa") if seen_indexer => Some(Dsa::Shared),
            // hy-v4.cpp:439-443: the full indexer layers, then those reusing their top-k.
            (Some(ix), "hy_v4") if x.is_indexer_full => Some(Dsa::Indexer(ix)),
            (Some(_), "hy_v4") if seen_indexer => Some(Dsa::Shared),
            (Some(ix), "dots3note") if !x.is_swa && x.is_indexer_full => Some(Dsa::Indexer(ix)),
            (Some(_), "dots3note") if x.is_swa && !x.is_indexer_full => None,
            (Some(_), _) => return None,
            (None, _) => None,
        };
        if let Some(Dsa::Indexer(ix)) = dsa {
            // deepseek32.cpp:180: the indexer head holds the roped part; its products present
            // (glm-dsa's are optional where the layer shares).
            if mla.is_none_or(|m| m.rope > ix.head)
                || ![
                    ".indexer.attn_q_b.weight",
                    ".indexer.attn_k.weight",
                    ".indexer.proj.weight",
                    ".indexer.k_norm.weight",
                    ".indexer.k_norm.bias",
                ]
                .iter()
                .all(|t| has(x.index, t))
            {
                return None;
            }
            seen_indexer = true;
        }
        // dots3note.cpp:91,104: the shared key's norm and the per-head gate.
        if arch == "dots3note"
            && !(has(x.index, ".attn_k_norm.weight") && has(x.index, ".attn_gate.weight"))
        {
            return None;
        }
        // laguna.cpp:110-122: the gate one per head or one per element.
        let early_gate = if arch == "laguna" {
            let gw = width(dim(x.index, ".attn_gate.weight", 1)?)?;
            let n_head = u64::try_from(x.n_head).ok()?;
            if gw != n_head && Some(gw) != n_head.checked_mul(u64::try_from(x.n_embd_head_k).ok()?)
            {
                return None;
            }
            Some(gw)
        } else {
            None
        };
        // mamba.cpp:104-124: Mamba layers without an FFN; nemotron-h.cpp's one block.
        let no_ffn = matches!(arch, "mamba" | "mamba2") || nemotron;
        layers.push(Layer {
            dsa,
            indexer_full: x.is_indexer_full,
            mla,
            mixer,
            no_ffn,
            n_head: heads(x.n_head)?,
            n_head_kv: heads(x.n_head_kv)?,
            head_k: heads(x.n_embd_head_k)?,
            head_v: heads(x.n_embd_head_v)?,
            n_ff: if no_ffn && !ffn_mixer {
                0
            } else if moe.as_ref().is_some_and(|m| m.dense_beside) {
                u(x.n_ff)?
            } else if moe.as_ref().is_some_and(|m| m.on_layer_input) {
                // arctic.cpp:40-42: the dense FFN is `n_embd` wide.
                width(dim(x.index, ".ffn_up.weight", 1)?)?
            } else if moe.is_some() || ffn_none {
                0
            } else if arch == "qwen" {
                // qwen.cpp:33-35: the FFN products are `n_ff / 2` wide.
                u(x.n_ff)? / 2
            } else {
                u(x.n_ff)?
            },
            fused_qkv: has(x.index, ".attn_qkv.weight"),
            swa: x.is_swa,
            attn_bias: [
                has(x.index, ".attn_q.bias") || has(x.index, ".attn_qkv.bias"),
                has(x.index, ".attn_k.bias"),
                has(x.index, ".attn_v.bias"),
                // ernie4-5-moe.cpp:51 and exaone-moe.cpp pass no `wo_b`.
                has(x.index, ".attn_output.bias")
                    && !matches!(
                        arch,
                        "ernie4_5-moe"
                            | "exaone-moe"
                            | "plamo3"
                            | "openelm"
                            | "mimo2"
                            | "falcon-h1"
                            | "jamba"
                            | "lfm2"
                            | "lfm2moe"
                            | "arctic"
                            | "llada"
                            | "llada-moe"
                            | "muse-glimmer"
                            | "talkie"
                            | "maple"
                            | "cogvlm"
                            | "minimax-m3"
                    ),
            ],
            ffn_bias: [
                has(x.index, ".ffn_up.bias"),
                has(x.index, ".ffn_gate.bias"),
                has(x.index, ".ffn_down.bias"),
            ],
            rope: true,
            ffn_gate: has(x.index, ".ffn_gate.weight"),
            ffn_none,
            ffn_fused_up: matches!(arch, "chatglm" | "glm4" | "plamo3" | "plamo2")
                && !has(x.index, ".ffn_gate.weight"),
            moe,
            msa: false,
            sinks: has(x.index, ".attn_sinks.weight"),
            early_gate,
            ffn_clamp,
        });
    }
    // Attention reads KV cells (a graph of recurrent layers only has none).
    if layers.is_empty()
        || layers.len() != n_layer
        || (n_kv == 0
            && (family == Family::FalconH1 || layers.iter().any(|x| x.mixer == Mixer::Attention)))
    {
        return None;
    }
    let n_embd = u(l.hparams.int("n_embd")?).filter(|&n| n <= MAX_WIDTH as u64)?;
    // smollm3.cpp: `use_rope = (il + 1) % n_no_rope_layer_step != 0`.
    if arch == "smollm3" {
        let step = u(l.hparams.int("n_no_rope_layer_step")?)?;
        for (il, x) in layers.iter_mut().enumerate() {
            x.rope = (il as u64 + 1) % step != 0;
        }
    }
    // exaone4.cpp: `use_rope = is_swa(il) || swa_type == NONE`.
    if arch == "exaone4" && layers.iter().any(|x| x.swa) {
        for x in &mut layers {
            x.rope = x.swa;
        }
    }
    // llama4.cpp:143-144, afmoe.cpp:135-136: no RoPE on every `n_no_rope_layer_step`-th
    // layer.
    if matches!(arch, "llama4" | "afmoe") {
        let step = l.hparams.int("n_no_rope_layer_step").unwrap_or(0);
        for (il, x) in (0i64..).zip(layers.iter_mut()) {
            x.rope = step > 0 && (il + 1) % step != 0;
        }
    }
    // cohere2.cpp:88-100, exaone-moe.cpp:150-156: RoPE on the sliding layers only; their
    // graphs are the iSWA form (as gpt-oss's and cohere2moe's; llama4's without a window is
    // not).
    if (ISWA.contains(&arch) || arch == "cohere2")
        && !matches!(
            arch,
            "llama4"
                | "smallthinker"
                | "mellum"
                | "plamo3"
                | "lfm2"
                | "lfm2moe"
                | "dots3note"
                | "laguna"
        )
        && n_kv_swa.is_none()
    {
        return None;
    }
    // smallthinker.cpp:106-107: no RoPE on every `n_no_rope_layer_step`-th layer from 0
    // (every layer ropes when the step is the layer count).
    if arch == "smallthinker" {
        let step = l.hparams.int("n_no_rope_layer_step").unwrap_or(0);
        if step <= 0 {
            return None;
        }
        let all = i64::try_from(n_layer).ok() == Some(step);
        for (il, x) in (0i64..).zip(layers.iter_mut()) {
            x.rope = all || il % step != 0;
        }
    }
    // cohere2moe.cpp:171-196: RoPE on the sliding layers and the leading dense ones.
    if arch == "cohere2moe" {
        let lead = l.hparams.int("n_layer_dense_lead").unwrap_or(0);
        for (il, x) in (0i64..).zip(layers.iter_mut()) {
            x.rope = x.swa || il < lead;
        }
    }
    // muse-glimmer.cpp:33: RoPE on the sliding layers only.
    if matches!(arch, "cohere2" | "exaone-moe" | "muse-glimmer" | "maple") {
        for x in &mut layers {
            x.rope = x.swa;
        }
    }
    // granite.cpp: without RoPE (`rope_finetuned` false) no position input is built, and
    // Granite Vision's deepstack adds views of a wider input: neither is written here.
    if matches!(arch, "granite" | "minicpm" | "granitemoe")
        && (l.hparams.int("n_deepstack_layers").is_some_and(|n| n > 0)
            || l.hparams
                .ints("rope_pattern")
                .is_some_and(|p| p.iter().take(n_layer).any(|&r| r == 0)))
    {
        return None;
    }
    // baichuan.cpp: RoPE and its position input for the 7B type only (32 layers; the others
    // use ALiBi, the same shapes); refact.cpp and jais.cpp: ALiBi, no position input.
    let global = |suffix: &str| {
        l.tensors
            .iter()
            .any(|t| t.created && t.layer < 0 && t.name.ends_with(suffix))
    };
    // bloom.cpp and mpt.cpp: ALiBi, a position input only for mpt's learned positions;
    // gpt2.cpp and starcoder.cpp: learned positions, no RoPE.
    let pos_embd = matches!(arch, "gpt2" | "starcoder" | "mpt") && global("position_embd.weight");
    // granite-hybrid.cpp:147-151: the position input where layer 0 ropes (`rope_finetuned`
    // fills `rope_pattern`, :16-20).
    let granite_rope = l
        .hparams
        .ints("rope_pattern")
        .is_none_or(|p| p.first().is_none_or(|&r| r != 0));
    if arch == "granitehybrid"
        && l.hparams
            .ints("rope_pattern")
            .is_some_and(|p| p.iter().take(n_layer).any(|&r| (r != 0) != granite_rope))
    {
        return None;
    }
    // granite-swa.cpp:23-31: Granite Vision's deepstack adds views of a wider input (not
    // written here); RoPE on the layers `rope_pattern` marks (all by default,
    // src/llama-model.cpp:1382), the position input always built.
    if arch == "granite_swa" {
        if l.hparams.int("n_deepstack_layers").is_some_and(|n| n > 0) {
            return None;
        }
        if let Some(p) = l.hparams.ints("rope_pattern") {
            for (x, &r) in layers.iter_mut().zip(p.iter()) {
                x.rope = r != 0;
            }
        }
    }
    let pos_input = match arch {
        "baichuan" => n_layer == 32,
        "granitehybrid" => granite_rope,
        "refact" | "jais" | "bloom" | "mamba" | "mamba2" | "jamba" | "nemotron_h"
        | "nemotron_h_moe" | "kimi-linear" | "glm5-next" | "kimi-k3" => false,
        "mpt" => pos_embd,
        _ => true,
    };
    if matches!(arch, "gpt2" | "starcoder" | "bloom" | "mpt") {
        for x in &mut layers {
            x.rope = false;
        }
    }
    // mpt.cpp:105-116 (Q/K norms reshaping views) and its activation scales
    // (`ffn.act`, a division) are not written here.
    if arch == "mpt" && (has(0, ".attn_q_norm.weight") || has(0, ".ffn.act")) {
        return None;
    }
    // olmoe.cpp:82-101 and minimax-m2.cpp:74-93 norm Q and K as 2-D products
    // (`build_qkv(..., false)`): a fused `wqkv` would add copies. bailingmoe.cpp:35 sizes heads
    // by `n_rot`: only the files where that is the head size are replayed.
    if (matches!(arch, "olmoe" | "minimax-m2") && layers.iter().any(|x| x.fused_qkv))
        || (arch == "bailingmoe"
            && l.hparams
                .int("n_rot_full")
                .and_then(|n| u64::try_from(n).ok())
                != layers.first().map(|x| x.head_k))
    {
        return None;
    }
    // qwen3vl.cpp:153-157 adds views of a wider input (deepstack), and pads the logits where
    // the output has fewer rows than the embeddings (:175-191).
    let rows = |name: &str| {
        l.tensors
            .iter()
            .find(|t| t.created && t.layer < 0 && t.name == name)
            .and_then(|t| t.shape.get(1).copied())
    };
    // qwen3tts: qwen3vl's graph (qwen3tts.cpp, models.h:625-627).
    if matches!(arch, "qwen3vl" | "qwen3vlmoe" | "qwen3tts")
        && (l.hparams.int("n_deepstack_layers").is_some_and(|n| n > 0)
            || rows("output.weight").is_some_and(|n| Some(n) != rows("token_embd.weight")))
    {
        return None;
    }
    // stablelm.cpp:124-138: without `ffn_norm` (StableLM-2-12B) attention and the FFN run in
    // parallel; nanbeige.cpp:20-31,164-171: looped layers add norms between the loops.
    if (arch == "stablelm" && !has(0, ".ffn_norm.weight"))
        || (arch == "nanbeige" && l.hparams.int("n_loops").is_some_and(|n| n != 1))
    {
        return None;
    }
    if !pos_input {
        for x in &mut layers {
            x.rope = false;
        }
    }
    // olmo2.cpp reads Q and K as two 2-D products (`build_qkv(..., false)`): a fused `wqkv`
    // would add copies.
    if family == Family::PostNorm && layers.iter().any(|x| x.fused_qkv) {
        return None;
    }
    // glm5-next: the k-pool indexer's widths; the first DSA layer runs its own indexer
    // (glm5-next.cpp:956-963), and the reserved ubatch takes the scatter form (`gather` needs
    // at most 16 tokens and more cells than selected slots, :324-331).
    // hrm-text.cpp:6-30 (the slot count asserted as the loader asserts it).
    let hrm = if arch == "hrm_text" {
        let h = |k: &str| {
            l.hparams
                .int(k)
                .and_then(|v| usize::try_from(v).ok())
                .filter(|&v| v > 0 && v <= n_layer)
        };
        let x = Hrm {
            lps: h("n_hrm_layers_per_stack")?,
            h_cycles: h("n_hrm_h_cycles")?,
            l_cycles: h("n_hrm_l_cycles")?,
        };
        let slots = x
            .lps
            .checked_mul(x.h_cycles)?
            .checked_mul(x.l_cycles.checked_add(1)?)?;
        if slots != n_layer || layers.len() != n_layer {
            return None;
        }
        Some(x)
    } else {
        None
    };
    // Several streams: the attention of `build_attn` (plain or latent) only; recurrent, sparse
    // and cache-less layers are not written for them.
    if streams > 1
        && (layers.iter().any(|x| {
            !matches!(
                x.mixer,
                Mixer::Attention
                    | Mixer::Ssm(_)
                    | Mixer::ShortConv(_)
                    | Mixer::Gdn(_)
                    | Mixer::Kda(_)
                    | Mixer::Plamo2(_)
                    | Mixer::Lightning(_)
                    | Mixer::Ffn
            ) || x.dsa.is_some()
                || x.msa
        }) || !matches!(
            family,
            Family::Llama
                | Family::Phi3
                | Family::Gemma
                | Family::PostNorm
                | Family::Parallel(_)
                | Family::FalconH1
                | Family::KimiK3
                | Family::Minimax01
        ) || matches!(arch, "dream" | "llada" | "llada-moe" | "rnd1"))
    {
        return None;
    }
    // src/llama-kv-cache.cpp:194-205, 321-337: a quantized cache's Hadamard rotations, where its
    // layers share one head size (`n_embd_head_k_all`) and the model's is a multiple of 64; K's
    // the largest power of two from 128 dividing the head, V's 64. Written for the attention of
    // `build_attn` only (not the latent, sparse or cache-less forms).
    let quantized = o.type_k.is_quantized() || o.type_v.is_quantized();
    if quantized
        && (layers
            .iter()
            .any(|x| x.mla.is_some() || x.dsa.is_some() || x.msa)
            || matches!(arch, "dream" | "llada" | "llada-moe" | "rnd1"))
    {
        return None;
    }
    let attn_heads = |f: fn(&Layer) -> u64| {
        let mut it = layers.iter().filter(|x| x.n_head_kv > 0).map(f);
        let first = it.next()?;
        it.all(|h| h == first).then_some(first)
    };
    // Two caches (iSWA) each rotate by their own layers' head size: written where all share one.
    if quantized
        && n_kv_swa.is_some()
        && (attn_heads(|x| x.head_k).is_none() || attn_heads(|x| x.head_v).is_none())
    {
        return None;
    }
    let model_head = |v: i64| u64::try_from(v).ok().filter(|h| h % 64 == 0);
    let k_rot = match (o.type_k.is_quantized(), attn_heads(|x| x.head_k)) {
        (true, Some(h)) if model_head(l.layers.first()?.n_embd_head_k).is_some() => {
            let mut n = 64u64;
            loop {
                n = n.saturating_mul(2);
                if h % n != 0 || n > h {
                    break;
                }
            }
            Some(n / 2)
        }
        _ => None,
    };
    let v_rot = match (o.type_v.is_quantized(), attn_heads(|x| x.head_v)) {
        (true, Some(_)) if model_head(l.layers.first()?.n_embd_head_v).is_some() => Some(64),
        _ => None,
    };
    // hy-v4.cpp:41 (`dsv4_hc_mult`).
    let hy_hc = if arch == "hy_v4" {
        Some(
            l.hparams
                .int("dsv4_hc_mult")
                .and_then(width)
                .filter(|&h| h > 0 && h <= 64)?,
        )
    } else {
        None
    };
    let glm5 = if arch == "glm5-next" {
        let h = |k: &str| l.hparams.int(k).and_then(width);
        let x = Glm5 {
            n_head: h("indexer_n_head")?,
            head_size: h("indexer_head_size")?,
            kpool: h("indexer_kpool").filter(|&k| k > 1)?,
            top_k: u(l.hparams.int("indexer_top_k")?).filter(|&t| t <= MAX_CELLS)?,
            select_tail: l
                .hparams
                .int("indexer_kpool_select_tail")
                .is_none_or(|v| v != 0),
            kv_size: n_kv,
            n_seq_max: o.n_parallel.max(1),
        };
        let first_dsa = layers.iter().find(|x| x.mla.is_some());
        let n_pool = (n_kv / x.kpool)
            .saturating_mul(x.n_seq_max)
            .saturating_add(1)
            .div_ceil(64)
            .saturating_mul(64)
            .max(64);
        let n_sel = x
            .kpool
            .saturating_mul(n_pool.min(x.top_k / x.kpool))
            .saturating_add(if x.select_tail { x.kpool - 1 } else { 0 });
        // One KV stream (`--parallel 1` or `--kv-unified`).
        if l.hparams.int("dsv4_hc_mult") != Some(4)
            || streams > 1
            || first_dsa.is_some_and(|x| !x.indexer_full)
            || layers
                .iter()
                .any(|x| x.mla.is_none() && !matches!(x.mixer, Mixer::Kda(_)))
            || (ub <= 16 && n_kv > n_sel)
        {
            return None;
        }
        Some(x)
    } else {
        None
    };
    // minimax-m3.cpp:226-235, 334: sparse attention on the layers from `n_layer_dense_lead` on
    // where flash attention is on and one sequence is (a unified cache of several falls back
    // to dense attention); the widths its asserts hold (:383-389: one indexer head per KV
    // head, whole query groups; 190: the FA output as wide as Q's heads).
    let msa = if arch == "minimax-m3" && o.flash_attn && o.n_parallel <= 1 {
        let h = |k: &str| l.hparams.int(k).and_then(width);
        let (dim, heads, blk) = (
            h("indexer_head_size")?,
            h("indexer_n_head")?,
            h("indexer_block_size")?,
        );
        // `msa_p.topk_blocks` is an `int`.
        let top = l
            .hparams
            .int("indexer_top_k")
            .and_then(|v| u64::try_from(v).ok())
            .filter(|&v| v > 0 && v <= i32::MAX as u64)?;
        // src/llama-kv-cache-msa.cpp:281-292: `get_n_pos` of the empty reserved cache is
        // `max(n_pad, 256)` with `n_pad` 1 (src/llama-model.cpp:2381-2393).
        let n_ps = 256u64.div_ceil(blk).saturating_mul(blk);
        let lead = l.hparams.int("n_layer_dense_lead").unwrap_or(0);
        for (il, x) in (0i64..).zip(layers.iter_mut()) {
            if il < lead {
                continue;
            }
            if x.n_head_kv != heads || x.n_head % heads != 0 || x.head_k != x.head_v {
                return None;
            }
            x.msa = true;
        }
        Some(Msa {
            dim,
            heads,
            blk,
            n_ps,
            top_k: top.min(n_ps / blk),
        })
    } else {
        None
    };
    Some(Decoder {
        msa,
        family,
        n_embd,
        n_vocab,
        ub,
        n_kv,
        // src/llama-context.cpp:3816-3819: flash attention forced off for grok.
        flash_attn: o.flash_attn && arch != "grok",
        qk_norm: matches!(
            arch,
            "qwen3" | "qwen3moe" | "gemma3" | "olmo2" | "exaone4" | "maincoder" | "plamo2"
        ) || (arch == "llama4" && l.hparams.int("use_kq_norm").is_some_and(|v| v != 0))
            || (matches!(
                arch,
                "command-r"
                    | "stablelm"
                    | "hunyuan-dense"
                    | "olmoe"
                    | "bailingmoe2"
                    | "llada-moe"
                    | "rnd1"
                    | "hunyuan-moe"
                    | "dots1"
                    | "minimax-m2"
                    | "minimax-m3"
                    | "glm4moe"
                    | "qwen3vl"
                    | "qwen3tts"
                    | "qwen3vlmoe"
                    | "hunyuan_vl"
                    | "exaone-moe"
                    | "afmoe"
                    | "muse-glimmer"
                    | "maple"
                    | "hy_v3"
                    | "mellum"
                    | "plamo3"
                    | "openelm"
                    | "grovemoe"
                    | "laguna"
            ) && has(0, ".attn_q_norm.weight"))
            || (matches!(arch, "lfm2" | "lfm2moe")
                && l.layers.iter().any(|x| has(x.index, ".attn_q_norm.weight")))
            || arch == "talkie",
        qk_norm_weightless: arch == "llama4",
        k_norm_weightless: arch == "talkie",
        embd_skip: arch == "talkie",
        attn_temp_nope: arch == "llama4",
        qk_norm_after_rope: arch == "llama4"
            || matches!(
                arch,
                "maincoder" | "hunyuan-dense" | "hunyuan-moe" | "hunyuan_vl" | "talkie"
            ),
        // cohere2moe.cpp:158: LayerNorm unless the file gives an RMS epsilon.
        norm: if LAYER_NORM.contains(&arch)
            || (arch == "cohere2moe" && l.hparams.float("f_norm_rms_eps").unwrap_or(0.0) == 0.0)
        {
            Op::Norm
        } else {
            Op::RmsNorm
        },
        pre_norm: family != Family::PostNorm,
        post_norm: family == Family::PostNorm
            || matches!(
                arch,
                "gemma2"
                    | "gemma3"
                    | "glm4"
                    | "afmoe"
                    | "plamo3"
                    | "plamo2"
                    | "grok"
                    | "muse-glimmer"
            ),
        post_norm_before_rows: matches!(arch, "afmoe" | "muse-glimmer"),
        residual_first: matches!(arch, "openelm" | "jamba" | "lfm2" | "lfm2moe"),
        ffn_residual_first: matches!(arch, "jamba" | "lfm2" | "lfm2moe"),
        expand_norm: matches!(arch, "qwen35" | "qwen35moe" | "qwen3next" | "kimi-linear"),
        gated_q: matches!(arch, "qwen35" | "qwen35moe" | "qwen3next"),
        no_cache: matches!(arch, "dream" | "llada" | "llada-moe" | "rnd1"),
        attn_gate: matches!(arch, "afmoe" | "muse-glimmer"),
        attn_gate_per_head: arch == "spark2_5",
        embd_norm: arch == "bloom" && global("token_embd_norm.weight"),
        embd_rms_norm: matches!(arch, "muse-glimmer" | "talkie"),
        pos_embd,
        attn_norm_2: arch == "falcon" && has(0, ".attn_norm_2.weight"),
        embd_scale: family == Family::Gemma
            || matches!(arch, "afmoe" | "minicpm3")
            || l.hparams
                .float("f_embedding_scale")
                .is_some_and(|v| v != 0.0),
        q_scale: family == Family::Gemma || arch == "phi2",
        pos_input,
        // `llama_model_rope_type` (src/llama-model.cpp:3187-3204): the sectioned RoPE always
        // for the Qwen VL graphs and paddleocr, with `rope_sections` set (`use_mrope`,
        // src/llama-hparams.cpp:352-354) for glm4, glm4moe, hunyuan_vl and bailingmoe3
        // (src/llama-model.cpp:3098).
        pos_per_embd: if matches!(
            arch,
            "qwen2vl"
                | "paddleocr"
                | "qwen3vl"
                | "qwen3vlmoe"
                | "qwen3tts"
                | "qwen35"
                | "qwen35moe"
        ) || (matches!(arch, "glm4" | "glm4moe" | "hunyuan_vl" | "bailingmoe3")
            && l.hparams.ints("rope_sections").is_some_and(|v| {
                v.first().is_some_and(|&a| a > 0) && v.get(1).is_some_and(|&b| b > 0)
            })) {
            4
        } else {
            1
        },
        attn_temp: arch == "llama4"
            || (matches!(arch, "mistral3" | "deepseek2" | "mistral4")
                && l.hparams
                    .float("f_attn_temp_scale")
                    .is_some_and(|v| v != 0.0)),
        output_bias: matches!(arch, "qwen2" | "phi3" | "phi2" | "phimoe") && global("output.bias"),
        norm_bias: (matches!(arch, "phi3" | "phimoe") || LAYER_NORM.contains(&arch))
            && global("output_norm.bias"),
        norm_weight: !matches!(arch, "olmo" | "talkie"),
        n_kv_swa: if family == Family::Llama && !ISWA.contains(&arch) {
            None
        } else {
            n_kv_swa
        },
        final_softcap: matches!(arch, "gemma2" | "gemma3" | "grok" | "muse-glimmer")
            && l.hparams
                .float("f_final_logit_softcapping")
                .is_some_and(|v| v != 0.0),
        rows_after_layers: arch == "gpt-oss",
        all_rows: arch == "cogvlm",
        // nemotron-h.cpp:236-257 (`embeddings_nextn_masked` off by default,
        // src/llama-context.cpp:120).
        rows_after_norm: matches!(
            arch,
            "cohere2moe"
                | "nemotron_h"
                | "nemotron_h_moe"
                | "qwen35"
                | "qwen35moe"
                | "qwen3next"
                | "hy_v3"
                | "bailingmoe3"
        ),
        head_scale: arch == "minicpm3",
        dsa_rot: dsa_indexer.map(|ix| ix.head),
        head_gate: arch == "dots3note",
        mla_gate_cont: arch == "bailingmoe3",
        mla_gate_elem: arch == "hy_v4" || arch == "kimi-k3",
        k_rot,
        v_rot,
        n_stream: streams,
        n_seqs: o.n_parallel.max(1),
        n_rs: o.n_parallel.max(1),
        reserve_one_seq: matches!(arch, "kimi-linear" | "minimax-01"),
        // kimi-k3.cpp:43-45.
        res_block: if arch == "kimi-k3" {
            u64::try_from(l.hparams.int("attn_res_block_size").unwrap_or(0)).ok()?
        } else {
            0
        },
        situ: (arch == "kimi-k3")
            .then(|| l.hparams.float("situ_linear_beta").is_some_and(|b| b > 0.0)),
        dsa_hadamard: arch != "hy_v4",
        hy_hc,
        glm5,
        hrm,
        // granite-swa.cpp:77-78 scales the logits whatever the file says.
        logit_scale: matches!(arch, "granite_swa" | "muse-glimmer" | "talkie")
            || matches!(
                arch,
                "command-r" | "cohere2" | "cohere2moe" | "grok" | "granitehybrid"
            ) && l.hparams.float("f_logit_scale").is_some_and(|v| v != 0.0),
        layers,
    })
}
