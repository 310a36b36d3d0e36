//! `ArchFacts`: the configuration of a model of any architecture the table holds, read the way
//! llama.cpp reads it (the table runs llama.cpp's own `load_hparams`), with what a scheduler
//! needs: experts, MLA ranks, SSM sizes, which layers slide or recur, per-layer heads and FFN
//! widths, parameter counts and the KV bytes a token costs.

use ggufscope_gguf::Gguf;
use serde::{Serialize, Serializer};

use crate::table::{Loaded, TensorMode};

/// A per-layer value: serialised as one number when every layer agrees, else as the list
/// (what llama.cpp's `print_info` prints, `src/llama-model.cpp:2037-2065`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerLayer(pub Vec<i64>);

impl PerLayer {
    /// The value of layer 0 (llama.cpp's `n_head()`, `n_ff()` …).
    pub fn first(&self) -> i64 {
        self.0.first().copied().unwrap_or(0)
    }

    /// Whether every layer has the same value.
    pub fn is_uniform(&self) -> bool {
        self.0.iter().all(|v| Some(v) == self.0.first())
    }
}

impl Serialize for PerLayer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_uniform() {
            s.serialize_i64(self.first())
        } else {
            s.collect_seq(&self.0)
        }
    }
}

impl std::fmt::Display for PerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_uniform() {
            write!(f, "{}", self.first())
        } else {
            let v: Vec<String> = self.0.iter().map(i64::to_string).collect();
            write!(f, "[{}]", v.join(", "))
        }
    }
}

/// What kind of GGUF file this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A model with its tensors.
    Model,
    /// Metadata and tokenizer only (no tensors).
    VocabOnly,
    /// A multimodal projector (`general.architecture = clip`, `tools/mtmd/`).
    Projector,
    /// A LoRA adapter (`general.type = adapter`, `src/llama-adapter.cpp`).
    LoraAdapter,
    /// A control vector (`controlvector.*` keys, `direction.N` tensors).
    ControlVector,
    /// An importance matrix (`general.type = imatrix`, `tools/imatrix/imatrix.cpp`).
    Imatrix,
}

impl FileKind {
    /// The JSON name: `model`, `vocab_only`, `projector`, `lora_adapter`, `control_vector`,
    /// `imatrix`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Model => "model",
            FileKind::VocabOnly => "vocab_only",
            FileKind::Projector => "projector",
            FileKind::LoraAdapter => "lora_adapter",
            FileKind::ControlVector => "control_vector",
            FileKind::Imatrix => "imatrix",
        }
    }

    /// Whether it is a companion file (not a model, not a vocab-only file).
    pub fn is_companion(self) -> bool {
        !matches!(self, FileKind::Model | FileKind::VocabOnly)
    }
}

/// State-space (Mamba-style) sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsmFacts {
    /// `ssm.conv_kernel` (`ssm_d_conv`).
    pub conv_kernel: i64,
    /// `ssm.state_size` (`ssm_d_state`).
    pub state_size: i64,
    /// `ssm.inner_size` (`ssm_d_inner`).
    pub inner_size: i64,
    /// `ssm.group_count` (`ssm_n_group`).
    pub group_count: i64,
    /// `ssm.time_step_rank` (`ssm_dt_rank`).
    pub time_step_rank: i64,
}

/// One block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerEntry {
    /// Index.
    pub index: u32,
    /// `attention` or `recurrent` (`llama_hparams::is_recr`).
    pub kind: &'static str,
    /// Sliding-window attention (`is_swa`).
    pub sliding: bool,
    /// Query heads.
    pub head_count: i64,
    /// KV heads.
    pub head_count_kv: i64,
    /// FFN width (`n_ff(il)`).
    pub feed_forward_length: i64,
    /// Whether the layer routes tokens to experts (it has `*_exps` tensors).
    pub moe: bool,
}

