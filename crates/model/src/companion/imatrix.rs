//! Importance matrices: `tools/imatrix/imatrix.cpp:551-636` writes `general.type = imatrix`,
//! `imatrix.datasets`, `imatrix.chunk_count`, `imatrix.chunk_size` and per weight
//! `NAME.in_sum2` (F32, ne = [n_per_row, n_mat]) and `NAME.counts` (F32, ne = [1, n_mat]);
//! `common_imatrix_load` (`common/imatrix-loader.cpp:82-173`) reads them back, and
//! `llama-quantize` (`tools/quantize/quantize.cpp:183-258`, `src/llama-quant.cpp:992-1010,
//! 1275-1300`) matches them to the model's weights.

use std::collections::BTreeMap;

use ggufscope_gguf::{GgmlType, Gguf, TensorInfo};
use serde::Serialize;

use super::{ne, PairFinding};

/// An importance matrix's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImatrixFacts {
    /// `imatrix.datasets`.
    pub datasets: Vec<String>,
    /// `imatrix.chunk_count`.
    pub chunk_count: Option<i64>,
    /// `imatrix.chunk_size` (tokens per chunk).
    pub chunk_size: Option<i64>,
    /// Entries (weights with an `in_sum2`/`counts` pair).
    pub entries: u64,
    /// Entries with several matrices (experts).
    pub expert_entries: u64,
    /// Entries with at least one matrix (expert) that saw no token (`counts` = 0), when the
    /// data is readable.
    pub partial_entries: Option<u64>,
    /// Fraction of all matrices (one per entry, one per expert of an expert entry) that saw
    /// tokens, when the data is readable.
    pub coverage: Option<f64>,
}

/// `NAME` → (in_sum2, counts) as `common_imatrix_load` bundles them (`imatrix-loader.cpp:118-133`).
type Entries<'g, 'a> = BTreeMap<String, (Option<&'g TensorInfo<'a>>, Option<&'g TensorInfo<'a>>)>;

fn entries<'g, 'a>(gguf: &'g Gguf<'a>) -> Entries<'g, 'a> {
    let mut map: Entries<'g, 'a> = BTreeMap::new();
    for t in gguf.tensors() {
        let name = t.name();
        if let Some(base) = name.strip_suffix(".in_sum2") {
            map.entry(base.to_owned()).or_default().0 = Some(t);
        } else if let Some(base) = name.strip_suffix(".counts") {
            map.entry(base.to_owned()).or_default().1 = Some(t);
        }
    }
    map
}

/// The little-endian F32 values of a tensor, when its data is in the file read.
fn f32s(gguf: &Gguf<'_>, t: &TensorInfo<'_>) -> Option<Vec<f32>> {
    if t.ggml_type() != GgmlType::F32 {
        return None;
    }
    let bytes = gguf.tensor_data(t)?;
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| {
                f32::from_le_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                    c.get(2).copied().unwrap_or(0),
                    c.get(3).copied().unwrap_or(0),
                ])
            })
            .collect(),
    )
}

/// Per entry: the counts (rounded as `std::lround`), when readable.
fn counts(gguf: &Gguf<'_>, t: &TensorInfo<'_>) -> Option<Vec<i64>> {
    let v = f32s(gguf, t)?;
    // `std::lround` of a float count (imatrix-loader.cpp:166); saturating for hostile values.
    Some(
        v.iter()
            .map(|x| {
                let r = x.round();
                if r.is_finite() && r.abs() < 9.0e18 {
                    // Checked above: |r| < 2^63.
                    #[allow(clippy::cast_possible_truncation)]
                    let i = r as i64;
                    i
                } else {
                    0
                }
            })
            .collect(),
    )
}

impl ImatrixFacts {
    /// Reads an importance matrix's facts.
    pub fn of(gguf: &Gguf<'_>) -> Self {
        let md = gguf.metadata();
        let datasets = md
            .get_array("imatrix.datasets", None)
            .ok()
            .flatten()
            .and_then(|a| {
                a.strings().map(|s| {
                    s.map(|x| String::from_utf8_lossy(x.as_bytes()).into_owned())
                        .collect()
                })
            })
            .unwrap_or_default();
        let map = entries(gguf);
        let mut partial = Some(0u64);
        let mut seen = Some((0u64, 0u64));
        let mut expert_entries = 0;
        for (sums, cnt) in map.values() {
            let (Some(_), Some(cnt)) = (sums, cnt) else {
                continue;
            };
            if cnt.element_count().unwrap_or(0) > 1 {
                expert_entries += 1;
            }
            match counts(gguf, cnt) {
                Some(c) => {
                    let zeros = c.iter().filter(|x| **x == 0).count() as u64;
                    partial = partial.map(|p| p + u64::from(zeros > 0));
                    seen =
                        seen.map(|(ok, all)| (ok + (c.len() as u64 - zeros), all + c.len() as u64));
                }
                None => {
                    partial = None;
                    seen = None;
                }
            }
        }
        Self {
            datasets,
            chunk_count: md.get_i64("imatrix.chunk_count").ok().flatten(),
            chunk_size: md.get_i64("imatrix.chunk_size").ok().flatten(),
            entries: map
                .values()
                .filter(|(a, b)| a.is_some() && b.is_some())
                .count() as u64,
            expert_entries,
            partial_entries: partial,
            coverage: seen.map(|(ok, all)| {
                if all == 0 {
                    0.0
                } else {
                    ok as f64 / all as f64
                }
            }),
        }
    }
}

