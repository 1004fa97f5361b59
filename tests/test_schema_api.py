"""The schema API, both ways: ``Schema``/``Field`` and ``Schema.from_json_schema``.

The Pythonic API must produce the exact JSON Schema documents below and validate exactly like
them; compiling rejects what it cannot honour with ``SchemaError``; errors carry exact
messages and RFC 6901 paths.
"""

from __future__ import annotations

import decimal
import json
import math
import pickle
import re
import warnings
import typing
from typing import Any, Optional, Union

import pytest

from satya_adapt import Field, RecordError, Schema, SchemaError, SchemaWarning, Validator
from satya_adapt.validator import _REBUILT as rebuilt


def errors_of(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


# -- Schema/Field -> JSON Schema documents ---------------------------------------------------

USER = Schema(
    {
        "name": Field(str, min_length=1, max_length=20, pattern="^[A-Za-z ]+$"),
        "age": Field(int, ge=0, lt=150),
        "email": Field(str, format="email", required=False),
        "score": Field(float, gt=0, le=1.5, multiple_of=0.25, required=False),
        "active": bool,
        "nickname": Optional[str],
        "tags": Field(list[str], min_items=1, max_items=3, unique_items=True, required=False),
        "role": Field(str, enum=["admin", "user"], required=False),
        "kind": Field(str, const="person", required=False),
        "address": Field(
            Schema(
                {"street": str, "zip": Field(str, pattern="^[0-9]{5}$")},
                additional_properties=False,
            ),
            required=False,
        ),
        "meta": Field(typing.Any, required=False),
    },
    additional_properties=False,
    min_properties=2,
    max_properties=20,
)

USER_DOC = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[A-Za-z ]+$"},
        "age": {"type": "integer", "minimum": 0, "exclusiveMaximum": 150},
        "email": {"type": "string", "format": "email"},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1.5, "multipleOf": 0.25},
        "active": {"type": "boolean"},
        "nickname": {"type": ["string", "null"]},
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 3,
            "uniqueItems": True,
        },
        "role": {"type": "string", "enum": ["admin", "user"]},
        "kind": {"type": "string", "const": "person"},
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
            },
            "required": ["street", "zip"],
            "additionalProperties": False,
        },
        "meta": {},
    },
    "required": ["name", "age", "active", "nickname"],
    "additionalProperties": False,
    "minProperties": 2,
    "maxProperties": 20,
}


def test_pythonic_schema_document() -> None:
    assert USER.json_schema == USER_DOC
    # key order is part of the document (it decides the order of `required` errors)
    assert list(USER.json_schema["properties"]) == list(USER_DOC["properties"])  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("spec", "doc"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (dict, {"type": "object"}),
        (list, {"type": "array"}),
        (typing.Any, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (typing.Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
            },
        ),
        (Optional[int], {"type": ["integer", "null"]}),
        (Union[int, str, None], {"type": ["integer", "string", "null"]}),
        (Union[int, None], {"type": ["integer", "null"]}),
        (
            list[list[bool]],
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
        ),
        (
            {"x": int},
            {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
        ),
        (Schema({}), {"type": "object", "properties": {}}),
        (
            Field(int, ge=1, gt=0, le=9, lt=10),
            {
                "type": "integer",
                "minimum": 1,
                "exclusiveMinimum": 0,
                "maximum": 9,
                "exclusiveMaximum": 10,
            },
        ),
        (
            Field(list, items=Field(int, ge=0)),
            {"type": "array", "items": {"type": "integer", "minimum": 0}},
        ),
        (
            Field(dict, min_properties=1, max_properties=2),
            {"type": "object", "minProperties": 1, "maxProperties": 2},
        ),
        (Field(typing.Any, enum=[1, "a", None]), {"enum": [1, "a", None]}),
        (Field(typing.Any, const=None), {"const": None}),
        (Field(str, format="date-time"), {"type": "string", "format": "date-time"}),
    ],
    ids=repr,
)
def test_field_types_and_constraints(spec: Any, doc: dict[str, Any]) -> None:
    schema = Schema({"f": spec})
    assert schema.json_schema == {"type": "object", "properties": {"f": doc}, "required": ["f"]}


def test_optional_fields_and_object_options() -> None:
    s = Schema(
        {"a": Field(int, required=False)},
        additional_properties=False,
        min_properties=0,
        max_properties=1,
    )
    assert s.json_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": False,
        "minProperties": 0,
        "maxProperties": 1,
    }
    assert Schema({}).json_schema == {"type": "object", "properties": {}}


def test_from_json_schema_keeps_the_document() -> None:
    doc = {"type": "array", "items": {"type": "integer"}, "title": "ints"}
    assert Schema.from_json_schema(doc).json_schema == doc
    assert Schema.from_json_schema(True).json_schema is True
    assert Schema.from_json_schema(False).json_schema is False


# -- both ways validate alike ------------------------------------------------------------------

USER_RECORDS: list[Any] = [
    {"name": "Ada Lovelace", "age": 36, "active": True, "nickname": None},
    {"name": "Ada", "age": 36, "active": True, "nickname": "ada", "email": "ada@example.com", "score": 1.25,
     "tags": ["x", "y"], "role": "admin", "kind": "person", "address": {"street": "Main", "zip": "12345"},
     "meta": [1, {"any": "thing"}]},
    {"name": "", "age": -1, "active": 1, "nickname": 0},
    {"name": "R2-D2", "age": 150, "active": False, "nickname": None, "email": "r2d2",
     "score": 0, "tags": [], "role": "droid", "kind": "robot"},
    {"name": "Bob", "age": 1.0, "active": False, "nickname": None, "score": 1.3, "tags": ["a", "a", "b", "c"],
     "address": {"street": 1, "zip": "1234", "extra": True}, "x/y": 1, "t~z": 2},
    {"age": True},
    [],
    "Ada",
]  # fmt: skip

