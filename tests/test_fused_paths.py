"""The fused JSON path (a verdict read straight from the bytes) gives the results of the
parsed path on the inputs its shortcuts touch: references read once, `uniqueItems`,
strings whose escapes are not decoded, non-ASCII text checked once per record, keys
compared inline; through JSON arrays, NDJSON (CRLF, blank lines, chunk boundaries) and
dicts alike.
"""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from satya_adapt import Validator

SCHEMA = {
    "$defs": {
        "user": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string"}},
        },
    },
    "type": "object",
    "required": ["user"],
    "properties": {
        "user": {"$ref": "#/$defs/user"},
        "friend": {"$ref": "#/$defs/user", "maxProperties": 2},
        "tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        "text": {"type": "string", "maxLength": 5},
        "note": {"type": "string"},
        "abcdefghijklmnopq": {"type": "integer"},
    },
    "additionalProperties": {"type": ["string", "integer", "object", "array"]},
}

#: JSON texts (not dicts: escapes written as they come) and whether each is valid.
TEXTS = [
    ('{"user":{"id":1,"name":"a\\"b\\\\c\\u00e9"},"note":"x\\ny\\u20ac\\ud83d\\ude00"}', True),
    (
        '{"user":{"id":1,"name":"caf\u00e9 \u4e2d\u6587"},"text":"\u00e9\u00e9\u00e9\u00e9\u00e9"}',
        True,
    ),
    ('{"user":{"id":1,"name":"n"},"text":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}', False),
    ('{"user":{"id":-1,"name":"n"}}', False),
    ('{"user":{"id":1}}', False),
    ('{"user":{"id":1,"name":"n"},"friend":{"id":2,"name":"m"}}', True),
    ('{"user":{"id":1,"name":"n"},"friend":{"id":2,"name":"m","x":1}}', False),
    ('{"user":{"id":1,"name":"n"},"tags":["a","b","\\u0061b"]}', True),
    ('{"user":{"id":1,"name":"n"},"tags":["a","b","\\u0061"]}', False),
    ('{"user":{"id":1,"name":"n"},"abcdefghijklmnopq":1,"abcdefghijklmnopr":null}', False),
    ('{"user":{"id":1,"name":"n"},"abcdefghijklmnopq":"s"}', False),
    ('{"user":{"id":1,"name":"n"},"\\u0075ser2":{"deep":[[[{"k":"\\t"}]]]}}', True),
]


def outcome(result) -> tuple[list[bool], list[tuple[int, str, str, str]]]:
    errors = [(e.index, e.path, e.keyword, e.message) for e in result.errors]
    return list(result.valid), errors


@pytest.mark.parametrize("threads", [1, 2])
def test_json_ndjson_and_dicts_agree_exactly(threads: int) -> None:
    v = Validator(SCHEMA, adapt=False)
    texts = [t for t, _ in TEXTS]
    want = [ok for _, ok in TEXTS]
    dicts = v.validate_batch([json.loads(t) for t in texts], threads=threads)
    array = v.validate_json(("[" + ",\n".join(texts) + "]").encode(), threads=threads)
    # CRLF line ends and blank lines between records.
    ndjson = v.validate_ndjson(("\r\n\n".join(texts) + "\r\n").encode(), threads=threads)
    assert outcome(dicts)[0] == want
    assert outcome(array) == outcome(dicts)
    assert outcome(ndjson) == outcome(dicts)
    # Chunks of every size: a record at every chunk boundary.
    for batch_size in (1, 2, 5):
        chunked = v.validate_ndjson(
            ("\n".join(texts) + "\n").encode(),
            batch_size=batch_size,
            micro_batch_size=1,
            threads=threads,
        )
        assert outcome(chunked) == outcome(dicts)


def test_errors_of_the_records_the_fused_path_leaves_to_the_parsed_path() -> None:
    v = Validator(SCHEMA, adapt=False)
    data = "\n".join(t for t, _ in TEXTS).encode()
    errors = outcome(v.validate_ndjson(data, threads=1))[1]
    # The messages of the parsed path, unchanged (the same as before the fused path's shortcuts).
    assert errors == [
        (
            2,
            "/text",
            "maxLength",
            'String longer than 5 characters, got "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"',
        ),
        (3, "/user/id", "minimum", "Must be >= 0, got -1"),
        (4, "/user", "required", "Missing required property `name`"),
        (6, "/friend", "maxProperties", "Object has more than 2 properties, got 3"),
        (8, "/tags", "uniqueItems", 'Items 0 and 2 are equal, got "a" twice'),
        (
            9,
            "/abcdefghijklmnopr",
            "type",
            "Expected one of `integer`, `string`, `array`, `object`, got `null`",
        ),
        (10, "/abcdefghijklmnopq", "type", 'Expected `integer`, got `string` "s"'),
    ]


