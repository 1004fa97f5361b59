"""Differential tests against jsonschema-rs on random schemas and records.

Both validators must agree on which records are valid, and on where and why they fail: the
set of (JSON pointer, keyword) pairs. Two reporting conventions differ and are mapped:
jsonschema-rs reports each item beyond ``items: false`` as a false schema at the item, where
satya-adapt reports one ``items`` error at the array; any other ``false`` subschema is keyword
``false`` in satya-adapt; a value that fails an ``unevaluated*`` subschema is one error of
that keyword at its object in jsonschema-rs, the subschema's own errors in satya-adapt (both
sides leave that subtree out; the verdicts still agree); ``contains``, ``minContains`` and
``maxContains`` count as one keyword. Several errors of one keyword at one
place count once.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schema_strategies import (
    FORMAT_SAMPLES,
    FORMATS,
    PATTERNS,
    examples,
    json_values,
    schema_and_records,
    schemas,
    values_for,
)

from satya_adapt import Validator

SETTINGS = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Pairs = set[tuple[int, str, str]]


def _pointer(tokens: Any) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def _keyword(error: Any) -> tuple[str, str]:
    """(path, keyword) of a jsonschema-rs error, in satya-adapt's conventions."""
    tokens = list(error.schema_path)
    keyword = ""
    i = 0
    while i < len(tokens):  # walk keyword / name / index tokens from the root schema
        keyword = str(tokens[i])
        if keyword == "propertyNames":  # satya-adapt reports the name, not the inner keyword
            return _pointer(list(error.instance_path)), keyword
        named = ("properties", "prefixItems", "patternProperties", "dependentRequired", "allOf", "anyOf", "oneOf")
        i += 2 if keyword in named and i + 1 < len(tokens) else 1
    instance = list(error.instance_path)
    if type(error.kind).__name__ == "FalseSchema":
        if keyword == "items" and tokens[-1] == "items":
            return _pointer(instance[:-1]), "items"
        if keyword == "additionalProperties" and tokens[-1] == "additionalProperties":
            # jsonschema-rs 0.61 reports `additionalProperties: false` without `properties`
            # as a false schema at the object, once
            return _pointer(instance), "additionalProperties"
        return _pointer(instance), "false"
    return _pointer(instance), keyword


def reference_errors(schema: Any, records: list[Any]) -> tuple[list[bool], Pairs]:
    ref = jsonschema_rs.validator_for(schema, validate_formats=True)
    valid = [ref.is_valid(r) for r in records]
    pairs = {
        (i, *_keyword(e))
        for i, r in enumerate(records)
        for e in ref.iter_errors(r)
        if not _spurious_required(e, r)
    }
    return valid, pairs


def _spurious_required(error: Any, record: Any) -> bool:
    """jsonschema-rs 0.61 reports `required` for a name that is present when that name is
    only in `required` and `additionalProperties` is false (Python's jsonschema and the
    specification report `additionalProperties` alone); such an error is left out."""
    if _keyword(error)[1] != "required":
        return False
    at = record
    for token in error.instance_path:
        at = at[token]
    name = getattr(error.kind, "property", None)
    return isinstance(at, dict) and isinstance(name, str) and name in at


def our_errors(result: Any) -> Pairs:
    return {(e.index, e.path, e.keyword) for e in result.errors}


def _no_empty_names(value: Any, in_required: bool = False) -> Any:
    """Renames the property name "" (keys, and entries of `required`) to "<empty>".

    jsonschema-rs 0.61 drops empty tokens from `instance_path` and `schema_path`, so its
    errors under a property named "" cannot be located; satya-adapt's own handling of ""
    is tested in test_schema_api.py.
    """
    if isinstance(value, dict):
        return {
            ("<empty>" if k == "" else k): _no_empty_names(v, k == "required")
            for k, v in value.items()
        }
    if isinstance(value, list):
        if in_required:
            return ["<empty>" if v == "" else v for v in value]
        return [_no_empty_names(v) for v in value]
    return value


UNEVALUATED = ("unevaluatedProperties", "unevaluatedItems")
CONTAINS = ("minContains", "maxContains")


