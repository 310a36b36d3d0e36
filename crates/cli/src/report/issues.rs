//! Lenient-parse diagnostics and layout findings, as reports show them.

use ggufscope_gguf::{Error, ErrorKind, LayoutFinding, Location};
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
            _ => (None, None),
        };
        Self {
            severity: "warning",
            code: error_code(err.kind()),
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
            key: None,
            tensor: None,
        }
    }
}

/// A stable code for an error kind. The format crate gives layout issues a `code()` but not
/// error kinds, so the codes are kept here (snake case of the variant name).
fn error_code(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Truncated { .. } => "truncated",
        ErrorKind::BadMagic { .. } => "bad_magic",
        ErrorKind::UnsupportedVersion { .. } => "unsupported_version",
        ErrorKind::LimitExceeded { .. } => "limit_exceeded",
        ErrorKind::InvalidValueType { .. } => "invalid_value_type",
        ErrorKind::InvalidBool { .. } => "invalid_bool",
        ErrorKind::EmptyKey => "empty_key",
        ErrorKind::InvalidKey { .. } => "invalid_key",
        ErrorKind::DuplicateKey { .. } => "duplicate_key",
        ErrorKind::NestingTooDeep { .. } => "nesting_too_deep",
        ErrorKind::BadAlignment { .. } => "bad_alignment",
        ErrorKind::AlignmentWrongType { .. } => "alignment_wrong_type",
        ErrorKind::InvalidTensorName { .. } => "invalid_tensor_name",
        ErrorKind::TensorNameTooLong { .. } => "tensor_name_too_long",
        ErrorKind::DuplicateTensorName { .. } => "duplicate_tensor_name",
        ErrorKind::TooManyDims { .. } => "too_many_dims",
        ErrorKind::InvalidDim { .. } => "invalid_dim",
        ErrorKind::TypeMismatch { .. } => "type_mismatch",
        ErrorKind::OutOfRange { .. } => "out_of_range",
        ErrorKind::InvalidUtf8 { .. } => "invalid_utf8",
        _ => "other",
    }
}
