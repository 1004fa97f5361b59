"""Archive maintenance (satya_adapt.tuning.maintenance): regenerating workloads, refresh, merge."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest

from satya_adapt import Validator, hardware
from satya_adapt import archive as A
from satya_adapt.tuning import maintenance as M
from satya_adapt.tuning import workloads as W

DATE = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

#: Every feature a grid may bin, so that regenerated workloads are checked on all of them.
GRID = A.Grid(
    features=[
        A.GridFeature(name="input_kind", scale="category", categories=["dicts", "json", "ndjson"]),
        A.GridFeature(name="field_count", scale="log", edges=[4.0, 8.0, 16.0, 32.0]),
        A.GridFeature(name="avg_string_length", scale="log", edges=[8.0, 32.0, 128.0]),
        A.GridFeature(name="constraint_complexity", scale="linear", edges=[0.25, 0.5, 0.75]),
        A.GridFeature(name="object_size", scale="log", edges=[128.0, 512.0, 2048.0, 8192.0]),
    ]
)


def data_of(w: W.Workload, kind: str) -> Any:
    return {"dicts": w.records, "json": w.json_bytes(), "ndjson": w.ndjson_bytes()}[kind]


def make_cell(
    spec: W.WorkloadSpec,
    kind: str,
    elite: tuple[int, int, int] | str,
    *,
    ci: tuple[float, float] = (1.1, 1.3),
    n_measurements: int = 7,
    store: bool = True,
    n: int = 300,
) -> A.Cell:
    w = W.make_workload(spec, n, seed=0)
    prof = Validator(w.schema, adapt=False).profile(data_of(w, kind), input_kind=kind)
    index = A.descriptor(GRID, prof)
    assert index is not None
    e: Any = (
        elite
        if isinstance(elite, str)
        else A.Elite(batch_size=elite[0], micro_batch_size=elite[1], threads=elite[2])
    )
    return A.Cell(
        index=list(index),
        profile=A.cell_profile(prof),
        elite=e,
        throughput=1.2e6,
        default_throughput=1e6,
        speedup=(ci[0] + ci[1]) / 2,
        speedup_ci_low=ci[0],
        speedup_ci_high=ci[1],
        peak_bytes=1000,
        n_measurements=n_measurements,
        workload=spec.to_dict() if store else None,
    )


def make_archive(
    cells: list[A.Cell], *, cores: int | None = None, tool: str = "tests"
) -> A.ArchiveFile:
    prov = A.provenance_here(tool=tool, command="pytest", seed=1, generations=2, test_size=300)
    if cores is not None and prov.hardware is not None:
        prov = msgspec.structs.replace(
            prov, hardware=msgspec.structs.replace(prov.hardware, usable_cores=cores)
        )
    return A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=prov,
        grid=GRID,
        cells=cells,
        history=[A.Change(date=DATE, action="create", summary="made by tests")],
    )


# -- regenerating workloads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        (W.PROFILES["plain3"], "dicts"),
        (W.PROFILES["mixed10"], "json"),
        (W.PROFILES["nested"], "ndjson"),
        (W.WorkloadSpec(field_count=20, string_length=40, constrained=0.3, costly=0.2), "dicts"),
    ],
)
def test_spec_for_profile_lands_in_the_cell(spec: W.WorkloadSpec, kind: str) -> None:
    cell = make_cell(spec, kind, (64, 16, 1), store=False)
    found, measured = M.spec_for_profile(cell.profile, GRID)
    assert found.field_count == cell.profile.field_count
    assert A.descriptor(GRID, measured) == tuple(cell.index)
    workload, index = M.cell_workload(cell, GRID, 300)
    assert workload.origin == "profile"
    assert index == tuple(cell.index) and workload.in_cell


def test_stored_workload_is_used_as_it_is() -> None:
    spec = W.PROFILES["nested"]  # a nested explicit layout survives the JSON round trip
    cell = make_cell(spec, "json", (64, 16, 1))
    stored = A.decode_archive(A.encode_archive(make_archive([cell]))).cells[0]
    workload, index = M.cell_workload(stored, GRID, 300)
    assert workload.origin == "stored"
    assert workload.spec == spec
    assert workload.data == W.make_workload(spec, 300, seed=0).json_bytes()
    assert index == tuple(cell.index)


def test_stored_workload_seed_and_bad_genes() -> None:
    spec = W.PROFILES["mixed10"]
    cell = make_cell(spec, "dicts", (64, 16, 1))
    seeded = msgspec.structs.replace(
        cell, workload={**spec.to_dict(), "seed": 5, "input_kind": "dicts"}
    )
    workload, _ = M.cell_workload(seeded, GRID, 100)
    assert workload.origin == "stored"
    assert workload.data == W.make_workload(spec, 100, seed=5).records
    broken = msgspec.structs.replace(cell, workload={"field_count": -1})
    workload, _ = M.cell_workload(broken, GRID, 100)
    assert workload.origin == "profile"


# -- refresh --------------------------------------------------------------------------------------


def test_refresh_demotes_a_losing_elite_and_records_it() -> None:
    loser = make_cell(W.PROFILES["mixed10"], "dicts", (1, 1, 1), ci=(1.4, 1.6))
    keep = make_cell(W.PROFILES["plain3"], "json", "keep_default")
    archive = make_archive([loser, keep])
    seen: list[Any] = []
    report = M.refresh_archive(
        archive,
        records=3000,
        rounds=3,
        command="cmd",
        on_cell=lambda i, total, cell: seen.append(("cell", i, total)),
        on_result=lambda r: seen.append(("result", r.action)),
    )
    assert seen == [
        ("cell", 0, 2),
        ("result", "demoted"),
        ("cell", 1, 2),
        ("result", "keep_default"),
    ]
    new = report.archive
    assert archive.cells[0] is loser  # the input is not changed
    demoted = new.cells[0]
    assert demoted.elite == "keep_default"
    assert demoted.n_measurements == 3
    assert demoted.speedup_ci_low <= demoted.speedup <= demoted.speedup_ci_high
    assert demoted.speedup_ci_low <= M.DEFAULT_MIN_SPEEDUP
    assert demoted.throughput == demoted.default_throughput
    assert demoted.profile == loser.profile and demoted.index == loser.index
    assert new.cells[1] == keep
    assert new.history[:-1] == archive.history
    change = new.history[-1]
    assert (change.action, change.command, change.cells_changed) == ("refresh", "cmd", 1)
    assert report.change == change
    assert (report.count("demoted"), report.count("keep_default")) == (1, 1)
    assert "demoted to keep_default" in report.cells[0].describe()


def test_refresh_rescales_threads_to_the_cores_here() -> None:
    cores = hardware.usable_cores()
    cell = make_cell(W.PROFILES["mixed10"], "json", (256, 64, 4 * cores))
    archive = make_archive([cell], cores=4 * cores)
    report = M.refresh_archive(archive, records=200, rounds=1, min_speedup=1e-9)
    kept = report.archive.cells[0]
    assert report.cells[0].action == "kept"
    assert kept.elite == A.Elite(batch_size=256, micro_batch_size=64, threads=cores)
    hw = report.archive.provenance.hardware
    assert hw is not None and hw.usable_cores == cores  # now measured here
    assert report.cells[0].describe().startswith(
        f"cell {list(kept.index)} json: elite 256/64/{4 * cores} -> 256/64/{cores} (threads"
        " rescaled to the cores here) kept: speedup "
    )


def test_a_refreshed_cell_whose_front_won_says_so() -> None:
    """Before: any new elite was said to be the old one's threads rescaled, also where
    another point of the cell's front won the re-measure with the same threads."""
    cell = make_cell(W.PROFILES["mixed10"], "json", (256, 64, 1))
    after = msgspec.structs.replace(cell, elite=A.Elite(batch_size=512, micro_batch_size=64, threads=1))
    line = M.CellRefresh(tuple(cell.index), "json", "kept", cell, after, records=200).describe()
    assert line.startswith(
        f"cell {list(cell.index)} json: elite 256/64/1 -> 512/64/1 (the fastest of the cell's"
        " front, re-measured) kept: speedup "
    )