def test_invalid_utf8_and_truncated_records_are_reported_as_before() -> None:
    v = Validator(SCHEMA, adapt=False)
    good = '{"user":{"id":1,"name":"\u00e9"}}'.encode()
    bad_utf8 = b'{"user":{"id":1,"name":"\xc3\xa9\\n\xff"}}'
    truncated = b'{"user":{"id":1,"name":"\\u00e'
    result = v.validate_ndjson(b"\n".join([good, bad_utf8, truncated, good]), threads=1)
    assert outcome(result) == (
        [True, False, False, True],
        [
            (1, "", "json", "Invalid JSON on line 2: invalid UTF-8 at byte 28"),
            (2, "", "json", "Invalid JSON on line 3: unexpected end of input at byte 29"),
        ],
    )


#: An ``allOf`` of ``not``/``pattern`` branches (reserved words, as venvironment's 48):
#: a string that no pattern matches is decided by one search of them all.
RESERVED = ["^[aA][nN][dD]$", "^[oO][rR]$", "_tmp$", "^x.*y", "\\d{3}", "é+", "^$"]


def _reserved(merged: bool) -> dict:
    branches = [{"not": {"pattern": p}} for p in RESERVED]
    if not merged:  # another keyword in a branch: each is walked as before
        branches[0] = {"not": {"pattern": RESERVED[0], "minLength": 0}}
    return {
        "type": "object",
        "properties": {"name": {"allOf": branches}, "names": {"items": {"allOf": branches}}},
    }


def test_an_all_of_of_not_patterns_decides_as_its_branches() -> None:
    """Strings that match no pattern, one, several; non-strings (every ``not`` fails); the
    same verdicts and errors (messages, schema paths) as the branches walked one by one,
    through dicts, JSON and NDJSON."""
    values = ["name", "AND", "and", "or", "nor", "a_tmp", "x123y", "xy", "123", "café", "",
              "A" * 300 + "_tmp", "\u20ac", 5, None, ["and"], {"or": 1}]  # fmt: skip
    records = [{"name": v} for v in values] + [{"names": values}]
    merged, walked = Validator(_reserved(True)), Validator(_reserved(False))
    data = json.dumps(records).encode()
    lines = b"\n".join(json.dumps(r).encode() for r in records)

    def run(v: Validator) -> list:
        results = [v.validate_batch(records), v.validate_json(data), v.validate_ndjson(lines)]
        return [(r.valid, [(e.index, e.path, e.keyword, e.schema_path, e.message) for e in r.errors])
                for r in results]  # fmt: skip

    got, want = run(merged), run(walked)
    # The unmerged schema's first branch has one more keyword: its paths are the same.
    assert got == want
    assert got[0][0] == [True, False, False, False, True, False, False, False, False, False,
                         False, False, True, False, False, False, False, False]  # fmt: skip


def _named(forced_whole: bool) -> dict:
    """``not`` and ``if`` that read a few named entries (as most in SchemaStore do:
    chezmoi, attw, gitleaks); ``forced_whole`` adds ``minProperties: 0`` to each, the same
    verdicts, which makes the fused path parse the value whole instead."""
    extra = {"minProperties": 0} if forced_whole else {}

    def d(schema: dict) -> dict:
        return {**schema, **extra}

    return {
        "$defs": {"pair": d({"required": ["a", "b"]}), "open": {"type": "object"}},
        "type": "object",
        "properties": {
            # `not` beside the node's own keywords: decided in the node's own walk.
            "own": {
                "type": "object",
                "properties": {"a": {}, "b": {"type": "integer"}, "c": {}},
                "additionalProperties": False,
                "not": d(
                    {
                        "properties": {"a": {"const": True}, "b": {"minimum": 3}},
                        "required": ["a", "b"],
                    }
                ),
            },
            # `not` through a reference and `anyOf`, beside another reference: the named
            # entries cut out first, then the reference.
            "ref": {
                "$ref": "#/$defs/open",
                "not": d({"anyOf": [{"$ref": "#/$defs/pair"}, {"required": ["é"]}]}),
            },
            # `if`/`then`/`else` and no keyword of its own.
            "cond": {
                "if": d({"properties": {"kind": {"const": "x"}}, "required": ["kind"]}),
                "then": {"required": ["x"]},
                "else": {"properties": {"x": {"type": "string"}}},
            },
            # `if`/`then`/`else` beside the node's own keywords, the branches reading named
            # entries only: all decided in the node's own walk.
            "cond2": {
                "type": "object",
                "properties": {"kind": {"type": "string"}},
                "if": d({"properties": {"kind": {"const": "x"}}}),
                "then": {"properties": {"x": {"maximum": 5}}, "required": ["x"]},
                "else": {"properties": {"y": {"items": {"type": "integer"}}}},
            },
            # A branch that counts entries: read again, or parsed whole.
            "cond3": {
                "if": d({"required": ["kind"]}),
                "then": {"minProperties": 2},
            },
            # An `allOf` of two `if`/`then` (read more than twice: parsed whole).
            "tagged": {
                "allOf": [
                    {"if": d({"properties": {"t": {"const": 1}}}), "then": {"required": ["one"]}},
                    {"if": d({"properties": {"t": {"const": 2}}}), "then": {"required": ["two"]}},
                ],
            },
            "items": {"items": {"$ref": "#/properties/own"}},
        },
        "additionalProperties": False,
    }


