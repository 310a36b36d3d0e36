//! LoRA adapters: what `llama_adapter_lora_init_impl` (`src/llama-adapter.cpp:151-423`) reads
//! and refuses. Keys: `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`,
//! `adapter.alora.invocation_tokens` (`src/llama-arch.cpp:422-426`); tensors `NAME.lora_a` /
//! `NAME.lora_b` for a base tensor `NAME` (`src/llama-adapter.cpp:277-297`).

use std::collections::BTreeMap;

use ggufscope_gguf::{Gguf, TensorInfo, ValueType};
use serde::Serialize;

use super::{ne, ModelSide, PairFinding};

/// One kind of base tensor the adapter targets (`attn_q.weight`…), over how many layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoraTarget {
    /// The base tensor's name without `blk.N.`.
    pub tensor: String,
    /// Blocks that carry it (0 for a tensor outside the blocks).
    pub layers: u64,
    /// The rank (`lora_a` ne[1]) when every pair of this kind agrees.
    pub rank: Option<u64>,
}

/// A LoRA adapter's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoraFacts {
    /// `general.architecture`: the base model's architecture.
    pub architecture: Option<String>,
    /// `general.name`.
    pub name: Option<String>,
    /// `adapter.type` (`lora`; llama.cpp refuses anything else).
    pub adapter_type: Option<String>,
    /// `adapter.lora.alpha` (0 when absent: then the scale is the user's, unchanged).
    pub alpha: Option<f64>,
    /// The rank: `lora_a` ne[1] (`lora_b` ne[0] for `token_embd`), when one rank fits all pairs.
    pub rank: Option<u64>,
    /// Every rank seen, when they differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranks: Vec<u64>,
    /// `alpha / rank`: what a scale of 1.0 multiplies the low-rank update by
    /// (`src/llama-graph.cpp:1580-1582`); `None` without alpha or rank.
    pub scale: Option<f64>,
    /// The `lora_a`/`lora_b` pairs.
    pub pairs: u64,
    /// The base tensors targeted, grouped by name × layers.
    pub targets: Vec<LoraTarget>,
    /// `adapter.alora.invocation_tokens`, for an activated LoRA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alora_invocation_tokens: Option<Vec<i64>>,
    /// `adapter.lora.task_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_name: Option<String>,
    /// `adapter.lora.prompt_prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_prefix: Option<String>,
}

/// The pairs as `llama_adapter_lora_init_impl` bundles them (`src/llama-adapter.cpp:277-297`):
/// base name → (lora_a, lora_b); tensors with another suffix are returned apart (`_norm.weight`
/// ones are skipped there, others refused).
struct Pairs<'g, 'a> {
    map: BTreeMap<String, (Option<&'g TensorInfo<'a>>, Option<&'g TensorInfo<'a>>)>,
    unexpected: Vec<&'g str>,
    norms: u64,
}

fn pairs<'g, 'a>(gguf: &'g Gguf<'a>) -> Pairs<'g, 'a> {
    let mut map: BTreeMap<String, (Option<&TensorInfo<'a>>, Option<&TensorInfo<'a>>)> =
        BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut norms = 0;
    for t in gguf.tensors() {
        let name = t.name();
        // `replace_all(name, ".lora_a", "")` removes every occurrence.
        if name.ends_with(".lora_a") {
            map.entry(name.replace(".lora_a", "")).or_default().0 = Some(t);
        } else if name.ends_with(".lora_b") {
            map.entry(name.replace(".lora_b", "")).or_default().1 = Some(t);
        } else if name.ends_with("_norm.weight") {
            norms += 1;
        } else {
            unexpected.push(name);
        }
    }
    Pairs {
        map,
        unexpected,
        norms,
    }
}

/// The rank of a pair: `lora_a` ne[1] (for `token_embd`, whose A and B are flipped,
/// `lora_b` ne[0] — `src/llama-adapter.cpp:358-362`; the graph uses `b->ne[0]`,
/// `src/llama-graph.cpp:1581`).
fn rank(a: &TensorInfo<'_>, b: &TensorInfo<'_>, base: &str) -> u64 {
    if base.ends_with("token_embd.weight") {
        ne(b, 0)
    } else {
        ne(a, 1)
    }
}

fn string(gguf: &Gguf<'_>, key: &str) -> Option<String> {
    gguf.metadata()
        .get_str(key)
        .ok()
        .flatten()
        .map(str::to_owned)
}

/// `NAME` without a leading `blk.N.`, and whether it had one.
fn strip_block(name: &str) -> (String, Option<u64>) {
    if let Some(rest) = name.strip_prefix("blk.") {
        if let Some((n, tail)) = rest.split_once('.') {
            if let Ok(n) = n.parse::<u64>() {
                return (tail.to_owned(), Some(n));
            }
        }
    }
    (name.to_owned(), None)
}

