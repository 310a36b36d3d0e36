"""Peer benchmark: `python gguf_reader.py FILE` opens FILE with the `gguf` package's GGUFReader
(llama.cpp's gguf-py: memory-maps the file and decodes the header, every metadata field and
every tensor info), reads the architecture and prints `arch n_kv n_tensors`."""

import sys

from gguf import GGUFReader


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: gguf_reader.py FILE.gguf", file=sys.stderr)
        return 2
    reader = GGUFReader(sys.argv[1])
    arch_field = reader.get_field("general.architecture")
    arch = arch_field.contents() if arch_field is not None else "?"
    n_kv = int(reader.get_field("GGUF.kv_count").contents())
    print(f"{arch} {n_kv} {len(reader.tensors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
