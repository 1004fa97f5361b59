"""Inputs as they come: what a validate call (or ``satya-adapt validate``) was given, told
apart by its content, never by its name, and opened for the engine.

This module is the one place that looks at an input's first bytes. For bytes, str, paths and
binary streams alike:

1. Compressed input is decompressed as a stream, by its magic bytes: gzip (``1f 8b``, the
   standard library) and zstd (``28 b5 2f fd``, the optional ``zstandard`` package). The
   engine reads the decompressed stream block by block as it reads any file object, so an
   NDJSON line is still limited by ``max_record_bytes``: a decompression bomb stops at the
   limit instead of filling memory. A JSON array is held whole in memory (as an uncompressed
   one is), so a decompressed one is limited by ``max_record_bytes`` too.
2. A file format that is not JSON (Parquet, ZIP, PNG, ELF, PDF, other compressions, UTF-16
   text, with a byte order mark or without one) raises :class:`InputError` naming what it
   looks like.
3. Only when the input kind is guessed (no ``input_kind``, ``--input-kind auto``), the text
   decides: ``[`` first is a JSON array; one JSON object spread over several lines (its first
   line does not end the value) is one record, read as one NDJSON line (a JSON text holds no
   raw line breaks inside its strings, so they become spaces); a CSV header, XML/HTML, prose or
   other binary data raise :class:`InputError`; anything else is NDJSON. Empty or
   whitespace-only input, or input whose first character begins no JSON value, keeps the kind
   of its type: a path or a stream is NDJSON; bytes and str would be a JSON array, so they
   raise :class:`InputError` saying what they look like (empty, whitespace only, or starting
   with U+00A0, say).

A forced kind (``validate_json``, ``validate_ndjson``, ``input_kind=``) still gets steps 1
and 2: it forces a reading, not a decompression of garbage.
"""

from __future__ import annotations

import io
import os
import stat
from typing import IO, Any, Callable, List, Optional, Tuple

from .config import READ_AHEAD_BYTES
from .errors import InputError

__all__ = ["Opened", "open_input", "looks_like_text", "short", "utf16_without_bom"]

BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
#: Line breaks become spaces when one JSON document spread over lines is read as one line.
_ONE_LINE = bytes.maketrans(b"\r\n", b"  ")
#: Layers of compression unwrapped (gzip inside zstd, say); a deeper one is refused.
_MAX_LAYERS = 3
#: The most of a streamed document (stdin, a pipe, a compressed stream) kept as read, to
#: place a JSON error in it by line and column (beyond it, the error gives its byte).
KEEP_DOCUMENT_BYTES = 16 * 1024 * 1024

