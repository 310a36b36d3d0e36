//! Errors of the format layer: every one has a kind with structured fields, the byte offset
//! where it was detected and, when known, the key or tensor it belongs to.

use std::fmt;

use crate::value::ValueType;

/// A located, typed error from parsing or reading a GGUF file.
///
/// The kind is boxed so that `Result<T, Error>` stays one word wide on the happy path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    offset: u64,
    location: Option<Location>,
}

/// The metadata key or tensor an error belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The metadata entry with this key (escaped if it is not valid UTF-8).
    Key(String),
    /// The tensor info with this name.
    Tensor(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, offset: u64) -> Self {
        Self(Box::new(Inner {
            kind,
            offset,
            location: None,
        }))
    }

    /// Attaches the key or tensor the error belongs to (the innermost one wins).
    pub(crate) fn at(mut self, location: impl FnOnce() -> Location) -> Self {
        self.locate(location);
        self
    }

    /// In place: attaches the location unless one is already set.
    pub(crate) fn locate(&mut self, location: impl FnOnce() -> Location) {
        if self.0.location.is_none() {
            self.0.location = Some(location());
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Byte offset in the input where the defect was detected.
    pub fn offset(&self) -> u64 {
        self.0.offset
    }

    /// The key or tensor the defect belongs to, when known.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// For [`ErrorKind::Truncated`]: the total number of input bytes the parser needs to go on.
    pub fn needed(&self) -> Option<u64> {
        match self.0.kind {
            ErrorKind::Truncated { needed, .. } => Some(needed),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.0.kind, self.0.offset)?;
        match &self.0.location {
            Some(Location::Key(k)) => write!(f, " (key `{k}`)"),
            Some(Location::Tensor(t)) => write!(f, " (tensor `{t}`)"),
            None => Ok(()),
        }
    }
}

/// The kind is part of the message, not a separate cause (so `{:#}` shows it once).
impl std::error::Error for Error {}

/// A limit the parser enforces before it trusts a count or length from the file
/// (see [`crate::limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Number of tensor infos.
    TensorCount,
    /// Number of metadata entries.
    KvCount,
    /// Length of one string.
    StringBytes,
    /// Number of elements in one array.
    ArrayLen,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::TensorCount => "tensor count",
            Limit::KvCount => "metadata entry count",
            Limit::StringBytes => "string length",
            Limit::ArrayLen => "array length",
        })
    }
}

/// Why a metadata key is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
    /// The key contains a NUL byte (it could shadow another key in C readers).
    #[error("it contains a NUL byte")]
    Nul,
    /// The key contains a byte that is not ASCII.
    #[error("it is not ASCII")]
    NotAscii,
    /// The key is longer than the 65,535 bytes the specification allows.
    #[error("it is longer than 65535 bytes")]
    TooLong,
    /// The key is not `lower_snake_case` segments joined by `.`.
    #[error("it is not lower_snake_case segments joined by dots")]
    Syntax,
}

/// Why a tensor name is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name contains a NUL byte.
    #[error("it contains a NUL byte")]
    Nul,
    /// The name is not valid UTF-8.
    #[error("it is not UTF-8")]
    NotUtf8,
}

