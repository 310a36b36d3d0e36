//! Checks of the data layout: every finding, located, not just the first.

use std::fmt;

use crate::file::Gguf;
use crate::limits::{LLAMA_CPP_MAX_TENSOR_NAME_BYTES, MAX_FINDINGS_PER_KIND};
use crate::tensor_info::SizeError;
use crate::value::{Value, ValueType};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; the file is fine.
    Info,
    /// The file follows the specification but a reader (usually llama.cpp) refuses or
    /// misreads it, or something cannot be checked.
    Warning,
    /// The file is broken: a loader would read wrong or missing bytes.
    Error,
}

impl Severity {
    /// `"info"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One layout finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutFinding {
    /// How serious.
    pub severity: Severity,
    /// Absolute byte offset in the file the finding is about.
    pub offset: u64,
    /// What was found.
    pub issue: LayoutIssue,
}

/// What a layout check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutIssue {
    /// The alignment is a power of two below 8; the specification asks for a multiple of 8
    /// (llama.cpp accepts it).
    SmallAlignment {
        /// The alignment.
        alignment: u32,
    },
    /// An array holds arrays: the specification allows it, llama.cpp refuses it.
    NestedArray {
        /// The key.
        key: String,
    },
    /// A tensor name of 64 bytes: allowed by the specification, refused by llama.cpp.
    NameTooLongForLlamaCpp {
        /// The tensor.
        tensor: String,
        /// Its length.
        len: u64,
    },
    /// The size of a tensor cannot be computed (unknown or removed type, `ne[0]` not a
    /// multiple of the block size, or an overflowing shape).
    Unsizable {
        /// The tensor.
        tensor: String,
        /// Why.
        reason: SizeError,
    },
    /// A tensor's offset is not a multiple of the alignment.
    MisalignedOffset {
        /// The tensor.
        tensor: String,
        /// Its offset relative to the data section.
        offset: u64,
        /// The alignment.
        alignment: u32,
    },
    /// A tensor's bytes are not inside the file (`end` saturates at `u64::MAX`).
    TensorOutOfBounds {
        /// The tensor.
        tensor: String,
        /// Absolute start.
        start: u64,
        /// Absolute end.
        end: u64,
        /// File length.
        file_len: u64,
    },
    /// Two tensors share bytes.
    TensorsOverlap {
        /// The tensor that starts first.
        first: String,
        /// The tensor that starts inside it.
        second: String,
    },
    /// A tensor does not start where llama.cpp expects (the padded end of the previous one in
    /// file order): a gap or a reordering, allowed by the specification, refused by llama.cpp.
    NonContiguous {
        /// The tensor.
        tensor: String,
        /// Offset llama.cpp expects.
        expected: u64,
        /// Offset in the file.
        found: u64,
    },
    /// Padding before the data section holds non-zero bytes.
    NonZeroPadding {
        /// Number of padding bytes.
        len: u64,
    },
    /// More findings of one kind than [`crate::limits::MAX_FINDINGS_PER_KIND`]: the first are
    /// listed, the rest only counted here.
    Suppressed {
        /// The kind's code.
        code: &'static str,
        /// How many were not listed.
        count: u64,
    },
}

impl LayoutIssue {
    /// The tensor the issue is about, if one (for overlaps: the one that starts inside the
    /// other).
    pub fn tensor(&self) -> Option<&str> {
        match self {
            LayoutIssue::NameTooLongForLlamaCpp { tensor, .. }
            | LayoutIssue::Unsizable { tensor, .. }
            | LayoutIssue::MisalignedOffset { tensor, .. }
            | LayoutIssue::TensorOutOfBounds { tensor, .. }
            | LayoutIssue::NonContiguous { tensor, .. } => Some(tensor),
            LayoutIssue::TensorsOverlap { second, .. } => Some(second),
            LayoutIssue::SmallAlignment { .. }
            | LayoutIssue::NestedArray { .. }
            | LayoutIssue::NonZeroPadding { .. }
            | LayoutIssue::Suppressed { .. } => None,
        }
    }

    /// The metadata key the issue is about, if one.
    pub fn key(&self) -> Option<&str> {
        match self {
            LayoutIssue::NestedArray { key } => Some(key),
            LayoutIssue::SmallAlignment { .. } => Some("general.alignment"),
            _ => None,
        }
    }