/// The configuration of a model as llama.cpp reads it, for every architecture of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchFacts {
    /// `general.architecture`.
    pub architecture: String,
    /// Model or vocab-only.
    pub file_kind: FileKind,
    /// `n_ctx_train`.
    pub context_length: i64,
    /// `n_embd`.
    pub embedding_length: i64,
    /// `n_layer()`: blocks without the MTP/NextN blocks the loader appends.
    pub block_count: i64,
    /// `nextn_predict_layers` (MTP blocks after the trunk).
    pub nextn_layer_count: i64,
    /// `n_head(il)` per block (JSON `attention_head_count`).
    #[serde(rename = "attention_head_count")]
    pub head_count: PerLayer,
    /// `n_head_kv(il)` per block (JSON `attention_head_count_kv`).
    #[serde(rename = "attention_head_count_kv")]
    pub head_count_kv: PerLayer,
    /// `n_ff(il)` per block.
    pub feed_forward_length: PerLayer,
    /// `n_embd_head_k` (full-attention layers).
    pub head_dim: i64,
    /// `n_embd_head_v`.
    pub head_dim_v: i64,
    /// `n_rot` of full-attention layers.
    pub rope_dimension_count: i64,
    /// llama.cpp's rope type for the architecture.
    pub rope_type: Option<&'static str>,
    /// `rope_freq_base_train`.
    pub rope_freq_base: f64,
    /// `n_swa`, `None` when 0.
    pub sliding_window: Option<i64>,
    /// The blocks that use the sliding window.
    pub sliding_layers: Vec<u32>,
    /// The blocks that are recurrent (SSM, linear attention, short convolution).
    pub recurrent_layers: Vec<u32>,
    /// `n_expert`.
    pub expert_count: i64,
    /// `n_expert_used()`.
    pub expert_used_count: i64,
    /// `n_expert_shared`.
    pub expert_shared_count: i64,
    /// `n_ff_exp()`.
    pub expert_feed_forward_length: i64,
    /// `n_layer_dense_lead`.
    pub leading_dense_block_count: i64,
    /// `n_lora_kv` (MLA).
    pub kv_lora_rank: i64,
    /// `n_lora_q` (MLA).
    pub q_lora_rank: i64,
    /// SSM sizes, when the architecture has any.
    pub ssm: Option<SsmFacts>,
    /// Every tensor's element count summed (llama.cpp's `n_params`); for a vocab-only file,
    /// the required layout's.
    pub parameter_count: Option<u64>,
    /// Parameters a token uses: expert tensors count `expert_used_count / expert_count`.
    pub active_parameter_count: Option<u64>,
    /// Bytes one more token of context adds to the caches llama.cpp allocates (f16, one
    /// sequence; sliding-window layers past their window add nothing; MLA: the compressed K).
    /// `None` when the configuration is too large to plan (see `memory::implausible`).
    pub kv_bytes_per_token: Option<u64>,
    /// Tensors in the file.
    pub tensor_count: u64,
    /// One entry per block.
    pub layers: Vec<LayerEntry>,
}

