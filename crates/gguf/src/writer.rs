//! `GgufWriter`: writes GGUF files (v3 by default; v1/v2 and big-endian for tests), symmetric
//! with the reader. Tensor data streams from any reader, or is left as a hole in a sparse file.

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::ggml_type::GgmlType;
use crate::header::{Endian, MAGIC};
use crate::limits::{DEFAULT_ALIGNMENT, MAX_DIMS};
use crate::owned::OwnedValue;
use crate::tensor_info::{SizeError, TensorInfo};
use crate::value::ValueType;

/// Where a tensor's bytes come from.
pub enum TensorData<'a> {
    /// These bytes (must be exactly the tensor's size).
    Bytes(Vec<u8>),
    /// Borrowed bytes, e.g. a slice of a memory-mapped source (must be exactly the size).
    Borrowed(&'a [u8]),
    /// Streamed from a reader (must yield at least the tensor's size; the rest is not read).
    Reader(Box<dyn Read + 'a>),
    /// Zeros; with [`GgufWriter::write_sparse`] a hole that takes no disk space.
    Zeros,
}

impl std::fmt::Debug for TensorData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TensorData::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            TensorData::Borrowed(b) => write!(f, "Borrowed({} bytes)", b.len()),
            TensorData::Reader(_) => f.write_str("Reader(..)"),
            TensorData::Zeros => f.write_str("Zeros"),
        }
    }
}

/// Why writing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The sink or a data reader failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// `general.alignment` is not a `u32` power of two.
    #[error("general.alignment must be a u32 power of two")]
    BadAlignment,
    /// A tensor's size cannot be computed.
    #[error("tensor `{tensor}`: {reason}")]
    UnsizableTensor {
        /// The tensor.
        tensor: String,
        /// Why.
        reason: SizeError,
    },
    /// A tensor has more than 4 dimensions.
    #[error("tensor `{tensor}` has more than {MAX_DIMS} dimensions")]
    TooManyDims {
        /// The tensor.
        tensor: String,
    },
    /// A tensor's data has the wrong length.
    #[error("tensor `{tensor}`: expected {expected} bytes of data, got {found}")]
    DataLength {
        /// The tensor.
        tensor: String,
        /// Its size.
        expected: u64,
        /// What was given.
        found: u64,
    },
    /// An array item does not have the array's element type.
    #[error("array `{key}` holds a {found} item in an array of {expected}")]
    ArrayItemType {
        /// The key.
        key: String,
        /// The array's element type.
        expected: ValueType,
        /// The item's type.
        found: ValueType,
    },
    /// A count, length or dimension does not fit the 32 bits of a v1 file.
    #[error("{what} does not fit in a v1 file's 32-bit field")]
    TooLargeForV1 {
        /// What.
        what: &'static str,
    },
    /// Only versions 1, 2 and 3 can be written.
    #[error("cannot write GGUF version {0}")]
    UnsupportedVersion(u32),
}

struct PendingTensor<'a> {
    name: String,
    ggml_type: GgmlType,
    dims: Vec<u64>,
    data: TensorData<'a>,
}

/// Builds a GGUF file: metadata in insertion order, tensor infos, aligned data.
///
/// The alignment is the `general.alignment` entry if one is added (it must be a `u32` power of
/// two), else 32, exactly as the reader derives it.
#[derive(Default)]
pub struct GgufWriter<'a> {
    version: u32,
    endian: Endian,
    kvs: Vec<(Vec<u8>, OwnedValue)>,
    tensors: Vec<PendingTensor<'a>>,
}

impl std::fmt::Debug for GgufWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufWriter")
            .field("version", &self.version)
            .field("endian", &self.endian)
            .field("kvs", &self.kvs.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

/// The planned layout of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedTensor {
    /// Offset relative to the data section.
    pub offset: u64,
    /// Size in bytes.
    pub n_bytes: u64,
}

impl<'a> GgufWriter<'a> {
    /// A little-endian v3 writer.
    pub fn new() -> Self {
        Self {
            version: 3,
            ..Self::default()
        }
    }

    /// Sets the version (1, 2 or 3).
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Sets the byte order.
    pub fn endian(mut self, endian: Endian) -> Self {
        self.endian = endian;
        self
    }

    /// Adds a metadata entry (keys are written as given, duplicates included).
    pub fn add_kv(&mut self, key: impl AsRef<[u8]>, value: impl Into<OwnedValue>) -> &mut Self {
        self.kvs.push((key.as_ref().to_vec(), value.into()));
        self
    }

