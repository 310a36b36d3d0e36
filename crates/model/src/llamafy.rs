//! Executes an [`AdapterPlan`]: a writer for the `llama`-layout file, whose tensor data
//! streams from the source bytes row range by row range (memory use does not grow with the
//! model).

use std::collections::HashMap;
use std::io::Read;

use ggufscope_gguf::{Gguf, GgufWriter, OwnedValue, TensorData, TensorInfo};

use crate::compat::{AdapterPlan, AdapterStep, Verdict};
use crate::keys;

/// Why a plan cannot be executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LlamafyError {
    /// The verdict is incompatible.
    #[error("the model cannot be adapted to llama: {0}")]
    Incompatible(String),
    /// A vocab-only file: nothing to convert.
    #[error(
        "the file has no tensors to convert (vocab-only); the plan still applies to the full model"
    )]
    NoTensors,
    /// A tensor's bytes are not in the file.
    #[error("tensor `{0}` has no data in the file (unsized or out of bounds)")]
    MissingData(String),
    /// A tensor does not have the rows the plan expects.
    #[error("tensor `{tensor}` has {rows} rows, the plan needs {needed}")]
    Rows {
        /// The tensor.
        tensor: String,
        /// Its rows.
        rows: u64,
        /// Rows the plan addresses.
        needed: u64,
    },
    /// A permutation needs an even head dimension that divides the rows.
    #[error("cannot permute `{tensor}`: {rows} rows are not {heads} heads of an even head_dim {head_dim}")]
    Permutation {
        /// The tensor.
        tensor: String,
        /// Its rows.
        rows: u64,
        /// Heads.
        heads: u64,
        /// Head dim.
        head_dim: u64,
    },
}

/// Rows of a tensor, emitted in a chosen order. Each row is `row_bytes` bytes of the source;
/// quantized rows are whole blocks, so reordering them is exact.
struct RowsReader<'a> {
    src: &'a [u8],
    row_bytes: usize,
    order: Vec<usize>,
    next: usize,
    offset: usize,
}

impl Read for RowsReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(&row) = self.order.get(self.next) else {
            return Ok(0);
        };
        let start = row * self.row_bytes + self.offset;
        let end = (row + 1) * self.row_bytes;
        let chunk = self.src.get(start..end).unwrap_or_default();
        let n = chunk.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(chunk.get(..n).unwrap_or_default());
        self.offset += n;
        if self.offset >= self.row_bytes {
            self.offset = 0;
            self.next += 1;
        }
        Ok(n)
    }
}

/// The NEOX → NORM row order: output row `h·d + 2i + j` is source row `h·d + j·d/2 + i`.
pub fn neox_to_norm_order(heads: u64, head_dim: u64) -> Vec<u64> {
    let half = head_dim / 2;
    (0..heads)
        .flat_map(|h| (0..half).flat_map(move |i| (0..2).map(move |j| h * head_dim + j * half + i)))
        .collect()
}

/// Rows (`ne1`, or the elements of a vector whose type has one element per block) and bytes
/// per row of a tensor.
fn rows_of(t: &TensorInfo<'_>) -> Result<(u64, u64), LlamafyError> {
    let missing = || LlamafyError::MissingData(t.name().to_string());
    let row_bytes = t.row_bytes().map_err(|_| missing())?;
    match *t.dims() {
        [ne0] if t.ggml_type().block_size() == Some(1) => Ok((ne0, row_bytes / ne0.max(1))),
        [_, ne1] => Ok((ne1, row_bytes)),
        _ => Ok((1, t.n_bytes().map_err(|_| missing())?)),
    }
}

struct Permute {
    heads: u64,
    head_dim: u64,
}