USER_ERRORS = [
    (2, "/name", "minLength", 'String shorter than 1 character, got ""'),
    (2, "/name", "pattern", 'String does not match `^[A-Za-z ]+$`, got ""'),
    (2, "/age", "minimum", "Must be >= 0, got -1"),
    (2, "/active", "type", "Expected `boolean`, got `integer` 1"),
    (2, "/nickname", "type", "Expected one of `null`, `string`, got `integer` 0"),
    (3, "/name", "pattern", 'String does not match `^[A-Za-z ]+$`, got "R2-D2"'),
    (3, "/age", "exclusiveMaximum", "Must be < 150, got 150"),
    (3, "/email", "format", 'String is not a valid `email`, got "r2d2"'),
    (3, "/score", "exclusiveMinimum", "Must be > 0, got 0"),
    (3, "/tags", "minItems", "Array has fewer than 1 item, got 0"),
    (3, "/role", "enum", 'Expected one of "admin", "user", got "droid"'),
    (3, "/kind", "const", 'Expected "person", got "robot"'),
    (4, "/score", "multipleOf", "Must be a multiple of 0.25, got 1.3"),
    (4, "/tags", "maxItems", "Array has more than 3 items, got 4"),
    (4, "/tags", "uniqueItems", 'Items 0 and 1 are equal, got "a" twice'),
    (4, "/address/street", "type", "Expected `string`, got `integer` 1"),
    (4, "/address/zip", "pattern", 'String does not match `^[0-9]{5}$`, got "1234"'),
    (4, "/address", "additionalProperties", "Unexpected property `extra`"),
    (4, "", "additionalProperties", "Unexpected property `x/y`"),
    (4, "", "additionalProperties", "Unexpected property `t~z`"),
    (5, "", "minProperties", "Object has fewer than 2 properties, got 1"),
    (5, "", "required", "Missing required property `name`"),
    (5, "/age", "type", "Expected `integer`, got `boolean` true"),
    (5, "", "required", "Missing required property `active`"),
    (5, "", "required", "Missing required property `nickname`"),
    (6, "", "type", "Expected `object`, got `array`"),
    (7, "", "type", 'Expected `object`, got `string` "Ada"'),
]


@pytest.mark.parametrize("front_end", ["pythonic", "json-schema"])
def test_user_schema_exact_errors(front_end: str) -> None:
    schema = USER if front_end == "pythonic" else Schema.from_json_schema(USER_DOC)
    v = Validator(schema, adapt=False)
    r = v.validate_batch(USER_RECORDS)
    assert r.valid == [True, True, False, False, False, False, False, False]
    assert errors_of(r) == USER_ERRORS
    assert errors_of(v.validate_json(json.dumps(USER_RECORDS))) == USER_ERRORS
    assert (r.n_valid, r.n_invalid, len(r)) == (2, 6, 8)
    assert not r.all_valid


def test_record_error_value_semantics() -> None:
    r = Validator({"type": "string"}, adapt=False).validate_batch([1])
    e = r.errors[0]
    assert e == RecordError(0, "", "type", "Expected `string`, got `integer` 1")
    assert hash(e) == hash(RecordError(0, "", "type", "Expected `string`, got `integer` 1"))
    assert e != RecordError(1, "", "type", "Expected `string`, got `integer` 1")
    assert (e.index, e.path, e.keyword, e.message) == (
        0,
        "",
        "type",
        "Expected `string`, got `integer` 1",
    )


def test_validator_accepts_schema_dict_or_bool() -> None:
    assert Validator(True, adapt=False).validate_batch([1, "a", None]).valid == [True, True, True]
    r = Validator(False, adapt=False).validate_batch([1, {}])
    assert r.valid == [False, False]
    assert errors_of(r) == [
        (0, "", "false", "No value is allowed here, got 1"),
        (1, "", "false", "No value is allowed here, got {}"),
    ]
    assert Validator({"type": "integer"}, adapt=False).validate_batch([1, "1"]).valid == [
        True,
        False,
    ]


def test_messages_of_other_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "t": {"prefixItems": [{"type": "integer"}], "items": False},
            "f": False,
            "n": {"type": ["integer", "null"], "maximum": 2.5},
            "s": {"type": "string", "format": "date-time", "maxLength": 5},
            "e": {"enum": list(range(10))},
            "c": {"const": {"a": [1, "x"]}},
            "long": {"const": "x" * 50},
        },
    }
    record = {
        "t": [1, 2, 3],
        "f": 0,
        "n": 3,
        "s": "2020-01-01T00:00:00",
        "e": 11,
        "c": {"a": [1]},
        "long": "y",
    }
    r = Validator(schema, adapt=False).validate_batch([record, {"n": 2.5, "t": ["x"]}])
    assert errors_of(r) == [
        (0, "/t", "items", "Array has more than 1 item, got 3"),
        (0, "/f", "false", "No value is allowed here, got 0"),
        (0, "/n", "maximum", "Must be <= 2.5, got 3"),
        (0, "/s", "maxLength", 'String longer than 5 characters, got "2020-01-01T00:00:00"'),
        (0, "/s", "format", 'String is not a valid `date-time`, got "2020-01-01T00:00:00"'),
        (0, "/e", "enum", "Expected one of 0, 1, 2, 3, 4, 5, 6, 7, ..., got 11"),
        (0, "/c", "const", 'Expected {"a": [1, "x"]}, got {"a": [1]}'),
        (0, "/long", "const", 'Expected "' + "x" * 36 + '..., got "y"'),
        (1, "/t/0", "type", 'Expected `integer`, got `string` "x"'),
        (1, "/n", "type", "Expected one of `null`, `integer`, got `number` 2.5"),
    ]


# -- paths: RFC 6901 ----------------------------------------------------------------------------


def test_paths_escape_tilde_and_slash() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a/b": {"type": "integer"},
            "m~n": {
                "type": "object",
                "properties": {"~/": {"type": "array", "items": {"type": "string"}}},
            },
            "": {"type": "null"},
            "~0": {"type": "null"},
            "é": {"type": "null"},
        },
    }
    record = {"a/b": "x", "m~n": {"~/": ["ok", 3]}, "": 1, "~0": 1, "é": 1}
    r = Validator(schema, adapt=False).validate_batch([record])
    assert [(e.path, e.keyword) for e in r.errors] == [
        ("/a~1b", "type"),
        ("/m~0n/~0~1/1", "type"),
        ("/", "type"),
        ("/~00", "type"),
        ("/é", "type"),
    ]


