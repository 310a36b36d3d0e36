//! Lenient-parse diagnostics and layout findings, as `inspect` shows them.

use ggufscope_gguf::{Error, LayoutFinding, Location};
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
        }
    }
}
