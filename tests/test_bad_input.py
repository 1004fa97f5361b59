"""Bad input: a clear per-record error or a clear exception, never a crash, a hang or a lost result.

One test per case of issue 2's list, each through the entry points it concerns, with the
exact outcome (keyword, path, message) expected.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import multiprocessing
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import pytest

from revisit_helpers import outcomes, remembering_every_visit
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
        (1, "", "type", 'Expected `object`, got `string` "Ada"'),
        (2, "", "type", "Expected `object`, got `integer` 3"),
        (3, "", "type", "Expected `object`, got `null`"),
        (4, "", "type", "Expected `object`, got `boolean` true"),
        (5, "", "type", "Expected `object`, got `number` 2.5"),
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
    # Nested values that are not JSON values stay `json` record errors.
    v = Validator(PERSON, adapt=False)
    records: list[Any] = [
        {"name": "Ada", "tags": [Point(0, 0), "ok", {"set"}]},
        {"name": "Ada", "age": 1 + 2j},
        {"name": object()},
        {"name": "Ada"},
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False] * 3 + [True]
    assert errors_of(r) == [
        (0, "/tags/0", "json", "Expected a JSON value, got `Point`"),
        (0, "/tags/2", "json", "Expected a JSON value, got `set`"),
        (1, "/age", "json", "Expected a JSON value, got `complex`"),
        (2, "/name", "json", "Expected a JSON value, got `object`"),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_a_non_json_value_fails_a_subschema_as_any_failure_does(config: dict[str, int]) -> None:
    """As the README says: where a subschema's failure is no failure of the record (`not`,
    `if`, `contains`, another branch of `anyOf`), a value JSON cannot hold decides as a failed
    check does; where it is the record's, it is its `json` error."""
    bad = [{1, 2}]
    for schema in (
        {"not": {"items": {"type": "string"}}},
        {"if": {"items": {"type": "string"}}, "then": False},
        {"contains": {"type": "string"}},
        {"anyOf": [{"items": {"type": "string"}}, {"type": "array"}]},
    ):
        record = [*bad, "a"] if "contains" in schema else bad
        assert Validator(schema, adapt=False).validate_batch([record], **config).valid == [True]
    r = Validator({"items": {"type": "string"}}, adapt=False).validate_batch([bad], **config)
    assert errors_of(r) == [(0, "/0", "json", "Expected a JSON value, got `set`")]


@dataclasses.dataclass
class PointRecord:
    x: int


class StructRecord(msgspec.Struct):
    x: int


class ModelRecord(pydantic.BaseModel):
    x: int


GENERIC = "not a JSON value (a dict, list, str, int, float, bool or None)"
TOP_LEVEL = [
    (
        PointRecord(1),
        "`PointRecord` dataclass instance, not a JSON value; convert it with"
        " `dataclasses.asdict(record)`",
    ),
    (
        StructRecord(1),
        "`StructRecord` msgspec Struct, not a JSON value; convert it with"
        " `msgspec.to_builtins(record)`",
    ),
    (
        ModelRecord(x=1),
        "`ModelRecord` pydantic model instance, not a JSON value; convert it"
        " with `record.model_dump()`",
    ),
    (Point(1, 2), f"`Point`, {GENERIC}"),
    ({1, 2}, f"`set`, {GENERIC}"),
    (frozenset(), f"`frozenset`, {GENERIC}"),
    (b"bytes", f"`bytes`, {GENERIC}"),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(("record", "what"), TOP_LEVEL)
def test_top_level_non_json_record_is_a_type_error(
    config: dict[str, int], record: Any, what: str
) -> None:
    # A top-level record that is not a JSON value stops the call, naming its index.
    v = Validator(PERSON, adapt=False)
    records = [{"name": "Ada"}] * 5 + [record]
    with pytest.raises(TypeError) as e:
        v.validate_batch(records, **config)
    assert str(e.value) == f"Record 5 is a {what}"
    with pytest.raises(TypeError) as e:
        v.validate_batch(iter(records), **config)
    assert str(e.value) == f"Record 5 is a {what}"
    with pytest.raises(TypeError) as e:
        list(v.iter_validate(records, **config))
    assert str(e.value) == f"Record 5 is a {what}"


@pytest.mark.parametrize(("record", "what"), TOP_LEVEL)
def test_single_non_json_record_is_a_type_error(record: Any, what: str) -> None:
    v = Validator(PERSON, adapt=False)
    with pytest.raises(TypeError) as e:
        v.is_valid(record)
    assert str(e.value) == f"The record is a {what}"
    with pytest.raises(TypeError) as e:
        v.validate_one(record)
    assert str(e.value) == f"The record is a {what}"


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
        (0, "/name", "type", "Expected `string`, got `integer` 1"),
        (0, "/age", "type", 'Expected `integer`, got `string` "1"'),
        (0, "/score", "type", 'Expected `number`, got `string` "1.5"'),
        (0, "/tags", "type", 'Expected `array`, got `string` "a"'),
        (1, "/name", "type", "Expected `string`, got `null`"),
        (1, "/age", "type", "Expected `integer`, got `number` 1.5"),
        (1, "/score", "type", "Expected `number`, got `null`"),
        (1, "/tags/0", "type", "Expected `string`, got `integer` 1"),
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
        (0, "/i", "type", "Expected `integer`, got `boolean` true"),
        (0, "/n", "type", "Expected `number`, got `boolean` false"),
        (0, "/e", "enum", "Expected one of 0, 1, got false"),
        (0, "/c", "const", "Expected 1, got true"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [False, True]
    assert errors_of(r) == expected
    for other in all_json_paths(v, records, config):
        assert errors_of(other) == expected


class _Int(int):
    pass


class _Float(float):
    pass


@pytest.mark.parametrize("config", CONFIGS)
def test_integer_and_number_leaves_take_every_kind_of_number(config: dict[str, int]) -> None:
    """A leaf whose only check is `type` (passed without the full visit when it holds): every
    integral number is an `integer` (`1.0`, a big int, subclasses), nothing else is, and NaN
    and the infinities are no JSON number under either type."""
    schema = {"type": "object", "properties": {"i": {"type": "integer"}, "n": {"type": "number"}}}
    v = Validator(schema, adapt=False)
    passing = [1, -7, 1.0, -0.0, 1e300, 10**30, -(10**400), _Int(3), _Float(2.0)]
    failing = [1.5, 1e-300, True, "1", None]
    records = [{"i": x, "n": x} for x in passing + failing]
    r = v.validate_batch(records, **config)
    assert r.valid == [True] * len(passing) + [False] * len(failing)
    assert [(e.index, e.path, e.keyword) for e in r.errors] == [
        (9, "/i", "type"),
        (10, "/i", "type"),
        (11, "/i", "type"),
        (11, "/n", "type"),
        (12, "/i", "type"),
        (12, "/n", "type"),
        (13, "/i", "type"),
        (13, "/n", "type"),
    ]
    for x in (math.nan, math.inf, -math.inf, _Float("nan")):
        r = v.validate_batch([{"i": x}, {"n": x}], **config)
        assert [(e.path, e.keyword) for e in r.errors] == [("/i", "json"), ("/n", "json")]


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
        (1, "/c", "const", f"Expected {BIG + 1}, got {BIG}"),
        (1, "/e", "enum", f"Expected one of {2**100}, got {2**100 + 1}"),
        (2, "/max", "maximum", f"Must be <= {BIG}, got {10**40}"),
        (2, "/min", "minimum", f"Must be >= {-BIG}, got {-(10**40)}"),
        (2, "/small", "maximum", f"Must be <= 5, got {2**63}"),
        (2, "/nonneg", "minimum", f"Must be >= 0, got {-(2**63) - 1}"),
        (2, "/c", "const", f"Expected {BIG + 1}, got 1.8446744073709552e19"),
    ]
    r = v.validate_batch(records, **config)
    assert r.valid == [True, False, False, True]
    assert errors_of(r) == expected
    for other in all_json_paths(v, records, config):
        assert errors_of(other) == expected


def test_multiple_of_an_integral_float_is_decided_as_python_finds_it() -> None:
    """An integral float is the integer it holds: `2.0**60` is a multiple of 16 (its shortest
    decimal, 1152921504606847000, is not: it failed), `1e23` no multiple of 1000 (it passed,
    as 10**23), in dicts and in JSON text alike (as the float `json.loads` reads)."""
    floats = [2.0**60, 1e23, -(2.0**70), 3.0 * 2**55, 1e22, 12345.0, 2.0**1000, -0.0]
    for d in (3, 7, 16, 1000, 1024, 10**22):
        v = Validator({"multipleOf": d}, adapt=False)
        expected = [x % d == 0 for x in floats]
        assert v.validate_batch(floats).valid == expected, d
        assert v.validate_json(json.dumps(floats).encode()).valid == expected, d
    # A float with a fraction is the decimal it reads as.
    v = Validator({"multipleOf": 0.01}, adapt=False)
    assert v.validate_batch([0.07, 0.075, 7.0]).valid == [True, False, True]


def test_multiple_of_long_numbers_is_exact_on_json_text_and_dicts() -> None:
    """A divisor of 40,000 digits and numbers as long, in JSON text (past 1,024 digits, read as
    decimal digits) and as Python ints; small divisors and fractions on long JSON text: the
    verdicts of exact arithmetic. On JSON text this was quadratic in the digits (a divisor of
    320,000 digits took a minute): the divisor is now taken apart once, into powers of 2, 5
    and 10 and the rest, and a number's digits are converted only where a remainder needs them."""
    from fractions import Fraction

    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        rng = random.Random(7)
        d = int(str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(39_999)))
        v = Validator({"multipleOf": d}, adapt=False)
        numbers = [3 * d, 3 * d + 1, -7 * d, d, d - 1, d * 10**50, 10**40_000, 0, 12345]
        texts = [str(x) for x in numbers] + [f"{d}e50", f"{d}e-1", "1e-400", f"{d}e1000000000"]
        expected = [x % d == 0 for x in numbers] + [True, False, False, True]
        assert v.validate_json(("[" + ", ".join(texts) + "]").encode()).valid == expected
        assert v.validate_batch(numbers).valid == expected[: len(numbers)]
        long = int(str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(4_999)))
        numbers = [long, long * 2**70, long * 5**40, long * 10**30, long * 7, long * 3 + 1, -(long * 2**40)]
        texts = [str(x) for x in numbers] + [f"{long}e-3", f"{long}e-30", f"{long}e400"]
        values = [Fraction(x) for x in numbers] + [Fraction(long, 10**3), Fraction(long, 10**30),
                                                   Fraction(long * 10**400)]  # fmt: skip
        for divisor in (7, 2**40, 5**30, 10**20, 3 * 2**70, 0.0001, 0.5, 6.25e-6, 1e-30):
            v = Validator({"multipleOf": divisor}, adapt=False)
            exact = Fraction(divisor) if isinstance(divisor, int) else Fraction(repr(divisor))
            expected = [(x / exact).denominator == 1 for x in values]
            assert v.validate_json(("[" + ", ".join(texts) + "]").encode()).valid == expected, divisor
            assert v.validate_batch(numbers).valid == expected[: len(numbers)], divisor
    finally:
        sys.set_int_max_str_digits(limit)


def test_big_integers_are_integers() -> None:
    v = Validator({"type": "integer"}, adapt=False)
    records = [2**64, -(2**64), 10**300, -(10**300), 2**63, -(2**63) - 1]
    assert v.validate_batch(records).valid == [True] * 6
    assert v.validate_json(json.dumps(records)).valid == [True] * 6
    s = Validator({"type": "string"}, adapt=False)
    r = s.validate_batch([10**300])
    assert errors_of(r) == [
        (0, "", "type", f"Expected `string`, got `integer` 1{'0' * 39}... (301 digits)")
    ]


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
    for text in ["[NaN]", "[1, Infinity]", "[-Infinity]"]:
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
        (4, "/name", "minLength", 'String shorter than 1 character, got ""'),
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
        (2, "/name", "type", "Expected `string`, got `integer` 1"),
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
        b'[1, 2, "\\ud8"]': "invalid JSON array: element 2: invalid escape sequence at byte 8",
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


#: Schemas that reach a string, a key or neither, in and out of combinators, against JSON text
#: whose escapes write lone surrogates (JSON, which ``json.loads`` reads as strs that are not
#: valid Unicode).
LONE_SCHEMAS = [
    {},
    {"type": "string"},
    {"type": "array"},
    {"type": "array", "items": {}},
    {"type": "array", "items": {"type": "string"}},
    {"type": "array", "items": {"type": "string", "maxLength": 1}},
    {"type": "object", "properties": {"a": {"type": "string"}}},
    {"type": "object", "properties": {"a": {"type": "integer"}}},
    {"type": "object", "properties": {"b": {"type": "integer"}}},
    {"type": "object", "additionalProperties": {"type": "string"}},
    {"type": "object", "additionalProperties": False, "properties": {"a": {}}},
    {"type": "object", "propertyNames": {"maxLength": 3}},
    {"type": "object", "required": ["a"]},
    {"type": "object", "properties": {"a": {"enum": ["x", "ok"]}}},
    {"type": "object", "properties": {"a": {"const": "x"}}},
    {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "object"}]},
    {"not": {"type": "integer"}},
    {"type": "array", "uniqueItems": True},
]

