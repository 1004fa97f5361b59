"""Arrow input: `Validator.validate_arrow` against the dict path on every record.

Property tests build random Arrow schemas (nested structs, lists, large strings,
dictionary-encoded strings), random rows with nulls, random JSON Schemas over those columns,
and split the table into chunks; the Arrow path must give exactly what
``validate_batch(table.to_pylist())`` gives, for every batch configuration, with nulls as
JSON null and (``null_as_absent=True``) as absent properties.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revisit_helpers import remembering_every_visit
from satya_adapt import InputError, RecordError, Validator
from satya_adapt.arrow import with_validity

pa = pytest.importorskip("pyarrow")

CORES = os.cpu_count() or 1


# -- strategies -------------------------------------------------------------------------------

LEAVES = [
    pa.int64(),
    pa.int32(),
    pa.int8(),
    pa.uint64(),
    pa.float64(),
    pa.float32(),
    pa.bool_(),
    pa.string(),
    pa.large_string(),
    pa.string_view(),
    pa.dictionary(pa.int32(), pa.string()),
]

NAMES = st.sampled_from(["a", "b", "c", "name", "x y", "~/"])


def arrow_types() -> st.SearchStrategy[Any]:
    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            inner.map(pa.list_),
            inner.map(pa.large_list),
            st.lists(st.tuples(NAMES, inner), min_size=1, max_size=3, unique_by=lambda f: f[0]).map(
                lambda fields: pa.struct([pa.field(n, t) for n, t in fields])
            ),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=6)


def values(t: Any) -> st.SearchStrategy[Any]:
    """Python values of Arrow type ``t``, None among them."""
    if pa.types.is_dictionary(t):
        inner: st.SearchStrategy[Any] = st.sampled_from(["a", "b", "é", "abc", ""])
    elif pa.types.is_integer(t):
        inner = st.integers(-(2 ** (t.bit_width - 1)) if pa.types.is_signed_integer(t) else 0,
                            2 ** (t.bit_width - (1 if pa.types.is_signed_integer(t) else 0)) - 1)
    elif pa.types.is_float32(t):
        inner = st.floats(width=32, allow_nan=False)
    elif pa.types.is_floating(t):
        inner = st.floats(allow_nan=False)
    elif pa.types.is_boolean(t):
        inner = st.booleans()
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        # Short strings (a view's inline: 12 bytes at most), and now and then a long one.
        inner = st.one_of(st.text(max_size=6), st.text(min_size=100, max_size=400))
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = st.lists(values(t.value_type), max_size=4)
    elif pa.types.is_struct(t):
        inner = st.fixed_dictionaries({t.field(i).name: values(t.field(i).type) for i in range(t.num_fields)})
    else:  # pragma: no cover - every generated type is handled above
        raise AssertionError(t)
    return st.one_of(st.none(), inner)


def json_schema(t: Any) -> st.SearchStrategy[Any]:
    """A JSON Schema for values of Arrow type ``t``: some pass, some fail."""
    common = st.sampled_from([
        {}, {"type": "null"}, {"not": {"type": "null"}}, {"type": ["string", "null"]},
        {"type": "object"}, {"type": "array"}, {"type": "boolean"}, {"type": "number"},
    ])
    if (pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_string_view(t)):
        own = st.sampled_from([
            {"type": "string", "minLength": 1}, {"maxLength": 3}, {"pattern": "^a"},
            {"enum": ["a", "abc", None]}, {"const": "b"}, {"format": "email"},
        ])
    elif pa.types.is_integer(t) or pa.types.is_floating(t):
        own = st.sampled_from([
            {"type": "integer"}, {"minimum": 0}, {"maximum": 100.5}, {"exclusiveMinimum": -3},
            {"multipleOf": 3}, {"enum": [0, 1, 1.5]}, {"type": "integer", "maximum": 2**63},
        ])
    elif pa.types.is_boolean(t):
        own = st.sampled_from([{"const": True}, {"enum": [False, None]}])
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        own = st.one_of(
            json_schema(t.value_type).map(lambda s: {"type": "array", "items": s}),
            st.sampled_from([{"maxItems": 2}, {"minItems": 1}, {"uniqueItems": True},
                             {"contains": {"type": "null"}}]),
        )
    elif pa.types.is_struct(t):
        names = [t.field(i).name for i in range(t.num_fields)]
        own = st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "properties": st.fixed_dictionaries(
                    {n: json_schema(t.field(i).type) for i, n in enumerate(names)}
                ),
                "required": st.lists(st.sampled_from([*names, "missing"]), unique=True),
            },
            optional={
                "additionalProperties": st.just(False),
                "maxProperties": st.integers(0, 3),
                "minProperties": st.integers(0, 3),
            },
        )
    else:  # pragma: no cover
        raise AssertionError(t)
    return st.one_of(own, own, common)


@st.composite
def cases(draw: Any) -> tuple[Any, list[dict[str, Any]], Any, list[int]]:
    fields = draw(st.lists(st.tuples(NAMES, arrow_types()), min_size=1, max_size=4,
                           unique_by=lambda f: f[0]))
    struct = pa.struct([pa.field(n, t) for n, t in fields])
    rows = draw(st.lists(values(struct).filter(lambda v: v is not None), max_size=12))
    schema = draw(json_schema(struct))
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=3)))
    return pa.schema(list(struct)), rows, schema, cuts


def configurations() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries(
        {
            "batch_size": st.integers(1, 20),
            "micro_batch_size": st.integers(1, 8),
            "threads": st.sampled_from([1, 2, CORES + 1]),
        }
    )


def chunked(table: Any, cuts: list[int]) -> Any:
    """``table`` with its columns cut into chunks at ``cuts``."""
    bounds = [0, *cuts, table.num_rows]
    parts = [table.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]
    return pa.concat_tables(parts)


def absent_nulls(value: Any) -> Any:
    """``value`` with null properties left out, as ``null_as_absent=True`` reads it."""
    if isinstance(value, dict):
        return {k: absent_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [absent_nulls(v) for v in value]
    return value


def outcome(result: Any) -> tuple[list[bool], list[tuple[int, str, str, str]]]:
    return list(result.valid), [(e.index, e.path, e.keyword, e.message) for e in result.errors]


# -- the Arrow path against the dict path -----------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), configurations(), st.booleans())
def test_arrow_path_matches_dict_path(case: Any, config: dict[str, int], null_as_absent: bool) -> None:
    arrow_schema, rows, schema, cuts = case
    table = chunked(pa.Table.from_pylist(rows, schema=arrow_schema), cuts)
    v = Validator(schema, adapt=False)
    records = table.to_pylist()
    if null_as_absent:
        records = [absent_nulls(r) for r in records]
    expected = outcome(v.validate_batch(records, batch_size=1000, micro_batch_size=1000, threads=1))
    got = outcome(v.validate_arrow(table, null_as_absent=null_as_absent, **config))
    assert got == expected
    alone = v.validate_arrow(table, null_as_absent=null_as_absent, errors=False, **config)
    assert outcome(alone) == (expected[0], [])


@settings(max_examples=50, deadline=None)
@given(cases())
def test_record_batches_and_readers_match_tables(case: Any) -> None:
    arrow_schema, rows, schema, cuts = case
    table = chunked(pa.Table.from_pylist(rows, schema=arrow_schema), cuts)
    v = Validator(schema, adapt=False)
    expected = outcome(v.validate_arrow(table))
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert outcome(v.validate_arrow(reader)) == expected
    assert outcome(v.validate_arrow(table.combine_chunks().to_batches(max_chunksize=None)[0]
                                    if table.num_rows else table)) == expected


# -- sliced tables: a struct's offset reaches its children once ------------------------------

NESTED = pa.struct([pa.field("a", pa.struct([pa.field("b", pa.int64())]))])


def test_nested_all_null_struct_in_one_row_chunks() -> None:
    # The reproducer the property tests found: arrow-rs applied the offset of a sliced struct
    # to its struct children twice, and the import failed (an assertion, `InputError`).
    table = pa.Table.from_pylist([{"s": None}, {"s": None}], schema=pa.schema([pa.field("s", NESTED)]))
    table = chunked(table, [1])
    assert [c.offset for c in table.column("s").chunks] == [0, 1]
    v = Validator({"properties": {"s": {"type": "object"}}}, adapt=False)
    r = v.validate_arrow(table)
    assert r.valid == [False, False]
    assert r.errors == [
        RecordError(0, "/s", "type", "Expected `object`, got `null`"),
        RecordError(1, "/s", "type", "Expected `object`, got `null`"),
    ]
    assert outcome(r) == outcome(v.validate_batch(table.to_pylist()))


def test_a_sliced_nested_struct_reads_its_own_rows() -> None:
    # Where the children were long enough, the double offset would read the wrong rows.
    rows = [{"s": {"a": {"b": b}}} for b in (1, 2, 3, 4)]
    table = pa.Table.from_pylist(rows, schema=pa.schema([pa.field("s", NESTED)])).slice(1, 2)
    v = Validator({"properties": {"s": {"properties": {"a": {"properties": {"b": {"maximum": 2}}}}}}}, adapt=False)
    r = v.validate_arrow(table)
    assert r.valid == [True, False]
    assert r.errors == [RecordError(1, "/s/a/b", "maximum", "Must be <= 2, got 3")]


SLICE_TYPES = [
    (pa.int64(), [1, None, -3, 4, 5]),
    (pa.int8(), [1, None, -3, 4, 5]),
    (pa.uint64(), [2**64 - 1, None, 3, 4, 5]),
    (pa.float32(), [0.5, None, 1.5, 2.0, -1.0]),
    (pa.float64(), [0.5, None, 1e300, 2.0, -1.0]),
    (pa.bool_(), [True, None, False, True, False]),
    (pa.string(), ["a", None, "é", "", "abc"]),
    (pa.large_string(), ["a", None, "é", "", "abc"]),
    (pa.string_view(), ["a", None, "é", "long enough to leave the view", "abc"]),
    (pa.dictionary(pa.int32(), pa.string()), ["a", None, "b", "a", "c"]),
    (pa.list_(pa.int64()), [[1], None, [], [2, None], [3, 4, 5]]),
    (pa.large_list(pa.string()), [["a"], None, [], ["b", None], ["c"]]),
    (pa.list_(pa.int64(), 2), [[1, 2], None, [3, None], [4, 5], [6, 7]]),
    (pa.struct([pa.field("x", pa.int64()), pa.field("y", pa.string())]),
     [{"x": 1, "y": "a"}, None, {"x": None, "y": "b"}, {"x": 4, "y": None}, {"x": 5, "y": "c"}]),
    (NESTED, [{"a": {"b": 1}}, None, {"a": None}, {"a": {"b": None}}, {"a": {"b": 5}}]),
    (pa.list_(NESTED), [[{"a": {"b": 1}}], None, [None, {"a": None}], [], [{"a": {"b": 5}}]]),
    (pa.struct([pa.field("l", pa.list_(NESTED))]),
     [{"l": [{"a": {"b": 1}}]}, None, {"l": None}, {"l": [None, {"a": {"b": 4}}]}, {"l": []}]),
    (pa.null(), [None] * 5),
    (pa.binary(), [b"x", None, b"", b"y", b"z"]),
]


@pytest.mark.parametrize(("arrow_type", "column"), SLICE_TYPES, ids=[str(t) for t, _ in SLICE_TYPES])
def test_sliced_tables_of_every_column_type_match_the_dict_path(arrow_type: Any, column: list[Any]) -> None:
    table = pa.table({"c": pa.array(column, arrow_type)})
    for offset, length in [(0, 5), (1, 3), (2, 3), (4, 1), (5, 0), (1, 1)]:
        part = table.slice(offset, length)
        first = part.column("c").to_pylist()[:1]
        # Valid where the value equals the first row's: a row read from the wrong place fails.
        schema = {"properties": {"c": {"const": first[0]}}} if first and arrow_type != pa.binary() else {}
        v = Validator(schema, adapt=False)
        for null_as_absent in (False, True):
            records = part.to_pylist()
            if null_as_absent:
                records = [absent_nulls(r) for r in records]
            expected = outcome(v.validate_batch(records))
            assert outcome(v.validate_arrow(part, null_as_absent=null_as_absent)) == expected
            assert outcome(v.validate_arrow(chunked(table, [offset, offset + length]).slice(offset, length),
                                            null_as_absent=null_as_absent)) == expected
        if first:
            assert v.validate_arrow(part).valid[0] is True


def test_chunked_columns_with_empty_chunks() -> None:
    c = pa.chunked_array([pa.array([], NESTED), pa.array([{"a": {"b": 1}}, None], NESTED),
                          pa.array([], NESTED), pa.array([{"a": None}], NESTED), pa.array([], NESTED)])
    table = pa.table({"c": c})
    assert table.column("c").num_chunks == 5
    v = Validator({"properties": {"c": {"required": ["a"], "properties": {"a": {"required": ["b"]}}}}},
                  adapt=False)
    r = v.validate_arrow(table, batch_size=1, micro_batch_size=1, threads=1)
    assert r.valid == [True, True, True]
    r = Validator({"properties": {"c": {"type": "object", "properties": {"a": {"type": "object"}}}}},
                  adapt=False).validate_arrow(table)
    assert r.errors == [
        RecordError(1, "/c", "type", "Expected `object`, got `null`"),
        RecordError(2, "/c/a", "type", "Expected `object`, got `null`"),
    ]


def test_dictionary_columns_with_null_dictionaries() -> None:
    all_null_keys = pa.DictionaryArray.from_arrays(pa.array([None, None], pa.int32()), pa.array([], pa.string()))
    null_values = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array([None, "a"], pa.string()))
    null_dictionary = pa.DictionaryArray.from_arrays(pa.array([0, None], pa.int32()), pa.array([None], pa.null()))
    table = pa.table({"k": all_null_keys, "v": null_values, "n": null_dictionary})
    schema = {"properties": {"k": {"type": "string"}, "v": {"type": "string"}, "n": {"type": "null"}}}
    v = Validator(schema, adapt=False)
    r = v.validate_arrow(table)
    assert r.errors == [
        RecordError(0, "/k", "type", "Expected `string`, got `null`"),
        RecordError(0, "/v", "type", "Expected `string`, got `null`"),
        RecordError(1, "/k", "type", "Expected `string`, got `null`"),
    ]
    assert outcome(r) == outcome(v.validate_batch(table.to_pylist()))
    for part in (table.slice(1, 1), chunked(table, [1])):
        assert outcome(v.validate_arrow(part)) == outcome(v.validate_batch(part.to_pylist()))


@pytest.mark.parametrize("ends_type", ["int16", "int32", "int64"])
def test_run_end_encoded_columns_read_as_their_values(ends_type: str) -> None:
    """Before, a run-end encoded column was a value JSON has none for (``got `value```) in
    every row; each row now reads its run's value, nulls and slices included, at any depth."""
    ends = pa.array([3, 5, 9], getattr(pa, ends_type)())
    a = pa.RunEndEncodedArray.from_arrays(ends, pa.array([1, None, 7]))
    s = pa.RunEndEncodedArray.from_arrays(ends, pa.array(["x", "yy", None]))
    inner = pa.StructArray.from_arrays([a], ["a"])
    table = pa.table({"a": a, "s": s, "in": inner})
    schema = {"properties": {
        "a": {"type": ["integer", "null"], "maximum": 5}, "s": {"type": "string", "maxLength": 1},
        "in": {"properties": {"a": {"type": "integer"}}}}}
    v = Validator(schema, adapt=False)
    assert table.column("a").to_pylist() == [1, 1, 1, None, None, 7, 7, 7, 7]
    for part in (table, table.slice(2, 5), table.slice(4), table.slice(9), chunked(table, [1, 4])):
        for null_as_absent in (False, True):
            records = part.to_pylist()
            if null_as_absent:
                records = [absent_nulls(r) for r in records]
            expected = outcome(v.validate_batch(records))
            for config in ({}, {"batch_size": 2, "micro_batch_size": 1, "threads": 2}):
                got = v.validate_arrow(part, null_as_absent=null_as_absent, **config)
                assert outcome(got) == expected