    /// A stable machine-readable code (`tensor_out_of_bounds`…).
    pub fn code(&self) -> &'static str {
        match self {
            LayoutIssue::SmallAlignment { .. } => "small_alignment",
            LayoutIssue::NestedArray { .. } => "nested_array",
            LayoutIssue::NameTooLongForLlamaCpp { .. } => "name_too_long_for_llama_cpp",
            LayoutIssue::Unsizable { .. } => "unsizable_tensor",
            LayoutIssue::MisalignedOffset { .. } => "misaligned_offset",
            LayoutIssue::TensorOutOfBounds { .. } => "tensor_out_of_bounds",
            LayoutIssue::TensorsOverlap { .. } => "tensors_overlap",
            LayoutIssue::NonContiguous { .. } => "non_contiguous",
            LayoutIssue::NonZeroPadding { .. } => "non_zero_padding",
            LayoutIssue::Suppressed { .. } => "suppressed",
        }
    }
}

impl fmt::Display for LayoutIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutIssue::SmallAlignment { alignment } => write!(
                f,
                "alignment {alignment} is not a multiple of 8 as the specification asks"
            ),
            LayoutIssue::NestedArray { key } => {
                write!(f, "`{key}` is an array of arrays, which llama.cpp refuses")
            }
            LayoutIssue::NameTooLongForLlamaCpp { tensor, len } => write!(
                f,
                "tensor name `{tensor}` has {len} bytes; llama.cpp accepts at most 63"
            ),
            LayoutIssue::Unsizable { tensor, reason } => {
                write!(f, "size of tensor `{tensor}` is unknown: {reason}")
            }
            LayoutIssue::MisalignedOffset {
                tensor,
                offset,
                alignment,
            } => write!(
                f,
                "tensor `{tensor}` offset {offset} is not a multiple of {alignment}"
            ),
            LayoutIssue::TensorOutOfBounds {
                tensor,
                start,
                end,
                file_len,
            } => write!(
                f,
                "tensor `{tensor}` spans bytes {start}..{end} but the file has {file_len}"
            ),
            LayoutIssue::TensorsOverlap { first, second } => {
                write!(f, "tensors `{first}` and `{second}` overlap")
            }
            LayoutIssue::NonContiguous {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor `{tensor}` is at offset {found}, llama.cpp expects {expected} (tensors must be contiguous in file order)"
            ),
            LayoutIssue::NonZeroPadding { len } => {
                write!(f, "{len} padding bytes before the data section are not zero")
            }
            LayoutIssue::Suppressed { code, count } => {
                write!(f, "{count} more `{code}` findings are not listed")
            }
        }
    }
}

