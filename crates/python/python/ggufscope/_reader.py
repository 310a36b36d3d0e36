"""``GGUFReader``: gguf-py's reader surface over ggufscope's parse.

``from ggufscope import GGUFReader`` works where ``from gguf import GGUFReader`` did, for the
surface most code uses: ``reader.fields`` (an ``OrderedDict`` of :class:`ReaderField`, with the
three ``GGUF.*`` header fields first), ``field.name``, ``field.types``, ``field.offset``,
``field.contents()``, ``field.parts`` / ``field.data``; ``reader.tensors`` (a list of
:class:`ReaderTensor`: ``name``, ``tensor_type``, ``shape``, ``n_elements``, ``n_bytes``,
``data_offset``, ``data``, ``field``); ``get_field``, ``get_tensor``, ``alignment``,
``data_offset``, ``byte_order``, ``endianess``, ``data``.

What differs from gguf-py (0.19):

- Opening parses with ggufscope (Rust): a 262,144-token vocabulary opens in milliseconds instead
  of seconds. ``field.parts`` and ``field.data`` are built on first access (the same numpy views
  gguf-py builds at open), ``tensor.data`` too: code that only reads ``contents()`` never pays
  for them.
- ``ReaderField`` and ``ReaderTensor`` are classes with the same attribute names, not
  ``NamedTuple``s: they cannot be unpacked or indexed as tuples.
- Errors are :class:`ggufscope.GGUFError` (a ``ValueError``, as gguf-py raises), with the byte
  offset and the key or tensor; a missing file is a ``FileNotFoundError`` as with gguf-py.
- Only ``mode="r"`` (read-only; ``data`` and every view are read-only arrays). gguf-py's
  ``"r+"``/``"c"`` (writing through the memory map) raise ``ValueError``.
- A string that is not UTF-8 is decoded with ``surrogateescape`` by ``contents()`` (gguf-py
  raises ``UnicodeDecodeError``).
- A file whose tensor data is cut short opens (gguf-py raises while shaping the data): the
  ``data`` of a tensor past the end raises :class:`ggufscope.TensorDataError` when read.
- Version 1 files are read too (gguf-py refuses them), and a tensor of an id gguf-py does not
  know has an ``int`` ``tensor_type`` instead of failing the file.
- ``GGUFValueType`` and ``GGMLQuantizationType`` are ggufscope's own ``IntEnum``s with gguf-py's
  names and values: they compare equal to gguf-py's members.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from enum import IntEnum
from typing import Any, List, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _native


class GGUFValueType(IntEnum):
    """gguf-py's ``GGUFValueType``: the metadata value types, by id."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


GGMLQuantizationType = IntEnum(  # type: ignore[misc]
    "GGMLQuantizationType",
    [(name.upper(), tid) for tid, name, _b, _s, live in _native.ggml_types() if live],
)
GGMLQuantizationType.__doc__ = "gguf-py's ``GGMLQuantizationType``: ggml's tensor types, by id."

_SIZES = {tid: (block, size) for tid, _n, block, size, live in _native.ggml_types() if live}

_VALUE_TYPE = {
    "u8": GGUFValueType.UINT8,
    "i8": GGUFValueType.INT8,
    "u16": GGUFValueType.UINT16,
    "i16": GGUFValueType.INT16,
    "u32": GGUFValueType.UINT32,
    "i32": GGUFValueType.INT32,
    "f32": GGUFValueType.FLOAT32,
    "bool": GGUFValueType.BOOL,
    "string": GGUFValueType.STRING,
    "array": GGUFValueType.ARRAY,
    "u64": GGUFValueType.UINT64,
    "i64": GGUFValueType.INT64,
    "f64": GGUFValueType.FLOAT64,
}
_SCALAR_CODE = {
    GGUFValueType.UINT8: "u1",
    GGUFValueType.INT8: "i1",
    GGUFValueType.UINT16: "u2",
    GGUFValueType.INT16: "i2",
    GGUFValueType.UINT32: "u4",
    GGUFValueType.INT32: "i4",
    GGUFValueType.FLOAT32: "f4",
    GGUFValueType.BOOL: "b1",
    GGUFValueType.UINT64: "u8",
    GGUFValueType.INT64: "i8",
    GGUFValueType.FLOAT64: "f8",
}

