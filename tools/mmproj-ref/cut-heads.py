#!/usr/bin/env python3
"""Cuts GGUF files to their heads (every byte before the tensor data: header, metadata, tensor
infos), as the llama-archs fixtures are: a projector's compute buffer depends on its header only.

    cut-heads.py OUT_DIR FILE.gguf...
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, os.environ.get("GGUF_PY", "/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp/gguf-py"))
import gguf  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for f in sys.argv[2:]:
    head = gguf.GGUFReader(f).data_offset
    data = Path(f).read_bytes()[:head]
    (out / Path(f).name).write_bytes(data)
    print(f"{Path(f).name}: {head} of {os.path.getsize(f)} bytes")
