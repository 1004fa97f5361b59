"""JSON-Schema-Test-Suite conformance: every draft (4, 6, 7, 2019-09, 2020-12), required and
optional cases, with the suite's ``remotes/`` registered as ``resources``.

Every case runs through the dict path (``validate_batch``) and the JSON path
(``validate_json``), which must agree on the verdict and on the errors. A case that is
allowed to fail is a strict ``xfail`` with its reason: the cases listed in
``KNOWN_FAILURES``. ``conftest.py`` prints passed/ran per draft and per file.

Formats: satya-adapt asserts every format a draft defines (``formats=True``, the default),
and the ``optional/format`` cases run that way. The required ``format.json`` of 2019-09 and
2020-12 tests what those drafts call the default, ``format`` as an annotation: those files
run with ``formats=False`` (``tests/test_formats.py`` holds the default).

The suite is looked up as ``<repo>/../shared/jsonschema-test-suite`` (or one folder further
up, for a worktree; ``SATYA_ADAPT_SUITE`` overrides it).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revisit_helpers import outcomes, remembering_every_visit
from satya_adapt import SchemaError, SchemaWarning, Validator

REPO = Path(__file__).resolve().parent.parent
#: The checkout's sibling ``shared/`` (a worktree one level deeper also finds it).
_DEFAULT_SUITE = next(
    (p / "shared" / "jsonschema-test-suite" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()),
    REPO.parent / "shared" / "jsonschema-test-suite",
)
SUITE = Path(os.environ.get("SATYA_ADAPT_SUITE", _DEFAULT_SUITE))
#: Suite folder -> the ``draft`` argument.
DRAFTS = {
    "draft4": "4",
    "draft6": "6",
    "draft7": "7",
    "draft2019-09": "2019-09",
    "draft2020-12": "2020-12",
}
#: Drafts whose required ``format.json`` expects ``format`` to be an annotation.
ANNOTATION_DRAFTS = frozenset({"draft2019-09", "draft2020-12"})

_CONTENT = "`contentEncoding`/`contentMediaType` are annotations"
_FLOAT = "draft 4 treats 1.0 as an integer, as later drafts do"

#: ``<draft>/<file>#<group>.<test>`` -> why the case is allowed to fail.
KNOWN_FAILURES: dict[str, str] = {
    "draft4/optional/zeroTerminatedFloats.json#0.0": _FLOAT,
    "draft7/optional/content.json#0.1": _CONTENT,
    "draft7/optional/content.json#1.1": _CONTENT,
    "draft7/optional/content.json#2.1": _CONTENT,
    "draft7/optional/content.json#2.2": _CONTENT,
}


@functools.cache
def _remotes() -> dict[str, Any]:
    root = SUITE / "remotes"
    return {
        "http://localhost:1234/" + p.relative_to(root).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*.json"))
    }


def _files(draft: str) -> list[str]:
    folder = SUITE / draft
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))


@functools.cache
def _groups(draft: str, relfile: str) -> list[dict[str, Any]]:
    with open(SUITE / draft / relfile, encoding="utf-8") as fh:
        groups: list[dict[str, Any]] = json.load(fh)
    return groups


def _cases() -> Iterator[Any]:
    if not SUITE.is_dir():
        return
    for draft in DRAFTS:
        for relfile in _files(draft):
            for g, group in enumerate(_groups(draft, relfile)):
                for t, _case in enumerate(group["tests"]):
                    case_id = f"{draft}/{relfile}#{g}.{t}"
                    reason = KNOWN_FAILURES.get(case_id)
                    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
                    yield pytest.param(draft, relfile, g, t, id=case_id, marks=marks)


CASES = list(_cases())


@functools.cache
def _validator(draft: str, relfile: str, g: int) -> Validator:
    formats = not (relfile == "format.json" and draft in ANNOTATION_DRAFTS)
    return Validator(
        _groups(draft, relfile)[g]["schema"], adapt=False, draft=DRAFTS[draft], resources=_remotes(), formats=formats
    )


#: The skip reason when the suite is absent; conftest.py reports such skips loudly (and
#: SATYA_ADAPT_REQUIRE_SHARED=1, set by .ci/run, makes them failures).
MISSING = f"shared test data not found: JSON-Schema-Test-Suite at {SUITE} (set SATYA_ADAPT_SUITE)"
if not CASES:
    CASES = [pytest.param("-", "-", 0, 0, id="suite-missing")]


def test_suite_is_present() -> None:
    if not SUITE.is_dir():
        pytest.skip(MISSING)
    assert len(CASES) > 8000
    assert set(KNOWN_FAILURES) <= {c.id for c in CASES}


@pytest.mark.skipif(not SUITE.is_dir(), reason=MISSING)
@pytest.mark.parametrize(("draft", "relfile", "g", "t"), CASES)
def test_suite_case(draft: str, relfile: str, g: int, t: int) -> None:
    group = _groups(draft, relfile)[g]
    case = group["tests"][t]
    data, expected = case["data"], case["valid"]
    what = (
        f"{group['description']!r} / {case['description']!r}\n"
        f"schema: {json.dumps(group['schema'])}\ndata: {json.dumps(data)}"
    )
    v = _validator(draft, relfile, g)

    by_dict = v.validate_batch([data])
    assert by_dict.valid == [expected], f"dict path, expected valid={expected}: {what}"
    assert bool(by_dict.errors) != expected, f"dict path errors {by_dict.errors}: {what}"

    by_json = v.validate_json(json.dumps([data]).encode())
    assert by_json.valid == [expected], f"JSON path, expected valid={expected}: {what}"
    assert bool(by_json.errors) != expected, f"JSON path errors {by_json.errors}: {what}"
    assert _errors(by_json) == _errors(by_dict), f"the two paths disagree: {what}"

    # The verdicts alone: the fused walk decides failing JSON records then too.
    text = json.dumps(data).encode()
    for by_verdicts in (
        v.validate_json(b"[" + text + b"]", errors=False),
        v.validate_ndjson(text + b"\n", errors=False),
        v.validate_batch([data], errors=False),
    ):
        assert by_verdicts.valid == [expected], f"errors=False, expected valid={expected}: {what}"


GROUPS = sorted({(c.values[0], c.values[1], c.values[2]) for c in CASES if c.values[0] != "-"})


@pytest.mark.skipif(not SUITE.is_dir(), reason=MISSING)
@pytest.mark.parametrize(("draft", "relfile", "g"), GROUPS)
def test_remembering_every_visit_changes_no_outcome(draft: str, relfile: str, g: int) -> None:
    # A walk remembers the verdicts of shared nodes only past thousands of visits in one
    # record: compiled to remember all of them, each group must give the same outcomes.
    docs = [case["data"] for case in _groups(draft, relfile)[g]["tests"]]
    formats = not (relfile == "format.json" and draft in ANNOTATION_DRAFTS)
    schema = _groups(draft, relfile)[g]["schema"]
    every = remembering_every_visit(
        lambda: Validator(schema, adapt=False, draft=DRAFTS[draft], resources=_remotes(), formats=formats)
    )
    assert outcomes(every, docs) == outcomes(_validator(draft, relfile, g), docs)


def _errors(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def test_unknown_keywords_are_annotations_unless_strict() -> None:
    schema = {"type": "string", "minlength": 3, "markdownDescription": "x", "x-tag": 1}
    assert Validator(schema, adapt=False).validate_batch(["a", 1]).valid == [True, False]
    with pytest.raises(SchemaError) as info:
        Validator(schema, adapt=False, strict=True)
    assert str(info.value) == (
        "unknown keywords: `minlength` (at the root), `markdownDescription` (at the root), `x-tag` (at the root)"
    )
    assert isinstance(info.value, ValueError)


def test_keyword_named_properties_are_names_not_keywords() -> None:
    schema = {"properties": {"$ref": {"type": "string"}, "allOf": {"type": "integer"}}}
    v = Validator(schema, adapt=False, strict=True)
    assert v.validate_batch([{"$ref": "a", "allOf": 1}, {"$ref": 1}]).valid == [True, False]


def _meta(uri: str, vocabularies: dict[str, bool], draft: str = "2020-12") -> dict[str, Any]:
    return {
        "$schema": f"https://json-schema.org/draft/{draft}/schema",
        "$id": uri,
        "$vocabulary": vocabularies,
    }


_CORE = "https://json-schema.org/draft/2020-12/vocab/core"
_APPLICATOR = "https://json-schema.org/draft/2020-12/vocab/applicator"
_VALIDATION = "https://json-schema.org/draft/2020-12/vocab/validation"


def test_a_meta_schema_without_the_validation_vocabulary_makes_its_keywords_annotations() -> None:
    no_validation = _meta("https://example.com/no-validation", {_CORE: True, _APPLICATOR: True})
    schema = {
        "$schema": "https://example.com/no-validation",
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer", "minimum": 10}, "bad": False},
        # An embedded resource under a standard meta-schema keeps every vocabulary.
        "$defs": {
            "strict": {
                "$id": "https://example.com/strict",
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "string",
            }
        },
        "additionalProperties": {"$ref": "https://example.com/strict"},
    }
    records = [{"id": 1}, "not an object", {}, {"bad": 1}, {"other": 5}, {"other": "x"}]
    expected = [True, True, True, False, False, True]
    v = Validator(schema, adapt=False, resources={"https://example.com/no-validation": no_validation})
    assert v.validate_batch(records).valid == expected
    assert v.validate_json(json.dumps(records).encode()).valid == expected
    assert v.validate_batch(records, errors=False).valid == expected
    # The same schema with the standard meta-schema: every keyword asserts.
    plain = Validator({**schema, "$schema": "https://json-schema.org/draft/2020-12/schema"}, adapt=False)
    assert plain.validate_batch(records).valid == [False, False, False, False, False, False]


def test_a_meta_schema_that_requires_an_unknown_vocabulary_refuses_the_schema() -> None:
    custom = "https://example.com/vocab/custom"
    requires = _meta("https://example.com/requires", {_CORE: True, _VALIDATION: True, custom: True})
    with pytest.raises(SchemaError) as info:
        Validator(
            {"$schema": "https://example.com/requires", "type": "string"},
            adapt=False,
            resources={"https://example.com/requires": requires},
        )
    assert "requires vocabularies satya-adapt does not know: `https://example.com/vocab/custom`" in str(info.value)
    # Optional (false), it is ignored and the known vocabularies apply.
    optional = _meta("https://example.com/optional", {_CORE: True, _VALIDATION: True, custom: False})
    v = Validator(
        {"$schema": "https://example.com/optional", "type": "string"},
        adapt=False,
        resources={"https://example.com/optional": optional},
    )
    assert v.validate_batch(["a", 1]).valid == [True, False]


def test_a_custom_meta_schema_gives_its_draft() -> None:
    # Draft 7 ignores the keywords beside `$ref`; 2020-12 applies them. A custom meta-schema
    # whose own `$schema` is draft 7 makes the schemas it describes draft 7.
    meta = {"$schema": "http://json-schema.org/draft-07/schema#", "$id": "https://example.com/meta7"}
    schema = {"$schema": "https://example.com/meta7", "$ref": "#/definitions/any", "type": "string", "definitions": {"any": {}}}
    v = Validator(schema, adapt=False, resources={"https://example.com/meta7": meta})
    assert v.validate_batch(["a", 1]).valid == [True, True]
    v2020 = Validator({**schema, "$schema": "https://json-schema.org/draft/2020-12/schema"}, adapt=False)
    assert v2020.validate_batch(["a", 1]).valid == [True, False]
    # Unknown to the resources, the URI names no draft: 2020-12, as when `$schema` is absent,
    # with a warning that says so.
    with pytest.warns(SchemaWarning, match="`https://example.com/meta7` names none of the drafts"):
        unknown = Validator(schema, adapt=False)
    assert unknown.validate_batch(["a", 1]).valid == [True, False]
