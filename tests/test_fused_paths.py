"""The fused JSON path (a verdict read straight from the bytes) gives the results of the
parsed path on the inputs its shortcuts touch: references read once, `uniqueItems`,
strings whose escapes are not decoded, non-ASCII text checked once per record, keys
compared inline; through JSON arrays, NDJSON (CRLF, blank lines, chunk boundaries) and
dicts alike.
"""

from __future__ import annotations

import json

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
