"""Inputs as they come (issue 11): compressed input, byte order marks, one JSON document,
files that are not JSON, and NDJSON text given as a str. `satya_adapt/_inputs.py` decides."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import InputError, Validator, _inputs

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "maximum": 150}},
    "required": ["name"],
}
RECORDS = [{"name": "Ada", "age": 36}, {"name": "Bo", "age": 200}, {"age": 3}]
NDJSON = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)
ARRAY = json.dumps(RECORDS, indent=2).encode()
EXPECTED_VALID = [True, False, False]
EXPECTED_ERRORS = [
    (1, "/age", "maximum", "Must be <= 150, got 200"),
    (2, "", "required", "Missing required property `name`"),
]
CONFIG: dict[str, Any] = {"batch_size": 2, "micro_batch_size": 1, "threads": 1}


def zstd(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    out: bytes = zstandard.ZstdCompressor().compress(data)
    return out


def errors_of(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def merged(results: Any) -> tuple[list[bool], list[tuple[int, str, str, str]]]:
    valid: list[bool] = []
    errors: list[tuple[int, str, str, str]] = []
    for r in results:
        valid += r.valid
        errors += errors_of(r)
    return valid, errors


@pytest.fixture(scope="module")
def v() -> Validator:
    return Validator(SCHEMA, adapt=False)


# -- compressed input -----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [gzip.compress, zstd], ids=["gzip", "zstd"])
def test_compressed_ndjson_is_read_by_its_content(
    v: Validator, compress: Any, tmp_path: Path
) -> None:
    """Before: a gzip-compressed NDJSON file was one `json` error per line
    ("unexpected byte 0x1f")."""
    packed = compress(NDJSON)
    path = tmp_path / "records.bin"  # the name says nothing: the content decides
    path.write_bytes(packed)
    results = [
        v.validate_ndjson(packed, **CONFIG),
        v.validate_ndjson(path, **CONFIG),
        v.validate_ndjson(str(path), **CONFIG),
        v.validate_ndjson(io.BytesIO(packed), **CONFIG),
        v.validate(packed, **CONFIG),
        v.validate(path, **CONFIG),
    ]
    for r in results:
        assert (r.valid, errors_of(r)) == (EXPECTED_VALID, EXPECTED_ERRORS)
    assert merged(v.iter_validate(path, **CONFIG)) == (EXPECTED_VALID, EXPECTED_ERRORS)
    assert merged(v.iter_validate(io.BytesIO(packed), input_kind="ndjson", **CONFIG)) == (
        EXPECTED_VALID,
        EXPECTED_ERRORS,
    )


@pytest.mark.parametrize("compress", [gzip.compress, zstd], ids=["gzip", "zstd"])
def test_compressed_json_array(v: Validator, compress: Any, tmp_path: Path) -> None:
    packed = compress(b"\xef\xbb\xbf" + ARRAY)  # a byte order mark inside too
    (tmp_path / "a.json.gz").write_bytes(packed)
    for r in (
        v.validate_json(packed, **CONFIG),
        v.validate(packed, **CONFIG),
        v.validate(tmp_path / "a.json.gz", **CONFIG),
    ):
        assert (r.valid, errors_of(r)) == (EXPECTED_VALID, EXPECTED_ERRORS)
    assert v.profile(packed).n == 3


def test_gzip_inside_gzip(v: Validator) -> None:
    r = v.validate_ndjson(gzip.compress(gzip.compress(NDJSON)), **CONFIG)
    assert (r.valid, errors_of(r)) == (EXPECTED_VALID, EXPECTED_ERRORS)


def test_a_decompression_bomb_stops_at_max_record_bytes() -> None:
    """256 MiB of one endless line, gzip-compressed to about 1 MiB: the call ends at the record
    limit, decompressing as a stream (the process never holds the 256 MiB)."""
    code = r"""
