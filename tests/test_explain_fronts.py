"""`satya-adapt archive explain` prints the answering cell's front, the chosen point and why,
under no budget and under a memory or pause budget (exact lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from satya_adapt import archive as A
from satya_adapt.tuning import workloads as W
from test_cli import cell_for, files, make_archive, run

__all__ = ["files"]  # the fixture, used by name


def point(b: int, m: int, t: int, speedup: float, ci: tuple[float, float], peak: int,
          hold: float, default: bool = False) -> A.FrontPoint:  # fmt: skip
    return A.FrontPoint(
        config=A.Elite(batch_size=b, micro_batch_size=m, threads=t),
        default=default,
        throughput=1e6 * speedup,
        speedup=speedup,
        speedup_ci_low=ci[0],
        speedup_ci_high=ci[1],
        peak_bytes=peak,
        max_gil_hold=hold,
    )


@pytest.fixture(scope="module")
def front_archive(files: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    cell = cell_for(W.PROFILES["mixed10"], "json", (1024, 256, 2), ci=(1.4, 1.6))
    cell = msgspec.structs.replace(
        cell,
        front=[
            point(8192, 1024, 1, 1.0, (1.0, 1.0), 2 << 20, 0.010, default=True),
            point(1024, 256, 2, 1.5, (1.4, 1.6), 512 << 10, 0.002),
            point(256, 64, 1, 1.2, (1.1, 1.3), 64 << 10, 0.0005),
        ],
    )
    path = tmp_path_factory.mktemp("fronts") / "fronts.json"
    A.write_archive(make_archive([cell]), path)
    return path


def explain(files: dict[str, Any], archive: Path, *budget: str) -> list[str]:
    proc = run("archive", "explain", "--schema", "schema.json", "mixed.json", "--archive",
               str(archive), *budget, cwd=files["dir"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = lines.index("front    3 points of the cell (* chosen)")
    return lines[start : lines.index("", start)]


def test_explain_prints_the_front_and_the_choice(
    files: dict[str, Any], front_archive: Path
) -> None:
    assert explain(files, front_archive) == [
        "front    3 points of the cell (* chosen)",
        "  B/M/T                  speedup [CI]       peak       longest GIL hold",
        "  8192/1024/1 (default)  1.00 [1.00, 1.00]  2.0 MiB    10.0 ms",
        "  1024/256/2 *           1.50 [1.40, 1.60]  512.0 KiB  2.0 ms",
        "  256/64/1               1.20 [1.10, 1.30]  64.0 KiB   500 us",
        "  chosen under no budget: the highest speedup, and the least memory among those within"
        " noise of it",
    ]


def test_explain_prints_the_choice_under_a_memory_budget(
    files: dict[str, Any], front_archive: Path
) -> None:
    lines = explain(files, front_archive, "--memory-budget", "100KiB")
    assert lines[3:] == [
        "  1024/256/2             1.50 [1.40, 1.60]  512.0 KiB  2.0 ms",
        "  256/64/1 *             1.20 [1.10, 1.30]  64.0 KiB   500 us",
        "  chosen under memory budget 100.0 KiB: the highest speedup within the budget (1.200;"
        " the best, 1.500, does not keep within it)",
    ]


def test_explain_prints_the_choice_under_a_pause_budget(
    files: dict[str, Any], front_archive: Path
) -> None:
    lines = explain(files, front_archive, "--max-pause", "1ms")
    assert lines[-1] == (
        "  chosen under max pause 1.0 ms: the highest speedup within the budget (1.200; the"
        " best, 1.500, does not keep within it)"
    )
    assert lines[4] == "  256/64/1 *             1.20 [1.10, 1.30]  64.0 KiB   500 us"