#: Magic bytes of formats that are not JSON: what each looks like, in a message.
_SIGNATURES: Tuple[Tuple[bytes, str], ...] = (
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive (or an XLSX/DOCX/JAR file)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"BZh", "a bzip2-compressed file (not read: decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (not read: decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x04\x22\x4d\x18", "an LZ4-compressed file (not read: decompress it first)"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"ORC", "an ORC file"),
    (b"Obj\x01", "an Avro file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
_SIGNATURE_FIRST = frozenset(magic[0] for magic, _ in _SIGNATURES)
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
#: The last three bytes of the magic number of a zstd skippable frame (its first, 0x50-0x5f):
#: a stream may start with one (metadata), then its frames.
_ZSTD_SKIPPABLE = b"\x2a\x4d\x18"
#: First bytes that may start compressed input or a format that is not JSON (a zero byte:
#: UTF-16BE text, see :func:`utf16_without_bom`).
_SPECIAL = _SIGNATURE_FIRST | {_GZIP[0], _ZSTD[0], 0, *range(0x50, 0x60)}
#: The first byte of a JSON text that is not an object or an array.
_JSON_STARTS = frozenset(b'"-0123456789tfn')


def short(text: str, limit: int = 80) -> str:
    """``text`` shortened for a message: a message never echoes unbounded input."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text)} characters)"


def looks_like_text(text: str) -> bool:
    """Whether a str given as NDJSON is the text itself rather than a path: it holds a line
    break, it is empty or only whitespace (no records; as a path it was "no such NDJSON file:
    ''"), or its first non-whitespace character is ``{`` or ``[``."""
    head = text.lstrip(" \t\r\ufeff")[:1]
    return "\n" in text or not head or head in "{["


class Opened:
    """An input opened for the engine: ``kind`` (``"json"`` or ``"ndjson"``), ``source``
    (bytes; a path to a regular file, for NDJSON; or a binary reader), ``prefix`` (bytes
    already read from a reader, which the engine reads first), ``size`` (in bytes, when
    known), ``compression`` (``"gzip"``, ``"zstd"`` or ``None``), ``document`` (one JSON
    document spread over lines, read as one record) and ``span`` (JSON: the array is
    ``source[start:end]``, inside a document; ``None``: all of ``source``). ``origin``, for a
    document that can be read again (bytes, a file), opens it again as it was, line breaks
    and all, to place a JSON error in it (:func:`placed`). :meth:`close` closes what was
    opened."""

    __slots__ = (
        "kind", "source", "prefix", "size", "compression", "document", "span", "origin", "_opened"
    )

    def __init__(
        self,
        kind: str,
        source: Any,
        prefix: bytes = b"",
        size: Optional[int] = None,
        compression: Optional[str] = None,
        document: bool = False,
        opened: Optional[List[IO[bytes]]] = None,
        span: Optional[Tuple[int, int]] = None,
    ) -> None:
        self.kind = kind
        self.source = source
        self.prefix = prefix
        self.size = size
        self.compression = compression
        self.document = document
        self.span = span
        self.origin: Optional[Callable[[], Any]] = None
        self._opened = opened or []

    def close(self) -> None:
        for f in reversed(self._opened):
            f.close()
        self._opened = []


class _PrefixedReader:
    """A binary reader that returns ``prefix`` first, then reads ``raw``."""

    def __init__(self, prefix: bytes, raw: Any) -> None:
        self._prefix = prefix
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: Optional[int] = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                out, self._prefix = self._prefix + _as_bytes(self._raw.read()), b""
                return out
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        return _as_bytes(self._raw.read(-1 if size is None else size))


class _OneLine:
    """A binary reader whose line breaks read as spaces (one JSON document as one line).
    ``kept``: the bytes read before it (its stream's head), kept with what it reads, as
    written, while they fit in :data:`KEEP_DOCUMENT_BYTES` (a stream cannot be read again:
    a JSON error is placed in them, see :meth:`again`); ``None``: nothing kept."""

    def __init__(self, raw: Any, kept: Optional[bytes] = None) -> None:
        self._raw = raw
        self._kept = None if kept is None else bytearray(kept)

    def read(self, size: int = -1) -> bytes:
        data = _as_bytes(self._raw.read(size))
        kept = self._kept
        if kept is not None:
            if len(kept) + len(data) <= KEEP_DOCUMENT_BYTES:
                kept += data
            else:
                self._kept = None  # too long to keep: its errors say "in the document"
        return data.translate(_ONE_LINE)

    def again(self) -> _Again:
        """What it kept, read again (``OSError`` where it kept nothing)."""
        if self._kept is None:
            raise OSError("the document was not kept")
        return _bytes_again(bytes(self._kept))()


class _Decompressed:
    """A decompressing reader whose failures (a corrupt or truncated stream) are
    :class:`InputError`."""

    def __init__(self, raw: Any, name: str) -> None:
        self._raw = raw
        self._name = name

    def read(self, size: int = -1) -> bytes:
        import zlib

        try:
            return bytes(self._raw.read(size))
        except InputError:
            raise
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            raise InputError(f"the {self._name} stream is corrupt: {short(_one_line(exc))}") from None
        except Exception as exc:  # zstandard.ZstdError
            if type(exc).__name__ == "ZstdError":
                raise InputError(
                    f"the {self._name} stream is corrupt: {short(_one_line(exc))}"
                ) from None
            raise


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc).strip() or type(exc).__name__).split())


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if data is None:
        raise InputError(
            "`read()` of the NDJSON file object returned None (a non-blocking stream with no"
            " data ready); pass a blocking binary stream"
        )
    if isinstance(data, str):
        raise TypeError("`source` must be opened in binary mode ('rb'), not text mode")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(
            f"`read()` of the NDJSON file object must return bytes, got {type(data).__name__}"
        ) from None


