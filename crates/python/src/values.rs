//! Metadata values as Python objects: scalars become `int`/`float`/`bool`/`str`, arrays an
//! [`Array`] decoded on access (a fixed-size one also as a `View` numpy reads in place).

use std::sync::{Arc, OnceLock};

use ggufscope_gguf::{Value, ValueType};
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySlice, PyString};

use crate::{Inner, Memory, View};

/// Text of a GGUF string: UTF-8 as is, anything else decoded with `surrogateescape` (so
/// `s.encode("utf-8", "surrogateescape")` gives back the bytes in the file).
pub fn key_text<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) => PyBytes::new(py, bytes).call_method1("decode", ("utf-8", "surrogateescape")),
    }
}

/// numpy's `typestr` for a fixed-size element type.
pub fn array_typestr(value_type: &str, big_endian: bool) -> Option<String> {
    let order = if big_endian { '>' } else { '<' };
    let code = match value_type {
        "u8" => return Some("|u1".to_owned()),
        "i8" => return Some("|i1".to_owned()),
        "bool" => return Some("|b1".to_owned()),
        "u16" => "u2",
        "i16" => "i2",
        "u32" => "u4",
        "i32" => "i4",
        "f32" => "f4",
        "u64" => "u8",
        "i64" => "i8",
        "f64" => "f8",
        _ => return None,
    };
    Some(format!("{order}{code}"))
}

