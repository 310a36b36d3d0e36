//! `--check MANIFEST`: a report's hashes against a manifest, with `llama-gguf-hash --check`'s
//! verdicts (gguf-hash.cpp `gguf_hash`'s end): any mismatch fails; no entry found at all is a
//! missing entry; a tensor absent from the manifest is not a failure.
//!
//! Entries are matched by algorithm and by the tensor's name after the `:`. `llama-gguf-hash`
//! compares the whole `FILE:TENSOR` string, so its manifests only check the file at the path
//! they were made with; here the path is compared only to choose among the files of a manifest
//! that lists several (an entry of the file as named on the command line wins; otherwise a
//! manifest of one file is taken for this file). One more difference: `llama-gguf-hash` looks
//! `uuid` results up among the manifest's `sha256` lines (gguf-hash.cpp:471), so it never
//! confirms a uuid; here a uuid is compared with `uuid` lines.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::hash::{manifest_line, Algorithm, Entry};
use crate::run::Report;

/// The verdict on one hash, as `llama-gguf-hash` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The manifest has the same hash.
    Ok,
    /// The manifest has another hash.
    Mismatch,
    /// The manifest has no entry.
    NotFound,
}

impl Verdict {
    /// `Ok`, `Mismatch`, `Not Found` (`hash_manifest_result_to_str`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "Ok",
            Verdict::Mismatch => "Mismatch",
            Verdict::NotFound => "Not Found",
        }
    }
}

/// One compared hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The tensor, or `None` for the whole model.
    pub tensor: Option<String>,
    /// The hash computed.
    pub hash: String,
    /// The manifest's hash, when it has an entry.
    pub expected: Option<String>,
    /// The manifest line of that entry.
    pub line: Option<usize>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every entry found agrees.
    Success,
    /// At least one hash differs.
    Mismatch,
    /// The manifest has no entry for this file.
    MissingEntry,
}

/// The result of comparing a report with a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Every hash compared, tensors first (file order), then the model.
    pub checked: Vec<Checked>,
    /// The verdict.
    pub outcome: Outcome,
}

impl Checked {
    /// The line `llama-gguf-hash --check` prints: `%-8s  %-s  %s  -  %s`.
    pub fn line_text(&self, file: &str) -> String {
        let name = match &self.tensor {
            Some(t) => format!("{file}:{t}"),
            None => file.to_owned(),
        };
        format!(
            "{}  -  {}",
            manifest_line(self.algorithm, &self.hash, &name),
            self.verdict.as_str()
        )
    }
}

/// Compares the hashes of `report` (for the file named `file` on the command line) with the
/// manifest's entries.
pub fn check(report: &Report, entries: &[Entry], file: &str) -> CheckResult {
    let tensor_names: HashMap<&str, ()> = report
        .tensors
        .iter()
        .map(|t| (t.name.as_str(), ()))
        .collect();
    // Split each entry into (file, Some(tensor)) or (file, None).
    let split: Vec<(&Entry, &str, Option<&str>)> = entries
        .iter()
        .map(|e| {
            let name = e.name.as_str();
            let tensor_split = name
                .char_indices()
                .filter(|&(_, c)| c == ':')
                .find_map(|(i, _)| {
                    let (prefix, rest) = (name.get(..i)?, name.get(i + 1..)?);
                    tensor_names.contains_key(rest).then_some((prefix, rest))
                });
            match tensor_split {
                Some((prefix, tensor)) => (e, prefix, Some(tensor)),
                None => (e, name, None),
            }
        })
        .collect();
    let find = |algorithm: Algorithm, tensor: Option<&str>| -> Option<&Entry> {
        let candidates: Vec<&(&Entry, &str, Option<&str>)> = split
            .iter()
            .filter(|(e, _, t)| e.algorithm == algorithm.as_str() && *t == tensor)
            .collect();
        if let Some((e, _, _)) = candidates.iter().find(|(_, f, _)| *f == file) {
            return Some(e);
        }
        let files: BTreeSet<&str> = candidates.iter().map(|(_, f, _)| *f).collect();
        let single = files.len() == 1;
        // A whole-model entry under another name counts only when the manifest's tensor
        // entries carry that name too (a manifest of this file made at another path).
        let file_of_tensors = |f: &str| split.iter().any(|(_, p, t)| t.is_some() && *p == f);
        match candidates.first() {
            Some((e, f, _)) if single && (tensor.is_some() || file_of_tensors(f)) => Some(e),
            _ => None,
        }
    };
    let mut checked = Vec::new();
    let mut compare = |algorithm: Algorithm, tensor: Option<&str>, hash: &str| {
        let entry = find(algorithm, tensor);
        let verdict = match entry {
            None => Verdict::NotFound,
            Some(e) if e.hash.eq_ignore_ascii_case(hash) => Verdict::Ok,
            Some(_) => Verdict::Mismatch,
        };
        checked.push(Checked {
            algorithm,
            tensor: tensor.map(str::to_owned),
            hash: hash.to_owned(),
            expected: entry.map(|e| e.hash.clone()),
            line: entry.map(|e| e.line),
            verdict,
        });
    };
    for t in &report.tensors {
        for (algorithm, hash) in &t.hashes {
            if let Some(hash) = hash {
                compare(*algorithm, Some(&t.name), hash);
            }
        }
    }
    for (algorithm, hash) in &report.model_hashes {
        if let Some(hash) = hash {
            compare(*algorithm, None, hash);
        }
    }
    let outcome = if checked.iter().any(|c| c.verdict == Verdict::Mismatch) {
        Outcome::Mismatch
    } else if checked.iter().all(|c| c.verdict == Verdict::NotFound) {
        Outcome::MissingEntry
    } else {
        Outcome::Success
    };
    CheckResult { checked, outcome }
}