/// What is wrong. Every variant carries structured fields, never a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends before the structure it declares: `needed` bytes in total are required to
    /// go on (a lower bound; a reader holding a prefix can fetch that much and retry).
    #[error("input is truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Total input length needed to make progress (saturates at `u64::MAX`).
        needed: u64,
        /// Input length available.
        available: u64,
    },
    /// The first four bytes are not `GGUF`.
    #[error("not a GGUF file: magic bytes are \"{}\"", escape(found))]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The version is not 1, 2 or 3 (in either byte order).
    #[error("unsupported GGUF version {version}")]
    UnsupportedVersion {
        /// The version as read in little-endian order.
        version: u32,
    },
    /// A count or length from the file is above a documented limit.
    #[error("{what} {value} exceeds the limit of {max}")]
    LimitExceeded {
        /// Which limit.
        what: Limit,
        /// The value in the file.
        value: u64,
        /// The limit.
        max: u64,
    },
    /// A value type id outside 0..=12.
    #[error("invalid value type id {type_id}")]
    InvalidValueType {
        /// The id found.
        type_id: u32,
    },
    /// A bool that is neither 0 nor 1.
    #[error("invalid bool byte {value:#04x}")]
    InvalidBool {
        /// The byte found.
        value: u8,
    },
    /// A metadata key of length zero.
    #[error("empty metadata key")]
    EmptyKey,
    /// A metadata key that breaks the specification's rules.
    #[error("invalid metadata key `{key}`: {reason}")]
    InvalidKey {
        /// The key, escaped.
        key: String,
        /// What is wrong with it.
        reason: KeyProblem,
    },
    /// The same key appears twice.
    #[error("duplicate metadata key `{key}` (first at byte {first_offset})")]
    DuplicateKey {
        /// The key, escaped.
        key: String,
        /// Where the first occurrence starts.
        first_offset: u64,
    },
    /// Arrays nested deeper than [`crate::limits::MAX_ARRAY_DEPTH`].
    #[error("arrays nested {depth} deep (limit {max})")]
    NestingTooDeep {
        /// Depth reached.
        depth: u32,
        /// The limit.
        max: u32,
    },
    /// `general.alignment` is zero or not a power of two.
    #[error("general.alignment {value} is not a power of two")]
    BadAlignment {
        /// The value found.
        value: u32,
    },
    /// `general.alignment` is not stored as a `u32`.
    #[error("general.alignment has type {found}, expected u32")]
    AlignmentWrongType {
        /// The type found.
        found: ValueType,
    },
    /// A tensor name that is empty, not UTF-8 or contains NUL.
    #[error("invalid tensor name `{name}`: {reason}")]
    InvalidTensorName {
        /// The name, escaped.
        name: String,
        /// What is wrong with it.
        reason: NameProblem,
    },
    /// A tensor name longer than the 64 bytes the specification allows.
    #[error("tensor name of {len} bytes exceeds {max}")]
    TensorNameTooLong {
        /// Length found.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The same tensor name appears twice.
    #[error("duplicate tensor name `{name}` (first at byte {first_offset})")]
    DuplicateTensorName {
        /// The name.
        name: String,
        /// Where the first tensor info starts.
        first_offset: u64,
    },
    /// More dimensions than ggml supports (4).
    #[error("tensor has {n_dims} dimensions (at most {max})")]
    TooManyDims {
        /// The count found.
        n_dims: u32,
        /// The limit.
        max: u32,
    },
    /// A dimension at or above 2^63 (negative as ggml's int64).
    #[error("dimension {index} is {value}, above i64::MAX")]
    InvalidDim {
        /// Which dimension.
        index: u32,
        /// The value found.
        value: u64,
    },
    /// A typed accessor found a value of another type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// What the caller asked for.
        expected: &'static str,
        /// The type in the file.
        found: ValueType,
    },
    /// A typed accessor found a value that does not fit the requested type.
    #[error("value {value} does not fit in {expected}")]
    OutOfRange {
        /// What the caller asked for.
        expected: &'static str,
        /// The value, as text.
        value: String,
    },
    /// A string value asked for as text is not valid UTF-8.
    #[error("string is not valid UTF-8 (valid up to byte {valid_up_to} of the string)")]
    InvalidUtf8 {
        /// Length of the valid prefix.
        valid_up_to: u64,
    },
}

impl ErrorKind {
    /// A stable machine-readable code (`truncated`, `bad_magic`…).
    pub fn code(&self) -> &'static str {
        match self {
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
        }
    }
}

/// Escapes arbitrary bytes for display (`\xNN` for anything not printable ASCII).
///
/// Keys and names quoted in errors are cut after [`crate::limits::MAX_QUOTED_BYTES`] input
/// bytes (marked with `…`), so that an error never grows with a hostile megabyte-long key.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let max = crate::limits::MAX_QUOTED_BYTES;
    match bytes.get(..max) {
        Some(head) if bytes.len() > max => format!("{}…", head.escape_ascii()),
        _ => bytes.escape_ascii().to_string(),
    }
}