LONE_RECORDS = [
    r'"\ud800"',
    r'"ab\udc00cd"',
    r'"\ud83d\ude00"',  # a pair: one character
    r'"\ud83d\u0041"',  # a lone high surrogate, then A
    r'"\ude00\ud83d"',  # the pair reversed: two lone ones
    r'["x", "\ud800"]',
    r'["\ud800", "\ud800"]',
    r'{"a": "\ud800"}',
    r'{"a": "x", "b": "\udfff"}',
    r'{"\ud800": 1}',
    r'{"a\udfff": "x", "a": "x"}',
    r'{"a": {"\ud800": ["\udc00"]}}',
    r'{"a": "ok"}',
]


@pytest.mark.parametrize("schema", LONE_SCHEMAS, ids=lambda s: json.dumps(s))
def test_json_text_with_lone_surrogate_escapes_reads_as_json_loads_does(schema: Any) -> None:
    """A lone surrogate escape is JSON: a record that holds one, in a JSON array or an NDJSON
    line, gets the verdict and errors of the dict ``json.loads`` makes of it (a str that is not
    valid Unicode: ``json`` where a check reads it), never an ``InputError`` for the text."""
    v = Validator(schema, adapt=False)
    dicts = [json.loads(r) for r in LONE_RECORDS]
    for errors in (True, False):
        for threads in (1, 2):
            config = {"batch_size": 4, "micro_batch_size": 2, "threads": threads, "errors": errors}
            want = v.validate_batch(dicts, **config)
            array = v.validate_json(("[" + ", ".join(LONE_RECORDS) + "]").encode(), **config)
            lines = v.validate_ndjson("\n".join(LONE_RECORDS).encode(), **config)
            for got in (array, lines):
                assert got.valid == want.valid
                assert errors_of(got) == errors_of(want)
    assert [v.is_valid(d) for d in dicts] == want.valid


def test_a_lone_surrogate_escape_is_named_where_its_text_is_needed() -> None:
    """Where a key must be read as text (a JSON Pointer's token), a key that is not valid Unicode
    names none; the records under a pointer read as the elements of a JSON array do."""
    v = Validator({"type": "string", "maxLength": 2}, adapt=False)
    doc = b'{"\\ud800": [1], "data": ["\\udc00", "ok", "toolong"]}'
    r = v.validate_json(doc, pointer="/data")
    assert errors_of(r) == [
        (0, "", "json", "String is not valid Unicode"),
        (2, "", "maxLength", 'String longer than 2 characters, got "toolong"'),
    ]


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


@pytest.mark.parametrize("config", CONFIGS)
def test_a_failure_reached_again_and_again_is_reported_once(config: dict[str, int]) -> None:
    # allOf of 8 references, 5 levels deep: 32,768 visits of one leaf per record. Each
    # visit of the failing leaf was an error of its own (12 x 6 deep: 3 million errors,
    # 1.2 GB, for one record of one field).
    defs: dict[str, Any] = {
        f"L{i}": {"allOf": [{"$ref": f"#/$defs/L{i + 1}"}] * 8} for i in range(5)
    }
    defs["L5"] = {"properties": {"a": {"type": "integer"}, "b": {"maxLength": 2}}}
    v = Validator({"$defs": defs, "$ref": "#/$defs/L0"})
    records = [{"a": "x"}, {"a": 1}, {"a": 2, "b": "long"}, {"a": "y", "b": "long"}]
    expected = [
        (0, "/a", "type", 'Expected `integer`, got `string` "x"'),
        (2, "/b", "maxLength", 'String longer than 2 characters, got "long"'),
        (3, "/a", "type", 'Expected `integer`, got `string` "y"'),
        (3, "/b", "maxLength", 'String longer than 2 characters, got "long"'),
    ]
    for result in [v.validate_batch(records, **config), *all_json_paths(v, records, config)]:
        assert result.valid == [False, True, False, False]
        assert errors_of(result) == expected
        assert result.errors_omitted == 0


def _fan_out(width: int, levels: int, wrap: str, last: Any) -> dict[str, Any]:
    """Definitions L0..L{levels}: each `allOf` of `width` references to the next (each put
    in ``wrap``, where "REF" stands for it), the last ``last``; the schema is L0."""
    defs: dict[str, Any] = {}
    for i in range(levels):
        ref = json.dumps({"$ref": f"#/$defs/L{i + 1}"})
        defs[f"L{i}"] = {"allOf": [json.loads(wrap.replace('"REF"', ref))] * width}
    defs[f"L{levels}"] = last
    return {"$defs": defs, "$ref": "#/$defs/L0"}


@pytest.mark.parametrize("config", CONFIGS)
def test_a_definition_reached_along_millions_of_paths_is_checked_once_per_value(
    config: dict[str, int],
) -> None:
    # 12 references to the next definition, nested 7 deep: 35 million paths to the last
    # one, walked one by one before (0.8 s a record for a verdict, 38 s with errors; 12 x 9
    # would take hours). A record's walk now remembers the verdicts of shared nodes.
    field = {"type": "object", "properties": {"a": {"type": "integer"}}}
    in_place = Validator(_fan_out(12, 7, '"REF"', field))
    records: list[Any] = [{"a": 1}, {"a": "x"}, {"b": 2}, [1]]
    expected = [
        (1, "/a", "type", 'Expected `integer`, got `string` "x"'),
        (3, "", "type", "Expected `object`, got `array`"),
    ]
    for result in [in_place.validate_batch(records, **config), *all_json_paths(in_place, records, config)]:
        assert result.valid == [True, False, True, False]
        assert errors_of(result) == expected
    for result in [in_place.validate_batch(records, errors=False, **config)]:
        assert result.valid == [True, False, True, False]
    # Each descent into the record multiplies the paths again.
    down = Validator(_fan_out(12, 7, '{"properties": {"x": "REF"}}', field))
    deep: Any = {"a": "x"}
    for _ in range(7):
        deep = {"x": deep}
    records = [deep, {"x": {"x": 1}}]
    pointer = "/x" * 7 + "/a"
    expected = [(0, pointer, "type", 'Expected `integer`, got `string` "x"')]
    for result in [down.validate_batch(records, **config), *all_json_paths(down, records, config)]:
        assert result.valid == [False, True]
        assert errors_of(result) == expected
    # Property names are walked as strings of their own, each remembering on its own.
    names = _fan_out(12, 7, '"REF"', {"maxLength": 3})
    keys = Validator({"$defs": names["$defs"], "propertyNames": {"$ref": "#/$defs/L0"}})
    records = [{"abc": 1, "ab": 2}, {"abcd": 1, "abc": 2, "efgh": 3}]
    expected = [
        (1, "", "propertyNames", 'Property name `abcd` is not valid against `propertyNames`: String longer than 3 characters, got "abcd"'),
        (1, "", "propertyNames", 'Property name `efgh` is not valid against `propertyNames`: String longer than 3 characters, got "efgh"'),
    ]
    for result in [keys.validate_batch(records, **config), *all_json_paths(keys, records, config)]:
        assert result.valid == [True, False]
        assert errors_of(result) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_one_object_at_two_places_fails_at_both(config: dict[str, int]) -> None:
    # The dict path knows a value by its address: one object under two keys is one value
    # for a verdict, but its errors are reported at each place.
    shared_defs = _fan_out(3, 3, '"REF"', {"properties": {"a": {"type": "integer"}}})["$defs"]
    schema = {
        "$defs": shared_defs,
        "properties": {"p": {"$ref": "#/$defs/L0"}, "q": {"$ref": "#/$defs/L0"}},
    }
    one = {"a": "s"}
    record = {"p": one, "q": one, "r": [one, one]}
    expected = [
        (0, "/p/a", "type", 'Expected `integer`, got `string` "s"'),
        (0, "/q/a", "type", 'Expected `integer`, got `string` "s"'),
    ]
    plain = Validator(schema)
    every = remembering_every_visit(lambda: Validator(schema))
    for v in (plain, every):
        assert errors_of(v.validate_batch([record], **config)) == expected
        assert errors_of(v.validate_json(json.dumps([record]), **config)) == expected
    assert outcomes(every, [record, one]) == outcomes(plain, [record, one])


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


@pytest.mark.parametrize("threads", [1, 2])
def test_a_key_that_is_no_string_names_no_property(threads: int) -> None:
    """A dict key that is no str (``1``) or not valid Unicode (``"\\ud800"``) names no property,
    whatever text stands for it once the record is taken apart for the pool (``"1"``, ``""``):
    ``dependentRequired``, ``dependentSchemas``, ``required`` and ``properties`` find nothing
    there, with T=1 as with T=2, in a small object and in one large enough to be indexed."""
    schema = {
        "dependentRequired": {"": ["zz"], "1": ["zz"]},
        "dependentSchemas": {"": False, "1": False},
        "properties": {"": {"type": "string"}, "1": {"type": "string"}},
    }
    v = Validator(schema, adapt=False)
    wide = {f"k{i}": i for i in range(80)}
    records = [{1: 5}, {"\ud800": 1}, {**wide, 1: 5, "\udfff": 2}, {"1": "a", 1: 5}, {"": 3}]
    r = v.validate_batch(records, batch_size=2, micro_batch_size=1, threads=threads)
    assert r.valid == [True, True, True, False, False]
    assert errors_of(r) == [
        (3, "", "dependentRequired", "Missing property `zz` required by `1`"),
        (3, "", "false", 'No value is allowed here, got {"1": "a", 1: ...}'),
        (4, "/", "type", "Expected `string`, got `integer` 3"),
        (4, "", "dependentRequired", "Missing property `zz` required by ``"),
        (4, "", "false", 'No value is allowed here, got {"": 3}'),
    ]
    required = Validator({"required": ["1", ""]}, adapt=False)
    got = required.validate_batch([{1: 0, "\ud800": 0}, {"1": 0, "": 0}], threads=threads)
    assert got.valid == [False, True]


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


@pytest.mark.parametrize("wide", ["é", "😀"])
@pytest.mark.parametrize("at", [0, 63, 64, 200, 299])
def test_a_lone_surrogate_anywhere_in_a_long_wide_str(wide: str, at: int) -> None:
    """2- and 4-byte strs are scanned in blocks of 64 code points: a surrogate in any block
    and at either end of one is found."""
    text = [wide] * 300
    text[at] = "\udc00"
    v = Validator({"type": "object", "properties": {"a": {"type": "string"}}}, adapt=False)
    r = v.validate_batch([{"a": "".join(text)}, {"a": wide * 300}], threads=1)
    assert r.valid == [False, True]
    assert errors_of(r) == [(0, "/a", "json", "String is not valid Unicode")]


@pytest.mark.parametrize("size", [0, 1, 5, 11, 171, 300, 44_000])
def test_dict_lookups_find_every_key_of_tables_of_every_size(size: int) -> None:
    """Properties are looked up in a dict's own table (CPython's probe, in place): tables
    whose index slots are 1, 2 and 4 bytes wide, with deleted slots (a dict that lost keys)
    and without (its copy); names present, deleted and never there, one not ASCII."""
    rng = random.Random(size)
    keys = [f"k{i}" for i in range(size)]
    record = {k: i for i, k in enumerate(keys)}
    for k in keys[::3]:
        del record[k]
    names = rng.sample(keys, min(size, 8)) + ["never", "k-1", "é"]
    for rec in (record, dict(record)):
        for name in names:
            present = name in rec
            # `required` and `const` read the key; the other property makes a lookup
            # per property cheaper than a walk over a record of more than 4 keys.
            found = {"properties": {name: {"const": rec.get(name)}, "zz": {"type": "string"}},
                     "required": [name]}  # fmt: skip
            other = {"properties": {name: {"const": "x"}}}
            for threads in (1, 2):
                r = Validator(found, adapt=False).validate_batch([rec], threads=threads)
                assert r.valid == [present], (size, name, threads)
            assert Validator(other, adapt=False).validate_batch([rec]).valid == [not present]


class _Str(str):
    """A str subclass: not a compact str, so CPython keeps no UTF-8 in it the same way."""