import resource, zlib
def peak_mib():
    # This process's own peak RSS: /proc's VmHWM. ru_maxrss also counts the parent's peak
    # (Linux keeps it across fork and exec), so it grows with the pytest process.
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
from satya_adapt import InputError, Validator
c = zlib.compressobj(1, zlib.DEFLATED, 31)
block = b"x" * (1 << 20)
bomb = b"".join([c.compress(b'{"a": "')] + [c.compress(block) for _ in range(256)] + [c.flush()])
print(len(bomb) // 1024)
v = Validator({"type": "object"}, adapt=False)
for call in (lambda: v.validate_ndjson(bomb, max_record_bytes=1 << 20),
             lambda: list(v.iter_validate(bomb, max_record_bytes=1 << 20))):
    try:
        call()
    except InputError as e:
        print(e)
print(peak_mib())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    ).stdout.splitlines()
    assert int(out[0]) < 2048, f"the bomb is {out[0]} KiB compressed"
    assert out[1:3] == ["NDJSON line 1 is longer than `max_record_bytes` (1048576 bytes)"] * 2
    assert int(out[3]) < 200, f"peak memory {out[3]} MiB"


def test_a_compressed_json_array_is_held_up_to_max_record_bytes() -> None:
    v = Validator(SCHEMA, adapt=False, max_record_bytes=1000)
    packed = gzip.compress(b"[" + b" " * 5000 + b"]")
    with pytest.raises(InputError) as info:
        v.validate_json(packed)
    assert str(info.value) == (
        "the decompressed JSON array is longer than `max_record_bytes` (1000 bytes);"
        " a JSON array is held in memory whole: raise the limit, or use NDJSON"
    )


def test_a_json_array_read_from_a_stream_is_held_up_to_max_record_bytes() -> None:
    # A stream has no known end: `[` and records without end on standard input filled memory.
    v = Validator(SCHEMA, adapt=False, max_record_bytes=1000)
    for kind in (None, "json"):  # (over lines: guessed a JSON array, not NDJSON)
        with pytest.raises(InputError) as info:
            v.validate(io.BytesIO(b"[\n" + b'{"a": 1},\n' * 500 + b"{}]"), input_kind=kind)
        assert str(info.value) == (
            "the JSON array read from a stream is longer than `max_record_bytes` (1000 bytes);"
            " a JSON array is held in memory whole: raise the limit, or use NDJSON"
        )
    assert len(v.validate(io.BytesIO(b"[" + b'{"a": 1}, ' * 50 + b"{}]"), input_kind="json").valid) == 51


def test_corrupt_compressed_input_is_an_input_error(v: Validator) -> None:
    with pytest.raises(InputError) as info:
        v.validate_ndjson(gzip.compress(NDJSON)[:-12])
    assert str(info.value) == (
        "the gzip stream is corrupt: Compressed file ended before the end-of-stream marker"
        " was reached"
    )