def test_the_last_rows_of_a_long_run_end_encoded_column_read_their_run() -> None:
    """2**24 rows in two runs, the last ten read through a slice (the Rust unit test
    ``a_run_end_encoded_column_is_read_run_by_run_whatever_its_length`` checks that rows are
    looked up in the runs, not spelled out one by one)."""
    n = 1 << 24
    typ = pa.run_end_encoded(pa.int64(), pa.int64())
    column = pa.RunEndEncodedArray.from_buffers(
        typ, n, [None], 0, 0, [pa.array([3, n], pa.int64()), pa.array([1, -1])]
    )
    v = Validator({"properties": {"a": {"minimum": 0}}}, adapt=False)
    r = v.validate_arrow(pa.table({"a": column}).slice(n - 10), errors=False)
    assert r.valid == [False] * 10


# -- exact results ----------------------------------------------------------------------------

PEOPLE = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "address": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]+$"}},
        },
    },
}

PEOPLE_ROWS = [
    {"name": "ann", "age": 3, "tags": ["a"], "address": {"city": "Oslo", "zip": "0150"}},
    {"name": "", "age": -1, "tags": ["a", "b", "c"], "address": {"city": None, "zip": "x1"}},
    {"name": None, "age": None, "tags": None, "address": None},
]


def people() -> Any:
    return pa.Table.from_pylist(PEOPLE_ROWS)


