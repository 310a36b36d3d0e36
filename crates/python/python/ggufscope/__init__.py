"""ggufscope: a fast GGUF reader with a Rust core.

>>> import ggufscope
>>> f = ggufscope.open("model.gguf")            # or "https://…/model.gguf", "hf://owner/repo/file.gguf"
>>> f.metadata["general.architecture"]
'llama'
>>> f.metadata["tokenizer.ggml.scores"]          # a numpy array over the file's bytes, no copy
>>> f.tensors[0].name, f.tensors[0].ggml_type, f.tensors[0].shape
>>> f.tensors[0].numpy()                         # a read-only view of the mapped file
>>> f.config()["block_count"]                    # what llama.cpp reads from the file

Opening parses the header, metadata and tensor infos once, in Rust; values are decoded when
they are asked for. ``GGUFReader`` is a drop-in for gguf-py's reader (see its docstring for what
differs). The analyses (``config``, ``validate``, ``memory``, ``report``, ``compare``) are the
``ggufscope`` command's, returned as the dicts its ``--json`` prints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._errors import (
    ArgumentError,
    FormatError,
    GGUFError,
    ModelError,
    NotGGUFError,
    SourceError,
    SourceNotFoundError,
    TensorDataError,
    TruncatedError,
    UnsupportedArchitectureError,
)

__version__: str = _native.__version__

#: ggml's types: ``name -> (id, block_size, type_size)`` for every type llama.cpp loads.
GGML_TYPES: Dict[str, Tuple[int, int, int]] = {
    name: (tid, block, size) for tid, name, block, size, live in _native.ggml_types() if live
}
_TYPE_BY_ID: Dict[int, Tuple[str, int, int]] = {
    tid: (name, block, size) for name, (tid, block, size) in GGML_TYPES.items()
}

# Tensor types numpy can hold as they are (ggml name -> numpy type code, without byte order).
_NUMPY_TYPES = {
    "f32": "f4",
    "f16": "f2",
    "f64": "f8",
    "i8": "i1",
    "i16": "i2",
    "i32": "i4",
    "i64": "i8",
    # numpy has no bfloat16: the raw bits, to be reinterpreted (`.view(ml_dtypes.bfloat16)`).
    "bf16": "u2",
}


def _typestr(code: str, big_endian: bool) -> str:
    if code.endswith("1"):
        return "|" + code
    return (">" if big_endian else "<") + code


class StringArray(Sequence):
    """A metadata array of strings (or of arrays), decoded on access: ``len()``, indexing,
    slicing (a list) and iteration. ``tolist()`` decodes every element in one pass."""

    __slots__ = ("_array", "_endian")

    def __init__(self, array: "_native.Array", big_endian: bool) -> None:
        self._array = array
        self._endian = big_endian

    @property
    def element_type(self) -> str:
        """The elements' type: ``"string"`` or ``"array"``."""
        return self._array.element_type

    def __len__(self) -> int:
        return len(self._array)

    def __getitem__(self, index):  # type: ignore[override]
        item = self._array[index]
        if isinstance(index, slice):
            if self._array.element_type == "string":
                return item
            return [_convert(v, self._endian) for v in item]
        return _convert(item, self._endian)

    def __iter__(self) -> Iterator[Any]:
        if self._array.element_type == "string":
            return iter(self._array.tolist())
        return (_convert(v, self._endian) for v in self._array.tolist())

    def tolist(self) -> List[Any]:
        """Every element (nested arrays as lists)."""
        if self._array.element_type == "string":
            return self._array.tolist()
        return [_tolist(_convert(v, self._endian)) for v in self._array.tolist()]

    def __repr__(self) -> str:
        return f"<StringArray of {len(self)} {self.element_type} elements>"


def _tolist(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, StringArray):
        return value.tolist()
    return value