def test_wide_strs_read_again_once_their_utf8_is_made() -> None:
    """A non-ASCII str whose UTF-8 CPython already made (the first read asks for it) is
    read from that UTF-8 afterwards: the same verdicts and messages on every later read,
    for values and keys, str subclasses too; a lone surrogate is still found."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "pattern": "^.*\\.[vV][sS]$", "maxLength": 8}},
        "propertyNames": {"pattern": "^[a-zé😀]+$"},
    }
    v = Validator(schema, adapt=False)
    values = ["dé😀.vs", "dé😀.vx", "dé😀😀😀😀😀.vs", "x\u2028.vs", _Str("é.vs"), _Str("é.vz")]
    records = [{"a": x} for x in values] + [{"é😀": 1}, {"é😀X": 1}, {"a": "é\udc00.vs"}]
    first = v.validate_batch(records, threads=1)
    assert first.valid == [True, False, False, False, True, False, True, False, False]
    for _ in range(2):  # every str's UTF-8 is made by now
        again = v.validate_batch(records, threads=1)
        assert again.valid == first.valid
        assert errors_of(again) == errors_of(first)
        assert [v.is_valid(r) for r in records] == first.valid
    assert errors_of(first)[-1] == (8, "/a", "json", "String is not valid Unicode")


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
    with pytest.raises(InputError) as info:
        v.validate_ndjson(str(tmp_path))
    assert str(info.value) == f"cannot read NDJSON file {str(tmp_path)!r}: it is a directory"
    with pytest.raises(
        TypeError, match="^`items` must be an iterable of records, got str; use validate_json"
    ):
        v.validate_batch("[{}]")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^`items` must be an iterable of records, got one dict; wrap it in a list"
    ):
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


# -- issue 8: linear work everywhere, bounded streams ---------------------------------------------


def run_apart(code: str, timeout: float = 120) -> list[str]:
    """Runs `code` in a fresh interpreter (a crash fails the test, not pytest) with a generous
    limit: the quadratic versions of what the linearity tests run took minutes, the linear ones
    take about a second. Returns its stdout lines."""
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    return out.stdout.splitlines()


@pytest.mark.parametrize("config", CONFIGS)
def test_broken_text_beyond_the_depth_limit_is_not_json(config: dict[str, int]) -> None:
    v = Validator({"type": "object"}, adapt=False)
    with pytest.raises(InputError) as info:
        v.validate_json(b"[" + b"[" * 129 + b"}" * 129 + b"]", **config)
    assert str(info.value) == (
        "invalid JSON array: element 0: unexpected character '}' at byte 130"
    )
    with pytest.raises(InputError) as info:
        v.validate_json(b"[" + b"[" * 128 + b"}" * 128 + b"]", **config)
    assert str(info.value) == (
        "invalid JSON array: element 0: unexpected character '}' at byte 129"
    )
    # Well-formed but too deep: one `depth` error, whatever the depth.
    for n in (129, 100_000):
        deep = b"[" * n + b'{"a": [1, "x"]}' + b"]" * n
        r = v.validate_json(b"[" + deep + b", {}]", **config)
        assert errors_of(r) == [(0, "", "depth", f"Nesting deeper than {MAX_DEPTH} levels")]
        r = v.validate_ndjson(deep + b"\n" + b"[" * n + b"1,]" + b"]" * (n - 1) + b"\n{}", **config)
        assert r.valid == [False, False, True]
        assert errors_of(r) == [
            (0, "", "depth", f"Nesting deeper than {MAX_DEPTH} levels"),
            (1, "", "json", f"Invalid JSON on line 2: unexpected character ']' at byte {n + 2}"),
        ]


def test_numbers_beyond_the_range_of_floats_are_numbers() -> None:
    v = Validator(
        {
            "type": "array",
            "prefixItems": [
                {"type": "integer"},
                {"type": "number", "maximum": 10},
                {"exclusiveMinimum": 0},
            ],
        },
        adapt=False,
    )
    r = v.validate_json(b"[[1e400, -1e400, 1e-400], [1.5, 1e400, -1e-400]]")
    assert r.valid == [True, False]
    assert errors_of(r) == [
        (1, "/0", "type", "Expected `integer`, got `number` 1.5"),
        (
            1,
            "/1",
            "maximum",
            "Must be <= 10, got 1000000000000000000000000000000000000000... (401 digits)",
        ),
        (1, "/2", "exclusiveMinimum", "Must be > 0, got -1e-400"),
    ]


def test_long_integer_literals_cost_linear_time() -> None:
    """4,000,000 digits: the old code took about 22 s to validate and 27 s to profile each such
    literal (quadratic: 5.5 s at 2,000,000 digits); this test validates 17 of them."""
    code = r"""
import json
from satya_adapt import Validator
digits = "7" * 4_000_000
text = ("[" + digits + ", -" + digits + "]").encode()
for schema in ({}, {"type": "integer"}, {"maximum": 10, "minimum": 0}, {"multipleOf": 7}):
    for adapt in (False, True):
        r = Validator(schema, adapt=adapt).validate_json(text, threads=1)
        print(r.valid, [(e.keyword, e.message) for e in r.errors])
r = Validator({"maximum": 10}, adapt=True).validate_ndjson(digits.encode() + b"\n1")
print(r.valid, [(e.keyword, e.message) for e in r.errors])
"""
    shown = "7" * 40 + "... (4000000 digits)"
    bounds = (
        f"[False, False] [('maximum', 'Must be <= 10, got {shown}'), "
        f"('minimum', 'Must be >= 0, got -{shown}')]"
    )
    assert run_apart(code) == ["[True, True] []"] * 4 + [bounds] * 2 + ["[True, True] []"] * 2 + [
        f"[False, True] [('maximum', 'Must be <= 10, got {shown}')]"
    ]


def test_unique_items_over_crafted_colliding_integers() -> None:
    """64,000 distinct 128-bit ints that the old unkeyed hash put in one bucket (the old code
    took 34 s (JSON) and 127 s (dicts) for 16,000 of them, quadratic)."""
    code = r"""
import json
from satya_adapt import Validator

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & (2**64 - 1)

values = []
for i in range(1, 64_001):
    lo = (i * 0x9E3779B97F4A7C15) % 2**64 | 1
    values.append((rotl(lo, 7) ^ 0x1234) << 64 | lo)
assert len(set(values)) == len(values)
u = Validator({"uniqueItems": True}, adapt=False)
for items in (values, values + [values[5]]):
    for t in (1, 2):
        for r in (u.validate_json(json.dumps([items]).encode(), threads=t), u.validate_batch([items], threads=t)):
            print(r.valid, [(e.keyword, e.message) for e in r.errors])
"""
    lo = 6 * 0x9E3779B97F4A7C15 % 2**64 | 1  # item 5, as the code above makes it
    item5 = (((lo << 7) | (lo >> 57)) & (2**64 - 1) ^ 0x1234) << 64 | lo
    dup = f"[False] [('uniqueItems', 'Items 5 and 64000 are equal, got {item5} twice')]"
    assert run_apart(code) == ["[True] []"] * 4 + [dup] * 4


def test_an_endless_ndjson_line_stops_at_max_record_bytes() -> None:
    """/dev/zero holds no newline: the call ends with InputError, memory bounded."""
    code = r"""
import resource
def peak_mib():
    # This process's own peak RSS: /proc's VmHWM. ru_maxrss also counts the parent's peak
    # (Linux keeps it across fork and exec), so it grows with the pytest process.
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
from satya_adapt import InputError, Validator
v = Validator({"type": "object"}, adapt=False)
for limit in (1 << 20, None):
    for call in ("validate_ndjson", "iter_validate"):
        with open("/dev/zero", "rb") as f:
            try:
                if call == "validate_ndjson":
                    getattr(v, call)(f, batch_size=10, micro_batch_size=10, threads=1, max_record_bytes=limit)
                else:
                    list(v.iter_validate(f, input_kind="ndjson", batch_size=10, micro_batch_size=10, threads=1, max_record_bytes=limit))
            except InputError as e:
                print(e)
    print(peak_mib())
"""
    lines = run_apart(code)
    assert lines[0:2] == ["NDJSON line 1 is longer than `max_record_bytes` (1048576 bytes)"] * 2
    assert lines[3:5] == ["NDJSON line 1 is longer than `max_record_bytes` (67108864 bytes)"] * 2
    # Peak RSS in MiB: the interpreter and library, plus at most twice the limit and a block.
    assert int(lines[2]) < 200
    assert int(lines[5]) < 400


def test_max_record_bytes(tmp_path: Path) -> None:
    data = b'{"a": 1}\n\n{"a": "0123456789"}\n{}\n'
    path = tmp_path / "r.ndjson"
    path.write_bytes(data)
    message = "NDJSON line 3 is longer than `max_record_bytes` (18 bytes)"
    small = Validator({"type": "object"}, adapt=False, max_record_bytes=18)
    for source in (data, str(path), io.BytesIO(data)):
        with pytest.raises(InputError) as info:
            small.validate_ndjson(source)
        assert str(info.value) == message
    for source in (data, str(path), io.BytesIO(data)):
        with pytest.raises(InputError) as info:
            list(
                Validator({}, adapt=False).iter_validate(
                    source, input_kind="ndjson", max_record_bytes=18
                )
            )
        assert str(info.value) == message
    # A line exactly at the limit is accepted; the call's own limit wins.
    assert small.validate_ndjson(data, max_record_bytes=19).valid == [True, True, True]
    assert Validator({}, adapt=False, max_record_bytes=19).validate_ndjson(
        io.BytesIO(data)
    ).valid == [
        True,
        True,
        True,
    ]
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError) as info:
            Validator({}, max_record_bytes=bad)  # type: ignore[arg-type]
        assert str(info.value) == f"`max_record_bytes` must be a positive int, got {bad!r}"
        with pytest.raises(ValueError):
            small.validate_ndjson(data, max_record_bytes=bad)  # type: ignore[arg-type]


def test_pattern_matching_work_is_bounded_per_byte() -> None:
    """Issue 8: `(?:\\w\\W?){1,100}x` ran at 0.1 MB/s (Unicode `\\w`, a program too large for
    the lazy DFA): these 8 MB took minutes. ECMA-262's ASCII `\\w` and a cap on the compiled
    program keep it linear with a small factor (run apart, under a limit a hang would hit)."""
    code = r"""
