//! Reading every tensor: the value scan in parallel over tensors and over pieces of large
//! tensors; beside it, when asked, the tensors' hashes in parallel over tensors and the whole
//! model's in one sequential pass (it is a hash of all tensors in order). All of it straight
//! from the input slice (a memory map): nothing is copied, and the memory used does not grow
//! with the file (beyond the page cache's pages of the map, which the kernel can drop).

use ggufscope_gguf::{GgmlType, Gguf, SizeError};
use rayon::prelude::*;
use serde::Serialize;

use crate::hash::{Algorithm, Hasher};
use crate::rules::{rule_for, scan, Defect, Rule, Scan, TypeRule};

/// What to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Hashes to compute (empty: none).
    pub algorithms: Vec<Algorithm>,
    /// Indices of the tensors to read (`None`: all; then whole-model hashes are made too).
    pub select: Option<Vec<usize>>,
    /// The largest piece of a tensor one task scans.
    pub chunk_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            algorithms: Vec::new(),
            select: None,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// Pieces of 4 MiB: enough tasks to share a large tensor among threads, few enough that
/// scheduling costs nothing.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// Bytes fed to the hashes at a time (each piece goes to the tensor's hash and the model's
/// while it is in cache).
const HASH_PIECE: usize = 256 << 10;

/// Whether a finding's index counts elements or blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Types of block size 1 (f32, f16, bf16, f64): values.
    Element,
    /// Quantized types: blocks.
    Block,
}

/// One thing wrong with a tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Finding {
    /// Values `ggml_validate_row_data` refuses.
    Values {
        /// What the first bad value is.
        defect: Defect,
        /// The index of the first bad element or block in the tensor.
        first: u64,
        /// Its row (`first / units per row`).
        row: u64,
        /// The field of the block (`value` for element types).
        field: &'static str,
        /// The raw bits of the bad value, as hex.
        bits: String,
        /// How many elements or blocks are bad.
        count: u64,
        /// Elements or blocks.
        unit: Unit,
        /// The llama.cpp lines of the rule.
        rule: String,
    },
    /// The tensor ends past the end of the file.
    Truncated {
        /// Bytes of the tensor in the file.
        present: u64,
        /// Bytes it needs.
        needed: u64,
    },
    /// `ggml_validate_row_data` refuses the type itself.
    InvalidType {
        /// The llama.cpp lines.
        rule: String,
    },
    /// The tensor's size cannot be computed (unknown or removed type, a row that is not a
    /// whole number of blocks, an overflow), so its data cannot be located.
    SizeUnknown {
        /// Why.
        reason: String,
    },
}

impl Finding {
    /// The finding as one line of text.
    pub fn message(&self, ggml_type: GgmlType) -> String {
        match self {
            Finding::Values {
                defect,
                first,
                row,
                field,
                bits,
                count,
                unit,
                rule,
            } => {
                let what = match defect {
                    Defect::Nan => "NaN",
                    Defect::Inf => "infinity",
                    Defect::InvalidE8m0 => "invalid E8M0 exponent 0xff",
                };
                let unit_name = match unit {
                    Unit::Element => "element",
                    Unit::Block => "block",
                };
                let field_text = if *unit == Unit::Block {
                    format!("scale `{field}` ")
                } else {
                    String::new()
                };
                let plural = if *count == 1 { "" } else { "s" };
                format!(
                    "{field_text}{what} ({bits}) at {unit_name} {first} (row {row}); {count} bad {unit_name}{plural} ({rule})"
                )
            }
            Finding::Truncated { present, needed } => format!(
                "cut short: {present} of its {needed} bytes are in the file ({} missing)",
                needed.saturating_sub(*present)
            ),
            Finding::InvalidType { rule } => format!(
                "ggml_validate_row_data refuses type {ggml_type} as an invalid type ({rule})"
            ),
            Finding::SizeUnknown { reason } => format!("data not located: {reason}"),
        }
    }
}

/// The result for one tensor.
#[derive(Debug, Clone)]
pub struct TensorResult {
    /// Index in the tensor infos.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Type.
    pub ggml_type: GgmlType,
    /// Absolute offset of its data in the file.
    pub start: u64,
    /// Its size (`ggml_nbytes`), when known.
    pub n_bytes: Option<u64>,
    /// Bytes of it in the file.
    pub present: u64,
    /// The rule it was checked by.
    pub rule: TypeRule,
    /// What is wrong.
    pub findings: Vec<Finding>,
    /// Its hashes (`None`: not computed because the data is incomplete or not located).
    pub hashes: Vec<(Algorithm, Option<String>)>,
}

/// The result for a file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every tensor read, in file order.
    pub tensors: Vec<TensorResult>,
    /// Whole-model hashes (empty when only some tensors were read; `None` when a tensor's
    /// data is incomplete, so no hash of the whole model exists).
    pub model_hashes: Vec<(Algorithm, Option<String>)>,
    /// Bytes scanned by the value rules.
    pub bytes_scanned: u64,
    /// Bytes hashed (each byte counted once, whatever the number of algorithms).
    pub bytes_hashed: u64,
}

