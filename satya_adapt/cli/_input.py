"""Reading a command's inputs: DATA (a JSON array or NDJSON, in a file or on standard input)
and the JSON Schema file."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from typing import Any

from ..config import READ_AHEAD_BYTES as _SNIFF_BYTES  # read from DATA to tell JSON from NDJSON
from ._common import CliError, _one_line, _os_error_text

_WHITESPACE = b" \t\r\n"


_BOM = b"\xef\xbb\xbf"


class _PrefixedReader:
    """A binary reader that returns ``prefix`` first, then reads ``raw``."""

    def __init__(self, prefix: bytes, raw: Any) -> None:
        self._prefix = prefix
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                out, self._prefix = self._prefix + bytes(self._raw.read()), b""
                return out
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        return bytes(self._raw.read(size))


def _sniff_kind(head: bytes) -> str | None:
    """``"json"`` when the first non-whitespace byte is ``[``, ``"ndjson"`` when it is another
    byte, ``None`` when ``head`` is only whitespace (read more)."""
    head = head.removeprefix(_BOM)
    stripped = head.lstrip(_WHITESPACE)
    if not stripped:
        return None
    return "json" if stripped[:1] == b"[" else "ndjson"


class Data:
    """DATA opened for validation: ``kind`` (``"json"`` or ``"ndjson"``) and ``source`` (JSON
    bytes; an NDJSON path or binary reader), plus its size in bytes when known."""

    def __init__(self, name: str, kind: str, source: Any, size: int | None, detected: bool):
        self.name = name
        self.kind = kind
        self.source = source
        self.size = size
        self.detected = detected


def open_data(path: str, input_kind: str) -> Data:
    """Opens DATA (a path, or ``-`` for standard input) as a JSON array or NDJSON.

    ``input_kind`` ``"auto"`` reads the first non-whitespace byte: ``[`` is a JSON array,
    anything else NDJSON. JSON arrays are read whole into memory; NDJSON is streamed. A path
    that is not a regular file (a FIFO, ``/dev/stdin``) is read as a stream, as ``-`` is.
    """
    if path == "-":
        return _open_stream(sys.stdin.buffer, "<stdin>", input_kind)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise CliError(f"cannot read {path}: it is a directory")
        if not stat.S_ISREG(mode):
            return _open_stream(open(path, "rb"), path, input_kind)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            kind = None if input_kind == "auto" else input_kind
            head = b""
            while kind is None:
                block = f.read(_SNIFF_BYTES)
                if not block:
                    kind = "ndjson"
                    break
                head += block
                kind = _sniff_kind(head)
            if kind == "json":
                data = head + f.read()
                return Data(path, "json", data, size, input_kind == "auto")
    except OSError as exc:
        raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
    return Data(path, "ndjson", path, size, input_kind == "auto")


def _open_stream(raw: Any, name: str, input_kind: str) -> Data:
    """DATA from a binary stream: the first bytes tell the kind, the engine reads them first."""
    head = b""
    kind = None if input_kind == "auto" else input_kind
    if kind is None:
        while True:
            block = raw.read1(_SNIFF_BYTES) if hasattr(raw, "read1") else raw.read(_SNIFF_BYTES)
            if not block:
                break
            head += block
            kind = _sniff_kind(head)
            if kind is not None:
                break
        kind = kind or "ndjson"
    if kind == "json":
        data = head + raw.read()
        return Data(name, "json", data, len(data), input_kind == "auto")
    return Data(name, "ndjson", _PrefixedReader(head, raw), None, input_kind == "auto")


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number"}


def load_schema(path: str) -> Any:
    """The JSON Schema document in the file at ``path`` (parsed, not yet compiled): a JSON
    object or boolean in UTF-8 (one leading byte order mark is skipped)."""
    from ..schema import MAX_SCHEMA_DEPTH

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise CliError(f"cannot read the schema {_os_error_text(exc, path)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(
            f"the schema {path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    if not text.strip():
        raise CliError(f"the schema {path} is empty")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CliError(f"the schema {path} is not valid JSON: {_one_line(exc)}") from None
    except RecursionError:
        raise CliError(
            f"invalid schema {path}: the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
        ) from None
    if not isinstance(document, (dict, bool)):
        kind = "null" if document is None else _JSON_TYPES.get(type(document), "a number")
        raise CliError(
            f"invalid schema {path}: a JSON Schema is an object or a boolean, got {kind}"
        )
    return document


def _make_validator(args: argparse.Namespace, adapt: bool = True) -> Any:
    from ..errors import SchemaError
    from ..validator import Validator

    document = load_schema(args.schema)
    try:
        return Validator(document, archive=getattr(args, "archive", None), adapt=adapt)
    except SchemaError as exc:
        raise CliError(f"invalid schema {args.schema}: {_one_line(exc)}") from None
