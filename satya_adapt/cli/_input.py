"""Reading a command's inputs: DATA (a JSON array or NDJSON, in a file or on standard input)
and the JSON Schema file."""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import stat
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from .._inputs import Opened, open_input, utf16_without_bom
from ..errors import InputError
from ._common import CliError, _bytes, _one_line, _os_error_text


class Data:
    """DATA opened for validation: ``kind`` (``"json"`` or ``"ndjson"``, how the engine
    reads it), ``source`` (the opened input, for the validator), its size in bytes when known,
    ``detected`` (the kind was guessed), ``compression`` and ``document`` (one JSON document
    spread over lines, read as one record); ``file_size``: the size of DATA's file when it
    was opened (``None`` for a stream: standard input, a pipe)."""

    def __init__(
        self, name: str, opened: Opened, detected: bool, file_size: int | None = None
    ) -> None:
        self.name = name
        self.kind = opened.kind
        self.source = opened
        self.size = opened.size
        self.detected = detected
        self.compression = opened.compression
        self.document = opened.document
        self.file_size = file_size

    def changed(self) -> str | None:
        """What happened to DATA's file while it was read, if anything (see :func:`changed`)."""
        return None if self.file_size is None else changed(self.name, self.file_size)

    def close(self) -> None:
        self.source.close()


def changed(path: str, size: int) -> str | None:
    """What happened to the regular file at ``path``, ``size`` bytes long when it was opened,
    while it was read: the message of a warning where its size is now another (a log
    truncated, or appended to, during the command), else ``None``. The engine reads a file to
    its end, so the report covers what was there when it got there. A file that changed and
    came back to its size is not seen, nor a stream that ended early (standard input, a pipe:
    its end is all there is to know of its length)."""
    try:
        now = os.stat(path).st_size
    except OSError:
        return None  # (removed or renamed since: what was opened was read whole)
    if now == size:
        return None
    if now < size:
        return (
            f"{path} shrank from {size:,} to {now:,} bytes while it was read: the records"
            " that were cut off are not in the report"
        )
    return (
        f"{path} grew from {size:,} to {now:,} bytes while it was read: records written"
        " meanwhile may be missing from the report, or the last one cut short (a `json` error)"
    )


def add_pointer_option(p: argparse.ArgumentParser) -> None:
    """``--pointer PTR``: DATA is one JSON document whose records are the array at PTR."""
    p.add_argument(
        "--pointer",
        type=_pointer,
        metavar="PTR",
        help="DATA is one JSON document whose records are the array at this JSON Pointer"
        " (e.g. /statuses, /data/items; ~1 and ~0 stand for / and ~ in a key)",
    )


def _pointer(text: str) -> str:
    from .._validator import locate

    try:
        locate(b"0", text)  # the core's own reading of the pointer
    except InputError:
        pass  # a pointer: nothing at it in this document, which says nothing of DATA
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def open_data(
    path: str, input_kind: str, pointer: str | None = None, max_bytes: int | None = None
) -> Data:
    """Opens DATA (a path, or ``-`` for standard input) by its content, as
    :mod:`satya_adapt._inputs` does for the API: compressed input is decompressed, a file
    format that is not JSON is an error, and with ``input_kind`` ``"auto"`` the text decides
    (``[`` first: a JSON array; one JSON document spread over lines: one record; else NDJSON).
    JSON arrays are read whole into memory; NDJSON is streamed. A path that is not a regular
    file (a FIFO, ``/dev/stdin``) is read as a stream, as ``-`` is. With ``pointer`` (a JSON
    Pointer), DATA is one JSON document and the records are the array the pointer leads to.
    ``max_bytes``: the longest decompressed JSON array held (``--max-record-bytes``).
    """
    kind = None if input_kind == "auto" else input_kind
    if pointer is not None:
        if kind in ("ndjson", "document"):
            raise CliError(
                f"--pointer reads the records of an array in DATA: not with --input-kind {kind}"
            )
    source: Any = sys.stdin.buffer
    name = "<stdin>"
    file_size = None
    if path != "-":
        name = path
        try:
            status = os.stat(path)
        except OSError as exc:
            raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
        if stat.S_ISDIR(status.st_mode):
            raise CliError(f"cannot read {path}: it is a directory")
        if stat.S_ISREG(status.st_mode):
            file_size = status.st_size
        source = Path(path)
    try:
        opened = open_input(
            source, kind, max_bytes=max_bytes or _MAX_DOCUMENT_BYTES, default="cli", pointer=pointer
        )
    except InputError as exc:
        hint = " (--max-record-bytes sets it)" if "`max_record_bytes`" in str(exc) else ""
        raise CliError(f"{name}: {_one_line(exc)}{hint}") from None
    except OSError as exc:
        raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
    return Data(name, opened, input_kind == "auto", file_size)


