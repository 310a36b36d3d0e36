//! `ggufscope._native`: the Rust core of the Python package (`python/ggufscope/`).
//!
//! A [`File`] holds a source's bytes (a local file memory-mapped, or a remote file's head) and
//! their parse, made once by the format crate. Python asks it for keys, values, tensor infos
//! and tensor data; nothing is copied until asked for. Numeric arrays and tensor data reach
//! numpy without a copy through [`View`], an object with numpy's `__array_interface__` (a
//! pointer into the bytes held, read-only) that keeps the bytes alive for as long as an array
//! uses them. The analyses (`config`, `validate`, `memory`, `report`, `compare`) run the
//! `ggufscope` command's own code ([`ggufscope::embed::run`]) and return its JSON.
//!
//! Errors become the exception classes of `ggufscope._errors` (see [`errors`]).

mod errors;
mod values;

use std::path::PathBuf;
use std::sync::Arc;

use ggufscope::embed::Bytes;
use ggufscope_gguf::{Endian, Gguf, ParseOptions, TYPE_TABLE};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::errors::{embed_error, format_error, tensor_data_error};
use crate::values::{array_typestr, key_text, value_object, Array};

/// The bytes a [`File`] reads.
#[derive(Debug)]
enum Source {
    /// As the command reads a SOURCE: mapped, or a remote head.
    Read(Bytes),
}

impl Source {
    fn as_slice(&self) -> &[u8] {
        match self {
            Source::Read(bytes) => bytes.as_slice(),
        }
    }
}

self_cell::self_cell!(
    /// A source's bytes and their parse.
    struct Parsed {
        owner: Source,
        #[covariant]
        dependent: Gguf,
    }
    impl {Debug}
);

/// What every object of one opened file shares.
#[derive(Debug)]
struct Inner {
    parsed: Parsed,
    /// The SOURCE as given (a path or a URL): analyses and remote reads use it again.
    source: String,
    remote: bool,
    /// The whole file's length (a remote file: as its server said).
    file_len: u64,
}

impl Inner {
    fn gguf(&self) -> &Gguf<'_> {
        self.parsed.borrow_dependent()
    }

    fn bytes(&self) -> &[u8] {
        self.parsed.borrow_owner().as_slice()
    }
}

/// Memory numpy reads through `__array_interface__`.
#[derive(Debug)]
enum Memory {
    /// A range of an opened file's bytes.
    File(Arc<Inner>, usize, usize),
    /// Bytes fetched for it (a remote tensor's data).
    Owned(Vec<u8>),
}

impl Memory {
    fn slice(&self) -> &[u8] {
        match self {
            Memory::File(inner, start, end) => inner.bytes().get(*start..*end).unwrap_or_default(),
            Memory::Owned(bytes) => bytes,
        }
    }
}

/// A read-only block of memory with numpy's `__array_interface__`: `numpy.asarray(view)` is an
/// array over it, without a copy, that keeps this object (and so the bytes) alive.
#[pyclass(frozen, module = "ggufscope._native")]
#[derive(Debug)]
pub struct View {
    memory: Memory,
    typestr: String,
    shape: Vec<u64>,
}

#[pymethods]
impl View {
    /// numpy's array interface (version 3): the data pointer, read-only, with its dtype and
    /// shape.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let bytes = self.memory.slice();
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("typestr", &self.typestr)?;
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("data", (bytes.as_ptr().expose_provenance(), true))?;
        Ok(d)
    }

    /// The number of bytes.
    fn __len__(&self) -> usize {
        self.memory.slice().len()
    }

    /// A copy of the bytes.
    fn tobytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.memory.slice())
    }
}

/// An opened GGUF file (see the module docs).
#[pyclass(frozen, module = "ggufscope._native")]
#[derive(Debug)]
pub struct File {
    inner: Arc<Inner>,
}

fn endian_name(endian: Endian) -> &'static str {
    match endian {
        Endian::Little => "little",
        Endian::Big => "big",
    }
}

