//! Lenient-parse diagnostics and layout findings, as `inspect` shows them, and
//! [`FormatIssues`]: those of every file an input reads.

use ggufscope_gguf::limits::MAX_DIAGNOSTICS;
use ggufscope_gguf::{Error, Gguf, LayoutFinding, Location, Severity};
use serde::Serialize;

/// One issue: a recoverable defect the lenient parse kept, or a layout finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueView {
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    /// A stable machine-readable code (`duplicate_key`, `tensor_out_of_bounds`…).
    pub code: &'static str,
    /// What was found, in words.
    pub message: String,
    /// Absolute byte offset in the file.
    pub offset: u64,
    /// The metadata key it belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The tensor it belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor: Option<String>,
    /// The shard file the offset is in (split sets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

impl IssueView {
    /// A lenient-parse diagnostic: a defect the file has but a reader can step over; always a
    /// warning.
    pub fn diagnostic(err: &Error) -> Self {
        let (key, tensor) = match err.location() {
            Some(Location::Key(k)) => (Some(k.clone()), None),
            Some(Location::Tensor(t)) => (None, Some(t.clone())),
            None => (None, None),
        };
        Self {
            severity: "warning",
            code: err.kind().code(),
            message: err.kind().to_string(),
            offset: err.offset(),
            key,
            tensor,
            shard: None,
        }
    }

    /// A layout finding.
    pub fn finding(f: &LayoutFinding) -> Self {
        Self {
            severity: f.severity.as_str(),
            code: f.issue.code(),
            message: f.issue.to_string(),
            offset: f.offset,
            key: f.issue.key().map(str::to_owned),
            tensor: f.issue.tensor().map(str::to_owned),
            shard: None,
        }
    }

    /// Where it is, for text: `byte N` or `byte N of SHARD`.
    pub fn place(&self) -> String {
        match &self.shard {
            Some(shard) => format!("byte {} of {shard}", self.offset),
            None => format!("byte {}", self.offset),
        }
    }
}

/// The format-level issues of an input: the lenient parse's diagnostics and the layout
/// findings of every file it reads (each shard of a split set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatIssues {
    /// Recoverable defects the lenient parses stepped over; when the parser kept only the
    /// first [`MAX_DIAGNOSTICS`] of a file, a `diagnostics_dropped` warning with the exact count
    /// follows them.
    pub diagnostics: Vec<IssueView>,
    /// Layout findings, by file then offset, each file's `suppressed` counts after the
    /// findings they follow.
    pub layout: Vec<IssueView>,
    /// Diagnostics dropped beyond the parser's limit (also said by the `diagnostics_dropped`
    /// entry of `diagnostics`).
    pub dropped: u64,
}

impl FormatIssues {
    /// The issues of one parsed file. `file_len` is the whole file's length when the parse
    /// holds only its head (a remote file, `None` when its server did not say; or a local file
    /// too large to map on this platform, when `remote` is false); `shard` names the file
    /// within a split set.
    pub fn of(gguf: &Gguf<'_>, file_len: Option<u64>, remote: bool, shard: Option<&str>) -> Self {
        let held = gguf.data().len() as u64;
        let layout = gguf.check_layout_with_len(file_len.unwrap_or(u64::MAX));
        let mut out = Self {
            diagnostics: gguf
                .diagnostics()
                .iter()
                .map(IssueView::diagnostic)
                .collect(),
            layout: layout.iter().map(IssueView::finding).collect(),
            dropped: gguf.diagnostics_dropped(),
        };
        if out.dropped > 0 {
            out.diagnostics.push(IssueView {
                severity: Severity::Warning.as_str(),
                code: "diagnostics_dropped",
                message: format!(
                    "{} more diagnostics are not listed (the first {MAX_DIAGNOSTICS} are)",
                    out.dropped
                ),
                offset: gguf
                    .diagnostics_dropped_offset()
                    .unwrap_or_else(|| gguf.tensor_infos_end()),
                key: None,
                tensor: None,
                shard: None,
            });
        }
        if !gguf.tensors().is_empty() && file_len.is_none_or(|len| held < len) {
            let size = file_len.map_or_else(
                || "its size is unknown, so tensor bounds were not checked".to_owned(),
                |len| format!("tensor bounds were checked against its size, {len} bytes"),
            );
            let (code, message) = if remote {
                (
                    "tensor_data_not_downloaded",
                    format!("tensor data not downloaded: a remote source is read up to its tensor infos ({held} bytes); {size}"),
                )
            } else {
                (
                    "tensor_data_not_read",
                    format!("tensor data not read: the file is too large to map on this platform and is read up to its tensor infos ({held} bytes); {size}"),
                )
            };
            out.layout.push(IssueView {
                severity: Severity::Info.as_str(),
                code,
                message,
                offset: gguf.data_offset(),
                key: None,
                tensor: None,
                shard: None,
            });
            // By offset, the `suppressed` counts staying last.
            out.layout
                .sort_by_key(|i| (i.code == "suppressed", i.offset));
        }
        if let Some(shard) = shard {
            for i in out.diagnostics.iter_mut().chain(out.layout.iter_mut()) {
                i.shard = Some(shard.to_owned());
            }
        }
        out
    }

    /// Appends another file's issues.
    pub fn extend(&mut self, other: Self) {
        self.diagnostics.extend(other.diagnostics);
        self.layout.extend(other.layout);
        self.dropped = self.dropped.saturating_add(other.dropped);
    }
}
