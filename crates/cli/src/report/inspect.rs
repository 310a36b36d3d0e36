//! The `inspect` report and its rendering (built and printed by `cmd/inspect.rs`).

use std::collections::BTreeMap;
use std::io::Write;

use ggufscope_gguf::{Gguf, KeyValue};
use serde::Serialize;

use crate::input::{Input, ShardSummary};
use crate::render::{self, Paint};
use crate::report::issues::IssueView;
use crate::report::value::{TextView, ValueView};

/// The `inspect` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    /// GGUF version (1, 2 or 3).
    pub version: u32,
    /// `"little"` or `"big"`.
    pub endianness: &'static str,
    /// Data alignment in bytes.
    pub alignment: u32,
    /// Absolute offset of the tensor data section.
    pub data_offset: u64,
    /// Size of the file in bytes (a split set: of every shard).
    pub file_size: u64,
    /// Bytes read over the network (remote sources only: the head of the file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_bytes: Option<u64>,
    /// The shards of a split set (omitted for a single file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardSummary>,
    /// Number of metadata entries (header).
    pub kv_count: u64,
    /// Number of tensors (header).
    pub tensor_count: u64,
    /// Every metadata entry, in file order.
    pub metadata: Vec<MetadataEntry>,
    /// Tensor count and bytes per ggml type, by type id.
    pub tensor_types: Vec<TypeSummary>,
    /// Bytes of tensor data, summed over the tensors whose size is known.
    pub tensor_bytes: u64,
    /// Tensors whose size is unknown (unknown type, bad shape); the findings say why.
    pub unsizable_tensors: u64,
    /// Recoverable defects the lenient parse stepped over.
    pub diagnostics: Vec<IssueView>,
    /// Layout findings (alignment, bounds, overlaps, contiguity…), by offset.
    pub findings: Vec<IssueView>,
    /// For a companion file (projector, LoRA adapter, control vector, imatrix): its kind
    /// (omitted for models and vocab-only files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_kind: Option<ggufscope_model::FileKind>,
    /// For a companion file: its own facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub companion: Option<ggufscope_model::companion::CompanionFacts>,
}

/// One metadata entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataEntry {
    /// The key (escaped as strings are when it is not UTF-8).
    pub key: String,
    /// `false` when the key is not valid UTF-8 (omitted when it is).
    #[serde(skip_serializing_if = "is_true")]
    pub key_utf8: bool,
    /// The value type (`u32`, `string`, `array`…).
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// The value.
    pub value: ValueView,
    /// `false` when a string value is not valid UTF-8 (omitted otherwise).
    #[serde(skip_serializing_if = "is_true")]
    pub utf8: bool,
}