from satya_adapt import Validator
v = Validator({"type": "string", "pattern": r"(?:\w\W?){1,100}x"}, adapt=False)
n = 8 << 20
print(v.validate_batch(["a" * n, "a " * (n // 2), "é" * (n // 2), "a" * n + "x"]).valid)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["[False, False, False, True]"]


def test_pattern_over_the_size_cap_raises_schema_error() -> None:
    with pytest.raises(SchemaError) as info:
        Validator({"properties": {"a": {"pattern": r"(?:\p{L}\P{L}?){1,100}x"}}}, adapt=False)
    assert str(info.value) == (
        r"`pattern` `(?:\p{L}\P{L}?){1,100}x` is too large: it compiles to more than"
        " 1048576 bytes (at /properties/a)"
    )
    with pytest.raises(SchemaError) as info:
        Validator({"pattern": "a" * 1000 + r"\w{1,100000}"}, adapt=False)
    assert str(info.value) == (
        f"`pattern` `{'a' * 40}... (1012 characters)` is too large: it compiles to more than"
        " 1048576 bytes (at the root)"
    )


def test_a_pattern_that_repeats_too_much_unanchored_raises_schema_error() -> None:
    """Before: `a{1,8000}b` compiled, under the size cap, and matched a 100 KB string in 29 s
    (its lazy DFA outgrows its cache). Anchored, the same repetitions are fast and allowed;
    on the backtracking engine the input cap bounds them."""
    with pytest.raises(SchemaError) as info:
        Validator({"properties": {"a": {"pattern": "a{1,8000}b"}}}, adapt=False)
    assert str(info.value) == (
        "`pattern` `a{1,8000}b` repeats too much to match in linear time: its counted"
        " repetitions write out more than 512 characters and a match may start anywhere"
        " (anchored by `^` or `$` it is allowed; `minLength`/`maxLength` bound a length)"
        " (at /properties/a)"
    )
    with pytest.raises(SchemaError, match=r"^`patternProperties` `\\w\{1000,5000\}x` repeats"):
        Validator({"patternProperties": {r"\w{1000,5000}x": {}}}, adapt=False)
    for pattern in ("^[0-9]{1,1000}$", "^a{1,8000}b", r"^[^\s@]{1,64}@[^\s@]{1,255}$", "(?=x)a{1,8000}b"):
        v = Validator({"pattern": pattern}, adapt=False)
        assert v.validate_batch(["1" * 1000, "a" * 20_000 + "b"]).valid == [
            pattern == "^[0-9]{1,1000}$", False
        ]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"\Aabc\z", r"unrecognized escape sequence `\A`"),
        # Back-references and look-around compile (the backtracking engine); these do not.
        (r"(a)\2", "backreferences are not supported"),
        ("(?<=a", "look-around, including look-ahead and look-behind, is not supported"),
        ("[a", "unclosed character class"),
    ],
)
def test_pattern_outside_ecma_262_or_the_regex_subset_raises_schema_error(
    pattern: str, reason: str
) -> None:
    with pytest.raises(SchemaError) as info:
        Validator({"type": "string", "pattern": pattern}, adapt=False)
    assert str(info.value) == (
        f"`pattern` `{pattern}` is not a valid regular expression: {reason} (at the root)"
    )


# -- Python code that could run during a call (issue 8) ---------------------------------------------


def test_key_eq_that_frees_the_records_is_never_called() -> None:
    """Issue 8 item 1: a key whose `__eq__` clears the input list (use after free, a segfault)."""
    code = r"""
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
calls = []
class K:
    def __hash__(s): return hash("a")
    def __eq__(s, o):
        global junk
        calls.append(1)
        records.clear()
        junk = [[i] * 8 for i in range(200000)]
        return False
for threads in (1, 2):
    records = [{K(): 1}] + [{"a": "x" * 50 + str(i)} for i in range(5000)]
    r = v.validate_batch(records, threads=threads)
    print(threads, len(r.valid), r.valid[:3], sum(r.valid), len(records), calls)
"""
    assert run_apart(code) == [
        "1 5001 [True, False, False] 1 5001 []",
        "2 5001 [True, False, False] 1 5001 []",
    ]


def test_signal_handler_that_replaces_the_records_mid_call() -> None:
    """A signal handler runs between records (every 64, for Ctrl-C) and may change the list:
    the records it frees are never read. One thread reads the list again after each handler
    (the call checks what the list holds when it gets there); the pool holds its chunk. Either
    way the verdicts are the original records' (valid) then the replacements' (invalid), and no
    more than the list ever held. Whether the timer fires inside a call depends on timing: the
    assertions hold either way, a crash fails the test."""
    code = r"""
import signal
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
def handler(*_):
    global junk
    if len(records) > 100:
        records[:] = [{"a": "x"} for _ in range(100)]
        junk = [[i] * 8 for i in range(50000)]
records = []
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.002, 0.002)
bad = []
for threads in (1, 2):
    for attempt in range(10):
        records = [{"a": i} for i in range(100_000)]
        r = v.validate_batch(records, batch_size=8192, micro_batch_size=1024, threads=threads)
        k = r.valid.count(True)
        if len(r.valid) > 100_000 or r.valid != [True] * k + [False] * (len(r.valid) - k):
            bad.append((threads, len(r.valid), k))
signal.setitimer(signal.ITIMER_REAL, 0)
print(bad, v.validate_batch([{"a": 1}, {"a": "x"}], threads=1).valid)
"""
    assert run_apart(code) == ["[] [True, False]"]


@pytest.mark.parametrize("config", CONFIGS)
def test_str_subclass_key_is_read_by_content(config: dict[str, int]) -> None:
    """Issue 8 item 2: a str subclass key whose `__eq__` raises was taken as a missing property."""

    class S(str):
        __hash__ = str.__hash__

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("__eq__ ran")

    v = Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
    r = v.validate_batch([{S("a"): "x"}, {S("a"): 1}, {S("b"): "x"}], **config)
    assert r.valid == [False, True, True]
    assert errors_of(r) == [(0, "/a", "type", 'Expected `integer`, got `string` "x"')]


@pytest.mark.parametrize("config", CONFIGS)
def test_keys_are_found_by_their_text_whatever_their_order_and_hash(config: dict[str, int]) -> None:
    """Dict keys are matched to properties by the hash a str caches, then by their text: keys
    out of the schema's order, a str subclass whose `__hash__` returns another number, and
    keys whose hash the str has not cached, are all found (or reported) by their text."""

    class H(str):
        def __hash__(self) -> int:
            return 7

        def __eq__(self, other: object) -> bool:
            return str.__eq__(self, other)

    # A scan of the names; the schema's own lookup table and a table of the names' hashes
    # (more than 16 names), probed past slots that other names took.
    for n in (3, 20, 100):
        names = [f"p{i}" for i in range(n)]
        v = Validator({"type": "object", "additionalProperties": False,
                       "properties": {k: {"type": "integer"} for k in names}}, adapt=False)
        backwards = {k: i for i, k in enumerate(reversed(names))}
        wrong = {H(names[1]): "x", names[0]: 1}
        fresh = {"".join(["p", str(n - 1)]): "y"}
        extra = {**backwards, "zz": 1}
        r = v.validate_batch([backwards, wrong, fresh, extra], **config)
        assert r.valid == [True, False, False, False], n
        assert errors_of(r) == [
            (1, "/p1", "type", 'Expected `integer`, got `string` "x"'),
            (2, f"/p{n - 1}", "type", 'Expected `integer`, got `string` "y"'),
            (3, "", "additionalProperties", "Unexpected property `zz`"),
        ], n


def test_a_name_held_twice_by_a_str_subclass_gives_the_pool_the_direct_paths_results() -> None:
    """A dict can hold a property's name twice: as a str and as a str subclass with another
    hash. Taken apart for the pool, such an object has a repeated key (counted twice, it
    would meet `required` for a name it lacks): every configuration must give the direct
    path's results, with and without the verdicts alone, on objects of few and of many keys
    (more than 16 properties: their names are looked up in a table, and a record of under
    half as many keys is walked)."""

    class H(str):
        def __hash__(self) -> int:
            return 7

        def __eq__(self, other: object) -> bool:
            return str.__eq__(self, other)

    for n in (3, 20):
        names = [f"p{i}" for i in range(n)]
        for extra in ({}, {"additionalProperties": False}, {"minProperties": n + 1},
                      {"maxProperties": n}, {"required": names}, {"required": ["p1", "p2"]}):
            schema = {"type": "object", "properties": {k: {"type": "integer"} for k in names},
                      **extra}
            v = Validator(schema, adapt=False)
            base = {k: i for i, k in enumerate(names)}
            records = [
                {**base, H("p1"): "x"},
                {H("p1"): "x", **base},
                {**{k: "s" for k in names}, H("p0"): 0},
                {**{k: i for i, k in enumerate(names) if k != "p0"}, H("p1"): 1},  # no p0
                {"p1": 1, H("p1"): 2},
                base,
            ]
            direct = v.validate_batch(records, threads=1)
            verdicts = v.validate_batch(records, threads=1, errors=False).valid
            for t in (2, 3):
                pooled = v.validate_batch(records, batch_size=4, micro_batch_size=1, threads=t)
                assert pooled.valid == direct.valid, (n, extra, t)
                assert errors_of(pooled) == errors_of(direct), (n, extra, t)
                assert v.validate_batch(records, micro_batch_size=1, threads=t,
                                        errors=False).valid == verdicts, (n, extra, t)
            assert verdicts == direct.valid, (n, extra)


@pytest.mark.parametrize("config", CONFIGS)
def test_overrides_of_builtin_subclasses_never_run(config: dict[str, int]) -> None:
    """Containers, numbers and strings are read from their storage: no override runs."""
    ran: list[str] = []

    def trap(name: str) -> Any:
        def method(self: Any, *args: Any) -> Any:
            ran.append(name)
            raise RuntimeError(name)

        return method

    class D(dict):  # type: ignore[type-arg]
        __getitem__ = trap("D.__getitem__")
        __len__ = trap("D.__len__")
        __iter__ = trap("D.__iter__")
        get = trap("D.get")
        keys = trap("D.keys")
        items = trap("D.items")

    class L(list):  # type: ignore[type-arg]
        __getitem__ = trap("L.__getitem__")
        __len__ = trap("L.__len__")
        __iter__ = trap("L.__iter__")

    class I(int):  # noqa: E742
        __index__ = trap("I.__index__")
        __int__ = trap("I.__int__")
        __float__ = trap("I.__float__")
        __eq__ = trap("I.__eq__")
        __hash__ = int.__hash__

    class F(float):
        __float__ = trap("F.__float__")
        __index__ = trap("F.__index__")

    class S(str):
        __str__ = trap("S.__str__")
        __len__ = trap("S.__len__")
        __iter__ = trap("S.__iter__")
        __eq__ = trap("S.__eq__")
        __hash__ = str.__hash__

    class K:
        """A key whose hash collides with `name`'s, its `__eq__` armed once the record is built."""

        armed = False

        def __hash__(self) -> int:
            if K.armed:
                trap("K.__hash__")(self)
            return hash("name")

        def __eq__(self, other: object) -> bool:
            if K.armed:
                trap("K.__eq__")(self)
            return False

    record = D(
        {
            K(): 1,
            "name": S("Ada"),
            "age": I(-1),
            "score": F(2.5),
            "tags": L([S("x"), I(1)]),
            S("other"): F(1.0),
        }
    )
    K.armed = True
    v = Validator({**PERSON, "additionalProperties": {"type": "number", "maximum": 0}}, adapt=False)
    r = v.validate_batch([record, D(name=S(""))], **config)
    assert ran == []
    assert r.valid == [False, False]
    assert errors_of(r) == [
        (0, "/age", "minimum", "Must be >= 0, got -1"),
        (0, "/tags/1", "type", "Expected `string`, got `integer` 1"),
        (0, "", "json", "Object key `<K>` is not a string"),
        (0, "/other", "maximum", "Must be <= 0, got 1"),
        (1, "/name", "minLength", 'String shorter than 1 character, got ""'),
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_long_int_key_is_shortened_without_raising(config: dict[str, int]) -> None:
    """`str()` of an int of more than 4300 digits raises: the key is printed here, shortened."""
    v = Validator({"type": "object", "additionalProperties": False}, adapt=False)
    r = v.validate_batch([{10**5000: 1, -(2**70): 2}], **config)
    assert errors_of(r) == [
        (0, "", "json", "Object key `<integer of about 5001 digits>` is not a string"),
        (0, "", "json", "Object key `-1180591620717411303424` is not a string"),
    ]


# -- the thread pool and Ctrl-C (issue 8) -----------------------------------------------------------


def test_one_bounded_pool_for_every_threads_value() -> None:
    """Issue 8 item 6: one pool per distinct `threads` value leaked OS threads without bound."""
    code = r"""
import json, os
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
records = [{"a": i} for i in range(63)] + [{"a": "x"}]
def os_threads(): return len(os.listdir("/proc/self/task"))
start = os_threads()
for threads in range(2, 40):
    v.validate_batch(records, batch_size=64, micro_batch_size=1, threads=threads)
after = os_threads()
for threads in (500, 10**6):
    r = v.validate_batch(records, batch_size=64, micro_batch_size=1, threads=threads)
    r = v.validate_json(json.dumps(records).encode(), batch_size=64, micro_batch_size=1, threads=threads)
print(after - start <= len(os.sched_getaffinity(0)), os_threads() == after, r.valid.count(False))
r = v.validate_batch(records, batch_size=64, micro_batch_size=1, threads=2)
print(r.valid.count(False), r.stats.tasks)
"""
    assert run_apart(code) == ["True True 1", "1 64"]




@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_a_process_forked_after_a_pool_call_builds_its_own_pool() -> None:
    """Before: a process forked (`multiprocessing`'s default on Linux) from one whose calls had
    used the pool got a copy of the pool without its threads, and its first call on more than
    one thread waited forever."""
    code = r"""
import json, multiprocessing
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "integer"}}}, adapt=False)
records = [{"a": i} for i in range(999)] + [{"a": "x"}]
data = json.dumps(records).encode()
ndjson = b"\n".join(json.dumps(r).encode() for r in records)
config = dict(batch_size=1000, micro_batch_size=16, threads=2)
def calls(_):
    return [
        v.validate_batch(records, **config).valid.count(False),
        v.validate_json(data, **config).valid.count(False),
        v.validate_ndjson(ndjson, **config).valid.count(False),
        sa.Validator(v.schema).validate_json(data).valid.count(False),
    ]
print(calls(0))  # the parent's pool is built
with multiprocessing.get_context("fork").Pool(2) as pool:
    try:
        print(pool.map_async(calls, range(2), chunksize=1).get(timeout=60))
    except multiprocessing.TimeoutError:
        print("a child waited for a minute")
print(calls(0))  # the parent's pool still runs
"""
    assert run_apart(code) == ["[1, 1, 1, 1]", "[[1, 1, 1, 1], [1, 1, 1, 1]]", "[1, 1, 1, 1]"]


#: Daemon threads validating every kind of input, as chosen and on the pool, with and without
#: a pause budget, from a generator that lets the GIL go, when the interpreter exits
#: `sys.argv[1]` seconds in.
EXIT_WHILE_VALIDATING = r"""
import io, json, sys, threading, time
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(x|y)+z$"}}})
records = [{"a": "x" * 200 + "z"}] * 20000
data = json.dumps(records).encode()
ndjson = b"\n".join(json.dumps(r).encode() for r in records)
def sleepy():
    for i, record in enumerate(records * 1000):
        if i % 100 == 0:
            time.sleep(0.0005)  # Python code the engine calls lets the GIL go
        yield record
def work(kind, threads):
    config = dict(threads=threads, batch_size=4096, micro_batch_size=256) if threads else {}
    while True:
        if kind == "dicts":
            v.validate_batch(records, **config)
        elif kind == "pause":
            v.validate_batch(records, max_pause="1ms", **config)
        elif kind == "json":
            v.validate_json(data, **config)
        elif kind == "ndjson":
            v.validate_ndjson(io.BytesIO(ndjson), **config)
        elif kind == "generator":
            v.validate_batch(sleepy(), batch_size=4096, micro_batch_size=256, threads=threads or 1)
        else:
            sum(1 for _ in v.iter_validate(iter(records), **config))
for kind in ("dicts", "pause", "json", "ndjson", "iter", "generator"):
    for threads in (0, 2):
        threading.Thread(target=work, args=(kind, threads), daemon=True).start()
time.sleep(float(sys.argv[1]))
print("exits")
"""


@pytest.mark.parametrize("seconds", [0.1, 0.3])
def test_daemon_threads_validating_at_exit_never_crash_it(seconds: float) -> None:
    """Before: the process crashed at exit (a segfault or an abort, 10 runs of 10): CPython
    ended a daemon thread that took the GIL back from the engine, or in Python code the engine
    called (a generator that slept), with `pthread_exit`, whose unwinding dropped Python objects
    without the GIL while the interpreter finalized, or was caught and not rethrown."""
    out = subprocess.run(
        [sys.executable, "-c", EXIT_WHILE_VALIDATING, str(seconds)],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert (out.returncode, out.stdout) == (0, "exits\n"), out.stderr[-2000:]


def test_an_exit_hook_that_joins_a_validating_thread_ends() -> None:
    """A hook registered before satya-adapt is imported runs after its own: a thread whose call
    ends in between may be the one it waits for, so it gets the GIL back a second after the
    interpreter began to exit (the process ends, not hangs)."""
    code = r"""
import atexit, json, threading, time
stop = threading.Event()
def finish():
    stop.set()
    worker.join()
    print("joined")
atexit.register(finish)
import satya_adapt as sa
v = sa.Validator({"type": "object", "properties": {"a": {"type": "integer"}}})
data = json.dumps([{"a": i} for i in range(50000)]).encode()
def work():
    while not stop.is_set():
        v.validate_json(data, threads=2, batch_size=4096, micro_batch_size=256)
worker = threading.Thread(target=work, daemon=True)
worker.start()
time.sleep(0.2)
print("exits")
"""
    assert run_apart(code, timeout=60) == ["exits", "joined"]
#: One chunk of 2,000,000 records, each compared with 2,000 `enum` options: minutes of work
#: whatever the machine, so that it cannot end before SIGINT arrives 0.2 s in.
INTERRUPTED_CALL = r"""
import json, os, signal, sys
import satya_adapt as sa
kind, threads = sys.argv[1], int(sys.argv[2])
v = sa.Validator({"enum": list(range(1, 2001))}, adapt=False)
n = 2_000_000
records = [0] * n
data = json.dumps(records).encode() if kind == "json" else b"0\n" * n
config = dict(batch_size=n, micro_batch_size=1024, threads=threads)
calls = {
    "dicts": lambda: v.validate_batch(records, **config),
    "iter_validate": lambda: list(v.iter_validate(iter(records), **config)),
    "json": lambda: v.validate_json(data, **config),
    "ndjson": lambda: v.validate_ndjson(data, **config),
}
signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    calls[kind]()
    print("completed")
except KeyboardInterrupt:
    print("interrupted")
r = v.validate_batch([1, 0], threads=threads)
print(r.valid, r.errors[0].keyword)
"""


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["dicts", "iter_validate", "json", "ndjson"])
def test_ctrl_c_interrupts_a_long_call(kind: str, threads: int) -> None:
    """Issue 8 item 7: SIGINT was handled only when the call returned; the validator stays usable.

    The call would run for minutes: a `KeyboardInterrupt` within the time limit came from inside it.
    """
    out = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_CALL, kind, str(threads)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["interrupted", "[True, False] enum"]


# -- issue 8: messages and exceptions that tell the truth ---------------------------------------


@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        (
            "batch_size",
            2**64,
            "`batch_size` must be between 1 and 4294967296, got 18446744073709551616",
        ),
        ("batch_size", 2**32 + 1, "`batch_size` must be between 1 and 4294967296, got 4294967297"),
        ("micro_batch_size", 0, "`micro_batch_size` must be between 1 and 4294967296, got 0"),
        ("threads", 2**32 + 1, "`threads` must be between 1 and 4294967296, got 4294967297"),
        (
            "threads",
            -(2**70),
            "`threads` must be between 1 and 4294967296, got -1180591620717411303424",
        ),
        (
            "batch_size",
            10**60,
            "`batch_size` must be between 1 and 4294967296, got 1000000000000000000000000000000000000000... (61 digits)",
        ),
        pytest.param(
            "batch_size",
            10**5000,
            "`batch_size` must be between 1 and 4294967296, got a number of more than 3000 digits",
            id="batch_size-10**5000",
        ),
        ("threads", "2", "`threads` must be an int, got str"),
    ],
)
def test_knobs_out_of_range_name_the_range(knob: str, value: Any, message: str) -> None:
    """Before: `batch_size=2**64` raised OverflowError from the bindings."""
    v = Validator({"type": "object"}, adapt=False)
    calls = [
        lambda **kw: v.validate_batch([{}], **kw),
        lambda **kw: v.validate_json(b"[{}]", **kw),
        lambda **kw: v.validate_ndjson(b"{}\n", **kw),
        lambda **kw: list(v.iter_validate([{}], **kw)),
    ]
    for call in calls:
        with pytest.raises(ValueError) as info:
            call(**{knob: value})
        assert type(info.value) is ValueError
        assert str(info.value) == message


