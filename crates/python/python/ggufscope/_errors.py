"""The exceptions of ggufscope.

Every error is a :class:`GGUFError` (a :class:`ValueError`, as gguf-py raises for a bad file)
carrying where it happened:

- ``code``: a stable machine-readable code (``"truncated"``, ``"bad_magic"``, ``"invalid_key"``,
  ``"tensor_data"``…), or ``None`` when no format error caused it;
- ``offset``: the byte offset in the file where the defect was found, or ``None``;
- ``key``: the metadata key it belongs to, or ``None``;
- ``tensor``: the tensor it belongs to, or ``None``;
- ``source``: the path or URL, when known;
- ``status``: the exit code the ``ggufscope`` command gives for it (1 configuration unreadable,
  2 unreadable input, 3 unsupported architecture).
"""

from __future__ import annotations

from typing import Any, Optional


class GGUFError(ValueError):
    """Base class of every ggufscope error."""

    code: Optional[str]
    offset: Optional[int]
    key: Optional[str]
    tensor: Optional[str]
    source: Optional[str]
    status: int

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        offset: Optional[int] = None,
        key: Optional[str] = None,
        tensor: Optional[str] = None,
        source: Optional[str] = None,
        status: int = 2,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.offset = offset
        self.key = key
        self.tensor = tensor
        self.source = source
        self.status = status
        for name, value in extra.items():
            setattr(self, name, value)


class FormatError(GGUFError):
    """The bytes are not a valid GGUF file (see ``code``, ``offset``, ``key``, ``tensor``)."""


class TruncatedError(FormatError):
    """The file ends before the structure it declares: ``needed`` bytes in all are needed to go
    on, ``available`` are there."""

    needed: int
    available: int


class NotGGUFError(FormatError):
    """The first four bytes are not ``GGUF``."""


class SourceError(GGUFError, OSError):
    """The file or the server cannot be read (also an :class:`OSError`)."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """The local file does not exist (also a :class:`FileNotFoundError`)."""


class UnsupportedArchitectureError(GGUFError):
    """The model's architecture is not one llama.cpp knows (the command's exit 3)."""


class ModelError(GGUFError):
    """The file parses, but its configuration cannot be read the way llama.cpp reads it (a
    missing or mistyped key, contradictory hyper-parameters: the command's exit 1)."""


class ArgumentError(GGUFError):
    """An analysis was given an option it does not know, or a value it refuses."""


class TensorDataError(GGUFError):
    """A tensor's data cannot be given: it lies past the end of the file (a file cut short) or
    its type's size is unknown."""


__all__ = [
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
