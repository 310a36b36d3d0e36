//! `ModelConfig`: the typed configuration of a model, read with the file's own key prefix,
//! with llama.cpp's defaults and the derived facts (head dims, attention kind, vocab size,
//! tied embeddings, parameter count).

use std::fmt;

use ggufscope_gguf::{Gguf, Metadata, Value, ValueType};
use serde::Serialize;

use crate::arch::{self, ArchSpec, RopeType};
use crate::error::{ArchError, Inconsistency};
use crate::keys::{self, Hparam};

/// llama.cpp's `LLAMA_MAX_LAYERS` (`src/llama-hparams.h:11`).
pub const MAX_LAYERS: u64 = 512;

/// Multi-head, grouped-query or multi-query attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttentionKind {
    /// As many KV heads as query heads.
    Mha,
    /// Query heads share KV heads in groups of `group` (`heads / kv_heads`).
    Gqa {
        /// Query heads per KV head.
        group: u64,
    },
    /// One KV head for all query heads.
    Mqa,
}

impl AttentionKind {
    /// Classifies a head configuration; `kv_heads` must divide `heads`, neither zero.
    pub fn classify(heads: u64, kv_heads: u64) -> Result<Self, Inconsistency> {
        if heads == 0 {
            return Err(Inconsistency::Zero {
                what: "attention.head_count",
            });
        }
        if kv_heads == 0 {
            return Err(Inconsistency::Zero {
                what: "attention.head_count_kv",
            });
        }
        if heads % kv_heads != 0 {
            return Err(Inconsistency::HeadsDoNotDivide {
                heads,
                kv_heads,
                layer: 0,
            });
        }
        Ok(match (heads / kv_heads, kv_heads) {
            (1, _) => AttentionKind::Mha,
            (_, 1) => AttentionKind::Mqa,
            (group, _) => AttentionKind::Gqa { group },
        })
    }

    /// `"MHA"`, `"GQA"` or `"MQA"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttentionKind::Mha => "MHA",
            AttentionKind::Gqa { .. } => "GQA",
            AttentionKind::Mqa => "MQA",
        }
    }

    /// Query heads per KV head (1 for MHA).
    pub fn group_size(self, heads: u64) -> u64 {
        match self {
            AttentionKind::Mha => 1,
            AttentionKind::Gqa { group } => group,
            AttentionKind::Mqa => heads,
        }
    }
}

impl fmt::Display for AttentionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttentionKind::Gqa { group } => write!(f, "GQA (group {group})"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl Serialize for AttentionKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Head counts and FFN width of one layer (they may differ per layer when the file stores
/// them as arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayerDims {
    /// Query heads.
    pub head_count: u64,
    /// KV heads.
    pub head_count_kv: u64,
    /// FFN width.
    pub feed_forward_length: u64,
}

/// Rope scaling as the file declares it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RopeScaling {
    /// `rope.scaling.type` (`linear`, `yarn`, `longrope`…), if present.
    #[serde(rename = "type")]
    pub scaling_type: Option<String>,
    /// `rope.scaling.factor`, if present.
    pub factor: Option<f64>,
    /// `rope.scaling.original_context_length` (default: the context length).
    pub original_context_length: u64,
    /// `rope.scaling.attn_factor`, if present.
    pub attn_factor: Option<f64>,
}

/// Tokenizer facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenizerFacts {
    /// `tokenizer.ggml.model` (`llama` = SentencePiece, `gpt2` = BPE…).
    pub model: Option<String>,
    /// `tokenizer.ggml.pre`.
    pub pre: Option<String>,
    /// Entries in `tokenizer.ggml.tokens`.
    pub token_count: Option<u64>,
    /// Entries in `tokenizer.ggml.merges`.
    pub merge_count: Option<u64>,
    /// BOS id.
    pub bos_token_id: Option<u64>,
    /// EOS id.
    pub eos_token_id: Option<u64>,
    /// Padding id.
    pub padding_token_id: Option<u64>,
    /// Whether `tokenizer.chat_template` is present.
    pub has_chat_template: bool,
}