def test_nested_errors_are_exact() -> None:
    r = Validator(PEOPLE, adapt=False).validate_arrow(people())
    assert r.valid == [True, False, False]
    assert r.errors == [
        RecordError(1, "/name", "minLength", "String shorter than 1 character, got \"\""),
        RecordError(1, "/age", "minimum", "Must be >= 0, got -1"),
        RecordError(1, "/tags", "maxItems", "Array has more than 2 items, got 3"),
        RecordError(1, "/address/city", "type", "Expected `string`, got `null`"),
        RecordError(1, "/address/zip", "pattern", "String does not match `^[0-9]+$`, got \"x1\""),
        RecordError(2, "/name", "type", "Expected `string`, got `null`"),
        RecordError(2, "/age", "type", "Expected `integer`, got `null`"),
        RecordError(2, "/tags", "type", "Expected `array`, got `null`"),
        RecordError(2, "/address", "type", "Expected `object`, got `null`"),
    ]


def test_null_as_absent_reads_a_null_as_a_missing_property() -> None:
    r = Validator(PEOPLE, adapt=False).validate_arrow(people(), null_as_absent=True)
    assert r.valid == [True, False, False]
    assert r.errors == [
        RecordError(1, "/name", "minLength", "String shorter than 1 character, got \"\""),
        RecordError(1, "/age", "minimum", "Must be >= 0, got -1"),
        RecordError(1, "/tags", "maxItems", "Array has more than 2 items, got 3"),
        RecordError(1, "/address", "required", "Missing required property `city`"),
        RecordError(1, "/address/zip", "pattern", "String does not match `^[0-9]+$`, got \"x1\""),
        RecordError(2, "", "required", "Missing required property `name`"),
        RecordError(2, "", "required", "Missing required property `age`"),
    ]


def test_null_as_absent_is_a_bool() -> None:
    # bool("false") is True: it would have read every null as absent.
    with pytest.raises(TypeError, match=r"^`null_as_absent` must be True or False, got 'false'$"):
        Validator(PEOPLE, adapt=False).validate_arrow(people(), null_as_absent="false")


def test_dictionary_encoded_and_chunked_columns() -> None:
    colour = pa.chunked_array(
        [pa.array(["red", "blue"]).dictionary_encode(), pa.array(["green", None, "red"]).dictionary_encode()]
    )
    table = pa.table({"colour": colour})
    assert table.column("colour").num_chunks == 2
    r = Validator({"properties": {"colour": {"enum": ["red", "blue"]}}}, adapt=False).validate_arrow(
        table, batch_size=2, micro_batch_size=1, threads=2
    )
    assert r.valid == [True, True, False, False, True]
    assert r.errors == [
        RecordError(2, "/colour", "enum", 'Expected one of "red", "blue", got "green"'),
        RecordError(3, "/colour", "enum", 'Expected one of "red", "blue", got null'),
    ]
    assert r.stats.chunks == 3


def test_types_json_has_no_value_for_are_named_as_python_names_them() -> None:
    import datetime

    table = pa.table({"when": pa.array([datetime.date(2020, 1, 2)]), "blob": pa.array([b"x"])})
    v = Validator({"properties": {"when": {"type": "string"}, "blob": {"type": "string"}}}, adapt=False)
    r = v.validate_arrow(table)
    assert r.valid == [False]
    assert r.errors == [
        RecordError(0, "/when", "json", "Expected a JSON value, got `date`"),
        RecordError(0, "/blob", "json", "Expected a JSON value, got `bytes`"),
    ]
    assert r.errors == v.validate_batch(table.to_pylist()).errors


def test_unsigned_64_bit_beyond_int64_and_float32() -> None:
    table = pa.table({"u": pa.array([2**64 - 1, 5], pa.uint64()), "f": pa.array([0.1, 2.0], pa.float32())})
    schema = {"properties": {"u": {"maximum": 2**63}, "f": {"type": "integer"}}}
    r = Validator(schema, adapt=False).validate_arrow(table)
    assert r.errors == [
        RecordError(0, "/u", "maximum", "Must be <= 9223372036854775808, got 18446744073709551615"),
        RecordError(0, "/f", "type", "Expected `integer`, got `number` 0.10000000149011612"),
    ]
    assert r.errors == Validator(schema, adapt=False).validate_batch(table.to_pylist()).errors


def test_empty_table_and_empty_batches() -> None:
    v = Validator({"required": ["a"]}, adapt=False)
    empty = pa.table({"a": pa.array([], pa.int64())})
    assert v.validate_arrow(empty).valid == []
    reader = pa.RecordBatchReader.from_batches(
        empty.schema, [pa.record_batch([pa.array([], pa.int64())], names=["a"]), pa.record_batch([pa.array([1])], names=["a"])]
    )
    r = v.validate_arrow(reader)
    assert (r.valid, r.errors) == ([True], [])


def test_profile_input_kind_is_arrow_and_selection_falls_back_to_the_heuristic() -> None:
    r = Validator(PEOPLE).validate_arrow(people())
    assert r.config.source == "heuristic"
    from satya_adapt._validator import ArrowSource

    v = Validator(PEOPLE, adapt=False)
    kind, n = ArrowSource(people().__arrow_c_stream__(), False).profile(v._core, 3)[4:6]
    assert (kind, n) == ("arrow", 3)


def test_polars_and_pandas_frames() -> None:
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    v = Validator(PEOPLE, adapt=False)
    expected = v.validate_arrow(people())
    frame = pl.DataFrame(PEOPLE_ROWS)
    got = v.validate_arrow(frame)
    assert (got.valid, got.errors) == (expected.valid, expected.errors)
    flat = [{"name": r["name"], "age": r["age"]} for r in PEOPLE_ROWS]
    got = v.validate_arrow(pd.DataFrame(flat).astype({"age": "Int64"}))
    assert got.valid == [True, False, False]
    assert [e.message for e in got.errors][:2] == [
        "String shorter than 1 character, got \"\"",
        "Must be >= 0, got -1",
    ]


def test_polars_columns_of_the_null_type_are_read_as_nulls() -> None:
    # Polars exports its Null type with a buffer the C data interface gives it none of: the
    # reader refused "tags: List(Null)" (a column of empty lists) and "n: Null".
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {"id": [1, 2], "tags": [[], [None]], "n": [None, None], "s": [{"x": None}, None],
         "fixed": [[None, None], [None, None]]},
        schema_overrides={"fixed": pl.Array(pl.Null, 2)},
    )  # fmt: skip
    schema = {"properties": {"tags": {"items": {"type": "null"}, "maxItems": 0},
                             "n": {"type": "null"}, "s": {"type": ["object", "null"]}}}  # fmt: skip
    v = Validator(schema, adapt=False)
    got = v.validate_arrow(frame)
    expected = v.validate_batch(frame.to_dicts())
    assert (got.valid, got.errors) == (expected.valid, expected.errors)
    assert got.valid == [True, False]


def test_polars_128_bit_integers_are_refused_with_what_to_do() -> None:
    # The reader's own message named the type "_pli128" and no more.
    pl = pytest.importorskip("polars")
    if not hasattr(pl, "Int128"):
        pytest.skip("Polars without Int128")
    frame = pl.DataFrame({"a": pl.Series([1, 2**100], dtype=pl.Int128)})
    with pytest.raises(InputError, match=r"column `a` \(Int128\) holds Polars' 128-bit"):
        Validator({}, adapt=False).validate_arrow(frame)
    assert Validator({}, adapt=False).validate_batch(frame.to_dicts()).valid == [True, True]


def test_arrow_data_is_explained_as_validate_arrow_reads_it() -> None:
    # explain(table) profiled a table's columns (a DataFrame's column names) as dict records,
    # and input_kind="arrow" was refused.
    pl = pytest.importorskip("polars")
    v = Validator(PEOPLE)
    table = pa.table({"name": ["x" * 20] * 5000, "age": list(range(5000))})
    for data in (table, table.to_batches()[0], pl.from_arrow(table)):
        explained = v.explain(data)
        assert explained["profile"]["input_kind"] == "arrow", type(data)
        assert explained["profile"]["n"] == 5000
        assert explained["config"] == v.validate_arrow(data).config._asdict()
        assert v.profile(data, input_kind="arrow") == v.profile(data)
    with pytest.raises(ValueError, match="'dicts', 'json', 'ndjson' or 'arrow'"):
        v.profile(table, input_kind="parquet")