def _convert(value: Any, big_endian: bool) -> Any:
    """A native value as the public API gives it: numeric arrays as numpy arrays (no copy)."""
    if isinstance(value, _native.Array):
        view = value.view()
        if view is not None:
            return np.asarray(view)
        return StringArray(value, big_endian)
    return value


class Metadata(Mapping):
    """The metadata, in file order: ``metadata[key]`` gives a scalar as a Python value, a string
    as ``str``, a numeric array as a read-only numpy array over the file's bytes, and an array
    of strings as a :class:`StringArray`. ``value_type(key)`` tells the GGUF type."""

    def __init__(self, native: "_native.File") -> None:
        self._native = native
        self._keys: List[str] = native.keys()
        self._index: Dict[str, int] = {}
        for i, k in enumerate(self._keys):
            # A duplicated key (kept by a lenient parse) reads as its first occurrence.
            self._index.setdefault(k, i)
        self._big = native.endian == "big"

    def __getitem__(self, key: str) -> Any:
        return _convert(self._native.value(self._index[key]), self._big)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def value_type(self, key: str) -> str:
        """The GGUF type of the value (``"u32"``, ``"string"``, ``"array"``…)."""
        return self._native.entry_info(self._index[key])[0]

    def element_type(self, key: str) -> Optional[str]:
        """For an array, the innermost element type; ``None`` otherwise."""
        return self._native.entry_info(self._index[key])[1]

    def offset(self, key: str) -> int:
        """Where the entry starts in the file."""
        return self._native.entry_info(self._index[key])[2]

    def __repr__(self) -> str:
        return f"<Metadata: {len(self)} keys>"


class Tensor:
    """One tensor info, and its data on request.

    - ``name``; ``ggml_type``: ggml's name of its type (``"f32"``, ``"q4_K"``…), ``None`` for an
      unknown id (``type_id`` has the id);
    - ``shape``: the dimensions in ggml's ``ne`` order (the contiguous one first), as
      gguf-py's ``ReaderTensor.shape``; numpy's order is ``shape[::-1]``;
    - ``offset``: the absolute byte offset of its data in the file (gguf-py's ``data_offset``);
      ``relative_offset`` is the offset the tensor info stores (from the data section);
    - ``nbytes`` and ``n_elements`` (``None`` when the type's size is unknown).
    """

    __slots__ = (
        "_file",
        "_index",
        "name",
        "type_id",
        "ggml_type",
        "shape",
        "offset",
        "relative_offset",
        "nbytes",
        "n_elements",
        "info_offset",
    )

    def __init__(self, file: "GGUFFile", index: int, info: tuple) -> None:
        name, type_id, type_name, dims, rel, nbytes, n_elements, info_offset = info
        self._file = file
        self._index = index
        self.name: str = name
        self.type_id: int = type_id
        self.ggml_type: Optional[str] = type_name
        self.shape: Tuple[int, ...] = tuple(dims)
        self.relative_offset: int = rel
        self.offset: int = file.data_offset + rel
        self.nbytes: Optional[int] = nbytes
        self.n_elements: Optional[int] = n_elements
        self.info_offset: int = info_offset

    def numpy(self) -> np.ndarray:
        """The data as a read-only numpy array in numpy's order (``shape[::-1]``), without a
        copy for a local file (a view of the mapping, which it keeps open). f32, f16, f64 and
        the integer types have their own dtype; bf16 is ``uint16`` (the raw bits: use
        ``.view(ml_dtypes.bfloat16)``); quantized types are their raw blocks as ``uint8``, the
        last dimension in bytes (``ne0 / block_size * type_size``), as gguf-py gives them. A
        remote file's tensor is fetched (one range request). Raises :class:`TensorDataError`
        when the data lies past the end of the file or the type's size is unknown."""
        big = self._file.endian == "big"
        shape = list(reversed(self.shape))
        code = _NUMPY_TYPES.get(self.ggml_type or "")
        if code is None:
            known = _TYPE_BY_ID.get(self.type_id)
            if known is not None and shape:
                _, block, size = known
                shape[-1] = shape[-1] // block * size
            code = "u1"
        view = self._file._native.tensor_view(self._index, _typestr(code, big), shape)
        return np.asarray(view)

    def __repr__(self) -> str:
        return f"<Tensor {self.name} {self.ggml_type} {list(self.shape)}>"