#[pymethods]
impl File {
    /// Opens a SOURCE (a path, `http(s)://…` or `hf://OWNER/REPO/FILE[@REVISION]`) and parses
    /// its header, metadata and tensor infos; strictly (every defect an error) or leniently
    /// (recoverable defects become `diagnostics()`).
    #[staticmethod]
    #[pyo3(signature = (source, strict = false))]
    fn open(py: Python<'_>, source: PathBuf, strict: bool) -> PyResult<Self> {
        let shown = source.display().to_string();
        let remote = ggufscope::embed::is_remote(&source);
        let opened = py.detach(
            || -> Result<_, Result<ggufscope::embed::EmbedError, ggufscope_gguf::Error>> {
                let bytes = ggufscope::embed::open(&source).map_err(Ok)?;
                let file_len = bytes.file_len();
                let options = if strict {
                    ParseOptions::strict()
                } else {
                    ParseOptions::lenient()
                };
                let parsed = Parsed::try_new(Source::Read(bytes), |s| {
                    Gguf::parse_with(s.as_slice(), options)
                })
                .map_err(Err)?;
                Ok((parsed, file_len))
            },
        );
        match opened {
            Ok((parsed, file_len)) => Ok(Self {
                inner: Arc::new(Inner {
                    parsed,
                    source: shown,
                    remote,
                    file_len,
                }),
            }),
            Err(Ok(err)) => Err(embed_error(py, &err)),
            Err(Err(err)) => Err(format_error(py, &err, &shown)),
        }
    }

    /// The SOURCE as given.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }

    /// Whether the bytes came over HTTP (only the head is held).
    #[getter]
    fn remote(&self) -> bool {
        self.inner.remote
    }

    /// GGUF version (1, 2 or 3).
    #[getter]
    fn version(&self) -> u32 {
        self.inner.gguf().version()
    }

    /// `"little"` or `"big"`.
    #[getter]
    fn endian(&self) -> &'static str {
        endian_name(self.inner.gguf().endian())
    }

    /// `general.alignment` (32 when absent).
    #[getter]
    fn alignment(&self) -> u32 {
        self.inner.gguf().alignment()
    }

    /// Absolute offset of the tensor data section.
    #[getter]
    fn data_offset(&self) -> u64 {
        self.inner.gguf().data_offset()
    }

    /// Offset just past the last metadata entry.
    #[getter]
    fn metadata_end(&self) -> u64 {
        self.inner.gguf().metadata_end()
    }

    /// Offset just past the last tensor info.
    #[getter]
    fn tensor_infos_end(&self) -> u64 {
        self.inner.gguf().tensor_infos_end()
    }

    /// The whole file's length in bytes.
    #[getter]
    fn file_size(&self) -> u64 {
        self.inner.file_len
    }

    /// The bytes held (the whole file when local, the head when remote).
    #[getter]
    fn held(&self) -> usize {
        self.inner.bytes().len()
    }

    /// Every metadata key, in file order (a key that is not UTF-8 is decoded with
    /// `surrogateescape`).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = self
            .inner
            .gguf()
            .metadata()
            .entries()
            .iter()
            .map(|kv| key_text(py, kv.key().as_bytes()))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, keys)
    }

    /// Entry `index`: `(value_type, element_type or None, offset)`; `element_type` is the
    /// innermost element type of an array.
    fn entry_info(&self, index: usize) -> PyResult<(&'static str, Option<&'static str>, u64)> {
        let kv = self
            .inner
            .gguf()
            .metadata()
            .entries()
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(index))?;
        let value = kv.value();
        let mut element = None;
        let mut inner = value.as_array();
        while let Some(a) = inner {
            element = Some(a.element_type().name());
            inner = a.get(0).and_then(|v| v.as_array());
        }
        Ok((value.value_type().name(), element, kv.offset()))
    }

    /// The value of entry `index`: a Python scalar, a `str`, or an [`Array`].
    fn value(&self, py: Python<'_>, index: usize) -> PyResult<Py<PyAny>> {
        let kv = self
            .inner
            .gguf()
            .metadata()
            .entries()
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(index))?;
        value_object(py, kv.value(), || Array::top(&self.inner, index))
    }

    /// The number of tensor infos.
    fn tensor_count(&self) -> usize {
        self.inner.gguf().tensors().len()
    }

    /// Every tensor info: `(name, type_id, type_name or None, dims (ne order), relative
    /// offset, n_bytes or None, n_elements or None, info_offset)`.
    #[allow(clippy::type_complexity)]
    fn tensor_infos(
        &self,
    ) -> Vec<(
        String,
        u32,
        Option<&'static str>,
        Vec<u64>,
        u64,
        Option<u64>,
        Option<u64>,
        u64,
    )> {
        self.inner
            .gguf()
            .tensors()
            .iter()
            .map(|t| {
                (
                    t.name().to_owned(),
                    t.ggml_type().id(),
                    t.ggml_type().name(),
                    t.dims().to_vec(),
                    t.offset(),
                    t.n_bytes().ok(),
                    t.element_count().ok(),
                    t.info_offset(),
                )
            })
            .collect()
    }

    /// Tensor `index`'s data as a [`View`] with this numpy `typestr` and shape (the caller
    /// checks that they cover exactly the tensor's bytes). A local file's data is a view of the
    /// mapping; a remote file's is fetched (one range request). Data outside the file, or of a
    /// type whose size is unknown, is a `TensorDataError`.
    fn tensor_view(
        &self,
        py: Python<'_>,
        index: usize,
        typestr: String,
        shape: Vec<u64>,
    ) -> PyResult<View> {
        let gguf = self.inner.gguf();
        let t = gguf
            .tensors()
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(index))?;
        let name = t.name().to_owned();
        let n_bytes = t
            .n_bytes()
            .map_err(|e| tensor_data_error(py, &name, &e.to_string(), None))?;
        let start = gguf.data_offset().checked_add(t.offset());
        let end = start.and_then(|s| s.checked_add(n_bytes));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(tensor_data_error(py, &name, "its offset overflows", None));
        };
        if end > self.inner.file_len {
            return Err(tensor_data_error(
                py,
                &name,
                &format!(
                    "its data (bytes {start}..{end}) lies past the end of the file ({} bytes)",
                    self.inner.file_len
                ),
                Some(start),
            ));
        }
        let memory = if self.inner.remote {
            let source = PathBuf::from(&self.inner.source);
            let bytes = py
                .detach(|| ggufscope::embed::fetch_range(&source, start, n_bytes))
                .map_err(|e| embed_error(py, &e))?;
            Memory::Owned(bytes)
        } else {
            let (Ok(s), Ok(e)) = (usize::try_from(start), usize::try_from(end)) else {
                return Err(tensor_data_error(
                    py,
                    &name,
                    "its data is out of reach",
                    None,
                ));
            };
            Memory::File(Arc::clone(&self.inner), s, e)
        };
        Ok(View {
            memory,
            typestr,
            shape,
        })
    }

    /// Bytes `start..start+len` of the bytes held, as a `uint8` [`View`] (what gguf-py's
    /// field parts are made of).
    fn bytes_view(&self, start: usize, len: usize) -> PyResult<View> {
        let end = start
            .checked_add(len)
            .filter(|&end| end <= self.inner.bytes().len())
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err((start, len)))?;
        Ok(View {
            memory: Memory::File(Arc::clone(&self.inner), start, end),
            typestr: "|u1".to_owned(),
            shape: vec![len as u64],
        })
    }

    /// The lenient parse's diagnostics: `(code, message, offset, key or None, tensor or
    /// None)`.
    #[allow(clippy::type_complexity)]
    fn diagnostics(&self) -> Vec<(&'static str, String, u64, Option<String>, Option<String>)> {
        self.inner
            .gguf()
            .diagnostics()
            .iter()
            .map(|e| {
                let (key, tensor) = errors::location(e);
                (e.kind().code(), e.to_string(), e.offset(), key, tensor)
            })
            .collect()
    }
}

