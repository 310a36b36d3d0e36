//! Control vectors: `common_control_vector_load_one` (`common/common.cpp:1887-1970`) reads
//! `direction.N` tensors (N ≥ 1, F32, 1-D, one width), and `llama_adapter_cvec::apply`
//! (`src/llama-adapter.cpp:96-136`) refuses a width other than the model's `n_embd` and uses
//! layers 1 … n_layer − 1. `cvector-generator` writes `controlvector.model_hint` and
//! `controlvector.layer_count` (`tools/cvector-generator/cvector-generator.cpp:357-363`).

use ggufscope_gguf::{GgmlType, Gguf};
use serde::Serialize;

use super::{ModelSide, PairFinding};

/// The layer of a `direction.N` tensor as `std::stoi` reads the text after the first dot
/// (`common/common.cpp:1904-1912`): leading digits, optional sign; `None` when it is not
/// `direction.` + a number.
pub(super) fn direction_layer(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("direction.")?;
    let t = rest.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits.get(..end)?.parse().ok()?;
    Some(sign * n)
}

/// A control vector's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlVectorFacts {
    /// `controlvector.model_hint`: the model it was made for.
    pub model_hint: Option<String>,
    /// `controlvector.layer_count`.
    pub layer_count: Option<i64>,
    /// `direction.N` tensors.
    pub directions: u64,
    /// The layers they apply to, sorted.
    pub layers: Vec<i64>,
    /// Their width (elements), when every direction agrees.
    pub n_embd: Option<u64>,
}

impl ControlVectorFacts {
    /// Reads a control vector's facts.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let md = gguf.metadata();
        let mut layers: Vec<i64> = gguf
            .tensors()
            .iter()
            .filter_map(|t| direction_layer(t.name()))
            .collect();
        layers.sort_unstable();
        layers.dedup();
        let widths: Vec<u64> = gguf
            .tensors()
            .iter()
            .filter_map(|t| t.element_count().ok())
            .collect();
        let n_embd = widths
            .first()
            .copied()
            .filter(|w| widths.iter().all(|x| x == w));
        Self {
            model_hint: md
                .get_str("controlvector.model_hint")
                .ok()
                .flatten()
                .map(str::to_owned),
            layer_count: md.get_i64("controlvector.layer_count").ok().flatten(),
            directions: gguf.tensors().len() as u64,
            layers,
            n_embd,
        }
    }
}

/// What `common_control_vector_load_one` refuses in the file alone: it then skips the file
/// and `common_init_from_params` fails ("no valid control vector files passed").
pub(super) fn self_check(gguf: &Gguf<'_>) -> Vec<PairFinding> {
    let mut out = Vec::new();
    if gguf.tensors().is_empty() {
        out.push(PairFinding::error(
            "cvec_no_directions",
            "common/common.cpp:1901-1904,1997-2000",
            "no direction tensors found: the file gives no control vector and llama.cpp stops (\"no valid control vector files passed\")".into(),
        ));
    }
    let mut n_embd: Option<u64> = None;
    for t in gguf.tensors() {
        let name = t.name();
        match direction_layer(name) {
            None | Some(i64::MIN..=-1) => {
                out.push(
                    PairFinding::error(
                        "cvec_bad_layer",
                        "common/common.cpp:1919-1923",
                        format!("invalid/unparsable direction tensor layer index: {name}"),
                    )
                    .tensor(name),
                );
                break;
            }
            Some(0) => {
                out.push(
                    PairFinding::error(
                        "cvec_layer_zero",
                        "common/common.cpp:1923-1927",
                        format!("invalid (zero) direction tensor layer index: {name}"),
                    )
                    .tensor(name),
                );
                break;
            }
            Some(_) => {}
        }
        if t.ggml_type() != GgmlType::F32 {
            out.push(
                PairFinding::error(
                    "cvec_not_f32",
                    "common/common.cpp:1930-1934",
                    format!(
                        "invalid (non-F32) direction tensor type: {name} is {}",
                        t.ggml_type()
                    ),
                )
                .tensor(name),
            );
            break;
        }
        // ggml_n_dims: trailing ones do not count.
        let n_dims = t.dims().iter().rposition(|d| *d != 1).map_or(1, |i| i + 1);
        if n_dims != 1 {
            out.push(
                PairFinding::error(
                    "cvec_not_1d",
                    "common/common.cpp:1935-1939",
                    format!(
                        "invalid (non-1D) direction tensor shape: {name} {:?}",
                        t.dims()
                    ),
                )
                .tensor(name),
            );
            break;
        }
        let n = t.element_count().unwrap_or(0);
        match n_embd {
            None => n_embd = Some(n),
            Some(w) if w != n => {
                out.push(
                    PairFinding::error(
                        "cvec_width_differs",
                        "common/common.cpp:1941-1947",
                        format!("direction tensor {name} ({n}) does not match previous dimensions ({w})"),
                    )
                    .tensor(name),
                );
                break;
            }
            Some(_) => {}
        }
    }
    out
}

/// The control vector against the model: its width must be `n_embd`
/// (`src/llama-adapter.cpp:112-115`); directions for layers ≥ n_layer are never applied
/// (`src/llama-adapter.cpp:126-133`).
pub(super) fn pair(
    side: &ModelSide,
    gguf: &Gguf<'_>,
    facts: &mut Vec<(String, String)>,
) -> Vec<PairFinding> {
    let mut out = self_check(gguf);
    let cv = ControlVectorFacts::of(gguf);
    if let Some(hint) = &cv.model_hint {
        facts.push(("model hint".into(), hint.clone()));
    }
    let (Some(n_embd), Some(w)) = (side.n_embd, cv.n_embd) else {
        return out;
    };
    facts.push(("model n_embd".into(), n_embd.to_string()));
    facts.push(("control vector n_embd".into(), w.to_string()));
    if i64::try_from(w).ok() != Some(n_embd) {
        let first = gguf.tensors().first().map(|t| t.name().to_owned());
        let mut f = PairFinding::error(
            "cvec_width_mismatch",
            "src/llama-adapter.cpp:112-115",
            format!("control vector n_embd does not match model ({w} ≠ n_embd {n_embd})"),
        );
        if let Some(t) = first {
            f = f.tensor(t);
        }
        out.push(f);
    }
    if let Some(n_layer) = side.n_layer {
        facts.push(("model n_layer".into(), n_layer.to_string()));
        let beyond: Vec<i64> = cv
            .layers
            .iter()
            .copied()
            .filter(|l| *l >= n_layer)
            .collect();
        if let Some(first) = beyond.first() {
            out.push(
                PairFinding::warning(
                    "cvec_layers_beyond_model",
                    "src/llama-adapter.cpp:126-133",
                    format!(
                        "{} direction(s) for layers ≥ n_layer {n_layer} (first: direction.{first}) are never applied",
                        beyond.len()
                    ),
                )
                .tensor(format!("direction.{first}")),
            );
        }
    }
    out
}