/// A value as a Python object; `array` makes the [`Array`] for an array value.
pub(crate) fn value_object(
    py: Python<'_>,
    value: Value<'_>,
    array: impl FnOnce() -> Array,
) -> PyResult<Py<PyAny>> {
    Ok(match value {
        Value::U8(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::I8(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::U16(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::I16(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::U32(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::I32(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::U64(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::I64(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::F32(v) => f64::from(v).into_pyobject(py)?.into_any().unbind(),
        Value::F64(v) => v.into_pyobject(py)?.into_any().unbind(),
        Value::Bool(v) => v.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::String(s) => key_text(py, s.as_bytes())?.unbind(),
        Value::Array(_) => Py::new(py, array())?.into_any(),
    })
}

/// An array value, decoded on access: `len()`, indexing and slicing (strings by a position
/// index built on first use), `tolist()`, and `view()` (the elements in place, for numpy)
/// when the elements have a fixed size.
#[pyclass(frozen, module = "ggufscope._native")]
#[derive(Debug)]
pub struct Array {
    inner: Arc<Inner>,
    /// The metadata entry.
    entry: usize,
    /// Indices into nested arrays, from the entry's array down to this one.
    path: Vec<u64>,
    /// Where each string element lies in the bytes held (strings only, built on first use).
    strings: OnceLock<Vec<(usize, usize)>>,
}

impl Array {
    /// The array of metadata entry `entry`.
    pub(crate) fn top(inner: &Arc<Inner>, entry: usize) -> Self {
        Self {
            inner: Arc::clone(inner),
            entry,
            path: Vec::new(),
            strings: OnceLock::new(),
        }
    }

    fn array(&self) -> PyResult<ggufscope_gguf::Array<'_>> {
        let lost = || PyIndexError::new_err("array element out of range");
        let kv = self
            .inner
            .gguf()
            .metadata()
            .entries()
            .get(self.entry)
            .ok_or_else(lost)?;
        let mut a = kv.value().as_array().ok_or_else(lost)?;
        for &i in &self.path {
            a = a.get(i).and_then(|v| v.as_array()).ok_or_else(lost)?;
        }
        Ok(a)
    }

    fn string_spans(&self) -> PyResult<&[(usize, usize)]> {
        if let Some(spans) = self.strings.get() {
            return Ok(spans);
        }
        let base = self.inner.bytes().as_ptr().addr();
        let spans = self
            .array()?
            .strings()
            .map(|it| {
                it.map(|s| {
                    let start = s.as_bytes().as_ptr().addr().saturating_sub(base);
                    (start, start.saturating_add(s.len()))
                })
                .collect()
            })
            .unwrap_or_default();
        Ok(self.strings.get_or_init(|| spans))
    }

    fn element(&self, py: Python<'_>, index: u64) -> PyResult<Py<PyAny>> {
        let a = self.array()?;
        if a.element_type() == ValueType::String {
            let spans = self.string_spans()?;
            let (s, e) = usize::try_from(index)
                .ok()
                .and_then(|i| spans.get(i))
                .copied()
                .ok_or_else(|| PyIndexError::new_err(index))?;
            let bytes = self.inner.bytes().get(s..e).unwrap_or_default();
            return Ok(key_text(py, bytes)?.unbind());
        }
        let value = a.get(index).ok_or_else(|| PyIndexError::new_err(index))?;
        value_object(py, value, || {
            let mut path = self.path.clone();
            path.push(index);
            Array {
                inner: Arc::clone(&self.inner),
                entry: self.entry,
                path,
                strings: OnceLock::new(),
            }
        })
    }

    fn range(&self, py: Python<'_>, start: i64, stop: i64, step: i64) -> PyResult<Vec<Py<PyAny>>> {
        let a = self.array()?;
        let mut out = Vec::new();
        if a.element_type() == ValueType::String && step == 1 {
            // One pass over the elements asked for.
            let bytes = self.inner.bytes();
            let spans = self.string_spans()?;
            let s = usize::try_from(start).unwrap_or(0);
            let e = usize::try_from(stop).unwrap_or(0).min(spans.len());
            for &(from, to) in spans.get(s..e.max(s)).unwrap_or_default() {
                out.push(key_text(py, bytes.get(from..to).unwrap_or_default())?.unbind());
            }
            return Ok(out);
        }
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            let index = u64::try_from(i).map_err(|_| PyIndexError::new_err("negative index"))?;
            out.push(self.element(py, index)?);
            i = i.saturating_add(step);
        }
        Ok(out)
    }
}

#[pymethods]
impl Array {
    /// The number of elements.
    fn __len__(&self) -> PyResult<usize> {
        usize::try_from(self.array()?.len()).map_err(|_| PyIndexError::new_err("too long"))
    }

    /// The elements' type (`u32`, `string`, `array`…).
    #[getter]
    fn element_type(&self) -> PyResult<&'static str> {
        Ok(self.array()?.element_type().name())
    }

    /// Byte offset of the first element in the file.
    #[getter]
    fn offset(&self) -> PyResult<u64> {
        Ok(self.array()?.offset())
    }

    /// Byte length of the elements in the file.
    #[getter]
    fn byte_len(&self) -> PyResult<u64> {
        Ok(self.array()?.byte_len())
    }

    /// Element `index` (negative counts from the end), or a list for a slice.
    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let len = self.array()?.len();
        let n = i64::try_from(len).map_err(|_| PyIndexError::new_err("too long"))?;
        if let Ok(slice) = index.cast::<PySlice>() {
            let ind = slice.indices(isize::try_from(n).unwrap_or(isize::MAX))?;
            let items = self.range(py, ind.start as i64, ind.stop as i64, ind.step as i64)?;
            return Ok(PyList::new(py, items)?.into_any().unbind());
        }
        let i: i64 = index
            .extract()
            .map_err(|_| PyTypeError::new_err("array indices must be integers or slices"))?;
        let i = if i < 0 { i + n } else { i };
        let i = u64::try_from(i)
            .ok()
            .filter(|&i| i < len)
            .ok_or_else(|| PyIndexError::new_err("array index out of range"))?;
        self.element(py, i)
    }

    /// Every element, as a list.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let len = self.array()?.len();
        PyList::new(
            py,
            self.range(py, 0, i64::try_from(len).unwrap_or(i64::MAX), 1)?,
        )
    }

    /// The elements in place, for numpy (`numpy.asarray(array.view())`), when they have a
    /// fixed size; `None` for strings and nested arrays.
    fn view(&self) -> PyResult<Option<View>> {
        let a = self.array()?;
        let big = self.inner.gguf().endian() == ggufscope_gguf::Endian::Big;
        let Some(typestr) = array_typestr(a.element_type().name(), big) else {
            return Ok(None);
        };
        let start = usize::try_from(a.offset()).map_err(|_| PyIndexError::new_err("offset"))?;
        let end = usize::try_from(a.byte_len())
            .ok()
            .and_then(|l| start.checked_add(l))
            .ok_or_else(|| PyIndexError::new_err("length"))?;
        Ok(Some(View {
            memory: Memory::File(Arc::clone(&self.inner), start, end),
            typestr,
            shape: vec![a.len()],
        }))
    }
}