/// Builds the writer of the adapted file. Metadata keeps its order (renamed, dropped keys
/// removed); each source tensor is replaced in place by its outputs.
pub fn llamafy<'a>(gguf: &Gguf<'a>, plan: &AdapterPlan) -> Result<GgufWriter<'a>, LlamafyError> {
    if plan.verdict == Verdict::Incompatible {
        let why: Vec<String> = plan.blockers.iter().map(ToString::to_string).collect();
        return Err(LlamafyError::Incompatible(why.join("; ")));
    }
    if gguf.tensors().is_empty() {
        return Err(LlamafyError::NoTensors);
    }
    let mut rename: HashMap<String, String> = HashMap::new();
    let mut drop: Vec<&str> = Vec::new();
    let mut splits: HashMap<&str, &[crate::compat::RowSlice]> = HashMap::new();
    let mut permute: HashMap<&str, Permute> = HashMap::new();
    let mut target = None;
    for step in &plan.steps {
        match step {
            AdapterStep::SetArchitecture { to, .. } => target = Some(to.clone()),
            AdapterStep::RenameKeys { from, to, keys } => {
                for k in keys {
                    let rest = k.strip_prefix(from.as_str()).unwrap_or(k);
                    rename.insert(k.clone(), format!("{to}{rest}"));
                }
            }
            AdapterStep::DropKeys { keys, .. } => drop.extend(keys.iter().map(String::as_str)),
            AdapterStep::SplitRows { tensor, into, .. } => {
                splits.insert(tensor.as_str(), into.as_slice());
            }
            AdapterStep::PermuteRows {
                tensors,
                heads,
                head_dim,
                ..
            } => {
                for t in tensors {
                    permute.insert(
                        t.as_str(),
                        Permute {
                            heads: *heads,
                            head_dim: *head_dim,
                        },
                    );
                }
            }
            AdapterStep::CarryTensors { .. } | AdapterStep::Output { .. } => {}
        }
    }
    let mut w = GgufWriter::new();
    for kv in gguf.metadata().iter() {
        let key = kv.key().to_string();
        if drop.contains(&key.as_str()) {
            continue;
        }
        let value = match (&target, key.as_str()) {
            (Some(t), keys::GENERAL_ARCHITECTURE) => OwnedValue::from(t.as_str()),
            _ => kv.value().to_owned_value(),
        };
        w.add_kv(rename.get(&key).unwrap_or(&key), value);
    }
    for t in gguf.tensors() {
        let data = gguf
            .tensor_data(t)
            .ok_or_else(|| LlamafyError::MissingData(t.name().to_string()))?;
        let (rows, row_bytes) = rows_of(t)?;
        let (prefix, local) = match t
            .name()
            .strip_prefix("blk.")
            .and_then(|r| r.split_once('.'))
        {
            Some((n, rest)) => (format!("blk.{n}."), rest),
            None => (String::new(), t.name()),
        };
        // (output name, first row, row count)
        let outputs: Vec<(String, u64, u64)> = match splits.get(local) {
            Some(slices) => slices
                .iter()
                .map(|s| {
                    (
                        s.into.clone(),
                        s.rows.start,
                        s.rows.end.saturating_sub(s.rows.start),
                    )
                })
                .collect(),
            None => vec![(local.to_string(), 0, rows)],
        };
        for (name, first, count) in outputs {
            let end = first.saturating_add(count);
            if end > rows {
                return Err(LlamafyError::Rows {
                    tensor: t.name().to_string(),
                    rows,
                    needed: end,
                });
            }
            let slice = usize::try_from(first * row_bytes)
                .ok()
                .zip(usize::try_from(end * row_bytes).ok())
                .and_then(|(a, b)| data.get(a..b))
                .ok_or_else(|| LlamafyError::MissingData(t.name().to_string()))?;
            // A split keeps `count` rows: the last dimension of the matrix (`rows_of`).
            let mut dims = t.dims().to_vec();
            if count != rows {
                if let Some(last) = dims.last_mut() {
                    *last = count;
                }
            }
            let full = format!("{prefix}{name}");
            let tensor_data = match permute.get(name.as_str()) {
                Some(p) => {
                    let ok = p.head_dim % 2 == 0 && p.heads.checked_mul(p.head_dim) == Some(count);
                    if !ok {
                        return Err(LlamafyError::Permutation {
                            tensor: full,
                            rows: count,
                            heads: p.heads,
                            head_dim: p.head_dim,
                        });
                    }
                    let order = neox_to_norm_order(p.heads, p.head_dim)
                        .into_iter()
                        .filter_map(|r| usize::try_from(r).ok())
                        .collect();
                    TensorData::Reader(Box::new(RowsReader {
                        src: slice,
                        row_bytes: usize::try_from(row_bytes).unwrap_or(usize::MAX),
                        order,
                        next: 0,
                        offset: 0,
                    }))
                }
                None => TensorData::Borrowed(slice),
            };
            w.add_tensor(full, t.ggml_type(), &dims, tensor_data);
        }
    }
    Ok(w)
}
