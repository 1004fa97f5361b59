"""Reading a command's inputs: DATA (a JSON array or NDJSON, in a file or on standard input)
and the JSON Schema file."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from .._inputs import Opened, open_input
from ..errors import InputError
from ._common import CliError, _one_line, _os_error_text


class Data:
    """DATA opened for validation: ``kind`` (``"json"`` or ``"ndjson"``, how the engine
    reads it), ``source`` (the opened input, for the validator), its size in bytes when known,
    ``detected`` (the kind was guessed), ``compression`` and ``document`` (one JSON document
    spread over lines, read as one record)."""

    def __init__(self, name: str, opened: Opened, detected: bool):
        self.name = name
        self.kind = opened.kind
        self.source = opened
        self.size = opened.size
        self.detected = detected
        self.compression = opened.compression
        self.document = opened.document

    def close(self) -> None:
        self.source.close()


def open_data(path: str, input_kind: str) -> Data:
    """Opens DATA (a path, or ``-`` for standard input) by its content, as
    :mod:`satya_adapt._inputs` does for the API: compressed input is decompressed, a file
    format that is not JSON is an error, and with ``input_kind`` ``"auto"`` the text decides
    (``[`` first: a JSON array; one JSON document spread over lines: one record; else NDJSON).
    JSON arrays are read whole into memory; NDJSON is streamed. A path that is not a regular
    file (a FIFO, ``/dev/stdin``) is read as a stream, as ``-`` is.
    """
    kind = None if input_kind == "auto" else input_kind
    source: Any = sys.stdin.buffer
    name = "<stdin>"
    if path != "-":
        name = path
        try:
            if stat.S_ISDIR(os.stat(path).st_mode):
                raise CliError(f"cannot read {path}: it is a directory")
        except OSError as exc:
            raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
        source = Path(path)
    try:
        opened = open_input(source, kind, max_bytes=_MAX_DOCUMENT_BYTES, default="cli")
    except InputError as exc:
        raise CliError(f"{name}: {_one_line(exc)}") from None
    except OSError as exc:
        raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
    return Data(name, opened, input_kind == "auto")


#: The longest decompressed JSON array the command line holds in memory (the default
#: ``max_record_bytes`` of a `Validator`).
_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


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