def test_budgets_apply_to_arrow_data_neither_in_explain_nor_in_the_call() -> None:
    # explain(table) said a validator's budget cut batch_size to 50; validate_arrow ran 20000.
    v = Validator(PEOPLE, memory_budget="10KiB", max_pause="1us")
    table = pa.table({"name": ["x" * 20] * 20000, "age": list(range(20000))})
    explained = v.explain(table)
    assert explained["budget"] is None
    assert explained["config"] == v.validate_arrow(table).config._asdict()


def test_arrow_data_given_as_records_is_refused_with_the_way() -> None:
    # Iterated, a pandas DataFrame gave its column names as records: 1 record, "invalid".
    pd = pytest.importorskip("pandas")
    v = Validator(PEOPLE, adapt=False)
    for data in (pa.table({"age": [1]}), pd.DataFrame({"age": [1]})):
        for call in (v.validate_batch, v.validate, lambda d: list(v.iter_validate(d))):
            with pytest.raises(TypeError, match=r"got Arrow data .*`validate_arrow\(data\)`"):
                call(data)


def test_one_column_is_no_table() -> None:
    pl = pytest.importorskip("polars")
    v = Validator({}, adapt=False)
    for column in (pa.chunked_array([[1, 2]]), pa.array([1]), pl.Series([1])):
        with pytest.raises(TypeError, match="got one column .* make a table of it"):
            v.validate_arrow(column)
    # An array of structs is rows.
    assert v.validate_arrow(pa.array([{"a": 1}, {"a": 2}])).valid == [True, True]


def test_columns_that_repeat_a_name_read_as_json_text_that_repeats_a_key() -> None:
    """As the README says: the name once, with its last column (as JSON text that repeats a
    key is read, and as `to_pylist()` makes a table's rows), in a table and in a struct."""
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array(["s", None]), pa.array([0, 0])],
                                 names=["x", "x", "y"])  # fmt: skip
    text = b'[{"x": 1, "x": "s", "y": 0}, {"x": 2, "x": null, "y": 0}]'
    assert table.to_pylist() == json.loads(text)
    nested = pa.table({"o": pa.StructArray.from_arrays([pa.array([1, 2]), pa.array(["s", None])],
                                                       names=["x", "x"])})  # fmt: skip
    nested_text = b'[{"o": {"x": 1, "x": "s"}}, {"o": {"x": 2, "x": null}}]'
    cases = [
        ({"properties": {"x": {"type": "string"}}}, [True, False]),
        ({"maxProperties": 2}, [True, True]),
        ({"minProperties": 3}, [False, False]),
        ({"additionalProperties": {"type": ["string", "integer"]}}, [True, False]),
        ({"propertyNames": {"enum": ["x", "y"]}}, [True, True]),
    ]
    for schema, valid in cases:
        v = Validator(schema, adapt=False)
        assert v.validate_arrow(table).valid == valid == v.validate_json(text).valid, schema
        inner = Validator({"properties": {"o": {**schema, "propertyNames": {"const": "x"}}}},
                          adapt=False)  # fmt: skip
        assert inner.validate_arrow(nested).valid == inner.validate_json(nested_text).valid, schema
    for null_as_absent in (True, False):  # a null last column is an absent property
        v = Validator({"required": ["x"]}, adapt=False)
        got = v.validate_arrow(table, null_as_absent=null_as_absent).valid
        assert got == [True, not null_as_absent]


def test_the_bool8_extension_is_read_as_booleans() -> None:
    # Its int8 storage was read as numbers: `"type": "boolean"` failed what to_pylist() passes.
    if not hasattr(pa, "bool8"):
        pytest.skip("pyarrow without the bool8 extension type")
    flags = pa.array([1, 0, None, -3], pa.int8()).cast(pa.bool8())
    table = pa.table({
        "ok": flags,
        "s": pa.StructArray.from_arrays([flags], names=["f"]),
        "l": pa.array([[1], [0, 1], [], None], pa.list_(pa.int8())).cast(pa.list_(pa.bool8())),
    })  # fmt: skip
    for schema in (
        {"properties": {"ok": {"type": ["boolean", "null"]}}},
        {"properties": {"ok": {"const": True}}},
        {"properties": {"s": {"properties": {"f": {"type": "boolean"}}}}},
        {"properties": {"l": {"items": {"type": "boolean"}, "contains": {"const": False}}}},
    ):
        v = Validator(schema, adapt=False)
        got, expected = v.validate_arrow(table), v.validate_batch(table.to_pylist())
        assert (got.valid, got.errors) == (expected.valid, expected.errors), schema


def test_the_uuid_extension_is_named_as_to_pylist_gives_it() -> None:
    # Its 16-byte storage was named `bytes`; `to_pylist()` gives `UUID` objects, which no JSON
    # type takes either: the same verdicts, now the same messages as validate_batch's.
    import uuid

    ids = [uuid.UUID(int=5), None, uuid.UUID(int=2**128 - 1)]
    column = pa.array([u.bytes if u else None for u in ids], pa.uuid())
    table = pa.table({"u": column, "l": pa.ListArray.from_arrays(pa.array([0, 1, 1, 3], pa.int32()), column)})
    assert table.to_pylist()[0]["u"] == ids[0]
    for schema in (
        {"properties": {"u": {"type": "string", "format": "uuid"}}},
        {"properties": {"u": {"format": "uuid"}, "l": {"items": {"type": ["string", "null"]}}}},
        {"properties": {"u": {"const": str(ids[0])}}},
        {"properties": {"u": {}, "l": {"maxItems": 1}}},
    ):
        v = Validator(schema, adapt=False)
        got, expected = v.validate_arrow(table), v.validate_batch(table.to_pylist())
        assert (got.valid, got.errors) == (expected.valid, expected.errors), schema
    r = Validator({"properties": {"u": {"type": "string", "format": "uuid"}}}, adapt=False).validate_arrow(table)
    assert r.valid == [False, False, False]
    assert r.errors[0] == RecordError(0, "/u", "json", "Expected a JSON value, got `UUID`")


def test_with_validity_lists_every_error_of_each_row() -> None:
    # With the validator's max_errors=1, the second invalid row's errors were an empty list.
    v = Validator({"properties": {"a": {"maximum": 1}}}, max_errors=1, adapt=False)
    table = with_validity(v, pa.table({"a": [1, 2, 3]}), errors_column="e")
    assert [len(e) for e in table["e"].to_pylist()] == [0, 1, 1]
    with pytest.raises(ValueError, match="both `v`"):
        with_validity(v, pa.table({"a": [1]}), column="v", errors_column="v")


@pytest.mark.parametrize("column", [[1, "x", 2.5], [{"x": 1}, [1], 3]])
def test_a_pandas_column_of_mixed_kinds_is_an_input_error_that_says_what_to_do(column: Any) -> None:
    # pyarrow's ArrowInvalid came through as it was ("Could not convert 'x' with type str").
    pd = pytest.importorskip("pandas")
    v = Validator({"properties": {"a": {"type": ["integer", "string"]}}}, adapt=False)
    frame = pd.DataFrame({"a": column})
    for call in (v.validate_arrow, lambda d: with_validity(v, d)):
        with pytest.raises(InputError) as info:
            call(frame)
        message = str(info.value)
        assert message.startswith("`data` cannot be read as Arrow: ")
        assert "column a" in message
        assert message.endswith("validate the rows as dicts instead, validate_batch(df.to_dict('records'))")
        assert type(info.value.__cause__).__module__.startswith("pyarrow")
    # What it says to do works.
    assert len(v.validate_batch(frame.to_dict("records")).valid) == 3


def test_a_table_of_rows_without_columns_is_rows_of_empty_objects() -> None:
    # arrow-rs refused a batch of no columns ("must either specify a row count or at
    # least one column"): an InputError for what is a list of `{}`.
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"a": [1, 2, 3]}).drop_columns(["a"])
    needs_a = Validator({"type": "object", "required": ["a"]})
    for threads in (1, 2):
        got = needs_a.validate_arrow(table, threads=threads, batch_size=2, micro_batch_size=1)
        expected = needs_a.validate_batch([{}, {}, {}], threads=threads)
        assert (got.valid, got.errors) == (expected.valid, expected.errors)
        assert got.valid == [False] * 3
    assert Validator({"type": "object"}).validate_arrow(table).valid == [True] * 3
    assert with_validity(needs_a, table).column("valid").to_pylist() == [False] * 3