def test_knobs_at_their_bounds_run() -> None:
    v = Validator({"type": "object"}, adapt=False)
    r = v.validate_batch([{}, 1], batch_size=2**32, micro_batch_size=2**32, threads=2**32)
    assert r.valid == [True, False]
    assert (r.config.batch_size, r.config.micro_batch_size, r.config.threads) == (
        2**32,
        2**32,
        2**32,
    )


def nested_schema(depth: int) -> dict[str, Any]:
    """A schema whose objects nest `depth` levels (`items` in `items`)."""
    doc: dict[str, Any] = {}
    for _ in range(depth - 1):
        doc = {"items": doc}
    return doc


@pytest.mark.parametrize("depth", [101, 128, 600, 5000, 100_000])
def test_a_schema_nested_beyond_the_limit_is_one_schema_error(depth: int) -> None:
    """Before: "recursion limit exceeded" from the JSON reader past 127 levels, a raw
    RecursionError from `json.dumps` near 1000."""
    from satya_adapt import Schema, SchemaError
    from satya_adapt.schema import MAX_SCHEMA_DEPTH
    from satya_adapt._validator import CompiledSchema

    assert MAX_SCHEMA_DEPTH == 100
    expected = "the schema is nested deeper than 100 levels"
    doc = nested_schema(depth)
    with pytest.raises(SchemaError) as info:
        Validator(doc)
    assert str(info.value) == expected
    with pytest.raises(SchemaError) as info:
        Schema.from_json_schema(doc)
    assert str(info.value) == expected
    text = '{"items":' * (depth - 1) + "{}" + "}" * (depth - 1)
    with pytest.raises(SchemaError) as info:
        CompiledSchema(text)
    assert str(info.value) == expected
    lists = [[]]
    for _ in range(depth - 1):
        lists = [lists]
    with pytest.raises(SchemaError) as info:
        Validator({"enum": lists[0]})
    assert str(info.value) == expected


def test_a_schema_that_shares_containers_is_measured_as_json_would_write_it() -> None:
    """A schema given as dicts may hold one dict at many places. 61 dicts, each holding the
    next twice, are 2**61 values as JSON text: writing it never ended (at 20 levels, 4 million
    values, it compiled in 39 s). Refused at once, for the schema and for `resources`; a
    dict met first near the root and then deep in the document is checked for depth there
    (it was walked once, where it was met first); a shared dict within the limits compiles as
    its JSON copy does."""
    from satya_adapt import Schema, SchemaError

    bomb: Any = {"type": "integer"}
    for _ in range(60):
        bomb = {"a": bomb, "b": bomb}
    for make in (lambda: Validator({"const": bomb}), lambda: Schema.from_json_schema({"enum": [bomb]}),
                 lambda: Validator({"$ref": "urn:x"}, resources={"urn:x": {"const": bomb}})):
        with pytest.raises(SchemaError, match="holds the same dicts or lists at so many places"
                           r" that, written as JSON, it would hold 3\.46e\+18 values, where it"
                           " holds 6[0-9] "):
            make()
    shared = nested_schema(60)
    deep = {"properties": {"a": shared, "b": nested_schema(45)}}
    inner = deep["properties"]["b"]
    while inner["items"]:
        inner = inner["items"]
    inner["items"] = shared  # 2 + 44 + 60 levels, where "a" is 62
    with pytest.raises(SchemaError, match="^the schema is nested deeper than 100 levels$"):
        Validator(deep)
    integer = {"type": "integer", "minimum": 0}
    doc = {"properties": {"a": integer, "b": {"items": integer}}}
    records = [{"a": 1, "b": [2, -1]}, {"a": -1, "b": []}]
    assert Validator(doc, adapt=False).validate_batch(records).valid == (
        Validator(json.loads(json.dumps(doc)), adapt=False).validate_batch(records).valid
    ) == [False, False]