# gguf-py's typed tensor views (everything else is raw bytes).
_TENSOR_CODE = {
    0: "f4",  # F32
    1: "f2",  # F16
    28: "f8",  # F64
    24: "i1",  # I8
    25: "i2",  # I16
    26: "i4",  # I32
    27: "i8",  # I64
}


def _types(vtype: GGUFValueType, value: Any) -> List[GGUFValueType]:
    """gguf-py's ``types``: the value's type, then for a non-empty array its first element's."""
    types = [vtype]
    if vtype == GGUFValueType.ARRAY and len(value) > 0:
        element = _VALUE_TYPE[value.element_type]
        if element == GGUFValueType.ARRAY:
            types += _types(element, value[0])
        else:
            types.append(element)
    return types


def _leaves(value: Any) -> List[Any]:
    """The leaf elements of a (nested) native array, flattened as gguf-py's ``data`` is."""
    if not isinstance(value, _native.Array):
        return [value]
    if value.element_type != "array":
        return value.tolist()
    out: List[Any] = []
    for item in value.tolist():
        out += _leaves(item)
    return out


class ReaderField:
    """gguf-py's ``ReaderField``: ``offset``, ``name``, ``types``, ``contents()``, and the
    numpy ``parts`` with the ``data`` indices into them (built on first access)."""

    __slots__ = ("offset", "name", "types", "_reader", "_value", "_parts", "_data", "_header")

    def __init__(
        self,
        reader: "GGUFReader",
        offset: int,
        name: str,
        types: List[GGUFValueType],
        value: Any,
        parts: Optional[list] = None,
        data: Optional[List[int]] = None,
        header: Optional[str] = None,
    ) -> None:
        self._reader = reader
        self._header = header
        self.offset: int = offset
        self.name: str = name
        self.types: List[GGUFValueType] = types
        self._value = value
        self._parts = parts
        self._data = data

    def _build(self) -> None:
        if self._header is not None:
            parts, data = [self._reader._get(self.offset, self._header)], [0]
        else:
            parts, data = self._reader._field_parts(self.offset)
        self._parts, self._data = parts, data

    @property
    def parts(self) -> List[npt.NDArray[Any]]:
        """gguf-py's parts: the key length, the key bytes, the type, then the value's pieces."""
        if self._parts is None:
            self._build()
        return self._parts  # type: ignore[return-value]

    @property
    def data(self) -> List[int]:
        """Indices into ``parts`` of the value's data."""
        if self._data is None:
            self._build()
        return self._data  # type: ignore[return-value]

    def contents(self, index_or_slice: Union[int, slice] = slice(None)) -> Any:
        """The value as gguf-py's ``contents()`` gives it: a scalar or ``str``; for an array,
        a list (of ``str`` for strings, of Python numbers otherwise; nested arrays flattened),
        or one element for an ``int`` index."""
        if not self.types:
            return None
        value = self._value
        if self.types[0] == GGUFValueType.ARRAY:
            if isinstance(value, _native.Array) and value.element_type != "array":
                return value[index_or_slice]
            leaves = _leaves(value)
            return leaves[index_or_slice]
        return value

    def __repr__(self) -> str:
        return f"ReaderField(offset={self.offset}, name={self.name!r}, types={self.types!r})"