# -- list views: read in place, each row its own view of the items ---------------------------

#: JSON Schemas of arrays, each applied to a list view column and to one nested in a struct
#: and in a list.
LIST_VIEW_SCHEMAS = [
    {"type": "array"},
    {"items": {"maximum": 1}},
    {"items": {"type": "integer"}},
    {"minItems": 2},
    {"maxItems": 1},
    {"uniqueItems": True},
    {"contains": {"const": 1}},
    {"contains": {"type": "null"}, "minContains": 2},
    {"prefixItems": [{"const": 0}, {"maximum": 1}]},
    {"prefixItems": [{"type": "integer"}], "items": False},
    {"items": {"uniqueItems": True, "maxItems": 2}},
]


@st.composite
def list_view_columns(draw: Any) -> Any:
    """A list view (or large list view) array over a few items: views that overlap, come in
    any order, are empty or null (a null row's view may be anything in range); items that are
    integers with nulls, or list views themselves."""
    items = pa.array(draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=8)), pa.int64())
    if draw(st.booleans()):
        items = draw(list_view_columns())
    rows = draw(st.integers(0, 7))
    offsets, sizes = [], []
    for _ in range(rows):
        start = draw(st.integers(0, len(items)))
        offsets.append(start)
        sizes.append(draw(st.integers(0, len(items) - start)))
    mask = pa.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), pa.bool_())
    large = draw(st.booleans())
    kind = pa.LargeListViewArray if large else pa.ListViewArray
    width = pa.int64() if large else pa.int32()
    return kind.from_arrays(pa.array(offsets, width), pa.array(sizes, width), items, mask=mask)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(list_view_columns(), st.sampled_from(LIST_VIEW_SCHEMAS), configurations(), st.data())
def test_list_views_match_the_dict_path(view: Any, schema: Any, config: dict[str, int], data: Any) -> None:
    # Read in place (`offsets[i]..offsets[i] + sizes[i]` of the items), at the top, in a
    # struct and in a list, sliced and chunked: as `validate_batch(table.to_pylist())`.
    n = len(view)
    table = pa.table({
        "v": view,
        "s": pa.StructArray.from_arrays([view], names=["in"]),
        "l": pa.ListArray.from_arrays(pa.array([0, *range(1, n + 1)], pa.int32()), view),
    })  # fmt: skip
    start = data.draw(st.integers(0, n))
    length = data.draw(st.integers(0, n - start))
    cuts = sorted(data.draw(st.lists(st.integers(0, length), max_size=2)))
    part = chunked(table.slice(start, length), cuts)
    full = {"properties": {"v": schema, "s": {"properties": {"in": schema}}, "l": {"items": schema}}}
    v = Validator(full, adapt=False)
    expected = outcome(v.validate_batch(part.to_pylist()))
    assert outcome(v.validate_arrow(part, **config)) == expected
    reader = pa.RecordBatchReader.from_batches(part.schema, part.to_batches())
    assert outcome(v.validate_arrow(reader)) == expected


def test_list_views_in_dictionaries_runs_and_unions_read_as_their_values() -> None:
    import pyarrow.compute as pc

    views = pa.array([[1], [2, 1], None], pa.list_view(pa.int64()))
    table = pa.table({
        "d": pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 1], pa.int32()), views),
        "r": pc.run_end_encode(pa.array([[1], [1], [2, 1], None], pa.large_list_view(pa.int64()))),
        "f": pa.FixedSizeListArray.from_arrays(pa.array([[1], [2], [1, 1], [3]], pa.list_view(pa.int8())), 1),
    })  # fmt: skip
    for schema in ({"items": {"maximum": 1}}, {"items": {"items": {"maximum": 1}}}, {"minItems": 1}):
        v = Validator({"properties": {"d": schema, "r": schema, "f": schema}}, adapt=False)
        assert outcome(v.validate_arrow(table)) == outcome(v.validate_batch(table.to_pylist()))
    union = pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()), [pa.array([[1], [2]], pa.list_view(pa.int64())),
                                                                    pa.array([1, 2])])
    r = Validator({}, adapt=False).validate_arrow(pa.table({"u": union}))
    assert r.valid == [True, True]


def _views(offsets: list[int], sizes: list[int], *, large: bool = False, validity: Any = None) -> Any:
    """A list view array over the items [1, 2, 3], its views as given, unchecked."""
    width = pa.int64() if large else pa.int32()
    kind = pa.large_list_view(pa.int64()) if large else pa.list_view(pa.int64())
    buffers = [validity, pa.array(offsets, width).buffers()[1], pa.array(sizes, width).buffers()[1]]
    return pa.Array.from_buffers(kind, len(offsets), buffers, children=[pa.array([1, 2, 3])])


HOSTILE_VIEWS = [
    ([0, 2], [1, 2], False, "offset 2, size 2"),
    ([0, 4], [1, 0], False, "offset 4, size 0"),
    ([0, 1], [1, -1], False, "offset 1, size -1"),
    ([0, -1], [1, 1], False, "offset -1, size 1"),
    ([0, 2**31 - 1], [1, 2**31 - 1], False, "offset 2147483647, size 2147483647"),
    ([0, 2**63 - 1], [1, 2**63 - 1], True, "offset 9223372036854775807, size 9223372036854775807"),
    ([0, 1], [1, -(2**63)], True, "offset 1, size -9223372036854775808"),
]


@pytest.mark.parametrize(("offsets", "sizes", "large", "why"), HOSTILE_VIEWS, ids=[h[3] for h in HOSTILE_VIEWS])
def test_a_list_view_past_its_items_is_an_input_error_naming_the_column(
    offsets: list[int], sizes: list[int], large: bool, why: str, capfd: Any
) -> None:
    # A view the producer gave past the items (or negative, or overflowing) was read from
    # wherever it pointed: each view a row reads is checked, with checked arithmetic.
    bad = _views(offsets, sizes, large=large)
    with pytest.raises(pa.ArrowInvalid):
        bad.validate(full=True)
    v = Validator({"items": {"maximum": 9}}, adapt=False)
    for table, column in [
        (pa.table({"c": bad}), "c"),
        (pa.table({"s": pa.StructArray.from_arrays([bad], names=["in"])}), "s"),
        (pa.table({"l": pa.ListArray.from_arrays(pa.array([0, 1, 2], pa.int32()), bad)}), "l"),
    ]:
        for source in (table, _Producer(pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))):
            with pytest.raises(InputError) as info:
                v.validate_arrow(source)
            assert str(info.value) == (f"invalid Arrow data in column `{column}`: Invalid argument error: the list"
                                       f" view at row 1 ({why}) is not within its 3 items")
        # The batch is checked in the rows it holds: without row 1, it reads.
        assert v.validate_arrow(table.slice(0, 1)).valid == [True]
    # Under a null row a view is not read, and may be anything.
    null_row = _views(offsets, sizes, large=large, validity=pa.array([True, False]).buffers()[1])
    table = pa.table({"c": null_row})
    assert outcome(v.validate_arrow(table)) == outcome(v.validate_batch(table.to_pylist()))
    assert capfd.readouterr().err == ""


