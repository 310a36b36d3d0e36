"""ggufscope reads what gguf-py reads: every real fixture, every file of llama.cpp's
per-architecture corpus, and files gguf-py's own writer makes with every value type and tensor
data of several types."""

from __future__ import annotations

import os
from pathlib import Path

import gguf
import numpy as np
import pytest

import ggufscope
from conftest import ARCHS, REAL, assert_file_matches, assert_readers_equal


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_fixtures_equal_gguf_py(path: Path) -> None:
    g = gguf.GGUFReader(path)
    assert_readers_equal(g, ggufscope.GGUFReader(path))
    assert_file_matches(g, ggufscope.open(path))


def extend_with_markers(head: Path, out: Path) -> None:
    """A copy of a corpus head extended to its full length (the data section sparse, as the
    corpus README says), with 16 bytes naming each tensor at the start of its data so that a
    view at a wrong offset reads different bytes."""
    f = ggufscope.open(head)
    end = max(t.offset + t.nbytes for t in f.tensors)
    with open(head, "rb") as src, open(out, "wb") as dst:
        dst.write(src.read())
        dst.truncate(end)
        for i, t in enumerate(f.tensors):
            n = min(16, t.nbytes)
            dst.seek(t.offset)
            dst.write(np.full(n, (i * 37 + 11) % 251 + 1, dtype=np.uint8).tobytes())


@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.stem)
def test_llama_arch_corpus_equals_gguf_py(path: Path, tmp_path: Path) -> None:
    # The corpus files are heads: gguf-py cannot open them at all (it shapes every tensor's
    # data at open and the data is not there) ...
    with pytest.raises(ValueError, match="cannot reshape"):
        gguf.GGUFReader(path)
    # ... ggufscope opens them, lists every tensor, and says the data is missing when asked.
    head = ggufscope.GGUFReader(path)
    f = ggufscope.open(path)
    assert len(head.tensors) == len(f.tensors) > 0
    last = max(f.tensors, key=lambda t: t.offset)
    with pytest.raises(ggufscope.TensorDataError) as e:
        last.numpy()
    assert e.value.tensor == last.name and e.value.offset == last.offset
    # On the file extended to its full length, gguf-py and ggufscope agree on everything.
    full = tmp_path / path.name
    extend_with_markers(path, full)
    g = gguf.GGUFReader(full)
    assert_readers_equal(g, ggufscope.GGUFReader(full))
    ff = ggufscope.open(full)
    assert_file_matches(g, ff)
    for gt, t in zip(g.tensors, ff.tensors):
        assert t.numpy().tobytes() == gt.data.tobytes(), t.name
    full.unlink()