impl Report {
    /// Number of findings.
    pub fn finding_count(&self) -> usize {
        self.tensors.iter().map(|t| t.findings.len()).sum()
    }
}

/// A tensor located in the input.
struct Plan<'a> {
    index: usize,
    name: &'a str,
    ggml_type: GgmlType,
    start: u64,
    size: Result<u64, SizeError>,
    /// The bytes present (the whole tensor, or what the file holds of it).
    bytes: &'a [u8],
    rule: TypeRule,
    type_size: usize,
    units_per_row: u64,
}

/// One task of the value scan: units `from..to` of a tensor.
struct Piece {
    plan: usize,
    from: usize,
    to: usize,
}

/// The bytes the scan and the hashes will read, for a progress bar's length: the scanned bytes
/// plus, when hashing, the hashed ones.
pub fn work_bytes(gguf: &Gguf<'_>, options: &Options) -> u64 {
    let plans = plan(gguf, options);
    let scanned: u64 = plans
        .iter()
        .filter(|p| scans(p.rule.rule))
        .map(|p| p.bytes.len() as u64)
        .sum();
    let hashed: u64 = if options.algorithms.is_empty() {
        0
    } else {
        plans
            .iter()
            .filter(|p| complete(p))
            .map(|p| p.bytes.len() as u64)
            .sum()
    };
    scanned.saturating_add(hashed)
}

fn scans(rule: Rule) -> bool {
    !matches!(rule, Rule::Nothing | Rule::Invalid)
}

fn complete(p: &Plan<'_>) -> bool {
    p.size.as_ref().is_ok_and(|&n| n == p.bytes.len() as u64)
}

fn plan<'a>(gguf: &Gguf<'a>, options: &Options) -> Vec<Plan<'a>> {
    let data = gguf.data();
    let all = gguf.tensors();
    let indices: Vec<usize> = match &options.select {
        Some(sel) => {
            let mut sel = sel.clone();
            sel.sort_unstable();
            sel.dedup();
            sel
        }
        None => (0..all.len()).collect(),
    };
    indices
        .into_iter()
        .filter_map(|index| {
            let t = all.get(index)?;
            let ggml_type = t.ggml_type();
            let start = gguf.data_offset().saturating_add(t.offset());
            let size = t.n_bytes();
            let bytes = match &size {
                Ok(n) => {
                    let end = start.saturating_add(*n).min(data.len() as u64);
                    usize::try_from(start)
                        .ok()
                        .zip(usize::try_from(end).ok())
                        .and_then(|(s, e)| data.get(s..e))
                        .unwrap_or_default()
                }
                Err(_) => &[],
            };
            let rule = rule_for(ggml_type);
            let type_size = ggml_type
                .type_size()
                .and_then(|s| usize::try_from(s).ok())
                .unwrap_or(1)
                .max(1);
            let units_per_row = match ggml_type.block_size() {
                Some(b) if b > 0 => t.dims().first().copied().unwrap_or(1) / b,
                _ => 1,
            }
            .max(1);
            Some(Plan {
                index,
                name: t.name(),
                ggml_type,
                start,
                size,
                bytes,
                rule,
                type_size,
                units_per_row,
            })
        })
        .collect()
}