class _HandMadeStream:
    """An Arrow C stream of no batches whose schema is built here field by field (ctypes):
    what no library exports, such as one C struct that is the child of many fields."""

    def __init__(self, levels: int, *, shared: bool) -> None:
        import ctypes as c

        class Schema(c.Structure):
            pass

        release = c.CFUNCTYPE(None, c.POINTER(Schema))
        Schema._fields_ = [
            ("format", c.c_char_p), ("name", c.c_char_p), ("metadata", c.c_char_p), ("flags", c.c_int64),
            ("n_children", c.c_int64), ("children", c.POINTER(c.POINTER(Schema))),
            ("dictionary", c.POINTER(Schema)), ("release", release), ("private_data", c.c_void_p),
        ]  # fmt: skip

        class Stream(c.Structure):
            pass

        get_schema = c.CFUNCTYPE(c.c_int, c.POINTER(Stream), c.POINTER(Schema))
        get_next = c.CFUNCTYPE(c.c_int, c.POINTER(Stream), c.c_void_p)
        get_last_error = c.CFUNCTYPE(c.c_char_p, c.POINTER(Stream))
        release_stream = c.CFUNCTYPE(None, c.POINTER(Stream))
        Stream._fields_ = [("get_schema", get_schema), ("get_next", get_next),
                           ("get_last_error", get_last_error), ("release", release_stream),
                           ("private_data", c.c_void_p)]

        def unset(schema: Any) -> None:
            schema.contents.release = release()

        self.callbacks: list[Any] = [release(unset)]

        def node(format: bytes, children: list[Any]) -> Any:
            pointers = (c.POINTER(Schema) * len(children))(*[c.pointer(child) for child in children])
            self.callbacks.append(pointers)
            return Schema(format, b"f", None, 2, len(children), pointers, None, self.callbacks[0], None)

        def tree(level: int) -> Any:
            if level == 0:
                return node(b"l", [])
            if shared:
                child = tree(level - 1)
                return node(b"+s", [child, child])
            return node(b"+s", [tree(level - 1), tree(level - 1)])

        root = tree(levels)
        self.callbacks.append(root)

        def schema_of(_: Any, out: Any) -> int:
            c.memmove(out, c.byref(root), c.sizeof(Schema))
            return 0

        def end(_: Any, out: Any) -> int:
            c.memset(out, 0, 80)  # a released array: the end of the stream
            return 0

        def unset_stream(stream: Any) -> None:
            stream.contents.release = release_stream()

        self.stream = Stream(get_schema(schema_of), get_next(end), get_last_error(lambda _: None),
                             release_stream(unset_stream), None)
        new_capsule = c.pythonapi.PyCapsule_New
        new_capsule.restype, new_capsule.argtypes = c.py_object, [c.c_void_p, c.c_char_p, c.c_void_p]
        self.name = b"arrow_array_stream"
        self.new_capsule = lambda: new_capsule(c.addressof(self.stream), self.name, None)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.new_capsule()


def test_a_schema_whose_fields_share_one_child_is_refused_at_once() -> None:
    # 40 levels of two fields that are one C struct: 2^40 fields read as a tree, which the
    # schema's walk and arrow-rs's import visited one by one (days).
    import time

    v = Validator({}, adapt=False)
    assert v.validate_arrow(_HandMadeStream(3, shared=False)).valid == []
    for levels in (1, 40):
        started = time.perf_counter()
        with pytest.raises(InputError) as info:
            v.validate_arrow(_HandMadeStream(levels, shared=True))
        assert time.perf_counter() - started < 5
        path = ".".join(["f"] * levels)
        path = path if len(path) <= 40 else f"{path[:40]}... ({len(path)} characters)"
        assert str(info.value) == (f"invalid Arrow stream: column `{path}` is the schema of another field too"
                                   " (a shared child)")


def test_a_column_nested_too_deep_is_an_input_error_not_a_crash() -> None:
    # 5000 levels of structs or lists ran the import off the stack (a segmentation fault):
    # the schema is refused before anything recursive reads it. A process of its own.
    code = """
import pyarrow as pa
from satya_adapt import InputError, Validator
for kind in ("struct", "list"):
    arr = pa.array([1])
    for _ in range(5000):
        if kind == "list":
            arr = pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()), arr)
        else:
            arr = pa.StructArray.from_arrays([arr], names=["k"])
    try:
        Validator({}, adapt=False).validate_arrow(pa.table({"c": arr}))
    except InputError as e:
        print(e)
"""
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    refused = ("column `c` is nested more than 512 levels deep, which is not read: flatten it, or leave it"
               " out of the data to validate")
    assert out.stdout.splitlines() == [refused, refused]


@pytest.mark.parametrize("kind", ["struct", "list", "list_view"])
def test_columns_nested_hundreds_of_levels_still_match_the_dict_path(kind: str) -> None:
    # Below the bound on type levels, the checks still stop at 128 levels of values as the
    # dict path's do (a `depth` error).
    schema = {"$defs": {"n": {"items": {"$ref": "#/$defs/n"}, "additionalProperties": {"$ref": "#/$defs/n"},
                              "maximum": 1}}, "$ref": "#/$defs/n"}
    v = Validator(schema, adapt=False)
    for levels in (126, 300, 510):
        arr = pa.array([1, 2])
        for _ in range(levels):
            if kind == "list":
                arr = pa.ListArray.from_arrays(pa.array([0, 1, 2], pa.int32()), arr)
            elif kind == "list_view":
                arr = pa.ListViewArray.from_arrays(pa.array([1, 0], pa.int32()), pa.array([1, 1], pa.int32()), arr)
            else:
                arr = pa.StructArray.from_arrays([arr], names=["k"])
        table = pa.table({"c": arr})
        got = v.validate_arrow(table)
        assert outcome(got) == outcome(v.validate_batch(table.to_pylist()))
        assert got.errors[-1].keyword == ("maximum" if levels == 126 else "depth")


def test_a_dictionary_key_past_its_values_is_an_input_error() -> None:
    # Key 5 of two values read as the last one ("b"), silently; pyarrow's full validation
    # refuses it.
    keys = pa.DictionaryArray.from_arrays(pa.array([0, 5, 1], pa.int32()), pa.array(["a", "b"]), safe=False)
    with pytest.raises(pa.ArrowInvalid):
        keys.validate(full=True)
    with pytest.raises(InputError) as info:
        Validator({"properties": {"c": {"const": "a"}}}, adapt=False).validate_arrow(pa.table({"c": keys}))
    assert str(info.value) == ("invalid Arrow data in column `c`: Invalid argument error: Value at position 1"
                               " out of bounds: 5 (should be in [0, 1])")


ITEMS = pa.array([{"x": i, "y": {"z": i * 10}} for i in range(12)])
FIXED_SIZE_LISTS = {
    "fsl<struct>": pa.FixedSizeListArray.from_arrays(ITEMS, 2),
    "fsl<fsl<struct>>": pa.FixedSizeListArray.from_arrays(pa.FixedSizeListArray.from_arrays(ITEMS, 2), 1),
    "list<fsl<struct>>": pa.ListArray.from_arrays(pa.array([0, 1, 2, 3, 4, 5, 6], pa.int32()),
                                                  pa.FixedSizeListArray.from_arrays(ITEMS, 2)),
    "struct<fsl<struct>>": pa.StructArray.from_arrays([pa.FixedSizeListArray.from_arrays(ITEMS, 2)], names=["f"]),
}


@pytest.mark.parametrize("column", FIXED_SIZE_LISTS.values(), ids=FIXED_SIZE_LISTS.keys())
def test_sliced_fixed_size_lists_of_structs_match_the_dict_path(column: Any, capfd: Any) -> None:
    # A sliced fixed-size list of structs read the struct's offset twice: an assertion
    # (`InputError`) and a panic's backtrace on stderr.
    table = pa.table({"c": column})
    schemas = [{"properties": {"c": {"const": None}}},
               {"properties": {"c": {"items": {"properties": {"x": {"maximum": 3}}}}}}]
    for offset in range(len(column)):
        for length in range(len(column) - offset + 1):
            part = table.slice(offset, length)
            for schema in schemas:
                v = Validator(schema, adapt=False)
                assert outcome(v.validate_arrow(part)) == outcome(v.validate_batch(part.to_pylist()))
    assert capfd.readouterr().err == ""


def _strings_with_bytes(pieces: list[bytes], valid: list[bool], large: bool = False) -> Any:
    """A string array of ``pieces`` whose slots ``valid`` marks null keep their bytes."""
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece))
    kind = pa.int64() if large else pa.int32()
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), len(pieces),
                                 [pa.array(valid).buffers()[1], pa.array(offsets, kind).buffers()[1],
                                  pa.py_buffer(b"".join(pieces))], null_count=valid.count(False))


@pytest.mark.parametrize("large", [False, True])
def test_a_null_string_slot_may_hold_bytes_that_are_not_utf8(large: bool) -> None:
    """pyarrow's full validation accepts any bytes in a null slot; so does the reader (before:
    an InputError "the string at index 1 is not UTF-8" for the whole table), also under a null
    list or struct and among a dictionary's values. A row that reads such bytes is refused."""
    bad = _strings_with_bytes([b"ab", b"\xff\xfe", b"cd", b"\xc3"], [True, False, True, False], large)
    bad.validate(full=True)
    assert bad.to_pylist() == ["ab", None, "cd", None]
    lists = pa.ListArray.from_arrays(pa.array([0, 1, 3, 4], pa.int32()), bad)
    structs = pa.StructArray.from_arrays([bad], names=["s"], mask=pa.array([False, True, False, True]))
    keys = pa.DictionaryArray.from_arrays(pa.array([2, 0, None, 2], pa.int32()), bad)
    table = pa.table({"s": bad, "l": pa.concat_arrays([lists, pa.array([["x"]], lists.type)]),
                      "st": structs, "d": keys})
    for schema in ({"properties": {"s": {"type": ["string", "null"], "maxLength": 1}}},
                   {"properties": {"l": {"items": {"pattern": "^a"}}, "st": {"properties": {"s": {"const": "x"}}}}},
                   {"properties": {"d": {"enum": ["cd", None]}}, "additionalProperties": {"type": ["array", "object", "string", "null"]}}):
        v = Validator(schema, adapt=False)
        for threads in (1, 2):
            got = v.validate_arrow(table, batch_size=2, micro_batch_size=1, threads=threads)
            assert outcome(got) == outcome(v.validate_batch(table.to_pylist()))
    read = _strings_with_bytes([b"ab", b"\xff"], [True, True], large)
    with pytest.raises(InputError, match="the string at index 1 is not UTF-8"):
        Validator({}, adapt=False).validate_arrow(pa.table({"s": read}))