impl Gguf<'_> {
    /// Checks alignment, tensor offsets, bounds, overlaps, contiguity, block sizes and shape
    /// overflow. Returns every finding, sorted by offset; an empty list means a clean layout.
    pub fn check_layout(&self) -> Vec<LayoutFinding> {
        self.check_layout_with_len(self.data().len() as u64)
    }

    /// [`Gguf::check_layout`] for a parse of a prefix of a file whose full length is
    /// `file_len` (a remote file read up to its tensor infos): tensor bounds are checked against
    /// `file_len` instead of the bytes held; the padding check covers the bytes held.
    pub fn check_layout_with_len(&self, file_len: u64) -> Vec<LayoutFinding> {
        let mut out = Collector::default();
        let alignment = self.alignment();
        if alignment < 8 {
            let offset = self
                .metadata()
                .get("general.alignment")
                .map_or(0, |kv| kv.offset());
            out.push(finding(
                Severity::Info,
                offset,
                LayoutIssue::SmallAlignment { alignment },
            ));
        }
        for kv in self.metadata().iter() {
            if let Value::Array(a) = kv.value() {
                if a.element_type() == ValueType::Array {
                    out.push(finding(
                        Severity::Warning,
                        kv.offset(),
                        LayoutIssue::NestedArray {
                            key: kv.key().to_string(),
                        },
                    ));
                }
            }
        }
        let pad_start = usize::try_from(self.tensor_infos_end()).unwrap_or(usize::MAX);
        let pad_end = usize::try_from(self.data_offset()).unwrap_or(usize::MAX);
        if let Some(pad) = self.data().get(pad_start..pad_end.min(self.data().len())) {
            if pad.iter().any(|&b| b != 0) {
                out.push(finding(
                    Severity::Info,
                    self.tensor_infos_end(),
                    LayoutIssue::NonZeroPadding {
                        len: pad.len() as u64,
                    },
                ));
            }
        }

        // (start, end, index) of every sized tensor with data, for the overlap sweep.
        let mut spans: Vec<(u64, u64, usize)> = Vec::with_capacity(self.tensors().len());
        // The running padded end llama.cpp expects in file order; None once a size is unknown.
        let mut expected = Some(0u64);
        for (i, t) in self.tensors().iter().enumerate() {
            let name = t.name();
            if name.len() as u64 > LLAMA_CPP_MAX_TENSOR_NAME_BYTES {
                out.push(finding(
                    Severity::Warning,
                    t.info_offset(),
                    LayoutIssue::NameTooLongForLlamaCpp {
                        tensor: name.to_string(),
                        len: name.len() as u64,
                    },
                ));
            }
            if t.offset() % u64::from(alignment) != 0 {
                out.push(finding(
                    Severity::Error,
                    t.info_offset(),
                    LayoutIssue::MisalignedOffset {
                        tensor: name.to_string(),
                        offset: t.offset(),
                        alignment,
                    },
                ));
            }
            let size = match t.n_bytes() {
                Ok(size) => size,
                Err(reason) => {
                    let severity = match reason {
                        SizeError::UnknownType { .. } => Severity::Warning,
                        _ => Severity::Error,
                    };
                    out.push(finding(
                        severity,
                        t.info_offset(),
                        LayoutIssue::Unsizable {
                            tensor: name.to_string(),
                            reason,
                        },
                    ));
                    expected = None;
                    continue;
                }
            };
            if let Some(exp) = expected {
                if t.offset() != exp {
                    out.push(finding(
                        Severity::Warning,
                        t.info_offset(),
                        LayoutIssue::NonContiguous {
                            tensor: name.to_string(),
                            expected: exp,
                            found: t.offset(),
                        },
                    ));
                }
                expected = t
                    .offset()
                    .checked_add(size)
                    .and_then(|e| e.checked_next_multiple_of(u64::from(alignment)));
            }
            let start = self.data_offset().checked_add(t.offset());
            let end = start.and_then(|s| s.checked_add(size));
            match (start, end) {
                (Some(start), Some(end)) if end <= file_len => {
                    if size > 0 {
                        spans.push((start, end, i));
                    }
                }
                _ => out.push(finding(
                    Severity::Error,
                    t.info_offset(),
                    LayoutIssue::TensorOutOfBounds {
                        tensor: name.to_string(),
                        start: start.unwrap_or(u64::MAX),
                        end: end.unwrap_or(u64::MAX),
                        file_len,
                    },
                )),
            }
        }
        // Overlaps in O(n log n): sort by start and compare with the furthest end so far.
        spans.sort_unstable();
        let mut furthest: Option<(u64, usize)> = None;
        for &(start, end, i) in &spans {
            if let Some((far_end, far_i)) = furthest {
                if start < far_end {
                    if let (Some(a), Some(b)) = (self.tensors().get(far_i), self.tensors().get(i)) {
                        out.push(finding(
                            Severity::Error,
                            b.info_offset(),
                            LayoutIssue::TensorsOverlap {
                                first: a.name().to_string(),
                                second: b.name().to_string(),
                            },
                        ));
                    }
                }
            }
            if furthest.is_none_or(|(far_end, _)| end > far_end) {
                furthest = Some((end, i));
            }
        }
        let mut out = out.finish();
        out.sort_by_key(|f| f.offset);
        out
    }
}

/// Collects findings, keeping the first [`MAX_FINDINGS_PER_KIND`] of each kind and counting
/// the rest (so memory stays bounded while a hostile file yields one finding per tensor).
#[derive(Default)]
struct Collector {
    kept: Vec<LayoutFinding>,
    /// (code, seen, most serious severity, first offset) per kind.
    counts: Vec<(&'static str, usize, Severity, u64)>,
}

impl Collector {
    fn push(&mut self, f: LayoutFinding) {
        let code = f.issue.code();
        let i = match self.counts.iter().position(|c| c.0 == code) {
            Some(i) => i,
            None => {
                self.counts.push((code, 0, f.severity, f.offset));
                self.counts.len() - 1
            }
        };
        if let Some(slot) = self.counts.get_mut(i) {
            slot.1 += 1;
            if slot.1 <= MAX_FINDINGS_PER_KIND {
                self.kept.push(f);
            } else {
                slot.2 = slot.2.max(f.severity);
            }
        }
    }

    /// The kept findings and one `Suppressed` finding per kind that overflowed.
    fn finish(mut self) -> Vec<LayoutFinding> {
        for (code, n, severity, offset) in std::mem::take(&mut self.counts) {
            if n > MAX_FINDINGS_PER_KIND {
                self.kept.push(finding(
                    severity,
                    offset,
                    LayoutIssue::Suppressed {
                        code,
                        count: (n - MAX_FINDINGS_PER_KIND) as u64,
                    },
                ));
            }
        }
        self.kept
    }
}

fn finding(severity: Severity, offset: u64, issue: LayoutIssue) -> LayoutFinding {
    LayoutFinding {
        severity,
        offset,
        issue,
    }
}
