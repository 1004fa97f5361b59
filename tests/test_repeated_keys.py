"""JSON text whose objects repeat a key is read as ``json.loads`` reads it (the key once, where
it first comes, with its last value): every input kind gives the results the dicts of
``json.loads`` get, on random schemas and random records (seeded: the same cases each run).

Before 2026-12-07 only the property keywords read the last value; the others read every entry
(62 of 150 schemas of the first seed below gave other verdicts or errors through JSON text)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from satya_adapt import Validator

KEYS = ["a", "b", "c"]
#: Keys of large objects (past 16 entries the engine finds repeats another way).
MANY = [f"k{i}" for i in range(70)]


def _leaf(r: random.Random) -> Any:
    return r.choice([{"type": "integer"}, {"type": "string"}, {"minimum": 2}, {"const": 1},
                     {"enum": [1, "x", {"a": 1}]}, {"type": "object"}, True, False,
                     {"maxLength": 1}])  # fmt: skip


def _schema(r: random.Random, depth: int = 0) -> Any:
    """A schema of keywords that read objects (and combinators around them)."""

    def sub() -> Any:
        return _schema(r, depth + 1) if depth < 2 else _leaf(r)

    out: dict[str, Any] = {}
    for _ in range(r.randint(1, 3)):
        k = r.choice(["properties", "additionalProperties", "patternProperties", "minProperties",
                      "maxProperties", "propertyNames", "required", "dependentRequired", "const",
                      "enum", "not", "oneOf", "anyOf", "allOf", "if", "uniqueItems", "items",
                      "unevaluatedProperties", "contains", "dependentSchemas"])  # fmt: skip
        if k == "properties":
            out[k] = {x: sub() for x in r.sample(KEYS, r.randint(1, 2))}
        elif k == "propertyNames":
            out[k] = r.choice([{"maxLength": 0}, {"enum": ["a", "b"]}, {"pattern": "^a"}])
        elif k in ("additionalProperties", "unevaluatedProperties", "not", "items", "contains"):
            out[k] = sub()
        elif k == "patternProperties":
            out[k] = {r.choice(["^a", "b", "."]): sub()}
        elif k in ("minProperties", "maxProperties"):
            out[k] = r.randint(0, 3)
        elif k == "required":
            out[k] = r.sample(KEYS, r.randint(1, 2))
        elif k == "dependentRequired":
            out[k] = {r.choice(KEYS): [r.choice(KEYS)]}
        elif k == "dependentSchemas":
            out[k] = {r.choice(KEYS): sub()}
        elif k == "const":
            out[k] = r.choice([{"a": 1}, {"a": 2}, {"a": 1, "b": 2}, [{"a": 1}], 1])
        elif k == "enum":
            out[k] = [
                r.choice([{"a": 1}, {"a": 2}, {"b": 2}, {"a": 1, "b": 2}, 1]) for _ in range(2)
            ]
        elif k in ("oneOf", "anyOf", "allOf"):
            out[k] = [sub() for _ in range(r.randint(1, 3))]
        elif k == "if":
            out.update({"if": sub(), "then": sub(), "else": sub()})
        else:
            out[k] = True
    if r.random() < 0.15:
        out["contains"] = sub()
        out[r.choice(["minContains", "maxContains"])] = r.randint(0, 2)
    if r.random() < 0.25:  # a union of objects told apart by a tag, or by required names
        branches = []
        for tag in ("x", "y", "z")[: r.randint(2, 3)]:
            b: dict[str, Any] = {"type": "object", "required": ["a"],
                                 "properties": {"a": {"const": tag}, r.choice(KEYS): _leaf(r)}}  # fmt: skip
            if r.random() < 0.5:
                b["additionalProperties"] = False
            branches.append({"required": [r.choice(KEYS)]} if r.random() < 0.3 else b)
        out[r.choice(["oneOf", "anyOf"])] = branches
    if depth == 0 and r.random() < 0.1:  # a reference to a definition (of the root)
        out = {
            "$defs": {"d": out},
            "$ref": "#/$defs/d",
            **({"minProperties": 2} if r.random() < 0.5 else {}),
        }
    return out


def _text(r: random.Random, depth: int = 0) -> str:
    """A JSON value whose objects repeat keys often (some spelled with an escape)."""
    x = r.random()
    if depth >= 3 or x < 0.35:
        return r.choice(["1", "2", '"x"', '"xy"', "null", "[]", "{}"])
    if x < 0.5:
        return "[" + ",".join(_text(r, depth + 1) for _ in range(r.randint(0, 3))) + "]"
    if r.random() < 0.1:
        pool = MANY[: r.randint(10, 70)] + KEYS
        keys = [r.choice(pool) for _ in range(r.randint(17, 90))]
    else:
        keys = [r.choice(KEYS + ["x", "y"]) for _ in range(r.randint(1, 4))]

    def entry(k: str) -> str:
        name = "\\u0061" if k == "a" and r.random() < 0.2 else k
        value = f'"{r.choice("xyz")}"' if k == "a" and r.random() < 0.4 else _text(r, depth + 1)
        return f'"{name}":{value}'

    return "{" + ",".join(entry(k) for k in keys) + "}"


def _repeats_a_key(text: str) -> bool:
    found = []

    def pairs(entries: list[tuple[str, Any]]) -> dict[str, Any]:
        found.append(len({k for k, _ in entries}) < len(entries))
        return dict(entries)

    json.loads(text, object_pairs_hook=pairs)
    return any(found)


def _errors(result: Any) -> list[tuple[int, str, str]]:
    return sorted((e.index, str(e.path), e.keyword) for e in result.errors)


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_json_text_that_repeats_keys_gets_the_results_of_json_loads(seed: int) -> None:
    r = random.Random(seed)
    compared = repeated = 0
    for _ in range(150):
        schema = _schema(r)
        if r.random() < 0.3:
            defs = {"$defs": schema.pop("$defs")} if "$defs" in schema else {}
            schema = {**defs, "type": "array", "items": schema,
                      **({"uniqueItems": True} if r.random() < 0.5 else {})}  # fmt: skip
        docs = [_text(r) for _ in range(8)]
        text = "[" + ",".join(docs) + "]"
        v = Validator(schema, adapt=False)
        as_dicts = json.loads(text)
        repeated += sum(_repeats_a_key(d) for d in docs)
        want = v.validate_batch(as_dicts, errors=False).valid
        ndjson = "\n".join(docs) + "\n"
        for name, got in (
            ("json", v.validate_json(text, errors=False).valid),
            ("json, errors", v.validate_json(text).valid),
            ("ndjson", v.validate_ndjson(ndjson, errors=False).valid),
            (
                "json, 2 threads",
                v.validate_json(text, threads=2, batch_size=8, micro_batch_size=1).valid,
            ),
        ):
            assert list(got) == list(want), (name, json.dumps(schema), text)
        assert _errors(v.validate_json(text)) == _errors(v.validate_batch(as_dicts)), (
            json.dumps(schema),
            text,
        )
        compared += 1
    # Not vacuous: the records do repeat keys.
    assert compared == 150 and repeated > 150, repeated
