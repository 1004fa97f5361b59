"""Hypothesis strategies: random schemas of the supported JSON Schema subset, and records for them.

Shared by ``test_differential.py`` and ``test_invariance.py`` (imported as a sibling module;
``tests/`` has no ``__init__.py``). Records are drawn "near" their schema (typed values around
the bounds, known good and bad format strings, missing and extra properties) mixed with
arbitrary JSON, so that both valid and invalid records are common.
"""

from __future__ import annotations

import functools
import json
import operator
import os
from typing import Any

from hypothesis import strategies as st


def examples(n: int) -> int:
    """``n`` hypothesis examples, times ``$SATYA_ADAPT_EXAMPLES_SCALE`` (default 1) for long hunts."""
    return max(1, int(n * float(os.environ.get("SATYA_ADAPT_EXAMPLES_SCALE", "1"))))


#: Property names, including ones a JSON pointer must escape (`~`, `/`) and the empty name.
NAMES = ["a", "b", "id", "name", "tags", "x/y", "t~1", "", "é"]

#: Regexes both engines read the same way (ASCII classes only: no `\d`, `\w`, look-arounds).
PATTERNS = [
    "^[a-z]+$",
    "^[A-Z][a-z]*$",
    "[0-9]",
    "^a",
    "b$",
    "^[a-f0-9]{2,4}$",
    "^(ab)+$",
    "x|y",
    "^.{0,3}$",
    "",
]

FORMATS = ["email", "uri", "uuid", "date", "date-time", "ipv4"]

#: Unambiguous examples per format (valid first, then invalid), plus some cross-format noise.
FORMAT_SAMPLES: dict[str, list[str]] = {
    "email": ["joe@example.com", "a.b+c@mail.example.org", "x@y.io", "no-at-sign", "@example.com",
              "joe@", "a..b@example.com", ".a@example.com", "a b@example.com"],
    "uri": ["http://example.com/", "https://example.com/a/b?q=1#frag", "urn:isbn:0451450523",
            "mailto:joe@example.com", "ftp://ftp.is.co.za/rfc/rfc1808.txt", "//example.com",
            "/relative/path", "no scheme", "http://exa mple.com", ":no-scheme"],
    "uuid": ["2eb8aa08-aa98-11ea-b4aa-73b441d16380", "00000000-0000-0000-0000-000000000000",
             "2EB8AA08-AA98-11EA-B4AA-73B441D16380", "2eb8aa08aa9811eab4aa73b441d16380",
             "2eb8aa08-aa98-11ea-b4aa-73b441d1638", "2eb8aa08-aa98-11ea-b4aa-73b441d1638g",
             "{2eb8aa08-aa98-11ea-b4aa-73b441d16380}"],
    "date": ["2020-01-31", "2020-02-29", "1999-12-31", "2021-02-29", "2020-13-01", "2020-1-01",
             "20200131", "2020-01-32", "2020-04-31"],
    "date-time": ["2020-01-31T12:34:56Z", "2020-01-31T12:34:56.789+05:30", "1990-12-31T23:59:59-08:00",
                  "2020-01-31 12:34:56Z", "2020-01-31T25:00:00Z", "2020-01-31T12:34:56",
                  "2020-02-30T00:00:00Z", "2020-01-31T12:34:56+0530"],
    "ipv4": ["192.168.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5",
             "01.2.3.4", "1.2.3.a", " 1.2.3.4"],
}  # fmt: skip

