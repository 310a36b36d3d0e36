//! The limits the parser enforces before it trusts a count or a length from the file.
//!
//! The GGUF specification sets none of these; they follow llama.cpp's `gguf.cpp` where it has
//! one and are documented here so that a caller knows exactly what is refused. Independently of
//! these caps, every count is checked against the bytes that remain in the input before any
//! memory is reserved for it.

/// Largest metadata string or key accepted (1 GiB, `GGUF_MAX_STRING_LENGTH` in llama.cpp).
pub const MAX_STRING_BYTES: u64 = 1 << 30;
/// Largest key the specification allows (`2^16 - 1` bytes).
pub const MAX_KEY_BYTES: u64 = 65_535;
/// Most elements in one array (1 Gi, `GGUF_MAX_ARRAY_ELEMENTS` in llama.cpp).
pub const MAX_ARRAY_LEN: u64 = 1 << 30;
/// Deepest nesting of arrays inside arrays (the outermost array is depth 1).
pub const MAX_ARRAY_DEPTH: u32 = 16;
/// Most metadata entries in one file.
pub const MAX_KV_COUNT: u64 = 1 << 24;
/// Most tensor infos in one file.
pub const MAX_TENSOR_COUNT: u64 = 1 << 24;
/// Most dimensions of a tensor (`GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;
/// Longest tensor name the specification allows, in bytes. llama.cpp requires one byte less
/// (`GGML_MAX_NAME` = 64 including the NUL), which the layout check reports.
pub const MAX_TENSOR_NAME_BYTES: u64 = 64;
/// Longest tensor name llama.cpp loads (`GGML_MAX_NAME - 1`).
pub const LLAMA_CPP_MAX_TENSOR_NAME_BYTES: u64 = 63;
/// Most diagnostics a lenient parse keeps; further ones are only counted
/// ([`crate::Gguf::diagnostics_dropped`]), so that a file of a million bad keys cannot make the
/// report outgrow the file.
pub const MAX_DIAGNOSTICS: usize = 1024;
/// Input bytes of a key or tensor name quoted in an error; longer ones are cut.
pub const MAX_QUOTED_BYTES: usize = 256;
/// Layout findings kept per kind; the rest are counted in one `Suppressed` finding, so that
/// 400,000 overlapping tensors cannot make the report outgrow the file.
pub const MAX_FINDINGS_PER_KIND: usize = 256;
/// Alignment of the data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u32 = 32;

// Minimum encoded sizes, used to refuse a count before reserving anything for it. They are
// lower bounds for any input (an empty key or name is refused later, with its own error), so
// `Truncated { needed }` never asks for more than a file could need.

/// Smallest encoded metadata entry in v2/v3 files: key length (8), the value type (4) and a
/// one-byte value.
pub(crate) const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Smallest encoded metadata entry in v1 files (32-bit lengths).
pub(crate) const MIN_KV_BYTES_V1: u64 = 4 + 4 + 1;
/// Smallest encoded tensor info in v2/v3 files: name length (8), `n_dims` (4), no dimension,
/// type (4), offset (8).
pub(crate) const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;
/// Smallest encoded tensor info in v1 files.
pub(crate) const MIN_TENSOR_INFO_BYTES_V1: u64 = 4 + 4 + 4 + 8;
