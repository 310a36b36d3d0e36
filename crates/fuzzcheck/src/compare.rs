//! Equality that the oracles need: values compared bit for bit (a NaN written is the NaN read),
//! and an owned snapshot of a parsed file to compare with what was written.

use ggufscope_gguf::{Endian, GgmlType, Gguf, OwnedValue};

/// Whether two owned values are identical, floats compared by their bits.
pub(crate) fn same_value(a: &OwnedValue, b: &OwnedValue) -> bool {
    match (a, b) {
        (OwnedValue::F32(x), OwnedValue::F32(y)) => x.to_bits() == y.to_bits(),
        (OwnedValue::F64(x), OwnedValue::F64(y)) => x.to_bits() == y.to_bits(),
        (OwnedValue::Array(x), OwnedValue::Array(y)) => {
            x.element_type == y.element_type
                && x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| same_value(p, q))
        }
        _ => a == b,
    }
}

/// One tensor of a [`Model`]: name, type, shape (ggml order) and data bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelTensor {
    pub(crate) name: String,
    pub(crate) ggml_type: GgmlType,
    pub(crate) dims: Vec<u64>,
    pub(crate) data: Vec<u8>,
}

/// What a GGUF file holds, owned: the thing a round trip must preserve.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) version: u32,
    pub(crate) endian: Endian,
    pub(crate) kvs: Vec<(Vec<u8>, OwnedValue)>,
    pub(crate) tensors: Vec<ModelTensor>,
}

impl Model {
    /// The model a parsed file holds; `None` if a tensor's data is not in the input.
    pub(crate) fn from_gguf(g: &Gguf<'_>) -> Option<Self> {
        let kvs = g
            .metadata()
            .iter()
            .map(|kv| (kv.key().as_bytes().to_vec(), kv.value().to_owned_value()))
            .collect();
        let tensors = g
            .tensors()
            .iter()
            .map(|t| {
                Some(ModelTensor {
                    name: t.name().to_string(),
                    ggml_type: t.ggml_type(),
                    dims: t.dims().to_vec(),
                    data: g.tensor_data(t)?.to_vec(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            version: g.version(),
            endian: g.endian(),
            kvs,
            tensors,
        })
    }

    /// Field-by-field equality, floats by their bits. Returns what differs first.
    pub(crate) fn diff(&self, other: &Self) -> Option<String> {
        if (self.version, self.endian) != (other.version, other.endian) {
            return Some(format!(
                "header v{} {:?} vs v{} {:?}",
                self.version, self.endian, other.version, other.endian
            ));
        }
        if self.kvs.len() != other.kvs.len() {
            return Some(format!("{} entries vs {}", self.kvs.len(), other.kvs.len()));
        }
        for (i, ((ka, va), (kb, vb))) in self.kvs.iter().zip(&other.kvs).enumerate() {
            if ka != kb || !same_value(va, vb) {
                return Some(format!("entry {i}: {ka:?} = {va:?} vs {kb:?} = {vb:?}"));
            }
        }
        if self.tensors.len() != other.tensors.len() {
            return Some(format!(
                "{} tensors vs {}",
                self.tensors.len(),
                other.tensors.len()
            ));
        }
        for (i, (a, b)) in self.tensors.iter().zip(&other.tensors).enumerate() {
            if a != b {
                return Some(format!(
                    "tensor {i}: {} {} {:?} ({} bytes) vs {} {} {:?} ({} bytes)",
                    a.name,
                    a.ggml_type,
                    a.dims,
                    a.data.len(),
                    b.name,
                    b.ggml_type,
                    b.dims,
                    b.data.len()
                ));
            }
        }
        None
    }
}