/// The typed configuration of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// `{arch}.context_length`.
    pub context_length: u64,
    /// `{arch}.embedding_length` (`n_embd`).
    pub embedding_length: u64,
    /// `{arch}.block_count`.
    pub block_count: u64,
    /// `{arch}.feed_forward_length` (layer 0 when per-layer).
    pub feed_forward_length: u64,
    /// `{arch}.attention.head_count` (layer 0 when per-layer).
    pub attention_head_count: u64,
    /// `{arch}.attention.head_count_kv`, default `head_count` (layer 0 when per-layer).
    pub attention_head_count_kv: u64,
    /// Key head dimension: `attention.key_length`, else `n_embd / n_head`.
    pub head_dim: u64,
    /// Value head dimension: `attention.value_length`, else `n_embd / n_head`.
    pub head_dim_v: u64,
    /// Whether the head dimensions came from `attention.key_length`/`value_length`.
    pub head_dim_explicit: bool,
    /// MHA, GQA or MQA.
    pub attention_kind: AttentionKind,
    /// Query heads per KV head.
    pub gqa_group_size: u64,
    /// Width of K (and of V when the dims agree): `head_dim · kv_heads`.
    pub k_width: u64,
    /// Width of V: `head_dim_v · kv_heads`.
    pub v_width: u64,
    /// `{arch}.rope.dimension_count`, default `head_dim`.
    pub rope_dimension_count: u64,
    /// `{arch}.rope.freq_base`, default 10000.
    pub rope_freq_base: f64,
    /// Whether `rope.freq_base` was absent and the default applies.
    pub rope_freq_base_defaulted: bool,
    /// NORM or NEOX: the architecture table's rope type for the architecture.
    pub rope_type: RopeType,
    /// Rope scaling.
    pub rope_scaling: RopeScaling,
    /// `{arch}.attention.layer_norm_rms_epsilon`.
    pub rms_norm_eps: f64,
    /// `{arch}.attention.sliding_window`; `None` when absent or 0.
    pub sliding_window: Option<u64>,
    /// Vocabulary size: the length of `tokenizer.ggml.tokens` (what llama.cpp uses for
    /// shapes), else `{arch}.vocab_size`.
    pub vocab_size: Option<u64>,
    /// Tokenizer facts.
    pub tokenizer: TokenizerFacts,
    /// Number of tensors in the file.
    pub tensor_count: u64,
    /// `Some(true)` when the file has tensors but no `output.weight`; `None` for vocab-only
    /// files, where it cannot be known.
    pub tied_embeddings: Option<bool>,
    /// Sum of every tensor's element count, as llama.cpp's `model params`; `None` for
    /// vocab-only files.
    pub parameter_count: Option<u64>,
    /// Per-layer dimensions, when the file stores any of them as arrays.
    pub per_layer: Option<Vec<LayerDims>>,
}