impl LoraFacts {
    /// Reads an adapter's facts.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let md = gguf.metadata();
        let p = pairs(gguf);
        let mut ranks: Vec<u64> = Vec::new();
        let mut groups: BTreeMap<String, (std::collections::BTreeSet<u64>, Vec<u64>)> =
            BTreeMap::new();
        let mut complete = 0u64;
        for (base, (a, b)) in &p.map {
            let (tail, layer) = strip_block(base);
            let g = groups.entry(tail).or_default();
            if let Some(l) = layer {
                g.0.insert(l);
            }
            if let (Some(a), Some(b)) = (a, b) {
                complete += 1;
                let r = rank(a, b, base);
                g.1.push(r);
                if !ranks.contains(&r) {
                    ranks.push(r);
                }
            }
        }
        ranks.sort_unstable();
        let rank = match ranks.as_slice() {
            [r] => Some(*r),
            _ => None,
        };
        let alpha = md
            .get("adapter.lora.alpha")
            .and_then(|kv| kv.value().as_float());
        let scale = match (alpha, rank) {
            (Some(a), Some(r)) if a != 0.0 && r > 0 => Some(a / r as f64),
            _ => None,
        };
        let alora_invocation_tokens = md
            .get_array("adapter.alora.invocation_tokens", None)
            .ok()
            .flatten()
            .map(|arr| {
                arr.iter()
                    .filter_map(|v| v.as_integer().and_then(|i| i64::try_from(i).ok()))
                    .collect()
            });
        Self {
            architecture: string(gguf, "general.architecture"),
            name: string(gguf, "general.name"),
            adapter_type: string(gguf, "adapter.type"),
            alpha,
            rank,
            ranks: if rank.is_some() { Vec::new() } else { ranks },
            scale,
            pairs: complete,
            targets: groups
                .into_iter()
                .map(|(tensor, (layers, rs))| LoraTarget {
                    tensor,
                    layers: layers.len() as u64,
                    rank: rs.first().copied().filter(|r| rs.iter().all(|x| x == r)),
                })
                .collect(),
            alora_invocation_tokens,
            task_name: string(gguf, "adapter.lora.task_name"),
            prompt_prefix: string(gguf, "adapter.lora.prompt_prefix"),
        }
    }
}

/// What `llama_adapter_lora_init_impl` refuses before it looks at the base model.
pub(super) fn self_check(gguf: &Gguf<'_>) -> Vec<PairFinding> {
    let md = gguf.metadata();
    let mut out = Vec::new();
    let general_type = string(gguf, "general.type").unwrap_or_default();
    if general_type != "adapter" {
        out.push(
            PairFinding::error(
                "lora_general_type",
                "src/llama-adapter.cpp:205-208",
                format!("expect general.type to be 'adapter', but got: {general_type}"),
            )
            .key("general.type"),
        );
    }
    let adapter_type = string(gguf, "adapter.type").unwrap_or_default();
    if adapter_type != "lora" {
        out.push(
            PairFinding::error(
                "lora_adapter_type",
                "src/llama-adapter.cpp:216-219",
                format!("expect adapter.type to be 'lora', but got: {adapter_type}"),
            )
            .key("adapter.type"),
        );
    }
    // get_kv_f32 → gguf_get_val_f32, which asserts the type (ggml/src/gguf.cpp): a non-F32
    // alpha aborts the process.
    if let Some(kv) = md.get("adapter.lora.alpha") {
        if kv.value().value_type() != ValueType::F32 {
            out.push(
                PairFinding::error(
                    "lora_alpha_type",
                    "src/llama-adapter.cpp:198-201,221",
                    format!(
                        "adapter.lora.alpha is {}, not f32: gguf_get_val_f32 aborts",
                        kv.value().value_type().name()
                    ),
                )
                .key("adapter.lora.alpha"),
            );
        }
    }
    if let Some(kv) = md.get("adapter.alora.invocation_tokens") {
        let key = "adapter.alora.invocation_tokens";
        match kv.value().as_array() {
            None => out.push(
                PairFinding::error(
                    "alora_tokens_type",
                    "src/llama-adapter.cpp:227-229",
                    format!("invalid gguf type for {key}"),
                )
                .key(key),
            ),
            Some(a) if a.element_type() != ValueType::U32 => out.push(
                PairFinding::error(
                    "alora_tokens_type",
                    "src/llama-adapter.cpp:230-233",
                    format!(
                        "invalid gguf element type for {key} ({})",
                        a.element_type().name()
                    ),
                )
                .key(key),
            ),
            Some(_) => {}
        }
    }
    let p = pairs(gguf);
    for name in &p.unexpected {
        out.push(
            PairFinding::error(
                "lora_unexpected_suffix",
                "src/llama-adapter.cpp:293-296",
                format!("LoRA tensor '{name}' has unexpected suffix"),
            )
            .tensor(*name),
        );
    }
    if p.norms > 0 {
        out.push(PairFinding::info(
            "lora_norm_skipped",
            "src/llama-adapter.cpp:290-292",
            format!(
                "{} *_norm.weight tensor(s) are skipped by llama.cpp (norm vectors are not supported)",
                p.norms
            ),
        ));
    }
    for (base, (a, b)) in &p.map {
        if a.is_none() || b.is_none() {
            let have = a.or(*b).map(|t| t.name().to_owned());
            let mut f = PairFinding::error(
                "lora_pair_incomplete",
                "src/llama-adapter.cpp:328-330",
                format!("LoRA tensor pair for '{base}' is missing one component"),
            );
            if let Some(t) = have {
                f = f.tensor(t);
            }
            out.push(f);
        }
    }
    out
}