class _ZstdFrames:
    """Whether a zstd stream read so far ends where a frame ends, told from its frame and
    block headers (RFC 8878; nothing is decompressed). ``zstandard``'s stream reader returns
    what it has when its input ends inside a frame, no error: a file cut short (an interrupted
    copy or download) read as fewer records, silently, where gzip says it ended early."""

    def __init__(self) -> None:
        self._want = "magic"  # what the next bytes are
        self._need = 4  # how many of them
        self._have = bytearray()
        self._skip = 0  # the bytes of a block or a skippable frame to pass over
        self._checksum = False  # the frame read ends with a 4-byte checksum
        self._unknown = False  # no zstd this can follow: the decompressor says what is wrong

    @property
    def complete(self) -> bool:
        """Whether the bytes fed so far end between two frames."""
        return self._unknown or (self._want == "magic" and not self._have and not self._skip)

    def feed(self, data: bytes) -> None:
        at = 0
        while at < len(data) and not self._unknown:
            if self._skip:
                step = min(self._skip, len(data) - at)
                self._skip -= step
                at += step
                continue
            step = min(self._need - len(self._have), len(data) - at)
            self._have += data[at : at + step]
            at += step
            if len(self._have) == self._need:
                header, self._have = bytes(self._have), bytearray()
                self._read(header)

    def _next(self, want: str, need: int) -> None:
        self._want, self._need = want, need

    def _read(self, header: bytes) -> None:
        """Moves past ``header``, the ``self._need`` bytes of what ``self._want`` names."""
        if self._want == "magic":
            if header == _ZSTD:
                self._next("descriptor", 1)
            elif header[1:] == _ZSTD_SKIPPABLE and header[0] & 0xF0 == 0x50:
                self._next("skippable", 4)
            else:
                self._unknown = True
        elif self._want == "skippable":
            self._skip = int.from_bytes(header, "little")
            self._next("magic", 4)
        elif self._want == "descriptor":
            flags = header[0]
            single = bool(flags & 0x20)
            self._checksum = bool(flags & 0x04)
            content_size = (1 if single else 0, 2, 4, 8)[flags >> 6]
            rest = (0 if single else 1) + (0, 1, 2, 4)[flags & 0x03] + content_size
            self._next("frame header", rest) if rest else self._next("block", 3)
        elif self._want == "frame header":
            self._next("block", 3)
        elif self._want == "block":
            value = int.from_bytes(header, "little")
            kind, size = (value >> 1) & 0x03, value >> 3
            if kind == 3:
                self._unknown = True  # a reserved block type: the decompressor refuses it
                return
            self._skip = 1 if kind == 1 else size  # (an RLE block holds one byte)
            if not value & 0x01:
                self._next("block", 3)
            elif self._checksum:
                self._next("checksum", 4)
            else:
                self._next("magic", 4)
        else:  # the checksum
            self._next("magic", 4)