def test_refresh_rejects_bad_arguments() -> None:
    archive = make_archive([])
    with pytest.raises(ValueError, match="`rounds` must be at least 1"):
        M.refresh_archive(archive, rounds=0)
    with pytest.raises(ValueError, match="`records` must be at least 1"):
        M.refresh_archive(archive, records=0)
    with pytest.raises(ValueError, match="`min_speedup`"):
        M.refresh_archive(archive, min_speedup=float("nan"))


def test_refresh_file_interrupted_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    A.write_archive(make_archive([make_cell(W.PROFILES["plain3"], "dicts", (64, 16, 1))]), path)
    before = path.read_bytes()

    def interrupt(i: int, total: int, cell: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        M.refresh_file(path, records=100, rounds=1, on_cell=interrupt)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_refresh_file_writes_out(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    A.write_archive(make_archive([make_cell(W.PROFILES["plain3"], "dicts", (64, 16, 1))]), path)
    before = path.read_bytes()
    report = M.refresh_file(path, tmp_path / "b.json", records=100, rounds=1)
    assert path.read_bytes() == before
    assert A.load_archive(tmp_path / "b.json") == report.archive


# -- merge ----------------------------------------------------------------------------------------


def _with(cell: A.Cell, low: float, n: int) -> A.Cell:
    return msgspec.structs.replace(
        cell,
        speedup_ci_low=low,
        speedup=max(low, cell.speedup),
        n_measurements=n,
        speedup_ci_high=max(low, cell.speedup_ci_high),
    )


@pytest.mark.parametrize(
    ("a", "b", "winner"),
    [
        ((1.10, 5), (1.20, 5), "b"),  # higher lower bound
        ((1.20, 5), (1.10, 50), "a"),  # the lower bound comes first
        ((1.10, 5), (1.10, 9), "b"),  # tie: more measurements
        ((1.10, 9), (1.10, 9), "a"),  # full tie: the first archive
    ],
)
def test_better_evidenced(a: tuple[float, int], b: tuple[float, int], winner: str) -> None:
    base = make_cell(W.PROFILES["plain3"], "dicts", (64, 16, 1))
    ca, cb = _with(base, *a), _with(base, *b)
    assert M.better_evidenced(ca, cb) is (ca if winner == "a" else cb)


def test_merge_union_history_and_provenance() -> None:
    plain = make_cell(W.PROFILES["plain3"], "dicts", (64, 16, 1))
    mixed = make_cell(W.PROFILES["mixed10"], "json", (256, 64, 1))
    a = make_archive([plain])
    b = make_archive([mixed], tool="other")
    b = msgspec.structs.replace(
        b,
        history=[
            *b.history,
            A.Change(date=DATE + dt.timedelta(days=1), action="edit", summary="b edited"),
        ],
    )
    report = M.merge_archives(a, b, names=("a.json", "b.json"), command="merge cmd")
    merged = report.archive
    assert merged.cells == sorted([plain, mixed], key=lambda c: c.index)
    assert merged.provenance == a.provenance
    assert [h.summary for h in merged.history] == [
        "made by tests",
        "b edited",
        report.change.summary,
    ]
    assert (
        report.change.summary
        == "Merged b.json (1 cell) into a.json (1 cell): 2 cells, 1 added from b.json."
    )
    assert report.origins == {tuple(plain.index): "a", tuple(mixed.index): "b"}
    # An empty first archive takes the second's provenance.
    assert M.merge_archives(make_archive([]), b).archive.provenance == b.provenance


def test_merge_refuses_other_grids() -> None:
    a = make_archive([])
    b = msgspec.structs.replace(a, grid=A.Grid(features=GRID.features[:2]))
    with pytest.raises(A.ArchiveError, match="their grids differ"):
        M.merge_archives(a, b)


def test_refresh_with_nothing_to_measure_keeps_the_provenance() -> None:
    archive = make_archive([make_cell(W.PROFILES["plain3"], "dicts", "keep_default")])
    report = M.refresh_archive(archive, records=100, rounds=1)
    assert report.archive.provenance == archive.provenance
    assert report.archive.cells == archive.cells
    assert report.change.summary.startswith("Re-measured 0 elites")


def test_optimizer_workloads_of_an_unreadable_search_state_is_empty() -> None:
    archive = make_archive([])
    assert M.optimizer_workloads(archive) == {}
    archive.optimizer = A.OptimizerState(
        generation=1, random_state={"kind": "python", "search": {"version": 1, "cells": 3}}
    )
    assert M.optimizer_workloads(archive) == {}
    archive.optimizer = A.OptimizerState(
        generation=1, random_state={"kind": "python", "search": {"version": 7}}
    )
    assert M.optimizer_workloads(archive) == {}
