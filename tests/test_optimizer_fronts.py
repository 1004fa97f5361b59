"""Fronts in the optimizer's search, correction and archive, driven by the fake measurer of
``test_optimizer.py`` (exact timings with no noise): which points a cell keeps, the cap, the
demotion of a front point, the correction's fresh bar, and the resume of an older state."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from satya_adapt import archive as A
from satya_adapt.selector import Selector
from satya_adapt.tuning import optimizer as O
from satya_adapt.tuning.state import FRONT_CAP, CellRecord, FrontCandidate, front_of
from test_optimizer import Effect, FakeMeasurer, FakePrepared, genes, search

MB = 1048576  # the fake's GIL hold: records per chunk / MB seconds
SIZE = 212  # bytes per record of genes("json") in the fake

A1024 = O.ConfigGenes(10, 8, 2)  # 1024/256/2: speedup 2.0
B512 = O.ConfigGenes(9, 9, 1)  # 512/512/1: speedup 1.25, less memory, longer hold
C64 = O.ConfigGenes(6, 4, 2)  # 64/16/2: speedup 2.0, least memory and hold
D64 = O.ConfigGenes(6, 6, 1)  # 64/64/1: the default's speed


def _pooled(config: Sequence[int]) -> bool:
    """The fake's pool pays for the search's candidates with two threads, not for the
    heuristic's configuration (one chunk of the 5,000 records, two threads), which the
    correction times too: these tests are about the elites."""
    return config[2] > 1 and config[0] <= 1024


def trade_offs(kind: str, config: Sequence[int]) -> float:
    """Time factors: the pool halves the time; one thread with batches of 512 takes 0.8."""
    if _pooled(config):
        return 0.5
    return 0.8 if config[0] == 512 else 1.0


def configs(front: Sequence[FrontCandidate]) -> list[O.ConfigGenes]:
    return [p.config for p in front]


def test_front_keeps_the_non_dominated_points_that_clear_the_bar_or_save_memory(
    tmp_path: Path,
) -> None:
    s = search(tmp_path, FakeMeasurer(trade_offs, noise=0.0))
    assert s.evaluate(genes("json"), A1024) == "new"
    (cell,) = s.cells.values()
    assert configs(cell.front) == [A1024]
    (a,) = cell.front
    assert (a.speedup.median, a.peak_bytes, a.max_gil_hold) == (2.0, 1024 * SIZE, 256 / MB)
    # Slower than the elite, so not the elite, but less memory: on the front.
    assert s.evaluate(genes("json", seed=2), B512) == "kept"
    assert cell.elite == A1024
    assert configs(cell.front) == [A1024, B512]
    assert [p.speedup.median for p in cell.front] == [2.0, 1.25]
    # The default's speed with less memory in flight: a memory point, never the elite.
    assert s.evaluate(genes("json", seed=3), D64) == "kept"
    assert cell.elite == A1024
    assert configs(cell.front) == [A1024, B512, D64]
    assert [p.memory for p in cell.front] == [False, False, True]
    # The default's speed with as much memory in flight as the default: not on the front.
    assert s.evaluate(genes("json", seed=5), O.ConfigGenes(14, 10, 1)) == "kept"
    assert configs(cell.front) == [A1024, B512, D64]
    # As fast as the elite with less memory and a shorter hold: it dominates both.
    assert s.evaluate(genes("json", seed=4), C64) == "kept"
    assert cell.elite == A1024  # the elite changes only on a proven speedup over it
    assert configs(cell.front) == [C64]
    assert (cell.front[0].peak_bytes, cell.front[0].max_gil_hold) == (64 * SIZE, 16 / MB)


def test_front_is_capped_dropping_the_slowest_but_the_leanest() -> None:
    points = [
        FrontCandidate(O.ConfigGenes(6 + i, 4, 1), [1.0 + i / 10] * 5, 1.0, 100 * i, i / MB)
        for i in range(10)
    ]
    kept = front_of(points, cap=8)
    # The seven fastest, and the one with the least memory in flight (the front's other end).
    assert [p.config.log2_batch for p in kept] == [15, 14, 13, 12, 11, 10, 9, 6]
    assert len(front_of(points)) == 8 == FRONT_CAP


def test_lucky_front_point_is_dropped_when_remeasured(tmp_path: Path) -> None:
    lucky = {"on": True}

    def effect(kind: str, config: Sequence[int]) -> float:
        if _pooled(config):
            return 0.5
        if config[0] == 512:
            return 0.8 if lucky["on"] else 1.1
        return 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.0))
    s.evaluate(genes("json"), A1024)
    s.evaluate(genes("json", seed=2), B512)
    (cell,) = s.cells.values()
    assert configs(cell.front) == [A1024, B512]
    lucky["on"] = False  # B512's advantage is gone when timed again: 10% slower than default
    assert s.remeasure(cell) == "confirmed"  # the elite holds
    assert configs(cell.front) == [A1024] and cell.front_demotions == 1
    assert cell.front[0].ratios == [2.0] * (2 * s.settings.search_rounds)


def test_remeasured_front_point_at_the_default_speed_stays_for_its_memory(tmp_path: Path) -> None:
    lucky = {"on": True}

    def effect(kind: str, config: Sequence[int]) -> float:
        if _pooled(config):
            return 0.5
        return 0.8 if config[0] == 512 and lucky["on"] else 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.0))
    s.evaluate(genes("json"), A1024)
    s.evaluate(genes("json", seed=2), B512)
    (cell,) = s.cells.values()
    lucky["on"] = False  # timed again at the default's speed: no speedup, still leaner
    assert s.remeasure(cell) == "confirmed"
    assert configs(cell.front) == [A1024, B512] and cell.front_demotions == 0
    assert [p.memory for p in cell.front] == [False, True]
    assert cell.front[1].ratios == [1.25] * s.settings.search_rounds + [1.0] * s.settings.search_rounds


def test_correction_keeps_front_points_on_their_fresh_figures(tmp_path: Path) -> None:
    true = {"fresh": False}

    def effect(kind: str, config: Sequence[int]) -> float:
        if _pooled(config):
            return 0.5
        if config[0] == 512:
            return 0.8
        if config[0] == 256 and true["fresh"]:
            return 1 / 1.02  # a real but small gain: below the shipping bar of 1.03
        if config[0] == 256:
            return 1 / 1.1  # in the search: less memory than 512/512/1, slower
        return 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.0))
    s.evaluate(genes("json"), A1024)
    s.evaluate(genes("json", seed=2), B512)
    small = O.ConfigGenes(8, 8, 1)  # 256/256/1
    s.evaluate(genes("json", seed=3), small)
    (cell,) = s.cells.values()
    assert configs(cell.front) == [A1024, B512, small]
    assert O.Search.front_to_correct(cell) == [small, B512]  # farthest in bytes first
    true["fresh"] = True
    s.correct()
    f = cell.final
    assert f is not None and f.ship is True and f.best == (1024, 256, 2)
    # 256/256/1 no longer clears the bar, but it keeps the default's speed within the margin
    # with less memory in flight: kept as a memory point.
    assert [(p.config, p.kept, p.memory) for p in f.front] == [
        ((1024, 256, 2), True, False),
        ((256, 256, 1), True, True),
        ((512, 512, 1), True, False),
        # the heuristic's configuration, timed beside them at the default's speed: not kept
        ((5000, 512, 2), False, True),
    ]
    assert [p.speedup.median for p in f.front] == [2.0, pytest.approx(1.02), 1.25, 1.0]
    (archived,) = s.archive_cells()
    assert archived.elite == A.Elite(batch_size=1024, micro_batch_size=256, threads=2)
    assert [
        (p.config.batch_size, p.default, p.speedup, p.peak_bytes, p.max_gil_hold)
        for p in archived.front
    ] == [
        (8192, True, 1.0, 5000 * SIZE, 5000 / MB),
        (1024, False, 2.0, 1024 * SIZE, 256 / MB),
        (256, False, pytest.approx(1.02), 256 * SIZE, 256 / MB),
        (512, False, 1.25, 512 * SIZE, 512 / MB),
    ]
    assert archived.max_gil_hold == 256 / MB and archived.peak_bytes == 1024 * SIZE


def test_correction_ships_a_front_point_when_the_best_falls_below_the_bar(
    tmp_path: Path,
) -> None:
    fresh = {"on": False}

    def effect(kind: str, config: Sequence[int]) -> float:
        if _pooled(config):
            return 1.0 if fresh["on"] else 0.5
        return 0.8 if config[0] == 512 else 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.0))
    s.evaluate(genes("json"), A1024)
    s.evaluate(genes("json", seed=2), B512)
    (cell,) = s.cells.values()
    fresh["on"] = True
    s.correct()
    assert cell.final is not None and cell.final.ship is True
    assert cell.final.best == (512, 512, 1)
    (archived,) = s.archive_cells()
    assert archived.elite == A.Elite(batch_size=512, micro_batch_size=512, threads=1)
    assert archived.speedup == 1.25
    assert [p.config.batch_size for p in archived.front] == [8192, 512]


def test_resume_reads_a_state_saved_before_fronts_and_gil_holds(tmp_path: Path) -> None:
    s = search(tmp_path, FakeMeasurer(trade_offs, noise=0.0))
    s.evaluate(genes("json"), A1024)
    state = orjson.loads(orjson.dumps(s.state_json()))
    for cell in state["search"]["cells"]:
        for key in ("max_gil_hold", "default_max_gil_hold", "front", "front_demotions"):
            del cell[key]
    assert state["search"]["version"] == 1
    b = search(tmp_path, FakeMeasurer(trade_offs, noise=0.0))
    b.restore(1, 1, state)
    (cell,) = b.cells.values()
    assert cell.elite == A1024 and cell.front == [] and cell.max_gil_hold is None
    # The search goes on: the next evaluation fills the front.
    assert b.evaluate(genes("json", seed=2), B512) == "kept"
    assert configs(cell.front) == [B512]


@pytest.mark.parametrize(("heuristic_time", "kept"), [(1.0, True), (1 / 0.95, False)])
def test_correction_keeps_the_heuristic_for_its_memory(
    tmp_path: Path, heuristic_time: float, kept: bool
) -> None:
    """Records of ~4 KB: the heuristic cuts chunks to 512 records (2 MiB), a tenth of the
    default's memory in flight. At the default's speed it joins the front as a memory point
    (lower bound above 1 / 1.03), never as the elite; 5% slower it does not. Without a budget
    the selector then answers with it (within noise of the default, less memory)."""

    def effect(kind: str, config: Sequence[int]) -> float:
        return heuristic_time if config[0] == 512 else 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.0))
    big = genes("dicts", list_length=1300)  # 4,112 bytes per record in the fake
    assert s.evaluate(big, O.ConfigGenes(11, 11, 1)) == "new"  # 2048: no gain, no elite
    s.correct()
    (cell,) = s.cells.values()
    f = cell.final
    assert f is not None and f.ship is False
    heur = [p for p in f.front if p.config[0] == 512]
    assert [(p.kept, p.memory) for p in heur] == [(kept, True)]
    (archived,) = s.archive_cells()
    assert archived.elite == "keep_default"
    assert [(p.config.batch_size, p.default, p.peak_bytes) for p in archived.front] == [
        (8192, True, 5000 * 4112)
    ] + ([(512, False, 512 * 4112)] if kept else [])
    archive = s.to_archive()
    config = Selector(archive).select(s.measurer.prepare(big).profile)
    if kept:
        assert (config.batch_size, config.threads, config.source) == (512, 1, "archive-exact")
    else:
        assert config.source == "archive-keep-default"


# -- the correction's check on other data of the cell ---------------------------------------------


class PerDataMeasurer(FakeMeasurer):
    """The fake measurer with time factors that depend on the data: ``effects`` maps a
    workload's field count to its effect (what one schema pays for, another may not)."""

    def __init__(self, effects: dict[int, Effect]) -> None:
        super().__init__(lambda kind, config: 1.0, noise=0.0)
        self.effects = effects

    def compare(self, prepared: Any, configs: Any, **kwargs: Any) -> Any:
        self.effect = self.effects[prepared.genes.field_count]
        return super().compare(prepared, configs, **kwargs)


