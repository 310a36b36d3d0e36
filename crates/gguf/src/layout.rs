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
    /// A tensor's bytes cannot be inside any file: its start or end does not fit in 64 bits
    /// (`end` saturates at `u64::MAX`). Tensors that merely end past the end of this file are
    /// counted in one [`LayoutIssue::DataTruncated`] instead.
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
    /// The tensor data is cut short: the file ends before the end of some tensors. One finding
    /// for the cause, however many tensors it cuts.
    DataTruncated {
        /// The file's length: the bytes present.
        file_len: u64,
        /// The length the tensors need: the furthest end of a tensor.
        needed: u64,
        /// How many tensors end past the end of the file.
        tensors: u64,
        /// The first of them (the lowest start; in file order on a tie).
        first: String,
        /// Its absolute start.
        first_start: u64,
        /// Its absolute end.
        first_end: u64,
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
    /// More findings of one kind than [`crate::limits::MAX_FINDINGS_PER_KIND`]: the first
    /// `listed` are listed, the rest only counted here. [`Gguf::check_layout`] puts these after
    /// every listed finding, located at the first finding not listed.
    Suppressed {
        /// The kind's code.
        code: &'static str,
        /// How many were listed.
        listed: u64,
        /// How many were not listed (exact).
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
            LayoutIssue::DataTruncated { first, .. } => Some(first),
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
            LayoutIssue::DataTruncated { .. } => "data_truncated",
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
            LayoutIssue::DataTruncated {
                file_len,
                needed,
                tensors,
                first,
                first_start,
                first_end,
            } => {
                let what = if *tensors == 1 {
                    "1 tensor ends".to_owned()
                } else {
                    format!("{tensors} tensors end")
                };
                write!(
                    f,
                    "tensor data cut short: the file has {file_len} bytes, its tensors need {needed} ({} missing); {what} past the end of the file, the first `{first}` (bytes {first_start}..{first_end})",
                    needed.saturating_sub(*file_len)
                )
            }
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
            LayoutIssue::Suppressed {
                code,
                listed,
                count,
            } => write!(
                f,
                "{count} more `{code}` findings are not listed (the first {listed} are)"
            ),
        }
    }
}

impl Gguf<'_> {
    /// Checks alignment, tensor offsets, bounds, overlaps, contiguity, block sizes and shape
    /// overflow. Returns every finding, sorted by offset; an empty list means a clean layout.
    ///
    /// One finding per cause: a file whose tensor data is cut short gets one
    /// [`LayoutIssue::DataTruncated`], whatever the number of tensors it cuts. A kind that
    /// repeats (one per tensor) is listed up to [`MAX_FINDINGS_PER_KIND`] times; the exact
    /// number not listed follows in one [`LayoutIssue::Suppressed`] per kind, after every listed
    /// finding (so the list is sorted by offset up to its `Suppressed` tail).
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

        // Tensors that end past the end of the file: one finding for them all.
        let mut cut: Option<Cut> = None;
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
                (Some(start), Some(end)) => match &mut cut {
                    Some(c) => {
                        c.tensors += 1;
                        c.needed = c.needed.max(end);
                        if start < c.first.0 {
                            c.first = (start, end, i);
                        }
                    }
                    None => {
                        cut = Some(Cut {
                            tensors: 1,
                            needed: end,
                            first: (start, end, i),
                        });
                    }
                },
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
        if let Some(c) = cut {
            let (first_start, first_end, i) = c.first;
            let first = self
                .tensors()
                .get(i)
                .map(|t| t.name().to_string())
                .unwrap_or_default();
            out.push(finding(
                Severity::Error,
                file_len,
                LayoutIssue::DataTruncated {
                    file_len,
                    needed: c.needed,
                    tensors: c.tensors,
                    first,
                    first_start,
                    first_end,
                },
            ));
        }
        out.finish()
    }
}

/// The tensors that end past the end of the file.
struct Cut {
    tensors: u64,
    /// The furthest end.
    needed: u64,
    /// (start, end, index) of the one with the lowest start.
    first: (u64, u64, usize),
}

/// Collects findings, keeping the first [`MAX_FINDINGS_PER_KIND`] of each kind and counting
/// the rest (so memory stays bounded while a hostile file yields one finding per tensor).
#[derive(Default)]
struct Collector {
    kept: Vec<LayoutFinding>,
    /// Per kind, in order of first appearance.
    kinds: Vec<Kind>,
}

/// What the collector knows of one kind.
struct Kind {
    code: &'static str,
    seen: u64,
    /// The most serious severity of the findings not listed.
    severity: Severity,
    /// The lowest offset of a finding not listed.
    offset: u64,
}

impl Collector {
    fn push(&mut self, f: LayoutFinding) {
        let code = f.issue.code();
        let i = match self.kinds.iter().position(|k| k.code == code) {
            Some(i) => i,
            None => {
                self.kinds.push(Kind {
                    code,
                    seen: 0,
                    severity: Severity::Info,
                    offset: u64::MAX,
                });
                self.kinds.len() - 1
            }
        };
        if let Some(kind) = self.kinds.get_mut(i) {
            kind.seen += 1;
            if kind.seen <= MAX_FINDINGS_PER_KIND as u64 {
                self.kept.push(f);
            } else {
                kind.severity = kind.severity.max(f.severity);
                kind.offset = kind.offset.min(f.offset);
            }
        }
    }

    /// The kept findings sorted by offset, then one `Suppressed` finding per kind that
    /// overflowed (in order of the kinds' first finding).
    fn finish(mut self) -> Vec<LayoutFinding> {
        self.kept.sort_by_key(|f| f.offset);
        for kind in std::mem::take(&mut self.kinds) {
            let listed = MAX_FINDINGS_PER_KIND as u64;
            if kind.seen > listed {
                self.kept.push(finding(
                    kind.severity,
                    kind.offset,
                    LayoutIssue::Suppressed {
                        code: kind.code,
                        listed,
                        count: kind.seen - listed,
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
