"""Bad input: a clear per-record error or a clear exception, never a crash, a hang or a lost result.

One test per case of issue 2's list, each through the entry points it concerns, with the
exact outcome (keyword, path, message) expected.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import InputError, SchemaError, Validator
from satya_adapt._validator import MAX_DEPTH

#: Single-threaded (records read in place) and pooled (records taken apart) configurations.
CONFIGS = [
    pytest.param({"batch_size": 4, "micro_batch_size": 2, "threads": 1}, id="T1"),
    pytest.param({"batch_size": 4, "micro_batch_size": 2, "threads": 3}, id="T3"),
]

Err = tuple[int, str, str, str]

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "score": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
}


def errors_of(result: Any) -> list[Err]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def ndjson(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def all_json_paths(v: Validator, records: list[Any], config: dict[str, int]) -> list[Any]:
    """The same records through validate_json and validate_ndjson."""
    return [
        v.validate_json(json.dumps(records).encode(), **config),
        v.validate_ndjson(ndjson(records), **config),
    ]


# -- records of the wrong type -------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
def test_record_of_the_wrong_type(config: dict[str, int]) -> None:
    v = Validator(PERSON, adapt=False)
    records = [[1, 2], "Ada", 3, None, True, 2.5, {"name": "Ada"}]
    expected = [
        (0, "", "type", "Expected `object`, got `array`"),
        (1, "", "type", "Expected `object`, got `string`"),
        (2, "", "type", "Expected `object`, got `integer`"),
        (3, "", "type", "Expected `object`, got `null`"),
        (4, "", "type", "Expected `object`, got `boolean`"),
        (5, "", "type", "Expected `object`, got `number`"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False] * 6 + [True]
    assert errors_of(r) == expected
    assert errors_of(v.validate_batch(tuple(records), **config)) == expected
    for other in all_json_paths(v, records, config):
        assert other.valid == r.valid
        assert errors_of(other) == expected


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


@pytest.mark.parametrize("config", CONFIGS)
def test_non_json_python_objects(config: dict[str, int]) -> None:
    v = Validator(PERSON, adapt=False)
    records: list[Any] = [
        Point(1, 2),
        {1, 2},
        frozenset(),
        b"bytes",
        {"name": "Ada", "tags": [Point(0, 0), "ok", {"set"}]},
        {"name": "Ada", "age": 1 + 2j},
        {"name": object()},
        {"name": "Ada"},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False] * 7 + [True]
    assert errors_of(r) == [
        (0, "", "json", "Expected a JSON value, got `Point`"),
        (1, "", "json", "Expected a JSON value, got `set`"),
        (2, "", "json", "Expected a JSON value, got `frozenset`"),
        (3, "", "json", "Expected a JSON value, got `bytes`"),
        (4, "/tags/0", "json", "Expected a JSON value, got `Point`"),
        (4, "/tags/2", "json", "Expected a JSON value, got `set`"),
        (5, "/age", "json", "Expected a JSON value, got `complex`"),
        (6, "/name", "json", "Expected a JSON value, got `object`"),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_python_subclasses_of_json_types(config: dict[str, int]) -> None:
    import collections
    import enum

    class Color(str, enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    v = Validator(PERSON, adapt=False)
    records = [
        collections.OrderedDict(name="Ada", age=Level.HIGH),
        collections.defaultdict(list, name=Color.RED, tags=("a", "b")),
        {"name": "Ada", "age": Level.HIGH, "tags": ["a", Color.RED]},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [True, True, True], errors_of(r)


@pytest.mark.parametrize("config", CONFIGS)
def test_wrong_field_types(config: dict[str, int]) -> None:
    v = Validator(PERSON, adapt=False)
    records = [
        {"name": 1, "age": "1", "score": "1.5", "tags": "a"},
        {"name": None, "age": 1.5, "score": None, "tags": [1, None, "x"]},
        {"name": ["Ada"], "age": {}, "score": [], "tags": {}},
    ]
    expected = [
        (0, "/name", "type", "Expected `string`, got `integer`"),
        (0, "/age", "type", "Expected `integer`, got `string`"),
        (0, "/score", "type", "Expected `number`, got `string`"),
        (0, "/tags", "type", "Expected `array`, got `string`"),
        (1, "/name", "type", "Expected `string`, got `null`"),
        (1, "/age", "type", "Expected `integer`, got `number`"),
        (1, "/score", "type", "Expected `number`, got `null`"),
        (1, "/tags/0", "type", "Expected `string`, got `integer`"),
        (1, "/tags/1", "type", "Expected `string`, got `null`"),
        (2, "/name", "type", "Expected `string`, got `array`"),
        (2, "/age", "type", "Expected `integer`, got `object`"),
        (2, "/score", "type", "Expected `number`, got `array`"),
        (2, "/tags", "type", "Expected `array`, got `object`"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, False, False]
    assert errors_of(r) == expected
    for other in all_json_paths(v, records, config):
        assert errors_of(other) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_bool_is_not_an_integer(config: dict[str, int]) -> None:
    schema = {
        "type": "object",
        "properties": {
            "i": {"type": "integer"},
            "n": {"type": "number", "minimum": 0},
            "e": {"enum": [0, 1]},
            "c": {"const": 1},
            "u": {"type": "array", "uniqueItems": True},
        },
    }
    v = Validator(schema, adapt=False)
    records = [
        {"i": True, "n": False, "e": False, "c": True, "u": [1, True]},
        {"i": 1, "n": 0, "e": 0, "c": 1.0, "u": [0, False, 1.5]},
    ]
    expected = [
        (0, "/i", "type", "Expected `integer`, got `boolean`"),
        (0, "/n", "type", "Expected `number`, got `boolean`"),
        (0, "/e", "enum", "Expected one of 0, 1"),
        (0, "/c", "const", "Expected 1"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, True]
    assert errors_of(r) == expected
    for other in all_json_paths(v, records, config):
        assert errors_of(other) == expected


# -- numbers -------------------------------------------------------------------------------------

BIG = 2**64


@pytest.mark.parametrize("config", CONFIGS)
def test_integers_beyond_64_bits_compare_exactly(config: dict[str, int]) -> None:
    schema = {
        "type": "object",
        "properties": {
            "max": {"type": "integer", "maximum": BIG},
            "min": {"type": "integer", "minimum": -BIG},
            "xmax": {"exclusiveMaximum": BIG + 1},
            "small": {"maximum": 5},
            "nonneg": {"minimum": 0},
            "mult": {"multipleOf": 7},
            "c": {"const": BIG + 1},
            "e": {"enum": [2**100]},
        },
    }
    v = Validator(schema, adapt=False)
    records = [
        {"max": BIG, "min": -BIG, "xmax": BIG, "mult": 7 * 10**30, "c": BIG + 1, "e": 2**100},
        {"max": BIG + 1, "min": -BIG - 1, "xmax": BIG + 1, "small": BIG + 5, "nonneg": -BIG,
         "mult": 7 * 10**30 + 1, "c": BIG, "e": 2**100 + 1},
        {"small": 2**63, "nonneg": -(2**63) - 1, "max": 10**40, "min": -(10**40), "c": float(BIG)},
        {"max": 2**63 - 1, "min": -(2**63), "small": 5, "nonneg": 0, "mult": -(7 * 2**70)},
    ]  # fmt: skip
    expected = [
        (1, "/max", "maximum", f"Must be <= {BIG}, got {BIG + 1}"),
        (1, "/min", "minimum", f"Must be >= {-BIG}, got {-BIG - 1}"),
        (1, "/xmax", "exclusiveMaximum", f"Must be < {BIG + 1}, got {BIG + 1}"),
        (1, "/small", "maximum", f"Must be <= 5, got {BIG + 5}"),
        (1, "/nonneg", "minimum", f"Must be >= 0, got {-BIG}"),
        (1, "/mult", "multipleOf", f"Must be a multiple of 7, got {7 * 10**30 + 1}"),
        (1, "/c", "const", f"Expected {BIG + 1}"),
        (1, "/e", "enum", f"Expected one of {2**100}"),
        (2, "/max", "maximum", f"Must be <= {BIG}, got {10**40}"),
        (2, "/min", "minimum", f"Must be >= {-BIG}, got {-(10**40)}"),
        (2, "/small", "maximum", f"Must be <= 5, got {2**63}"),
        (2, "/nonneg", "minimum", f"Must be >= 0, got {-(2**63) - 1}"),
        (2, "/c", "const", f"Expected {BIG + 1}"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [True, False, False, True]
    assert errors_of(r) == expected
    for other in all_json_paths(v, records, config):
        assert errors_of(other) == expected


def test_big_integers_are_integers() -> None:
    v = Validator({"type": "integer"}, adapt=False)
    records = [2**64, -(2**64), 10**300, -(10**300), 2**63, -(2**63) - 1]
    assert v.validate_batch(records).valid == [True] * 6
    assert v.validate_json(json.dumps(records)).valid == [True] * 6
    s = Validator({"type": "string"}, adapt=False)
    r = s.validate_batch([10**300])
    assert errors_of(r) == [(0, "", "type", "Expected `string`, got `integer`")]


@pytest.mark.parametrize("config", CONFIGS)
def test_nan_and_infinity_are_invalid(config: dict[str, int]) -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number", "maximum": 10}},
    }
    v = Validator(schema, adapt=False)
    records = [
        {"x": math.nan},
        {"x": math.inf},
        {"x": -math.inf},
        {"y": math.nan},
        {"x": 1.0, "y": -math.inf},
        {"x": 1e308, "y": -1e308},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, False, False, False, False, True]
    assert errors_of(r) == [
        (0, "/x", "json", "`NaN` is not a JSON number"),
        (1, "/x", "json", "`inf` is not a JSON number"),
        (2, "/x", "json", "`-inf` is not a JSON number"),
        (3, "/y", "json", "`NaN` is not a JSON number"),
        (4, "/y", "json", "`-inf` is not a JSON number"),
    ]
    top = Validator({"type": "number"}, adapt=False).validate_batch(
        [math.nan, math.inf, 0.5], **config
    )
    assert top.valid == [False, False, True]


def test_nan_and_infinity_in_json_text() -> None:
    v = Validator({"type": "number"}, adapt=False)
    for text in ["[NaN]", "[1, Infinity]", "[-Infinity]", "[1e999]"]:
        if text == "[1e999]":
            # out of range for f64: a number JSON allows, but not finite
            r = v.validate_json(text)
            assert r.valid == [False]
            assert [e.keyword for e in r.errors] == ["json"]
            continue
        with pytest.raises(InputError):
            v.validate_json(text)
    r = v.validate_ndjson(b"1\nNaN\nInfinity\n2\n")
    assert r.valid == [True, False, False, True]
    assert [(e.index, e.keyword) for e in r.errors] == [(1, "json"), (2, "json")]


# -- NDJSON: a bad line is a bad record ------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
def test_invalid_utf8_in_an_ndjson_line(config: dict[str, int], tmp_path: Path) -> None:
    v = Validator(PERSON, adapt=False)
    data = b'{"name": "Ada"}\n{"name": "\xff\xfe"}\n{"name": "\xc3\xa9"}\n{"name": "\xed\xa0\x80"}\n{"name": ""}\n'
    expected = [
        (1, "", "json", "Invalid JSON on line 2: invalid UTF-8 at byte 10"),
        (3, "", "json", "Invalid JSON on line 4: invalid UTF-8 at byte 10"),
        (4, "/name", "minLength", "String shorter than 1 character"),
    ]
    path = tmp_path / "bad.ndjson"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        r = v.validate_ndjson(source, **config)
        assert r.valid == [True, False, True, False, False]
        assert errors_of(r) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_truncated_and_malformed_ndjson_lines(config: dict[str, int]) -> None:
    v = Validator(PERSON, adapt=False)
    data = b'{"name": "Ada"}\n{"name": "Bo\n\n  \r\n{"name": 1}\n[1,\n{"name": "x"} extra\n{"name": "Cy"}\n{"name": "D'
    r = v.validate_ndjson(data, **config)
    assert r.valid == [True, False, False, False, False, True, False]
    assert errors_of(r) == [
        (1, "", "json", "Invalid JSON on line 2: unexpected end of input at byte 12"),
        (2, "/name", "type", "Expected `string`, got `integer`"),
        (3, "", "json", "Invalid JSON on line 6: unexpected end of input at byte 3"),
        (4, "", "json", "Invalid JSON on line 7: trailing characters at byte 14"),
        (6, "", "json", "Invalid JSON on line 9: unexpected end of input at byte 11"),
    ]


def test_ndjson_line_endings_and_blank_lines() -> None:
    v = Validator({"type": "integer"}, adapt=False)
    r = v.validate_ndjson(b"\n1\r\n\r\n 2 \n\t\n3")
    assert r.valid == [True, True, True]
    assert v.validate_ndjson(b"1\n\n\n").valid == [True]


# -- JSON arrays: a broken array stops the call --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"   ",
        b"[",
        b"[1, 2",
        b'[{"name": "Ada"}, {"name": "Bo',
        b'[{"name": "Ada"},',
        b"[1, 2,]",
        b"[1 2]",
        b"[1, 2] 3",
        b'{"name": "Ada"}',
        b"1",
        b"null",
        b"[1, \xff]",
        b'["\xff"]',
        b'[{"a": tru}]',
        b"[01]",
        b'["\\x"]',
    ],
)
@pytest.mark.parametrize("config", CONFIGS)
def test_broken_json_array_raises_input_error(text: bytes, config: dict[str, int]) -> None:
    v = Validator(PERSON, adapt=False)
    with pytest.raises(InputError) as info:
        v.validate_json(text, **config)
    assert isinstance(info.value, ValueError)
    assert str(info.value)
    with pytest.raises(InputError):
        list(v.iter_validate(text, input_kind="json", **config))


def test_broken_json_array_messages() -> None:
    v = Validator(PERSON, adapt=False)
    cases = {
        b"[1, 2": "invalid JSON array: unexpected end of input at byte 5",
        b'[{"name": "Ada"}, {"name": "Bo': "invalid JSON array: unexpected end of input at byte 30",
        b'{"name": "Ada"}': "invalid JSON array: expected a JSON array at byte 0",
        b"  ": "invalid JSON array: expected a JSON array at byte 2",
        b"[1, 2,]": "invalid JSON array: unexpected character ']' at byte 6",
        b"[1, 2] 3": "invalid JSON array: trailing characters at byte 7",
        b'[{"a": tru}]': "invalid JSON array: element 0: unexpected character '}' at byte 10",
        b"[1, \xff]": "invalid JSON array: element 1: invalid UTF-8 at byte 4",
        b"[1, 01]": "invalid JSON array: element 1: invalid number at byte 5",
        b'[1, 2, "\\ud800"]': "invalid JSON array: element 2: invalid escape sequence at byte 8",
        b"[NaN]": "invalid JSON array: element 0: unexpected character 'N' at byte 1",
    }
    for text, message in cases.items():
        for threads in (1, 2):
            with pytest.raises(InputError) as info:
                v.validate_json(text, batch_size=1, micro_batch_size=1, threads=threads)
            assert str(info.value) == message


def test_json_text_with_lone_surrogate_raises_input_error() -> None:
    v = Validator({"type": "string"}, adapt=False)
    with pytest.raises(InputError, match="not valid Unicode"):
        v.validate_json('["\ud800"]')
    # the escaped form is JSON text that names a lone surrogate: not a Unicode string
    with pytest.raises(InputError):
        v.validate_json('["\\ud800"]')


# -- nesting -------------------------------------------------------------------------------------


def nested_dict(depth: int) -> Any:
    """A record whose nesting is ``depth`` objects: {"a": {"a": ... {} ...}}."""
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def nested_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEPTH_ERROR = f"Nesting deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("config", CONFIGS)
def test_nesting_deeper_than_the_limit_in_json_and_ndjson(config: dict[str, int]) -> None:
    assert MAX_DEPTH == 128
    v = Validator({"type": ["object", "array"]}, adapt=False)
    records = [
        nested_dict(MAX_DEPTH),
        nested_dict(MAX_DEPTH + 1),
        nested_list(MAX_DEPTH),
        nested_list(MAX_DEPTH + 1),
        {},
    ]
    expected = [(1, "", "depth", DEPTH_ERROR), (3, "", "depth", DEPTH_ERROR)]
    text = json.dumps(records)
    for r in (
        v.validate_ndjson(ndjson(records), **config),
        # a JSON array whose element is too deep: a per-record error, the array itself is fine
        v.validate_json(text, **config),
    ):
        assert r.valid == [True, False, True, False, True]
        assert errors_of(r) == expected
    # even where the schema looks at nothing
    r = Validator(True, adapt=False).validate_json(text, **config)
    assert errors_of(r) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_nesting_deeper_than_the_limit_in_compared_values(config: dict[str, int]) -> None:
    """Dicts: uniqueItems, enum and const compare whole values, never deeper than the limit."""
    deep = nested_dict(MAX_DEPTH + 5)
    v = Validator({"type": "array", "uniqueItems": True}, adapt=False)
    r = v.validate_batch([[deep, nested_dict(MAX_DEPTH + 5)], [1, 2], [deep, 1]], **config)
    assert r.valid == [False, True, True]
    assert errors_of(r) == [(0, "", "depth", DEPTH_ERROR)]
    c = Validator({"properties": {"a": {"const": nested_dict(20)}}}, adapt=False)
    r = c.validate_batch(
        [{"a": nested_dict(20)}, {"a": nested_dict(21)}, {"a": nested_list(500)}], **config
    )
    assert r.valid == [True, False, False]
    assert [(e.index, e.path, e.keyword) for e in r.errors] == [
        (1, "/a", "const"),
        (2, "/a", "const"),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_nesting_deeper_than_the_limit_in_dicts(config: dict[str, int]) -> None:
    """Python records are read only as deep as the checks go (the documented rule): a dict
    nested beyond MAX_DEPTH is a `depth` error where a check must look that deep, and is not
    walked where nothing is checked. JSON text is parsed
    whole, so there any nesting beyond the limit is a `depth` error (see the NDJSON tests)."""
    shallow = Validator({"type": ["object", "array"]}, adapt=False)
    records = [nested_dict(MAX_DEPTH), nested_dict(MAX_DEPTH + 1), nested_list(MAX_DEPTH + 1), {}]
    r = shallow.validate_batch(records, **config)
    assert r.valid == [True, True, True, True]
    assert r.errors == []
    # A comparison stops at the first difference: these differ near the top, no `depth` error
    # (a comparison that must go deeper is one: see the uniqueItems case above).
    whole = Validator({"enum": [{}, [1]]}, adapt=False)
    r = whole.validate_batch(records, **config)
    assert r.valid == [False, False, False, True]
    assert [(e.index, e.keyword) for e in r.errors] == [(0, "enum"), (1, "enum"), (2, "enum")]


def test_extreme_nesting_never_crashes() -> None:
    """100,000 levels: no stack overflow in any entry point (run apart: a crash kills the process)."""
    code = r"""