def test_zstd_cut_short_is_an_input_error(v: Validator, tmp_path: Path) -> None:
    """Before: a zstd stream that ended inside a frame (a file cut short) read as the records
    decompressed so far, silently (zstandard's stream reader returns what it has): a file cut
    in half was "0 records: all valid". Gzip said so already."""
    zstandard = pytest.importorskip("zstandard")
    records = b'{"name": "Ada", "age": 36}\n' * 2000
    streamed = zstandard.ZstdCompressor(write_checksum=True).compressobj()
    parts = [
        zstandard.ZstdCompressor().compress(records),
        b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"xyz",  # a skippable frame
        zstandard.ZstdCompressor(write_checksum=True, write_content_size=False).compress(records),
        streamed.compress(os.urandom(200_000).hex().encode() + b"\n") + streamed.flush(),
    ]
    whole = b"".join(parts)
    ends = {sum(map(len, parts[: i + 1])) for i in range(len(parts))}
    for cut in range(1, len(whole) + 1):  # where the frames end, only there
        frames = _inputs._ZstdFrames()
        frames.feed(whole[:cut])
        assert frames.complete is (cut in ends), cut
    frames = _inputs._ZstdFrames()
    for at in range(0, len(whole), 7):
        frames.feed(whole[at : at + 7])
    assert frames.complete
    assert len(v.validate_ndjson(whole, **CONFIG).valid) == 4001
    # A stream that starts with a skippable frame is zstd too (it was read as text: "Invalid
    # JSON on line 1: unexpected character 'P'").
    assert v.validate(parts[1] + parts[0], **CONFIG).valid == [True] * 2000
    message = "the zstd stream is corrupt: it ends inside a frame (the file was cut short?)"
    (tmp_path / "cut.ndjson.zst").write_bytes(whole[: len(parts[0]) // 2])
    for cut in (4, 6, len(parts[0]) // 2, len(whole) - 1, len(whole) - 5000):
        for call in (
            lambda cut=cut: v.validate_ndjson(whole[:cut]),
            lambda cut=cut: v.validate(io.BytesIO(whole[:cut])),
        ):
            with pytest.raises(InputError) as info:
                call()
            assert str(info.value) == message
    with pytest.raises(InputError) as info:
        v.validate(tmp_path / "cut.ndjson.zst")
    assert str(info.value) == message


def test_zstd_without_the_package_says_what_to_install(
    v: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = zstd(NDJSON)
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(InputError) as info:
        v.validate_ndjson(packed)
    assert str(info.value) == (
        "this is zstd-compressed input: install the `zstandard` package to read it"
        " (pip install 'satya-adapt[zstd]')"
    )


# -- one JSON document, a byte order mark ------------------------------------------------


def test_a_pretty_printed_object_is_one_record(v: Validator, tmp_path: Path) -> None:
    """Before: a pretty-printed JSON document was 4 invalid records."""
    doc = b"\xef\xbb\xbf" + json.dumps({"name": "Ada", "age": 200}, indent=2).encode() + b"\n"
    (tmp_path / "one.json").write_bytes(doc)
    expected = ([False], [(0, "/age", "maximum", "Must be <= 150, got 200")])
    for r in (
        v.validate(doc),
        v.validate(doc.decode("utf-8")),
        v.validate(tmp_path / "one.json"),
        v.validate(io.BytesIO(gzip.compress(doc))),
    ):
        assert (r.valid, errors_of(r)) == expected
    assert merged(v.iter_validate(tmp_path / "one.json")) == expected
    # Forced NDJSON still reads lines.
    r = v.validate(tmp_path / "one.json", input_kind="ndjson")
    assert r.valid == [False, False, False, False]


def test_a_pretty_printed_array_is_its_records(v: Validator, tmp_path: Path) -> None:
    (tmp_path / "many.json").write_bytes(ARRAY)
    r = v.validate(tmp_path / "many.json", **CONFIG)
    assert (r.valid, errors_of(r)) == (EXPECTED_VALID, EXPECTED_ERRORS)


def test_a_broken_first_ndjson_line_is_still_one_record(v: Validator) -> None:
    r = v.validate(b'{"name": "Ada"\n{"name": "Bo"}\n')
    assert r.valid == [False, True]
    assert errors_of(r)[0][:3] == (0, "", "json")


BROKEN_DOCUMENTS = [
    # (document, where Python's json places its error: line, column)
    (b'{\n  "name": "Ada",\n  "age": [1, 2,\n   3,, 4]\n}\n', (4, 6)),
    (b'\xef\xbb\xbf{\n ,"name": "Ada"}\n', (2, 2)),
    (b'{\n"name":\n', (3, 1)),
    ('{\n "\u00e9\u00e9\u00e9": 1 2}\n'.encode(), (2, 11)),
    (b'{\r\n"name":\r\n  x}', (3, 3)),
]


def python_json_place(doc: bytes) -> tuple[int, int]:
    try:
        json.loads(doc.decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno
    raise AssertionError("the document is valid JSON")


@pytest.mark.parametrize("doc, where", BROKEN_DOCUMENTS)
def test_a_broken_document_is_placed_by_line_and_column(
    v: Validator, tmp_path: Path, doc: bytes, where: tuple[int, int]
) -> None:
    """Before: "Invalid JSON on line 1" whatever the line, as the engine reads a document as
    one line. Now the line and column (in characters) Python's json says, and the byte of
    the file."""
    assert python_json_place(doc) == where
    (tmp_path / "doc.json").write_bytes(doc)
    (tmp_path / "doc.json.gz").write_bytes(gzip.compress(doc))
    line, column = where
    byte = None
    for source in (doc, bytearray(doc), memoryview(doc), tmp_path / "doc.json", tmp_path / "doc.json.gz"):
        for r in (v.validate(source), *v.iter_validate(source)):
            assert r.valid == [False]
            ((index, path, keyword, message),) = errors_of(r)
            assert (index, path, keyword) == (0, "", "json")
            head, _, at = message.rpartition(" at byte ")
            assert head.startswith(f"Invalid JSON on line {line}, column {column}: "), message
            byte = int(at) if byte is None else byte
            assert int(at) == byte
    # The byte is the file's: what is there is what the message says is unexpected.
    quoted = message.split("unexpected character ", 1)[1:]
    if quoted:
        assert doc[byte:byte + 1].decode() == quoted[0][1]


@pytest.mark.parametrize("doc, where", BROKEN_DOCUMENTS)
def test_a_broken_document_read_once_is_placed_in_what_was_kept(
    v: Validator, monkeypatch: pytest.MonkeyPatch, doc: bytes, where: tuple[int, int]
) -> None:
    """A stream cannot be read again to count its lines: what it gave is kept while it is
    short (stdin: "at byte 9" alone sent the user counting bytes), else the error says it is
    in the document, without claiming line 1."""
    line, column = where
    ((index, path, keyword, message),) = errors_of(v.validate(io.BytesIO(doc)))
    assert (index, path, keyword) == (0, "", "json")
    assert message.startswith(f"Invalid JSON on line {line}, column {column}: "), message
    assert errors_of(v.validate(doc)) == [(0, "", "json", message)]
    # Through a compressed stream as well (its bytes kept as decompressed).
    assert errors_of(v.validate(io.BytesIO(gzip.compress(doc)))) == [(0, "", "json", message)]
    monkeypatch.setattr(_inputs, "KEEP_DOCUMENT_BYTES", len(doc) - 1)
    ((_, _, _, unplaced),) = errors_of(v.validate(io.BytesIO(doc)))
    what = message.split(": ", 1)[1].rpartition(" at byte ")[0]
    assert unplaced.startswith(f"Invalid JSON in the document: {what} at byte "), unplaced


def test_a_broken_json_array_over_lines_gives_the_line_and_column(v: Validator, tmp_path: Path) -> None:
    """"at byte 24" alone sent the user counting bytes in a pretty-printed file."""
    text = '[\n  {"name": "Ada"},\n  {"name": "\u00e9\u00e9",, "age": 3}\n]\n'
    data = text.encode()
    byte = data.index(b",,") + 1
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        line, column = exc.lineno, exc.colno
    assert (line, column) == (3, 17)  # in characters: "é" is two bytes
    expected = (
        f"invalid JSON array: element 1: unexpected character ',' at byte {byte}"
        f" (line {line}, column {column})"
    )
    (tmp_path / "a.json").write_bytes(data)
    for call in (
        lambda: v.validate(data),
        lambda: v.validate_json(data, **CONFIG),
        lambda: list(v.iter_validate(data, **CONFIG)),
        lambda: v.validate(tmp_path / "a.json"),
        lambda: v.validate(io.BytesIO(gzip.compress(data))),
    ):
        with pytest.raises(InputError) as caught:
            call()
        assert str(caught.value) == expected
    # On line 1 the byte says where: no line and column.
    with pytest.raises(InputError) as caught:
        v.validate(b'[{"name": "Ada"},, {}]')
    assert str(caught.value) == "invalid JSON array: unexpected character ',' at byte 17"


# -- what is clearly not JSON ------------------------------------------------------------------

NOT_JSON = {
    "parquet": (b"PAR1\x15\x04\x15\x10", "this looks like a Parquet file, not NDJSON or JSON"),
    "csv": (b"name,age\nAda,36\n", "this looks like a CSV file, not NDJSON or JSON"),
    "text": (
        b"MIT License\n\nCopyright (c) 2026 Ada\n\nPermission is hereby granted\n",
        "this looks like plain text, not NDJSON or JSON",
    ),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00", "this looks like a PNG image, not NDJSON or JSON"),
    "zip": (
        b"PK\x03\x04\x14\x00",
        "this looks like a ZIP archive (or an XLSX/DOCX/JAR file), not NDJSON or JSON",
    ),
    "elf": (b"\x7fELF\x02\x01\x01", "this looks like an ELF executable, not NDJSON or JSON"),
    "html": (b"<!doctype html>\n<html>", "this looks like XML or HTML, not NDJSON or JSON"),
    "binary": (b"\x01\x02\x00\x03", "this looks like binary data, not NDJSON or JSON"),
    "utf16": (
        '{"a": 1}'.encode("utf-16"),
        "this looks like UTF-16 text, not NDJSON or JSON: re-encode it as UTF-8",
    ),
    "utf16le": (
        '{"a": 1}\n{"a": 2}\n'.encode("utf-16-le"),
        "this looks like UTF-16LE text without a byte order mark, not NDJSON or JSON:"
        " re-encode it as UTF-8",
    ),
    "utf16be": (
        '[{"name": "Ada"}]'.encode("utf-16-be"),
        "this looks like UTF-16BE text without a byte order mark, not NDJSON or JSON:"
        " re-encode it as UTF-8",
    ),
    "parquet.gz": (
        gzip.compress(b"PAR1\x15\x04"),
        "this looks like a Parquet file inside gzip-compressed input, not NDJSON or JSON",
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_JSON))
def test_not_json_is_an_input_error(v: Validator, name: str, tmp_path: Path) -> None:
    """Before: a Parquet file was 242 invalid records, a CSV one `json` error per line."""
    data, message = NOT_JSON[name]
    (tmp_path / "data").write_bytes(data)
    for call in (
        lambda: v.validate(data),
        lambda: v.validate(tmp_path / "data"),
        lambda: v.validate(io.BytesIO(data)),
        lambda: list(v.iter_validate(tmp_path / "data")),
        lambda: v.profile(data),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value) == message


def test_utf16_without_a_byte_order_mark_is_named_whatever_the_kind(v: Validator, tmp_path: Path) -> None:
    """Before: UTF-16 text without a byte order mark was "binary data" when the kind was
    guessed, and one `json` error per line ("unexpected byte 0x00") when it was forced. A zero
    byte is in no JSON text: a forced kind names it too, as it names a Parquet file."""
    text = '{"name": "Ada", "city": "Zürich"}\n{"name": "Grace"}\n'
    for encoding, name in (("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")):
        data = text.encode(encoding)
        (tmp_path / "data").write_bytes(data)
        message = (
            f"this looks like {name} text without a byte order mark, not NDJSON or JSON:"
            " re-encode it as UTF-8"
        )
        for call in (
            lambda data=data: v.validate_ndjson(data),
            lambda data=data: v.validate_json(data),
            lambda: v.validate(tmp_path / "data", input_kind="ndjson"),
            lambda data=data: v.validate(io.BytesIO(data), input_kind="json"),
            lambda data=data: v.validate(gzip.compress(data)),
        ):
            with pytest.raises(InputError) as info:
                call()
            assert str(info.value) in (message, message.replace(", not", " inside gzip-compressed input, not"))
    # Zero bytes alone, and UTF-32 text, stay binary data.
    for data in (b"\x00\x00\x00\x00", '{"a": 1}'.encode("utf-32-le"), '{"a": 1}'.encode("utf-32-be")):
        assert _inputs.utf16_without_bom(data) is None
        with pytest.raises(InputError, match="^this looks like binary data, not NDJSON or JSON$"):
            v.validate(data)


def test_one_stray_line_before_ndjson_is_an_invalid_record_not_plain_text() -> None:
    r = Validator({"type": "object"}, adapt=False).validate(io.BytesIO(b"# events\n{}\n{}\n"))
    assert r.valid == [False, True, True]
    assert [e.keyword for e in r.errors] == ["json"]


def test_a_forced_kind_still_refuses_binary_formats_but_reads_text(v: Validator) -> None:
    parquet, message = NOT_JSON["parquet"]
    for call in (lambda: v.validate_ndjson(parquet), lambda: v.validate_json(parquet)):
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value) == message
    # A CSV read as NDJSON on purpose: each line is a `json` error of its record.
    r = v.validate_ndjson(NOT_JSON["csv"][0])
    assert [e[:3] for e in errors_of(r)] == [(0, "", "json"), (1, "", "json")]


# -- NDJSON text given as a str ------------------------------------------------------------


def test_validate_ndjson_takes_text(v: Validator) -> None:
    """Before: a str was always a path, and the whole text came back in the error."""
    r = v.validate_ndjson(NDJSON.decode(), **CONFIG)
    assert (r.valid, errors_of(r)) == (EXPECTED_VALID, EXPECTED_ERRORS)
    r = v.validate_ndjson('  {"name": "one line"}', **CONFIG)
    assert r.valid == [True]


def test_a_missing_path_is_named_shortly(v: Validator) -> None:
    with pytest.raises(InputError) as info:
        v.validate_ndjson("records.ndjson")
    assert str(info.value) == "no such NDJSON file: 'records.ndjson'"
    with pytest.raises(InputError) as info:
        v.validate_ndjson("x/" * 5000)
    assert str(info.value) == (
        f"cannot open NDJSON file '{'x/' * 30}... (10000 characters)': File name too long"
    )


def test_bench_inputs_quick() -> None:
    """The compressed-input benchmark runs (and checks every form reads the same records)."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_inputs.py"), "--quick", "--json"],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["records"], doc["rounds"]) == (2000, 3)
    assert set(doc["forms"]) >= {"plain", "gzip"}
    assert doc["forms"]["plain"]["ratio_to_plain"] == 1.0


def test_a_path_or_stream_starting_with_a_one_line_array_is_ndjson(
    v: Validator, tmp_path: Path
) -> None:
    """NDJSON whose records are arrays starts with `[` too: for a path or a stream, a first line
    that is a whole JSON value means NDJSON (as before); only an array spread over lines
    (pretty-printed) is read as one JSON array. Bytes and str keep `[` as a JSON array."""
    (tmp_path / "rows.ndjson").write_bytes(b'[]\n{"name": "Ada"}\n')
    r = v.validate(tmp_path / "rows.ndjson")
    assert (r.valid, [e[:3] for e in errors_of(r)]) == ([False, True], [(0, "", "type")])
    assert v.validate(io.BytesIO(b"[]\n")).valid == [False]
    assert v.validate(b"[]\n").valid == []
    (tmp_path / "pretty.json").write_bytes(b'[\n  {"name": "Ada"}\n]\n')
    assert v.validate(tmp_path / "pretty.json").valid == [True]


def test_a_path_given_as_str_reads_as_the_same_path_given_as_a_path(
    v: Validator, tmp_path: Path
) -> None:
    """Before: a str that names a file took the default of text (`[` a JSON array), so NDJSON
    whose records are arrays, read fine through `Path`, raised `InputError: invalid JSON array:
    trailing characters` when the same path came as a str."""
    path = tmp_path / "rows.ndjson"
    path.write_bytes(b'[]\n{"name": "Ada"}\n')
    for source in (path, str(path)):
        assert v.validate(source).valid == [False, True]
        assert [c.valid for c in v.iter_validate(source)] == [[False, True]]
        assert v.profile(source).input_kind == "ndjson"


def test_a_blank_line_is_json_whitespace_alike_in_memory_and_streamed() -> None:
    # A form feed is not JSON whitespace: the line is a record (not JSON), in bytes and in a
    # stream alike; a line of spaces, tabs and CR is blank in both.
    v = Validator({"type": "object"}, adapt=False)
    for data, valid in ((b"{}\n\x0c\n{}\n", [True, False, True]), (b"{}\n \t\r\n{}\n", [True, True])):
        for source in (data, io.BytesIO(data)):
            r = v.validate_ndjson(source)
            assert r.valid == valid
            assert [(e.index, e.keyword) for e in r.errors] == ([(1, "json")] if len(valid) == 3 else [])


def test_a_path_whose_bytes_are_not_utf8_is_read(v: Validator, tmp_path: Path) -> None:
    """Python holds such a name with surrogate escapes: the engine took that str for a file
    object ("'str' object has no attribute 'read'", a traceback on the command line)."""
    name = os.fsdecode(b"bad\xff.ndjson")
    try:
        (tmp_path / name).write_bytes(b'{"name": "Ada"}\n{"name": 1}\n')
    except (OSError, UnicodeError):
        pytest.skip("this file system takes UTF-8 names only")
    path = str(tmp_path / name)
    assert v.validate(path).valid == [True, False]
    assert v.validate_ndjson(path).valid == [True, False]
    assert v.profile(path).n == 2
    (tmp_path / "s.json").write_text(json.dumps(v.schema.json_schema))
    env = {k: val for k, val in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", "validate", name, "--schema", "s.json"],
        cwd=tmp_path, capture_output=True, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc
    assert b"Traceback" not in proc.stderr


def test_validate_json_reads_any_bytes_like_object(tmp_path: Path) -> None:
    """Before: `validate_json(mmap)` raised TypeError, where `validate` and `validate_ndjson`
    read an mmap as a file object."""
    import array
    import mmap

    path = tmp_path / "a.json"
    path.write_bytes(b'[{"a": 1}, 2]')
    v = Validator({"type": "object"}, adapt=False)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert v.validate_json(m).valid == [True, False]
    assert v.validate_json(array.array("b", b'[{"a": 1}]')).valid == [True]
    with pytest.raises(TypeError, match="^`data` must be bytes or str holding a JSON array, got int$"):
        v.validate_json(5)  # type: ignore[arg-type]
