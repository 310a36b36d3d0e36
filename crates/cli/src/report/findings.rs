//! Findings as `validate` and `report` show them: format findings (lenient-parse diagnostics
//! and layout checks) and schema findings (the tensors against the architecture), each with
//! where it was found when that is known.

use ggufscope_gguf::Severity;
use ggufscope_model::{ArchError, SchemaIssue};
use serde::Serialize;

use crate::report::issues::{FormatIssues, IssueView};

/// Which layer of checks found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSource {
    /// The GGUF format: parse diagnostics and the data layout.
    Format,
    /// The architecture: configuration and tensor schema.
    Schema,
}

impl FindingSource {
    /// `"format"` or `"schema"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSource::Format => "format",
            FindingSource::Schema => "schema",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    /// A stable machine-readable code (`missing_tensor`, `tensor_out_of_bounds`…).
    pub code: &'static str,
    /// What was found, in words.
    pub message: String,
    /// Absolute byte offset in the file, for format findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The metadata key it is about, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The tensor it is about, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor: Option<String>,
    /// The shard file the offset is in (split sets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `format` or `schema`.
    pub source: FindingSource,
}

impl Finding {
    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error.as_str()
    }

    /// A schema finding.
    pub fn schema(issue: &SchemaIssue) -> Self {
        let key = match issue {
            SchemaIssue::TokenArrayLength { key, .. } => Some(key.clone()),
            _ => None,
        };
        Self {
            severity: issue.severity().as_str(),
            code: issue.code(),
            message: issue.to_string(),
            offset: None,
            key,
            tensor: issue.tensor().map(str::to_owned),
            shard: None,
            source: FindingSource::Schema,
        }
    }

    /// The schema could not be checked because the architecture is not supported: a warning,
    /// since the format-level checks still ran.
    pub fn schema_not_checked(err: &ArchError) -> Self {
        Self {
            severity: Severity::Warning.as_str(),
            code: "schema_not_checked",
            message: format!("{err}: only the format-level checks ran"),
            offset: None,
            key: None,
            tensor: None,
            shard: None,
            source: FindingSource::Schema,
        }
    }

    /// The configuration cannot be extracted from a readable file: an error.
    pub fn config_unreadable(err: &ArchError) -> Self {
        let (code, key) = match err {
            ArchError::NoArchitecture => ("no_architecture", Some("general.architecture")),
            ArchError::MissingKey { key } => ("missing_key", Some(key.as_str())),
            ArchError::KeyType { key, .. } => ("key_type", Some(key.as_str())),
            ArchError::KeyValue { key, .. } => ("key_value", Some(key.as_str())),
            ArchError::Inconsistent(_) => ("inconsistent_config", None),
            ArchError::Format(e) => (e.kind().code(), None),
            _ => ("config_unreadable", None),
        };
        Self {
            severity: Severity::Error.as_str(),
            code,
            message: format!("the configuration cannot be read: {err}"),
            offset: None,
            key: key.map(str::to_owned),
            tensor: None,
            shard: None,
            source: FindingSource::Schema,
        }
    }
}

impl From<IssueView> for Finding {
    fn from(i: IssueView) -> Self {
        Self {
            severity: i.severity,
            code: i.code,
            message: i.message,
            offset: Some(i.offset),
            key: i.key,
            tensor: i.tensor,
            shard: i.shard,
            source: FindingSource::Format,
        }
    }
}

/// Every format finding of an input: the lenient parse's diagnostics, then the layout findings
/// (by offset; for a split set, shard by shard).
pub fn format_findings(issues: &FormatIssues) -> Vec<Finding> {
    let mut all: Vec<Finding> = issues
        .diagnostics
        .iter()
        .chain(&issues.layout)
        .cloned()
        .map(Finding::from)
        .collect();
    let dropped = issues.dropped;
    if dropped > 0 {
        all.push(Finding {
            severity: Severity::Warning.as_str(),
            code: "diagnostics_dropped",
            message: format!("{dropped} more diagnostics were dropped (limit reached)"),
            offset: None,
            key: None,
            tensor: None,
            shard: None,
            source: FindingSource::Format,
        });
    }
    all
}

/// Counts of errors, warnings and infos.
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s: Severity| findings.iter().filter(|f| f.severity == s.as_str()).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}