def test_only_repeats_count_against_the_values_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema is refused for its size as JSON only where repeats more than double what it
    holds: a large one given as it is compiles (the limit lowered to 1,000 here)."""
    from satya_adapt import SchemaError
    from satya_adapt import schema as schema_module

    monkeypatch.setattr(schema_module, "MAX_SCHEMA_VALUES", 1000)
    values = list(range(3000))
    assert Validator({"enum": values}, adapt=False).validate_batch([5, -5]).valid == [True, False]
    assert Validator({"anyOf": [{"enum": values}, {"enum": values}]}, adapt=False).validate_batch(
        [5]
    ).valid == [True]
    with pytest.raises(SchemaError, match="would hold 9.01e\\+03 values, where it holds 3,006"):
        Validator({"anyOf": [{"enum": values}, {"enum": values}, {"enum": values}]})


@pytest.mark.parametrize("depth", [60, 300, 3000])
def test_a_pythonic_schema_nested_beyond_the_limit_is_one_schema_error(depth: int) -> None:
    """Before: a RecursionError from the field conversion past ~250 levels."""
    from satya_adapt import Field, Schema, SchemaError

    fields: Any = {"x": int}
    for _ in range(depth):
        fields = {"a": fields}
    items: Any = Field(int)
    for _ in range(depth * 2):
        items = Field(list, items=items)
    for make in (lambda: Schema(fields), lambda: Schema({"a": items})):
        with pytest.raises(SchemaError) as info:
            make()
        assert str(info.value) == "the schema is nested deeper than 100 levels"


def test_a_schema_at_the_depth_limit_compiles() -> None:
    v = Validator(nested_schema(100), adapt=False)
    assert v.validate_batch([[[]], 1]).valid == [True, True]
    deepest: Any = 1
    for _ in range(99):
        deepest = [deepest]
    assert v.validate_batch([deepest]).valid == [True]


@pytest.mark.parametrize("config", CONFIGS)
def test_count_bounds_beyond_any_array_are_stated_as_written(config: dict[str, int]) -> None:
    """Before: "Array has fewer than 18446744073709551615 items" for `minItems` 2**64."""
    v = Validator(
        {
            "type": "object",
            "properties": {"a": {"minItems": 2**64}, "o": {"minProperties": 10**30}},
        },
        adapt=False,
    )
    expected = [
        (0, "/a", "minItems", "Array has fewer than 18446744073709551616 items, got 2"),
        (
            0,
            "/o",
            "minProperties",
            "Object has fewer than 1000000000000000000000000000000 properties, got 1",
        ),
    ]
    record = {"a": [1, 2], "o": {"x": 1}}
    assert errors_of(v.validate_batch([record], **config)) == expected
    for r in all_json_paths(v, [record], config):
        assert errors_of(r) == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_an_empty_enum_says_nothing_is_allowed(config: dict[str, int]) -> None:
    """Before: "Expected one of " (an empty list)."""
    v = Validator({"type": "object", "properties": {"a": {"enum": []}}}, adapt=False)
    expected = [(0, "/a", "enum", "No value is allowed: `enum` is empty")]
    assert errors_of(v.validate_batch([{"a": 1}, {}], **config)) == expected
    for r in all_json_paths(v, [{"a": 1}, {}], config):
        assert errors_of(r) == expected


class ChunkReader:
    """A binary reader returning `kind(...)` of each read, optionally more than asked for."""

    def __init__(self, data: bytes, kind: Any = bytes, extra: int = 0) -> None:
        self.data, self.kind, self.extra, self.pos = data, kind, extra, 0

    def read(self, size: int = -1) -> Any:
        end = len(self.data) if size < 0 else self.pos + size + self.extra
        block, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return self.kind(block)


READER_RECORDS = [{"name": "a" * (i % 200), "age": i - 100} for i in range(8000)]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda d: ChunkReader(d, bytearray), id="bytearray"),
        pytest.param(lambda d: ChunkReader(d, memoryview), id="memoryview"),
        pytest.param(lambda d: ChunkReader(d, bytes, extra=100_000), id="more-than-asked"),
        pytest.param(lambda d: ChunkReader(d, bytearray, extra=7), id="bytearray-more"),
    ],
)
def test_custom_readers_returning_bytes_like_objects(config: dict[str, int], reader: Any) -> None:
    """Before: a `bytearray`/`memoryview` was told "must be opened in binary mode"; bytes
    beyond the size asked for were dropped."""
    v = Validator(PERSON, adapt=False)
    data = ndjson(READER_RECORDS)
    assert len(data) > 3 * 256 * 1024  # several reads of the engine's block
    expected = v.validate_ndjson(data, **config)
    assert expected.n_invalid == 100 + 39  # age < 0, and an empty name from 200 on
    for call in (
        lambda: v.validate_ndjson(reader(data), **config),
        lambda: _merge(v.iter_validate(reader(data), **config)),
    ):
        got = call()
        assert got.valid == expected.valid
        assert errors_of(got) == errors_of(expected)


class Merged:
    """The chunks of `iter_validate` as one result (`valid`, `errors`)."""

    def __init__(self, chunks: Any) -> None:
        self.valid: list[bool] = []
        self.errors: list[Any] = []
        for c in chunks:
            self.valid += c.valid
            self.errors += c.errors


def _merge(chunks: Any) -> Merged:
    return Merged(chunks)


@pytest.mark.parametrize("calls_before_none", [0, 2])
def test_a_reader_returning_none_is_an_input_error(calls_before_none: int) -> None:
    """`None` from `read` (a non-blocking stream with no data ready), first or later."""

    class NonBlocking:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> Any:
            self.calls += 1
            return b'{"name": "a"}\n' if self.calls <= calls_before_none else None

    v = Validator(PERSON, adapt=False)
    with pytest.raises(InputError) as info:
        v.validate_ndjson(NonBlocking(), batch_size=1)
    assert str(info.value) == (
        "`read()` of the NDJSON file object returned None (a non-blocking stream with no data"
        " ready); pass a blocking binary stream"
    )


@pytest.mark.parametrize("calls_before", [0, 2])
def test_a_reader_returning_something_else_names_it(calls_before: int) -> None:
    class Odd:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> Any:
            self.calls += 1
            return b'{"name": "a"}\n' if self.calls <= calls_before else 42

    v = Validator(PERSON, adapt=False)
    with pytest.raises(TypeError) as info:
        v.validate_ndjson(Odd(), batch_size=1)
    assert str(info.value) == "`read()` of the NDJSON file object must return bytes, got int"


def test_a_text_reader_is_told_binary_mode() -> None:
    v = Validator(PERSON, adapt=False)
    with pytest.raises(TypeError) as info:
        v.validate_ndjson(io.StringIO('{"name": "a"}\n'))
    assert str(info.value) == "`source` must be opened in binary mode ('rb'), not text mode"


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("config", CONFIGS)
def test_one_leading_byte_order_mark_is_skipped(config: dict[str, int], tmp_path: Path) -> None:
    """Before: `validate_json` refused a BOM-prefixed array ("expected a JSON array") that the
    command line accepted; NDJSON made its first line an invalid record."""
    v = Validator(PERSON, adapt=False)
    records = [{"name": "a"}, {"name": ""}, {"age": 1}]
    expected = [
        (1, "/name", "minLength", 'String shorter than 1 character, got ""'),
        (2, "", "required", "Missing required property `name`"),
    ]
    array = BOM + json.dumps(records).encode()
    lines = BOM + ndjson(records)
    (tmp_path / "r.ndjson").write_bytes(lines)
    results = [
        v.validate_json(array, **config),
        v.validate_json(array.decode("utf-8"), **config),  # str holding U+FEFF first
        v.validate_ndjson(lines, **config),
        v.validate_ndjson(tmp_path / "r.ndjson", **config),
        v.validate_ndjson(io.BytesIO(lines), **config),
        v.validate_ndjson(ChunkReader(lines, bytes, extra=1), **config),
        _merge(v.iter_validate(array, **config)),
    ]
    for r in results:
        assert r.valid == [True, False, False]
        assert errors_of(r) == expected
    assert v.profile(array).n == 3
    # Only one mark, and only at the start: a second one is not JSON.
    with pytest.raises(InputError) as info:
        v.validate_json(BOM + array)
    assert str(info.value) == "invalid JSON array: expected a JSON array at byte 3"
    r = v.validate_ndjson(lines + BOM + b'{"name": "b"}\n', **config)
    assert r.valid == [True, False, False, False]
    assert errors_of(r)[-1][:3] == (3, "", "json")


def _fifo_with_writer(path: Path, data: bytes) -> threading.Thread:
    import os

    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def test_a_fifo_path_is_read_as_a_stream(tmp_path: Path) -> None:
    """Before: "no such NDJSON file" for a FIFO; a FIFO read by path was read twice (for the
    profile, then for validation), so the records of the first read were lost."""
    v = Validator(PERSON)  # adaptive: the profile reads ahead from the stream
    data = ndjson(READER_RECORDS)
    expected = v.validate_ndjson(data, batch_size=1000)
    for name, call in (
        ("a.fifo", lambda p: v.validate_ndjson(p)),
        ("b.fifo", lambda p: v.validate_ndjson(str(p), batch_size=1000)),
        ("c.fifo", lambda p: _merge(v.iter_validate(p, batch_size=700))),
    ):
        writer = _fifo_with_writer(tmp_path / name, data)
        got = call(tmp_path / name)
        writer.join(timeout=60)
        assert len(got.valid) == len(READER_RECORDS)
        assert got.valid == expected.valid
        assert errors_of(got) == errors_of(expected)


def test_dev_stdin_is_read_as_a_stream() -> None:
    """Before: "no such NDJSON file: '/dev/stdin'" when standard input is a pipe."""
    code = (
        "from satya_adapt import Validator\n"
        "r = Validator({'type': 'object'}, adapt=False).validate_ndjson('/dev/stdin')\n"
        "print(r.valid, [e.message for e in r.errors])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=b'{}\n[]\n{"a": 1}\n',
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.stderr == b""
    assert proc.stdout == b"[True, False, True] ['Expected `object`, got `array`']\n"


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
def test_an_archive_or_online_cache_named_by_a_fifo_is_refused_not_waited_for(
    tmp_path: Path,
) -> None:
    """Before: a FIFO at the online cache's path (or named as an archive, to
    ``load_archive``) blocked for ever, waiting for a writer: the first adaptive call of 4,096
    records or more hung; a validator named a FIFO or a folder as its archive said "not
    found". (Run in a process of its own, so that a hang fails the test.)"""
    import os

    os.mkfifo(tmp_path / "online.json")
    os.mkfifo(tmp_path / "archive.json")
    probe = (
        "import json, sys, warnings\n"
        "from satya_adapt import Validator, ArchiveError\n"
        "from satya_adapt import archive as A\n"
        "folder = sys.argv[1]\n"
        "try:\n"
        "    A.load_archive(folder + '/archive.json')\n"
        "except ArchiveError as exc:\n"
        "    refused = str(exc)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    v = Validator({'type': 'object'}, online=True, archive=folder + '/none.json')\n"
        "    r = v.validate_batch([{'a': i} for i in range(5000)])\n"
        "    named = Validator({'type': 'object'}, archive=folder + '/archive.json')\n"
        "    assert named.validate_batch([{}]).valid == [True]\n"
        "print(json.dumps([refused, all(r.valid), [str(w.message) for w in caught]]))\n"
    )
    env = {**os.environ, "SATYA_ADAPT_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
        timeout=60, env=env, check=True,
    )
    refused, valid, messages = json.loads(out.stdout)
    assert refused == f"{tmp_path}/archive.json: cannot read the archive: not a regular file"
    assert valid
    assert f"online cache {tmp_path}/online.json: cannot read it: not a regular file; ignored" in messages
    # (Said as what it is, not "not found" as before.)
    assert f"archive unusable, the heuristic chooses batch configurations: {refused}" in messages


def test_an_archive_too_large_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a 1 GB file named by SATYA_ADAPT_ARCHIVE was read whole (1 GB resident) and
    then refused as malformed."""
    import tracemalloc
    import warnings

    from satya_adapt import ArchiveError, ArchiveWarning
    from satya_adapt import archive as A

    assert A.MAX_ARCHIVE_BYTES == 64 << 20
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(1 << 30)  # sparse: costs no disk
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError) as info:
            A.load_archive(big)
        monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(big))
        v = Validator({"type": "object"})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert v.validate_batch([{}]).valid == [True]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = f"{big}: the archive is larger than 64 MiB (1073741824 bytes)"
    assert str(info.value) == message
    assert [(w.category, str(w.message)) for w in caught] == [
        (ArchiveWarning, f"archive unusable, the heuristic chooses batch configurations: {message}")
    ]
    assert peak < 16 << 20  # nothing of the file was read


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
def test_a_recursive_schema_stops_at_the_depth_limit_on_a_deep_record(
    config: dict[str, int],
) -> None:
    # 100 000 levels: following the reference without a limit would overflow the stack.
    result = Validator(RECURSIVE, adapt=False).validate_batch(
        [_nested(100_000), _nested(3)], **config
    )
    assert result.valid == [False, True]
    # The object inside 128 others is too deep, as it is in JSON text.
    assert errors_of(result) == [
        (0, "/c" * MAX_DEPTH, "depth", f"Nesting deeper than {MAX_DEPTH} levels")
    ]


@pytest.mark.parametrize("config", CONFIGS)
def test_a_record_at_the_depth_limit_decides_alike_as_dict_and_as_text(
    config: dict[str, int],
) -> None:
    """Before: 129 levels of objects passed as a dict and failed (`depth`) as JSON text or
    NDJSON: the dict path counted one level more."""
    v = Validator(RECURSIVE, adapt=False)
    for levels, valid in ((MAX_DEPTH - 1, True), (MAX_DEPTH, False)):
        record = _nested(levels)  # `levels` objects below the root
        text = json.dumps(record)
        verdicts = (
            v.validate_batch([record], **config).valid,
            v.validate_json(f"[{text}]", **config).valid,
            v.validate_ndjson(text + "\n", **config).valid,
            [v.is_valid(record)],
        )
        assert verdicts == ([valid],) * 4, levels


@pytest.mark.parametrize("config", CONFIGS)
def test_a_leaf_checked_by_type_alone_stops_at_the_depth_limit(config: dict[str, int]) -> None:
    """A value of the allowed type under a node whose only check is `type` passes without
    the full visit, but not beyond the depth limit: there it fails as any deeper value."""
    # The string at the bottom is reached from an array by `items`, one level down.
    schema = {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "array", "items": {"$ref": "#"}},
        ]
    }

    def nested(depth: int, leaf: Any) -> Any:
        for _ in range(depth):
            leaf = [leaf]
        return leaf

    v = Validator(schema, adapt=False)
    records = [nested(MAX_DEPTH, "x"), nested(MAX_DEPTH + 1, "x"), nested(MAX_DEPTH, 5)]
    r = v.validate_batch(records, **config)
    assert r.valid == [True, False, False]
    assert [(e.index, e.keyword) for e in r.errors] == [(1, "anyOf"), (2, "anyOf")]


def test_reference_cycles_that_never_descend_are_schema_errors() -> None:
    # The message names the references of the loop, as written, from where it starts.
    for schema, loop, at in [
        ({"$ref": "#"}, "`#` -> `#`", "/$ref"),
        (
            {
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
                "$ref": "#/$defs/a",
            },
            "`#/$defs/a` -> `#/$defs/b` -> `#/$defs/a`",
            "/$ref",
        ),
        (
            {
                "properties": {"x": {"$ref": "#/$defs/a"}},
                "$defs": {
                    "a": {"$ref": "#/$defs/b"},
                    "b": {"anyOf": [{"$ref": "#/$defs/c"}]},
                    "c": {"not": {"$ref": "#/$defs/b"}},
                },
            },
            "`#/$defs/b` -> `#/$defs/c` -> `#/$defs/b`",
            "/properties/x/$ref/$ref",
        ),
    ]:
        with pytest.raises(SchemaError) as info:
            Validator(schema, adapt=False)
        assert str(info.value) == (
            f"`$ref` loops back to itself without descending into the value: {loop} (at {at})"
        )


def _in_place(levels: int, keyword: str) -> dict[str, Any]:
    """A definition whose `properties/c` names it again, inside `levels` nested `keyword`s."""
    node: dict[str, Any] = {"type": "object", "properties": {"c": {"$ref": "#/$defs/d"}}}
    for _ in range(levels):
        if keyword == "dependentSchemas":
            node = {keyword: {"c": node}}
        else:
            node = {keyword: [node, {"type": "object"}]}
    return {"$ref": "#/$defs/d", "$defs": {"d": node}}


@pytest.mark.parametrize("keyword", ["allOf", "anyOf", "oneOf", "dependentSchemas"])
@pytest.mark.parametrize("config", CONFIGS)
def test_a_schema_deep_in_place_on_a_deep_record_is_checked_on_any_thread(
    config: dict[str, int], keyword: str
) -> None:
    """Before: a definition inside 45 nested `allOf`s, reached again at each of 126 levels of
    a record (some 6,000 nested nodes, no loop: a valid schema), overflowed the 2 MiB stack
    of a pool thread, and the process died (SIGSEGV) on three threads; one answered."""
    v = Validator(_in_place(45, keyword), adapt=False)
    records = [_nested(126)] * 8
    # Each level matches both branches of a `oneOf`: it fails there, at the root first.
    valid = keyword != "oneOf"
    text = json.dumps(records)
    for result in (
        v.validate_batch(records, **config),
        v.validate_json(text, **config),
        v.validate_ndjson("\n".join(json.dumps(r) for r in records), **config),
    ):
        assert result.valid == [valid] * 8


def test_a_recursive_schema_on_a_deep_record_fits_a_small_thread() -> None:
    """Before: a plain recursive schema (no combinators: the stack was looked at only under
    them) on a record 127 levels deep crashed a Python thread of 128 KiB (SIGSEGV); calls of
    one thread run on the caller's thread."""
    node = {
        "type": "object",
        "properties": {"c": {"$ref": "#/$defs/d"}},
        "additionalProperties": {"$ref": "#/$defs/d"},
        "dependentSchemas": {"c": {"required": ["c"]}},
    }
    v = Validator({"$ref": "#/$defs/d", "$defs": {"d": node}}, adapt=False)
    record, bad = _nested(127), _nested(200)
    out: dict[str, Any] = {}

    def run() -> None:
        out["valid"] = (v.is_valid(record), v.is_valid(bad))
        out["one"] = [e.keyword for e in v.validate_one(bad)]
        out["json"] = v.validate_json(json.dumps([record]), threads=1).valid

    before = threading.stack_size(128 * 1024)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(before)
    assert out == {"valid": (True, False), "one": ["depth"], "json": [True]}


