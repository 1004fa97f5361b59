"""Schemas compiled to remember every visit of every node a reference names (the core's
``check::revisit``, which a walk otherwise starts only past thousands of visits of shared
nodes in one record), and the outcomes that must not change when it does."""

from __future__ import annotations

import json
from typing import Any, Callable

from satya_adapt import Validator
from satya_adapt import _validator as core


def remembering_every_visit(make: Callable[[], Validator]) -> Validator:
    """The validator ``make`` compiles while every visit is remembered (it applies to the
    schemas compiled then, for their whole life)."""
    core._remember_every_visit(True)
    try:
        return make()
    finally:
        core._remember_every_visit(False)


def outcomes(v: Validator, docs: list[Any]) -> list[Any]:
    """Verdicts and errors (schema paths too) of ``docs`` on every path: dicts on one thread
    and on the pool (records taken apart), JSON and NDJSON text, with and without errors."""
    text = json.dumps(docs).encode()
    lines = b"".join(json.dumps(d).encode() + b"\n" for d in docs)
    results = [
        v.validate_batch(docs),
        v.validate_batch(docs, batch_size=max(2, len(docs)), micro_batch_size=1, threads=2),
        v.validate_json(text),
        v.validate_json(text, errors=False),
        v.validate_ndjson(lines, errors=False),
        v.validate_batch(docs, errors=False),
    ]
    return [
        (list(r.valid), [(e.index, e.path, e.keyword, e.message, e.schema_path) for e in r.errors])
        for r in results
    ]
