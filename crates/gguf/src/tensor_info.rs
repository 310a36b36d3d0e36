//! Tensor infos: name, shape (ggml `ne` order), type and offset, with checked size arithmetic.

use std::fmt;

use crate::ggml_type::{GgmlType, TypeStatus};
use crate::limits::MAX_DIMS;

/// One tensor info, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorInfo<'a> {
    pub(crate) name: &'a str,
    pub(crate) n_dims: u32,
    pub(crate) dims: [u64; MAX_DIMS as usize],
    pub(crate) ggml_type: GgmlType,
    pub(crate) offset: u64,
    pub(crate) info_offset: u64,
}

/// Why a tensor's size cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeError {
    /// The type id is not in the table.
    UnknownType {
        /// The id.
        type_id: u32,
    },
    /// The type id was removed from ggml.
    RemovedType {
        /// The id.
        type_id: u32,
    },
    /// `ne[0]` is not a multiple of the type's block size.
    NotBlockMultiple {
        /// `ne[0]`.
        ne0: u64,
        /// The type's block size.
        block_size: u64,
    },
    /// The element count or byte size does not fit in 63 bits.
    Overflow,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::UnknownType { type_id } => write!(f, "unknown ggml type {type_id}"),
            SizeError::RemovedType { type_id } => write!(f, "removed ggml type {type_id}"),
            SizeError::NotBlockMultiple { ne0, block_size } => {
                write!(
                    f,
                    "ne[0] = {ne0} is not a multiple of the block size {block_size}"
                )
            }
            SizeError::Overflow => f.write_str("shape is too large (overflows 63 bits)"),
        }
    }
}

impl<'a> TensorInfo<'a> {
    /// The tensor's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The shape in ggml order: `dims()[0]` is the contiguous dimension (`ne0`).
    pub fn dims(&self) -> &[u64] {
        self.dims
            .get(..usize::try_from(self.n_dims).unwrap_or(0))
            .unwrap_or(&[])
    }

    /// `ne[i]` for i in 0..4, with 1 for dimensions past `n_dims` (as ggml does).
    pub fn ne(&self) -> [u64; MAX_DIMS as usize] {
        self.dims
    }

    /// The ggml type.
    pub fn ggml_type(&self) -> GgmlType {
        self.ggml_type
    }

    /// Offset of the data, relative to the start of the data section.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Where this tensor info starts in the file.
    pub fn info_offset(&self) -> u64 {
        self.info_offset
    }

    /// Number of elements (the product of the dimensions), if it fits in `i64` as ggml requires.
    pub fn element_count(&self) -> Result<u64, SizeError> {
        if self.dims.contains(&0) {
            return Ok(0);
        }
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or(SizeError::Overflow)
    }

    /// Bytes of one row (`ne0` elements).
    pub fn row_bytes(&self) -> Result<u64, SizeError> {
        let t = self.ggml_type;
        let traits = match t.status() {
            TypeStatus::Live => t.live(),
            TypeStatus::Removed => return Err(SizeError::RemovedType { type_id: t.id() }),
            TypeStatus::Unknown => None,
        }
        .ok_or(SizeError::UnknownType { type_id: t.id() })?;
        let [ne0, ..] = self.dims;
        if ne0 % traits.block_size != 0 {
            return Err(SizeError::NotBlockMultiple {
                ne0,
                block_size: traits.block_size,
            });
        }
        (ne0 / traits.block_size)
            .checked_mul(traits.type_size)
            .ok_or(SizeError::Overflow)
    }

    /// Bytes of the whole tensor: `(ne0 / block) * type_size * ne1 * ne2 * ne3`, computed with
    /// checked arithmetic (no intermediate `ne0 * type_size` that could wrap).
    pub fn n_bytes(&self) -> Result<u64, SizeError> {
        let row = self.row_bytes()?;
        self.element_count()?;
        let [_, ne1, ne2, ne3] = self.dims;
        [ne1, ne2, ne3]
            .iter()
            .try_fold(row, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or(SizeError::Overflow)
    }
}