    /// Adds a tensor; `dims` are in ggml order (`ne0` first).
    pub fn add_tensor(
        &mut self,
        name: impl Into<String>,
        ggml_type: GgmlType,
        dims: &[u64],
        data: TensorData<'a>,
    ) -> &mut Self {
        self.tensors.push(PendingTensor {
            name: name.into(),
            ggml_type,
            dims: dims.to_vec(),
            data,
        });
        self
    }

    /// The alignment the file will use.
    pub fn alignment(&self) -> Result<u32, WriteError> {
        match self.kvs.iter().find(|(k, _)| k == b"general.alignment") {
            None => Ok(DEFAULT_ALIGNMENT),
            Some((_, OwnedValue::U32(a))) if a.is_power_of_two() => Ok(*a),
            Some(_) => Err(WriteError::BadAlignment),
        }
    }

    /// Offsets and sizes the tensors will get.
    pub fn plan(&self) -> Result<Vec<PlannedTensor>, WriteError> {
        let alignment = u64::from(self.alignment()?);
        let mut offset = 0u64;
        let mut out = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let n_bytes =
                info_for(t, 0)?
                    .n_bytes()
                    .map_err(|reason| WriteError::UnsizableTensor {
                        tensor: t.name.clone(),
                        reason,
                    })?;
            out.push(PlannedTensor { offset, n_bytes });
            offset = offset
                .checked_add(n_bytes)
                .and_then(|e| e.checked_next_multiple_of(alignment))
                .ok_or(WriteError::UnsizableTensor {
                    tensor: t.name.clone(),
                    reason: SizeError::Overflow,
                })?;
        }
        Ok(out)
    }

    /// Encodes header, metadata and tensor infos (everything before the padding).
    pub fn encode_head(&self) -> Result<Vec<u8>, WriteError> {
        if !(1..=3).contains(&self.version) {
            return Err(WriteError::UnsupportedVersion(self.version));
        }
        let plan = self.plan()?;
        let mut e = Encoder {
            buf: Vec::new(),
            endian: self.endian,
            wide: self.version >= 2,
        };
        e.buf.extend_from_slice(&MAGIC);
        e.u32(self.version);
        e.len(self.tensors.len() as u64, "tensor count")?;
        e.len(self.kvs.len() as u64, "metadata count")?;
        for (key, value) in &self.kvs {
            e.bytes(key, "key length")?;
            e.u32(value.value_type().id());
            e.value(key, value)?;
        }
        for (t, p) in self.tensors.iter().zip(&plan) {
            e.bytes(t.name.as_bytes(), "tensor name length")?;
            e.u32(u32::try_from(t.dims.len()).unwrap_or(u32::MAX));
            for &d in &t.dims {
                e.len(d, "dimension")?;
            }
            e.u32(t.ggml_type.id());
            e.u64(p.offset);
        }
        Ok(e.buf)
    }

    /// Writes the whole file, zeros included. Returns the number of bytes written.
    pub fn write(self, out: &mut impl Write) -> Result<u64, WriteError> {
        self.write_impl(out, |out, n| write_zeros(out, n))
    }

    /// Writes the whole file, leaving [`TensorData::Zeros`] tensors as holes (seeks over them),
    /// so that a file of many gigabytes costs almost no disk. Returns the file length.
    pub fn write_sparse<W: Write + Seek>(self, out: &mut W) -> Result<u64, WriteError> {
        self.write_impl(out, |out, n| {
            let n = i64::try_from(n).map_err(|_| io::Error::other("hole too large"))?;
            out.seek(SeekFrom::Current(n))?;
            Ok(())
        })
        .and_then(|len| {
            // A trailing hole does not extend the file: write its last byte.
            if out.seek(SeekFrom::End(0))? < len {
                out.seek(SeekFrom::Start(len - 1))?;
                out.write_all(&[0])?;
            }
            Ok(len)
        })
    }

    fn write_impl<W: Write>(
        self,
        out: &mut W,
        mut skip: impl FnMut(&mut W, u64) -> io::Result<()>,
    ) -> Result<u64, WriteError> {
        let head = self.encode_head()?;
        let plan = self.plan()?;
        let alignment = u64::from(self.alignment()?);
        out.write_all(&head)?;
        let mut pos = head.len() as u64;
        if self.tensors.is_empty() {
            return Ok(pos);
        }
        let data_start = pos.next_multiple_of(alignment);
        write_zeros(out, data_start - pos)?;
        pos = data_start;
        for (t, p) in self.tensors.into_iter().zip(plan) {
            let exact = |b: &[u8]| {
                if b.len() as u64 == p.n_bytes {
                    Ok(())
                } else {
                    Err(WriteError::DataLength {
                        tensor: t.name.clone(),
                        expected: p.n_bytes,
                        found: b.len() as u64,
                    })
                }
            };
            match t.data {
                TensorData::Bytes(b) => {
                    exact(&b)?;
                    out.write_all(&b)?;
                }
                TensorData::Borrowed(b) => {
                    exact(b)?;
                    out.write_all(b)?;
                }
                TensorData::Reader(r) => {
                    let copied = io::copy(&mut r.take(p.n_bytes), out)?;
                    if copied != p.n_bytes {
                        return Err(WriteError::DataLength {
                            tensor: t.name,
                            expected: p.n_bytes,
                            found: copied,
                        });
                    }
                }
                TensorData::Zeros => skip(out, p.n_bytes)?,
            }
            // `plan` proved offset + size (padded) fits; the data start is a header length.
            let end = data_start
                .checked_add(p.offset)
                .and_then(|s| s.checked_add(p.n_bytes))
                .and_then(|e| Some((e, e.checked_next_multiple_of(alignment)?)));
            let Some((end, padded)) = end else {
                return Err(WriteError::UnsizableTensor {
                    tensor: t.name,
                    reason: SizeError::Overflow,
                });
            };
            write_zeros(out, padded - end)?;
            pos = padded;
        }
        Ok(pos)
    }
}