def test_paths_through_arrays_and_additional_properties() -> None:
    schema = {
        "type": "array",
        "prefixItems": [
            {"type": "object", "additionalProperties": {"type": "integer", "maximum": 3}}
        ],
        "items": {"type": "array", "items": {"const": 0}},
    }
    r = Validator(schema, adapt=False).validate_batch([[{"x": 4, "y/z": "s"}, [0, 1], [0, 0, 2]]])
    assert errors_of(r) == [
        (0, "/0/x", "maximum", "Must be <= 3, got 4"),
        (0, "/0/y~1z", "type", 'Expected `integer`, got `string` "s"'),
        (0, "/1/1", "const", "Expected 0, got 1"),
        (0, "/2/2", "const", "Expected 0, got 2"),
    ]


# -- compiling rejects what it cannot honour ----------------------------------------------------

BAD_SCHEMAS = [
    ({"type": "string", "minLength": -1}, "`minLength` must be a non-negative integer, got -1 (at the root)"),
    ({"type": "string", "minLength": "x"}, '`minLength` must be a non-negative integer, got "x" (at the root)'),
    ({"maxItems": 1.5}, "`maxItems` must be a non-negative integer, got 1.5 (at the root)"),
    ({"minProperties": True}, "`minProperties` must be a non-negative integer, got true (at the root)"),
    ({"type": "strin"}, "unknown type `strin` (at the root)"),
    ({"type": []}, "`type` must be a string or a non-empty array of strings, got an array (at the root)"),
    ({"type": ["string", 1]}, "`type` entries must be strings, got a number (at the root)"),
    ({"multipleOf": 0}, "`multipleOf` must be greater than 0, got 0 (at the root)"),
    ({"multipleOf": -2}, "`multipleOf` must be greater than 0, got -2 (at the root)"),
    ({"minimum": "1"}, "`minimum` must be a number, got a string (at the root)"),
    ({"enum": 1}, "`enum` must be an array, got a number (at the root)"),
    ({"uniqueItems": 1}, "`uniqueItems` must be a boolean, got a number (at the root)"),
    ({"prefixItems": {}}, "`prefixItems` must be an array, got an object (at the root)"),
    ({"properties": []}, "`properties` must be an object, got an array (at the root)"),
    ({"required": "a"}, "`required` must be an array, got a string (at the root)"),
    ({"required": [1]}, "`required` entries must be strings, got a number (at the root)"),
    ({"pattern": 1}, "`pattern` must be a string, got a number (at the root)"),
    ({"format": 1}, "`format` must be a string, got a number (at the root)"),
    ({"items": 1}, "a schema must be an object or a boolean, got a number (at /items)"),
    ({"properties": {"a/b": {"properties": {"c": {"$ref": "#/nope"}}}}}, "cannot resolve `$ref` `#/nope` (at /properties/a~1b/properties/c)"),
    ({"prefixItems": [{}, {"allOf": []}]}, "`allOf` must be a non-empty array, got an empty array (at /prefixItems/1)"),
    ({"additionalProperties": {"patternProperties": []}}, "`patternProperties` must be an object, got an array (at /additionalProperties)"),
    ({"items": {"if": 1, "then": {}}}, "a schema must be an object or a boolean, got a number (at /items/if)"),
    (
        {"$id": "http://example.com/s", "$ref": "other.json"},
        "cannot resolve `$ref` `other.json` (at the root) (nothing is fetched or read from files:"
        ' pass the document it names as `resources={"http://example.com/other.json": document}`,'
        ' or embed it in `$defs` with `"$id": "http://example.com/other.json"`)',
    ),
    ({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}, "`$ref` loops back to itself without descending into the value: `#/$defs/a` -> `#/$defs/a` (at /$ref)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "message"), BAD_SCHEMAS, ids=lambda x: json.dumps(x) if isinstance(x, dict) else ""
)
def test_bad_json_schemas_raise_schema_error(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_json_schema(doc)
    assert str(info.value) == message
    with pytest.raises(SchemaError):
        Validator(doc)


def test_bad_regex_raises_schema_error() -> None:
    for pattern in ["(", "[a-", "a{2,1}", "*"]:
        with pytest.raises(
            SchemaError,
            match=rf"^`pattern` `{re.escape(pattern)}` is not a valid regular expression: (?!error: ).+ \(at /properties/f\)$",
        ):
            Schema({"f": Field(str, pattern=pattern)})


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (Field(str, min_length=-1), "`minLength` must be a non-negative integer, got -1 (at /properties/f)"),
        (Field(str, max_length="x"), '`maxLength` must be a non-negative integer, got "x" (at /properties/f)'),  # type: ignore[arg-type]
        (Field(int, ge="1"), "`minimum` must be a number, got a string (at /properties/f)"),  # type: ignore[arg-type]
        (Field(float, multiple_of=0), "`multipleOf` must be greater than 0, got 0 (at /properties/f)"),
        (Field(list, items=Field(list, min_items=-3)), "`minItems` must be a non-negative integer, got -3 (at /properties/f/items)"),
    ],
)  # fmt: skip
def test_bad_field_constraints_raise_schema_error(field: Field, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema({"f": field})
    assert str(info.value) == message


def test_bad_pythonic_specs() -> None:
    with pytest.raises(SchemaError, match="unsupported field type"):
        Schema({"f": set})
    with pytest.raises(SchemaError, match="unsupported field type"):
        Schema({"f": bytes})
    with pytest.raises(SchemaError, match="field names must be str"):
        Schema({1: int})  # type: ignore[dict-item]
    with pytest.raises(SchemaError, match="`Union` of non-scalar types is not supported"):
        Schema({"f": Union[int, list[int]]})
    with pytest.raises(TypeError, match="`fields` must be a mapping"):
        Schema([("a", int)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a JSON Schema is a dict or a bool"):
        Schema.from_json_schema([{"type": "string"}])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), b"bytes"])
def test_non_json_schema_values_raise_schema_error(value: Any) -> None:
    with pytest.raises(SchemaError, match="^the schema is not a JSON document at /properties/f/const: "):
        Schema({"f": Field(typing.Any, const=value)})
    with pytest.raises(SchemaError, match="^the schema is not a JSON document at /enum/0: "):
        Schema.from_json_schema({"enum": [value]})