def pool_pays_only_on_eight_fields(kind: str, config: Sequence[int]) -> float:
    return 0.5 if _pooled(config) else 1.0


def nothing_pays(kind: str, config: Sequence[int]) -> float:
    return 1.0


@pytest.mark.parametrize("holds_elsewhere", [True, False])
def test_correction_ships_an_elite_only_when_it_holds_on_other_data_of_its_cell(
    tmp_path: Path, holds_elsewhere: bool
) -> None:
    """Two schemas fall in one cell (8 and 9 fields); two threads halve the time of the first.
    The correction times the elite again on the second: where it holds there too, the cell
    ships it with that evidence; where it runs at the default's speed, the cell ships no
    speedup and keeps only its memory point (256/256/1, the default's speed)."""
    other = pool_pays_only_on_eight_fields if holds_elsewhere else nothing_pays
    measurer = PerDataMeasurer({8: pool_pays_only_on_eight_fields, 9: other})
    s = search(tmp_path, measurer)
    lean = O.ConfigGenes(8, 8, 1)  # 256/256/1
    assert s.evaluate(genes("json"), A1024) == "new"
    assert s.evaluate(genes("json", seed=5), lean) == "kept"  # same data, other records
    assert s.evaluate(genes("json", field_count=9), lean) == "kept"  # other data, same cell
    (cell,) = s.cells.values()
    assert cell.other_data == [genes("json", field_count=9)]
    assert configs(cell.front) == [A1024, lean]
    s.correct()
    f = cell.final
    assert f is not None and f.confirmation is not None
    assert f.confirmation.workload == genes("json", field_count=9).to_json()
    assert f.confirmation.confirmed is holds_elsewhere
    assert f.confirmation.speedup.median == (2.0 if holds_elsewhere else 1.0)
    assert f.confirmation.peak_bytes == 1024 * 236  # 236 bytes per record with 9 fields
    assert f.ship is holds_elsewhere
    assert [(p.config, p.kept, p.memory) for p in f.front] == [
        ((1024, 256, 2), holds_elsewhere, False),
        ((256, 256, 1), True, True),
        ((5000, 512, 2), False, True),  # the heuristic's configuration: not kept
    ]
    (archived,) = s.archive_cells()
    batch_sizes = [p.config.batch_size for p in archived.front]
    if holds_elsewhere:
        assert archived.elite == A.Elite(batch_size=1024, micro_batch_size=256, threads=2)
        assert batch_sizes == [8192, 1024, 256]
    else:
        assert archived.elite == "keep_default"
        assert archived.speedup == 2.0  # the claim on its own data, as any keep-default cell
        assert (archived.throughput, archived.peak_bytes) == (
            archived.default_throughput,
            5000 * SIZE,
        )
        assert batch_sizes == [8192, 256]
    doc = s.results(complete=True)
    assert doc["other_data"] == {
        "checked": 1,
        "confirmed": int(holds_elsewhere),
        "unchecked_ships": 0,
    }
    assert doc["cells"][0]["confirmation"]["confirmed"] is holds_elsewhere


def test_a_cell_remembers_other_data_not_other_records() -> None:
    own = genes("json")
    cell = CellRecord((0, 0, 0), own, FakePrepared(own, 10).profile)
    cell.note_data(genes("json", seed=9))  # the cell's own data, other records
    assert cell.other_data == []
    real = O.WorkloadGenes.of_real("tox", "json", 1)
    for g in [real, O.WorkloadGenes.of_real("tox", "json", 2), genes("json", field_count=9)]:
        cell.note_data(g)
    assert cell.other_data == [real, genes("json", field_count=9)]
    assert O.Search.other_data_to_confirm(cell) == real  # real data first
    for fields in (10, 11, 12):
        cell.note_data(genes("json", field_count=fields))
    assert cell.other_data == [genes("json", field_count=f) for f in (9, 10, 11, 12)]
    assert O.Search.other_data_to_confirm(cell) == genes("json", field_count=12)
    # A new elite found on other data makes that data the cell's own.
    cell.genes = genes("json", field_count=12, seed=3)
    assert cell.other_data_now() == [genes("json", field_count=f) for f in (9, 10, 11)]
    assert O.Search.other_data_to_confirm(cell) == genes("json", field_count=11)