def _looping(a: dict[str, Any], padded: bool = True) -> dict[str, Any]:
    """A schema whose resource `a` (`$dynamicAnchor: q`, checks `a`) is reached from the root,
    and whose `r1` has a `$dynamicRef` to `b#q`: reached through `a`, it resolves to `a` (the
    outermost resource in scope declaring `q`), so where `a` applies `r1` in place, the walk
    goes round without descending (by the spec it never finishes). Compiling follows the
    walks from the root with their dynamic scopes and refuses such a loop, up to 20,000
    (schema, scope) states; ``padded`` adds 20,001 definitions the root reaches, past which
    compiling leaves the loop to the walk, as it must for a larger real schema."""
    schema: dict[str, Any] = {
        "$id": "https://example.test/root",
        "$ref": "a",
        "$defs": {
            "a": {"$id": "a", "$dynamicAnchor": "q", **a},
            "r1": {"$id": "r1", "$dynamicRef": "b#q"},
            "b": {"$id": "b", "$dynamicAnchor": "q"},
        },
    }
    if padded:
        n = 20_001
        schema["$defs"]["pad"] = {
            "properties": {f"p{i}": {"$ref": f"#/$defs/pad/$defs/d{i}"} for i in range(n)},
            "$defs": {f"d{i}": {"type": "integer"} for i in range(n)},
        }
        schema["properties"] = {"pad": {"$ref": "#/$defs/pad"}}
    return schema


#: `a` applies `r1` in place (`allOf`), and itself again to property `c`.
DYNAMIC_LOOP = {"properties": {"c": {"$ref": "a"}}, "allOf": [{"$ref": "r1"}]}

LOOP_MESSAGE = (
    "References nest deeper than 256 levels without descending into the value: checking gives"
    " up there (references that lead back to where they started never finish)"
)


def test_a_dynamic_loop_is_refused_where_compiling_can_follow_it() -> None:
    with pytest.raises(SchemaError) as info:
        Validator(_looping(DYNAMIC_LOOP, padded=False))
    assert str(info.value) == (
        "`$ref` loops back to itself without descending into the value: `r1` -> `a` -> `r1`"
        " (at /$ref/allOf/0/$ref)"
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_a_dynamic_reference_that_loops_fails_the_record_once_where_it_loops(
    config: dict[str, int],
) -> None:
    """Before: each of the 256 steps of the loop walked the value below it again (a record
    3 levels deep never finished as JSON text), and on pool threads the process died of a
    stack overflow. Now the record fails at the first loop met, with that error alone."""
    v = Validator(_looping(DYNAMIC_LOOP), adapt=False)
    records = [_nested(10), 5] * 4
    text = json.dumps(records)
    for result in (
        v.validate_batch(records, **config),
        v.validate_json(text, **config),
        v.validate_ndjson("\n".join(json.dumps(r) for r in records), **config),
    ):
        assert result.valid == [False] * 8
        assert {(e.index % 2, e.path, e.keyword, e.message) for e in result.errors} == {
            (0, "/c" * 10, "$dynamicRef", LOOP_MESSAGE),
            (1, "", "$dynamicRef", LOOP_MESSAGE),
        }
        assert len(result.errors) == 8
    assert not v.is_valid(_nested(3))


def test_a_loop_under_not_fails_the_record_and_reports_only_the_loop() -> None:
    """Before: the loop read as the failure of the `not` branch, so `not` passed (and JSON
    and dicts could disagree). It never finishes, on any value: the record fails."""
    v = Validator(_looping({"not": {"$ref": "r1"}}), adapt=False)
    for result in (v.validate_batch(["x", 1]), v.validate_json('["x", 1]')):
        assert result.valid == [False, False]
        assert errors_of(result) == [
            (0, "", "$dynamicRef", LOOP_MESSAGE),
            (1, "", "$dynamicRef", LOOP_MESSAGE),
        ]
    assert not v.is_valid("x")


def test_a_loop_met_inside_a_branch_is_reported_where_it_loops() -> None:
    """A branch of `anyOf`, `not` or `if` is walked on its own for its verdict: a loop met
    there was reported at the record's root (the walk's own root), not where it looped."""
    # At an integer, `a` applies `r1` in place (through `then`): `r1` comes back to `a`.
    a = {
        "if": {"type": "integer"},
        "then": {"$ref": "r1"},
        "properties": {
            "c": {"anyOf": [{"$ref": "a"}, {"type": "string"}]},
            "n": {"not": {"$ref": "a"}},
            "i": {"items": {"if": {"$ref": "a"}, "then": {}}},
            "p": {"$ref": "a"},
        },
    }
    v = Validator(_looping(a), adapt=False)
    records = [{"c": 1}, {"c": {"c": 1}}, {"n": 1}, {"i": ["x", 2]}, {"p": 1}, 1, {"c": "s"}]
    for result in (
        v.validate_batch(records),
        v.validate_batch(records, batch_size=1, micro_batch_size=1, threads=2),
        v.validate_json(json.dumps(records)),
    ):
        assert result.valid == [False] * 6 + [True]
        assert [(e.index, e.path, e.keyword) for e in result.errors] == [
            (0, "/c", "$dynamicRef"),
            (1, "/c/c", "$dynamicRef"),
            (2, "/n", "$dynamicRef"),
            (3, "/i/1", "$dynamicRef"),
            (4, "/p", "$dynamicRef"),
            (5, "", "$dynamicRef"),
        ]


def test_a_loop_met_checking_a_property_name_fails_the_record_as_the_loop() -> None:
    """A property name is checked in a walk of its own: a loop met there is the record's
    (before: it read as a name that fails `propertyNames`)."""
    # A string (a property name) goes to `r1`, whose `$dynamicRef` comes back to `a`.
    names = {"propertyNames": {"$ref": "r1"}, "if": {"type": "string"}, "then": {"$ref": "r1"}}
    v = Validator(_looping(names), adapt=False)
    records = [{"k": 1}, "x", 5, {}]
    for result in (v.validate_batch(records), v.validate_json(json.dumps(records))):
        assert result.valid == [False, False, True, True]
        assert [(e.index, e.path, e.message) for e in result.errors] == [
            (0, "", LOOP_MESSAGE),
            (1, "", LOOP_MESSAGE),
        ]


def test_long_names_and_references_are_shortened_in_messages() -> None:
    name = "k" * 100
    v = Validator({"propertyNames": {"maxLength": 3}, "unevaluatedProperties": False}, adapt=False)
    for result in (v.validate_batch([{name: 1}]), v.validate_json(json.dumps([{name: 1}]))):
        assert errors_of(result) == [
            (
                0,
                "",
                "propertyNames",
                f"Property name `{'k' * 40}... (100 characters)` is not valid against `propertyNames`:"
                f' String longer than 3 characters, got "{"k" * 40}"... (100 characters)',
            ),
            (
                0,
                "",
                "unevaluatedProperties",
                f"Unevaluated property `{'k' * 40}... (100 characters)`",
            ),
        ]
    # A reference is quoted up to 200 characters: the URI of the document to supply.
    with pytest.raises(SchemaError) as info:
        Validator({"$ref": "x" * 300})
    assert str(info.value) == (
        f"cannot resolve `$ref` `{'x' * 200}... (300 characters)` (at the root) (nothing is"
        " fetched or read from files: pass the document it names in `resources={uri: document}`"
        " under the URI it resolves to, or embed it in `$defs` with that URI as its `$id`)"
    )
    ref = "https://raw.githubusercontent.com/CircleCI-Public/circleci-yaml-language-server/main/schema.json"
    with pytest.raises(SchemaError) as info:
        Validator({"$ref": ref})
    assert str(info.value) == (
        f"cannot resolve `$ref` `{ref}` (at the root) (nothing is fetched or read from files:"
        f' pass the document it names as `resources={{"{ref}": document}}`, or embed it in'
        f' `$defs` with `"$id": "{ref}"`)'
    )


def test_a_reference_to_another_document_says_how_to_supply_it() -> None:
    """Before: "cannot resolve `$ref` `defs.json#/x` (at /properties/a/items)" alone, from the
    API (the command line gave a hint): the URI to pass in `resources` is the reference
    resolved against the ids around it, which the user had to work out."""
    schema = {
        "$id": "https://example.test/a/root.json",
        "properties": {"a": {"$id": "sub/", "items": {"$ref": "defs.json#/x"}}},
    }
    with pytest.raises(SchemaError) as info:
        Validator(schema)
    uri = "https://example.test/a/sub/defs.json"
    assert str(info.value) == (
        "cannot resolve `$ref` `defs.json#/x` (at /properties/a/items) (nothing is fetched or"
        f' read from files: pass the document it names as `resources={{"{uri}": document}}`,'
        f' or embed it in `$defs` with `"$id": "{uri}"`)'
    )
    # Done as it says, it compiles.
    v = Validator(schema, resources={uri: {"x": {"type": "integer"}}}, adapt=False)
    assert v.validate_batch([{"a": [1]}, {"a": ["x"]}]).valid == [True, False]
    # Draft 4 words it in its own keywords.
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "id": "http://e.test/4/"}
    with pytest.raises(SchemaError, match='embed it in `definitions` with `"id": "http://e.test/4/o.json"`'):
        Validator({**draft4, "properties": {"p": {"$ref": "o.json"}}})
    # A place missing from the document itself needs no hint.
    with pytest.raises(SchemaError) as info:
        Validator({"$ref": "#/$defs/missing"})
    assert str(info.value) == "cannot resolve `$ref` `#/$defs/missing` (at the root)"


def test_any_of_explains_at_most_four_branches() -> None:
    v = Validator({"anyOf": [{"const": i} for i in range(10)]}, adapt=False)
    assert errors_of(v.validate_batch([11])) == [
        (
            0,
            "",
            "anyOf",
            "No branch of `anyOf` matched: 0: Expected 0, got 11; 1: Expected 1, got 11; 2: Expected 2, got 11; 3: Expected 3, got 11; 6 more",
        )
    ]


