"""Error messages, paths and their order, exact, for records that fail in many
ways at once: what the message builders (written piece by piece, without
`format!`) and the `RecordError` objects of the binding must keep.

The expected values were produced by the release before the builders were
rewritten; the dict path and the JSON path must both give them.
"""

import json
from typing import Any

import pytest

from satya_adapt import RecordError, Validator

LONG = "x" * 45
CASES = [
    ({"type": ["integer", "string"]}, [True, None, 1.5, [1], {"a": 1}]),
    (
        {"type": "null"},
        [
            'tab\there "q" \\ \u0001 é😀',
            "é" * 41,
            12345678901234567890123456789012345678901234567890,
            -0.5,
            False,
        ],
    ),
    (
        {"properties": {"a/b~c é": {"type": "string"}, "😀": {"items": {"type": "integer"}}}},
        [{"a/b~c é": 1, "😀": [1, "two", 3.5]}],
    ),
    (
        {
            "required": ["name", "k" * 50],
            "additionalProperties": False,
            "properties": {"name": {}, "k" * 50: {}},
        },
        [{}, {"name": 1, "ü" * 60: 2, "extra\n": 3}],
    ),
    (
        {
            "type": "string",
            "minLength": 3,
            "maxLength": 4,
            "pattern": "^[a-z]+$",
            "format": "email",
        },
        ["é", "ABCDEF", 'ab"\n', "x" * 100],
    ),
    ({"items": {"minLength": 1, "maxLength": 1}}, [["", "ab", "a"]]),
    (
        {
            "anyOf": [
                {"type": "string"},
                {
                    "properties": {"a": {"oneOf": [{"type": "integer"}, {"minimum": 5}]}},
                    "required": ["b"],
                },
            ]
        },
        [{"a": "s"}, {"a": 7}, {"a": 1.5, "b": 1}],
    ),
    (
        {
            "oneOf": [
                {
                    "properties": {"kind": {"const": k}, "v": {"type": "integer"}},
                    "required": ["kind", "v"],
                    "additionalProperties": False,
                }
                for k in "abcdef"
            ]
        },
        [
            {"kind": "c", "v": "no"},
            {"kind": "zz" * 30, "v": 1},
            {"v": 1},
            {"kind": "a", "v": 1, "w": 2},
        ],
    ),
    (
        {"not": {"type": "object"}, "enum": [1, "two", [3], {"four": 4}, None, True, 7, 8, 9]},
        [{"a": LONG}, [LONG, LONG]],
    ),
    ({"const": {"a": [1, 2]}}, [{"a": [1, 3]}, "é" * 50]),
    (
        {
            "if": {"properties": {"t": {"const": 1}}},
            "then": {"required": ["u"]},
            "else": {"properties": {"u": {"not": {}}}},
        },
        [{"t": 1}, {"t": 2, "u": 0}],
    ),
    (
        {
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {"next": {"$ref": "#/$defs/node"}, "v": {"type": "integer"}},
                }
            },
            "$ref": "#/$defs/node",
        },
        [{"v": 1, "next": {"v": "x", "next": {"v": 2.5, "next": {"next": 3}}}}],
    ),
]
EXPECTED = [
    [
        (0, "", "type", "Expected one of `integer`, `string`, got `boolean` true"),
        (1, "", "type", "Expected one of `integer`, `string`, got `null`"),
        (2, "", "type", "Expected one of `integer`, `string`, got `number` 1.5"),
        (3, "", "type", "Expected one of `integer`, `string`, got `array`"),
        (4, "", "type", "Expected one of `integer`, `string`, got `object`"),
    ],
    [
        (0, "", "type", 'Expected `null`, got `string` "tab\\there \\"q\\" \\\\ \\u0001 é😀"'),
        (
            1,
            "",
            "type",
            'Expected `null`, got `string` "éééééééééééééééééééééééééééééééééééééééé"... (41 characters)',
        ),
        (2, "", "type", "Expected `null`, got `integer` 12345678901234567890123456789012345678901234567890"),
        (3, "", "type", "Expected `null`, got `number` -0.5"),
        (4, "", "type", "Expected `null`, got `boolean` false"),
    ],
    [
        (0, "/a~1b~0c é", "type", "Expected `string`, got `integer` 1"),
        (0, "/😀/1", "type", 'Expected `integer`, got `string` "two"'),
        (0, "/😀/2", "type", "Expected `integer`, got `number` 3.5"),
    ],
    [
        (0, "", "required", "Missing required property `name`"),
        (
            0,
            "",
            "required",
            "Missing required property `kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (50 characters)`",
        ),
        (
            1,
            "",
            "required",
            "Missing required property `kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... (50 characters)`",
        ),
        (
            1,
            "",
            "additionalProperties",
            "Unexpected property `üüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüü... (60 characters)`",
        ),
        (1, "", "additionalProperties", "Unexpected property `extra\n`"),
    ],
    [
        (0, "", "minLength", 'String shorter than 3 characters, got "é"'),
        (0, "", "pattern", 'String does not match `^[a-z]+$`, got "é"'),
        (0, "", "format", 'String is not a valid `email`, got "é"'),
        (1, "", "maxLength", 'String longer than 4 characters, got "ABCDEF"'),
        (1, "", "pattern", 'String does not match `^[a-z]+$`, got "ABCDEF"'),
        (1, "", "format", 'String is not a valid `email`, got "ABCDEF"'),
        (2, "", "pattern", 'String does not match `^[a-z]+$`, got "ab\\"\\n"'),
        (2, "", "format", 'String is not a valid `email`, got "ab\\"\\n"'),
        (
            3,
            "",
            "maxLength",
            'String longer than 4 characters, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (100 characters)',
        ),
        (
            3,
            "",
            "format",
            'String is not a valid `email`, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (100 characters)',
        ),
    ],
    [
        (0, "/0", "minLength", 'String shorter than 1 character, got ""'),
        (0, "/1", "maxLength", 'String longer than 1 character, got "ab"'),
    ],
    [
        (
            0,
            "",
            "anyOf",
            "No branch of `anyOf` matched: 0: Expected `string`, got `object`; 1: Missing required property `b`",
        ),
        (
            1,
            "",
            "anyOf",
            "No branch of `anyOf` matched: 0: Expected `string`, got `object`; 1: at `/a`: More than one branch of `oneOf` matched: 0 and 1",
        ),
        (
            2,
            "",
            "anyOf",
            "No branch of `anyOf` matched: 0: Expected `string`, got `object`; 1: at `/a`: no branch of `oneOf` matched (0: Expected `integer`, got `number` 1.5; 1: Must be >= 5, got 1.5)",
        ),
    ],
    [
        (
            0,
            "",
            "oneOf",
            'No branch of `oneOf` matched: 2: at `/v`: Expected `integer`, got `string` "no"; 5 others require another `kind`',
        ),
        (
            1,
            "",
            "oneOf",
            'No branch of `oneOf` matched: none allows `kind` "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"... (60 characters)',
        ),
        (
            2,
            "",
            "oneOf",
            "No branch of `oneOf` matched: every branch requires `kind`",
        ),
        (
            3,
            "",
            "oneOf",
            "No branch of `oneOf` matched: 0: Unexpected property `w`; 5 others require another `kind`",
        ),
    ],
    [
        (
            0,
            "",
            "enum",
            'Expected one of 1, "two", [3], {"four": 4}, null, true, 7, 8, ..., got {"a": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...',
        ),
        (
            0,
            "",
            "not",
            'Value is valid against the `not` schema, got {"a": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...',
        ),
        (
            1,
            "",
            "enum",
            'Expected one of 1, "two", [3], {"four": 4}, null, true, 7, 8, ..., got ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...',
        ),
    ],
    [
        (0, "", "const", 'Expected {"a": [1, 2]}, got {"a": [1, 3]}'),
        (
            1,
            "",
            "const",
            'Expected {"a": [1, 2]}, got "éééééééééééééééééééééééééééééééééééééééé"... (50 characters)',
        ),
    ],
    [
        (0, "", "required", "Missing required property `u`"),
        (1, "/u", "not", "Value is valid against the `not` schema, got 0"),
    ],
    [
        (0, "/next/next/next/next", "type", "Expected `object`, got `integer` 3"),
        (0, "/next/next/v", "type", "Expected `integer`, got `number` 2.5"),
        (0, "/next/v", "type", 'Expected `integer`, got `string` "x"'),
    ],
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_messages_are_exact_on_the_dict_and_json_paths(case: int) -> None:
    schema, records = CASES[case]
    v = Validator(schema, adapt=False)
    for result in (
        v.validate_batch(records, threads=1),
        v.validate_json(json.dumps(records).encode(), threads=1),
    ):
        got = [(e.index, e.path, e.keyword, e.message) for e in result.errors]
        assert got == EXPECTED[case]


def test_a_long_integer_is_shown_by_one_rule_in_every_message() -> None:
    """README: a number of more than 64 digits is shown as its first 40 digits, `...` and its
    digit count. `maximum` did; `type`, `enum`, `const`, `not` and `uniqueItems` cut it again
    as any value, to 37 digits and `...`, its count lost."""
    n = 10**400
    shown = f"1{'0' * 39}... (401 digits)"
    for schema, record, message in [
        ({"maximum": 0}, n, f"Must be <= 0, got {shown}"),
        ({"type": "string"}, n, f"Expected `string`, got `integer` {shown}"),
        ({"enum": [1]}, n, f"Expected one of 1, got {shown}"),
        ({"const": 1}, n, f"Expected 1, got {shown}"),
        ({"not": {}}, n, f"Value is valid against the `not` schema, got {shown}"),
        ({"uniqueItems": True}, [n, n], f"Items 0 and 1 are equal, got {shown} twice"),
    ]:
        v = Validator(schema, adapt=False)
        for result in (v.validate_batch([record]), v.validate_json(json.dumps([record]))):
            assert [e.message for e in result.errors] == [message]


@pytest.mark.parametrize("draft", ["4", "7", "2019-09", "2020-12"])
def test_dependencies_errors_name_the_keyword_the_schema_wrote(draft: str) -> None:
    """Before: in 2019-09 and 2020-12 the array form of `dependencies` failed as keyword
    `dependentRequired` at `/dependentRequired`, a place the schema does not have."""
    schema = {"properties": {"o": {"dependencies": {"a": ["b"]}}}}
    if draft in ("2019-09", "2020-12"):
        schema["properties"]["p"] = {"dependentRequired": {"a": ["b"]}}
    v = Validator(schema, draft=draft, adapt=False)
    record = {"o": {"a": 1}, "p": {"a": 1}}
    for errors in (v.validate_batch([record]).errors, v.validate_json(json.dumps([record])).errors):
        assert [(e.keyword, e.schema_path) for e in errors] == [
            ("dependencies", "/properties/o/dependencies"),
            *([("dependentRequired", "/properties/p/dependentRequired")] if "p" in schema["properties"] else []),
        ]


def test_a_record_error_made_in_python_equals_one_the_validator_made() -> None:
    made = Validator({"type": "string"}, adapt=False).validate_batch([1], threads=1).errors[0]
    by_hand = RecordError(0, "", "type", "Expected `string`, got `integer` 1")
    assert made == by_hand
    assert not made != by_hand
    assert hash(made) == hash(by_hand)
    assert (
        repr(made)
        == repr(by_hand)
        == (
            'RecordError(index=0, path="", keyword="type", '
            'message="Expected `string`, got `integer` 1")'
        )
    )
    assert (made.keyword, by_hand.keyword) == ("type", "type")
    assert type(made.keyword) is str and type(by_hand.keyword) is str
    assert made.schema_path == "/type" and by_hand.schema_path == ""
    assert RecordError(0, "", "minLength", "m") != RecordError(0, "", "maxLength", "m")


def test_a_union_whose_tag_is_missing_checks_only_the_branches_that_do_not_require_it() -> None:
    """Branches that require the tag property fail an object without it: they are not walked,
    and the message says so; a value that is not an object is not rejected by them (``required``
    only applies to objects), and the verdicts are jsonschema-rs's."""
    import jsonschema_rs

    schema = {
        "oneOf": [
            {
                "properties": {"type": {"const": k}, "v": {"type": "integer"}},
                "required": ["type", "v"],
                "additionalProperties": False,
            }
            for k in "ab"
        ]
        + [{"properties": {"v": {"type": "string"}}, "required": ["v"]}]
    }
    v = Validator(schema)
    theirs = jsonschema_rs.validator_for(schema)
    records = [{"v": 1}, {"v": "x"}, {"type": "a", "v": 1}, {"type": "c", "v": 1}, 5, {"v": "x", "type": "a"}]
    assert [v.is_valid(r) for r in records] == [theirs.is_valid(r) for r in records]
    assert [v.is_valid(r) for r in records] == [False, True, True, False, False, True]
    assert [e.message for e in v.validate_one({"v": 1})] == [
        "No branch of `oneOf` matched: 2: at `/v`: Expected `string`, got `integer` 1; 2 others require `type`"
    ]
    assert [e.message for e in v.validate_one(5)] == ["More than one branch of `oneOf` matched: 0 and 1"]
    # Through JSON text too (the fused path reads the tag from the bytes).
    result = v.validate_json(b'[{"v": 1}, {"v": "x"}, 5]')
    assert result.valid == [False, True, False]


def test_a_branch_reason_keeps_the_value_it_names() -> None:
    """Before: each branch's reason was cut after 40 characters with the cut message's length,
    `String is not a valid `date-time`, got "... (60 characters)`, which lost the value and read
    as its length (SchemaStore's webjob-publish-settings, Azure `function` instances)."""
    v = Validator({"properties": {"t": {"oneOf": [
        {"type": "string", "format": "date-time"}, {"type": "integer"}]}}}, adapt=False)  # fmt: skip
    assert [e.message for e in v.validate_one({"t": "2018-12-14T10:00:00"})] == [
        'No branch of `oneOf` matched: 0: String is not a valid `date-time`, got'
        ' "2018-12-14T10:00:00"; 1: Expected `integer`, got `string` "2018-12-14T10:00:00"'
    ]
    # A reason longer than 120 characters ends in `...` alone.
    long_name = "p" * 150
    w = Validator({"anyOf": [{"required": [long_name]}, {"type": "string"}]}, adapt=False)
    (error,) = w.validate_one({})
    assert error.message == (
        f"No branch of `anyOf` matched: 0: Missing required property `{'p' * 40}..."
        " (150 characters)`; 1: Expected `string`, got `object`"
    )



@pytest.mark.parametrize(
    ("names", "key", "why"),
    [
        ({"pattern": "^[a-z]+$"}, "A1", 'String does not match `^[a-z]+$`, got "A1"'),
        ({"enum": ["a", "b"]}, "c", 'Expected one of "a", "b", got "c"'),
        (False, "x", 'No value is allowed here, got "x"'),
        ({"anyOf": [{"minLength": 5}, {"pattern": "^x"}]}, "ab",
         'no branch of `anyOf` matched (0: String shorter than 5 characters, got "ab";'
         ' 1: String does not match `^x`, got "ab")'),
    ],
)
def test_a_property_name_says_why_it_fails_property_names(names: Any, key: str, why: str) -> None:
    """Before: only `Property name `A1` is not valid against `propertyNames`` (never which check
    of it failed; jsonschema names it)."""
    v = Validator({"propertyNames": names}, adapt=False)
    message = f"Property name `{key}` is not valid against `propertyNames`: {why}"
    for result in (v.validate_batch([{key: 1}]), v.validate_json(json.dumps([{key: 1}])),
                   v.validate_batch([{key: 1}] * 3, threads=2, micro_batch_size=1)):
        assert [e.message for e in result.errors][:1] == [message]
    assert [e.message for e in v.validate_one({key: 1})] == [message]