/// Runs `ggufscope ARGS…` and returns `(status, stdout bytes)`; a failure raises the
/// exception its status and cause call for.
#[pyfunction]
fn run(py: Python<'_>, args: Vec<String>) -> PyResult<(u8, Py<PyBytes>)> {
    let out = py
        .detach(|| ggufscope::embed::run(args))
        .map_err(|e| embed_error(py, &e))?;
    Ok((out.status, PyBytes::new(py, &out.stdout).unbind()))
}

/// ggml's type table: `(id, name, block_size, type_size, live)` for every id llama.cpp knows.
#[pyfunction]
fn ggml_types() -> Vec<(u32, &'static str, u64, u64, bool)> {
    TYPE_TABLE
        .iter()
        .map(|t| {
            (
                t.id,
                t.name,
                t.block_size,
                t.type_size,
                t.status == ggufscope_gguf::TypeStatus::Live,
            )
        })
        .collect()
}

/// numpy's `typestr` for a metadata element type in this byte order (`None` for strings and
/// arrays).
#[pyfunction]
fn typestr(value_type: &str, big_endian: bool) -> Option<String> {
    array_typestr(value_type, big_endian)
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<File>()?;
    m.add_class::<Array>()?;
    m.add_class::<View>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(ggml_types, m)?)?;
    m.add_function(wrap_pyfunction!(typestr, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
