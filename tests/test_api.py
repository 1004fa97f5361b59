"""Issue 11 part B: schemas from Python models, `Field` unions and constraints, one-record
validation, `max_errors`, records that are not dicts, and the record count of a profile."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, List, Optional, TypedDict

import msgspec
import pytest

from satya_adapt import Field, Schema, SchemaError, Validator
from satya_adapt.budget import make_budget


def errs(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


# -- 1. schema sources: Python models, through their own JSON Schema export ----------------


def test_pydantic_model_with_optional_nested_and_list_fields() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Address(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        city: str
        zip: Optional[str] = None

    class User(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        name: str
        age: int
        tags: List[str] = pydantic.Field(default_factory=list)
        address: Optional[Address] = None  # type: ignore[valid-type]

    records = [
        {"name": "Ada", "age": 36},
        {"name": "Bob", "age": 7, "tags": ["a"], "address": {"city": "Paris", "zip": None}},
        {"name": "Cy", "age": "x", "tags": ["a", 1], "address": {"zip": 75}},
        {"age": 1, "address": None},
    ]
    expected = [
        (2, "/age", "type", 'Expected `integer`, got `string` "x"'),
        (2, "/tags/1", "type", "Expected `string`, got `integer` 1"),
        (
            2,
            "/address",
            "anyOf",
            "No branch of `anyOf` matched: 0: Missing required property `city`; 1: Expected `null`, got `object`",
        ),
        (3, "", "required", "Missing required property `name`"),
    ]
    for source in (User, pydantic.TypeAdapter(User)):
        v = Validator(source, adapt=False)
        for threads in (1, 2):
            r = v.validate_batch(records, batch_size=4, micro_batch_size=2, threads=threads)
            assert r.valid == [True, True, False, False]
            assert errs(r) == expected
        assert v.schema.json_schema == User.model_json_schema()
    assert Schema.from_model(User).json_schema == User.model_json_schema()


@dataclasses.dataclass
class Point:
    x: int
    y: Optional[float] = None


class Pair(msgspec.Struct):
    left: Point
    right: Optional[Point] = None


class Movie(TypedDict):
    title: str
    year: int


@pytest.mark.parametrize("model", [Point, Pair, Movie])
def test_msgspec_struct_dataclass_and_typeddict(model: Any) -> None:
    v = Validator(model, adapt=False)
    assert v.schema.json_schema == msgspec.json.schema(model)
    good = {
        Point: {"x": 1, "y": None},
        Pair: {"left": {"x": 1}, "right": None},
        Movie: {"title": "Up", "year": 2009},
    }[model]
    bad, error = {
        Point: ({"x": 1.5}, (1, "/x", "type", "Expected `integer`, got `number` 1.5")),
        Pair: ({"left": {"y": 2}}, (1, "/left", "required", "Missing required property `x`")),
        Movie: ({"title": 3, "year": 2009}, (1, "/title", "type", "Expected `string`, got `integer` 3")),
    }[model]
    r = v.validate_batch([good, bad])
    assert r.valid == [True, False]
    assert errs(r) == [error]


def test_an_instance_or_another_object_is_not_a_schema() -> None:
    with pytest.raises(TypeError) as info:
        Validator(Point(1))
    assert str(info.value) == "a schema is a model class, got an instance of `Point`; pass the class `Point` itself"
    with pytest.raises(TypeError) as info:
        Validator(42)
    assert str(info.value) == (
        "`schema` must be a JSON Schema (a dict or a bool), a `Schema`, a pydantic model or TypeAdapter,"
        " a msgspec Struct type, a dataclass or a TypedDict, got `int`"
    )
    with pytest.raises(TypeError) as info:
        Validator(int)
    assert str(info.value).endswith("a dataclass or a TypedDict, got the class `int`")
    with pytest.raises(TypeError) as info:
        Validator(Pair(Point(1)))
    assert str(info.value) == "a schema is a model class, got an instance of `Pair`; pass the class `Pair` itself"
    with pytest.raises(TypeError) as info:
        Schema.from_model(int)
    assert str(info.value) == (
        "`model` must be a pydantic model or TypeAdapter, a msgspec Struct type, a dataclass or a"
        " TypedDict, got the class `int`"
    )


# -- 2. Field: `X | None`, constraints that cannot apply -----------------------------------


@pytest.mark.skipif(sys.version_info < (3, 10), reason="`X | None` needs Python 3.10")
def test_field_accepts_union_operator_like_optional() -> None:
    spec = eval("int | None")
    assert Field(spec).to_json_schema() == Field(Optional[int]).to_json_schema() == {"type": ["integer", "null"]}
    v = Validator(Schema({"n": Field(spec, ge=0)}), adapt=False)
    r = v.validate_batch([{"n": None}, {"n": 1}, {"n": -1}, {"n": "1"}])
    assert r.valid == [True, True, False, False]
    assert errs(r) == [
        (2, "/n", "minimum", "Must be >= 0, got -1"),
        (3, "/n", "type", 'Expected one of `null`, `integer`, got `string` "1"'),
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Field(int, min_length=3), "`min_length` cannot apply to a field of type `int` (it constrains `string` values)"),
        (lambda: Field(str, ge=0), "`ge` cannot apply to a field of type `str` (it constrains `number` values)"),
        (lambda: Field(Optional[int], pattern="x"), "`pattern` cannot apply to a field of type `Optional[int]` (it constrains `string` values)"),
        (lambda: Field(List[int], max_properties=1), "`max_properties` cannot apply to a field of type `List[int]` (it constrains `object` values)"),
        (lambda: Field(bool, min_items=1), "`min_items` cannot apply to a field of type `bool` (it constrains `array` values)"),
    ],
)  # fmt: skip
def test_field_refuses_a_constraint_that_cannot_apply(make: Any, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        make()
    assert str(info.value) == message


def test_field_keeps_constraints_that_apply() -> None:
    assert Field(float, ge=0).to_json_schema() == {"type": "number", "minimum": 0}
    assert Field(int, multiple_of=2).to_json_schema() == {"type": "integer", "multipleOf": 2}
    assert Field(Optional[str], min_length=1).to_json_schema() == {"type": ["string", "null"], "minLength": 1}
    assert Field(Any, min_length=1).to_json_schema() == {"minLength": 1}


# -- 3. one record -------------------------------------------------------------------------

USER_DOC = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "maximum": 150}},
    "required": ["name"],
}


def test_is_valid_and_validate_one_check_one_record() -> None:
    v = Validator(USER_DOC)
    assert v.is_valid({"name": "Ada", "age": 36}) is True
    assert v.is_valid({"name": "", "age": 200}) is False
    assert v.is_valid([1]) is False
    assert v.validate_one({"name": "Ada"}) == []
    assert errs_of(v.validate_one({"name": "", "age": 200})) == [
        (0, "/name", "minLength", 'String shorter than 1 character, got ""'),
        (0, "/age", "maximum", "Must be <= 150, got 200"),
    ]
    assert errs_of(v.validate_one({"name": "", "age": 200}, max_errors=1)) == [
        (0, "/name", "minLength", 'String shorter than 1 character, got ""'),
    ]
    assert v.validate_one({"age": 1.5}, max_errors=0) == []
    # The same verdicts and errors as the batch path.
    records = [{"name": "Ada"}, {"name": 3}, {}, "x", {"name": "b", "age": "1"}]
    batch = v.validate_batch(records)
    assert [v.is_valid(r) for r in records] == batch.valid
    assert [e for r in records for e in v.validate_one(r)] == [
        type(e)(0, e.path, e.keyword, e.message) for e in batch.errors
    ]


def errs_of(errors: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in errors]


# -- 5. max_errors -------------------------------------------------------------------------

ITEMS_DOC = {"items": {"type": "integer"}}
#: Record i has i failing items: 0 + 1 + ... + 19 = 190 errors.
MANY = [["x"] * i for i in range(20)]


@pytest.mark.parametrize(
    "config",
    [
        {"batch_size": 1000, "micro_batch_size": 1000, "threads": 1},
        {"batch_size": 7, "micro_batch_size": 2, "threads": 3},
        {"batch_size": 3, "micro_batch_size": 1, "threads": 2},
    ],
)
def test_max_errors_keeps_the_first_errors_and_counts_the_rest(config: dict[str, int]) -> None:
    v = Validator(ITEMS_DOC, adapt=False)
    everything = v.validate_batch(MANY, **config)
    assert (len(everything.errors), everything.errors_omitted) == (190, 0)
    text = json_text(MANY)
    ndjson = "\n".join(json_text(r) for r in MANY).encode()
    for cap in (0, 1, 5, 189, 190, 500):
        kept = min(cap, 190)
        for result in (
            v.validate_batch(MANY, max_errors=cap, **config),
            v.validate_json(text, max_errors=cap, **config),
            v.validate_ndjson(ndjson, max_errors=cap, **config),
            v.validate(MANY, max_errors=cap, **config),
            Validator(ITEMS_DOC, adapt=False, max_errors=cap).validate_batch(MANY, **config),
        ):
            assert result.valid == everything.valid
            assert result.errors == everything.errors[:kept]
            assert result.errors_omitted == 190 - kept
            assert result.all_valid is False
    chunks = list(v.iter_validate(MANY, max_errors=25, **config))
    assert [e for c in chunks for e in c.errors] == everything.errors[:25]
    assert sum(c.errors_omitted for c in chunks) == 165
    assert "errors=5, errors_omitted=185," in repr(v.validate_batch(MANY, max_errors=5, **config))
    # A call's own None lifts the validator's cap.
    assert len(Validator(ITEMS_DOC, adapt=False, max_errors=1).validate_batch(MANY, max_errors=None).errors) == 190


def test_a_validators_cap_and_budget_changed_after_a_call_hold_for_the_next() -> None:
    """A call that gives no knob, cap or budget of its own uses the validator's as they are
    now: set after earlier calls (as the command line sets ``budget``), they hold."""
    v = Validator(ITEMS_DOC, adapt=False)
    assert (len(v.validate_batch(MANY).errors), v.validate_batch(MANY).errors_omitted) == (190, 0)
    v.max_errors = 3
    r = v.validate_batch(MANY)
    assert (len(r.errors), r.errors_omitted) == (3, 187)
    v.max_errors = None
    assert len(v.validate_batch(MANY).errors) == 190
    rows = [[1, 2, 3]] * 20000
    assert v.validate_batch(rows).config == (8192, 1024, 1, "default")
    v.budget = make_budget("64KB", None)
    assert v.validate_batch(rows).config == (4000, 1024, 1, "default+budget")


def json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def test_max_errors_counts_json_errors_of_ndjson_lines() -> None:
    v = Validator(ITEMS_DOC, adapt=False)
    result = v.validate_ndjson(b'["x"]\n{bad\n[1]\n{worse\n', max_errors=1)
    assert result.valid == [False, False, True, False]
    assert errs(result) == [(0, "/0", "type", 'Expected `integer`, got `string` "x"')]
    assert result.errors_omitted == 2


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_max_errors_must_be_none_or_a_non_negative_int(bad: Any) -> None:
    with pytest.raises(ValueError) as info:
        Validator(ITEMS_DOC, max_errors=bad)
    assert str(info.value) == f"`max_errors` must be None or an int >= 0, got {bad!r}"
    with pytest.raises(ValueError):
        Validator(ITEMS_DOC).validate_batch([], max_errors=bad)


def test_max_errors_and_max_record_bytes_past_any_count_mean_no_limit() -> None:
    """Before: 2**64 was accepted, then every call raised a bare `OverflowError`."""
    v = Validator(ITEMS_DOC, adapt=False, max_errors=2**64, max_record_bytes=2**70)
    assert errs(v.validate_batch([["x", "y"]])) == [
        (0, "/0", "type", 'Expected `integer`, got `string` "x"'),
        (0, "/1", "type", 'Expected `integer`, got `string` "y"'),
    ]
    assert v.validate_ndjson(b"[1]\n", max_record_bytes=2**64, max_errors=2**64).valid == [True]
    assert [r.valid for r in v.iter_validate(b"[1]\n", max_errors=2**64)] == [[True]]
    assert v.validate_one(["x"], max_errors=2**64)[0].keyword == "type"
    with pytest.raises(ValueError) as info:
        Validator(ITEMS_DOC, max_errors=-(10**5000))
    assert str(info.value) == (
        "`max_errors` must be None or an int >= 0, got a negative int of about 5001 digits"
    )


@pytest.mark.parametrize(
    "config",
    [
        {"batch_size": 1000, "micro_batch_size": 1000, "threads": 1},
        {"batch_size": 7, "micro_batch_size": 2, "threads": 3},
    ],
)
def test_errors_false_gives_the_verdicts_alone(config: dict[str, int]) -> None:
    v = Validator(ITEMS_DOC, adapt=False)
    everything = v.validate_batch(MANY, **config)
    # Lines that are no JSON, or nested too deep, are failing records too.
    ndjson = b"\n".join(json_text(r).encode() for r in MANY) + b"\n{bad\n" + b"[" * 300 + b"\n"
    for cap in (None, 0, 5):
        for result in (
            v.validate_batch(MANY, errors=False, max_errors=cap, **config),
            v.validate_json(json_text(MANY), errors=False, max_errors=cap, **config),
            v.validate(MANY, errors=False, max_errors=cap, **config),
        ):
            assert (result.valid, result.errors, result.errors_omitted) == (everything.valid, [], 0)
            assert result.all_valid is False
        result = v.validate_ndjson(ndjson, errors=False, max_errors=cap, **config)
        assert (result.valid, result.errors, result.errors_omitted) == (everything.valid + [False, False], [], 0)
    chunks = list(v.iter_validate(MANY, errors=False, **config))
    assert [ok for c in chunks for ok in c.valid] == everything.valid
    assert [e for c in chunks for e in c.errors] == []
    assert v.validate_batch([[1], []], errors=False, **config).all_valid is True


@pytest.mark.parametrize("bad", [0, 1, None, "no"])
def test_errors_must_be_a_bool(bad: Any) -> None:
    with pytest.raises(TypeError) as info:
        Validator(ITEMS_DOC).validate_batch([], errors=bad)
    assert str(info.value) == f"`errors` must be True or False, got {bad!r}"


# -- 6. one dict is not a batch -------------------------------------------------------------


def test_one_dict_passed_as_a_batch_suggests_a_list() -> None:
    with pytest.raises(TypeError) as info:
        Validator(USER_DOC).validate_batch({"name": "Ada"})  # type: ignore[arg-type]
    assert str(info.value) == (
        "`items` must be an iterable of records, got one dict; wrap it in a list"
        " (`validate_batch([record])`) or use `validate_one(record)`"
    )


def test_bench_one_record_quick() -> None:
    """The one-record benchmark runs (no timing asserted: only its agreement checks and keys)."""
    import json
    import os
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_one_record.py"
    done = subprocess.run(
        [sys.executable, "-W", "ignore", str(script), "--quick", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=True,
    )
    medians = json.loads(done.stdout)
    assert sorted(medians) == ["invalid", "valid"]
    assert {"is_valid", "validate_one", "validate_batch([record])"} <= set(medians["valid"])
