"""The GGUFFile surface: errors mapped to typed exceptions, lenient and strict parsing, and the
analyses (the command's JSON) on the real Phi-3 vocab file."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest

import ggufscope
from conftest import ARCHS, REAL, ROOT

PHI3 = next(p for p in REAL if p.name == "ggml-vocab-phi-3.gguf")


def test_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as e:
        ggufscope.open(tmp_path / "nope.gguf")
    assert isinstance(e.value, ggufscope.SourceNotFoundError) and e.value.status == 2
    with pytest.raises(ggufscope.SourceError):
        ggufscope.open(tmp_path)  # a directory
    with pytest.raises(FileNotFoundError):
        ggufscope.GGUFReader(tmp_path / "nope.gguf")


def test_not_gguf(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"GGML" + bytes(60))
    with pytest.raises(ggufscope.NotGGUFError) as e:
        ggufscope.open(p)
    assert (e.value.code, e.value.offset, e.value.key) == ("bad_magic", 0, None)
    assert isinstance(e.value, ValueError)  # as gguf-py raises for a bad magic
    with pytest.raises(ValueError):
        gguf.GGUFReader(p)


def test_truncated_metadata_names_the_key_and_the_bytes_needed(tmp_path: Path) -> None:
    data = PHI3.read_bytes()
    f = ggufscope.open(PHI3)
    key = "tokenizer.ggml.scores"
    start = f.metadata.offset(key)
    cut = start + 100  # inside the key's entry
    p = tmp_path / "cut.gguf"
    p.write_bytes(data[:cut])
    with pytest.raises(ggufscope.TruncatedError) as e:
        ggufscope.open(p)
    err = e.value
    assert err.code == "truncated" and err.key == key and err.available == cut
    assert cut < err.needed <= len(data) and err.offset >= start
    assert str(cut) in str(err) and key in str(err)


def test_strict_and_lenient_parsing(tmp_path: Path) -> None:
    # A key that breaks the naming rules (upper case): strict refuses, lenient lists it.
    w = gguf.GGUFWriter(str(tmp_path / "k.gguf"), "llama")
    w.add_uint32("general.Bad_Key", 1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
    p = tmp_path / "k.gguf"
    with pytest.raises(ggufscope.FormatError) as e:
        ggufscope.open(p, strict=True)
    assert e.value.code == "invalid_key" and e.value.key == "general.Bad_Key"
    offset = e.value.offset
    f = ggufscope.open(p)
    assert f.metadata["general.Bad_Key"] == 1
    (d,) = f.diagnostics
    assert (d["code"], d["key"], d["offset"]) == ("invalid_key", "general.Bad_Key", offset)
    assert gguf.GGUFReader(p).fields["general.Bad_Key"].offset == offset


def test_duplicate_key(tmp_path: Path) -> None:
    # Two entries with one key, written by hand (gguf-py's writer refuses to).
    def kv(key: str, value: int) -> bytes:
        k = key.encode()
        return struct.pack("<Q", len(k)) + k + struct.pack("<II", 4, value)

    body = kv("general.architecture_x", 1) + kv("a.b", 2) + kv("a.b", 3)
    p = tmp_path / "dup.gguf"
    p.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 3) + body)
    second = 24 + len(kv("general.architecture_x", 1)) + len(kv("a.b", 2))
    with pytest.raises(ggufscope.FormatError) as e:
        ggufscope.open(p, strict=True)
    assert (e.value.code, e.value.key, e.value.offset) == ("duplicate_key", "a.b", second)
    f = ggufscope.open(p)
    assert f.metadata["a.b"] == 2 and [d["code"] for d in f.diagnostics] == ["duplicate_key"]
    with pytest.raises(KeyError):
        gguf.GGUFReader(p)  # gguf-py refuses it ...
    with pytest.raises(KeyError):
        ggufscope.GGUFReader(p)  # ... and so does the drop-in


def test_tensor_data_past_the_end(tmp_path: Path) -> None:
    head = ARCHS[0]
    f = ggufscope.open(head)
    t = f.tensors[0]
    assert t.offset >= f.file_size  # a corpus head has no data
    with pytest.raises(ggufscope.TensorDataError) as e:
        t.numpy()
    assert e.value.tensor == t.name and e.value.offset == t.offset
    assert str(f.file_size) in str(e.value)
    with pytest.raises(ggufscope.TensorDataError):
        ggufscope.GGUFReader(head).tensors[0].data


def test_read_only_modes() -> None:
    with pytest.raises(ValueError, match="read-only"):
        ggufscope.GGUFReader(PHI3, "r+")


def test_analyses_on_the_phi3_vocab_file() -> None:
    f = ggufscope.open(PHI3)
    md = f.metadata
    config = f.config()
    assert config["architecture"] == md["general.architecture"] == "phi3"
    assert config["block_count"] == md["phi3.block_count"] == 32
    assert config["embedding_length"] == md["phi3.embedding_length"]
    v = f.validate()
    assert set(v) >= {"ok", "findings"} and isinstance(v["findings"], list)
    # KV cache at 4096 tokens, f16: 32 layers x (K + V) x 3072 x 4096 x 2 bytes = 1536 MiB,
    # what llama.cpp allocates for this layout (docs: memory.md, checked against llama.cpp).
    m = f.memory(ctx=4096, flash_attn="off")
    assert m["kv_cache_bytes"] == 32 * 2 * 3072 * 4096 * 2 == 1536 << 20
    assert m["n_ctx"] == 4096 and m["file"] == PHI3.name
    m8 = f.memory(ctx=4096, kv_type="q8_0")
    # q8_0 rows: 3072 / 32 blocks of 34 bytes
    assert m8["kv_cache_bytes"] == 32 * 2 * (3072 // 32 * 34) * 4096
    # -ctk q4_1 (blocks of 20 bytes) and -ctv iq4_nl (18 bytes), one stream for 2 sequences
    mk = f.memory(ctx=4096, cache_type_k="q4_1", cache_type_v="iq4_nl", kv_unified=True, parallel=2)
    assert mk["options"]["kv_type"] == "q4_1/iq4_nl" and mk["options"]["kv_unified"] is True
    assert mk["kv_cache_bytes"] == 32 * (3072 // 32) * (20 + 18) * 4096
    gpu = f.memory(ctx=4096, gpu_mem=["8G"], ngl=10)
    fit = gpu["gpu_fit"]
    assert fit["layers_on_gpus"] + fit["layers_on_host"] == 32
    assert all(g["used_bytes"] <= g["budget_bytes"] == 8 << 30 for g in fit["gpus"])
    report = f.report()
    assert report["file"] == PHI3.name and report["config"]["block_count"] == 32
    qwen2 = next(p for p in REAL if p.name == "ggml-vocab-qwen2.gguf")
    cmp = f.compare(qwen2)
    assert cmp == f.compare(ggufscope.open(qwen2))
    assert cmp["a"]["file"] == PHI3.name and cmp["b"]["file"] == qwen2.name
    with pytest.raises(ggufscope.ArgumentError):
        f.memory(no_such_option=1)
    with pytest.raises(ggufscope.ArgumentError) as e:
        f.memory(ctx="many")
    assert "many" in str(e.value)


def test_unsupported_architecture(tmp_path: Path) -> None:
    w = gguf.GGUFWriter(str(tmp_path / "u.gguf"), "not-an-architecture")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
    f = ggufscope.open(tmp_path / "u.gguf")
    with pytest.raises(ggufscope.UnsupportedArchitectureError) as e:
        f.memory()
    assert e.value.status == 3


def test_metadata_mapping_and_types() -> None:
    f = ggufscope.open(PHI3)
    g = gguf.GGUFReader(PHI3)
    md = f.metadata
    assert len(md) == len(g.fields) - 3 and "phi3.block_count" in md and "nope" not in md
    assert md.get("nope") is None and dict(md.items()).keys() == set(md)
    assert md.value_type("phi3.block_count") == "u32"
    assert md.value_type("tokenizer.ggml.tokens") == "array"
    assert md.element_type("tokenizer.ggml.tokens") == "string"
    tokens = md["tokenizer.ggml.tokens"]
    assert isinstance(tokens, ggufscope.StringArray)
    gt = g.fields["tokenizer.ggml.tokens"]
    assert tokens[123] == gt.contents(123) and tokens[-1] == gt.contents(-1)
    assert tokens[10:20] == gt.contents(slice(10, 20))
    with pytest.raises(IndexError):
        tokens[len(tokens)]
    scores = md["tokenizer.ggml.scores"]
    assert scores.dtype == np.float32 and not scores.flags.writeable
    assert ggufscope.GGML_TYPES["q4_K"] == (12, 256, 144)
    assert ggufscope.GGMLQuantizationType.Q4_K == gguf.GGMLQuantizationType.Q4_K
    assert ggufscope.GGUFValueType.STRING == gguf.GGUFValueType.STRING