class _FramesChecked:
    """A zstd stream whose end inside a frame is an :class:`InputError` (see
    :class:`_ZstdFrames`)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._frames = _ZstdFrames()

    def read(self, size: int = -1) -> bytes:
        data = _as_bytes(self._raw.read(size))
        if data:
            self._frames.feed(data)
        elif not self._frames.complete:
            raise InputError(
                "the zstd stream is corrupt: it ends inside a frame (the file was cut short?)"
            )
        return data


def _decompressor(magic: str, raw: Any) -> Any:
    if magic == "gzip":
        import gzip  # only for compressed input: `import satya_adapt` stays light

        return _Decompressed(gzip.GzipFile(fileobj=raw, mode="rb"), "gzip")
    try:
        import zstandard
    except ImportError:
        raise InputError(
            "this is zstd-compressed input: install the `zstandard` package to read it"
            " (pip install 'satya-adapt[zstd]')"
        ) from None
    checked: Any = _FramesChecked(raw)  # (a file object as far as zstandard reads it)
    reader = zstandard.ZstdDecompressor().stream_reader(checked, read_across_frames=True)
    return _Decompressed(reader, "zstd")


def read_in_place(source: Any) -> bool:
    """Whether ``source``, read as NDJSON, is text in memory that the engine reads in place
    (bytes, or a str of text, not compressed): no read buffers (see :class:`Budget`)."""
    if isinstance(source, str):
        return looks_like_text(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _compression(bytes(source[:4])) is None
    return False


def _compression(head: bytes) -> Optional[str]:
    if head.startswith(_GZIP):
        return "gzip"
    if head.startswith(_ZSTD) or (head[1:4] == _ZSTD_SKIPPABLE and head[0] & 0xF0 == 0x50):
        return "zstd"
    return None


def utf16_without_bom(head: bytes) -> Optional[str]:
    """``"UTF-16LE"`` or ``"UTF-16BE"`` when ``head`` looks like text in UTF-16 without a byte
    order mark: its first character ASCII, and most of its first 256 characters too (every
    other byte zero). UTF-8 JSON has no zero byte, so this is never JSON."""
    sample = head[:512]
    sample = sample[: len(sample) & ~1]
    if not sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    for name, low, high in (("UTF-16LE", even, odd), ("UTF-16BE", odd, even)):
        ascii_chars = sum(1 for lo, hi in zip(low, high) if lo and not hi)
        if low[0] and not high[0] and ascii_chars * 4 >= len(low) * 3:
            return name
    return None


def _not_json(head: bytes, guessed: bool, compression: Optional[str]) -> Optional[str]:
    """What ``head`` looks like when it is clearly not JSON text, else ``None``."""
    what = None
    if head[:1] and head[0] in _SIGNATURE_FIRST:
        what = next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
    if what is None and b"\x00" in head[:2]:
        # (a forced kind too: a zero byte is no JSON text, nor a line of NDJSON)
        utf16 = utf16_without_bom(head)
        if utf16 is not None:
            what = f"{utf16} text without a byte order mark"
    if what is None and guessed:
        what = _not_json_text(head)
    if what is None:
        return None
    inside = f" inside {compression}-compressed input" if compression else ""
    todo = ": re-encode it as UTF-8" if what.startswith("UTF-16") else ""
    return f"this looks like {what}{inside}, not NDJSON or JSON{todo}"


def _not_json_text(head: bytes) -> Optional[str]:
    """A guess from text: binary data, XML/HTML, a CSV header."""
    if b"\x00" in head[:4096]:
        return "binary data"
    text = head.removeprefix(BOM).lstrip(_WHITESPACE)
    first = text[:1]
    if not first or first in b"{[" or (first[0] in _JSON_STARTS and _is_json(_first_line(text))):
        return None
    if first == b"<":
        return "XML or HTML"
    line = _first_line(text)
    if any(sep in line for sep in (b",", b"\t", b";")) and not _is_json(line):
        return "a CSV file"
    lines = _lines(text, 3)
    if first[0] not in _JSON_STARTS and len(lines) > 1 and not any(map(_is_json, lines)):
        # Prose (a README, a licence): no JSON value starts with its first byte, and none of
        # its first lines is JSON. One line alone may be a broken record, and an NDJSON file
        # with one stray header line still reads.
        return "plain text"
    return None


def _lines(text: bytes, most: int) -> List[bytes]:
    """The first ``most`` non-blank lines of ``text`` (the last one may be cut short)."""
    out: List[bytes] = []
    for line in text.split(b"\n", 64):
        line = line.strip(_WHITESPACE)
        if line:
            out.append(line)
            if len(out) == most:
                break
    return out


def _first_line(text: bytes) -> bytes:
    return text.split(b"\n", 1)[0].rstrip(b"\r")


def _is_json(line: bytes) -> bool:
    import json  # only when a kind is guessed: `import satya_adapt` stays light

    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


#: ``default`` -> (the kind of a guessed input whose text does not decide, the kind of one
#: starting with a JSON value on its own first line and ``[``): ``"json"`` for bytes and str,
#: ``"ndjson"`` for paths and streams (NDJSON whose records are arrays starts with ``[``
#: too), ``"cli"`` for ``satya-adapt validate`` (text NDJSON, ``[`` a JSON array).
_DEFAULTS = {"json": ("json", "json"), "ndjson": ("ndjson", "ndjson"), "cli": ("ndjson", "json")}


def _guess(
    head: bytes, complete: bool, default: str, compression: Optional[str] = None
) -> Tuple[str, bool]:
    """The kind a guessed input is read as, and whether it is one JSON object spread over
    lines. ``complete``: ``head`` is the whole input. A JSON array spread over lines
    (pretty-printed) is a JSON array whatever ``default`` says. Where the text would be read
    as a JSON array that it cannot be (empty, whitespace only, a first character that begins
    no JSON value), :class:`InputError` says what the input looks like instead of "expected a
    JSON array at byte N" of an input that never looked like one."""
    text_default, array_default = _DEFAULTS[default]
    text = head.removeprefix(BOM).lstrip(_WHITESPACE)
    if not text:
        if text_default == "json" and complete:
            raise InputError(_no_value(head, compression))
        return text_default, False
    if text[:1] == b"[":
        return ("json" if _spread_over_lines(text, complete) else array_default), False
    if text[:1] == b"{":
        return "ndjson", _spread_over_lines(text, complete)
    if text[0] in _JSON_STARTS:
        return "ndjson", False
    if text_default == "json":
        raise InputError(_bad_start(text, len(head) - len(text), compression))
    return text_default, False


