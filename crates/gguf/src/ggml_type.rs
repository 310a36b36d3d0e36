//! The ggml tensor types: one table with every id llama.cpp knows (block size and bytes per
//! block), removed ids named as removed, and unknown ids kept rather than failing the file.
//!
//! Source: `ggml/include/ggml.h` (`enum ggml_type`, `GGML_TYPE_COUNT` = 43 at ggml-org/ggml
//! @d99724f2) and `ggml/src/ggml.c` (`type_traits`: `type_name`, `blck_size`, `type_size`,
//! with removed ids at `blck_size` 0); block sizes from the structs in `ggml/src/ggml-common.h`.

use std::fmt;

/// A ggml tensor type id, as stored in a tensor info. Any `u32` is representable: ids outside
/// the table are [`TypeStatus::Unknown`], ids whose support was removed are
/// [`TypeStatus::Removed`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GgmlType(u32);

/// What the table says about a type id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeStatus {
    /// A type llama.cpp can load.
    Live,
    /// An id whose support was removed from ggml (block size 0 there).
    Removed,
    /// An id the table does not know.
    Unknown,
}

/// One row of the type table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeTraits {
    /// The id in the file.
    pub id: u32,
    /// ggml's `type_name` (`"q4_K"`), or the old name for removed ids.
    pub name: &'static str,
    /// Elements per block (0 for removed ids, as in ggml).
    pub block_size: u64,
    /// Bytes per block (0 for removed ids, as in ggml).
    pub type_size: u64,
    /// Live or removed.
    pub status: TypeStatus,
}

macro_rules! ggml_types {
    ($( $konst:ident = $id:literal, $name:literal, $blck:literal, $size:literal, $status:ident; )*) => {
        #[allow(missing_docs)]
        impl GgmlType {
            $( pub const $konst: GgmlType = GgmlType($id); )*
        }
        /// The table, indexed by id.
        pub const TYPE_TABLE: &[TypeTraits] = &[
            $( TypeTraits { id: $id, name: $name, block_size: $blck, type_size: $size, status: TypeStatus::$status }, )*
        ];
    };
}

ggml_types! {
    F32 = 0, "f32", 1, 4, Live;
    F16 = 1, "f16", 1, 2, Live;
    Q4_0 = 2, "q4_0", 32, 18, Live;
    Q4_1 = 3, "q4_1", 32, 20, Live;
    Q4_2 = 4, "q4_2", 0, 0, Removed;
    Q4_3 = 5, "q4_3", 0, 0, Removed;
    Q5_0 = 6, "q5_0", 32, 22, Live;
    Q5_1 = 7, "q5_1", 32, 24, Live;
    Q8_0 = 8, "q8_0", 32, 34, Live;
    Q8_1 = 9, "q8_1", 32, 36, Live;
    Q2_K = 10, "q2_K", 256, 84, Live;
    Q3_K = 11, "q3_K", 256, 110, Live;
    Q4_K = 12, "q4_K", 256, 144, Live;
    Q5_K = 13, "q5_K", 256, 176, Live;
    Q6_K = 14, "q6_K", 256, 210, Live;
    Q8_K = 15, "q8_K", 256, 292, Live;
    IQ2_XXS = 16, "iq2_xxs", 256, 66, Live;
    IQ2_XS = 17, "iq2_xs", 256, 74, Live;
    IQ3_XXS = 18, "iq3_xxs", 256, 98, Live;
    IQ1_S = 19, "iq1_s", 256, 50, Live;
    IQ4_NL = 20, "iq4_nl", 32, 18, Live;
    IQ3_S = 21, "iq3_s", 256, 110, Live;
    IQ2_S = 22, "iq2_s", 256, 82, Live;
    IQ4_XS = 23, "iq4_xs", 256, 136, Live;
    I8 = 24, "i8", 1, 1, Live;
    I16 = 25, "i16", 1, 2, Live;
    I32 = 26, "i32", 1, 4, Live;
    I64 = 27, "i64", 1, 8, Live;
    F64 = 28, "f64", 1, 8, Live;
    IQ1_M = 29, "iq1_m", 256, 56, Live;
    BF16 = 30, "bf16", 1, 2, Live;
    Q4_0_4_4 = 31, "q4_0_4_4", 0, 0, Removed;
    Q4_0_4_8 = 32, "q4_0_4_8", 0, 0, Removed;
    Q4_0_8_8 = 33, "q4_0_8_8", 0, 0, Removed;
    TQ1_0 = 34, "tq1_0", 256, 54, Live;
    TQ2_0 = 35, "tq2_0", 256, 66, Live;
    IQ4_NL_4_4 = 36, "iq4_nl_4_4", 0, 0, Removed;
    IQ4_NL_4_8 = 37, "iq4_nl_4_8", 0, 0, Removed;
    IQ4_NL_8_8 = 38, "iq4_nl_8_8", 0, 0, Removed;
    MXFP4 = 39, "mxfp4", 32, 17, Live;
    NVFP4 = 40, "nvfp4", 64, 36, Live;
    Q1_0 = 41, "q1_0", 128, 18, Live;
    Q2_0 = 42, "q2_0", 64, 18, Live;
}