import json
from satya_adapt import Validator
n = 100_000
value = {}
for _ in range(n):
    value = {"a": value}
items = []
for _ in range(n):
    items = [items]
v = Validator({"type": "object", "properties": {"a": {"type": "object"}}}, adapt=False)
u = Validator({"uniqueItems": True}, adapt=False)
for t in (1, 2):
    r = v.validate_batch([value, items, {"a": {}}], batch_size=2, micro_batch_size=1, threads=t)
    print(len(r.valid), r.valid[1:], [e.keyword for e in r.errors][-1:])
    r = u.validate_batch([[items, items], [value, value]], threads=t)
    print(r.valid, [e.keyword for e in r.errors])
text = b"[" * n + b"]" * n
r = v.validate_ndjson(text + b"\n" + b'{"a": {}}\n')
print(r.valid, [e.keyword for e in r.errors])
r = v.validate_json(b"[" + text + b', {"a": {}}]')
print(r.valid, [e.keyword for e in r.errors])
"""
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "3 [False, True] ['type']",
        "[False, False] ['depth', 'depth']",
        "3 [False, True] ['type']",
        "[False, False] ['depth', 'depth']",
        "[False, True] ['depth']",
        "[False, True] ['depth']",
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_self_referencing_records_never_hang(config: dict[str, int]) -> None:
    loop: dict[str, Any] = {}
    loop["a"] = loop
    items: list[Any] = []
    items.append(items)
    other: list[Any] = []
    other.append(other)
    u = Validator({"type": "array", "uniqueItems": True}, adapt=False)
    r = u.validate_batch([[items, other], [items, 1], [loop, loop]], **config)
    assert errors_of(r) == [(0, "", "depth", DEPTH_ERROR), (2, "", "depth", DEPTH_ERROR)]
    e = Validator({"enum": [[[[1]]], {"a": {"a": 1}}]}, adapt=False)
    r = e.validate_batch([items, loop], **config)
    assert [(x.index, x.keyword) for x in r.errors] == [(0, "enum"), (1, "enum")]
    # the schema looks one level in: what lies below is not walked
    s = Validator({"type": "object", "properties": {"a": {"type": "object"}}}, adapt=False)
    assert s.validate_batch([loop], **config).valid == [True]


# -- empty inputs ----------------------------------------------------------------------------------


def test_empty_inputs(tmp_path: Path) -> None:
    v = Validator(PERSON)
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.ndjson"
    blank.write_bytes(b"\n\n  \n")
    results = {
        "list": v.validate_batch([]),
        "tuple": v.validate_batch(()),
        "generator": v.validate_batch(x for x in []),
        "explicit": v.validate_batch([], batch_size=5, micro_batch_size=2, threads=2),
        "json": v.validate_json(b"[]"),
        "json str": v.validate_json(" [ ] "),
        "ndjson bytes": v.validate_ndjson(b""),
        "ndjson blank": v.validate_ndjson(b"\n\r\n  \n"),
        "ndjson path": v.validate_ndjson(empty),
        "ndjson blank path": v.validate_ndjson(str(blank)),
        "ndjson file": v.validate_ndjson(io.BytesIO(b"")),
    }
    for name, r in results.items():
        assert (r.valid, r.errors, r.n_valid, r.n_invalid, len(r)) == ([], [], 0, 0, 0), name
        assert r.stats.chunks == 0, name
        assert r.stats.tasks == 0, name
        assert r.all_valid, name
    for source in ([], iter([]), b"[]", io.BytesIO(b"")):
        assert list(v.iter_validate(source)) == []


# -- threads -------------------------------------------------------------------------------------


def test_validator_shared_by_eight_python_threads() -> None:
    v = Validator(PERSON, adapt=False)
    records = [
        {
            "name": "Ada" if i % 3 else "",
            "age": i - 50,
            "tags": ["x"] * (i % 4) + ([1] if i % 7 == 0 else []),
        }
        for i in range(2000)
    ]
    text = json.dumps(records).encode()
    lines = ndjson(records)
    serial = errors_of(v.validate_batch(records))
    assert len(serial) > 100
    outcomes: list[Any] = [None] * 8
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        got = []
        for j in range(6):
            config = {
                "batch_size": 50 + 37 * k,
                "micro_batch_size": 7 + j,
                "threads": 1 + (k + j) % 3,
            }
            got.append(errors_of(v.validate_batch(records, **config)))
            got.append(errors_of(v.validate_json(text, **config)))
            got.append(errors_of(v.validate_ndjson(lines, **config)))
            got.append(errors_of(v.validate_batch(iter(records), **config)))
        outcomes[k] = got

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    for k, got in enumerate(outcomes):
        assert got is not None, f"thread {k} failed"
        for g in got:
            assert g == serial


# -- keys and strings that are not JSON -------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("extra", [False, {"type": "integer"}], ids=["forbidden", "schema"])
def test_dict_with_non_string_keys(config: dict[str, int], extra: Any) -> None:
    """Where the schema constrains unknown keys, every key is looked at."""
    v = Validator({**PERSON, "additionalProperties": extra}, adapt=False)
    records = [
        {"name": "Ada", 1: "one"},
        {"name": "Ada", (1, 2): None, None: 0, 2.5: 1, True: 1},
        {"name": "Ada"},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, False, True]
    assert errors_of(r) == [
        (0, "", "json", "Object key `1` is not a string"),
        (1, "", "json", "Object key `<tuple>` is not a string"),
        (1, "", "json", "Object key `None` is not a string"),
        (1, "", "json", "Object key `2.5` is not a string"),
        (1, "", "json", "Object key `True` is not a string"),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_strings_with_lone_surrogates(config: dict[str, int]) -> None:
    v = Validator({**PERSON, "additionalProperties": {"type": "integer"}}, adapt=False)
    records = [
        {"name": "a\ud800b"},
        {"name": "Ada", "tags": ["\udfff"]},
        {"name": "Ada", "\ud83d": 1},
        {"name": "\ud83d\ude00"},  # a surrogate pair in a Python str is still two lone surrogates
        {"name": "😀", "tags": ["é", "\u2028"]},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, False, False, False, True]
    assert errors_of(r) == [
        (0, "/name", "json", "String is not valid Unicode"),
        (1, "/tags/0", "json", "String is not valid Unicode"),
        (2, "", "json", "Object key is not valid Unicode"),
        (3, "/name", "json", "String is not valid Unicode"),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_a_lone_surrogate_is_reported_alike_by_every_configuration(config: dict[str, int]) -> None:
    """A str that is not valid Unicode is reported as such, before any keyword, with T=1 as with T>1."""
    v = Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
    r = v.validate_batch(["\ud800", {"a": "\udc00"}], **config)
    assert errors_of(r) == [
        (0, "", "json", "String is not valid Unicode"),
        (1, "/a", "json", "String is not valid Unicode"),
    ]


NON_JSON_ANYWHERE = [
    pytest.param(
        {"name": "Ada", "x": {1, 2}}, ("/x", "json", "Expected a JSON value, got `set`"), id="set"
    ),
    pytest.param(
        {"name": "Ada", "x": [Point(0, 0)]},
        ("/x/0", "json", "Expected a JSON value, got `Point`"),
        id="object",
    ),
    pytest.param(
        {"name": "Ada", "x": math.nan}, ("/x", "json", "`NaN` is not a JSON number"), id="nan"
    ),
    pytest.param(
        {"name": "Ada", "x": {"y": -math.inf}},
        ("/x/y", "json", "`-inf` is not a JSON number"),
        id="inf",
    ),
    pytest.param(
        {"name": "Ada", 1: "one"}, ("", "json", "Object key `1` is not a string"), id="int-key"
    ),
    pytest.param(
        {"name": "Ada", "\ud800": 1},
        ("", "json", "Object key is not valid Unicode"),
        id="surrogate-key",
    ),
    pytest.param(
        {"name": "Ada", "x": "\ud800"},
        ("/x", "json", "String is not valid Unicode"),
        id="surrogate",
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(("record", "error"), NON_JSON_ANYWHERE)
def test_non_json_values_are_reported_where_the_schema_looks(
    config: dict[str, int], record: Any, error: tuple[str, str, str]
) -> None:
    """A value JSON cannot hold is a `json` error wherever a check reads it: here every
    property and every key is read (`additionalProperties: false` and a schema for all)."""
    strict = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": {
            "type": ["object", "array", "string", "number"],
            "items": {"type": "object"},
            "additionalProperties": {"type": "number"},
        },
    }
    v = Validator(strict, adapt=False)
    r = v.validate_batch([record, {"name": "Ada"}], **config)
    assert r.valid == [False, True]
    assert errors_of(r) == [(0, *error)]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(("record", "error"), NON_JSON_ANYWHERE)
def test_non_json_values_are_not_walked_where_the_schema_does_not_look(
    config: dict[str, int], record: Any, error: tuple[str, str, str]
) -> None:
    """The documented rule for Python records: checks read only what the schema constrains
    (as Python's jsonschema does), so a value under no constraint is not inspected, by every
    configuration alike. Keys that are not str are only read when unknown keys are checked."""
    v = Validator(PERSON, adapt=False)
    r = v.validate_batch([record, {"name": "Ada"}], **config)
    assert r.valid == [True, True]
    assert r.errors == []


# -- misuse: a clear exception naming the argument, never a lost error ------------------------------


def test_misuse_raises_clear_exceptions(tmp_path: Path) -> None:
    v = Validator({"type": "object"}, adapt=False)
    with pytest.raises(
        TypeError, match=r"^`source` must be opened in binary mode \('rb'\), not text mode$"
    ):
        v.validate_ndjson(io.StringIO("{}\n"))
    with pytest.raises(InputError, match="^no such NDJSON file: "):
        v.validate_ndjson(tmp_path / "missing.ndjson")
    with pytest.raises(InputError, match="^no such NDJSON file: "):
        v.validate_ndjson(str(tmp_path))
    with pytest.raises(
        TypeError, match="^`items` must be an iterable of records, got str; use validate_json"
    ):
        v.validate_batch("[{}]")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^`items` must be an iterable of records, got dict"):
        v.validate_batch({"a": 1})
    with pytest.raises(TypeError, match="^`items` must be an iterable of records, got int$"):
        v.validate_batch(5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match="^`data` must be bytes or str holding a JSON array, got int$"
    ):
        v.validate_json(5)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="^`input_kind` must be 'dicts', 'json' or 'ndjson', got 'xml'$"
    ):
        list(v.iter_validate([], input_kind="xml"))
    assert v.validate_json(memoryview(b"[{}, 1]")).valid == [True, False]
    assert v.validate_json(bytearray(b"[{}, 1]")).valid == [True, False]
    assert v.validate_ndjson(bytearray(b"{}\n[]")).valid == [True, False]


@pytest.mark.parametrize("config", CONFIGS)
def test_exceptions_from_the_input_propagate(config: dict[str, int]) -> None:
    v = Validator({"type": "object"}, adapt=False)

    def records() -> Any:
        yield {}
        yield {}
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        v.validate_batch(records(), **config)

    class FailingReader:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk")
            return b"{}\n" * 3

    with pytest.raises(OSError, match="disk"):
        v.validate_ndjson(FailingReader(), **config)

    class TextLater:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> Any:
            self.calls += 1
            return b"{}\n" if self.calls < 3 else "text"

    with pytest.raises(InputError, match="^the NDJSON file object must be opened in binary mode$"):
        v.validate_ndjson(TextLater(), **config)


# -- issue 10: full JSON Schema ------------------------------------------------------------

RECURSIVE = {
    "$defs": {"node": {"type": "object", "properties": {"c": {"$ref": "#/$defs/node"}}}},
    "$ref": "#/$defs/node",
}


def _nested(levels: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    inner = record
    for _ in range(levels):
        inner["c"] = {}
        inner = inner["c"]
    return record


@pytest.mark.parametrize("config", CONFIGS)
def test_a_recursive_schema_stops_at_the_depth_limit_on_a_deep_record(config: dict[str, int]) -> None:
    # 100 000 levels: following the reference without a limit would overflow the stack.
    result = Validator(RECURSIVE, adapt=False).validate_batch([_nested(100_000), _nested(3)], **config)
    assert result.valid == [False, True]
    assert errors_of(result) == [(0, "/c" * (MAX_DEPTH + 1), "depth", f"Nesting deeper than {MAX_DEPTH} levels")]


def test_reference_cycles_that_never_descend_are_schema_errors() -> None:
    for schema, at in [
        ({"$ref": "#"}, "/$ref"),
        ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}, "/$ref"),
    ]:
        with pytest.raises(SchemaError) as info:
            Validator(schema, adapt=False)
        assert str(info.value) == f"`$ref` loops back to itself without descending into the value (at {at})"


def test_long_names_and_references_are_shortened_in_messages() -> None:
    name = "k" * 100
    v = Validator({"propertyNames": {"maxLength": 3}, "unevaluatedProperties": False}, adapt=False)
    for result in (v.validate_batch([{name: 1}]), v.validate_json(json.dumps([{name: 1}]))):
        assert errors_of(result) == [
            (0, "", "propertyNames", f"Property name `{'k' * 40}... (100 characters)` is not valid against `propertyNames`"),
            (0, "", "unevaluatedProperties", f"Unevaluated property `{'k' * 40}... (100 characters)`"),
        ]
    with pytest.raises(SchemaError) as info:
        Validator({"$ref": "x" * 100})
    assert str(info.value) == f"cannot resolve `$ref` `{'x' * 40}... (100 characters)` (at the root)"


def test_any_of_explains_at_most_four_branches() -> None:
    v = Validator({"anyOf": [{"const": i} for i in range(10)]}, adapt=False)
    assert errors_of(v.validate_batch([11])) == [
        (0, "", "anyOf", "No branch of `anyOf` matched: 0: Expected 0; 1: Expected 1; 2: Expected 2; 3: Expected 3; 6 more")
    ]


@pytest.mark.parametrize(
    ("resources", "exc", "message"),
    [
        ([1], TypeError, "`resources` must be a mapping of URIs to documents, got list"),
        ({1: {}}, TypeError, "`resources` keys must be str URIs, got int"),
        ({"a.json": float("nan")}, SchemaError, "the schema is not a JSON document: Out of range float values are not JSON compliant"),
    ],
)  # fmt: skip
def test_bad_resources_raise_clear_exceptions(resources: Any, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        Validator({"$ref": "a.json"}, adapt=False, resources=resources)
    assert str(info.value) == message
