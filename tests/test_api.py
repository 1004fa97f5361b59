"""Issue 11 part B: schemas from Python models, `Field` unions and constraints, one-record
validation, `max_errors`, records that are not dicts, and the record count of a profile."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, List, Optional, TypedDict

import msgspec
import pytest

from satya_adapt import Field, Schema, SchemaError, Validator


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
        " a msgspec Struct type, a dataclass or a TypedDict, got int"
    )
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
