"""The refresh job keeps every point of a cell's front that still clears its bar, each
re-measured against the default configuration in the same rounds (timings replaced by exact
fake ones: the figures are known)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from satya_adapt import archive as A
from satya_adapt.tuning import maintenance as M
from satya_adapt.tuning import measure
from satya_adapt.tuning import workloads as W
from test_maintenance import make_archive, make_cell


def point(b: int, m: int, t: int, speedup: float) -> A.FrontPoint:
    return A.FrontPoint(
        config=A.Elite(batch_size=b, micro_batch_size=m, threads=t),
        throughput=1e6 * speedup,
        speedup=speedup,
        speedup_ci_low=speedup,
        speedup_ci_high=speedup,
        peak_bytes=b,
        max_gil_hold=b / 1e6,
    )


def fake_rounds(factors: dict[str, float]) -> Any:
    """``run_rounds`` with exact times: each contender's factor times the default's."""

    def run_rounds(contenders: Any, *, rounds: int, **_: Any) -> measure.Measurement:
        names = tuple(c.name for c in contenders)
        m = measure.Measurement(names=names, items={c.name: c.items for c in contenders})
        for name in names:
            m.samples[name] = [1e6 * factors.get(name, 1.0)] * rounds
        m.orders.extend([names] * rounds)
        return m

    return run_rounds


def front_cell() -> A.Cell:
    cell = make_cell(W.PROFILES["mixed10"], "json", (256, 64, 1), ci=(1.8, 2.2))
    default = msgspec.structs.replace(point(8192, 1024, 1, 1.0), default=True)
    return msgspec.structs.replace(
        cell, front=[default, point(256, 64, 1, 2.0), point(64, 64, 1, 1.5)]
    )


@pytest.mark.parametrize(
    ("factors", "kept"),
    [
        # Both points still faster: the front keeps both, the fastest stays the elite.
        ({"elite": 0.5, "point1": 1 / 1.5}, [(256, 2.0), (64, 1.5)]),
        # The elite lost its gain, the other point did not: it becomes the elite.
        ({"elite": 1.0, "point1": 0.8}, [(64, 1.25)]),
    ],
)
def test_refresh_keeps_every_front_point_that_clears_the_bar(
    monkeypatch: pytest.MonkeyPatch, factors: dict[str, float], kept: list[tuple[int, float]]
) -> None:
    monkeypatch.setattr(M._measure, "run_rounds", fake_rounds(factors))
    archive = make_archive([front_cell()])
    report = M.refresh_archive(archive, records=300, rounds=5)
    (after,) = report.archive.cells
    assert report.cells[0].action == "kept"
    assert [(p.config.batch_size, p.default, p.speedup) for p in after.front] == [
        (8192, True, 1.0)
    ] + [(b, False, pytest.approx(s)) for b, s in kept]
    b, s = kept[0]
    assert after.elite == A.Elite(batch_size=b, micro_batch_size=64, threads=1)
    assert after.speedup == pytest.approx(s) and after.n_measurements == 5
    # Measured here: the peak bytes and GIL hold of each point are the engine's own.
    assert all(p.max_gil_hold is not None and p.peak_bytes > 0 for p in after.front)
    assert after.peak_bytes == after.front[1].peak_bytes


@pytest.mark.parametrize(
    ("point1", "front"),
    [
        # As fast as the default with less memory in flight: kept for its memory, not as
        # the elite.
        (1.0, [(8192, True), (64, False)]),
        # Slower than the margin allows (0.91 < 1 / 1.03): dropped.
        (1.1, [(8192, True)]),
    ],
)
def test_refresh_demotes_when_no_front_point_clears_the_bar(
    monkeypatch: pytest.MonkeyPatch, point1: float, front: list[tuple[int, bool]]
) -> None:
    monkeypatch.setattr(M._measure, "run_rounds", fake_rounds({"elite": 1.0, "point1": point1}))
    report = M.refresh_archive(make_archive([front_cell()]), records=300, rounds=5)
    (after,) = report.archive.cells
    assert report.cells[0].action == "demoted"
    assert after.elite == "keep_default"
    assert [(p.config.batch_size, p.default) for p in after.front] == front