_SMALL_INTS = st.integers(-20, 20)
_FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.0, 2.5, -3.75, 10.25, 1e-3, 99.5]),
    st.floats(-1000, 1000, allow_nan=False, allow_infinity=False),
)
_NUMBERS = st.one_of(_SMALL_INTS, _FLOATS)
_TEXT = st.one_of(
    st.text(alphabet="abcxyzAB019 -./~é", max_size=8),
    st.text(max_size=6),
    st.sampled_from([s for samples in FORMAT_SAMPLES.values() for s in samples]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _SMALL_INTS, _FLOATS, _TEXT)


@functools.cache
def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values (no NaN, no surrogates), small."""
    return st.recursive(
        _SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(NAMES), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


# -- schemas ----------------------------------------------------------------------------------


def _maybe(draw: Any, strategy: st.SearchStrategy[Any], p_absent: float = 0.6) -> Any:
    return draw(strategy) if draw(st.floats(0, 1)) >= p_absent else None


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


@st.composite
def string_schemas(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    lo = _maybe(draw, st.integers(0, 4))
    _put(out, "minLength", lo)
    _put(out, "maxLength", _maybe(draw, st.integers(lo or 0, 8)))
    _put(out, "pattern", _maybe(draw, st.sampled_from(PATTERNS), 0.7))
    _put(out, "format", _maybe(draw, st.sampled_from(FORMATS), 0.6))
    return out


@st.composite
def number_schemas(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": draw(st.sampled_from(["integer", "number"]))}
    bound = st.one_of(st.integers(-10, 10), st.sampled_from([-2.5, 0.5, 3.25]))
    lo = _maybe(draw, bound, 0.5)
    if lo is not None:
        out[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = lo
    hi = _maybe(draw, bound, 0.5)
    if hi is not None:
        out[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = hi
    _put(out, "multipleOf", _maybe(draw, st.sampled_from([1, 2, 3, 7, 0.5, 0.25]), 0.7))
    return out


@st.composite
def enum_schemas(draw: Any) -> dict[str, Any]:
    values = st.one_of(
        st.sampled_from([0, 1, 1.0, 2.5, True, False, None, "a", "", "1", [], [1], {}, {"a": 1}]),
        _SCALARS,
    )
    if draw(st.booleans()):
        return {"enum": draw(st.lists(values, min_size=1, max_size=4))}
    return {"const": draw(values)}


_SIMPLE_TYPES = ["string", "integer", "number", "boolean", "null", "array", "object"]


@st.composite
def type_schemas(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(_SIMPLE_TYPES), min_size=1, max_size=3, unique=True))
    return {"type": names[0] if len(names) == 1 and draw(st.booleans()) else names}


def leaf_schemas() -> st.SearchStrategy[Any]:
    return st.one_of(
        string_schemas(),
        number_schemas(),
        st.sampled_from([{"type": "boolean"}, {"type": "null"}, {}, True, False]),
        enum_schemas(),
        type_schemas(),
    )


@st.composite
def object_schemas(draw: Any, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    props = draw(st.dictionaries(st.sampled_from(NAMES), children, max_size=4))
    out: dict[str, Any] = {"type": "object"} if draw(st.floats(0, 1)) < 0.85 else {}
    if props or draw(st.booleans()):
        out["properties"] = props
    if props:
        required = draw(st.lists(st.sampled_from(sorted(props) + ["zz"]), max_size=3, unique=True))
        if required:
            out["required"] = required
    extra = draw(st.sampled_from([None, None, False, True, "schema"]))
    if extra == "schema":
        out["additionalProperties"] = draw(children)
    elif extra is not None:
        out["additionalProperties"] = extra
    _put(out, "minProperties", _maybe(draw, st.integers(0, 3), 0.85))
    _put(out, "maxProperties", _maybe(draw, st.integers(1, 5), 0.85))
    if draw(st.floats(0, 1)) < 0.15:
        out["patternProperties"] = draw(st.dictionaries(st.sampled_from(["^a", "b$", "^z"]), children, max_size=2))
    if draw(st.floats(0, 1)) < 0.1:
        out["propertyNames"] = {"maxLength": draw(st.integers(1, 3))}
    if props and draw(st.floats(0, 1)) < 0.1:
        out["dependentRequired"] = {draw(st.sampled_from(sorted(props))): ["zz"]}
    if props and draw(st.floats(0, 1)) < 0.1:
        out["dependentSchemas"] = {draw(st.sampled_from(sorted(props))): draw(children)}
    if draw(st.floats(0, 1)) < 0.1:
        out["unevaluatedProperties"] = draw(st.one_of(st.just(False), children))
    if draw(st.floats(0, 1)) < 0.1:
        out["title"] = "annotated"
        out["default"] = {"ignored": True}
    return out


@st.composite
def array_schemas(draw: Any, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array"}
    if draw(st.floats(0, 1)) < 0.3:
        out["prefixItems"] = draw(st.lists(children, min_size=1, max_size=3))
    if draw(st.floats(0, 1)) < 0.7:
        out["items"] = draw(children)
    lo = _maybe(draw, st.integers(0, 3), 0.7)
    _put(out, "minItems", lo)
    _put(out, "maxItems", _maybe(draw, st.integers(lo or 0, 6), 0.7))
    _put(out, "uniqueItems", _maybe(draw, st.booleans(), 0.7))
    if draw(st.floats(0, 1)) < 0.15:
        out["contains"] = draw(children)
        _put(out, "minContains", _maybe(draw, st.integers(0, 2), 0.7))
        _put(out, "maxContains", _maybe(draw, st.integers(1, 3), 0.7))
    if draw(st.floats(0, 1)) < 0.1:
        out["unevaluatedItems"] = draw(st.one_of(st.just(False), children))
    return out


@st.composite
def logic_schemas(draw: Any, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    """Combinators and conditionals over smaller schemas."""
    kind = draw(st.sampled_from(["anyOf", "oneOf", "allOf", "not", "if"]))
    if kind == "not":
        return {"not": draw(children)}
    if kind == "if":
        out = {"if": draw(children), "then": draw(children)}
        if draw(st.booleans()):
            out["else"] = draw(children)
        return out
    return {kind: draw(st.lists(children, min_size=1, max_size=3))}


@functools.cache
def schemas(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Random schemas (any shape): keywords, combinators, conditionals."""
    return st.recursive(
        leaf_schemas(),
        lambda children: st.one_of(object_schemas(children), array_schemas(children), logic_schemas(children)),
        max_leaves=max_leaves,
    )


@st.composite
def _with_refs(draw: Any, schema: st.SearchStrategy[Any], max_leaves: int) -> Any:
    """``schema`` with root ``$defs`` that some of its subschemas name by ``$ref``: a plain
    definition, and one that refers to itself (a linked list of any depth)."""
    out = draw(schema)
    if not isinstance(out, dict) or draw(st.floats(0, 1)) < 0.6:
        return out
    defs = {
        "leaf": draw(schemas(max(1, max_leaves // 2))),
        "node": {
            "type": "object",
            "properties": {"v": draw(leaf_schemas()), "next": {"$ref": "#/$defs/node"}},
        },
    }
    refs = st.sampled_from([{"$ref": "#/$defs/leaf"}, {"$ref": "#/$defs/node"}])
    props = out.get("properties")
    if isinstance(props, dict) and props:
        for name in draw(st.lists(st.sampled_from(sorted(props)), max_size=2, unique=True)):
            props[name] = draw(refs)
    else:
        out["properties"] = {"a": draw(refs)}
    if draw(st.booleans()):
        out["$ref"] = "#/$defs/leaf"  # a `$ref` next to other keywords (2020-12)
    out["$defs"] = defs
    return out


@functools.cache
def record_schemas(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Random schemas whose top level describes an object, as a record schema usually does;
    some with ``$defs`` named by ``$ref`` (see :func:`_with_refs`)."""
    return _with_refs(object_schemas(schemas(max_leaves)), max_leaves)


# -- records ----------------------------------------------------------------------------------


def values_for(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values near ``schema`` (often valid, often one rule broken) mixed with arbitrary JSON."""
    # Building strategies is what costs here, not drawing from them: one per distinct schema.
    key = (json.dumps(schema, sort_keys=True), depth)
    strategy = _VALUES.get(key)
    if strategy is None:
        strategy = _VALUES[key] = _values_for(schema, depth)
    return strategy


_VALUES: dict[tuple[str, int], st.SearchStrategy[Any]] = {}

#: Records for the self-referring ``node`` definition of :func:`_with_refs`.
_LINKED_LISTS = st.recursive(
    st.one_of(st.none(), _SCALARS),
    lambda inner: st.fixed_dictionaries({"v": _SCALARS}, optional={"next": inner}),
    max_leaves=5,
)


def _values_for(schema: Any, depth: int) -> st.SearchStrategy[Any]:
    noise = json_values(4)
    if not isinstance(schema, dict) or depth > 6:
        return noise
    guided: list[st.SearchStrategy[Any]] = []
    if schema.get("$ref") == "#/$defs/node":
        guided.append(_LINKED_LISTS)
    if "enum" in schema:
        guided.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        guided.append(st.just(schema["const"]))
    types = schema.get("type")
    types = [types] if isinstance(types, str) else (types or [])
    if not types:
        if "properties" in schema or "required" in schema:
            types = ["object"]
        elif "items" in schema or "prefixItems" in schema:
            types = ["array"]
    for name in types:
        guided.append(_typed_values(schema, name, depth))
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            guided.append(values_for(branch, depth + 1))
    for key in ("if", "then", "else"):
        if key in schema:
            guided.append(values_for(schema[key], depth + 1))
    if not guided:
        return noise
    return st.one_of(*guided, *guided, noise)  # mostly guided


def _typed_values(schema: dict[str, Any], name: str, depth: int) -> st.SearchStrategy[Any]:
    if name == "string":
        options = [st.text(alphabet="abzAZ09xy-", min_size=max(0, schema.get("minLength", 0) - 1),
                           max_size=schema.get("maxLength", 6) + 1)]  # fmt: skip
        if "format" in schema:
            options.append(st.sampled_from(FORMAT_SAMPLES[schema["format"]]))
        if "pattern" in schema:
            options.append(st.sampled_from(["abc", "Abc", "ab", "abab", "x", "a1", "ff", "0", ""]))
        return st.one_of(*options)
    if name in ("integer", "number"):
        bounds = [schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                  if k in schema]  # fmt: skip
        near = (
            [
                st.sampled_from(bounds).map(functools.partial(operator.add, d))
                for d in (-1, -0.5, 0, 0.5, 1)
            ]
            if bounds
            else []
        )
        ints = st.integers(-15, 15)
        return st.one_of(ints, *(near if name == "number" else [s.map(int) for s in near]),
                         _FLOATS if name == "number" else ints.map(float))  # fmt: skip
    if name == "boolean":
        return st.booleans()
    if name == "null":
        return st.none()
    if name == "array":
        prefix = [values_for(s, depth + 1) for s in schema.get("prefixItems", [])]
        rest = values_for(schema.get("items", {}), depth + 1)
        lo = max(0, schema.get("minItems", 0) - 1)
        hi = schema.get("maxItems", 4) + 1

        @st.composite
        def arrays(draw: Any) -> list[Any]:
            head = []
            for p in prefix[: draw(st.integers(0, len(prefix)))]:  # a loop: see python_records
                head.append(draw(p))
            tail = draw(
                st.lists(rest, min_size=max(0, lo - len(head)), max_size=max(0, hi - len(head)))
            )
            if tail and schema.get("uniqueItems") and draw(st.booleans()):
                tail.append(tail[0])  # a duplicate
            return head + tail

        return arrays()
    if name == "object":
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        extra_values = values_for(extra, depth + 1) if isinstance(extra, dict) else json_values(3)

        @st.composite
        def objects(draw: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, sub in props.items():
                if draw(st.floats(0, 1)) < 0.85:
                    out[key] = draw(values_for(sub, depth + 1))
            if draw(st.floats(0, 1)) < 0.25:
                out[draw(st.sampled_from(["extra", "zz", "a"]))] = draw(extra_values)
            return out

        return objects()
    raise AssertionError(name)


@st.composite
def schema_and_records(draw: Any, max_records: int = 12, max_leaves: int = 8) -> Any:
    """A record schema and a list of records for it (valid and invalid)."""
    schema = draw(record_schemas(max_leaves))
    records = draw(st.lists(values_for(schema), max_size=max_records))
    return schema, records