def _no_value(head: bytes, compression: Optional[str]) -> str:
    """The message of guessed bytes or text that hold no JSON value at all."""
    what = f"the decompressed {compression} input" if compression else "the input"
    how = "empty" if not head.removeprefix(BOM) else "whitespace only"
    return (
        f"{what} is {how}, not a JSON array (bytes and text that do not start like NDJSON are"
        " read as one when the input kind is guessed; input_kind='ndjson' reads no records)"
    )


#: Names of control characters that ``unicodedata.name`` does not know.
_CONTROL_NAMES = {"\x0b": "VERTICAL TAB", "\x0c": "FORM FEED", "\x1c": "FILE SEPARATOR",
                  "\x1d": "GROUP SEPARATOR", "\x1e": "RECORD SEPARATOR", "\x85": "NEXT LINE"}


def _bad_start(text: bytes, at: int, compression: Optional[str]) -> str:
    """The message of guessed bytes or text whose first character (``text[0]``, at byte
    ``at``) begins no JSON value."""
    import unicodedata  # only for this message: `import satya_adapt` stays light

    what = f"the decompressed {compression} input" if compression else "the input"
    char = None
    for n in range(1, 5):
        try:
            char = text[:n].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    if char is None:
        shown = f"the byte 0x{text[0]:02x} (not UTF-8)"
    elif char.isprintable() and not char.isspace():
        shown = repr(char)
    else:
        name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
        shown = f"U+{ord(char):04X}" + (f" ({name})" if name else "")
    hint = " (JSON whitespace is only space, tab, CR and LF)" if char and char.isspace() else ""
    return f"{what} starts with {shown} at byte {at}, which begins no JSON value{hint}: not NDJSON or JSON"


def _spread_over_lines(text: bytes, complete: bool) -> bool:
    """Whether the value that ``text`` starts with goes on past its first line: that line
    is not JSON and ends where a value cannot (``{``, ``[``, ``,`` or ``:``)."""
    cut = text.find(b"\n")
    if cut < 0:
        return False  # one line (or longer than the head): NDJSON reads it as it is
    line = text[:cut].rstrip(b" \t\r")
    if not line or line[-1:] not in (b"{", b"[", b",", b":"):
        return False
    return not _is_json(line) and (complete or len(text) > cut + 1)


def _read_head(read: Callable[[int], Any]) -> bytes:
    return _as_bytes(read(READ_AHEAD_BYTES))


def _read_all(read: Callable[[int], Any], head: bytes, limit: int, what: str) -> bytes:
    """``head`` and the rest of a stream, at most ``limit`` bytes."""
    parts = [head]
    total = len(head)
    while True:
        if total > limit:
            raise InputError(
                f"the {what} is longer than `max_record_bytes` ({limit} bytes);"
                " a JSON array is held in memory whole: raise the limit, or use NDJSON"
            )
        block = _as_bytes(read(1 << 20))
        if not block:
            return b"".join(parts)
        total += len(block)
        parts.append(block)


def at_pointer(opened: Opened, pointer: str) -> Opened:
    """The records of a JSON document that wraps them: the array ``pointer`` (a JSON Pointer,
    RFC 6901, such as ``/statuses``; ``""`` is the document itself) leads to in ``opened``,
    a JSON document read whole (kind ``"json"``). The whole document must be JSON; where an
    object repeats a key, its last value counts. ``ValueError`` for a pointer that is not
    one, :class:`InputError` for a document that has no array there."""
    from . import _validator

    if opened.kind != "json" or not isinstance(opened.source, bytes):
        raise InputError("a JSON Pointer selects records in one JSON document, not in NDJSON")
    data = opened.source
    try:
        start, end = _validator.locate(data, pointer)
    except InputError as exc:
        raise InputError(placed_message(opened, str(exc))) from None
    if data[start:start + 1] != b"[":
        what = _JSON_KINDS.get(data[start:start + 1], "a number")
        raise InputError(f"the value at `{pointer}` is {what}, not an array of records")
    # The engine reads the array where it lies in the document (no copy). The document is
    # in memory: what was opened to read it is closed.
    span = None if (start, end) == (0, len(data)) else (start, end)
    opened.close()
    return Opened("json", data, size=end - start, compression=opened.compression, span=span)