def _view_array(views: list[bytes], valid: list[bool], data: bytes, binary: bool = False) -> Any:
    """A string (``binary``: binary) view array of the 16-byte ``views`` over one data buffer."""
    kind = pa.binary_view() if binary else pa.string_view()
    return pa.Array.from_buffers(kind, len(views), [pa.array(valid).buffers()[1],
                                                    pa.py_buffer(b"".join(views)), pa.py_buffer(data)],
                                 null_count=valid.count(False))


def _inline(text: bytes, after: bytes = b"") -> bytes:
    return struct.pack("<I", len(text)) + (text + after).ljust(12, b"\0")[:12]


def _out_of_line(size: int, buffer: int, offset: int, prefix: bytes) -> bytes:
    return struct.pack("<I4sII", size, prefix, buffer, offset)


VIEW_DATA = b"a string that is too long to be inline" + b"\xff" * 16
#: Views that pyarrow's full validation refuses in a slot a row reads, and accepts in a null one.
BAD_VIEWS = {
    "holds bytes past its length 2": _inline(b"ab", b"\x01"),
    "names data buffer 7 of 1": _out_of_line(20, 7, 0, b"a st"),
    "reads 1000..1020 of a data buffer of 54 bytes": _out_of_line(20, 0, 1000, b"a st"),
    "does not start with its prefix": _out_of_line(20, 0, 0, b"zzzz"),
    "is not UTF-8": _out_of_line(16, 0, 38, b"\xff" * 4),
    "reads 0..4294967291": struct.pack("<i", -5) + bytes(12),
}


@pytest.mark.parametrize("why", list(BAD_VIEWS))
def test_a_null_view_slot_may_hold_anything(why: str) -> None:
    """As for strings (above): pyarrow's full validation checks only the views a row reads, and
    so does the reader (before: arrow-rs's check of every view refused the whole table); under a
    null list or struct too. A row that reads a bad view is refused, saying which and why."""
    views = [_inline(b"ab"), BAD_VIEWS[why], _out_of_line(20, 0, 0, b"a st"), BAD_VIEWS[why]]
    valid = [True, False, True, False]
    for binary in (False, True):
        if why == "is not UTF-8" and binary:
            continue
        bad = _view_array(views, valid, VIEW_DATA, binary)
        bad.validate(full=True)
        lists = pa.ListArray.from_arrays(pa.array([0, 1, 3, 4], pa.int32()), bad)
        structs = pa.StructArray.from_arrays([bad], names=["s"], mask=pa.array([False, True, False, True]))
        table = pa.table({"s": bad, "l": pa.concat_arrays([lists, pa.array([[None]], lists.type)]),
                          "st": structs})
        for schema in ({"properties": {"s": {"type": ["string", "null"], "maxLength": 2}}},
                       {"properties": {"l": {"items": {"pattern": "^ab$"}},
                                       "st": {"properties": {"s": {"maxLength": 2}}}}}):
            v = Validator(schema, adapt=False)
            for threads in (1, 2):
                got = v.validate_arrow(table, batch_size=2, micro_batch_size=1, threads=threads)
                assert outcome(got) == outcome(v.validate_batch(table.to_pylist()))
        read = _view_array([_inline(b"ab"), BAD_VIEWS[why]], [True, True], VIEW_DATA, binary)
        with pytest.raises(pa.lib.ArrowException):
            read.validate(full=True)
        what = "value" if binary else "string"
        with pytest.raises(InputError, match=f"the {what} view at index 1 {re.escape(why)}"):
            Validator({}, adapt=False).validate_arrow(pa.table({"s": read}))


def test_data_arrow_rs_panics_on_is_an_input_error_and_prints_nothing(capfd: Any, monkeypatch: Any) -> None:
    """arrow-rs panics on a union whose type ids repeat; the panic is caught (an ``InputError``)
    and nothing reaches standard error, backtrace asked for or not."""
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    codes = pa.array([3, 3], pa.int8())
    union = pa.UnionArray.from_sparse(codes, [pa.array([1, 2], pa.int32()), pa.array([5, 6], pa.int32())],
                                      type_codes=[3, 3])
    for threads in (1, 2):
        with pytest.raises(InputError) as info:
            Validator({}, adapt=False).validate_arrow(pa.table({"u": union}), threads=threads)
        assert str(info.value) == "invalid Arrow stream: duplicate type id: 3"
    assert capfd.readouterr().err == ""


