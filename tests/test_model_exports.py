"""Schemas from Python models whose fields carry one library's constraints: the library that
owns them exports the schema (msgspec drops pydantic's `Field`, pydantic drops msgspec's
`Meta`, each without a word)."""

from __future__ import annotations

import dataclasses
import sys
from typing import Annotated, Any, List, TypedDict

import pytest

from satya_adapt import Validator

msgspec = pytest.importorskip("msgspec")
pydantic = pytest.importorskip("pydantic")
TypingExtensionsTypedDict = pytest.importorskip("typing_extensions").TypedDict


@pydantic.dataclasses.dataclass
class PydanticPerson:
    age: Annotated[int, pydantic.Field(gt=0)]
    name: Annotated[str, pydantic.Field(max_length=3)] = "x"


@pydantic.dataclasses.dataclass
class PydanticDefault:
    name: str = pydantic.Field(default="x", max_length=3)


class InnerModel(pydantic.BaseModel):
    x: int


@dataclasses.dataclass
class HoldsAModel:
    inner: InnerModel


class PydanticTyped(TypingExtensionsTypedDict):
    n: Annotated[int, pydantic.Field(ge=10)]


@dataclasses.dataclass
class MsgspecMeta:
    n: Annotated[int, msgspec.Meta(ge=10)]


@dataclasses.dataclass
class Nested:
    people: List[PydanticPerson]


@dataclasses.dataclass
class Mixed:
    a: Annotated[int, pydantic.Field(ge=10)]
    b: Annotated[int, msgspec.Meta(ge=10)]


class PydanticInTypingTypedDict(TypedDict):
    n: Annotated[int, pydantic.Field(ge=10)]


@pytest.mark.parametrize(
    ("model", "good", "bad"),
    [
        (PydanticPerson, {"age": 1}, {"age": -5, "name": "toolong"}),
        (PydanticDefault, {"name": "abc"}, {"name": "toolong"}),
        (HoldsAModel, {"inner": {"x": 1}}, {"inner": {"x": "a"}}),
        (PydanticTyped, {"n": 10}, {"n": 1}),
        (MsgspecMeta, {"n": 10}, {"n": 1}),
        (Nested, {"people": [{"age": 1}]}, {"people": [{"age": 1}, {"age": 0}]}),
    ],
)
def test_a_model_is_exported_by_the_library_whose_constraints_it_carries(
    model: Any, good: Any, bad: Any
) -> None:
    """Before: a dataclass or TypedDict went through msgspec whatever it held, which dropped
    pydantic's `Field` constraints without a word (`{"age": -5, "name": "toolong"}` was
    valid), or raised on a `Field` default or a pydantic model field."""
    v = Validator(model, adapt=False)
    assert v.validate_batch([good, bad]).valid == [True, False]
    owner_accepts = {
        MsgspecMeta: lambda r: msgspec.convert(r, MsgspecMeta) and True,
    }.get(model, lambda r: pydantic.TypeAdapter(model).validate_python(r) and True)
    assert owner_accepts(good)
    with pytest.raises((pydantic.ValidationError, msgspec.ValidationError)):
        owner_accepts(bad)


def test_a_model_that_mixes_the_two_libraries_or_that_pydantic_cannot_read_says_so() -> None:
    with pytest.raises(TypeError) as info:
        Validator(Mixed)
    assert str(info.value) == (
        "`Mixed` mixes pydantic and msgspec in its fields: each library's JSON Schema export"
        " drops the other's constraints; use one of them"
    )
    if sys.version_info < (3, 12):
        with pytest.raises(TypeError) as info:
            Validator(PydanticInTypingTypedDict)
        assert str(info.value).startswith(
            "`PydanticInTypingTypedDict` carries pydantic constraints, and pydantic cannot"
            " export it: Please use `typing_extensions.TypedDict`"
        )


def test_from_model_takes_formats_as_the_validator_does() -> None:
    """Before: `Schema.from_model(M, formats=False)` raised TypeError, where
    `Validator(M, formats=False)` made `format` an annotation."""
    import datetime

    from satya_adapt import Schema

    @dataclasses.dataclass
    class Event:
        at: datetime.datetime

    pydantic = pytest.importorskip("pydantic")
    model = pydantic.TypeAdapter(Event)
    record = {"at": "not a date"}
    assert Validator(Schema.from_model(model), adapt=False).is_valid(record) is False
    assert Validator(Schema.from_model(model, formats=False), adapt=False).is_valid(record) is True
    assert Validator(model, formats=False, adapt=False).is_valid(record) is True
