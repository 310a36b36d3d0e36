"""Remote reads over HTTP Range requests, against a server on 127.0.0.1 started by the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import ggufscope
from conftest import REAL
from test_gguf_py_equality import write_every_type


def same_metadata(a: ggufscope.GGUFFile, b: ggufscope.GGUFFile) -> None:
    assert list(a.metadata) == list(b.metadata)
    for k in a.metadata:
        x, y = a.metadata[k], b.metadata[k]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), k
        elif isinstance(x, ggufscope.StringArray):
            assert x.tolist() == y.tolist(), k
        else:
            assert x == y, k


def test_remote_vocab_reads_its_head_only_and_equals_the_local_file(server, tmp_path: Path) -> None:
    base, handler = server
    qwen2 = next(p for p in REAL if p.name == "ggml-vocab-qwen2.gguf")
    shutil.copy(qwen2, tmp_path / qwen2.name)
    remote = ggufscope.open(f"{base}/{qwen2.name}")
    local = ggufscope.open(qwen2)
    assert remote.remote and not local.remote
    assert remote.file_size == local.file_size == qwen2.stat().st_size
    same_metadata(remote, local)
    assert len(remote.metadata["tokenizer.ggml.tokens"]) == 151_936
    # Range requests only, a few of them (the head reader: 1 MiB, then grown to the estimate).
    assert handler.requests and all(r.startswith("bytes=") for r in handler.requests)
    assert len(handler.requests) <= 3
    assert handler.sent[0] <= qwen2.stat().st_size * 1.25 + (1 << 20)
    assert remote.config() == local.config()
    # gguf-py's surface over HTTP too.
    r = ggufscope.GGUFReader(f"{base}/{qwen2.name}")
    assert r.fields["tokenizer.ggml.merges"].contents(0) == local.metadata["tokenizer.ggml.merges"][0]


def test_remote_tensor_data_is_fetched_by_range(server, tmp_path: Path) -> None:
    base, handler = server
    written = write_every_type(tmp_path / "every.gguf")
    f = ggufscope.open(f"{base}/every.gguf")
    local = ggufscope.open(tmp_path / "every.gguf")
    same_metadata(f, local)
    assert [t.name for t in f.tensors] == [t.name for t in local.tensors]
    before = len(handler.requests)
    t = f.tensor("w.f16")
    a = t.numpy()
    assert handler.requests[before:] == [f"bytes={t.offset}-{t.offset + t.nbytes - 1}"]
    assert np.array_equal(a, written["w.f16"]) and np.array_equal(a, local.tensor("w.f16").numpy())
    assert f.tensor("w.q8_0").numpy().tobytes() == written["w.q8_0"].tobytes()
    # The analyses run on the URL as the command does: this `llama` file lacks llama's keys.
    for g in (f, local):
        with pytest.raises(ggufscope.ModelError) as e:
            g.config()
        assert e.value.status == 1 and "llama.context_length" in str(e.value)


def test_a_server_ignoring_range_is_read_as_far_as_needed(server, tmp_path: Path) -> None:
    base, handler = server
    handler.ignore_range = True
    phi3 = next(p for p in REAL if p.name == "ggml-vocab-phi-3.gguf")
    shutil.copy(phi3, tmp_path / phi3.name)
    same_metadata(ggufscope.open(f"{base}/{phi3.name}"), ggufscope.open(phi3))


def test_remote_errors(server, tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ggufscope.SourceError) as e:
        ggufscope.open(f"{base}/missing.gguf")
    assert "404" in str(e.value) and isinstance(e.value, OSError) and e.value.status == 2
    (tmp_path / "not.gguf").write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ggufscope.NotGGUFError) as e:
        ggufscope.open(f"{base}/not.gguf")
    assert e.value.code == "bad_magic" and e.value.offset == 0
    # A file cut inside its metadata: the head reader says so with the parse error.
    phi3 = next(p for p in REAL if p.name == "ggml-vocab-phi-3.gguf")
    (tmp_path / "cut.gguf").write_bytes(phi3.read_bytes()[:300_000])
    with pytest.raises(ggufscope.GGUFError) as e:
        ggufscope.open(f"{base}/cut.gguf")
    assert "truncated" in str(e.value)


def test_hf_sources_resolve_against_hf_endpoint(server, tmp_path: Path, monkeypatch) -> None:
    base, handler = server
    phi3 = next(p for p in REAL if p.name == "ggml-vocab-phi-3.gguf")
    where = tmp_path / "owner" / "repo" / "resolve" / "v1" / "sub"
    where.mkdir(parents=True)
    shutil.copy(phi3, where / phi3.name)
    monkeypatch.setenv("HF_ENDPOINT", base)
    f = ggufscope.open(f"hf://owner/repo/sub/{phi3.name}@v1")
    assert f.remote and f.source == f"hf://owner/repo/sub/{phi3.name}@v1"
    same_metadata(f, ggufscope.open(phi3))
    assert f.config() == ggufscope.open(phi3).config()
