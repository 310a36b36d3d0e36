#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod cursor;
mod error;
mod estimate;
mod file;
mod ggml_type;
mod head;
mod header;
mod layout;
pub mod limits;
mod metadata;
#[cfg(feature = "mmap")]
mod mmap;
mod owned;
mod range;
pub mod split;
mod tensor_info;
mod value;
mod writer;

pub use error::{Error, ErrorKind, KeyProblem, Limit, Location, NameProblem};
pub use estimate::{
    estimate_head_len, next_head_len, OTHER_KV_BYTES, READ_ALLOWANCE, SLACK_BYTES,
    TENSOR_INFO_BYTES,
};
pub use file::{Gguf, ParseMode, ParseOptions};
pub use ggml_type::{GgmlType, TypeStatus, TypeTraits, TYPE_TABLE};
pub use head::{read_head, Head, HeadError, HeadLimits, FIRST_HEAD_READ_BYTES};
pub use header::{Endian, Header, MAGIC};
pub use layout::{LayoutFinding, LayoutIssue, Severity};
pub use metadata::{KeyValue, Metadata};
#[cfg(feature = "mmap")]
pub use mmap::{open, Mapped};
pub use owned::{OwnedArray, OwnedValue};
#[cfg(feature = "fs")]
pub use range::LocalFile;
pub use range::RangeRead;
pub use tensor_info::{SizeError, TensorInfo};
pub use value::{Array, ArrayIter, GgufStr, Value, ValueType};
pub use writer::{GgufWriter, PlannedTensor, TensorData, WriteError};