class _Producer:
    """Arrow data that only exports the C stream (of ``reader``), as a library other than
    pyarrow would."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.reader.__arrow_c_stream__(requested_schema)


def test_a_batch_that_contradicts_the_stream_schema_is_an_input_error(capfd: Any) -> None:
    schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])
    good = pa.record_batch([pa.array([1]), pa.array([2])], schema=schema)
    for bad, why in [
        (pa.record_batch([pa.array([1])], names=["a"]), "it has 1 columns, where the schema has 2"),
        (pa.record_batch([pa.array([{"x": 1}]), pa.array([2])], names=["a", "b"]),
         "column `a` has 1 buffers, where its type Int64 has 2"),
    ]:
        reader = pa.RecordBatchReader.from_batches(schema, [good, bad])
        with pytest.raises(InputError) as info:
            # Through the C stream alone, as any producer other than pyarrow's reader (whose
            # batches are checked in Python first: see the next test): the reader's checks.
            Validator({}, adapt=False).validate_arrow(_Producer(reader))
        assert str(info.value) == f"record batch 1 does not match the stream's schema: {why}"
    assert capfd.readouterr().err == ""


def test_a_batch_of_another_type_than_the_stream_schema_is_an_input_error(capfd: Any) -> None:
    """The C stream carries no type per batch: int8 data under an int64 schema (which
    `from_batches` takes unchecked) was read as int64, past the end of its buffer. A pyarrow
    reader's batches are checked against its schema as they are read; the message is the
    check's own, not Arrow's wrapping of it."""
    schema = pa.schema([("a", pa.int64()), ("b", pa.list_(pa.int64()))])
    good = pa.record_batch([pa.array([1]), pa.array([[2]])], schema=schema)
    for bad, why in [
        (pa.record_batch([pa.array([1], pa.int8()), pa.array([[2]])], names=["a", "b"]),
         "column `a` is int8, where the schema has int64"),
        (pa.record_batch([pa.array([1]), pa.array([[2]], pa.list_(pa.int32()))], names=["a", "b"]),
         "column `b` is list<item: int32>, where the schema has list<item: int64>"),
    ]:
        for call in ("validate_arrow", "profile"):
            reader = pa.RecordBatchReader.from_batches(schema, [good, bad] if call == "validate_arrow" else [bad])
            with pytest.raises(InputError) as info:
                getattr(Validator({}, adapt=False), call)(reader)
            number = 1 if call == "validate_arrow" else 0
            assert str(info.value) == f"record batch {number} does not match the stream's schema: {why}"
    # A reader whose batches hold what its schema says reads as its table does.
    v = Validator({"properties": {"a": {"maximum": 1}}}, adapt=False)
    reader = pa.RecordBatchReader.from_batches(schema, [good, good])
    assert v.validate_arrow(reader).valid == [True, True]
    assert capfd.readouterr().err == ""


def test_with_validity_appends_the_columns() -> None:
    v = Validator(PEOPLE, adapt=False)
    out = with_validity(v, people(), errors_column="errors")
    assert out.column_names == ["name", "age", "tags", "address", "valid", "errors"]
    assert out.column("valid").to_pylist() == [True, False, False]
    errors = out.column("errors").to_pylist()
    assert errors[0] == []
    assert errors[2][0] == {"path": "/name", "keyword": "type", "message": "Expected `string`, got `null`"}
    assert out.filter(out["valid"]).column("name").to_pylist() == ["ann"]
    with pytest.raises(ValueError, match="^the table already has a column `name`$"):
        with_validity(v, people(), column="name")


def test_what_is_not_arrow_is_refused() -> None:
    v = Validator({}, adapt=False)
    with pytest.raises(TypeError, match="^`data` must be a pyarrow Table or RecordBatch, a pandas or Polars"):
        v.validate_arrow([{"a": 1}])

    class Wrong:
        def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
            return pa.schema([("a", pa.int64())]).__arrow_c_schema__()  # not a stream

    with pytest.raises(ValueError, match="^`__arrow_c_stream__` must return an 'arrow_array_stream' capsule"):
        v.validate_arrow(Wrong())


def test_a_failing_stream_raises_input_error() -> None:
    schema = pa.schema([("a", pa.int64())])

    def batches() -> Any:
        yield pa.record_batch([pa.array([1, 2])], schema=schema)
        raise RuntimeError("disk gone")

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with pytest.raises(InputError, match="^invalid Arrow stream: .*disk gone"):
        Validator({}, adapt=False).validate_arrow(reader)


def test_nan_and_infinity_read_as_the_dict_path_reads_them() -> None:
    table = pa.table({"x": [math.nan, math.inf, 1.0]})
    v = Validator({"properties": {"x": {"maximum": 10}}}, adapt=False)
    a, d = v.validate_arrow(table), v.validate_batch(table.to_pylist())
    assert (a.valid, a.errors) == (d.valid, d.errors)


def test_max_errors_caps_the_errors_over_the_whole_stream() -> None:
    """`max_errors` holds across record batches: the first errors of the stream are built,
    the others counted in `errors_omitted`, as for the other inputs."""
    rows = [{"id": -i, "name": "x" * (i % 3)} for i in range(200)]
    schema = {"type": "object", "properties": {"id": {"type": "integer", "minimum": 0},
                                               "name": {"type": "string", "minLength": 1}}}
    v = Validator(schema, adapt=False)
    table = chunked(pa.Table.from_pylist(rows), [10, 50, 120])
    every = v.validate_arrow(table, batch_size=16, micro_batch_size=4, threads=2)
    assert len(every.errors) > 150 and every.errors_omitted == 0
    for cap in (0, 1, 7, 40, 10**6):
        got = v.validate_arrow(table, batch_size=16, micro_batch_size=4, threads=2, max_errors=cap)
        assert outcome(got) == (outcome(every)[0], outcome(every)[1][:cap])
        assert got.errors_omitted == len(every.errors) - len(got.errors)
    assert Validator(schema, adapt=False, max_errors=5).validate_arrow(table).errors_omitted == len(every.errors) - 5


def test_a_definition_reached_along_millions_of_paths_is_checked_once_per_cell() -> None:
    # 12 references to the next definition nested 7 deep (35 million paths to the last
    # one): a record's walk remembers the verdicts of shared nodes per cell, a value of a
    # dictionary column (one cell for many rows) included.
    defs: dict[str, Any] = {f"L{i}": {"allOf": [{"$ref": f"#/$defs/L{i + 1}"}] * 12} for i in range(7)}
    defs["L7"] = {
        "properties": {"a": {"type": "integer"}, "tag": {"maxLength": 2}, "x": {"$ref": "#/$defs/L6"}}
    }
    schema = {"$defs": defs, "$ref": "#/$defs/L0"}
    rows = [
        {"a": 1, "tag": "ok", "x": {"a": 2, "tag": "ok"}},
        {"a": 1, "tag": "long", "x": {"a": 2, "tag": "long"}},
        {"a": 3, "tag": "ok", "x": {"a": 4, "tag": "long"}},
    ]
    inner = pa.struct([pa.field("a", pa.int64()), pa.field("tag", pa.dictionary(pa.int32(), pa.string()))])
    arrow_schema = pa.schema(
        [pa.field("a", pa.int64()), pa.field("tag", pa.dictionary(pa.int32(), pa.string())), pa.field("x", inner)]
    )
    table = pa.Table.from_pylist(rows, schema=arrow_schema)
    plain = Validator(schema, adapt=False)
    every = remembering_every_visit(lambda: Validator(schema, adapt=False))
    expected = outcome(plain.validate_batch(rows))
    assert expected[0] == [True, False, False]
    for v in (plain, every):
        assert outcome(v.validate_arrow(table)) == expected
        assert outcome(v.validate_arrow(table, errors=False)) == (expected[0], [])


def _zero_width_items_claimed_by_the_trillion() -> list[Any]:
    """Valid columns whose items take no memory, claimed 2**40 (or 2**41) at a time under
    null rows or between list views (the hostile-Arrow hunt of 2026-12-07)."""
    n = 2**40
    offsets = pa.array([0, n, n + 1], pa.int64()).buffers()[1]
    nulls = pa.Array.from_buffers(pa.null(), n + 1, [None])
    empty = pa.Array.from_buffers(pa.struct([]), n + 1, [None], children=[])
    columns = [
        pa.Array.from_buffers(pa.large_list(items.type), 2, [pa.py_buffer(bytes([0b10])), offsets],
                              null_count=1, children=[items])
        for items in (nulls, empty)
    ]
    rows, size = 1024, 2**31 - 1
    child = pa.Array.from_buffers(pa.null(), rows * size, [None])
    columns.append(pa.Array.from_buffers(pa.list_(pa.null(), size), rows,
                                         [pa.py_buffer(bytes(rows // 8))], null_count=rows,
                                         children=[child]))
    keys = pa.DictionaryArray.from_arrays(pa.array([], pa.int8()), pa.array(["p"]))
    none = pa.Array.from_buffers(pa.list_(keys.type, 0), n, [None], children=[keys])
    columns.append(pa.Array.from_buffers(
        pa.large_list_view(none.type), 2,
        [None, pa.array([0, n - 1], pa.int64()).buffers()[1],
         pa.array([1, 1], pa.int64()).buffers()[1]], children=[none]))
    return columns


def test_items_that_take_no_memory_are_not_mapped_one_bit_each() -> None:
    """Which items a row reads was kept as one bit an item, for every list, fixed-size list
    and list view under a null row or with gaps between views: 2**40 null items (a few bytes
    of data, valid for pyarrow) asked for 128 GiB, and the allocation aborted the process
    (SIGABRT, no exception). Now only where an item's check depends on it being read (a
    dictionary key, a list view), and those take memory of their own."""
    for column in _zero_width_items_claimed_by_the_trillion():
        column.validate(full=True)
        table = pa.table({"a": column})
        got = Validator({"type": "object"}, adapt=False).validate_arrow(table)
        assert got.all_valid and len(got) == len(column)


def test_a_value_under_hundreds_of_run_end_levels_is_read() -> None:
    """A value behind more than 128 levels of run-end encoding (or dictionaries) read as
    null: `Expected "hello", got null`, where `to_pylist()` gives it."""
    column: Any = pa.array(["hello"])
    for levels in range(1, 201):
        column = pa.Array.from_buffers(pa.run_end_encoded(pa.int32(), column.type), 1, [None],
                                       children=[pa.array([1], pa.int32()), column])
        if levels in (127, 128, 200):
            table = pa.table({"a": column})
            assert table.to_pylist() == [{"a": "hello"}]
            v = Validator({"properties": {"a": {"const": "hello"}}}, adapt=False)
            assert v.validate_arrow(table).valid == [True], levels


def test_narrow_decimals_are_refused_as_documented_and_read_once_widened() -> None:
    """docs/scaling.md said decimals read as values JSON cannot hold; decimal32 and decimal64
    are refused by the C Data importer (arrow-rs takes 128 and 256 bits only): now said so,
    with the way out (a cast to decimal128), which this checks works."""
    import decimal

    if not hasattr(pa, "decimal32"):
        pytest.skip("pyarrow without decimal32")
    v = Validator({"properties": {"a": {"type": "number"}}}, adapt=False)
    for t in (pa.decimal32(5, 2), pa.decimal64(10, 2)):
        table = pa.table({"a": pa.array([decimal.Decimal("1.25"), None], type=t)})
        with pytest.raises(InputError, match="Only 128- and 256- bit wide decimals"):
            v.validate_arrow(table)
        widened = table.cast(pa.schema([pa.field("a", pa.decimal128(t.precision, t.scale))]))
        result = v.validate_arrow(widened)
        assert result.valid == [False, False]
        assert [e.message for e in result.errors] == [
            "Expected a JSON value, got `Decimal`",
            "Expected `number`, got `null`",
        ]