/// Widens an `f32` to the `f64` with the same shortest decimal form (`1e-5`, not
/// `9.99999974737875e-6`): what the file says, not an artefact of the widening.
pub(crate) fn f32_decimal(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

struct Reader<'m, 'a> {
    md: &'m Metadata<'a>,
    arch: &'m str,
}

impl Reader<'_, '_> {
    fn key(&self, h: Hparam) -> String {
        h.key(self.arch)
    }

    fn u64_opt(&self, h: Hparam) -> Result<Option<u64>, ArchError> {
        let key = self.key(h);
        self.md
            .get_u64(&key)
            .map_err(|e| ArchError::from_getter(&key, e))
    }

    fn u64_req(&self, h: Hparam) -> Result<u64, ArchError> {
        self.u64_opt(h)?
            .ok_or_else(|| ArchError::MissingKey { key: self.key(h) })
    }

    fn f64_opt(&self, h: Hparam) -> Result<Option<f64>, ArchError> {
        let key = self.key(h);
        Ok(match self.md.value(&key) {
            None => None,
            Some(Value::F32(v)) => Some(f32_decimal(v)),
            Some(Value::F64(v)) => Some(v),
            Some(other) => {
                return Err(ArchError::KeyType {
                    key,
                    expected: "float",
                    found: other.value_type(),
                })
            }
        })
    }

    fn str_opt(&self, key: &str) -> Result<Option<String>, ArchError> {
        Ok(self
            .md
            .get_str(key)
            .map_err(|e| ArchError::from_getter(key, e))?
            .map(str::to_string))
    }

    /// A scalar or a per-layer array of `block_count` unsigned integers.
    fn per_layer(&self, h: Hparam, block_count: u64) -> Result<Option<Vec<u64>>, ArchError> {
        let key = self.key(h);
        let Some(Value::Array(a)) = self.md.value(&key) else {
            return Ok(self
                .u64_opt(h)?
                .map(|v| vec![v; usize::try_from(block_count).unwrap_or(0)]));
        };
        if a.len() != block_count {
            return Err(ArchError::Inconsistent(Inconsistency::PerLayerLength {
                key,
                len: a.len(),
                block_count,
            }));
        }
        a.iter()
            .map(|v| {
                v.as_integer()
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or(ArchError::KeyType {
                        key: key.clone(),
                        expected: "array of unsigned integers",
                        found: a.element_type(),
                    })
            })
            .collect::<Result<Vec<u64>, _>>()
            .map(Some)
    }
}

impl ModelConfig {
    /// Reads the configuration of a supported architecture.
    pub fn from_gguf(gguf: &Gguf<'_>) -> Result<Self, ArchError> {
        let spec = spec_of(gguf)?;
        let cfg = Self::read(gguf, spec)?;
        tracing::info!(
            target: "ggufscope::config",
            architecture = %cfg.architecture,
            layers = cfg.block_count,
            width = cfg.embedding_length,
            heads = cfg.attention_head_count,
            kv_heads = cfg.attention_head_count_kv,
            head_dim = cfg.head_dim,
            attention = %cfg.attention_kind,
            rope = cfg.rope_type.as_str(),
            vocab = ?cfg.vocab_size,
            "configuration extracted"
        );
        Ok(cfg)
    }

    /// The architecture's spec.
    pub fn spec(&self) -> Option<&'static ArchSpec> {
        arch::lookup(&self.architecture)
    }

    /// Head counts and FFN width of layer `il`.
    pub fn layer(&self, il: u64) -> LayerDims {
        self.per_layer
            .as_ref()
            .and_then(|v| v.get(usize::try_from(il).ok()?).copied())
            .unwrap_or(LayerDims {
                head_count: self.attention_head_count,
                head_count_kv: self.attention_head_count_kv,
                feed_forward_length: self.feed_forward_length,
            })
    }

    fn read(gguf: &Gguf<'_>, spec: &'static ArchSpec) -> Result<Self, ArchError> {
        let md = gguf.metadata();
        let r = Reader {
            md,
            arch: spec.name,
        };
        let zero = |what| ArchError::Inconsistent(Inconsistency::Zero { what });
        let context_length = r.u64_req(Hparam::ContextLength)?;
        let embedding_length = r.u64_req(Hparam::EmbeddingLength)?;
        let block_count = r.u64_req(Hparam::BlockCount)?;
        if embedding_length == 0 {
            return Err(zero("embedding_length"));
        }
        if block_count == 0 {
            return Err(zero("block_count"));
        }
        if block_count > MAX_LAYERS {
            return Err(ArchError::Inconsistent(Inconsistency::TooManyLayers {
                block_count,
                max: MAX_LAYERS,
            }));
        }
        let missing = |h: Hparam| ArchError::MissingKey {
            key: h.key(spec.name),
        };
        let heads = r
            .per_layer(Hparam::HeadCount, block_count)?
            .ok_or_else(|| missing(Hparam::HeadCount))?;
        let kv_heads = r
            .per_layer(Hparam::HeadCountKv, block_count)?
            .unwrap_or_else(|| heads.clone());
        let ffn = r
            .per_layer(Hparam::FeedForwardLength, block_count)?
            .ok_or_else(|| missing(Hparam::FeedForwardLength))?;
        let layers: Vec<LayerDims> = heads
            .iter()
            .zip(&kv_heads)
            .zip(&ffn)
            .map(
                |((&head_count, &head_count_kv), &feed_forward_length)| LayerDims {
                    head_count,
                    head_count_kv,
                    feed_forward_length,
                },
            )
            .collect();
        let first = *layers.first().ok_or_else(|| zero("block_count"))?;
        for (il, l) in (0u64..).zip(&layers) {
            AttentionKind::classify(l.head_count, l.head_count_kv).map_err(|e| match e {
                Inconsistency::HeadsDoNotDivide {
                    heads, kv_heads, ..
                } => ArchError::Inconsistent(Inconsistency::HeadsDoNotDivide {
                    heads,
                    kv_heads,
                    layer: il,
                }),
                other => ArchError::Inconsistent(other),
            })?;
        }
        let attention_kind = AttentionKind::classify(first.head_count, first.head_count_kv)
            .map_err(ArchError::Inconsistent)?;
        let uniform = layers.iter().all(|l| *l == first);

        let key_length = r.u64_opt(Hparam::KeyLength)?;
        let value_length = r.u64_opt(Hparam::ValueLength)?;
        let per_head = || {
            if embedding_length % first.head_count != 0 {
                Err(ArchError::Inconsistent(Inconsistency::WidthNotDivisible {
                    width: embedding_length,
                    heads: first.head_count,
                }))
            } else {
                Ok(embedding_length / first.head_count)
            }
        };
        let head_dim = match key_length {
            Some(k) => k,
            None => per_head()?,
        };
        let head_dim_v = match value_length {
            Some(v) => v,
            None => per_head()?,
        };
        if head_dim == 0 {
            return Err(zero("attention.key_length"));
        }
        // Where Q is n_embd wide (qwen2, phi3), head_dim · heads must be n_embd; elsewhere Q is
        // head_dim · heads wide and may differ from n_embd (qwen3, gemma3).
        if spec.qkv_q_is_embd_wide() {
            let product = head_dim.saturating_mul(first.head_count);
            if product != embedding_length {
                return Err(ArchError::Inconsistent(Inconsistency::HeadDimTimesHeads {
                    head_dim,
                    heads: first.head_count,
                    product,
                    width: embedding_length,
                }));
            }
        }
        let rope_dimension_count = r.u64_opt(Hparam::RopeDimensionCount)?.unwrap_or(head_dim);
        if rope_dimension_count > head_dim {
            return Err(ArchError::Inconsistent(Inconsistency::RotExceedsHead {
                n_rot: rope_dimension_count,
                head_dim,
            }));
        }
        if spec.rot_must_equal_head_dim && rope_dimension_count != head_dim {
            return Err(ArchError::Inconsistent(Inconsistency::RotNotHeadDim {
                n_rot: rope_dimension_count,
                head_dim,
            }));
        }
        let rope_freq_base_raw = r.f64_opt(Hparam::RopeFreqBase)?;
        let rms_norm_eps = r
            .f64_opt(Hparam::RmsEps)?
            .ok_or_else(|| missing(Hparam::RmsEps))?;
        let rope_scaling = RopeScaling {
            scaling_type: r.str_opt(&Hparam::RopeScalingType.key(spec.name))?,
            factor: r.f64_opt(Hparam::RopeScalingFactor)?,
            original_context_length: r
                .u64_opt(Hparam::RopeScalingOriginalContextLength)?
                .unwrap_or(context_length),
            attn_factor: r.f64_opt(Hparam::RopeScalingAttnFactor)?,
        };
        // Read where llama.cpp's code for the architecture reads it (gemma3, phi3).
        let sliding_window = if spec.reads_sliding_window {
            r.u64_opt(Hparam::SlidingWindow)?.filter(|&w| w > 0)
        } else {
            None
        };
        // The rope type is the architecture table's (llama.cpp's `llama_model_rope_type`).
        let rope_type =
            RopeType::of_architecture(spec.name).ok_or_else(|| ArchError::Unsupported {
                architecture: spec.name.to_string(),
                supported: arch::supported(),
            })?;
        let tokenizer = tokenizer_facts(md)?;
        let vocab_size = match tokenizer.token_count {
            Some(n) => Some(n),
            None => r.u64_opt(Hparam::VocabSize)?,
        };
        let tensor_count = gguf.tensors().len() as u64;
        let (tied_embeddings, parameter_count) = if tensor_count == 0 {
            (None, None)
        } else {
            let params = gguf
                .tensors()
                .iter()
                .try_fold(0u64, |acc, t| acc.checked_add(t.element_count().ok()?));
            (Some(gguf.tensor("output.weight").is_none()), params)
        };
        let k_width = head_dim
            .checked_mul(first.head_count_kv)
            .ok_or_else(|| overflow("k width"))?;
        let v_width = head_dim_v
            .checked_mul(first.head_count_kv)
            .ok_or_else(|| overflow("v width"))?;
        Ok(Self {
            architecture: spec.name.to_string(),
            name: r.str_opt(keys::GENERAL_NAME)?,
            context_length,
            embedding_length,
            block_count,
            feed_forward_length: first.feed_forward_length,
            attention_head_count: first.head_count,
            attention_head_count_kv: first.head_count_kv,
            head_dim,
            head_dim_v,
            head_dim_explicit: key_length.is_some(),
            attention_kind,
            gqa_group_size: attention_kind.group_size(first.head_count),
            k_width,
            v_width,
            rope_dimension_count,
            rope_freq_base: rope_freq_base_raw.unwrap_or(10000.0),
            rope_freq_base_defaulted: rope_freq_base_raw.is_none(),
            rope_type,
            rope_scaling,
            rms_norm_eps,
            sliding_window,
            vocab_size,
            tokenizer,
            tensor_count,
            tied_embeddings,
            parameter_count,
            per_layer: (!uniform).then_some(layers),
        })
    }
}