def test_a_non_json_value_is_placed_in_the_schema() -> None:
    """Before: "the schema is not a JSON document: Object of type set is not JSON
    serializable", with no word of where (a lone surrogate was placed already)."""
    cases = [
        ({"properties": {"a": {"const": {1, 2}}}}, "at /properties/a/const: Object of type set"),
        ({"enum": [1, decimal.Decimal("1.5")]}, "at /enum/1: Object of type Decimal"),
        ({"maximum": math.nan}, "at /maximum: Out of range float values"),
        ({"properties": {(1, 2): {}}}, "at /properties/(1, 2) (a property name): keys must be"),
        ({"a/b": [b"x"]}, "at /a~1b/0: Object of type bytes"),
    ]
    for doc, where in cases:
        with pytest.raises(SchemaError) as info:
            Schema.from_json_schema(doc)
        assert str(info.value).startswith(f"the schema is not a JSON document {where}")
    cyclic: dict[str, Any] = {}
    cyclic["a"] = cyclic  # placed where the cycle closes (see the test below)
    with pytest.raises(SchemaError) as info:
        Schema.from_json_schema({"properties": cyclic})
    assert str(info.value) == (
        'the schema is cyclic: the value at /properties/a is the dict at /properties (to refer'
        ' back, write {"$ref": "#/properties"} there)'
    )


def test_a_cyclic_schema_is_placed_where_the_cycle_closes() -> None:
    """Before: "the schema is not a JSON document: Circular reference detected", json's own
    words, with no place named; with a set inside the cycle, the set's place followed by
    "Circular reference detected"."""
    root: dict[str, Any] = {"type": "object"}
    root["properties"] = {"child": root}  # a recursive schema written as Python
    both: dict[str, Any] = {}
    both["not"] = both
    both["const"] = {1}  # JSON cannot hold it either: the cycle is said first
    items: list[Any] = [{"type": "integer"}]
    items.append(items)
    deep: dict[str, Any] = {"$defs": {"a b": {}}}
    deep["$defs"]["a b"]["items"] = deep["$defs"]["a b"]
    shared = {"type": "string"}  # in two places, inside neither: no cycle
    resource: dict[str, Any] = {"$defs": {}}
    resource["$defs"]["self"] = resource
    cases = [
        (root, None, "/properties/child", "the dict at the root", "#"),
        (both, None, "/not", "the dict at the root", "#"),
        ({"allOf": items}, None, "/allOf/1", "the list at /allOf", None),
        (deep, None, "/$defs/a b/items", "the dict at /$defs/a b", "#/$defs/a%20b"),
        ({"$ref": "r.json"}, {"r.json": resource}, " in `resources` at /r.json/$defs/self",
         "the dict at /r.json", "#"),
    ]  # fmt: skip
    for doc, resources, at, what, ref in cases:
        with pytest.raises(SchemaError) as info:
            Validator(doc, adapt=False, resources=resources)
        place = at if at.startswith(" in") else f" at {at}"
        hint = "" if ref is None else f' (to refer back, write {{"$ref": "{ref}"}} there)'
        assert str(info.value) == f"the schema is cyclic: the value{place} is {what}{hint}"
    v = Validator({"properties": {"a": shared, "b": shared}}, adapt=False)
    assert v.validate_batch([{"a": "x", "b": 1}]).valid == [False]
    # The hint is what fixes it.
    root["properties"]["child"] = {"$ref": "#"}
    v = Validator(root, adapt=False)
    assert v.validate_batch([{"child": {"child": {}}}, {"child": 1}]).valid == [True, False]


def test_the_schema_kept_is_the_one_compiled() -> None:
    """Before: `json_schema` was the caller's own (nested) dicts, so a change made to them
    after compiling showed there, and a pickled validator (a Dask, Ray or multiprocessing
    worker's) compiled the changed schema: [True] here, [False] there. A key that is not a
    str (compiled as JSON writes it) made the validator unpicklable."""
    doc: dict[str, Any] = {"type": "object", "properties": {"x": {"type": "integer"}}}
    v = Validator(doc, adapt=False)
    doc["properties"]["x"]["type"] = "string"
    assert v.schema.json_schema == {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert pickle.loads(pickle.dumps(v)).validate_batch([{"x": 1}]).valid == [True]
    w = Validator({"properties": {1: {"type": "string"}, "a": {}}}, adapt=False)
    assert w.schema.json_schema == {"properties": {"1": {"type": "string"}, "a": {}}}
    assert pickle.loads(pickle.dumps(w)).validate_batch([{"1": 2}]).valid == [False]
    resources: dict[str, Any] = {"urn:x": {"type": "integer"}}
    r = Validator({"$ref": "urn:x"}, adapt=False, resources=resources)
    resources["urn:x"]["type"] = "string"
    assert pickle.loads(pickle.dumps(r)).validate_batch([1]).valid == [True]


def test_field_checks_required_and_shows_every_option() -> None:
    """Before: `Field(int, required="no")` made the field required, `required=0` optional
    (every other flag refuses what is not a bool), and the repr left out `enum`, `const`
    and `items`, and wrote `list[int]` as `list`."""
    for flag in ("no", 0, None):
        with pytest.raises(TypeError, match="^`required` must be True or False, got "):
            Field(int, required=flag)  # type: ignore[arg-type]
    assert repr(Field(int, ge=0, enum=[1], const=1)) == "Field(int, enum=[1], const=1, ge=0)"
    assert repr(Field(list, items=Field(int, ge=1), required=False)) == (
        "Field(list, required=False, items=Field(int, ge=1))"
    )
    assert repr(Field(list[int], max_items=2)) == "Field(list[int], max_items=2)"


def test_a_schema_pickles_and_copies() -> None:
    """Before: "cannot pickle 'satya_adapt._validator.CompiledSchema' object" (a Validator, a
    Field and a result pickled)."""
    import copy

    schema = Schema({"x": Field(int, ge=1), "s": Field(str, format="email")})
    strict = Schema.from_json_schema({"$ref": "urn:x"}, draft="7", strict=True,
                                     resources={"urn:x": {"type": "integer"}}, formats=False)
    for original, record, ok in ((schema, {"x": 0, "s": "a@b.c"}, False), (strict, 5, True)):
        for again in (pickle.loads(pickle.dumps(original)), copy.copy(original), copy.deepcopy(original)):
            assert again.json_schema == original.json_schema
            assert again._options == original._options
            assert Validator(again, adapt=False).is_valid(record) is ok


def test_schema_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Schema.from_json_schema({"allOf": []})


def test_annotations_are_accepted_and_ignored() -> None:
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "t",
        "description": "d",
        "default": {"not": "checked"},
        "examples": [1, "two"],
        "$comment": "c",
        "deprecated": True,
        "readOnly": False,
        "writeOnly": True,
        "type": "integer",
    }
    v = Validator(doc, adapt=False)
    assert v.validate_batch([1, "two", {"not": "checked"}]).valid == [True, False, False]
    assert Validator({k: v for k, v in doc.items() if k != "type"}, adapt=False).validate_batch(
        [1, "x"]
    ).valid == [
        True,
        True,
    ]