#: The longest decompressed JSON array the command line holds in memory (the default
#: ``max_record_bytes`` of a `Validator`).
_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number"}

#: The longest schema file read (the largest SchemaStore schema is a few MB).
MAX_SCHEMA_BYTES = 64 * 1024 * 1024


def load_schema(path: str) -> Any:
    """The JSON Schema document in the file at ``path`` (parsed, not yet compiled): a JSON
    object or boolean in UTF-8 (one leading byte order mark is skipped)."""
    from ..schema import MAX_SCHEMA_DEPTH

    try:
        with open(path, "rb") as f:
            # Bounded: `--schema /dev/zero` read until memory ran out, then a traceback.
            raw = f.read(MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read the schema {_os_error_text(exc, path)}") from None
    if len(raw) > MAX_SCHEMA_BYTES:
        raise CliError(
            f"the schema {path} is longer than {MAX_SCHEMA_BYTES >> 20} MiB: a schema file,"
            " not data, is expected after --schema"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # (its byte order mark)
            raise CliError(
                f"the schema {path} is UTF-16 text, not UTF-8: save it as UTF-8"
            ) from None
        raise CliError(
            f"the schema {path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    utf16 = utf16_without_bom(raw) if b"\x00" in raw[:2] else None
    if utf16 is not None:
        raise CliError(
            f"the schema {path} is {utf16} text without a byte order mark, not UTF-8: save it"
            " as UTF-8"
        )
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


#: Bounds on the files relative references bring in: how many, and the bytes of each.
MAX_RESOURCE_FILES = 1000
MAX_RESOURCE_BYTES = 16 * 1024 * 1024


def _refs(document: Any) -> list[str]:
    """The ``$ref`` values (strings) anywhere in ``document``, in document order."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


def schema_resources(path: str, document: Any) -> dict[str, Any]:
    """The files that ``document`` (the schema in the file at ``path``) and the files it
    names reference by a relative URI (``"$ref": "b.json#/$defs/x"``, ``"defs/c.json"``),
    read from the schema's folder, as ``resources`` for the validator: keyed by the path
    relative to that folder, and by that path resolved against the root's ``$id`` when it has
    an absolute one.
    Only JSON files under the schema's folder, at most :data:`MAX_RESOURCE_FILES` of at most
    :data:`MAX_RESOURCE_BYTES` each; a name with no such file is left to the compiler (it may
    be an embedded resource's ``$id``), whose error then says which file was looked for."""
    root = Path(path).resolve().parent
    found = document.get("$id", document.get("id")) if isinstance(document, dict) else None
    base = found if isinstance(found, str) and urllib.parse.urlsplit(found).scheme else ""
    resources: dict[str, Any] = {}
    seen: set[str] = set()
    files = 0
    pending = [(document, Path(path).resolve().relative_to(root).as_posix())]
    while pending:
        doc, here = pending.pop()
        for ref in _refs(doc):
            target = ref.split("#", 1)[0]
            parts = urllib.parse.urlsplit(target)
            if not target or parts.scheme or parts.netloc or target.startswith("/"):
                continue  # the same document, or an absolute URI: no file of the folder
            rel = posixpath.normpath(
                posixpath.join(posixpath.dirname(here), urllib.parse.unquote(parts.path))
            )
            if rel in seen:
                continue
            seen.add(rel)
            file = (root / rel).resolve()
            if rel.startswith("../") or root not in file.parents or not file.is_file():
                continue
            if files >= MAX_RESOURCE_FILES:
                raise CliError(
                    f"the schema {path} references more than {MAX_RESOURCE_FILES} files"
                )
            if file.stat().st_size > MAX_RESOURCE_BYTES:
                raise CliError(
                    f"the schema {path}: `$ref` {_shown_ref(ref)} names {file}, which is over"
                    f" the {_bytes(MAX_RESOURCE_BYTES)} limit"
                )
            loaded = load_schema(str(file))
            files += 1
            # Under its name relative to the folder too: up to draft 7 a `$ref` makes the
            # keywords beside it ignored, the root's `$id` included, so `{"$id": ..., "$ref":
            # "b.json"}` resolves against the file's own place, not the `$id`.
            resources[rel] = loaded
            if base:
                resources[urllib.parse.urljoin(base, rel)] = loaded
            pending.append((loaded, rel))
    return resources


def _shown_ref(ref: str) -> str:
    return f"`{ref}`" if len(ref) <= 80 else f"`{ref[:80]}...` ({len(ref)} characters)"


def _make_validator(args: argparse.Namespace, adapt: bool = True) -> Any:
    from ..errors import SchemaError
    from ..validator import Validator

    document = load_schema(args.schema)
    resources = schema_resources(args.schema, document)
    try:
        return Validator(
            document,
            archive=getattr(args, "archive", None),
            adapt=adapt,
            draft=getattr(args, "draft", None),
            resources=resources or None,
            max_record_bytes=getattr(args, "max_record_bytes", None) or _MAX_DOCUMENT_BYTES,
        )
    except SchemaError as exc:
        # (the API's hint for `resources` without its own, for files under the folder)
        bare = getattr(exc, "without_hint", None)
        message = f"invalid schema {args.schema}: {_one_line(SchemaError(bare) if bare else exc)}"
        raise CliError(message + _ref_hint(message, args.schema, document, args)) from None


def _ref_hint(message: str, path: str, document: Any, args: argparse.Namespace) -> str:
    """What the user can do about the `$ref` that ``message`` says the schema at ``path``
    cannot resolve: a relative one is read from a file under the schema's folder; an absolute
    URI is never fetched, so the schema it names is embedded, saved as a file, or given to
    the Python API in `resources`. ``""`` when ``message`` is about something else."""
    from ..schema import UNRESOLVED

    start = message.find(UNRESOLVED)
    if start < 0:
        return ""
    ref = message[start + len(UNRESOLVED):].rsplit("` (at ", 1)[0]
    folder = f"{Path(path).parent.as_posix() or '.'}/"
    if not urllib.parse.urlsplit(ref).scheme:
        return f" (relative references are read from files under {folder})"
    uri = ref.split("#", 1)[0]
    draft_4 = getattr(args, "draft", None) == "4" or (
        getattr(args, "draft", None) is None
        and isinstance(document, dict)
        and "draft-04" in str(document.get("$schema", ""))
    )
    id_ = "id" if draft_4 else "$id"
    # (a long URI, or one the message shortened, is not repeated)
    shortened = ref.endswith(" characters)")
    named = f'"{id_}": "{uri}"' if len(uri) <= 80 and not shortened else f"its URI as `{id_}`"
    return (
        f" (absolute URIs are never fetched: embed the schema it names in"
        f" `{'definitions' if draft_4 else '$defs'}` with {named}, or save it as a file under"
        f" {folder} and `$ref` that file; in Python, pass it in `Validator(resources=...)`)"
    )