impl ArchFacts {
    /// The facts of a loaded file (`l` from [`crate::table::load`]).
    pub fn from_loaded(gguf: &Gguf<'_>, l: &Loaded) -> Self {
        let h = &l.hparams;
        let int = |name: &str| h.int(name).unwrap_or(0);
        let n_layer_all = usize::try_from(int("n_layer_all")).unwrap_or(0);
        let layers_all = l.layers.get(..n_layer_all).unwrap_or(&l.layers);
        let per =
            |f: fn(&crate::table::LayerFacts) -> i64| PerLayer(layers_all.iter().map(f).collect());
        let tensor_count = u64::try_from(gguf.tensors().len()).unwrap_or(u64::MAX);
        let file_kind = if tensor_count == 0 {
            FileKind::VocabOnly
        } else {
            FileKind::Model
        };
        // Checked: a hostile file's shapes must not overflow (an overflow makes the count
        // unknown, not wrong).
        let elements = |shape: &[i64]| -> Option<u64> {
            shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(u64::try_from(d).unwrap_or(0)))
        };
        let n_expert = int("n_expert");
        let n_expert_used = l.layers.first().map_or(0, |x| x.n_expert_used);
        // Parameters: llama.cpp sums every tensor of the file (`llama_model_loader`'s
        // n_elements, src/llama-model-loader.cpp:591); for a tensor-less file the layout the
        // table requires stands in.
        let mut total = Some(0u64);
        let mut expert = Some(0u64);
        let mut add = |name: &str, n: Option<u64>| {
            total = total.zip(n).and_then(|(t, n)| t.checked_add(n));
            if name.contains("_exps.") {
                expert = expert.zip(n).and_then(|(e, n)| e.checked_add(n));
            }
        };
        if file_kind == FileKind::Model {
            for t in gguf.tensors() {
                add(
                    t.name(),
                    t.dims().iter().try_fold(1u64, |a, &d| a.checked_mul(d)),
                );
            }
        } else {
            for r in l.tensors.iter().filter(|r| r.created && r.flags & 2 == 0) {
                add(&r.name, elements(&r.shape));
            }
        }
        let active = match (total, expert) {
            (Some(total), Some(expert)) if n_expert > 0 && expert > 0 => {
                let used = u64::try_from(n_expert_used).unwrap_or(0);
                let all = u64::try_from(n_expert).unwrap_or(1).max(1);
                (expert / all)
                    .checked_mul(used)
                    .and_then(|x| total.saturating_sub(expert).checked_add(x))
            }
            (total, _) => total,
        };
        let moe_layer = |il: u32| {
            l.tensors
                .iter()
                .any(|r| r.created && r.layer == i64::from(il) && r.name.contains("_exps."))
        };
        let n_layer = l.n_layer;
        // What one more token of context costs in the caches llama.cpp allocates for this
        // model (every memory class: KV, iSWA, MLA's compressed K, indexer caches, none for
        // recurrent layers), measured as the memory plan's growth from 64k to 128k cells with
        // f16 caches: sliding-window layers stop growing at their window, as in llama.cpp.
        let kv_bytes_per_token = if crate::memory::implausible(l, 131_072).is_some() {
            None
        } else {
            let kv_at = |n_ctx: u64| {
                let options = crate::memory::MemoryOptions {
                    n_ctx,
                    swa_full: false,
                    ..crate::memory::MemoryOptions::default()
                };
                crate::memory::plan_memory_loaded(gguf, l, options).kv_cache_bytes
            };
            Some(kv_at(131_072).saturating_sub(kv_at(65_536)) / 65_536)
        };
        let has_ssm = int("ssm_d_conv") > 0 || int("ssm_d_state") > 0 || int("ssm_d_inner") > 0;
        let n_swa = int("n_swa");
        Self {
            architecture: l.arch.clone(),
            file_kind,
            context_length: int("n_ctx_train"),
            embedding_length: int("n_embd"),
            block_count: n_layer,
            nextn_layer_count: int("n_layer_nextn"),
            head_count: per(|x| x.n_head),
            head_count_kv: per(|x| x.n_head_kv),
            feed_forward_length: per(|x| x.n_ff),
            head_dim: int("n_embd_head_k_full"),
            head_dim_v: int("n_embd_head_v_full"),
            rope_dimension_count: int("n_rot_full"),
            rope_type: l.rope_type,
            rope_freq_base: h.float("rope_freq_base_train").unwrap_or(0.0),
            sliding_window: (n_swa > 0).then_some(n_swa),
            sliding_layers: layers_all
                .iter()
                .filter(|x| x.is_swa)
                .map(|x| x.index)
                .collect(),
            recurrent_layers: layers_all
                .iter()
                .filter(|x| x.is_recurrent)
                .map(|x| x.index)
                .collect(),
            expert_count: n_expert,
            expert_used_count: n_expert_used,
            expert_shared_count: int("n_expert_shared"),
            expert_feed_forward_length: l.layers.first().map_or(0, |x| x.n_ff_exp),
            leading_dense_block_count: int("n_layer_dense_lead"),
            kv_lora_rank: int("n_lora_kv"),
            q_lora_rank: int("n_lora_q"),
            ssm: has_ssm.then(|| SsmFacts {
                conv_kernel: int("ssm_d_conv"),
                state_size: int("ssm_d_state"),
                inner_size: int("ssm_d_inner"),
                group_count: int("ssm_n_group"),
                time_step_rank: int("ssm_dt_rank"),
            }),
            // A vocab-only file of an architecture without tensor code: nothing to count.
            parameter_count: total.filter(|_| file_kind == FileKind::Model || l.has_tensor_code),
            active_parameter_count: active
                .filter(|_| file_kind == FileKind::Model || l.has_tensor_code),
            kv_bytes_per_token,
            tensor_count,
            layers: layers_all
                .iter()
                .map(|x| LayerEntry {
                    index: x.index,
                    kind: if x.is_recurrent {
                        "recurrent"
                    } else {
                        "attention"
                    },
                    sliding: x.is_swa,
                    head_count: x.n_head,
                    head_count_kv: x.n_head_kv,
                    feed_forward_length: x.n_ff,
                    moe: moe_layer(x.index),
                })
                .collect(),
        }
    }

    /// The generic facts of a file whose architecture the table does not hold (llama.cpp's
    /// architecture-independent hyper-parameter code only; see [`crate::table::load_generic`]).
    pub fn read_generic(
        gguf: &Gguf<'_>,
        arch: &str,
    ) -> Result<(Self, Loaded), crate::table::TableError> {
        let l = crate::table::load_generic(gguf, arch)?;
        Ok((Self::from_loaded(gguf, &l), l))
    }

    /// Runs the table on a parsed file and returns the facts with the run.
    pub fn read(gguf: &Gguf<'_>, arch: &str) -> Result<(Self, Loaded), crate::table::TableError> {
        let mode = if gguf.tensors().is_empty() {
            TensorMode::Required
        } else {
            TensorMode::File
        };
        let l = crate::table::load(gguf, arch, mode)?;
        Ok((Self::from_loaded(gguf, &l), l))
    }
}
