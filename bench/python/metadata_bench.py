"""Open a GGUF file and read all its metadata: ggufscope against gguf-py, in one process.

    python bench/python/metadata_bench.py FILE [--runs N] [--gguf-py-runs N] [--markdown OUT]

What each timed run does (a fresh open each time, page cache warm):
- ggufscope.open: `ggufscope.open(FILE)`, then every metadata value: scalars as Python values,
  string arrays decoded to lists of str (`tolist()`), numeric arrays as numpy arrays (views of
  the file), and every tensor's name, type, shape, offset and size;
- ggufscope.GGUFReader: the drop-in, `GGUFReader(FILE)`, then `field.contents()` of every field
  and every tensor's name/type/shape/offset;
- gguf-py: `gguf.GGUFReader(FILE)`, then `field.contents()` of every field and every tensor's
  name/type/shape/offset (the same work as the drop-in).
Both sides end with the same Python objects (asserted on the first run).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def ggufscope_open(path: str):
    import ggufscope

    f = ggufscope.open(path)
    md = {}
    for k in f.metadata:
        v = f.metadata[k]
        md[k] = v.tolist() if isinstance(v, ggufscope.StringArray) else v
    tensors = [(t.name, t.ggml_type, t.shape, t.offset, t.nbytes) for t in f.tensors]
    return md, tensors


def drop_in(path: str):
    import ggufscope

    r = ggufscope.GGUFReader(path)
    md = {k: fld.contents() for k, fld in r.fields.items()}
    tensors = [(t.name, t.tensor_type, t.shape, t.data_offset) for t in r.tensors]
    return md, tensors


def gguf_py(path: str):
    import gguf

    r = gguf.GGUFReader(path)
    md = {k: fld.contents() for k, fld in r.fields.items()}
    tensors = [(t.name, t.tensor_type, t.shape, t.data_offset) for t in r.tensors]
    return md, tensors


def timed(fn, path: str, runs: int) -> list:
    out = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        result = fn(path)
        out.append(time.perf_counter() - t0)
        del result
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--gguf-py-runs", type=int, default=3)
    ap.add_argument("--markdown")
    args = ap.parse_args()
    path = args.file

    # Same objects on both sides (first run, untimed).
    a_md, a_t = ggufscope_open(path)
    b_md, b_t = drop_in(path)
    c_md, c_t = gguf_py(path)
    assert b_md == c_md, "drop-in and gguf-py differ"
    for k, v in a_md.items():
        w = c_md[k]
        if isinstance(v, np.ndarray):
            assert v.tolist() == w, k
        else:
            assert v == w, k
    assert [(n, int(t), s.tolist(), o) for n, t, s, o in b_t] == [(n, int(t), s.tolist(), o) for n, t, s, o in c_t]
    assert [(n, list(s), o) for n, _ty, s, o, _b in a_t] == [(n, s.tolist(), o) for n, _t, s, o in c_t]

    rows = []
    for name, fn, runs in (
        ("ggufscope.open + all metadata", ggufscope_open, args.runs),
        ("ggufscope.GGUFReader + contents()", drop_in, args.runs),
        ("gguf-py GGUFReader + contents()", gguf_py, args.gguf_py_runs),
    ):
        t = timed(fn, path, runs)
        rows.append((name, runs, statistics.median(t), min(t), max(t)))
    base = rows[2][2]
    import ggufscope
    import gguf  # noqa: F401
    from importlib.metadata import version

    lines = [
        f"file: `{Path(path).name}` ({Path(path).stat().st_size / 2**20:,.0f} MiB sparse), "
        f"{len(a_md)} keys, {len(a_t)} tensors",
        "",
        "| what | runs | median | min | max | gguf-py / this |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs, med, lo, hi in rows:
        lines.append(f"| {name} | {runs} | {med * 1e3:,.1f} ms | {lo * 1e3:,.1f} ms | {hi * 1e3:,.1f} ms | {base / med:,.0f}× |")
    lines += [
        "",
        f"Python {platform.python_version()}, numpy {np.__version__}, gguf {version('gguf')}, "
        f"ggufscope {ggufscope.__version__}; {platform.machine()}, {platform.system()} {platform.release()}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