def write_every_type(path: Path, big_endian: bool = False) -> dict:
    """A file written by gguf-py's GGUFWriter with every metadata value type (nested arrays
    included) and tensors of several types with random data; returns the tensors written."""
    endian = gguf.GGUFEndian.BIG if big_endian else gguf.GGUFEndian.LITTLE
    w = gguf.GGUFWriter(str(path), "llama", endianess=endian)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 0.1)
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 1e-300)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo ✓")
    w.add_array("t.arr_i32", [1, -2, 3])
    w.add_array("t.arr_f32", [0.5, -1.25])
    w.add_array("t.arr_str", ["a", "ünï", ""])
    w.add_array("t.arr_bool", [True, False, True])
    w.add_array("t.arr_nested", [[1, 2], [3]])
    w.add_key_value("t.arr_u8", [7, 8, 9], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT8)
    rng = np.random.default_rng(16)
    tensors = {
        "w.f32": rng.standard_normal((3, 8)).astype(np.float32),
        "w.f16": rng.standard_normal((2, 4, 8)).astype(np.float16),
        "w.f64": rng.standard_normal(5).astype(np.float64),
        "w.i8": rng.integers(-128, 127, (4, 4)).astype(np.int8),
        "w.i32": rng.integers(-(2**31), 2**31 - 1, (2, 3)).astype(np.int32),
    }
    for name, value in tensors.items():
        # (the writer swaps a big-endian file's tensors in place)
        w.add_tensor(name, value.copy())
    # Quantized and bf16 tensors as raw bytes: q8_0 (2 rows of 64 = 2 blocks of 34 bytes each),
    # bf16 (3 x 16).
    q8 = rng.integers(0, 255, (2, 68)).astype(np.uint8)
    w.add_tensor("w.q8_0", q8.copy(), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    bf16 = rng.integers(0, 255, (3, 32)).astype(np.uint8)
    w.add_tensor("w.bf16", bf16.copy(), raw_dtype=gguf.GGMLQuantizationType.BF16)
    tensors["w.q8_0"], tensors["w.bf16"] = q8, bf16
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tensors


@pytest.mark.parametrize("big_endian", [False, True], ids=["little", "big"])
def test_written_file_every_type_equals_gguf_py(tmp_path: Path, big_endian: bool) -> None:
    path = tmp_path / "every.gguf"
    written = write_every_type(path, big_endian)
    g = gguf.GGUFReader(path)
    r = ggufscope.GGUFReader(path)
    assert_readers_equal(g, r)
    f = ggufscope.open(path, strict=True)
    assert f.endian == ("big" if big_endian else "little")
    assert_file_matches(g, f)
    md = f.metadata
    assert md["t.u64"] == 2**63 + 5 and md["t.i8"] == -100 and md["t.bool"] is True
    assert md["t.f32"] == float(np.float32(0.1)) and md["t.f64"] == 1e-300
    assert md["t.str"] == "héllo ✓"
    assert md["t.arr_str"][1] == "ünï" and md["t.arr_str"][-1] == "" and len(md["t.arr_str"]) == 3
    assert md["t.arr_str"][::-1] == ["", "ünï", "a"]
    assert md["t.arr_bool"].dtype == np.bool_ and md["t.arr_bool"].tolist() == [True, False, True]
    assert md["t.arr_u8"].dtype == np.uint8 and md["t.arr_u8"].tolist() == [7, 8, 9]
    nested = md["t.arr_nested"]
    assert [x.tolist() for x in nested] == [[1, 2], [3]]
    assert md.value_type("t.arr_nested") == "array" and md.element_type("t.arr_nested") == "i32"
    # Tensor data: typed views equal to what was written, raw blocks for q8_0, bits for bf16.
    for t in f.tensors:
        a = t.numpy()
        assert not a.flags.writeable
        if t.ggml_type == "q8_0":
            assert a.dtype == np.uint8 and a.shape == (2, 68)
            assert np.array_equal(a, written["w.q8_0"])
        elif t.ggml_type == "bf16":
            assert a.dtype.kind == "u" and a.dtype.itemsize == 2 and a.shape == (3, 16)
            assert a.tobytes() == written["w.bf16"].tobytes()
        else:
            assert t.shape == tuple(reversed(written[t.name].shape))
            assert a.dtype.newbyteorder("=") == written[t.name].dtype
            assert a.dtype.byteorder in ("|", ">" if big_endian else "=")
            assert np.array_equal(a, written[t.name])


def test_arrays_and_tensors_are_views_of_the_file(tmp_path: Path) -> None:
    """No copy: a numeric array and a tensor point into the file's mapping (read-only), and
    the mapping stays alive as long as an array uses it."""
    path = tmp_path / "every.gguf"
    write_every_type(path)
    f = ggufscope.open(path)
    whole = np.asarray(f._native.bytes_view(0, f.file_size))
    lo = whole.__array_interface__["data"][0]
    t = f.tensor("w.f32")
    a = t.numpy()
    assert a.__array_interface__["data"][0] == lo + t.offset
    assert not a.flags.owndata and not a.flags.writeable
    key = "t.arr_f32"
    scores = f.metadata[key]
    # entry: key length (8), key, value type (4), element type (4), count (8), elements
    at = f.metadata.offset(key) + 8 + len(key) + 4 + 4 + 8
    assert scores.__array_interface__["data"][0] == lo + at
    assert np.shares_memory(a, whole) and np.shares_memory(scores, whole)
    r = ggufscope.GGUFReader(path)
    lo = r.data.__array_interface__["data"][0]
    assert r.tensors[0].data.__array_interface__["data"][0] == lo + r.tensors[0].data_offset
    del f, r, whole, scores
    import gc

    gc.collect()
    # The array still reads the file's bytes.
    assert np.array_equal(a, gguf.GGUFReader(path).get_tensor(0).data)