#: JSON texts for `_named`'s properties: escaped and repeated keys, entries in any order.
NAMED_TEXTS = [
    '{"own":{"a":true,"b":1}}',
    '{"own":{"a":true,"b":3}}',
    '{"own":{"b":3,"a":true}}',
    '{"own":{"\\u0061":true,"b":4}}',
    '{"own":{"a":false,"b":4,"c":[{"a":true,"b":9}]}}',
    '{"own":{"a":true,"b":4,"a":false}}',
    '{"own":{"a":true}}',
    '{"own":{"a":true,"b":"s"}}',
    '{"own":{"a":true,"b":3,"d":0}}',
    '{"own":[1]}',
    '{"ref":{"a":1}}',
    '{"ref":{"a":1,"b":{"a":1,"b":2}}}',
    '{"ref":{"b":[],"a":null}}',
    '{"ref":{"\\u00e9":0}}',
    '{"ref":{"x":{"\\u00e9":0}}}',
    '{"ref":{"b":1,"b":2}}',
    '{"ref":"a"}',
    '{"cond":{"kind":"x","x":1}}',
    '{"cond":{"kind":"x"}}',
    '{"cond":{"kind":"y","x":1}}',
    '{"cond":{"kind":"y","x":"s"}}',
    '{"cond":{"x":1,"kind":"x","kind":"y"}}',
    '{"cond":{"kind":"\\u0078","x":0}}',
    '{"cond2":{"kind":"x","x":5}}',
    '{"cond2":{"kind":"x","x":6}}',
    '{"cond2":{"x":6,"kind":"z","y":[1,2]}}',
    '{"cond2":{"kind":"z","y":[1,"2"]}}',
    '{"cond2":{"kind":1}}',
    '{"cond3":{"kind":1}}',
    '{"cond3":{"kind":1,"k":2}}',
    '{"cond3":{"other":1}}',
    '{"tagged":{"t":1,"one":0}}',
    '{"tagged":{"t":2,"one":0}}',
    '{"tagged":{"t":3}}',
    '{"items":[{"a":true,"b":1},{"a":true,"b":5},{"a":1,"b":5}]}',
]


@pytest.mark.parametrize("threads", [1, 2])
def test_not_and_if_on_named_entries_decide_as_on_the_parsed_value(threads: int) -> None:
    """The fused path decides ``not``/``if`` on the entries they name (the others skipped, or
    checked by the node's own walk): the same verdicts and errors as the same keywords
    decided on the parsed value, through JSON and NDJSON, and as dicts where the text has
    no repeated key."""
    cut, whole = Validator(_named(False), adapt=False), Validator(_named(True), adapt=False)
    data = ("[" + ",".join(NAMED_TEXTS) + "]").encode()
    lines = "\n".join(NAMED_TEXTS).encode()

    def run(v: Validator) -> list:
        return [outcome(v.validate_json(data, threads=threads)),
                outcome(v.validate_ndjson(lines, threads=threads))]  # fmt: skip

    got = run(cut)
    assert got == run(whole)
    assert got[0] == got[1]
    # A repeated key counts with its last entry, as `json.loads` keeps it.
    assert got[0][0] == [True, False, False, False, True, True, True, False, False, False,
                         True, False, False, False, True, True, False, True, False, False,
                         True, False, True, True, False, True, False, False, False, True,
                         True, True, False, True, False]  # fmt: skip
    # Without repeated keys, dicts decide and explain alike.
    unique = [i for i, t in enumerate(NAMED_TEXTS) if i not in (5, 15, 21)]
    dicts = outcome(cut.validate_batch([json.loads(NAMED_TEXTS[i]) for i in unique]))
    errors = [(unique[e[0]], *e[1:]) for e in dicts[1]]
    assert [got[0][0][i] for i in unique] == dicts[0]
    assert [e for e in got[0][1] if e[0] in unique] == errors