/// The adapter against its base model (`src/llama-adapter.cpp:210-214, 322-370`).
pub(super) fn pair(
    side: &ModelSide,
    model: &Gguf<'_>,
    gguf: &Gguf<'_>,
    facts: &mut Vec<(String, String)>,
) -> Vec<PairFinding> {
    let mut out = self_check(gguf);
    let arch = string(gguf, "general.architecture").unwrap_or_default();
    facts.push(("model architecture".into(), side.arch.clone()));
    facts.push(("adapter architecture".into(), arch.clone()));
    if arch != side.arch {
        out.push(
            PairFinding::error(
                "lora_arch_mismatch",
                "src/llama-adapter.cpp:210-214",
                format!(
                    "model arch and LoRA arch mismatch (model {:?}, adapter {arch:?})",
                    side.arch
                ),
            )
            .key("general.architecture"),
        );
        // llama.cpp stops at the first throw; the tensor checks below are still useful.
    }
    let p = pairs(gguf);
    let mut checked = 0u64;
    for (base, (a, b)) in &p.map {
        let (Some(a), Some(b)) = (a, b) else { continue };
        let Some(m) = model.tensor(base) else {
            out.push(
                PairFinding::error(
                    "lora_base_tensor_missing",
                    "src/llama-adapter.cpp:332-336",
                    format!("LoRA tensor '{base}' does not exist in base model (hint: maybe wrong base model?)"),
                )
                .tensor(base.clone()),
            );
            continue;
        };
        checked += 1;
        let shape = |t: &TensorInfo<'_>| format!("{:?}", t.dims());
        if base.ends_with("token_embd.weight") {
            // B is not transposed and A and B are flipped (llm_build_inp_embd).
            if ne(m, 0) != ne(b, 1) || ne(m, 1) != ne(a, 1) {
                out.push(
                    PairFinding::error(
                        "lora_wrong_shape",
                        "src/llama-adapter.cpp:358-363",
                        format!(
                            "tensor '{base}' has incorrect shape (hint: maybe wrong base model?): base {}, lora_a {}, lora_b {}; needs base ne[0] = lora_b ne[1], base ne[1] = lora_a ne[1]",
                            shape(m), shape(a), shape(b)
                        ),
                    )
                    .tensor(base.clone()),
                );
            }
        } else {
            if ne(m, 0) != ne(a, 0) || ne(m, 1) != ne(b, 1) {
                out.push(
                    PairFinding::error(
                        "lora_wrong_shape",
                        "src/llama-adapter.cpp:364-367",
                        format!(
                            "tensor '{base}' has incorrect shape (hint: maybe wrong base model?): base {}, lora_a {}, lora_b {}; needs lora_a ne[0] = base ne[0], lora_b ne[1] = base ne[1]",
                            shape(m), shape(a), shape(b)
                        ),
                    )
                    .tensor(base.clone()),
                );
            } else if ne(a, 1) != ne(b, 0) {
                out.push(
                    PairFinding::error(
                        "lora_not_transposed",
                        "src/llama-adapter.cpp:368-370",
                        format!(
                            "lora_a tensor is not transposed (hint: adapter from \"finetune\" example is no longer supported): '{base}' lora_a ne[1] = {} ≠ lora_b ne[0] = {}",
                            ne(a, 1), ne(b, 0)
                        ),
                    )
                    .tensor(format!("{base}.lora_a")),
                );
            }
        }
    }
    facts.push(("pairs found in the base model".into(), checked.to_string()));
    // aLoRA invocation tokens are token ids of the base model's vocabulary; llama.cpp does not
    // check them at load, but a token past the vocabulary can never match.
    if let Some(tokens) = LoraFacts::of(gguf).alora_invocation_tokens {
        let n_vocab = super::draft::VocabFacts::of(model).n_tokens;
        if n_vocab > 0 {
            if let Some(t) = tokens
                .iter()
                .find(|t| u64::try_from(**t).map_or(true, |t| t >= n_vocab))
            {
                out.push(
                    PairFinding::warning(
                        "alora_token_out_of_vocab",
                        "src/llama-adapter.cpp:224-243",
                        format!("aLoRA invocation token {t} is not in the base model's vocabulary ({n_vocab} tokens): the adapter can never activate on it"),
                    )
                    .key("adapter.alora.invocation_tokens"),
                );
            }
        }
    }
    out
}
