//! Findings as `validate` and `report` show them: format findings (lenient-parse diagnostics
//! and layout checks) and schema findings (the tensors against the architecture), each with
//! where it was found when that is known.

use ggufscope_gguf::limits::MAX_FINDINGS_PER_KIND;
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
    /// The tokenizer and chat templates: what llama.cpp's vocabulary loader refuses or does
    /// differently from what the template expects.
    Tokenizer,
}

impl FindingSource {
    /// `"format"`, `"schema"` or `"tokenizer"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSource::Format => "format",
            FindingSource::Schema => "schema",
            FindingSource::Tokenizer => "tokenizer",
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

/// Every format finding of an input: the lenient parse's diagnostics (with the exact count of
/// those not kept, after them), then the layout findings (by offset, each kind capped with its
/// exact count after the list; for a split set, shard by shard).
pub fn format_findings(issues: &FormatIssues) -> Vec<Finding> {
    issues
        .diagnostics
        .iter()
        .chain(&issues.layout)
        .cloned()
        .map(Finding::from)
        .collect()
}

/// Caps findings that repeat: of each code, the first [`MAX_FINDINGS_PER_KIND`] are kept in
/// their place, and one `suppressed` finding per capped code, with the exact number not
/// listed, follows the whole list. The same rule as the format layer's layout checks
/// ([`ggufscope_gguf::LayoutIssue::Suppressed`]), for the findings of every source (schema
/// findings repeat per tensor too). `suppressed` findings already in the list are kept as they
/// are and not counted.
pub fn cap_repeated(list: Vec<Finding>) -> Vec<Finding> {
    // (code, source, seen, most serious severity not listed) in order of first appearance.
    let mut kinds: Vec<(&'static str, FindingSource, usize, Severity)> = Vec::new();
    let mut out = Vec::with_capacity(list.len().min(4 * MAX_FINDINGS_PER_KIND));
    for f in list {
        if f.code == "suppressed" {
            out.push(f);
            continue;
        }
        let i = match kinds.iter().position(|k| k.0 == f.code) {
            Some(i) => i,
            None => {
                kinds.push((f.code, f.source, 0, Severity::Info));
                kinds.len() - 1
            }
        };
        let Some(kind) = kinds.get_mut(i) else {
            continue;
        };
        kind.2 += 1;
        if kind.2 <= MAX_FINDINGS_PER_KIND {
            out.push(f);
        } else {
            kind.3 = kind.3.max(severity_of(f.severity));
        }
    }
    for (code, source, seen, severity) in kinds {
        if seen > MAX_FINDINGS_PER_KIND {
            out.push(Finding {
                severity: severity.as_str(),
                code: "suppressed",
                message: format!(
                    "{} more `{code}` findings are not listed (the first {MAX_FINDINGS_PER_KIND} are)",
                    seen - MAX_FINDINGS_PER_KIND
                ),
                offset: None,
                key: None,
                tensor: None,
                shard: None,
                source,
            });
        }
    }
    out
}

#[allow(dead_code)]
fn severity_of(name: &str) -> Severity {
    [Severity::Error, Severity::Warning]
        .into_iter()
        .find(|s| s.as_str() == name)
        .unwrap_or(Severity::Info)
}

/// Counts of errors, warnings and infos.
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s: Severity| findings.iter().filter(|f| f.severity == s.as_str()).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(code: &'static str, severity: Severity, tensor: String) -> Finding {
        Finding {
            severity: severity.as_str(),
            code,
            message: format!("`{tensor}`"),
            offset: None,
            key: None,
            tensor: Some(tensor),
            shard: None,
            source: FindingSource::Schema,
        }
    }

    /// Issue 17: a repeated finding is listed up to the cap, and its exact count follows the
    /// whole list, once.
    #[test]
    fn repeated_findings_are_capped_with_the_count_once_after_the_list() {
        let n = MAX_FINDINGS_PER_KIND + 344;
        let mut list = vec![schema("vocab_only", Severity::Info, "x".into())];
        for i in 0..n {
            list.push(schema(
                "missing_tensor",
                Severity::Error,
                format!("blk.{i}.a"),
            ));
            if i < 3 {
                list.push(schema("wrong_shape", Severity::Error, format!("blk.{i}.b")));
            }
        }
        let capped = cap_repeated(list.clone());
        assert_eq!(capped.len(), 1 + MAX_FINDINGS_PER_KIND + 3 + 1);
        // What is kept keeps its order.
        let kept: Vec<&Finding> = list
            .iter()
            .filter(|f| {
                f.code != "missing_tensor"
                    || f.tensor.as_deref().is_some_and(|t| {
                        t.trim_start_matches("blk.")
                            .split('.')
                            .next()
                            .and_then(|i| i.parse::<usize>().ok())
                            .is_some_and(|i| i < MAX_FINDINGS_PER_KIND)
                    })
            })
            .collect();
        assert_eq!(capped[..capped.len() - 1].iter().collect::<Vec<_>>(), kept);
        let last = &capped[capped.len() - 1];
        assert_eq!(last.code, "suppressed");
        assert_eq!(last.severity, "error");
        assert_eq!(last.source, FindingSource::Schema);
        assert_eq!(
            last.message,
            format!("344 more `missing_tensor` findings are not listed (the first {MAX_FINDINGS_PER_KIND} are)")
        );
        assert_eq!(capped.iter().filter(|f| f.code == "suppressed").count(), 1);
        // Under the cap, nothing changes.
        let short: Vec<Finding> = list.into_iter().take(50).collect();
        assert_eq!(cap_repeated(short.clone()), short);
    }
}