class _Tag(str):
    """A str subclass, as an enum's value or a user's type may be."""


#: `if` schemas that compare one property with strings (decided by one lookup), each with
#: the records' tags; the same `if` with `minProperties: 0` beside it is checked in full.
_PROBES = [
    {"properties": {"kind": {"const": "a"}}},
    {"properties": {"kind": {"enum": ["a", "b"], "type": "string", "description": "x"}}},
    {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
    {"anyOf": [{"properties": {"kind": {"const": "a"}}}, {"properties": {"kind": {"const": "b"}}}]},
]


def _conditional(probe: dict, full: bool) -> dict:
    when = {**probe, "minProperties": 0} if full else probe
    branch = {"if": when, "then": {"required": ["then_mark"]}, "else": {"required": ["else_mark"]}}
    # Nested lists reach the depth limit with the conditional at every level.
    return {"allOf": [branch], "items": {"$ref": "#"}}


def _nested(depth: int, leaf: object) -> object:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


_TAGGED = [
    "a", 1, None, True, [], {}, {"kind": "a"}, {"kind": "b"}, {"kind": "ab"}, {"kind": ""},
    {"kind": 1}, {"kind": 1.0}, {"kind": None}, {"kind": False}, {"kind": ["a"]},
    {"kind": {"kind": "a"}}, {"other": "a"}, {"kind": "a", "then_mark": 1},
    {"kind": "c", "else_mark": 1}, {"x": 1, "y": 2, "z": 3, "kind": "b"},
    # Wider than a scan (dicts look the tag up by hash).
    {**{f"k{i}": i for i in range(20)}, "kind": "a"}, {f"k{i}": i for i in range(20)},
    *[_nested(d, {"kind": "a"}) for d in (126, 127, 128, 129)],
]  # fmt: skip
#: Values only dicts can hold.
_HOSTILE = [
    {"kind": _Tag("a")}, {"kind": "\ud800"}, {"kind": float("nan")}, {"kind": object()},
    {1: "a", "kind": "a"}, {_Tag("kind"): "a"}, {"kind": 10**40},
    {**{f"k{i}": i for i in range(20)}, _Tag("kind"): "b"}, {**{i: i for i in range(20)}, "kind": "a"},
]  # fmt: skip


@pytest.mark.parametrize("probe", _PROBES, ids=["const", "enum", "required", "anyOf"])
def test_if_probes_decide_as_the_full_if(probe: dict) -> None:
    """An `if` that compares one property with strings is decided by one lookup: the same
    verdicts and errors as the same `if` checked in full, on every kind of tag, through
    dicts, JSON and NDJSON, with and without errors, and at the depth limit."""
    quick, full = (Validator(_conditional(probe, f), adapt=False) for f in (False, True))
    texts = [json.dumps(r) for r in _TAGGED]
    array, lines = ("[" + ",".join(texts) + "]").encode(), "\n".join(texts).encode()

    def run(v: Validator, errors: bool) -> list:
        return [outcome(v.validate_batch(_TAGGED + _HOSTILE, errors=errors)),
                outcome(v.validate_json(array, errors=errors)),
                outcome(v.validate_ndjson(lines, errors=errors))]  # fmt: skip

    for errors in (True, False):
        assert run(quick, errors) == run(full, errors)
    # Not vacuous: each branch is taken somewhere.
    explained = run(quick, True)[0][1]
    keywords = {e[3].split("`")[1] for e in explained if e[2] == "required"}
    assert keywords == {"then_mark", "else_mark"}


#: A tagged `oneOf` (each branch a `const` on `kind`, through a reference or an `allOf`) with
#: an untagged branch that accepts any `kind`, nested in itself; the fused path walks only
#: the branches an object's tag leaves.
_UNION = {
    "$defs": {
        "a": {"properties": {"kind": {"const": "a"}, "n": {"type": "integer"}},
              "required": ["kind"], "additionalProperties": False},
        "b": {"allOf": [{"properties": {"kind": {"const": "b"}}},
                        {"properties": {"kind": {}, "s": {"type": "string"}, "more": {"$ref": "#"}},
                         "additionalProperties": False}]},
        "loose": {"properties": {"loose": {"const": True}}, "required": ["loose"]},
    },
    "oneOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"},
              {"properties": {"kind": {"const": 1}}, "required": ["kind", "one"]},
              {"$ref": "#/$defs/loose"}],
}  # fmt: skip

