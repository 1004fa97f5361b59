"""Tuning guards over the shipped archive (``archives/default.json``, or the archive named by
``SATYA_TUNING_ARCHIVE``).

- ``test_best_configs_smoke``: every configuration the archive holds (each elite, and each
  cell's best candidate that did not clear the bar) gives exactly the default configuration's
  results on the cell's own data: the same valid list and the same errors, in order.
- ``test_tuned_not_worse_than_default``: on a sample of cells that ship an elite, a validator
  using the archive (as a user calls it) runs at least ``floor`` times as fast as the default
  configuration: the median of 3 interleaved runs, each the median of paired rounds.
  ``floor`` is 0.98; ``SATYA_TUNING_STRICT=1`` makes it 1.0; ``SATYA_TUNING_FLOOR`` overrides
  both.
- ``test_ratio_vs_msgspec_optional`` (slow): satya-adapt's throughput over msgspec's on the
  same records is at least ``SATYA_RATIO_FLOOR`` (default 0.001); skipped without msgspec.

Built not to flake on a busy 2-core machine: each timing covers whole calls of the cell's
training size (20,000 records, at least 10 ms per sample), tuned and default alternate within
each round (pairs share whatever load the machine had), one warm-up call each, no garbage
collection inside the rounds, and the figure is a median of medians. Cells whose elite is
``keep_default`` are not timed (tuned and default are then the same configuration).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import archive as A
from satya_adapt.tuning import measure
from satya_adapt.tuning import optimizer as O
from satya_adapt.config import DEFAULT_CONFIGURATION
from satya_adapt.hardware import compare, current
from satya_adapt.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
#: The archive guarded: the shipped one, or ``SATYA_TUNING_ARCHIVE`` (to guard another archive
#: made by the optimizer on this machine).
ARCHIVE = Path(os.environ.get("SATYA_TUNING_ARCHIVE") or ROOT / "archives" / "default.json")
#: Cells timed by the guard (the ones that claim the most, one per input kind first).
SAMPLE = 3
RUNS = 3
ROUNDS = 5
SMOKE_N = 3000


def tuning_floor() -> float:
    if os.environ.get("SATYA_TUNING_FLOOR"):
        return float(os.environ["SATYA_TUNING_FLOOR"])
    return 1.0 if os.environ.get("SATYA_TUNING_STRICT") == "1" else 0.98


def ratio_floor() -> float:
    return float(os.environ.get("SATYA_RATIO_FLOOR") or 0.001)


@pytest.fixture(scope="module")
def shipped() -> A.ArchiveFile:
    archive = A.load_archive(ARCHIVE)
    if not archive.cells:
        pytest.skip("the shipped archive has no cells")
    return archive


@pytest.fixture(scope="module")
def genes(shipped: A.ArchiveFile) -> dict[tuple[int, ...], O.WorkloadGenes]:
    stored = O.stored_genes(shipped)
    if not stored:
        pytest.skip("the shipped archive holds no workload genes to regenerate its cells' data")
    return stored


def _call(v: Validator, prepared: O.Prepared) -> Any:
    data = prepared.payload
    if prepared.kind == "dicts":
        return lambda: v.validate_batch(data)
    if prepared.kind == "json":
        return lambda: v.validate_json(data)
    return lambda: v.validate_ndjson(data)


def _configurations(shipped: A.ArchiveFile) -> list[tuple[tuple[int, ...], tuple[int, int, int]]]:
    """Every (cell, configuration) the archive holds: elites and best candidates."""
    state = shipped.optimizer.random_state if shipped.optimizer is not None else None
    finals = {}
    if isinstance(state, dict) and isinstance(state.get("search"), dict):
        for doc in state["search"]["cells"]:
            best = (doc.get("final") or {}).get("best")
            if best is not None:
                finals[tuple(doc["index"])] = tuple(best)
    out = []
    for cell in shipped.cells:
        index = tuple(cell.index)
        if isinstance(cell.elite, A.Elite):
            e = cell.elite
            out.append((index, (e.batch_size, e.micro_batch_size, e.threads)))
        if index in finals and (not out or out[-1] != (index, finals[index])):
            out.append((index, finals[index]))  # type: ignore[arg-type]
    return out


def test_best_configs_smoke(
    shipped: A.ArchiveFile, genes: dict[tuple[int, ...], O.WorkloadGenes]
) -> None:
    configs = _configurations(shipped)
    assert configs, "the archive holds no configuration at all"
    by_cell: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}
    for index, config in configs:
        by_cell.setdefault(index, []).append(config)
    for index, cell_configs in by_cell.items():
        prepared = O.Prepared(genes[index], SMOKE_N)
        default = prepared.run(DEFAULT_CONFIGURATION)
        assert default.valid == prepared.expected_valid  # the generator's truth
        for config in cell_configs:
            r = prepared.run(config)
            where = f"cell {list(index)} ({prepared.kind}) configuration {config}"
            assert r.valid == default.valid, where
            assert r.errors == default.errors, where
            assert r.stats.chunks == -(-SMOKE_N // config[0]), where


def _paired_median(tuned: Any, default: Any, items: int, seed: int) -> float:
    contenders = [
        measure.Contender("tuned", tuned, items),
        measure.Contender("default", default, items),
    ]
    gc.collect()
    gc.disable()
    try:
        inner = measure.calibrate_inner(default, target_ns=1e7, limit=16)
        m = measure.run_rounds(
            contenders, rounds=ROUNDS, warmup=1, inner=inner, seed=seed, collect=False
        )
    finally:
        gc.enable()
    return m.speedup("tuned", "default").median


def test_tuned_not_worse_than_default(
    shipped: A.ArchiveFile, genes: dict[tuple[int, ...], O.WorkloadGenes]
) -> None:
    recorded = A.hardware_class(shipped.provenance)
    assert recorded is not None
    trust, reasons = compare(recorded, current())
    if trust == "untrusted":
        pytest.skip(f"the shipped archive was measured on another hardware class: {reasons}")
    elites = [c for c in shipped.cells if not c.keep_default and tuple(c.index) in genes]
    if not elites:
        pytest.skip(
            "the shipped archive ships no elite (every cell keeps the default configuration):"
            " nothing tuned to guard"
        )
    # The cells that claim the most, spread over the input kinds.
    elites.sort(key=lambda c: -c.speedup_ci_low)
    sample: list[A.Cell] = []
    for kind in ("json", "ndjson", "dicts"):
        sample += [c for c in elites if c.profile.input_kind == kind][:1]
    sample += [c for c in elites if c not in sample]
    sample = sample[:SAMPLE]
    n = shipped.provenance.test_size or 20000
    floor = tuning_floor()
    failures = []
    for i, cell in enumerate(sample):
        prepared = O.Prepared(genes[tuple(cell.index)], n)
        tuned_v = Validator(prepared.schema, archive=ARCHIVE)
        default_v = Validator(prepared.schema, adapt=False)
        chosen = _call(tuned_v, prepared)()
        assert chosen.config.source.startswith("archive"), chosen.config
        runs = sorted(
            _paired_median(_call(tuned_v, prepared), _call(default_v, prepared), prepared.n, 17 * i + r)
            for r in range(RUNS)
        )
        ratio = runs[len(runs) // 2]
        if ratio < floor:
            failures.append(
                f"cell {list(cell.index)} {prepared.kind} {tuple(chosen.config[:3])}:"
                f" tuned/default {ratio:.3f} < {floor} (runs {[round(x, 3) for x in runs]})"
            )
    assert not failures, "; ".join(failures)


@pytest.mark.slow
def test_ratio_vs_msgspec_optional(
    shipped: A.ArchiveFile, genes: dict[tuple[int, ...], O.WorkloadGenes]
) -> None:
    pytest.importorskip("msgspec")
    floor = ratio_floor()
    kinds_done = set()
    checked = 0
    for cell in sorted(shipped.cells, key=lambda c: tuple(c.index)):
        kind = cell.profile.input_kind
        if kind in kinds_done or tuple(cell.index) not in genes:
            continue
        prepared = O.Prepared(genes[tuple(cell.index)], 5000)
        runner = prepared.msgspec_runner()
        if runner is None:
            continue
        kinds_done.add(kind)
        ours = _call(Validator(prepared.schema, archive=ARCHIVE), prepared)
        ratio = _paired_median(ours, runner, prepared.n, seed=checked)
        checked += 1
        assert ratio >= floor, f"{kind}: satya-adapt/msgspec {ratio:.3f} < {floor}"
    if not checked:
        pytest.skip("no cell whose schema msgspec can express")
