"""`format` (the 19 formats of 2020-12, per draft, ``formats=False``) and ECMA-262 patterns that
need the backtracking engine (look-around, back-references) with its bound on matching work."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import Schema, Validator

REPO = Path(__file__).resolve().parent.parent

#: One valid and one invalid string per format (draft 2020-12).
SAMPLES: dict[str, tuple[str, str]] = {
    "date": ("2024-02-29", "2023-02-29"),
    "time": ("23:59:60Z", "12:00:00"),
    "date-time": ("2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00"),
    "duration": ("P1Y2M3DT4H5M6S", "P1Y2D"),
    "email": ("joe.bloggs@example.com", "joe..bloggs@example.com"),
    "idn-email": ("실례@실례.테스트", "user＠example.com"),
    "hostname": ("xn--9n2bp8q.example", "xn--X.example"),
    "idn-hostname": ("실례.테스트", "〮실례.테스트"),
    "ipv4": ("192.168.0.1", "192.168.0.01"),
    "ipv6": ("1:2::192.168.0.1", "1::d6::42"),
    "uri": ("http://example.com/a?b#c", "/relative"),
    "uri-reference": ("./this:that", "1:b"),
    "iri": ("http://ƒøø.ßår/?∂éœ=πîx", "âππ"),
    "iri-reference": ("âππ", "#ƒräg\\mênt"),
    "uri-template": ("http://example.com/{term:1}/{term}", "{v:01}"),
    "uuid": ("2eb8aa08-aa98-11ea-b4aa-73b441d1638e", "2eb8aa08-aa98-11ea-b4aa-73b441d1638"),
    "json-pointer": ("/foo/bar~0/baz~1/%a", "/foo/bar~"),
    "relative-json-pointer": ("0#", "0##"),
    "regex": ("^(?=a)(?<n>b)\\k<n>$", "(?P<name>x)"),
}


def _got(value: str) -> str:
    """The received value as messages show it: JSON, cut after 40 characters."""
    if len(value) <= 40:
        return json.dumps(value, ensure_ascii=False)
    return f"{json.dumps(value[:40], ensure_ascii=False)}... ({len(value)} characters)"


def _format_message(name: str, value: str) -> str:
    return f"String is not a valid `{name}`, got {_got(value)}"


def _exceeded(pattern: str, value: str) -> str:
    return f"Matching `{pattern}` exceeded the work bound, got {_got(value)}"


def _no_match(pattern: str, value: str) -> str:
    return f"String does not match `{pattern}`, got {_got(value)}"


def _errors(result: Any) -> list[tuple[int, str, str, str]]:
    return [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def _both_paths(v: Validator, records: list[Any]) -> tuple[list[bool], list[tuple[int, str, str, str]]]:
    by_dict = v.validate_batch(records)
    by_json = v.validate_json(json.dumps(records).encode())
    assert by_json.valid == by_dict.valid
    assert _errors(by_json) == _errors(by_dict)
    return by_dict.valid, _errors(by_dict)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_format_is_asserted_by_default(name: str) -> None:
    good, bad = SAMPLES[name]
    v = Validator({"properties": {"x": {"format": name}}}, adapt=False)
    valid, errors = _both_paths(v, [{"x": good}, {"x": bad}, {"x": 12}])
    assert valid == [True, False, True]
    assert errors == [(1, "/x", "format", _format_message(name, bad))]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_formats_false_makes_every_format_an_annotation(name: str) -> None:
    good, bad = SAMPLES[name]
    v = Validator({"format": name}, adapt=False, formats=False)
    assert _both_paths(v, [good, bad]) == ([True, True], [])
    schema = Schema.from_json_schema({"format": name}, formats=False)
    assert Validator(schema, adapt=False).validate_batch([bad]).valid == [True]


def test_formats_default_to_true() -> None:
    assert inspect.signature(Validator).parameters["formats"].default is True
    assert inspect.signature(Schema.from_json_schema).parameters["formats"].default is True
    assert Validator({"format": "ipv4"}, adapt=False).validate_batch(["1.2.3"]).valid == [False]
    assert Validator({"format": "ipv4"}, adapt=False, formats=True).validate_batch(["1.2.3"]).valid == [False]


def test_formats_false_applies_to_a_document_not_a_schema() -> None:
    with pytest.raises(ValueError, match="^`draft`, `strict`, `resources` and `formats` apply to a JSON Schema"):
        Validator(Schema.from_json_schema({"format": "ipv4"}), formats=False)


def test_formats_false_keeps_other_keywords() -> None:
    v = Validator({"type": "string", "format": "email", "pattern": "^a", "maxLength": 3}, adapt=False, formats=False)
    valid, errors = _both_paths(v, ["abc", "bc", "abcd"])
    assert valid == [True, False, False]
    assert errors == [
        (1, "", "pattern", _no_match("^a", "bc")),
        (2, "", "maxLength", "String longer than 3 characters, got \"abcd\""),
    ]


def test_unknown_format_names_are_ignored() -> None:
    v = Validator({"format": "color", "properties": {"a": {"format": "Email"}}}, adapt=False)
    assert _both_paths(v, ["not a color", {"a": "not an email"}]) == ([True, True], [])


@pytest.mark.parametrize(
    ("draft", "name", "asserted"),
    [
        ("4", "json-pointer", False),
        ("6", "json-pointer", True),
        ("6", "iri", False),
        ("7", "iri", True),
        ("7", "uuid", False),
        ("7", "duration", False),
        ("2019-09", "uuid", True),
        ("2019-09", "duration", True),
        ("4", "hostname", True),
        ("4", "date", False),
    ],
)
def test_each_draft_asserts_its_own_formats(draft: str, name: str, asserted: bool) -> None:
    v = Validator({"format": name}, adapt=False, draft=draft)
    assert v.validate_batch([SAMPLES[name][1]]).valid == [not asserted]


def test_look_around_and_back_references() -> None:
    v = Validator(
        {
            "properties": {
                "password": {"type": "string", "pattern": "^(?=.*\\d)(?=.*[a-z]).{8,}$"},
                "quoted": {"pattern": "^(['\"]).*\\1$"},
                "price": {"pattern": "(?<=\\$)\\d+"},
            },
            "patternProperties": {"^(?!x-).$": {"type": "integer"}},
        },
        adapt=False,
    )
    valid, errors = _both_paths(
        v,
        [
            {"password": "abcdefg1", "quoted": "'a'", "price": "$12", "n": 1},
            {"password": "abcdefgh", "quoted": "'a\"", "price": "€12", "n": "1", "x-n": "1"},
        ],
    )
    assert valid == [True, False]
    assert errors == [
        (1, "/password", "pattern", _no_match("^(?=.*\\d)(?=.*[a-z]).{8,}$", "abcdefgh")),
        (1, "/quoted", "pattern", _no_match("^(['\"]).*\\1$", "'a\"")),
        (1, "/price", "pattern", _no_match("(?<=\\$)\\d+", "€12")),
        (1, "/n", "type", 'Expected `integer`, got `string` "1"'),
    ]


def test_a_match_over_the_work_bound_is_an_error_for_that_record() -> None:
    pattern = "^(a|aa)+(?!a)$"
    v = Validator({"properties": {"s": {"pattern": pattern}}}, adapt=False)
    valid, errors = _both_paths(v, [{"s": "a" * 20}, {"s": "a" * 64 + "!"}, {"s": "b"}])
    assert valid == [True, False, False]
    assert errors == [
        (1, "/s", "pattern", _exceeded(pattern, "a" * 64 + "!")),
        (2, "/s", "pattern", _no_match(pattern, "b")),
    ]


def test_a_string_over_8_kib_is_over_the_work_bound_for_look_around() -> None:
    pattern = "(?=a*b)a"
    v = Validator({"pattern": pattern}, adapt=False)
    valid, errors = _both_paths(v, ["a" * 8192, "a" * 8192 + "b", "aab"])
    assert valid == [False, False, True]
    assert errors == [
        (0, "", "pattern", _no_match(pattern, "a" * 8192)),
        (1, "", "pattern", _exceeded(pattern, "a" * 8192 + "b")),
    ]
    # The linear engine has no such cap.
    assert Validator({"pattern": "a*b"}, adapt=False).validate_batch(["a" * 100_000 + "b"]).valid == [True]


def test_a_key_over_the_work_bound_is_a_pattern_properties_error() -> None:
    pattern = "^(a|aa)+(?!a)$"
    v = Validator({"patternProperties": {pattern: {"type": "integer"}}, "additionalProperties": False}, adapt=False)
    key = "a" * 64 + "!"
    valid, errors = _both_paths(v, [{"aaa": 1}, {key: 1}])
    assert valid == [True, False]
    assert errors == [(1, "/" + key, "patternProperties", _exceeded(pattern, key))]


def test_catastrophic_backtracking_returns_within_seconds() -> None:
    """Nested quantifiers behind a look-around on a long input, in a subprocess so that a hang
    fails the test (after a generous timeout) instead of stalling the suite."""
    script = textwrap.dedent(
        """
        from satya_adapt import Validator
        v = Validator({"pattern": "^(?=a)(a|a)+(?!b)$"}, adapt=False)
        records = ["a" * n + "!" for n in (30, 1000, 8000)]
        print([(e.index, e.keyword, e.message) for e in v.validate_batch(records).errors])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=True
    )
    pattern = "^(?=a)(a|a)+(?!b)$"
    expected = [(i, "pattern", _exceeded(pattern, "a" * n + "!")) for i, n in enumerate((30, 1000, 8000))]
    assert done.stdout.strip() == str(expected)


def test_regex_syntax_outside_ecma_262_is_refused() -> None:
    from satya_adapt import SchemaError

    for pattern, reason in [
        ("(?i)abc", "`(?` must start `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`"),
        ("a++", "a quantifier cannot follow a quantifier"),
        ("(?>a)", "atomic groups `(?>` are not ECMA-262"),
    ]:
        with pytest.raises(SchemaError) as info:
            Validator({"pattern": pattern}, adapt=False)
        assert str(info.value) == f"`pattern` `{pattern}` is not a valid regular expression: {reason} (at the root)"
