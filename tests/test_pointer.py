"""Records inside a JSON document (`validate_json(..., pointer=...)`, `validate --pointer`): the
array a JSON Pointer leads to is validated as a JSON array, with the results its records get
as dicts."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import Validator
from satya_adapt.errors import InputError
from satya_adapt.tuning import realdata

ROOT = Path(__file__).resolve().parent.parent

ITEM = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string", "maxLength": 5}},
}

ITEMS = [{"id": 1, "name": "a"}, {"id": -1, "name": "b"}, {"id": 2}, {"id": 3, "name": "toolong"}]

CONFIGS = [
    {},
    {"batch_size": 1, "micro_batch_size": 1, "threads": 1},
    {"batch_size": 3, "micro_batch_size": 1, "threads": 2},
    {"errors": False},
]


def errors_of(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def same(a: Any, b: Any) -> None:
    assert list(a.valid) == list(b.valid)
    assert errors_of(a) == errors_of(b)


@pytest.mark.parametrize("config", CONFIGS)
def test_the_records_at_a_pointer_get_the_results_of_the_same_records_as_dicts(config: dict[str, Any]) -> None:
    v = Validator(ITEM, adapt=False)
    expected = v.validate_batch(ITEMS, **config)
    assert list(expected.valid) == [True, False, False, False]
    documents = {
        "/data/items": {"meta": {"items": "not these"}, "data": {"n": 4, "items": ITEMS}, "z": [1]},
        "/0/rows": [{"rows": ITEMS}],
        "/a~1b/m~0n": {"a/b": {"m~n": ITEMS}},
        "/": {"": ITEMS},
        "": ITEMS,
    }
    for pointer, doc in documents.items():
        text = json.dumps(doc, indent=1)
        for data in (text.encode(), text, gzip.compress(text.encode())):
            same(v.validate_json(data, pointer=pointer, **config), expected)


def test_the_array_is_read_where_it_lies_in_the_document() -> None:
    """The engine reads the array inside the document's bytes (a span), not a copy of it: the
    opened input holds the document itself; the span is checked against it; an array that is
    the whole document needs none."""
    from satya_adapt._inputs import open_input

    doc = json.dumps({"meta": [1, 2], "items": ITEMS}).encode()
    opened = open_input(doc, "json", max_bytes=1 << 20, pointer="/items")
    assert opened.source is doc and opened.span is not None
    start, end = opened.span
    assert json.loads(doc[start:end]) == ITEMS and opened.size == end - start
    whole = json.dumps(ITEMS).encode()
    assert open_input(whole, "json", max_bytes=1 << 20, pointer="").span is None
    v = Validator(ITEM, adapt=False)
    core = v._core
    array = doc[start:end]
    assert core.profile_json(doc, (start, end)) == core.profile_json(array)
    for chunked in (False, True):
        got = core.validate_json(doc, 2, 1, 2, None, chunked, None, False, (start, end))
        want = core.validate_json(array, 2, 1, 2, None, chunked, None, False)
        # Verdicts, errors, omitted errors, tasks, bytes (the rest are timings).
        parts = (list(got), list(want)) if chunked else ([got], [want])
        assert len(parts[0]) == len(parts[1]) == (2 if chunked else 1)
        for g, w in zip(*parts):
            assert repr(g[:5]) == repr(w[:5])
    for span in ((start, len(doc) + 1), (end, start), (len(doc) + 5, len(doc) + 6)):
        with pytest.raises(ValueError, match="is not within the"):
            core.validate_json(doc, 2, 1, 1, None, False, None, False, span)
        with pytest.raises(ValueError, match="is not within the"):
            core.profile_json(doc, span)
    # A broken element never reaches the engine: the document is read whole first, and its
    # error names the byte in the document.
    broken = b'{"items": [{"id": 1, "name": "a"}, {"id": 2,, "name": "b"}], "z": 1}'
    with pytest.raises(InputError, match="at byte 44") as in_doc:
        v.validate_json(broken, pointer="/items")
    assert broken[44:45] == b"," and "not JSON" in str(in_doc.value)


def test_every_reading_method_takes_a_pointer(tmp_path: Path) -> None:
    """`validate`, `iter_validate`, `profile` and `explain` read a path, bytes, text or a binary
    file object as one JSON document when given a pointer."""
    v = Validator(ITEM, adapt=False)
    expected = v.validate_batch(ITEMS)
    doc = json.dumps({"data": {"items": ITEMS}}, indent=2)
    path = tmp_path / "doc.json"
    path.write_text(doc)
    (tmp_path / "doc.json.gz").write_bytes(gzip.compress(doc.encode()))
    for source in (path, str(path), tmp_path / "doc.json.gz", doc, doc.encode()):
        same(v.validate(source, pointer="/data/items"), expected)
        chunks = list(v.iter_validate(source, pointer="/data/items", batch_size=3))
        assert [len(c.valid) for c in chunks] == [3, 1]
        assert [e for c in chunks for e in errors_of(c)] == errors_of(expected)
        profile = v.profile(source, pointer="/data/items")
        assert (profile.input_kind, profile.n) == ("json", 4)
        assert v.explain(source, pointer="/data/items")["profile"]["input_kind"] == "json"
    with open(path, "rb") as f:
        same(v.validate(f, pointer="/data/items"), expected)
    same(v.validate(path, input_kind="json", pointer="/data/items"), expected)
    for kind in ("ndjson", "dicts"):
        with pytest.raises(ValueError, match="`pointer` selects the records of one JSON document"):
            v.validate(path, input_kind=kind, pointer="/data/items")
    with pytest.raises(InputError, match="nothing at `/data/x`"):
        list(v.iter_validate(path, pointer="/data/x"))


def test_a_key_written_twice_counts_its_last_value() -> None:
    v = Validator(ITEM, adapt=False)
    text = '{"items": [{"id": -5}], "items": ' + json.dumps(ITEMS) + "}"
    same(v.validate_json(text, pointer="/items"), v.validate_batch(ITEMS))
    # An escaped key matches its decoded text.
    same(v.validate_json('{"\\u0069tems": [{"id": 1, "name": "x"}]}', pointer="/items"),
         v.validate_batch([{"id": 1, "name": "x"}]))


def test_a_pointer_that_leads_nowhere_says_why() -> None:
    v = Validator(ITEM, adapt=False)
    doc = json.dumps({"data": {"items": ITEMS, "count": 4}, "s": "x"})
    cases = {
        "/data/item": "nothing at `/data/item`: /data is an object without the key `item`",
        "/data/items/9/id": "nothing at `/data/items/9/id`: /data/items is an array without an element 9",
        "/data/items/x": "nothing at `/data/items/x`: /data/items is an array, and `x` is not an index",
        "/s/0": "nothing at `/s/0`: /s is a string",
        "/data": "the value at `/data` is an object, not an array of records",
        "/data/count": "the value at `/data/count` is a number, not an array of records",
    }
    for pointer, message in cases.items():
        with pytest.raises(InputError) as info:
            v.validate_json(doc, pointer=pointer)
        assert str(info.value) == message
    for pointer in ("data", "#/data", "/a~2"):
        with pytest.raises(ValueError, match="not a JSON Pointer"):
            v.validate_json(doc, pointer=pointer)
    with pytest.raises(TypeError, match="`pointer` must be a str"):
        v.validate_json(doc, pointer=1)  # type: ignore[arg-type]


def test_the_whole_document_must_be_json() -> None:
    v = Validator(ITEM, adapt=False)
    broken = [
        '{"items": [{"id": 1, "name": "a"}], "rest": [1, }',  # after the records
        '{"rest": tru, "items": []}',  # before them
        '{"items": []} {"items": []}',  # two documents
        '{"items": [], "deep": ' + "[" * 200 + "]" * 200 + ", }",  # not JSON past a deep part
        '{"items": [}',
    ]
    for text in broken:
        with pytest.raises(InputError, match="not JSON"):
            v.validate_json(text, pointer="/items")


def test_a_byte_order_mark_is_skipped_before_the_document() -> None:
    """Before: "not JSON: unexpected byte 0xef at byte 0", where every other reading skips
    one leading UTF-8 byte order mark."""
    v = Validator(ITEM, adapt=False)
    text = json.dumps({"meta": 1, "items": ITEMS}, indent=2).encode()
    for pointer in ("/items", ""):
        doc = text if pointer else json.dumps(ITEMS, indent=2).encode()
        same(v.validate_json(b"\xef\xbb\xbf" + doc, pointer=pointer), v.validate(ITEMS))
    # An error past it names the file's byte (the mark counted), and the line and column.
    broken = b"\xef\xbb\xbf" + text.replace(b'"name": "b"', b'"name": "b",,')
    with pytest.raises(InputError) as caught:
        v.validate_json(broken, pointer="/items")
    byte = broken.index(b",,") + 1
    line = broken[:byte].count(b"\n") + 1
    column = byte - broken.rindex(b"\n", 0, byte)
    assert str(caught.value) == (
        f"not JSON: unexpected character ',' at byte {byte} (line {line}, column {column})"
    )


def test_depth_is_a_records_limit_not_the_documents() -> None:
    # A value nested deeper than a record may be is JSON: off the pointer's path it is no
    # record, and under it it is that record's `depth` error, as in the array on its own
    # (it refused the whole call: "not JSON: nesting deeper than 128 levels").
    v = Validator({}, adapt=False)
    deep = "[" * 200 + "]" * 200
    records = "[1, " + deep + ", 2]"
    alone = v.validate_json(records)
    assert alone.valid == [True, False, True]
    assert [(e.index, e.keyword) for e in alone.errors] == [(1, "depth")]
    wrapped = v.validate_json('{"meta": ' + deep + ', "items": ' + records + "}", pointer="/items")
    assert wrapped.valid == alone.valid
    assert [(e.index, e.path, e.keyword, e.message) for e in wrapped.errors] == [
        (e.index, e.path, e.keyword, e.message) for e in alone.errors
    ]
    beside = v.validate_json('{"items": [1, 2], "meta": ' + "[" * 100_000 + "]" * 100_000 + "}",
                             pointer="/items")
    assert beside.valid == [True, True]


def _realdata() -> str:
    folder = realdata.shared_dir(str(ROOT))
    if folder is None or not os.path.isfile(os.path.join(folder, "realdata", "twitter.json")):
        pytest.skip("shared test data not found: realdata/twitter.json (set SATYA_ADAPT_SUITE)")
    return os.path.join(folder, "realdata", "twitter.json")


STATUS = {
    "type": "object",
    "required": ["id", "text", "user"],
    "properties": {
        "id": {"type": "integer"},
        "text": {"type": "string", "maxLength": 100},
        "user": {"type": "object", "required": ["screen_name"],
                 "properties": {"followers_count": {"type": "integer", "minimum": 0}}},
    },
}


def test_twitter_statuses_at_their_pointer() -> None:
    path = _realdata()
    data = Path(path).read_bytes()
    statuses = json.loads(data)["statuses"]
    v = Validator(STATUS)
    for config in CONFIGS:
        expected = v.validate_batch(statuses, **config)
        same(v.validate_json(data, pointer="/statuses", **config), expected)
    assert 0 < sum(expected.valid) < len(statuses)  # some 140-character texts fail


def cli(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    proc = subprocess.run([sys.executable, "-m", "satya_adapt", *args], cwd=cwd, input=stdin,
                          capture_output=True, env=env, timeout=120, check=False)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc


def test_the_command_line_validates_the_records_at_a_pointer(tmp_path: Path) -> None:
    (tmp_path / "item.json").write_text(json.dumps(ITEM))
    doc = json.dumps({"data": {"items": ITEMS}}, indent=2)
    (tmp_path / "a.json").write_text(doc)
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(doc.encode()))
    proc = cli("validate", "a.json", "--schema", "item.json", "--pointer", "/data/items",
               "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["records"], report["valid"], report["pointer"]) == (4, 1, "/data/items")
    assert [(e["index"], e["keyword"]) for e in report["errors"]] == [
        (1, "minimum"), (2, "required"), (3, "maxLength")]
    text = cli("validate", "-", "--schema", "item.json", "--pointer", "/data/items", "--no-progress",
               cwd=tmp_path, stdin=gzip.compress(doc.encode()))
    assert text.returncode == 1
    assert text.stdout.decode().startswith("<stdin>: 4 records (gzip, json at /data/items, held in memory)")
    # Many files: the same pointer in each.
    many = cli("validate", "a.json", "b.json.gz", "--schema", "item.json", "--pointer", "/data/items",
               "--workers", "1", cwd=tmp_path)
    assert many.returncode == 1, many.stderr
    assert many.stdout.decode().startswith("2 files: 8 records: 2 valid, 6 invalid")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pointer", "data"], "argument --pointer: not a JSON Pointer: `data` does not start with `/`"),
        (["--pointer", "/data/item"],
         "a.json: nothing at `/data/item`: /data is an object without the key `item`"),
        (["--pointer", "/data"], "a.json: the value at `/data` is an object, not an array of records"),
        (["--pointer", "/data/items", "--input-kind", "ndjson"],
         "--pointer reads the records of an array in DATA: not with --input-kind ndjson"),
    ],
)
def test_the_command_line_says_why_a_pointer_leads_nowhere(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "item.json").write_text(json.dumps(ITEM))
    (tmp_path / "a.json").write_text(json.dumps({"data": {"items": ITEMS}}))
    proc = cli("validate", "a.json", "--schema", "item.json", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()


def test_archive_explain_reads_the_records_at_a_pointer(tmp_path: Path) -> None:
    (tmp_path / "item.json").write_text(json.dumps(ITEM))
    (tmp_path / "a.json").write_text(json.dumps({"data": {"items": ITEMS * 50}}))
    proc = cli("archive", "explain", "a.json", "--schema", "item.json", "--pointer", "/data/items",
               "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(proc.stdout)["profile"]
    assert profile["input_kind"] == "json"
    assert profile["field_count"] == 2
