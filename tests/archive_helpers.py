"""Builders of synthetic archives with known elites, shared by the archive and selector tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Union

from satya_adapt import archive as A
from satya_adapt.hardware import HardwareClass
from satya_adapt.profile import Profile

#: The hardware class the tests pretend to run on (passed to ``Selector(hardware=...)``).
HERE = HardwareClass(
    machine="x86_64",
    cpu_vendor="GenuineIntel",
    cpu_family="6",
    usable_cores=4,
    python="3.11",
    gil_enabled=True,
    satya_adapt="0.1",
)

DATE = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

#: input_kind (dicts, json, ndjson) x object_size with edges 255, 1023, 4095: on the log2(1 + v)
#: axis the edges sit at 8, 10, 12, so one grid unit is 2 octaves and bins are
#: [0, 255), [255, 1023), [1023, 4095), [4095, inf).
KIND_SIZE_GRID = A.Grid(
    features=[
        A.GridFeature(name="input_kind", scale="category", categories=["dicts", "json", "ndjson"]),
        A.GridFeature(name="object_size", scale="log", edges=[255.0, 1023.0, 4095.0]),
    ]
)

Elite = Union[tuple[int, int, int], str]


def provenance(hardware: HardwareClass | None = HERE) -> A.Provenance:
    hw = sw = None
    if hardware is not None:
        hw = A.Hardware(
            cpu_model="Test CPU",
            cpu_vendor=hardware.cpu_vendor,
            cpu_family=hardware.cpu_family,
            machine=hardware.machine,
            usable_cores=hardware.usable_cores,
            os="Linux",
        )
        sw = A.Software(
            python_version=hardware.python + ".1",
            python_implementation="CPython",
            gil_enabled=hardware.gil_enabled,
            satya_adapt_version=hardware.satya_adapt + ".0",
            build_profile="release",
        )
    return A.Provenance(
        tool="tests",
        date=DATE,
        command="pytest",
        seed=7,
        generations=3,
        test_size=5000,
        hardware=hw,
        software=sw,
    )


def profile(
    object_size: float,
    kind: str = "dicts",
    *,
    n: int | None = None,
    field_count: int = 8,
    avg_string_length: float = 15.0,
    constraint_complexity: float = 0.3,
) -> Profile:
    return Profile(field_count, avg_string_length, constraint_complexity, object_size, kind, n)


def cell(
    grid: A.Grid,
    prof: Sequence[Any],
    elite: Elite,
    *,
    speedup: float = 1.25,
    ci: tuple[float, float] = (1.1, 1.4),
    n_measurements: int = 7,
    peak_bytes: int = 123456,
) -> A.Cell:
    index = A.descriptor(grid, prof)
    assert index is not None
    e: A.Elite | str
    if isinstance(elite, str):
        e = elite
    else:
        e = A.Elite(batch_size=elite[0], micro_batch_size=elite[1], threads=elite[2])
    return A.Cell(
        index=list(index),
        profile=A.cell_profile(prof),
        elite=e,  # type: ignore[arg-type]
        throughput=1_000_000.0 * speedup,
        default_throughput=1_000_000.0,
        speedup=speedup,
        speedup_ci_low=ci[0],
        speedup_ci_high=ci[1],
        peak_bytes=peak_bytes,
        n_measurements=n_measurements,
    )


def archive(
    cells: list[A.Cell],
    *,
    grid: A.Grid = KIND_SIZE_GRID,
    selection: A.Selection | None = None,
    hardware: HardwareClass | None = HERE,
) -> A.ArchiveFile:
    return A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=provenance(hardware if cells else None),
        grid=grid,
        selection=selection or A.Selection(),
        cells=cells,
        history=[
            A.Change(date=DATE, action="create", summary="test archive", cells_added=len(cells))
        ],
        optimizer=A.OptimizerState(generation=3, evaluations=42, random_state={"kind": "none"}),
    )


def rep_size(object_size: float) -> float:
    """The object size the selector works with: rounded to a quarter octave of 1 + size."""
    return A.quantize(profile(object_size)).object_size