def _unevaluated_apart(ours: Pairs, reference: Pairs, schema: Any) -> tuple[Pairs, Pairs]:
    """jsonschema-rs reports a value that fails an `unevaluated*` subschema as one error of that
    keyword at the object or array; satya-adapt reports the subschema's own errors at the value
    (as for `additionalProperties`). Both sides leave out what lies at or under such a place.

    jsonschema-rs 0.61 also counts as evaluated what a *failing* subschema evaluated (say a
    `dependentSchemas` branch with `additionalProperties: true` and a missing required name);
    the specification drops a failing subschema's annotations, as satya-adapt does. So where the
    schema has `unevaluated*`, a failing record's errors are left out (its verdict still counts).
    """
    places = {(i, path) for i, path, keyword in reference if keyword in UNEVALUATED}
    if any(k in json.dumps(schema) for k in UNEVALUATED):
        places |= {(i, "") for i, _, _ in reference | ours}

    def under(i: int, path: str) -> bool:
        return any(i == j and (path == p or path.startswith(p + "/") or not p) for j, p in places)

    def kept(pairs: Pairs) -> Pairs:
        # jsonschema-rs names a `contains` count failure `maxContains` whenever that keyword
        # is present, even when too few items match: the three count as one
        return {(i, p, "contains" if k in CONTAINS else k) for i, p, k in pairs if not under(i, p)}

    return kept(ours), kept(reference)


def compare(schema: Any, records: list[Any]) -> None:
    schema, records = _no_empty_names(schema), _no_empty_names(records)
    v = Validator(schema, adapt=False)
    expected_valid, expected_pairs = reference_errors(schema, records)
    what = f"schema={json.dumps(schema)} records={json.dumps(records)}"

    by_dict = v.validate_batch(records)
    assert by_dict.valid == expected_valid, what
    ours_kept, reference_kept = _unevaluated_apart(our_errors(by_dict), expected_pairs, schema)
    assert ours_kept == reference_kept, what
    # every invalid record has at least one error, a valid one none
    assert {e.index for e in by_dict.errors} == {i for i, ok in enumerate(expected_valid) if not ok}

    by_json = v.validate_json(json.dumps(records))
    assert by_json.valid == expected_valid, what
    assert our_errors(by_json) == our_errors(by_dict), what


@SETTINGS
@given(schema_and_records())
def test_record_schemas_agree_with_jsonschema_rs(case: Any) -> None:
    schema, records = case
    compare(schema, records)


@SETTINGS
@given(st.data())
def test_any_schema_shape_agrees_with_jsonschema_rs(data: Any) -> None:
    """Schemas of any shape at the top level (scalars, arrays, boolean schemas, enums)."""
    schema = data.draw(schemas(max_leaves=6), label="schema")
    records = data.draw(
        st.lists(st.one_of(values_for(schema), json_values(6)), max_size=8), label="records"
    )
    compare(schema, records)


@settings(max_examples=examples(150), deadline=None)
@given(
    st.sampled_from(FORMATS),
    st.lists(
        st.one_of(
            st.sampled_from([s for v in FORMAT_SAMPLES.values() for s in v]), st.text(max_size=12)
        ),
        max_size=10,
    ),
)
def test_formats_agree_with_jsonschema_rs(fmt: str, strings: list[str]) -> None:
    # jsonschema-rs reads an email with a quoted local part or an IP-literal domain, and
    # some URIs, by its own rules; random text avoids those shapes almost surely.
    compare({"type": "string", "format": fmt}, strings)


@settings(max_examples=examples(150), deadline=None)
@given(
    st.sampled_from(PATTERNS), st.lists(st.text(alphabet="abAB019xy-é", max_size=8), max_size=10)
)
def test_patterns_agree_with_jsonschema_rs(pattern: str, strings: list[str]) -> None:
    compare({"type": "string", "pattern": pattern}, strings)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]),
    st.one_of(
        st.integers(1, 2**70), st.integers(-(2**70), -1), st.sampled_from([0.5, 0.25, 3, 7, 2.5])
    ),
    st.lists(
        st.one_of(
            st.integers(-(2**80), 2**80),
            st.integers(-(2**63) - 3, -(2**63) + 3),
            st.integers(2**64 - 3, 2**64 + 3),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        max_size=8,
    ),
)
def test_number_bounds_agree_with_jsonschema_rs(
    keyword: str, bound: Any, numbers: list[Any]
) -> None:
    """Exact comparison of integers beyond 64 bits with integer and float bounds."""
    if keyword == "multipleOf":
        assume(bound > 0)
    compare({keyword: bound}, numbers)