Plan = Union[str, int, float, bool, Sequence[Union[str, int, float]]]

# `ggufscope memory`'s options (keyword arguments of GGUFFile.memory, `_` for `-`).
MEMORY_OPTIONS = frozenset(
    {
        "ctx",
        "batch",
        "ubatch",
        "parallel",
        "kv_type",
        "cache_type_k",
        "cache_type_v",
        "kv_unified",
        "swa_full",
        "flash_attn",
        "cpu_repack",
        "assume_type",
        "gpu_mem",
        "backend",
        "ngl",
        "tensor_split",
        "split_mode",
        "main_gpu",
        "n_cpu_moe",
        "override_tensor",
        "no_kv_offload",
        "no_mmap",
        "device_overhead",
    }
)


def _run_json(args: List[str]) -> Dict[str, Any]:
    _status, out = _native.run(args + ["--json"])
    return json.loads(out)


class GGUFFile:
    """An opened GGUF file (see :func:`open`).

    Attributes: ``source``, ``version``, ``endian`` (``"little"``/``"big"``), ``alignment``,
    ``data_offset`` (where tensor data starts), ``file_size``, ``remote``, ``metadata``
    (:class:`Metadata`), ``tensors`` (a list of :class:`Tensor`, in file order),
    ``diagnostics`` (what a lenient parse forgave).
    """

    def __init__(self, native: "_native.File") -> None:
        self._native = native
        self.source: str = native.source
        self.version: int = native.version
        self.endian: str = native.endian
        self.alignment: int = native.alignment
        self.data_offset: int = native.data_offset
        self.file_size: int = native.file_size
        self.remote: bool = native.remote
        self.metadata: Metadata = Metadata(native)
        self._tensors: Optional[List[Tensor]] = None
        self._by_name: Optional[Dict[str, Tensor]] = None

    @property
    def tensors(self) -> List[Tensor]:
        """Every tensor, in file order."""
        if self._tensors is None:
            self._tensors = [Tensor(self, i, info) for i, info in enumerate(self._native.tensor_infos())]
        return self._tensors

    def tensor(self, name: str) -> Tensor:
        """The tensor with this name (``KeyError`` if there is none)."""
        if self._by_name is None:
            self._by_name = {}
            for t in self.tensors:
                self._by_name.setdefault(t.name, t)
        return self._by_name[name]

    @property
    def diagnostics(self) -> List[Dict[str, Any]]:
        """Defects a lenient parse recorded instead of failing: ``{code, message, offset, key,
        tensor}`` each (empty for a clean file or a strict parse)."""
        return [
            {"code": c, "message": m, "offset": o, "key": k, "tensor": t}
            for c, m, o, k, t in self._native.diagnostics()
        ]

    # The analyses: the `ggufscope` command's own reports, as its --json prints them. They read
    # the source again (for a remote source: its head again).

    def inspect(self) -> Dict[str, Any]:
        """``ggufscope inspect --json``: header, every key (arrays summarised), tensor types,
        diagnostics and layout findings."""
        return _run_json(["inspect", self.source])

    def config(self) -> Dict[str, Any]:
        """``ggufscope config --json``: the configuration llama.cpp reads from the file and the
        facts derived from it. Raises :class:`UnsupportedArchitectureError` or
        :class:`ModelError` as the command exits 3 or 1."""
        return _run_json(["config", self.source])

    def validate(self) -> Dict[str, Any]:
        """``ggufscope validate --json``: ``{"ok": bool, "findings": [...]}``, every format and
        schema finding (a finding does not raise)."""
        return _run_json(["validate", self.source])

    def memory(self, **plan: Plan) -> Dict[str, Any]:
        """``ggufscope memory --json``: weights, caches, output and compute buffers, placement.

        Keyword arguments are the command's options with ``_`` for ``-``: ``ctx``, ``batch``,
        ``ubatch``, ``parallel``, ``kv_type``, ``cache_type_k``, ``cache_type_v``,
        ``kv_unified``, ``swa_full``, ``flash_attn`` (``"on"``/``"off"``),
        ``cpu_repack``, ``assume_type``, ``gpu_mem`` (e.g. ``["24G", "24G"]``), ``backend``,
        ``ngl``, ``tensor_split``, ``split_mode``, ``main_gpu``, ``n_cpu_moe``,
        ``override_tensor``, ``no_kv_offload``, ``no_mmap``, ``device_overhead``. ``True`` sets
        a flag, a list repeats the option. Raises :class:`ArgumentError` for an unknown option
        or a refused value."""
        args = ["memory", self.source]
        for name, value in plan.items():
            if name not in MEMORY_OPTIONS:
                raise ArgumentError(f"memory() has no option `{name}`", status=2)
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                if value:
                    args.append(flag)
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                args += [flag, str(v)]
        return _run_json(args)

    def report(self) -> Dict[str, Any]:
        """``ggufscope report --json``: the analysis report's data (summary, configuration,
        attention, tensors, Llama compatibility, findings)."""
        return _run_json(["report", self.source])

    def compare(self, other: Union["GGUFFile", str, "os.PathLike[str]"]) -> Dict[str, Any]:
        """``ggufscope compare --json``: this model and ``other`` (a :class:`GGUFFile` or a
        SOURCE) side by side."""
        other_source = other.source if isinstance(other, GGUFFile) else os.fspath(other)
        return _run_json(["compare", self.source, other_source])

    def __enter__(self) -> "GGUFFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return (
            f"<GGUFFile {self.source!r} v{self.version}: {len(self.metadata)} keys, "
            f"{self._native.tensor_count()} tensors>"
        )