fn info_for<'t>(t: &'t PendingTensor<'_>, offset: u64) -> Result<TensorInfo<'t>, WriteError> {
    if t.dims.len() > MAX_DIMS as usize {
        return Err(WriteError::TooManyDims {
            tensor: t.name.clone(),
        });
    }
    let mut dims = [1u64; MAX_DIMS as usize];
    for (slot, &d) in dims.iter_mut().zip(&t.dims) {
        *slot = d;
    }
    Ok(TensorInfo {
        name: &t.name,
        n_dims: u32::try_from(t.dims.len()).unwrap_or(0),
        dims,
        ggml_type: t.ggml_type,
        offset,
        info_offset: 0,
    })
}

fn write_zeros(out: &mut impl Write, n: u64) -> io::Result<()> {
    io::copy(&mut io::repeat(0).take(n), out).map(|_| ())
}

struct Encoder {
    buf: Vec<u8>,
    endian: Endian,
    wide: bool,
}

macro_rules! put {
    ($($name:ident: $t:ty),*) => {
        impl Encoder {
            $( fn $name(&mut self, v: $t) {
                let b = match self.endian {
                    Endian::Little => v.to_le_bytes(),
                    Endian::Big => v.to_be_bytes(),
                };
                self.buf.extend_from_slice(&b);
            } )*
        }
    };
}
put!(u16: u16, i16: i16, u32: u32, i32: i32, u64: u64, i64: i64, f32: f32, f64: f64);

impl Encoder {
    fn len(&mut self, n: u64, what: &'static str) -> Result<(), WriteError> {
        if self.wide {
            self.u64(n);
        } else {
            self.u32(u32::try_from(n).map_err(|_| WriteError::TooLargeForV1 { what })?);
        }
        Ok(())
    }

    fn bytes(&mut self, b: &[u8], what: &'static str) -> Result<(), WriteError> {
        self.len(b.len() as u64, what)?;
        self.buf.extend_from_slice(b);
        Ok(())
    }

    fn value(&mut self, key: &[u8], v: &OwnedValue) -> Result<(), WriteError> {
        match v {
            OwnedValue::U8(x) => self.buf.push(*x),
            OwnedValue::I8(x) => self.buf.extend_from_slice(&x.to_le_bytes()),
            OwnedValue::U16(x) => self.u16(*x),
            OwnedValue::I16(x) => self.i16(*x),
            OwnedValue::U32(x) => self.u32(*x),
            OwnedValue::I32(x) => self.i32(*x),
            OwnedValue::F32(x) => self.f32(*x),
            OwnedValue::Bool(x) => self.buf.push(u8::from(*x)),
            OwnedValue::String(s) => self.bytes(s, "string length")?,
            OwnedValue::U64(x) => self.u64(*x),
            OwnedValue::I64(x) => self.i64(*x),
            OwnedValue::F64(x) => self.f64(*x),
            OwnedValue::Array(a) => {
                self.u32(a.element_type.id());
                self.len(a.items.len() as u64, "array length")?;
                for item in &a.items {
                    if item.value_type() != a.element_type {
                        return Err(WriteError::ArrayItemType {
                            key: String::from_utf8_lossy(key).into_owned(),
                            expected: a.element_type,
                            found: item.value_type(),
                        });
                    }
                    self.value(key, item)?;
                }
            }
        }
        Ok(())
    }
}