/// Reads the tensors of `gguf` (whose [`Gguf::data`] must be the whole file, e.g. a memory
/// map): every value rule of `ggml_validate_row_data`, the bounds of each tensor, and the
/// hashes asked for. `progress` is called from any thread with a count of bytes just read.
pub fn verify(gguf: &Gguf<'_>, options: &Options, progress: &(dyn Fn(u64) + Sync)) -> Report {
    let plans = plan(gguf, options);
    let chunk = options.chunk_bytes.max(1);
    let mut pieces = Vec::new();
    for (p, plan) in plans.iter().enumerate() {
        if !scans(plan.rule.rule) {
            continue;
        }
        let units = plan.bytes.len() / plan.type_size;
        let step = (chunk / plan.type_size).max(1);
        let mut from = 0;
        while from < units {
            let to = from.saturating_add(step).min(units);
            pieces.push(Piece { plan: p, from, to });
            from = to;
        }
    }
    let endian = gguf.endian();
    let scan_all = || -> Vec<Scan> {
        let found: Vec<(usize, Scan)> = pieces
            .par_iter()
            .filter_map(|piece| {
                let plan = plans.get(piece.plan)?;
                let ts = plan.type_size;
                let bytes = plan
                    .bytes
                    .get(piece.from.checked_mul(ts)?..piece.to.checked_mul(ts)?)?;
                let s = scan(plan.rule.rule, endian, ts, bytes, piece.from as u64);
                progress(bytes.len() as u64);
                Some((piece.plan, s))
            })
            .collect();
        let mut per_plan = vec![Scan::default(); plans.len()];
        for (p, s) in found {
            if let Some(slot) = per_plan.get_mut(p) {
                *slot = slot.merge(s);
            }
        }
        per_plan
    };
    let whole = options.select.is_none();
    let hash_all = || hash_tensors_and_model(&plans, &options.algorithms, whole, progress);
    let (scans_done, (tensor_hashes, model_hashes, bytes_hashed)) = if options.algorithms.is_empty()
    {
        (scan_all(), (vec![Vec::new(); plans.len()], Vec::new(), 0))
    } else {
        rayon::join(scan_all, hash_all)
    };

    let mut report = Report {
        model_hashes,
        bytes_hashed,
        ..Report::default()
    };
    for ((plan, s), hashes) in plans.iter().zip(scans_done).zip(tensor_hashes) {
        let mut findings = Vec::new();
        match &plan.size {
            Err(e) => {
                if plan.rule.rule == Rule::Invalid {
                    findings.push(Finding::InvalidType {
                        rule: plan.rule.citation(),
                    });
                }
                findings.push(Finding::SizeUnknown {
                    reason: e.to_string(),
                });
            }
            Ok(n) => {
                if plan.rule.rule == Rule::Invalid {
                    findings.push(Finding::InvalidType {
                        rule: plan.rule.citation(),
                    });
                }
                if (plan.bytes.len() as u64) < *n {
                    findings.push(Finding::Truncated {
                        present: plan.bytes.len() as u64,
                        needed: *n,
                    });
                }
            }
        }
        if let Some(first) = s.first {
            findings.insert(
                0,
                Finding::Values {
                    defect: first.defect,
                    first: first.index,
                    row: first.index / plan.units_per_row,
                    field: first.field,
                    bits: format!("{:#x}", first.bits),
                    count: s.bad,
                    unit: if plan.ggml_type.block_size() == Some(1) {
                        Unit::Element
                    } else {
                        Unit::Block
                    },
                    rule: plan.rule.citation(),
                },
            );
        }
        if scans(plan.rule.rule) {
            report.bytes_scanned = report.bytes_scanned.saturating_add(plan.bytes.len() as u64);
        }
        report.tensors.push(TensorResult {
            index: plan.index,
            name: plan.name.to_owned(),
            ggml_type: plan.ggml_type,
            start: plan.start,
            n_bytes: plan.size.as_ref().ok().copied(),
            present: plan.bytes.len() as u64,
            rule: plan.rule,
            findings,
            hashes,
        });
    }
    report
}

type Hashes = Vec<(Algorithm, Option<String>)>;

/// Every tensor's hashes (in parallel over tensors) and, for the whole file, the model's (one
/// sequential pass in file order, beside them): each byte is read twice, by two threads, which
/// on a memory-bound machine costs less than hashing it twice on one.
fn hash_tensors_and_model(
    plans: &[Plan<'_>],
    algorithms: &[Algorithm],
    whole: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> (Vec<Hashes>, Hashes, u64) {
    let per_tensor_algorithms: Vec<Algorithm> = algorithms
        .iter()
        .copied()
        .filter(|a| a.per_tensor())
        .collect();
    let hashed = plans
        .iter()
        .filter(|p| complete(p))
        .map(|p| p.bytes.len() as u64)
        .sum();
    // Progress is counted once per byte: by the model's pass when there is one.
    let tensors = || -> Vec<Hashes> {
        plans
            .par_iter()
            .map(|plan| {
                if !complete(plan) {
                    return per_tensor_algorithms.iter().map(|&a| (a, None)).collect();
                }
                let mut mine: Vec<Hasher> = per_tensor_algorithms
                    .iter()
                    .map(|&a| Hasher::new(a))
                    .collect();
                for piece in plan.bytes.chunks(HASH_PIECE) {
                    for h in &mut mine {
                        h.update(piece);
                    }
                    if !whole {
                        progress(piece.len() as u64);
                    }
                }
                mine.into_iter()
                    .map(|h| (h.algorithm(), Some(h.finish())))
                    .collect()
            })
            .collect()
    };
    let model = || -> Hashes {
        if !whole {
            return Vec::new();
        }
        if !plans.iter().all(complete) {
            // No hash of the model: llama-gguf-hash cannot load such a file either.
            return algorithms.iter().map(|&a| (a, None)).collect();
        }
        let mut hs: Vec<Hasher> = algorithms.iter().map(|&a| Hasher::new(a)).collect();
        for plan in plans {
            for piece in plan.bytes.chunks(HASH_PIECE) {
                for h in &mut hs {
                    h.update(piece);
                }
                progress(piece.len() as u64);
            }
        }
        hs.into_iter()
            .map(|h| (h.algorithm(), Some(h.finish())))
            .collect()
    };
    let (per_tensor, model_hashes) = if per_tensor_algorithms.is_empty() {
        (vec![Vec::new(); plans.len()], model())
    } else {
        rayon::join(tensors, model)
    };
    (per_tensor, model_hashes, hashed)
}
