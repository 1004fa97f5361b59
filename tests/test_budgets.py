"""Budgets: the longest GIL hold a call reports, memory and pause budgets (parsing, errors,
the choice among candidates), and the models that predict ``peak_bytes`` and pauses."""

from __future__ import annotations

import json
from typing import Any

import pytest

import satya_adapt as sa

SCHEMA = {"type": "object", "properties": {"a": {"type": "string", "minLength": 3}}}


def records(n: int, size: int = 200) -> list[dict[str, Any]]:
    return [{"a": "x" * size} for _ in range(n)]


# -- max_gil_hold -------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
def test_max_gil_hold_is_reported_within_the_call(kind: str, threads: int) -> None:
    v = sa.Validator(SCHEMA, adapt=False)
    recs = records(3000)
    data: Any = recs
    if kind == "json":
        data = json.dumps(recs).encode()
    elif kind == "ndjson":
        data = b"".join(json.dumps(r).encode() + b"\n" for r in recs)
    r = v.validate(data, input_kind=kind, batch_size=1000, micro_batch_size=250, threads=threads)
    assert r.stats.chunks == 3
    assert isinstance(r.stats.max_gil_hold, float)
    assert 0.0 < r.stats.max_gil_hold <= r.stats.seconds


def test_max_gil_hold_per_chunk_of_iter_validate() -> None:
    v = sa.Validator(SCHEMA, adapt=False)
    chunks = list(v.iter_validate(records(300), batch_size=100))
    assert [c.stats.chunks for c in chunks] == [1, 1, 1]
    for c in chunks:
        assert 0.0 < c.stats.max_gil_hold <= c.stats.seconds


def test_engine_stats_field_order_keeps_old_positions() -> None:
    stats = sa.EngineStats(1, 2, 3, 4.0)
    assert stats == (1, 2, 3, 4.0, 0.0)
    assert stats._fields == ("chunks", "tasks", "peak_bytes", "seconds", "max_gil_hold")
