//! Errors as the exception classes of `ggufscope._errors`: every one a `GGUFError` carrying
//! `code`, `offset`, `key`, `tensor`, `source` and `status` (the command's exit code).
//!
//! | cause | class |
//! |---|---|
//! | a format error `truncated` | `TruncatedError` (also `needed`, `available`) |
//! | a format error `bad_magic` | `NotGGUFError` |
//! | any other format error | `FormatError` |
//! | a file or server that cannot be read | `SourceError` (an `OSError`; `FileNotFoundError` for a missing file) |
//! | exit 3 (architecture unknown) | `UnsupportedArchitectureError` |
//! | exit 1 (configuration unreadable) | `ModelError` |
//! | refused arguments | `ArgumentError` |
//! | tensor data missing or of unknown size | `TensorDataError` |

use ggufscope::embed::EmbedError;
use ggufscope_gguf::{Error, ErrorKind, Location};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;

/// The key and tensor a format error names.
pub fn location(err: &Error) -> (Option<String>, Option<String>) {
    match err.location() {
        Some(Location::Key(k)) => (Some(k.clone()), None),
        Some(Location::Tensor(t)) => (None, Some(t.clone())),
        None => (None, None),
    }
}

/// Builds exception `class` of `ggufscope._errors` with `message` and these attributes.
fn build(py: Python<'_>, class: &str, message: &str, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let module = py.import("ggufscope._errors")?;
        let kwargs = PyDict::new(py);
        for (name, value) in attrs {
            kwargs.set_item(name, value)?;
        }
        let exc = module.getattr(class)?.call((message,), Some(&kwargs))?;
        Ok(PyErr::from_value(exc))
    })();
    made.unwrap_or_else(|e| e)
}

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Py<PyAny> {
    v.into_py_any(py).unwrap_or_else(|_| py.None())
}

/// The exception for a format error of `source`.
pub fn format_error(py: Python<'_>, err: &Error, source: &str) -> PyErr {
    let (key, tensor) = location(err);
    let mut attrs = vec![
        ("code", obj(py, err.kind().code())),
        ("offset", obj(py, err.offset())),
        ("key", obj(py, key)),
        ("tensor", obj(py, tensor)),
        ("source", obj(py, source)),
        ("status", obj(py, 2u8)),
    ];
    let class = match err.kind() {
        ErrorKind::Truncated { needed, available } => {
            attrs.push(("needed", obj(py, *needed)));
            attrs.push(("available", obj(py, *available)));
            "TruncatedError"
        }
        ErrorKind::BadMagic { .. } => "NotGGUFError",
        _ => "FormatError",
    };
    build(py, class, &format!("parsing {source}: {err}"), &attrs)
}

/// The exception for a failed command or read.
pub fn embed_error(py: Python<'_>, err: &EmbedError) -> PyErr {
    let (key, tensor) = err.format.as_ref().map(location).unwrap_or_default();
    let mut attrs = vec![
        ("status", obj(py, err.status)),
        ("key", obj(py, key)),
        ("tensor", obj(py, tensor)),
        ("offset", obj(py, err.format.as_ref().map(Error::offset))),
        (
            "code",
            obj(py, err.format.as_ref().map(|f| f.kind().code())),
        ),
    ];
    let class = if err.usage {
        "ArgumentError"
    } else if let Some(f) = &err.format {
        match f.kind() {
            ErrorKind::Truncated { needed, available } => {
                attrs.push(("needed", obj(py, *needed)));
                attrs.push(("available", obj(py, *available)));
                "TruncatedError"
            }
            ErrorKind::BadMagic { .. } => "NotGGUFError",
            _ => "FormatError",
        }
    } else {
        match err.status {
            3 => "UnsupportedArchitectureError",
            1 => "ModelError",
            _ if err.io == Some(std::io::ErrorKind::NotFound) => "SourceNotFoundError",
            _ => "SourceError",
        }
    };
    build(py, class, &err.message, &attrs)
}

/// The exception for a tensor whose data cannot be given.
pub fn tensor_data_error(py: Python<'_>, tensor: &str, why: &str, offset: Option<u64>) -> PyErr {
    build(
        py,
        "TensorDataError",
        &format!("tensor `{tensor}`: {why}"),
        &[
            ("code", obj(py, "tensor_data")),
            ("tensor", obj(py, tensor)),
            ("offset", obj(py, offset)),
            ("status", obj(py, 2u8)),
        ],
    )
}