def test_schema_features() -> None:
    assert USER.field_count > 0
    assert 0.0 <= USER.constraint_complexity <= 1.0
    plain = Schema({"a": int, "b": str})
    assert plain.constraint_complexity < USER.constraint_complexity
    assert "Schema(" in repr(USER)


# -- issue 10: full JSON Schema ------------------------------------------------------------


def _errs(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def test_pydantic_optional_field_compiles_and_validates() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        name: str
        n: Optional[int] = None

    class Box(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        items: list[Item]  # type: ignore[valid-type]

    v = Validator(Box.model_json_schema(), adapt=False)
    records = [{"items": [{"name": "a", "n": None}, {"name": "b", "n": 2}]}, {"items": [{"name": "a", "n": "x"}]}]
    expected = [
        (1, "/items/0/n", "anyOf", 'No branch of `anyOf` matched: 0: Expected `integer`, got `string` "x"; 1: Expected `null`, got `string` "x"')
    ]
    for threads in (1, 2):
        result = v.validate_batch(records, batch_size=2, micro_batch_size=1, threads=threads)
        assert result.valid == [True, False]
        assert _errs(result) == expected
    assert _errs(v.validate_json(json.dumps(records))) == expected


def test_one_of_says_which_branches_matched() -> None:
    v = Validator({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, adapt=False)
    assert _errs(v.validate_batch([1, 3, 1.5])) == [
        (1, "", "oneOf", "More than one branch of `oneOf` matched: 0 and 1"),
        (2, "", "oneOf", "No branch of `oneOf` matched: 0: Expected `integer`, got `number` 1.5; 1: Must be >= 2, got 1.5"),
    ]


def test_resources_resolve_references_without_network() -> None:
    resources = {
        "https://example.com/address.json": {
            "$id": "https://example.com/address.json",
            "type": "object",
            "properties": {"zip": {"$ref": "#/$defs/zip"}},
            "$defs": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
        }
    }
    schema = {"$id": "https://example.com/person.json", "properties": {"home": {"$ref": "address.json"}}}
    v = Validator(schema, adapt=False, resources=resources)
    result = v.validate_batch([{"home": {"zip": "12345"}}, {"home": {"zip": "1"}}])
    assert _errs(result) == [(1, "/home/zip", "pattern", 'String does not match `^[0-9]{5}$`, got "1"')]
    with pytest.raises(SchemaError) as info:
        Validator(schema, adapt=False)
    # It says under which URI to pass it: the reference resolved against `$id`.
    assert str(info.value) == (
        "cannot resolve `$ref` `address.json` (at /properties/home) (nothing is fetched or read"
        ' from files: pass the document it names as `resources={"https://example.com/address.json":'
        ' document}`, or embed it in `$defs` with `"$id": "https://example.com/address.json"`)'
    )


_D12 = "https://json-schema.org/draft/2020-12/schema"
_D19 = "https://json-schema.org/draft/2019-09/schema"

#: Dynamic references whose verdicts were wrong or that failed to compile: (schema,
#: records, verdicts).
DYNAMIC_CASES = {
    # A dynamic reference lands on a resource with `$id: d/r3`: its `$ref: x` means `d/x`.
    "relative-id-2020-12": (
        {"$schema": _D12, "$id": "https://ex.test/root",
         "properties": {"b": {"$id": "d/r3", "$dynamicAnchor": "m",
                              "properties": {"v": {"$ref": "x"}, "w": {"$dynamicRef": "/t#m"}}}},
         "$defs": {"t": {"$id": "t", "$dynamicAnchor": "m", "type": "integer"},
                   "x1": {"$id": "d/x", "type": "string"}, "x2": {"$id": "d/d/x", "type": "integer"}}},
        [{"b": {"v": "s"}}, {"b": {"w": {"v": "s"}}}, {"b": {"w": {"v": 1}}}],
        [True, True, False],
    ),
    "relative-id-2019-09": (
        {"$schema": _D19, "$id": "https://ex.test/root",
         "properties": {"b": {"$id": "d/r3", "$recursiveAnchor": True,
                              "properties": {"v": {"$ref": "x"}, "w": {"$ref": "/t"}}}},
         "$defs": {"t": {"$id": "/t", "$recursiveAnchor": True, "properties": {"q": {"$recursiveRef": "#"}}},
                   "x1": {"$id": "d/x", "type": "string"}, "x2": {"$id": "d/d/x", "type": "integer"}}},
        [{"b": {"w": {"q": {"v": "s"}}}}, {"b": {"w": {"q": {"v": 1}}}}],
        [True, False],
    ),
    # Was "cannot resolve `$dynamicRef` `../r2#m`".
    "relative-id-dotdot": (
        {"$schema": _D12, "$id": "https://ex.test/r2",
         "properties": {"b": {"$id": "d/r3", "$dynamicAnchor": "m", "properties": {"z": {"$dynamicRef": "../r2#m"}}}},
         "$defs": {"d0": {"$dynamicAnchor": "m", "type": "string"}}},
        [{"b": {"z": 1}}, {"b": {"z": "x"}}],
        [False, True],
    ),
    # A `$recursiveAnchor` below a resource's root is no anchor of the resource.
    "recursive-anchor-below-root": (
        {"$schema": _D19, "$id": "https://ex/root",
         "properties": {"x": {"$recursiveAnchor": True, "type": "string"}, "t": {"$ref": "tree"}},
         "$defs": {"tree": {"$id": "tree", "$recursiveAnchor": True, "type": "object",
                            "properties": {"c": {"$recursiveRef": "#"}}}}},
        [{"t": {"c": {"c": {}}}}, {"t": {"c": "str"}}],
        [True, False],
    ),
    # In place, but resolved to the outer resource at run time: was "loops back to itself".
    "in-place-outwards-2020-12": (
        {"$schema": _D12, "$id": "https://ex.test/A", "$dynamicAnchor": "n", "type": "object",
         "properties": {"x": {"$ref": "B"}},
         "$defs": {"B": {"$id": "B", "$dynamicAnchor": "n", "$dynamicRef": "#n"}}},
        [{"x": {"x": {}}}, {"x": 1}],
        [True, False],
    ),
    "in-place-outwards-2019-09": (
        {"$schema": _D19, "$id": "https://ex.test/root", "$recursiveAnchor": True, "type": "object",
         "properties": {"x": {"$ref": "B"}},
         "$defs": {"B": {"$id": "B", "$recursiveAnchor": True, "$recursiveRef": "#"}}},
        [{"x": {"x": {}}}, {"x": 1}],
        [True, False],
    ),
    # An anchor no dynamic reference names, with a reference that resolves nowhere inside.
    "unnamed-anchor": (
        {"$schema": _D12, "$dynamicRef": "#n",
         "$defs": {"d0": {"$dynamicAnchor": "n", "anyOf": [{"$dynamicRef": "https://ex.test/r2#/$defs/d1"}]},
                   "res1": {"$id": "https://ex.test/d/r1",
                            "anyOf": [{"$id": "../r2", "$dynamicAnchor": "q", "unevaluatedProperties": {"$ref": "d/r4"},
                                       "$defs": {"d1": {}}}]}}},
        [1, {}],
        [True, True],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", DYNAMIC_CASES)
def test_dynamic_references_resolve_in_their_resource(name: str) -> None:
    """Dynamic references give the verdicts the spec gives, from dicts and JSON text alike."""
    schema, records, expected = DYNAMIC_CASES[name]
    v = Validator(schema, adapt=False)
    assert v.validate_batch(records, errors=False).valid == expected
    assert v.validate_json(json.dumps(records), errors=False).valid == expected


def test_a_dynamic_loop_with_no_way_out_is_refused() -> None:
    """An in-place dynamic reference that resolves to itself whatever the scope is a loop."""
    schema = {"$schema": _D12, "$id": "https://ex.test/root", "properties": {"x": {"$ref": "B"}},
              "$defs": {"B": {"$id": "B", "$dynamicAnchor": "n", "$dynamicRef": "#n"}}}  # fmt: skip
    with pytest.raises(SchemaError) as info:
        Validator(schema, adapt=False)
    assert str(info.value) == (
        "`$dynamicRef` loops back to itself without descending into the value: `B` -> `B` (at /properties/x/$ref)"
    )


def test_draft_is_chosen_by_schema_keyword_or_argument() -> None:
    bounds = {"maximum": 3, "exclusiveMaximum": True}
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", **bounds}
    assert Validator(draft4, adapt=False).validate_batch([2, 3]).valid == [True, False]
    assert Validator(bounds, adapt=False, draft="4").validate_batch([2, 3]).valid == [True, False]
    with pytest.raises(SchemaError) as info:
        Validator(bounds, adapt=False)  # 2020-12: `exclusiveMaximum` is a number
    assert str(info.value) == "`exclusiveMaximum` must be a number, got a boolean (at the root)"
    # Drafts 4-7: `$ref` ignores its siblings; 2019-09 and later apply them too.
    ref_and_sibling = {"$defs": {"a": {"type": "integer"}}, "$ref": "#/$defs/a", "maximum": 1}
    assert Validator(ref_and_sibling, adapt=False, draft="7").validate_batch([5]).valid == [True]
    assert Validator(ref_and_sibling, adapt=False).validate_batch([5]).valid == [False]
    with pytest.raises(ValueError, match=r'^`draft` must be one of 4, 6, 7, 2019-09, 2020-12, got "5"$'):
        Validator({}, draft="5")


#: Each draft's `draft=` spellings (documented in `Schema.from_json_schema`): its name alone
#: or after `draft` or `draft-`; drafts 4, 6 and 7 with two digits too.
DRAFT_SPELLINGS = {
    "4": ["4", "draft4", "draft-4", "04", "draft04", "draft-04"],
    "6": ["6", "draft6", "draft-6", "06", "draft06", "draft-06"],
    "7": ["7", "draft7", "draft-7", "07", "draft07", "draft-07"],
    "2019-09": ["2019-09", "draft2019-09", "draft-2019-09"],
    "2020-12": ["2020-12", "draft2020-12", "draft-2020-12"],
}


@pytest.mark.parametrize("draft", sorted(DRAFT_SPELLINGS))
def test_every_draft_takes_the_same_documented_spellings(draft: str) -> None:
    """Before: `draft="draft-07"`, `"07"` and `"draft7"` were taken but documented nowhere,
    and so were `"-7"`, `"draftdraft7"` and `"draft--7"` (any run of `draft` and `-` before
    the name). The spellings are now documented, the same forms for every draft, and the
    others refused."""
    # Which draft was read shows in `exclusiveMaximum` (a boolean up to draft 4, a number
    # from draft 6) and `$ref` beside other keywords (ignored up to draft 7).
    doc = {"$defs": {"a": {"type": "integer"}}, "$ref": "#/$defs/a", "maximum": 1}
    expected = Validator(doc, adapt=False, draft=draft).validate_batch([5, "x"]).valid
    assert expected == ([True, False] if draft in ("4", "6", "7") else [False, False])
    for name in DRAFT_SPELLINGS[draft]:
        assert Validator(doc, adapt=False, draft=name).validate_batch([5, "x"]).valid == expected
        bounds = {"maximum": 3, "exclusiveMaximum": True}
        if draft == "4":
            assert Validator(bounds, adapt=False, draft=name).validate_batch([3]).valid == [False]
        else:
            with pytest.raises(SchemaError, match="^`exclusiveMaximum` must be a number"):
                Validator(bounds, adapt=False, draft=name)
    for name in (f"-{draft}", f"draftdraft{draft}", f"draft--{draft}", f"Draft{draft}", f" {draft}"):
        with pytest.raises(ValueError) as info:
            Validator({}, draft=name)
        assert str(info.value) == f'`draft` must be one of 4, 6, 7, 2019-09, 2020-12, got "{name}"'
    with pytest.raises(ValueError, match="apply to a JSON Schema document, not a `Schema`"):
        Validator(Schema({"a": int}), draft="7")


def test_draft_argument_overrides_the_root_schema_keyword() -> None:
    # Draft 4 reads `const` as an annotation: both branches match, every record fails.
    doc = {"$schema": "http://json-schema.org/draft-04/schema#", "oneOf": [{"const": "a"}, {"const": "b"}]}
    both = "More than one branch of `oneOf` matched: 0 and 1"
    v = Validator(doc, adapt=False)
    assert _errs(v.validate_batch(["a", "b", "c"])) == [(i, "", "oneOf", both) for i in range(3)]
    six = Validator(doc, adapt=False, draft="6")
    none = 'No branch of `oneOf` matched: 0: Expected "a", got "c"; 1: Expected "b", got "c"'
    for result in (six.validate_batch(["a", "b", "c"]), six.validate_json('["a", "b", "c"]')):
        assert result.valid == [True, True, False]
        assert _errs(result) == [(2, "", "oneOf", none)]
    # A document of `resources` keeps the draft its own `$schema` names.
    ref = {"$schema": "http://json-schema.org/draft-04/schema#", "$ref": "http://example.com/ab.json"}
    resources = {"http://example.com/ab.json": doc}
    assert Validator(ref, adapt=False, draft="6", resources=resources).validate_batch(["a"]).valid == [False]
    # `strict` and the asserted formats follow the draft in effect.
    with pytest.raises(SchemaError) as info:
        Validator(doc, adapt=False, strict=True)
    assert str(info.value) == "unknown keywords: `const` (at /oneOf/0), `const` (at /oneOf/1)"
    assert Validator(doc, adapt=False, strict=True, draft="6").validate_batch(["a", "c"]).valid == [True, False]
    dates = {"$schema": "http://json-schema.org/draft-04/schema#", "format": "date"}
    assert Validator(dates, adapt=False).validate_batch(["2020-13-01"]).valid == [True]
    result = Validator(dates, adapt=False, draft="7").validate_batch(["2020-01-31", "2020-13-01"])
    assert _errs(result) == [(1, "", "format", 'String is not a valid `date`, got "2020-13-01"')]
    assert Validator(dates, adapt=False, draft="7", formats=False).validate_batch(["2020-13-01"]).valid == [True]


DRAFT_3 = {"$schema": "http://json-schema.org/draft-03/schema#", "type": "integer"}
UNRECOGNISED = (
    "`$schema` `http://json-schema.org/draft-03/schema#` names none of the drafts satya-adapt"
    " implements (4, 6, 7, 2019-09, 2020-12) nor a meta-schema given in `resources`: the schema"
    " is read as draft 2020-12; `draft=` (the command line's `--draft`) chooses another"
)


def test_an_unrecognised_meta_schema_is_a_warning_at_the_users_line() -> None:
    with pytest.warns(SchemaWarning) as caught:
        v = Validator(DRAFT_3, adapt=False)
    assert [str(w.message) for w in caught] == [UNRECOGNISED]
    assert caught[0].filename == __file__
    assert v.validate_batch([1, 1.5]).valid == [True, False]
    with pytest.warns(SchemaWarning):
        Schema.from_json_schema(DRAFT_3)
    # Warnings made errors: compiling stops with it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SchemaWarning)
        with pytest.raises(SchemaWarning):
            Validator(DRAFT_3, adapt=False)
        # Nothing to say where the draft is given, or where `$schema` names a draft.
        assert Validator(DRAFT_3, adapt=False, draft="4").validate_batch([1.0]).valid == [True]
        Validator({"$schema": "https://json-schema.org/draft/2019-09/schema"}, adapt=False)
        # An unpickled validator (a Dask or Ray worker's) does not say it again.
        rebuilt.clear()  # (validators unpickled before are not compiled again)
        with pytest.warns(SchemaWarning):
            v = Validator(DRAFT_3, adapt=False)
        assert pickle.loads(pickle.dumps(v)).validate_batch([1.5]).valid == [False]
    with pytest.raises(SchemaError) as info:
        Validator(DRAFT_3, adapt=False, strict=True)
    assert str(info.value) == UNRECOGNISED
    # A schema error it leads to says why the schema was read as 2020-12.
    with pytest.raises(SchemaError) as info:
        Validator({**DRAFT_3, "properties": {"a": {"required": True}}}, adapt=False)
    assert str(info.value) == (
        f"`required` must be an array, got a boolean (at /properties/a); {UNRECOGNISED}"
    )


def test_strict_lists_every_unknown_keyword_with_its_location() -> None:
    schema = {"markdownDescription": "x", "properties": {"a": {"minlength": 1, "x-tag": 2}}}
    assert Validator(schema, adapt=False).validate_batch([{"a": ""}]).valid == [True]
    with pytest.raises(SchemaError) as info:
        Schema.from_json_schema(schema, strict=True)
    assert str(info.value) == (
        "unknown keywords: `markdownDescription` (at the root), `minlength` (at /properties/a), "
        "`x-tag` (at /properties/a)"
    )


def test_formats_outside_the_asserted_set_are_annotations() -> None:
    # Issue 10: every format of the draft is asserted (`hostname`, `ipv6` too); only a name
    # the draft does not define is an annotation.
    v = Validator({"type": "string", "format": "color"}, adapt=False)
    assert v.validate_batch(["not a color!", 1]).valid == [True, False]
    v = Validator({"type": "string", "format": "hostname"}, adapt=False)
    assert v.validate_batch(["not a host name!", "example.com"]).valid == [False, True]
    s = Schema({"f": Field(str, format="ipv6")})
    assert Validator(s, adapt=False).validate_batch([{"f": "x"}, {"f": "::1"}]).valid == [False, True]


def test_errors_carry_their_schema_path_through_references() -> None:
    schema = {
        "$defs": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"type": "string", "minLength": 2}},
        "required": ["c"],
        "additionalProperties": False,
    }
    v = Validator(schema, adapt=False)
    records = [{"a": "x", "b": "y", "z": 1}]
    expected = [
        ("/a", "anyOf", "/properties/a/$ref/anyOf"),
        ("/b", "minLength", "/properties/b/minLength"),
        ("", "required", "/required"),
        ("", "additionalProperties", "/additionalProperties"),
    ]
    for result in (
        v.validate_batch(records),
        v.validate_batch(records, batch_size=1, micro_batch_size=1, threads=2),
        v.validate_json(json.dumps(records)),
    ):
        assert [(e.path, e.keyword, e.schema_path) for e in result.errors] == expected
    # Equality stays on what failed and where in the record.
    assert RecordError(0, "/b", "minLength", "m", "/x") == RecordError(0, "/b", "minLength", "m")


def test_a_record_error_with_a_negative_index_is_a_value_error() -> None:
    """Before: `RecordError(-1, ...)` raised `OverflowError: can't convert negative int to
    unsigned`, the conversion's words, not a bad argument's."""
    for index in (-1, -(2**70)):
        with pytest.raises(ValueError) as info:
            RecordError(index, "", "type", "m")
        assert type(info.value) is ValueError
        assert str(info.value) == (
            f"`index` must be >= 0 (the record's place in the input), got {index}"
        )
    assert RecordError(0, "", "type", "m").index == 0
    assert RecordError(2**40, "", "type", "m").index == 2**40
    with pytest.raises(TypeError):
        RecordError("0", "", "type", "m")  # type: ignore[arg-type]


def test_a_tagged_union_explains_the_branch_its_tag_names() -> None:
    """Branches that give one property a `const` are a tagged union: a record's tag rejects the
    other branches at once, and a failure explains the branch it names (through references and
    `allOf`), not the first four."""
    shape = {"type": "object", "required": ["kind"], "additionalProperties": False}
    doc = {
        "$defs": {
            "circle": {**shape, "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"]},
            "square": {"allOf": [{**shape, "properties": {"kind": {"enum": ["square"]}, "side": {"type": "number"}}}]},
            "dot": {**shape, "properties": {"kind": {"const": "dot"}}},
        },
        "oneOf": [{"$ref": "#/$defs/circle"}, {"$ref": "#/$defs/square"}, {"$ref": "#/$defs/dot"}, {"type": "string"}],
    }  # fmt: skip
    records = [{"kind": "circle", "r": 1}, {"kind": "square", "side": "2"}, {"kind": "oval"}, {"kind": "circle"}, "s", {"r": 1}]
    v = Validator(doc, adapt=False)
    for result in (v.validate_batch(records), v.validate_json(json.dumps(records))):
        assert result.valid == [True, False, False, False, True, False]
        assert _errs(result) == [
            (1, "", "oneOf", 'No branch of `oneOf` matched: 1: at `/side`: Expected `number`, got `string` "2"; 3: Expected `string`, got `object`; 2 others require another `kind`'),
            (2, "", "oneOf", 'No branch of `oneOf` matched: 3: Expected `string`, got `object`; 3 others require another `kind`'),
            (3, "", "oneOf", "No branch of `oneOf` matched: 0: Missing required property `r`; 3: Expected `string`, got `object`; 2 others require another `kind`"),
            # Without the tag, the branches that require it are not walked either.
            (5, "", "oneOf", "No branch of `oneOf` matched: 3: Expected `string`, got `object`; 3 others require `kind`"),
        ]  # fmt: skip
    untagged_rest = {"anyOf": [{"properties": {"kind": {"const": "a"}}}, {"properties": {"kind": {"const": "b"}}}]}
    result = Validator({**untagged_rest, "type": "object"}, adapt=False).validate_batch([{"kind": "c"}, {"kind": "b"}, {}])
    assert _errs(result) == [(0, "", "anyOf", 'No branch of `anyOf` matched: none allows `kind` "c"')]


def test_a_nested_one_of_explanation_is_quoted_without_its_prefix() -> None:
    """A branch that fails its own `oneOf`/`anyOf` is explained by the inner explanation (not
    its repeated prefix), cut after 160 characters with `...`: every level is bounded."""
    inner = {"oneOf": [{"type": "object", "properties": {"type": {"const": t}}, "required": ["type", "label"]} for t in "abc"]}
    doc = {"oneOf": [inner, {"type": "string"}], "$defs": {}}
    records = [{"type": "a"}, {"type": "x" * 200}, []]
    long_inner = {"anyOf": [{"type": "object", "required": [f"property_number_{i}"]} for i in range(8)]}
    v = Validator(doc, adapt=False)
    w = Validator({"oneOf": [long_inner, {"type": "string"}]}, adapt=False)
    for result in (v.validate_batch(records), v.validate_json(json.dumps(records))):
        assert _errs(result) == [
            (0, "", "oneOf", "No branch of `oneOf` matched: 0: no branch of `oneOf` matched (0: Missing required property `label`; 2 others require another `type`); 1: Expected `string`, got `object`"),
            (1, "", "oneOf", 'No branch of `oneOf` matched: 0: no branch of `oneOf` matched (none allows `type` "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (200 characters)); 1: Expected `string`, got `object`'),
            (2, "", "oneOf", "No branch of `oneOf` matched: 0: no branch of `oneOf` matched (0: Expected `object`, got `array`; 1: Expected `object`, got `array`; 2: Expected `object`, got `array`); 1: Expected `string`, got `array`"),
        ]  # fmt: skip
    assert _errs(w.validate_batch([{}])) == [
        (0, "", "oneOf", "No branch of `oneOf` matched: 0: no branch of `anyOf` matched (0: Missing required property `property_number_0`; 1: Missing required property `property_number_1`; 2: Missing required property `property_number_2`; 3: Missing...); 1: Expected `string`, got `object`"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "resources", "where"),
    [
        ({"properties": {"\ud800": {}}}, None, "at /properties/\\ud800 (a property name)"),
        ({"const": "\ud800"}, None, "at /const"),
        ({"enum": ["a", ["x", "\udfff"]]}, None, "at /enum/1/1"),
        ({"$ref": "r"}, {"r": {"const": "\ud801"}}, "in `resources` at /r/const"),
    ],
)
def test_a_lone_surrogate_in_a_schema_is_named_where_it_is(
    doc: Any, resources: Any, where: str
) -> None:
    """Before: `SchemaError: the schema is not valid JSON: unexpected end of hex escape at line 1
    column 24`, of a JSON text the user never wrote (the dict's dump, ASCII-escaped)."""
    with pytest.raises(SchemaError) as info:
        Validator(doc, resources=resources)
    assert str(info.value) == (
        f"the schema holds a string that is not valid Unicode (a lone surrogate) {where}"
    )
    # Characters outside ASCII are compiled as they are.
    assert Validator({"const": "é€😀"}).validate_batch(["é€😀", "e"]).valid == [True, False]
