"""The profile's `constraint_complexity` for the applicators, and what the selector makes of it."""

from __future__ import annotations

from typing import Any

import pytest

from satya_adapt import Schema, Validator

_FIELDS = {"a": {"type": "string"}, "b": {"type": "integer"}}
PLAIN = {"type": "object", "properties": _FIELDS}


def _complexity(doc: Any) -> float:
    return round(Schema.from_json_schema(doc).constraint_complexity, 4)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (PLAIN, 0.2727),
        ({"$defs": {"s": {"type": "string"}}, "type": "object",
          "properties": {"a": {"$ref": "#/$defs/s"}, "b": {"type": "integer"}}}, 0.3333),
        ({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                           "b": {"type": "integer"}}}, 0.5),
        ({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "null"}, {"type": "array"}]},
                                           "b": {"type": "integer"}}}, 0.5789),
        ({**PLAIN, "unevaluatedProperties": False}, 0.5789),
        ({**PLAIN, "if": {"required": ["a"]}, "then": {"required": ["b"]}}, 0.4286),
    ],
)  # fmt: skip
def test_applicators_weigh_more_than_a_plain_schema(doc: Any, expected: float) -> None:
    """Two fields, a string and an integer: each applicator adds its cost (the same values as
    the Rust unit test `applicators_raise_complexity`)."""
    assert _complexity(doc) == expected
    assert _complexity(doc) >= _complexity(PLAIN)


def test_explain_shows_the_complexity_the_selector_used() -> None:
    plain = Validator(PLAIN)
    branchy = Validator({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "null"}]},
                                                          "b": {"type": "integer"}}})  # fmt: skip
    records = [{"a": "x" * 20, "b": i} for i in range(1000)]
    low, high = plain.explain(records), branchy.explain(records)
    assert low["profile"]["constraint_complexity"] == pytest.approx(0.2727, abs=1e-4)
    assert high["profile"]["constraint_complexity"] == pytest.approx(0.5, abs=1e-4)
    # dicts stay on one thread whatever the schema costs (the heuristic's measured rule)
    assert low["config"]["threads"] == 1 and high["config"]["threads"] == 1