class ReaderTensor:
    """gguf-py's ``ReaderTensor``: ``name``, ``tensor_type``, ``shape`` (``ne`` order, a
    ``uint64`` array), ``n_elements``, ``n_bytes``, ``data_offset`` (absolute), ``data`` (read
    on first access: a typed view for f32/f16/f64/i8–i64, raw ``uint8`` bytes otherwise, in
    numpy's order), ``field`` (the tensor info as a :class:`ReaderField`)."""

    __slots__ = (
        "name",
        "tensor_type",
        "shape",
        "n_elements",
        "n_bytes",
        "data_offset",
        "_reader",
        "_index",
        "_data",
        "_field",
        "_info_offset",
    )

    def __init__(self, reader: "GGUFReader", index: int, info: tuple) -> None:
        name, type_id, _type_name, dims, rel, _nbytes, _n, info_offset = info
        self._reader = reader
        self._index = index
        self.name: str = name
        try:
            self.tensor_type: Union[IntEnum, int] = GGMLQuantizationType(type_id)
        except ValueError:
            self.tensor_type = type_id
        self.shape: npt.NDArray[np.uint64] = np.array(dims, dtype=np.uint64)
        n_elements = 1
        for d in dims:
            n_elements *= int(d)
        self.n_elements: int = n_elements
        block, size = _SIZES.get(type_id, (1, 0))
        self.n_bytes: int = n_elements * size // block if block else 0
        self.data_offset: int = reader.data_offset + rel
        self._data: Optional[npt.NDArray[Any]] = None
        self._field: Optional[ReaderField] = None
        self._info_offset = info_offset

    @property
    def data(self) -> npt.NDArray[Any]:
        """The tensor's data, as gguf-py shapes it (read-only, no copy)."""
        if self._data is None:
            dims = [int(d) for d in self.shape]
            np_dims = list(reversed(dims))
            code = _TENSOR_CODE.get(int(self.tensor_type))
            if code is None:
                code = "u1"
                block, size = _SIZES.get(int(self.tensor_type), (1, 1))
                if np_dims:
                    np_dims[-1] = np_dims[-1] // block * size
            typestr = "|" + code if code.endswith("1") else self._reader._order + code
            view = self._reader._native.tensor_view(self._index, typestr, np_dims)
            self._data = np.asarray(view)
        return self._data

    @property
    def field(self) -> ReaderField:
        """The tensor info as gguf-py's field: parts ``[name_len, name, n_dims, dims, type,
        offset]``, data ``[1, 3, 4, 5]``."""
        if self._field is None:
            parts = self._reader._tensor_info_parts(self._info_offset)
            self._field = ReaderField(self._reader, self._info_offset, self.name, [], None, parts, [1, 3, 4, 5])
        return self._field

    def __repr__(self) -> str:
        return (
            f"ReaderTensor(name={self.name!r}, tensor_type={self.tensor_type!r}, "
            f"shape={self.shape!r}, n_elements={self.n_elements}, n_bytes={self.n_bytes}, "
            f"data_offset={self.data_offset})"
        )