@pytest.mark.parametrize(
    ("schema", "records"),
    [
        (
            {"uniqueItems": True},
            [[1, 1.0], [1, True], [0, False], [[1], [True]], [{"a": 1}, {"a": 1.0}], [None, None]],
        ),
        (
            {"enum": [1, "a", None, [1], {"b": False}]},
            [1.0, True, "a", None, [1.0], [True], {"b": False}, {"b": 0}],
        ),
        ({"const": False}, [False, 0, 0.0, None, [], True]),
        (
            {"const": {"a": [1, {"b": 2}]}},
            [{"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2.0}]}, {"a": [1, {"b": 2, "c": 3}]}],
        ),
        ({"type": "integer"}, [1, 1.0, 1.5, -0.0, True, 2**70, 1e300]),
        (
            {"type": ["integer", "string"], "minimum": 2, "minLength": 2},
            [1, 2, "a", "ab", 1.5, None],
        ),
        (
            {"prefixItems": [{"type": "integer"}, False], "items": False},
            [[], [1], [1, 2], [1, 2, 3], ["x"]],
        ),
        (
            {"properties": {"items": False, "a/b": {"const": 1}, "t~": False}},
            [{"items": 1}, {"a/b": 2}, {"t~": 0}],
        ),
        (
            {"type": "string", "minLength": 2, "maxLength": 3},
            ["é", "éé", "😀😀😀", "😀😀😀😀", "\u0000\u0000"],
        ),
    ],
)
def test_edge_cases_agree_with_jsonschema_rs(schema: Any, records: list[Any]) -> None:
    compare(schema, records)


@pytest.mark.parametrize(
    ("schema", "records"),
    [
        ({"properties": {"a": {}}, "required": ["a", "zz"], "additionalProperties": False}, [{"a": 1, "zz": 1}, {"zz": 1}]),
        ({"required": ["zz"], "additionalProperties": {"type": "integer"}}, [{"zz": "x"}, {"zz": 1}]),
        ({"required": ["zz"], "additionalProperties": False}, [{"zz": 1}, {}]),
        ({"properties": {"a": {}}, "required": ["zz"], "additionalProperties": False}, [{"zz": None}]),
    ],
)  # fmt: skip
def test_required_names_are_not_declared_properties(schema: Any, records: list[Any]) -> None:
    """`required` does not declare a property: additionalProperties still applies to the name."""
    compare(schema, records)


@pytest.mark.parametrize(
    ("schema", "records"),
    [
        ({"$defs": {"n": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"},
         [{"v": 1, "next": {"v": 2, "next": {"v": "x"}}}, {"v": 1, "next": {"v": 2}}, {"next": 1}]),
        ({"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["a"]}, "else": {"required": ["b"]}},
         [{"kind": "a", "a": 1}, {"kind": "a"}, {"kind": "b", "b": 1}, {}]),
        ({"properties": {"a": {}}, "allOf": [{"properties": {"b": {}}}], "unevaluatedProperties": False},
         [{"a": 1, "b": 2}, {"a": 1, "c": 3}]),
        ({"prefixItems": [{"type": "integer"}], "contains": {"type": "string"}, "unevaluatedItems": False},
         [[1, "a"], [1, 2], [1, "a", "b"]]),
        ({"dependentRequired": {"a": ["b"]}, "dependentSchemas": {"c": {"required": ["d"]}}},
         [{"a": 1}, {"a": 1, "b": 1}, {"c": 1}, {"c": 1, "d": 1}]),
        ({"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
         [{"x-a": "s", "n": 1}, {"x-a": 1}, {"n": "s"}]),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}], "not": {"const": 3}}, ["a", 1, 3, None]),
        # Tagged branches closed by additionalProperties: the verdict walk checks the
        # properties a record holds and counts the required names it meets in one pass.
        ({"$defs": {"a": {"properties": {"t": {"const": "a"}, "n": {"type": "integer"}}, "required": ["t", "n"],
                          "additionalProperties": False},
                    "b": {"properties": {"t": {"const": "b"}}, "required": ["t", "zz"],
                          "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}},
          "oneOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}]},
         [{"t": "a", "n": 1}, {"n": 1, "t": "a"}, {"t": "a"}, {"t": "a", "n": "1"}, {"t": "a", "n": 1, "x": 0},
          {"t": "b", "zz": 1}, {"t": "b"}, {"t": "b", "zz": 1, "x-y": "s"}, {"t": "b", "zz": 1, "x-y": 2}, {"t": "c"}, 7]),
    ],
)  # fmt: skip
def test_applicators_agree_with_jsonschema_rs(schema: Any, records: list[Any]) -> None:
    compare(schema, records)


@st.composite
def _long_multiples(draw: Any) -> tuple[Any, list[Any]]:
    """A divisor (long integers, powers of 2, 5 and 10 times a small factor, fractions) and
    integers of up to 4,000 digits, some of them its multiples."""
    divisor = draw(
        st.one_of(
            st.integers(1, 10**1500),
            st.builds(
                lambda base, exp, factor: base**exp * factor,
                st.sampled_from([2, 5, 10]),
                st.integers(1, 3000),
                st.sampled_from([1, 3, 7]),
            ),
            st.sampled_from([0.0001, 0.5, 0.25, 2.5, 1e-5, 7]),
        )
    )
    numbers = draw(
        st.lists(
            st.one_of(
                st.integers(-(10**4000), 10**4000),
                st.builds(
                    lambda k, shift: int(divisor * k) * 10**shift if isinstance(divisor, int) else k * 10**shift,
                    st.integers(-(10**300), 10**300),
                    st.integers(0, 2000),
                ),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return divisor, numbers


@settings(max_examples=examples(100), deadline=None)
@given(_long_multiples())
def test_multiple_of_long_integers_agrees_with_jsonschema_rs(case: Any) -> None:
    """`multipleOf` on integers of up to 4,000 digits (past 1,024, JSON text's are read as
    decimal digits, converted only where a remainder needs them) agrees with jsonschema-rs,
    on dicts and on JSON text alike."""
    divisor, numbers = case
    compare({"multipleOf": divisor}, numbers)


def test_a_tagged_one_of_of_thousands_of_branches_agrees_with_jsonschema_rs() -> None:
    """A `oneOf` of 3,000 branches tagged by `kind` (the tag found in one pass over the
    branches: counting each name over every branch took 16,000 of them seconds at the
    first record), past 64 branches and below: the verdicts and errors of jsonschema-rs."""
    for n in (40, 3000):
        schema = {"oneOf": [{"type": "object", "properties": {"kind": {"const": f"k{i}"}, "v": {"type": "integer"}},
                             "required": ["kind"]} for i in range(n)]}  # fmt: skip
        records = [{"kind": f"k{n // 2}", "v": 1}, {"kind": "zz", "v": 1}, {"kind": f"k{n - 1}", "v": "x"},
                   {"v": 1}, {"kind": 3}, {"kind": "k0", "v": 2}, "k0"]  # fmt: skip
        compare(schema, records)


def test_failing_subschemas_evaluate_nothing() -> None:
    """What a failing `dependentSchemas` branch evaluated stays unevaluated (jsonschema-rs
    0.61 counts it as evaluated and reports only `required`)."""
    schema = {"dependentSchemas": {"id": {"additionalProperties": True, "required": ["zz"]}},
              "unevaluatedProperties": {"type": "array"}}  # fmt: skip
    result = Validator(schema, adapt=False).validate_batch([{"id": [], "e": ""}, {"id": [], "zz": [], "e": ""}])
    assert [(e.index, e.path, e.keyword, e.message) for e in result.errors] == [
        (0, "", "required", "Missing required property `zz`"),
        (0, "/e", "type", 'Expected `array`, got `string` ""'),
    ]