/// Tensors of one ggml type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeSummary {
    /// ggml type name (`q4_K`, `q4_2 (removed)`, `unknown(99)`).
    #[serde(rename = "type")]
    pub ty: String,
    /// ggml type id.
    pub id: u32,
    /// Number of tensors.
    pub count: u64,
    /// Their bytes (those whose size is known).
    pub bytes: u64,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl InspectReport {
    /// Builds the report of `input`, parsed as `gguf`; `array_limit` caps the elements shown
    /// per array (`None`: all).
    pub fn new(gguf: &Gguf<'_>, input: &Input, array_limit: Option<usize>) -> Self {
        let issues = input.format_issues(gguf);
        let mut types: BTreeMap<u32, TypeSummary> = BTreeMap::new();
        let (mut tensor_bytes, mut unsizable_tensors) = (0u64, 0u64);
        for t in gguf.tensors() {
            let ty = t.ggml_type();
            let entry = types.entry(ty.id()).or_insert_with(|| TypeSummary {
                ty: ty.to_string(),
                id: ty.id(),
                count: 0,
                bytes: 0,
            });
            entry.count += 1;
            match t.n_bytes() {
                Ok(n) => {
                    entry.bytes = entry.bytes.saturating_add(n);
                    tensor_bytes = tensor_bytes.saturating_add(n);
                }
                Err(_) => unsizable_tensors += 1,
            }
        }
        Self {
            version: gguf.version(),
            endianness: gguf.endian().as_str(),
            alignment: gguf.alignment(),
            data_offset: input.data_offset(gguf),
            file_size: input.file_len(),
            fetched_bytes: input.bytes_fetched(),
            shards: input.shards(),
            kv_count: gguf.header().kv_count,
            tensor_count: gguf.header().tensor_count,
            metadata: gguf
                .metadata()
                .iter()
                .map(|kv| MetadataEntry::new(kv, array_limit))
                .collect(),
            tensor_types: types.into_values().collect(),
            tensor_bytes,
            unsizable_tensors,
            diagnostics: issues.diagnostics,
            findings: issues.layout,
            file_kind: Some(ggufscope_model::companion::file_kind(gguf))
                .filter(|k| k.is_companion()),
            companion: ggufscope_model::companion::companion_facts(gguf),
        }
    }

    /// Writes the report as aligned text.
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> std::io::Result<()> {
        writeln!(
            out,
            "{}",
            paint.heading(&format!(
                "GGUF v{} ({}-endian)",
                self.version, self.endianness
            ))
        )?;
        let size = format!(
            "{} bytes ({})",
            self.file_size,
            render::human_bytes(self.file_size)
        );
        let mut lines = vec![("file size", size)];
        if let Some(n) = self.fetched_bytes {
            lines.push((
                "fetched",
                format!("{n} bytes (header, metadata, tensor infos)"),
            ));
        }
        if !self.shards.is_empty() {
            lines.push(("shards", self.shards.len().to_string()));
        }
        lines.extend([
            ("alignment", self.alignment.to_string()),
            ("data offset", self.data_offset.to_string()),
            ("metadata", format!("{} entries", self.kv_count)),
            ("tensors", self.tensor_count.to_string()),
        ]);
        for (label, v) in lines {
            writeln!(out, "  {label:<12} {v}")?;
        }
        if let Some(kind) = self.file_kind {
            writeln!(
                out,
                "  {:<12} {} (a companion file: `ggufscope config` shows its facts, `ggufscope pair MODEL FILE` checks it against a model)",
                "kind",
                kind.as_str()
            )?;
        }
        if !self.shards.is_empty() {
            writeln!(out)?;
            let rows: Vec<Vec<String>> = self
                .shards
                .iter()
                .map(|s| {
                    vec![
                        s.file.clone(),
                        format!("{} bytes", s.bytes),
                        render::plural(usize::try_from(s.tensors).unwrap_or(usize::MAX), "tensor"),
                    ]
                })
                .collect();
            writeln!(out, "{}", paint.heading("Shards"))?;
            let align = [
                render::Align::Left,
                render::Align::Right,
                render::Align::Right,
            ];
            render::table(out, paint, "  ", &[], &rows, &align)?;
        }

        writeln!(out)?;
        writeln!(
            out,
            "{} ({})",
            paint.heading("Metadata"),
            self.metadata.len()
        )?;
        let keys: Vec<String> = self.metadata.iter().map(MetadataEntry::shown_key).collect();
        let key_w = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        let ty_w = self.metadata.iter().map(|e| e.ty.len()).max().unwrap_or(0);
        for (key, e) in keys.iter().zip(&self.metadata) {
            let value = render::value(&e.value);
            writeln!(out, "  {key:<key_w$}  {:<ty_w$}  {value}", e.ty)?;
        }

        writeln!(out)?;
        let total = format!(
            "{} bytes ({})",
            self.tensor_bytes,
            render::human_bytes(self.tensor_bytes)
        );
        writeln!(out, "{}: {}", paint.heading("Tensor data"), total)?;
        let ty_w = self
            .tensor_types
            .iter()
            .map(|t| t.ty.len())
            .max()
            .unwrap_or(0);
        let count_w = self
            .tensor_types
            .iter()
            .map(|t| t.count.to_string().len())
            .max()
            .unwrap_or(0);
        for t in &self.tensor_types {
            writeln!(
                out,
                "  {:<ty_w$}  {:>count_w$} tensors  {} bytes",
                t.ty, t.count, t.bytes
            )?;
        }
        if self.unsizable_tensors > 0 {
            writeln!(out, "  {} tensors of unknown size", self.unsizable_tensors)?;
        }

        writeln!(out)?;
        render::issues(out, paint, "Diagnostics", &self.diagnostics)?;
        render::issues(out, paint, "Layout findings", &self.findings)
    }
}

impl MetadataEntry {
    fn new(kv: &KeyValue<'_>, array_limit: Option<usize>) -> Self {
        let key = TextView::new(kv.key());
        let value = ValueView::new(kv.value(), array_limit);
        let utf8 = value.as_text().is_none_or(|t| t.utf8);
        Self {
            key: key.text,
            key_utf8: key.utf8,
            ty: kv.value().value_type().name(),
            value,
            utf8,
        }
    }

    /// The key for the text listing: as is when it is printable, quoted otherwise.
    fn shown_key(&self) -> String {
        if self.key_utf8 && !self.key.is_empty() && !self.key.chars().any(char::is_control) {
            self.key.clone()
        } else {
            render::quoted(&TextView {
                text: self.key.clone(),
                utf8: self.key_utf8,
                bytes: self.key.len() as u64,
            })
        }
    }
}