def open(source: Union[str, "os.PathLike[str]"], *, strict: bool = False) -> GGUFFile:
    """Opens a GGUF file: a local path (memory-mapped), an ``http(s)://`` URL or
    ``hf://OWNER/REPO/FILE[@REVISION]`` (``$HF_ENDPOINT``, ``$HF_TOKEN``), of which only the
    header, metadata and tensor infos are fetched (with ``Range`` requests; tensor data is
    fetched when asked for). The header, metadata and tensor infos are parsed now; values are
    decoded on access.

    ``strict=False`` (the default) forgives recoverable defects (a key breaking the naming
    rules, a duplicated key or tensor name, a bool byte other than 0/1) and lists them in
    ``diagnostics``; ``strict=True`` raises for them. Raises :class:`FormatError` (and its
    subclasses :class:`TruncatedError`, :class:`NotGGUFError`) for a file that does not parse,
    :class:`SourceError` (an ``OSError``) for one that cannot be read."""
    return GGUFFile(_native.File.open(os.fspath(source), strict))


from ._reader import GGMLQuantizationType, GGUFReader, GGUFValueType, ReaderField, ReaderTensor  # noqa: E402

__all__ = [
    "open",
    "GGUFFile",
    "Metadata",
    "StringArray",
    "Tensor",
    "GGML_TYPES",
    "MEMORY_OPTIONS",
    "GGUFReader",
    "ReaderField",
    "ReaderTensor",
    "GGUFValueType",
    "GGMLQuantizationType",
    "GGUFError",
    "FormatError",
    "TruncatedError",
    "NotGGUFError",
    "SourceError",
    "SourceNotFoundError",
    "UnsupportedArchitectureError",
    "ModelError",
    "ArgumentError",
    "TensorDataError",
]
