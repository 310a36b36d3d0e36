//! `ArchError`: what stops the model layer from understanding a file. Every variant names the
//! key, tensor or numbers involved.

use ggufscope_gguf::ValueType;

/// Why a configuration cannot be extracted or viewed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchError {
    /// `general.architecture` is missing.
    #[error("the file has no general.architecture key")]
    NoArchitecture,
    /// The architecture has no Llama-shaped spec (the `ModelConfig`, compat, report and
    /// memory paths need one); the message says whether the architecture table holds it.
    #[error("{}", unsupported_message(architecture, supported))]
    Unsupported {
        /// The architecture in the file.
        architecture: String,
        /// Those ggufscope knows.
        supported: Vec<&'static str>,
    },
    /// A required key is absent.
    #[error("required key `{key}` is missing")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// A key has the wrong type.
    #[error("key `{key}` has type {found}, expected {expected}")]
    KeyType {
        /// The key.
        key: String,
        /// What was expected.
        expected: &'static str,
        /// What the file has.
        found: ValueType,
    },
    /// A key's value does not fit or makes no sense.
    #[error("key `{key}` has value {value}, expected {expected}")]
    KeyValue {
        /// The key.
        key: String,
        /// The value, as text.
        value: String,
        /// What is acceptable.
        expected: &'static str,
    },
    /// The hyper-parameters contradict each other.
    #[error("inconsistent configuration: {0}")]
    Inconsistent(Inconsistency),
    /// A typed view was asked of a configuration of another architecture.
    #[error("{view} needs architecture {expected}, the file is `{found}`")]
    WrongArchitecture {
        /// The view (`Phi3Config`).
        view: &'static str,
        /// The architecture it needs.
        expected: &'static str,
        /// The architecture of the configuration.
        found: String,
    },
    /// A format-level error reading the metadata.
    #[error(transparent)]
    Format(#[from] ggufscope_gguf::Error),
}

/// Hyper-parameters that contradict each other, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Inconsistency {
    /// llama.cpp's hyper-parameter code throws on this file (run by the architecture table).
    #[error("llama.cpp refuses the file: {message} (llama.cpp {at})")]
    Refused {
        /// What llama.cpp says.
        message: String,
        /// Its source file and line.
        at: String,
    },
    /// A count that must be positive is zero.
    #[error("{what} is 0")]
    Zero {
        /// Which count.
        what: &'static str,
    },
    /// `block_count` above llama.cpp's `LLAMA_MAX_LAYERS`.
    #[error("block_count {block_count} exceeds {max}")]
    TooManyLayers {
        /// The value.
        block_count: u64,
        /// The limit.
        max: u64,
    },
    /// The KV heads do not divide the query heads.
    #[error("{heads} attention heads are not a multiple of {kv_heads} KV heads (layer {layer})")]
    HeadsDoNotDivide {
        /// Query heads.
        heads: u64,
        /// KV heads.
        kv_heads: u64,
        /// The layer.
        layer: u64,
    },
    /// Without `attention.key_length`, the head dimension is `embedding / heads`, which must
    /// divide.
    #[error("embedding length {width} is not a multiple of {heads} heads")]
    WidthNotDivisible {
        /// `embedding_length`.
        width: u64,
        /// `head_count`.
        heads: u64,
    },
    /// This architecture's Q is `n_embd` wide, so `head_dim · heads` must equal it.
    #[error("head_dim {head_dim} x {heads} heads = {product}, but embedding length is {width}")]
    HeadDimTimesHeads {
        /// Head dimension.
        head_dim: u64,
        /// Heads.
        heads: u64,
        /// Their product.
        product: u64,
        /// `embedding_length`.
        width: u64,
    },
    /// `rope.dimension_count` larger than the head.
    #[error("rope dimension count {n_rot} exceeds head_dim {head_dim}")]
    RotExceedsHead {
        /// `rope.dimension_count`.
        n_rot: u64,
        /// Head dimension.
        head_dim: u64,
    },
    /// `llama` requires `rope.dimension_count == head_dim` (`invalid n_rot`).
    #[error("rope dimension count {n_rot} must equal head_dim {head_dim} for this architecture")]
    RotNotHeadDim {
        /// `rope.dimension_count`.
        n_rot: u64,
        /// Head dimension.
        head_dim: u64,
    },
    /// A per-layer array of the wrong length.
    #[error("`{key}` has {len} entries for {block_count} layers")]
    PerLayerLength {
        /// The key.
        key: String,
        /// Its length.
        len: u64,
        /// `block_count`.
        block_count: u64,
    },
}

impl ArchError {
    /// Turns a format error of a typed getter into a located model error.
    pub(crate) fn from_getter(key: &str, err: ggufscope_gguf::Error) -> Self {
        use ggufscope_gguf::ErrorKind;
        match err.kind() {
            ErrorKind::TypeMismatch { expected, found } => ArchError::KeyType {
                key: key.to_string(),
                expected,
                found: *found,
            },
            ErrorKind::OutOfRange { expected, value } => ArchError::KeyValue {
                key: key.to_string(),
                value: value.clone(),
                expected,
            },
            _ => ArchError::Format(err),
        }
    }
}

/// The message of [`ArchError::Unsupported`]: the table's llama.cpp version and size, not a
/// list of 152 names.
fn unsupported_message(architecture: &str, supported: &[&'static str]) -> String {
    let t = crate::table::table();
    let table = format!(
        "the architecture table (llama.cpp {}, {} architectures)",
        t.version,
        t.architectures().len()
    );
    if t.holds(architecture) {
        format!(
            "architecture `{architecture}` is in {table}, which gives its config, validation and expected layout; this command needs one of the Llama-shaped specs read from it ({})",
            supported.join(", ")
        )
    } else {
        format!("unsupported architecture `{architecture}`: not in {table}")
    }
}
