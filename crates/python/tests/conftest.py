"""Shared helpers: the repository's fixtures, gguf-py comparison, a local Range-capable HTTP
server."""

from __future__ import annotations

import http.server
import os
import re
import threading
from pathlib import Path
from typing import Iterator, List

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
REAL = sorted((ROOT / "tests" / "fixtures" / "real").glob("*.gguf"))
ARCHS = sorted((ROOT / "tests" / "fixtures" / "llama-archs").glob("*.gguf"))

assert len(REAL) == 4, REAL
assert len(ARCHS) == 128, len(ARCHS)


def assert_parts_equal(a: list, b: list, what: str) -> None:
    assert len(a) == len(b), what
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.dtype == y.dtype, (what, i, x.dtype, y.dtype)
        assert x.shape == y.shape, (what, i)
        assert np.array_equal(x, y), (what, i)


def assert_readers_equal(g, r, parts: bool = True, data: bool = True) -> None:
    """gguf-py's reader `g` and ggufscope's `r` say the same of the file: every field's name,
    offset, types, contents (and parts, data indices); every tensor's name, type, shape,
    element and byte counts, data offset, data (dtype, shape, bytes) and info field."""
    assert list(g.fields) == list(r.fields)
    assert g.alignment == r.alignment
    assert g.data_offset == r.data_offset
    assert g.byte_order == r.byte_order
    for key, gf in g.fields.items():
        rf = r.fields[key]
        assert (rf.name, rf.offset) == (gf.name, gf.offset), key
        assert rf.types == gf.types, key
        assert [int(t) for t in rf.types] == [int(t) for t in gf.types], key
        assert rf.contents() == gf.contents(), key
        if gf.types and gf.types[0] == 9 and len(gf.data) > 0:
            assert rf.contents(0) == gf.contents(0), key
            assert rf.contents(-1) == gf.contents(-1), key
            assert rf.contents(slice(1, 5)) == gf.contents(slice(1, 5)), key
        if parts:
            assert rf.data == gf.data, key
            assert_parts_equal(gf.parts, rf.parts, key)
    assert len(g.tensors) == len(r.tensors)
    for gt, rt in zip(g.tensors, r.tensors):
        assert rt.name == gt.name
        assert int(rt.tensor_type) == int(gt.tensor_type) and rt.tensor_type.name == gt.tensor_type.name
        assert rt.shape.dtype.kind == "u" and rt.shape.dtype.itemsize == 8
        assert rt.shape.tolist() == gt.shape.tolist(), rt.name
        assert (rt.n_elements, rt.n_bytes, rt.data_offset) == (gt.n_elements, gt.n_bytes, gt.data_offset)
        if data:
            assert rt.data.dtype == gt.data.dtype, rt.name
            assert rt.data.shape == gt.data.shape, rt.name
            assert np.array_equal(rt.data, gt.data), rt.name
        if parts:
            assert_parts_equal(gt.field.parts, rt.field.parts, rt.name)
            assert rt.field.data == gt.field.data
            assert (rt.field.name, rt.field.offset) == (gt.field.name, gt.field.offset)


def flatten(value) -> list:
    """The leaves of a (nested) metadata array, as gguf-py's `contents()` flattens them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)):
        return [value]
    out: list = []
    for item in value:
        out += flatten(item)
    return out


def assert_file_matches(g, f) -> None:
    """ggufscope's `GGUFFile` `f` gives gguf-py's values: scalars and strings equal, numeric
    arrays as numpy arrays equal to gguf-py's contents, string arrays as sequences of the same
    strings; tensors with gguf-py's names, types, shapes (ne order), offsets, sizes and data."""
    keys = [k for k in g.fields if not k.startswith("GGUF.")]
    assert list(f.metadata) == keys
    assert f.version == g.fields["GGUF.version"].contents()
    for key in keys:
        gf = g.fields[key]
        value = f.metadata[key]
        if gf.types[0] == 9:
            if len(gf.types) == 1:
                # An empty array: gguf-py records no element type.
                assert len(value) == 0 and gf.contents() == [], key
            elif len(gf.types) > 2:
                assert flatten(value) == gf.contents(), key
            elif gf.types[-1] == 8:
                assert list(value) == gf.contents(), key
                assert value.tolist() == gf.contents(), key
            else:
                assert isinstance(value, np.ndarray), key
                assert value.dtype == gf.parts[gf.data[0]].dtype if gf.data else True, key
                assert value.tolist() == gf.contents(), key
        else:
            assert value == gf.contents(), key
            assert type(value) is type(gf.contents()), key
    assert len(f.tensors) == len(g.tensors)
    for gt, t in zip(g.tensors, f.tensors):
        assert t.name == gt.name
        assert t.ggml_type is not None and t.ggml_type.upper() == gt.tensor_type.name
        assert t.shape == tuple(gt.shape.tolist())
        assert (t.offset, t.nbytes, t.n_elements) == (gt.data_offset, gt.n_bytes, gt.n_elements)


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves files of `directory`, answering `Range: bytes=A-B` with 206 and Content-Range
    (unless `ignore_range`), 404 for a missing file; counts requests and bytes sent."""

    directory: Path = ROOT
    ignore_range = False
    requests: List[str] = []
    sent = [0]

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(self.headers.get("Range") or "")
        path = self.directory / self.path.lstrip("/").split("?")[0]
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if m and not self.ignore_range:
            start = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else len(data) - 1
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            last = min(last, len(data) - 1)
            body = data[start : last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{last}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.sent[0] += len(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server(tmp_path) -> Iterator[tuple]:
    """A server on 127.0.0.1 over `tmp_path` and the fixtures: yields (base URL, handler)."""

    class Handler(RangeHandler):
        directory = tmp_path
        requests: List[str] = []
        sent = [0]
        ignore_range = False

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    finally:
        httpd.shutdown()
        httpd.server_close()