/// What `common_imatrix_load` and `llama-quantize` refuse in the file alone.
pub(super) fn self_check(gguf: &Gguf<'_>) -> Vec<PairFinding> {
    let mut out = Vec::new();
    if gguf.tensors().is_empty() {
        out.push(PairFinding::error(
            "imatrix_empty",
            "common/imatrix-loader.cpp:93-99",
            "no data in file (no tensors)".into(),
        ));
    }
    let md = gguf.metadata();
    for key in [
        "imatrix.datasets",
        "imatrix.chunk_count",
        "imatrix.chunk_size",
    ] {
        if md.get(key).is_none() {
            out.push(
                PairFinding::error(
                    "imatrix_metadata_missing",
                    "common/imatrix-loader.cpp:114, tools/quantize/quantize.cpp:190-193",
                    format!("missing imatrix metadata: {key} (llama-quantize exits)"),
                )
                .key(key),
            );
        }
    }
    for (name, (sums, cnt)) in entries(gguf) {
        match (sums, cnt) {
            (Some(s), Some(c)) => {
                if s.ggml_type() != GgmlType::F32 || c.ggml_type() != GgmlType::F32 {
                    out.push(
                        PairFinding::error(
                            "imatrix_not_f32",
                            "common/imatrix-loader.cpp:147-152",
                            format!("sums and counts for {name} must be F32"),
                        )
                        .tensor(format!("{name}.in_sum2")),
                    );
                    continue;
                }
                if let Some(values) = f32s(gguf, s) {
                    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                        out.push(
                            PairFinding::error(
                                "imatrix_non_finite",
                                "src/llama-quant.cpp:1002-1008",
                                format!("imatrix contains non-finite value {v} in {name}"),
                            )
                            .tensor(format!("{name}.in_sum2")),
                        );
                    }
                }
                if let Some(cs) = counts(gguf, c) {
                    let zeros = cs.iter().filter(|x| **x == 0).count();
                    if zeros > 0 {
                        out.push(
                            PairFinding::warning(
                                "imatrix_partial_data",
                                "tools/imatrix/imatrix.cpp:559-574, tools/quantize/quantize.cpp:204-215",
                                format!(
                                    "entry '{name}' has partial data: {zeros} of {} matrices saw no token (llama-quantize uses 1 for them)",
                                    cs.len()
                                ),
                            )
                            .tensor(format!("{name}.counts")),
                        );
                    }
                }
            }
            (s, c) => {
                let t = s.or(c).map(|t| t.name().to_owned());
                let mut f = PairFinding::error(
                    "imatrix_unpaired",
                    "common/imatrix-loader.cpp:140-145",
                    format!("mismatched sums and counts for {name}"),
                );
                if let Some(t) = t {
                    f = f.tensor(t);
                }
                out.push(f);
            }
        }
    }
    out
}

/// Whether llama-quantize would quantize this tensor with an imatrix: a matrix (≥ 2 dims) whose
/// name ends in `weight`, not `token_embd` (a row lookup the imatrix never sees,
/// `src/llama-quant.cpp:1291`).
fn wants_entry(t: &TensorInfo<'_>) -> bool {
    t.dims().len() >= 2 && t.name().ends_with("weight") && !t.name().contains("token_embd")
}

/// The importance matrix against the model it is for (`src/llama-quant.cpp:1275-1300`).
pub(super) fn pair(
    model: &Gguf<'_>,
    gguf: &Gguf<'_>,
    facts: &mut Vec<(String, String)>,
) -> Vec<PairFinding> {
    let mut out = self_check(gguf);
    let map = entries(gguf);
    let mut matched = 0u64;
    let mut without = Vec::new();
    for t in model.tensors() {
        let name = t.name();
        match map.get(name) {
            Some((Some(sums), Some(_))) => {
                matched += 1;
                let size = sums.element_count().unwrap_or(0);
                let want = ne(t, 0).saturating_mul(ne(t, 2));
                if size != want && !name.contains("token_embd") {
                    out.push(
                        PairFinding::error(
                            "imatrix_size_mismatch",
                            "src/llama-quant.cpp:1283-1294",
                            format!("imatrix size {size} is different from tensor size {want} for {name} (ne[0] × ne[2])"),
                        )
                        .tensor(name),
                    );
                }
            }
            _ if wants_entry(t) => without.push(name),
            _ => {}
        }
    }
    let unmatched: Vec<&String> = map.keys().filter(|k| model.tensor(k).is_none()).collect();
    facts.push(("weights with an entry".into(), matched.to_string()));
    facts.push((
        "matrices without an entry".into(),
        without.len().to_string(),
    ));
    if let Some(first) = without.first() {
        out.push(
            PairFinding::warning(
                "imatrix_weight_without_entry",
                "src/llama-quant.cpp:1278-1280",
                format!(
                    "{} weight(s) have no imatrix entry (first: {first}): llama-quantize quantizes them without one, and refuses if their type needs one (IQ1/IQ2/IQ3_XXS, Q2_K_S)",
                    without.len()
                ),
            )
            .tensor(*first),
        );
    }
    if let Some(first) = unmatched.first() {
        out.push(
            PairFinding::warning(
                "imatrix_entry_without_weight",
                "src/llama-quant.cpp:1277",
                format!(
                    "{} imatrix entr(ies) name no tensor of the model (first: {first}): wrong model?",
                    unmatched.len()
                ),
            )
            .tensor(first.as_str()),
        );
    }
    out
}