class GGUFReader:
    """gguf-py's ``GGUFReader`` over ggufscope's parse (see the module docstring for what
    differs)."""

    byte_order: Literal["I", "S"] = "I"
    alignment: int = 32
    data_offset: int

    def __init__(self, path: Union[str, "os.PathLike[str]"], mode: Literal["r", "r+", "c"] = "r") -> None:
        if mode != "r":
            raise ValueError(f"ggufscope.GGUFReader is read-only: mode {mode!r} is not supported")
        native = _native.File.open(os.fspath(path), False)
        self._native = native
        big = native.endian == "big"
        # gguf-py: 'I' when the file's order is the host's, 'S' (swapped) otherwise.
        host_big = sys.byteorder == "big"
        self.byte_order = "S" if big != host_big else "I"
        self._order = ">" if big else "<"
        self._wide = native.version >= 2
        self.endianess = 1 if big else 0  # gguf-py's GGUFEndian: LITTLE = 0, BIG = 1
        self.alignment = native.alignment
        # gguf-py pads the end of the tensor infos to the alignment even when there is no
        # tensor (llama.cpp's gguf.cpp, and so `GGUFFile.data_offset`, does not).
        end = native.tensor_infos_end
        self.data_offset = end + (-end % self.alignment)
        self._data: Optional[npt.NDArray[np.uint8]] = None
        self.fields: "OrderedDict[str, ReaderField]" = OrderedDict()
        n_tensors = native.tensor_count()
        keys = native.keys()
        len_w = 8 if self._wide else 4
        count = "u8" if self._wide else "u4"
        header = [
            (4, "GGUF.version", GGUFValueType.UINT32, native.version, "u4"),
            (8, "GGUF.tensor_count", GGUFValueType.UINT64, n_tensors, count),
            (8 + len_w, "GGUF.kv_count", GGUFValueType.UINT64, len(keys), count),
        ]
        for offset, name, vtype, value, code in header:
            self.fields[name] = ReaderField(self, offset, name, [vtype], value, header=code)
        for i, key in enumerate(keys):
            vtype, _elem, offset = native.entry_info(i)
            value = native.value(i)
            types = _types(_VALUE_TYPE[vtype], value)
            if key in self.fields:
                raise KeyError(f"Duplicate {key} already in list at offset {offset}")
            self.fields[key] = ReaderField(self, offset, key, types, value)
        self.tensors: List[ReaderTensor] = [
            ReaderTensor(self, i, info) for i, info in enumerate(native.tensor_infos())
        ]

    @property
    def data(self) -> npt.NDArray[np.uint8]:
        """The bytes held, as a read-only ``uint8`` array (the whole file when local)."""
        if self._data is None:
            self._data = np.asarray(self._native.bytes_view(0, self._native.held))
        return self._data

    def get_field(self, key: str) -> Optional[ReaderField]:
        """The field with this key, or ``None``."""
        return self.fields.get(key, None)

    def get_tensor(self, idx: int) -> ReaderTensor:
        """Tensor ``idx``."""
        return self.tensors[idx]

    # gguf-py's parts, made from views of the bytes held.

    def _get(self, offset: int, code: str, count: int = 1) -> npt.NDArray[Any]:
        dtype = np.dtype(code if code in ("u1", "i1", "b1") else self._order + code)
        return self.data[offset : offset + dtype.itemsize * count].view(dtype)[:count]

    def _len(self, offset: int) -> npt.NDArray[Any]:
        return self._get(offset, "u8" if self._wide else "u4")

    def _str_parts(self, offset: int) -> list:
        slen = self._len(offset)
        return [slen, self._get(offset + slen.nbytes, "u1", int(slen[0]))]

    def _value_parts(self, offset: int, vtype: int) -> tuple:
        """``(size, parts, data indices)`` of one value, as gguf-py's ``_get_field_parts``."""
        if vtype == GGUFValueType.STRING:
            parts = self._str_parts(offset)
            return sum(int(p.nbytes) for p in parts), parts, [1]
        code = _SCALAR_CODE.get(GGUFValueType(vtype))
        if code is not None:
            val = self._get(offset, code)
            return int(val.nbytes), [val], [0]
        itype = self._get(offset, "u4")
        alen = self._len(offset + 4)
        pos = offset + 4 + int(alen.nbytes)
        parts: list = [itype, alen]
        idxs: List[int] = []
        for _ in range(int(alen[0])):
            size, sub, sub_idx = self._value_parts(pos, int(itype[0]))
            base = len(parts)
            parts += sub
            idxs += [i + base for i in sub_idx]
            pos += size
        return pos - offset, parts, idxs

    def _field_parts(self, offset: int) -> tuple:
        parts = self._str_parts(offset)
        pos = offset + sum(int(p.nbytes) for p in parts)
        vtype = self._get(pos, "u4")
        parts.append(vtype)
        _size, vparts, vidx = self._value_parts(pos + 4, int(vtype[0]))
        base = len(parts)
        return parts + vparts, [i + base for i in vidx]

    def _tensor_info_parts(self, offset: int) -> list:
        parts = self._str_parts(offset)
        pos = offset + sum(int(p.nbytes) for p in parts)
        n_dims = self._get(pos, "u4")
        pos += 4
        dims = self._get(pos, "u8" if self._wide else "u4", int(n_dims[0]))
        pos += int(dims.nbytes)
        raw_type = self._get(pos, "u4")
        offset_tensor = self._get(pos + 4, "u8")
        return parts + [n_dims, dims, raw_type, offset_tensor]


__all__ = ["GGUFReader", "ReaderField", "ReaderTensor", "GGUFValueType", "GGMLQuantizationType"]