@pytest.mark.parametrize(
    ("resources", "exc", "message"),
    [
        ([1], TypeError, "`resources` must be a mapping of URIs to documents, got list"),
        ({1: {}}, TypeError, "`resources` keys must be str URIs, got int"),
        ({"a.json": float("nan")}, SchemaError, "the schema is not a JSON document in `resources` at /a.json: Out of range float values are not JSON compliant"),
    ],
)  # fmt: skip
def test_bad_resources_raise_clear_exceptions(resources: Any, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        Validator({"$ref": "a.json"}, adapt=False, resources=resources)
    assert str(info.value) == message


def test_dict_entries_are_read_as_python_iterates_them() -> None:
    """The checks read a dict's table in place: deleted entries, an instance's split
    `__dict__`, a table with two-byte indices, and keys that are not str all read as
    iterating the dict does."""
    v = Validator({"properties": {"a": {"type": "integer"}}, "additionalProperties": False}, adapt=False)
    deleted = {"a": 1, "b": 2, "c": 3}
    del deleted["b"]

    class Instance:
        pass

    instance = Instance()
    instance.a = "x"
    instance.zz = 2
    large = {f"k{i}": i for i in range(1000)}
    large["a"] = 1
    for i in range(999):
        del large[f"k{i}"]
    mixed = {"a": 1, 5: 2}
    records = [deleted, instance.__dict__, large, mixed, {"a": 1}]
    assert [(e.index, e.path, e.keyword, e.message) for e in v.validate_batch(records).errors] == [
        (0, "", "additionalProperties", "Unexpected property `c`"),
        (1, "/a", "type", 'Expected `integer`, got `string` "x"'),
        (1, "", "additionalProperties", "Unexpected property `zz`"),
        (2, "", "additionalProperties", "Unexpected property `k999`"),
        (3, "", "json", "Object key `5` is not a string"),
    ]


def test_an_enum_too_deep_to_compare_ends_its_nodes_checks() -> None:
    """A value compared with an `enum` option beyond the nesting limit gets the one `depth`
    error of its node, not also that node's other keywords (here `minItems`)."""

    def nested(n: int) -> list:
        v: list = [1]
        for _ in range(n):
            v = [v]
        return v

    # A chain of references (the schema itself stays shallow) leads 80 levels down.
    defs = {f"a{i}": {"items": {"$ref": f"#/$defs/a{i + 1}"}} for i in range(80)}
    defs["a80"] = {"enum": [nested(60)], "minItems": 2}
    v = Validator({"$defs": defs, "$ref": "#/$defs/a0"}, adapt=False)
    record = nested(60)
    for _ in range(80):
        record = [record]
    for result in (v.validate_batch([record]), v.validate_json(json.dumps([record]))):
        assert result.valid == [False]
        assert [e.keyword for e in result.errors] == ["depth"]


# -- values compared whole (uniqueItems, const, enum), numbers out of range, counts as written ------


@pytest.mark.parametrize("config", CONFIGS)
def test_unique_items_reports_values_json_cannot_hold(config: dict[str, int]) -> None:
    """`uniqueItems` compares its items whole: a value JSON cannot hold anywhere in them is a
    `json` error at its path, as where any check reads one, and is never compared (lone
    surrogates, bytes, sets and NaN equalled nothing, not even themselves, so duplicates
    passed; two infinities were a `uniqueItems` error). Every entry point gives one verdict."""
    v = Validator({"uniqueItems": True}, adapt=False)
    records: list[Any] = [
        ["\ud800", "\ud800"],
        [b"x", b"x"],
        [{1}, {1}],
        [math.nan, math.nan],
        [math.inf, math.inf],
        [[1, {"a": b"x"}], [2]],  # read whole, though the items differ before it
        [{1: "a"}, {"\udc00": 1}],
        [*range(20), -math.inf, b"x"],  # past 16 items (compared by hash)
        [b"x"],  # one item: nothing is compared
        ["a", "b", "a"],
    ]
    expected = [
        (0, "/0", "json", "String is not valid Unicode"),
        (0, "/1", "json", "String is not valid Unicode"),
        (1, "/0", "json", "Expected a JSON value, got `bytes`"),
        (1, "/1", "json", "Expected a JSON value, got `bytes`"),
        (2, "/0", "json", "Expected a JSON value, got `set`"),
        (2, "/1", "json", "Expected a JSON value, got `set`"),
        (3, "/0", "json", "`NaN` is not a JSON number"),
        (3, "/1", "json", "`NaN` is not a JSON number"),
        (4, "/0", "json", "`inf` is not a JSON number"),
        (4, "/1", "json", "`inf` is not a JSON number"),
        (5, "/0/1/a", "json", "Expected a JSON value, got `bytes`"),
        (6, "/0", "json", "Object key `1` is not a string"),
        (6, "/1", "json", "Object key is not valid Unicode"),
        (7, "/20", "json", "`-inf` is not a JSON number"),
        (7, "/21", "json", "Expected a JSON value, got `bytes`"),
        (9, "", "uniqueItems", 'Items 0 and 2 are equal, got "a" twice'),
    ]
    valid = [False] * 8 + [True, False]
    r = v.validate_batch(records, **config)
    assert r.valid == valid
    assert errors_of(r) == expected
    assert v.validate_batch(records, errors=False, **config).valid == valid
    assert [v.is_valid(x) for x in records] == valid
    assert [
        (i, e.path, e.keyword, e.message) for i, x in enumerate(records) for e in v.validate_one(x)
    ] == expected


@pytest.mark.parametrize("config", CONFIGS)
def test_const_and_enum_report_values_json_cannot_hold_inside_the_value(
    config: dict[str, int],
) -> None:
    """`const` and `enum` read the value whole too: what JSON cannot hold inside it is a `json`
    error at its path, in place of the keyword's error (which quoted it as `?` or `bytes`)."""
    v = Validator(
        {"properties": {"c": {"const": [1, "a"]}, "e": {"enum": [{"k": 1}, None]}}}, adapt=False
    )
    records: list[Any] = [
        {"c": [1, "\ud800"], "e": {"k": math.nan}},
        {"c": [b"x", {2}], "e": {"k": 1}},
        {"c": [1, "a"], "e": None},
        {"c": [2, "a"], "e": {"k": 2}},
    ]
    expected = [
        (0, "/c/1", "json", "String is not valid Unicode"),
        (0, "/e/k", "json", "`NaN` is not a JSON number"),
        (1, "/c/0", "json", "Expected a JSON value, got `bytes`"),
        (1, "/c/1", "json", "Expected a JSON value, got `set`"),
        (3, "/c", "const", 'Expected [1, "a"], got [2, "a"]'),
        (3, "/e", "enum", 'Expected one of {"k": 1}, null, got {"k": 2}'),
    ]
    valid = [False, False, True, False]
    r = v.validate_batch(records, **config)
    assert r.valid == valid
    assert errors_of(r) == expected
    assert v.validate_batch(records, errors=False, **config).valid == valid
    assert [v.is_valid(x) for x in records] == valid


BEYOND = "Numbers with an exponent beyond ±1152921504606846976 are not supported"


@pytest.mark.parametrize("config", CONFIGS)
def test_numbers_with_exponents_out_of_range_are_json_errors_never_clamped(
    config: dict[str, int],
) -> None:
    """JSON text numbers are exact up to an exponent of ±2**60; past it a number is a `json`
    error where a check reads it (its exponent was clamped to 2**60: two different numbers
    were equal, and messages showed a value not in the input)."""
    u = Validator({"uniqueItems": True}, adapt=False)
    lines = [
        b"[1e1152921504606846976, 1e1152921504606846977]",
        b"[1e1152921504606846976, 10e1152921504606846975]",  # equal: exact at the bound
        b"[1e1152921504606846976, 1e1152921504606846975]",
    ]
    records = b"[" + b", ".join(lines) + b"]"
    expected = [
        (0, "/1", "json", f"{BEYOND}, got `1e1152921504606846977`"),
        (1, "", "uniqueItems", f"Items 0 and 1 are equal, got 1{'0' * 39}... (1152921504606846977 digits) twice"),
    ]
    ndjson_text = b"\n".join(lines) + b"\n"
    for r in (u.validate_json(records, **config), u.validate_ndjson(ndjson_text, **config)):
        assert r.valid == [False, False, True]
        assert errors_of(r) == expected
    assert u.validate_json(records, errors=False, **config).valid == [False, False, True]
    integer = Validator({"type": "integer"}, adapt=False)
    text = b"[1e-99999999999999999999, 1e1152921504606846976, -2E+1152921504606846977, 1.5]"
    r = integer.validate_json(text, **config)
    assert r.valid == [False, True, False, False]
    assert errors_of(r) == [
        (0, "", "json", f"{BEYOND}, got `1e-99999999999999999999`"),
        (2, "", "json", f"{BEYOND}, got `-2E+1152921504606846977`"),
        (3, "", "type", "Expected `integer`, got `number` 1.5"),
    ]
    assert integer.validate_json(text, errors=False, **config).valid == r.valid
    # A union or `not` does not take the error for a verdict on the number.
    for schema in ({"not": {"type": "integer"}}, {"oneOf": [{"type": "integer"}, {"type": "number"}]}):
        v = Validator({"items": schema}, adapt=False)
        text = b"[[1e1152921504606846977]]"
        r = v.validate_json(text, **config)
        assert errors_of(r) == [(0, "/0", "json", f"{BEYOND}, got `1e1152921504606846977`")]
        assert v.validate_json(text, errors=False, **config).valid == [False]
    # Not read where no check looks, as any value.
    assert Validator({"type": "array"}).validate_json(b"[[1e-1152921504606846977]]").valid == [True]


@pytest.mark.parametrize("config", CONFIGS)
def test_minimum_counts_beyond_any_count_are_stated_as_written(config: dict[str, int]) -> None:
    """A count past 2**64 - 1 is stated as the schema wrote it: `minLength` and `minContains`
    said 18446744073709551615, as `minItems` and `minProperties` no longer did."""
    cases: list[tuple[dict[str, Any], Any, str, str]] = [
        (
            {"minLength": 10**30},
            "a",
            "minLength",
            'String shorter than 1000000000000000000000000000000 characters, got "a"',
        ),
        (
            {"minContains": 2**64, "contains": {}},
            [1],
            "minContains",
            "Array has fewer than 18446744073709551616 items valid against `contains`",
        ),
        (
            {"minItems": 2**64},
            [1],
            "minItems",
            "Array has fewer than 18446744073709551616 items, got 1",
        ),
        (
            {"minProperties": 2**64},
            {},
            "minProperties",
            "Object has fewer than 18446744073709551616 properties, got 0",
        ),
        (
            {"minLength": 2**64 - 1},
            "a",
            "minLength",
            'String shorter than 18446744073709551615 characters, got "a"',
        ),
    ]
    for schema, record, keyword, message in cases:
        v = Validator(schema, adapt=False)
        for r in (v.validate_batch([record], **config), v.validate_json(json.dumps([record]))):
            assert errors_of(r) == [(0, "", keyword, message)], schema


def test_repeated_keys_in_json_text_are_read_as_the_readme_says() -> None:
    """RFC 8259 leaves a repeated key undefined; the README says how it is read: as
    `json.loads` reads it, the key once with its last value, by every keyword. Before, only
    the property keywords read the last value: the others read every entry (the cases marked
    `before` gave the other verdict)."""
    text = b'[{"x": 1, "y": 2, "x": "s"}]'
    cases = [
        ({"properties": {"x": {"type": "string"}}}, True),  # the last value, as json.loads
        ({"required": ["x"], "dependentRequired": {"x": ["z"]}}, False),  # no z
        ({"additionalProperties": {"type": ["string", "integer"]}}, True),
        ({"additionalProperties": {"type": "string"}}, False),  # y
        ({"patternProperties": {"^x$": {"type": "string"}}}, True),  # before: False
        ({"unevaluatedProperties": {"type": "string"}, "properties": {"y": True}}, True),  # before: False
        ({"propertyNames": {"enum": ["x", "y"]}, "maxProperties": 2}, True),  # before: False
        ({"minProperties": 3}, False),  # before: True
        ({"const": {"x": "s", "y": 2}}, True),  # before: False
        ({"enum": [{"y": 2, "x": "s"}]}, True),  # before: False
        ({"not": {"properties": {"x": {"type": "integer"}}}}, True),
        ({"oneOf": [{"properties": {"x": {"type": "integer"}}}, {"properties": {"x": {"type": "string"}}}]},
         True),
    ]  # fmt: skip
    as_dicts = json.loads(text)
    for schema, valid in cases:
        v = Validator(schema, adapt=False)
        assert v.validate_batch(as_dicts).valid == [valid], schema
        for errors in (True, False):
            assert v.validate_json(text, errors=errors).valid == [valid], schema
            assert v.validate_ndjson(text[1:-1] + b"\n", errors=errors).valid == [valid], schema
        assert errors_of(v.validate_json(text)) == errors_of(v.validate_batch(as_dicts)), schema
    # uniqueItems compares the objects as read: two equal ones (before: unique).
    v = Validator({"uniqueItems": True}, adapt=False)
    assert v.validate_json(b'[[{"a": 2, "a": 1}, {"a": 1}]]').valid == [False]
    assert v.validate_json(b'[[{"a": 1, "a": 1}, {"a": 2}]]').valid == [True]


def test_a_document_error_at_a_line_break_names_that_byte(tmp_path: Path) -> None:
    """The engine reads a JSON document as one line, its line breaks as spaces; placed in the
    document, its error said "unexpected byte 0x20" of a byte that is a line break."""
    v = Validator({"type": "object"}, adapt=False)
    path = tmp_path / "d.json"
    for text, byte, at in ((b'{\n"y": tru\n}', "0x0a", 10), (b'{\r\n"y": tru\r\n}', "0x0d", 11),
                           (b'{\n"y": tru }', "0x20", 10)):
        path.write_bytes(text)
        for source in (text, path):
            assert [e.message for e in v.validate(source).errors] == [
                f"Invalid JSON on line 2, column 9: unexpected byte {byte} at byte {at}"
            ]


def test_a_message_prints_a_float_with_the_digits_python_prints() -> None:
    """Before: at a tie between two shortest decimals, a message printed Rust's (`got
    771884502854283.3` of the float Python prints `771884502854283.2`; 8 of 30,000 random
    floats of 1-17 digits), while the verdicts followed Python's."""
    import random

    def digits(text: str) -> str:
        mantissa = text.lower().lstrip("-").split("e")[0]
        return mantissa.replace(".", "").strip("0")

    rng = random.Random(5)
    xs = [771884502854283.2, -771884502854283.2, 1000000000000000.2, 2.5e-7, 1.5e300, 123.0]
    xs += [
        float(f"{rng.randint(1, 10 ** rng.randint(1, 17))}e{rng.randint(-30, 30)}")
        * rng.choice([1, -1])
        for _ in range(30_000)
    ]
    v = Validator({"type": "string"}, adapt=False)
    for result in (v.validate_batch(xs), v.validate_json(json.dumps(xs))):
        printed = [e.message.rsplit(" ", 1)[1] for e in result.errors]
        assert len(printed) == len(xs)
        assert [
            (x, text) for x, text in zip(xs, printed)
            if float(text) != x or digits(text) != digits(repr(x))
        ] == []
    assert v.validate_batch([771884502854283.2]).errors[0].message == (
        "Expected `string`, got `number` 771884502854283.2"
    )


def test_a_float_is_the_decimal_python_prints_even_at_a_tie() -> None:
    """`771884502854283.2` is the double 771884502854283.25, halfway between two shortest
    decimals that read back as it: Python (and JavaScript) print the one whose last digit is
    even, Rust's formatting printed the other, so the float was no multiple of 0.2 (114 of
    28,000 random floats of 15-17 digits against their `repr`, 2026-12-07)."""
    from fractions import Fraction

    for x in (771884502854283.2, 1000000000000000.2, 875252295037387.2):
        for divisor in (0.2, 0.1, 0.4, 0.3):
            multiple = (Fraction(repr(x)) / Fraction(repr(divisor))).denominator == 1
            assert multiple or divisor in (0.3, 0.4)
            v = Validator({"multipleOf": divisor}, adapt=False)
            assert v.validate_batch([x]).valid == [multiple], (x, divisor)
            assert v.validate_json(json.dumps([x]).encode()).valid == [multiple], (x, divisor)