impl GgmlType {
    /// The type with this id (any id is accepted; see [`GgmlType::status`]).
    pub const fn from_id(id: u32) -> Self {
        Self(id)
    }

    /// The id in the file.
    pub const fn id(self) -> u32 {
        self.0
    }

    /// The table row, for ids the table knows (live or removed).
    pub fn traits(self) -> Option<&'static TypeTraits> {
        TYPE_TABLE.get(usize::try_from(self.0).ok()?)
    }

    /// The row of a type llama.cpp can load.
    pub fn live(self) -> Option<&'static TypeTraits> {
        self.traits().filter(|t| t.status == TypeStatus::Live)
    }

    /// Live, removed or unknown.
    pub fn status(self) -> TypeStatus {
        self.traits().map_or(TypeStatus::Unknown, |t| t.status)
    }

    /// ggml's name for the type, if the table knows it.
    pub fn name(self) -> Option<&'static str> {
        self.traits().map(|t| t.name)
    }

    /// Elements per block, for live types.
    pub fn block_size(self) -> Option<u64> {
        self.live().map(|t| t.block_size)
    }

    /// Bytes per block, for live types.
    pub fn type_size(self) -> Option<u64> {
        self.live().map(|t| t.type_size)
    }

    /// Whether the type is quantized in blocks of more than one element.
    pub fn is_quantized(self) -> bool {
        self.block_size().is_some_and(|b| b > 1)
    }

    /// The live type with this ggml name (`"q4_K"`, case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        TYPE_TABLE
            .iter()
            .find(|t| t.status == TypeStatus::Live && t.name.eq_ignore_ascii_case(name))
            .map(|t| Self(t.id))
    }
}

/// `q4_K`, `q4_2 (removed)` or `unknown(99)`.
impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.traits() {
            Some(t) if t.status == TypeStatus::Live => f.write_str(t.name),
            Some(t) => write!(f, "{} (removed)", t.name),
            None => write!(f, "unknown({})", self.0),
        }
    }
}

impl fmt::Debug for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GgmlType({}: {self})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_id() {
        for (i, t) in TYPE_TABLE.iter().enumerate() {
            assert_eq!(t.id as usize, i, "{}", t.name);
            assert_eq!(GgmlType::from_id(t.id).traits(), Some(t));
        }
        // GGML_TYPE_COUNT in ggml.h @d99724f2.
        assert_eq!(TYPE_TABLE.len(), 43);
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for t in TYPE_TABLE.iter().filter(|t| t.status == TypeStatus::Live) {
            assert_eq!(GgmlType::from_name(t.name).map(GgmlType::id), Some(t.id));
            assert!(t.block_size > 0 && t.type_size > 0, "{}", t.name);
        }
    }

    #[test]
    fn removed_ids_are_the_eight_ggml_dropped() {
        let removed: Vec<u32> = TYPE_TABLE
            .iter()
            .filter(|t| t.status == TypeStatus::Removed)
            .map(|t| t.id)
            .collect();
        assert_eq!(removed, [4, 5, 31, 32, 33, 36, 37, 38]);
        assert_eq!(GgmlType::Q4_2.block_size(), None);
        assert_eq!(GgmlType::Q4_2.to_string(), "q4_2 (removed)");
    }

    #[test]
    fn unknown_ids_are_kept() {
        let t = GgmlType::from_id(1000);
        assert_eq!(t.status(), TypeStatus::Unknown);
        assert_eq!(t.id(), 1000);
        assert_eq!(t.to_string(), "unknown(1000)");
        assert_eq!(GgmlType::from_id(u32::MAX).traits(), None);
    }

    #[test]
    fn block_sizes_match_ggml_common_structs() {
        // (type, elements per block, bytes per block), from ggml-common.h.
        let cases = [
            (GgmlType::Q4_0, 32, 2 + 16),
            (GgmlType::Q8_0, 32, 2 + 32),
            (GgmlType::Q4_K, 256, 2 * 2 + 12 + 128),
            (GgmlType::Q5_K, 256, 2 * 2 + 12 + 32 + 128),
            (GgmlType::Q6_K, 256, 128 + 64 + 16 + 2),
            (GgmlType::MXFP4, 32, 1 + 16),
            (GgmlType::TQ1_0, 256, 48 + 4 + 2),
        ];
        for (t, b, s) in cases {
            assert_eq!((t.block_size(), t.type_size()), (Some(b), Some(s)), "{t}");
        }
    }
}