fn overflow(what: &'static str) -> ArchError {
    ArchError::KeyValue {
        key: what.to_string(),
        value: "overflow".into(),
        expected: "a value that fits in 64 bits",
    }
}

/// The spec of the file's architecture, or the typed reason there is none.
pub fn spec_of(gguf: &Gguf<'_>) -> Result<&'static ArchSpec, ArchError> {
    let md = gguf.metadata();
    let name = md
        .get_str(keys::GENERAL_ARCHITECTURE)
        .map_err(|e| ArchError::from_getter(keys::GENERAL_ARCHITECTURE, e))?
        .ok_or(ArchError::NoArchitecture)?;
    arch::lookup(name).ok_or_else(|| {
        tracing::debug!(target: "ggufscope::config", architecture = name, "unsupported architecture");
        ArchError::Unsupported { architecture: name.to_string(), supported: arch::supported() }
    })
}

fn array_len(md: &Metadata<'_>, key: &str) -> Result<Option<u64>, ArchError> {
    Ok(md
        .get_array(key, None)
        .map_err(|e| ArchError::from_getter(key, e))?
        .map(|a| a.len()))
}

fn tokenizer_facts(md: &Metadata<'_>) -> Result<TokenizerFacts, ArchError> {
    let text = |key: &str| -> Result<Option<String>, ArchError> {
        Ok(md
            .get_str(key)
            .map_err(|e| ArchError::from_getter(key, e))?
            .map(str::to_string))
    };
    let id = |key: &str| md.get_u64(key).map_err(|e| ArchError::from_getter(key, e));
    let tokens = md
        .get_array(keys::TOKENIZER_TOKENS, Some(ValueType::String))
        .map_err(|e| ArchError::from_getter(keys::TOKENIZER_TOKENS, e))?;
    Ok(TokenizerFacts {
        model: text(keys::TOKENIZER_MODEL)?,
        pre: text(keys::TOKENIZER_PRE)?,
        token_count: tokens.map(|a| a.len()),
        merge_count: array_len(md, keys::TOKENIZER_MERGES)?,
        bos_token_id: id(keys::TOKENIZER_BOS_ID)?,
        eos_token_id: id(keys::TOKENIZER_EOS_ID)?,
        padding_token_id: id(keys::TOKENIZER_PAD_ID)?,
        has_chat_template: md.get(keys::TOKENIZER_CHAT_TEMPLATE).is_some(),
    })
}
