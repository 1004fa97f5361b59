"""JSON-Schema-Test-Suite (draft 2020-12) conformance for the supported keyword subset.

Every case whose schema uses only supported keywords runs through the dict path
(``validate_batch``) and the JSON path (``validate_json``). ``format.json`` is skipped: it
tests ``format`` as a mere annotation, and satya-adapt asserts formats, as the suite's
``optional/format`` files expect. Cases outside the subset are collected as skipped, so
``conftest.py`` can report, per file, how many cases ran, passed and were skipped.

The suite is looked up as ``<repo>/../shared/jsonschema-test-suite`` (``SATYA_ADAPT_SUITE``
overrides it).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import satya_adapt
from satya_adapt import SchemaError, Validator

REPO = Path(__file__).resolve().parent.parent
SUITE = Path(os.environ.get("SATYA_ADAPT_SUITE", REPO.parent / "shared" / "jsonschema-test-suite"))
DRAFT = SUITE / "draft2020-12"

#: Keywords the validator implements.
SUPPORTED = frozenset(
    {
        "type", "properties", "required", "additionalProperties",
        "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "enum", "const",
        "items", "prefixItems", "minItems", "maxItems", "uniqueItems",
        "minProperties", "maxProperties",
    }
)  # fmt: skip
#: Accepted, no effect.
ANNOTATIONS = frozenset(
    {"$schema", "title", "description", "default", "examples", "$comment", "deprecated",
     "readOnly", "writeOnly"}
)  # fmt: skip

#: Top-level files that are skipped whole, with the reason.
SKIPPED_FILES = {"format.json": "tests `format` as an annotation; satya-adapt asserts formats"}
#: Optional files that are run (their schemas use only supported keywords).
OPTIONAL_FILES = [
    "optional/bignum.json",
    "optional/float-overflow.json",
    "optional/format/email.json",
    "optional/format/uri.json",
    "optional/format/uuid.json",
    "optional/format/date.json",
    "optional/format/date-time.json",
    "optional/format/ipv4.json",
    "optional/ecmascript-regex.json",
]

UNSUPPORTED_REASON = "the schema uses a keyword outside the supported subset"


def unsupported_keywords(schema: Any) -> set[str]:
    """The keywords of ``schema`` (walked recursively) that satya-adapt does not implement."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            found.add(f"<not a schema: {type(node).__name__}>")
            return
        for key, value in node.items():
            if key in ANNOTATIONS:
                continue  # values of `default`, `examples` are data, not schemas
            if key not in SUPPORTED:
                found.add(key)
            elif key == "properties":
                for sub in value.values():  # the keys are property names, not keywords
                    walk(sub)
            elif key in ("items", "additionalProperties"):
                walk(value)
            elif key == "prefixItems":
                for sub in value:
                    walk(sub)

    walk(schema)
    return found


def _suite_files() -> list[str]:
    if not DRAFT.is_dir():
        return []
    top = sorted(p.name for p in DRAFT.glob("*.json"))
    return top + [f for f in OPTIONAL_FILES if (DRAFT / f).is_file()]


@functools.cache
def _groups(relfile: str) -> list[dict[str, Any]]:
    with open(DRAFT / relfile, encoding="utf-8") as fh:
        groups: list[dict[str, Any]] = json.load(fh)
    return groups


def _cases() -> Iterator[Any]:
    for relfile in _suite_files():
        for g, group in enumerate(_groups(relfile)):
            unsupported = unsupported_keywords(group["schema"])
            for t, _ in enumerate(group["tests"]):
                case_id = f"{relfile}#{g}.{t}"
                if relfile in SKIPPED_FILES:
                    marks = [pytest.mark.skip(reason=f"{relfile} {SKIPPED_FILES[relfile]}")]
                elif unsupported:
                    marks = [pytest.mark.skip(reason=UNSUPPORTED_REASON)]
                else:
                    marks = []
                yield pytest.param(relfile, g, t, id=case_id, marks=marks)


CASES = list(_cases())


@functools.cache
def _validator(relfile: str, g: int) -> Validator:
    return Validator(_groups(relfile)[g]["schema"], adapt=False)


def test_suite_is_present() -> None:
    if not DRAFT.is_dir():
        pytest.skip(f"JSON-Schema-Test-Suite not found at {DRAFT}")
    assert len(CASES) > 1000


@pytest.mark.skipif(not DRAFT.is_dir(), reason=f"JSON-Schema-Test-Suite not found at {DRAFT}")
@pytest.mark.parametrize(("relfile", "g", "t"), CASES)
def test_suite_case(relfile: str, g: int, t: int) -> None:
    group = _groups(relfile)[g]
    case = group["tests"][t]
    data, expected = case["data"], case["valid"]
    what = (
        f"{group['description']!r} / {case['description']!r}\n"
        f"schema: {json.dumps(group['schema'])}\ndata: {json.dumps(data)}"
    )
    v = _validator(relfile, g)

    by_dict = v.validate_batch([data])
    assert by_dict.valid == [expected], f"dict path, expected valid={expected}: {what}"
    assert bool(by_dict.errors) != expected, f"dict path errors {by_dict.errors}: {what}"

    by_json = v.validate_json(json.dumps([data]).encode())
    assert by_json.valid == [expected], f"JSON path, expected valid={expected}: {what}"
    assert bool(by_json.errors) != expected, f"JSON path errors {by_json.errors}: {what}"
    assert _errors(by_json) == _errors(by_dict), f"the two paths disagree: {what}"


def _errors(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}}, "$ref"),
        ({"allOf": [{"type": "string"}, {"minLength": 1}]}, "allOf"),
        ({"type": "object", "patternProperties": {"^a": {"type": "integer"}}}, "patternProperties"),
        ({"if": {"type": "string"}, "then": {"minLength": 1}}, "if"),
        ({"properties": {"a": {"type": "array", "contains": {"const": 1}}}}, "contains"),
        ({"items": {"not": {"type": "null"}}}, "not"),
        ({"prefixItems": [{"oneOf": [{"type": "string"}]}]}, "oneOf"),
        ({"additionalProperties": {"propertyNames": {"maxLength": 3}}}, "propertyNames"),
        ({"type": "string", "minlength": 3}, "minlength"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unsupported_keyword_raises_schema_error_naming_it(
    schema: dict[str, Any], keyword: str
) -> None:
    with pytest.raises(SchemaError) as info:
        Validator(schema, adapt=False)
    assert keyword in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(SchemaError, match=re.escape(f"`{keyword}`")):
        satya_adapt.Schema.from_json_schema(schema)


def test_keyword_named_properties_are_names_not_keywords() -> None:
    schema = {"properties": {"$ref": {"type": "string"}, "allOf": {"type": "integer"}}}
    v = Validator(schema, adapt=False)
    assert v.validate_batch([{"$ref": "a", "allOf": 1}, {"$ref": 1}]).valid == [True, False]