#: What a JSON value is, by its first byte (see :func:`at_pointer`).
_JSON_KINDS = {b"{": "an object", b'"': "a string", b"t": "a boolean", b"f": "a boolean",
               b"n": "null"}


#: What the data of a reading kind is, for messages.
_KIND_TEXT = {"json": "JSON", "ndjson": "NDJSON", "document": "JSON"}


def open_input(
    source: Any,
    kind: Optional[str],
    *,
    max_bytes: int,
    str_is_text: bool = True,
    default: str = "ndjson",
    pointer: Optional[str] = None,
    name: str = "source",
) -> Opened:
    """Opens ``source`` (bytes-like, str, a path or a binary reader) for the engine; with
    ``pointer``, as one JSON document narrowed to the array it leads to (:func:`at_pointer`).

    ``kind`` is ``"json"`` or ``"ndjson"`` to force a reading, ``None`` to guess it;
    ``"document"`` reads the whole input as one JSON document, one record (a top-level array
    too: the command line's ``--input-kind document``).
    ``str_is_text``: a str is the text itself (else it is a path unless
    :func:`looks_like_text`). ``default`` (``"json"``, ``"ndjson"`` or ``"cli"``): what a
    guessed input whose text does not decide is read as (see ``_DEFAULTS``). ``max_bytes`` limits a decompressed JSON array held in memory.
    ``name``: the caller's parameter, for messages.
    """
    if pointer is not None:
        if kind == "ndjson":
            raise InputError("a JSON Pointer selects records in one JSON document, not in NDJSON")
        if kind == "document":
            raise InputError(
                "a JSON Pointer selects records in one JSON document, not the document as one record"
            )
        document = open_input(
            source, "json", max_bytes=max_bytes, str_is_text=str_is_text, default=default, name=name
        )
        try:
            return at_pointer(document, pointer)
        except BaseException:
            document.close()
            raise
    if (
        kind is not None and type(source) is bytes
        and (not source or (source[0] not in _SPECIAL and source[1:2] != b"\x00"))
        and kind != "document"
    ):
        # The hot path (validate_json/validate_ndjson on bytes): no magic bytes can match.
        return Opened(kind, source, size=len(source))
    if isinstance(source, str) and (str_is_text or looks_like_text(source)):
        try:
            source = source.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(f"the JSON text is not valid Unicode: {exc.reason}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        compression = _compression(data[:4])
        if compression is not None:
            return _open_stream(
                io.BytesIO(data), kind, max_bytes, default, [], compression=None, layers=0
            )
        return _open_bytes(data, kind, default)
    if isinstance(source, (str, os.PathLike)):
        return _open_path(source, kind, max_bytes, default)
    read = getattr(source, "read", None)
    if read is None:
        what = _KIND_TEXT.get(kind or "", "JSON or NDJSON")
        hint = (
            "; records in a list are validated with validate_batch"
            if isinstance(source, (list, tuple)) else ""
        )
        raise TypeError(
            f"`{name}` must be {what} text (bytes or str), a path or a binary file object, got"
            f" {type(source).__name__}{hint}"
        )
    return _open_stream(source, kind, max_bytes, default, [], compression=None, layers=0)


def said_of(opened: Opened, message: str) -> str:
    """The engine's ``message`` about the input ``opened``, in the user's terms: a document
    (one record over lines) is read as one line of NDJSON, but it is not "NDJSON line 1"."""
    if opened.document:
        return message.replace("NDJSON line 1 is longer", "the document is longer", 1)
    return message


_ON_LINE_1 = "Invalid JSON on line 1: "
_AT_BYTE = " at byte "
#: The bytes that continue a UTF-8 character: a column counts the others.
_CONTINUATION = bytes(range(0x80, 0xC0))


#: How the engine names a space it did not expect (see :func:`placed`).
_SPACE_BYTE = "byte 0x20"


def placed(opened: Opened, errors: List[Any]) -> List[Any]:
    """``errors`` of the input ``opened``, with the engine's JSON error about a document (read
    as one line, so "on line 1" of what the engine saw) placed in the document as the user
    wrote it: line and column (in characters), where ``opened`` can be read again; else
    said to be in the document."""
    if not opened.document or not errors:
        return errors
    out = list(errors)
    for i, e in enumerate(out):
        if e.keyword != "json" or not e.message.startswith(_ON_LINE_1):
            continue
        what = e.message[len(_ON_LINE_1):]
        head, at, number = what.rpartition(_AT_BYTE)
        where = _place(opened.origin, int(number), False) if at and number.isdigit() else None
        if where is None:
            message = f"Invalid JSON in the document: {what}"
        else:
            line, column, offset, value = where
            if value is not None and head.endswith(_SPACE_BYTE) and value != 0x20:
                # The engine read the document as one line, its line breaks as spaces.
                head = f"{head[: -len(_SPACE_BYTE)]}byte 0x{value:02x}"
            message = f"Invalid JSON on line {line}, column {column}: {head}{_AT_BYTE}{offset}"
        out[i] = type(e)(e.index, e.path, e.keyword, message, e.schema_path)
    return out


def placed_message(opened: Opened, message: str) -> str:
    """The engine's ``message`` about JSON text ``opened`` (held in memory) that ends "at
    byte N", with the line and column of that byte past line 1: "(line 3, column 11)"."""
    _, at, number = message.rpartition(_AT_BYTE)
    if opened.kind != "json" or not isinstance(opened.source, (bytes, bytearray, memoryview)) or not at:
        return message
    where = _place(_bytes_again(opened.source), int(number), True) if number.isdigit() else None
    if where is None or where[0] == 1:  # (on line 1 the byte says where)
        return message
    return f"{message} (line {where[0]}, column {where[1]})"


def _place(
    origin: Optional[Callable[[], Any]], offset: int, counts_bom: bool
) -> Optional[Tuple[int, int, int, Optional[int]]]:
    """``(line, column, byte, value)``, from 1, 1 and 0, of the engine's ``offset`` in the text
    ``origin`` opens again, and the value of the byte there (``None`` at the end); a leading
    BOM is no character of line 1, and the byte counts it (``counts_bom``: the offset does
    already, as a JSON array's does; a document's, read as a line of NDJSON, does not).
    ``None`` where it cannot be read again."""
    if origin is None:
        return None
    try:
        reader = origin()
    except (OSError, InputError):
        return None
    try:
        pending = _as_bytes(reader.read(len(BOM)))
        start = len(BOM) if pending == BOM else 0
        if not counts_bom:
            offset += start
        line, column, seen, pending = 1, 1, start, pending[start:]
        while True:
            block, rest = pending[: offset - seen], pending[offset - seen:]
            seen += len(block)
            breaks = block.count(b"\n")
            if breaks:
                line += breaks
                column = 1
                block = block[block.rfind(b"\n") + 1:]
            column += len(block.translate(None, _CONTINUATION))
            if seen >= offset:
                here = rest[:1] or _as_bytes(reader.read(1))
                return line, column, offset, (here[0] if here else None)
            pending = _as_bytes(reader.read(min(1 << 20, offset - seen)))
            if not pending:
                return None
    except (OSError, InputError, EOFError):
        return None
    finally:
        close = getattr(reader, "close", None)
        if close is not None:
            close()


class _Again:
    """Data read again to place an error in it: ``read(n)`` gives its next bytes in turn,
    ``close`` closes ``file`` (the file opened again; none for bytes in memory)."""

    def __init__(self, read: Callable[[int], Any], file: Optional[IO[bytes]] = None) -> None:
        self.read = read
        self._file = file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _bytes_again(data: Any) -> Callable[[], _Again]:
    def origin() -> _Again:
        view, at = memoryview(data).cast("B"), 0

        def read(size: int) -> bytes:
            nonlocal at
            out = bytes(view[at: at + size])
            at += len(out)
            return out

        return _Again(read)

    return origin


def _file_again(path: str) -> Callable[[], _Again]:
    """The file at ``path`` opened again, decompressed as it was."""

    def origin() -> _Again:
        f = open(path, "rb")
        try:
            raw: Any = f
            for _ in range(_MAX_LAYERS + 1):
                head = _read_head(raw.read)
                magic = _compression(head)
                if magic is None:
                    return _Again(_PrefixedReader(head, raw).read, f)
                raw = _decompressor(magic, _PrefixedReader(head, raw))
            raise InputError(f"more than {_MAX_LAYERS} layers of compression")
        except BaseException:
            f.close()
            raise

    return origin


def _kind(kind: str) -> Tuple[str, bool]:
    """``(kind, document)`` of a forced reading: ``"document"`` is read as NDJSON of one line,
    its line breaks read as spaces (as a guessed document spread over lines is)."""
    return ("ndjson", True) if kind == "document" else (kind, False)


def _open_bytes(data: bytes, kind: Optional[str], default: str) -> Opened:
    # A forced kind only needs the magic bytes (no copy of a large head on the hot path).
    head = data[: READ_AHEAD_BYTES if kind is None else 32]
    message = _not_json(head, kind is None, None)
    if message is not None:
        raise InputError(message)
    kind, document = _kind(kind) if kind is not None else _guess(head, len(data) <= READ_AHEAD_BYTES, default)
    if document:
        opened = Opened("ndjson", data.translate(_ONE_LINE), size=len(data), document=True)
        opened.origin = _bytes_again(data)
        return opened
    return Opened(kind, data, size=len(data))


def _open_path(source: Any, kind: Optional[str], max_bytes: int, default: str) -> Opened:
    path = os.fspath(source)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    name = short(path)
    # (for messages; a path read by its content is a "file")
    file = f"{_KIND_TEXT[kind]} file" if kind in _KIND_TEXT else "file"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        hint = ""
        if isinstance(source, str) and any(c in source for c in '{["'):
            # Text that looks like JSON but was read as a path ('\xa0{"a": 1}').
            hint = (
                " (a str with no line break is read as a path unless it starts with `{` or `[`"
                " after JSON whitespace; give JSON text as bytes, or end it with a line break)"
            )
        raise InputError(f"no such {file}: {name!r}{hint}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or _one_line(exc)
        raise InputError(f"cannot open {file} {name!r}: {reason}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"cannot read {file} {name!r}: it is a directory")
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot open {file} {name!r}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(mode):
            # A FIFO or a character device: read once, as a stream.
            return _open_stream(f, kind, max_bytes, default, [f], compression=None, layers=0)
        size = os.fstat(f.fileno()).st_size
        head = f.read(READ_AHEAD_BYTES)
        compression = _compression(head)
        if compression is not None:
            f.seek(0)
            opened = _open_stream(
                f, kind, max_bytes, default, [f], compression=None, layers=0, keep=False
            )
            if opened.document:
                opened.origin = _file_again(path)
            return opened
        message = _not_json(head, kind is None, None)
        if message is not None:
            raise InputError(message)
        kind, document = _kind(kind) if kind is not None else _guess(head, len(head) >= size, default)
        if document:
            f.seek(0)
            reader = _OneLine(f)
            opened = Opened("ndjson", reader, reader.read(READ_AHEAD_BYTES), size, None, True, [f])
            opened.origin = _file_again(path)
            return opened
        if kind == "json":
            data = head + f.read()
            f.close()
            return Opened("json", data, size=size)
        f.close()
        # A regular file is read by the engine itself.
        return Opened("ndjson", path, size=size)
    except BaseException:
        f.close()
        raise


def _open_stream(
    raw: Any,
    kind: Optional[str],
    max_bytes: int,
    default: str,
    opened: List[IO[bytes]],
    *,
    compression: Optional[str],
    layers: int,
    keep: bool = True,
) -> Opened:
    """``raw`` opened as a stream (read once). ``keep``: a document keeps what it reads, to
    place its JSON error (``False``: the caller can open it again)."""
    try:
        head = _read_head(raw.read)
        magic = _compression(head)
        if magic is not None:
            if layers >= _MAX_LAYERS:
                raise InputError(f"more than {_MAX_LAYERS} layers of compression")
            inner = _decompressor(magic, _PrefixedReader(head, raw))
            return _open_stream(
                inner, kind, max_bytes, default, opened, compression=magic, layers=layers + 1,
                keep=keep,
            )
        message = _not_json(head, kind is None, compression)
        if message is not None:
            raise InputError(message)
        kind, document = (
            _kind(kind) if kind is not None
            else _guess(head, len(head) < READ_AHEAD_BYTES, default, compression)
        )
        if document:
            reader = _OneLine(raw, head if keep else None)
            doc = Opened("ndjson", reader, head.translate(_ONE_LINE), None, compression, True, opened)
            if keep:
                doc.origin = reader.again
            return doc
        if kind == "json":
            # Bounded as a decompressed one is: a stream has no known end (`[` then records
            # without end on standard input filled memory).
            what = "decompressed JSON array" if compression else "JSON array read from a stream"
            data = _read_all(raw.read, head, max_bytes, what)
            for f in opened:
                f.close()
            return Opened("json", data, size=len(data), compression=compression)
        return Opened("ndjson", raw, head, None, compression, False, opened)
    except BaseException:
        for f in opened:
            f.close()
        raise
