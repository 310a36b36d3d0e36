//! The `tensors` report and its rendering (built and printed by `cmd/tensors.rs`).

use std::io::Write;

use ggufscope_gguf::{Gguf, TensorInfo};
use serde::Serialize;

use crate::render::{self, Align, Paint};

/// The `tensors` report (also its JSON shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorsReport {
    /// Every tensor, in file order.
    pub tensors: Vec<TensorRow>,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Elements, summed over the tensors whose count is known.
    pub total_elements: u64,
    /// Bytes, summed over the tensors whose size is known.
    pub total_bytes: u64,
    /// Tensors whose size is unknown (unknown or removed type, bad shape).
    pub unsizable_tensors: u64,
}

/// One tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorRow {
    /// Name.
    pub name: String,
    /// ggml type name (`q4_K`, `q4_2 (removed)`, `unknown(99)`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Dimensions in ggml order (`ne[0]` first, the contiguous one).
    pub shape: Vec<u64>,
    /// Number of elements (`null` if it overflows).
    pub elements: Option<u64>,
    /// Bytes of data (`null` if unknown: unknown type, `ne[0]` not a block multiple, overflow).
    pub bytes: Option<u64>,
    /// Offset of the data, relative to the start of the data section (of its shard).
    pub offset: u64,
    /// The shard it is in, 1-based (split sets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
}

impl TensorsReport {
    /// Builds the report; `shards` gives each tensor's shard in a split set.
    pub fn new(gguf: &Gguf<'_>, shards: Option<&[u32]>) -> Self {
        let tensors: Vec<TensorRow> = gguf
            .tensors()
            .iter()
            .enumerate()
            .map(|(i, t)| TensorRow::new(t, shards.and_then(|s| s.get(i).copied())))
            .collect();
        let total_elements = tensors
            .iter()
            .filter_map(|t| t.elements)
            .fold(0u64, u64::saturating_add);
        let total_bytes = tensors
            .iter()
            .filter_map(|t| t.bytes)
            .fold(0u64, u64::saturating_add);
        Self {
            tensor_count: tensors.len() as u64,
            unsizable_tensors: tensors.iter().filter(|t| t.bytes.is_none()).count() as u64,
            tensors,
            total_elements,
            total_bytes,
        }
    }

    /// Writes the report as an aligned table followed by the totals (a split set's tables have
    /// a `shard` column; offsets are then relative to that shard's data section).
    pub fn render(&self, out: &mut dyn Write, paint: Paint) -> std::io::Result<()> {
        let unknown = || "?".to_owned();
        let split = self.tensors.iter().any(|t| t.shard.is_some());
        let rows: Vec<Vec<String>> = self
            .tensors
            .iter()
            .map(|t| {
                let dims: Vec<String> = t.shape.iter().map(u64::to_string).collect();
                let mut row = vec![
                    t.name.clone(),
                    t.ty.clone(),
                    format!("[{}]", dims.join(", ")),
                    t.elements.map_or_else(unknown, |n| n.to_string()),
                    t.bytes.map_or_else(unknown, |n| n.to_string()),
                ];
                if split {
                    row.push(t.shard.map_or_else(unknown, |n| n.to_string()));
                }
                row.push(t.offset.to_string());
                row
            })
            .collect();
        if !rows.is_empty() {
            let mut header = vec!["name", "type", "shape", "elements", "bytes"];
            if split {
                header.push("shard");
            }
            header.push("offset");
            let mut align = vec![Align::Left; 3];
            align.resize(header.len(), Align::Right);
            render::table(out, paint, "", &header, &rows, &align)?;
            writeln!(out)?;
        }
        write!(
            out,
            "{} tensors, {} elements, {} bytes ({})",
            self.tensor_count,
            self.total_elements,
            self.total_bytes,
            render::human_bytes(self.total_bytes)
        )?;
        if self.unsizable_tensors > 0 {
            write!(out, ", {} of unknown size", self.unsizable_tensors)?;
        }
        writeln!(out)
    }
}

impl TensorRow {
    fn new(t: &TensorInfo<'_>, shard: Option<u32>) -> Self {
        Self {
            name: t.name().to_owned(),
            ty: t.ggml_type().to_string(),
            shape: t.dims().to_vec(),
            elements: t.element_count().ok(),
            bytes: t.n_bytes().ok(),
            offset: t.offset(),
            shard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi3_layout_totals_match_the_preset() {
        let fixture = ggufscope_testkit::presets::phi3_mini_4k();
        let file = fixture.write_sparse_temp();
        // Through `Input`, as the commands read it (on a 32-bit target this 2.2 GB file is too
        // large to map and its head is read instead).
        let input = crate::input::Input::open(file.path()).unwrap();
        let gguf = input.parse().unwrap();
        let report = TensorsReport::new(&gguf, None);
        assert_eq!(report.tensor_count, 195);
        assert_eq!(report.total_elements, 3_821_079_552);
        assert_eq!(report.unsizable_tensors, 0);
        let qkv = &report.tensors[2];
        assert_eq!(qkv.name, "blk.0.attn_qkv.weight");
        assert_eq!(
            (qkv.ty.as_str(), qkv.shape.as_slice()),
            ("q5_K", &[3072, 9216][..])
        );
    }
}