#: JSON texts for `_UNION`: escaped tags and keys, tags of every kind, and repeated tags,
#: which count with their last entry (the untagged branch passes whatever the first says).
UNION_TEXTS = [
    '{"kind":"a","n":1}', '{"kind":"a","n":"x"}', '{"n":1,"kind":"a"}', '{"kind":"\\u0061"}',
    '{"\\u006bind":"a"}', '{"kind":"b","s":"x"}', '{"kind":"b","s":1}', '{"kind":"c"}', '{}',
    '{"kind":1,"one":0}', '{"kind":1.0,"one":0}', '{"kind":1}', '{"kind":null}', '{"kind":["a"]}',
    '{"kind":{"kind":"a"}}', '{"loose":true}', '{"loose":true,"kind":"c"}',
    '{"loose":true,"kind":"a"}', '{"loose":true,"kind":"c","kind":"a"}',
    '{"loose":true,"kind":"a","kind":"c"}', '{"loose":true,"one":0,"kind":"c","kind":1}',
    '{"loose":true,"one":0,"kind":1,"kind":"c"}', '{"kind":"c","kind":"a","n":1}',
    '{"kind":"a","n":1,"kind":"b"}', '{"kind":"b","kind":"a","n":1}',
    '{"kind":"b","more":{"kind":"a","n":2}}', '{"kind":"b","more":{"kind":"b","more":{"kind":"c"}}}',
    '{"kind":"b","more":[]}', '[]', '"a"',
]  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2])
def test_tagged_one_of_decides_as_on_the_parsed_value(threads: int) -> None:
    """A `oneOf` whose branches are told apart by a tag: the verdicts and errors of dicts (the
    ordinary checks on ``json.loads``'s value, the last of a repeated key kept) through JSON
    and NDJSON, with and without errors, and those of jsonschema-rs."""
    array = ("[" + ",".join(UNION_TEXTS) + "]").encode()
    lines = "\n".join(UNION_TEXTS).encode()
    parsed = [json.loads(t) for t in UNION_TEXTS]
    # Without the untagged branch, the tag's first entry alone picks the branch to walk.
    tagged = {**_UNION, "oneOf": _UNION["oneOf"][:3]}
    for schema in (tagged, _UNION):
        v = Validator(schema, adapt=False)
        want = [jsonschema_rs.validator_for(schema).is_valid(r) for r in parsed]
        for errors in (True, False):
            dicts = outcome(v.validate_batch(parsed, threads=threads, errors=errors))
            assert dicts[0] == want
            assert outcome(v.validate_json(array, threads=threads, errors=errors)) == dicts
            assert outcome(v.validate_ndjson(lines, threads=threads, errors=errors)) == dicts
    # Unions nested through `more` up to the depth limit and past it (no jsonschema-rs: its
    # recursion stops earlier): JSON and NDJSON decide as dicts (and explain alike: a record
    # too deep fails parsing, which dicts do not).
    deep = []
    for depth in (125, 126, 127, 128):
        record: dict = {"kind": "a", "n": 1}
        for _ in range(depth):
            record = {"more": record, "kind": "b"}
        deep.append(record)
    texts = [json.dumps(r) for r in deep]
    v = Validator(_UNION, adapt=False)
    dicts = v.validate_batch(deep, threads=threads).valid
    for errors in (True, False):
        array = outcome(v.validate_json(("[" + ",".join(texts) + "]").encode(), errors=errors))
        assert array[0] == dicts
        assert outcome(v.validate_ndjson("\n".join(texts).encode(), errors=errors)) == array
    assert dicts == [True, True, True, False]
    # Not vacuous: every branch passes some record, and a repeated tag decides both ways.
    assert want == [True, False, True, True, True, True, False, False, True, True, True, False,
                    False, False, False, True, True, True, True, True, False, True, True, False,
                    True, True, False, False, False, False]  # fmt: skip
