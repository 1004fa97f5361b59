"""Real data in the optimizer's search: immigrants draw training real-data workloads (never a
held-out one), their variation, the data a real individual measures, and the archive's cells
that name their real workload (so that refresh regenerates it)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from satya_adapt import archive as A
from satya_adapt.config import DEFAULT_CONFIGURATION
from satya_adapt.tuning import maintenance as M
from satya_adapt.tuning import optimizer as O
from satya_adapt.tuning import realdata
from satya_adapt.tuning.space import DEFAULT_GENES, crossover, mutate_real, random_real
from test_optimizer import FakeMeasurer, genes, search, settings

SHARED = realdata.shared_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="no shared data folder (../shared)")
POOL = ["citm-performances", "amazon-products"]


def test_immigrants_draw_real_workloads_beside_synthetic_ones(tmp_path: Path) -> None:
    s = O.Search(settings(tmp_path, population=30), FakeMeasurer(), real_workloads=POOL)
    children = s.offspring()
    real = [w for origin, w, _ in children if w.real]
    assert all(origin == "immigrant" for origin, _, _ in children)
    assert len(children) == 30 and len(real) == 8  # about a third (seed 7)
    assert {w.real for w in real} == set(POOL)
    # Their synthetic genes are at their least: only the name, the kind and the order count.
    assert {(w.field_count, w.string_length, w.list_length) for w in real} == {(1, 1, 0)}
    # Without a pool, no immigrant is real (and the random stream is the synthetic one's).
    plain = O.Search(settings(tmp_path, population=30), FakeMeasurer())
    assert not any(w.real for _, w, _ in plain.offspring())


def test_real_individuals_vary_by_kind_order_or_workload() -> None:
    rng = random.Random(3)
    kinds = ("dicts", "json", "ndjson")
    g = O.WorkloadGenes.of_real("citm-performances", "json", 1)
    moved = [mutate_real(rng, g, kinds, POOL) for _ in range(60)]
    assert all(m.real in POOL and m.seed != g.seed for m in moved)
    assert {m.real for m in moved} == set(POOL)
    assert {m.input_kind for m in moved} == set(kinds)
    # A real and a synthetic parent: the child keeps one side's workload, with new records.
    space = O.SearchSpace(cores=2, max_log2_batch=10)
    synthetic = genes("json")
    sides = set()
    for _ in range(20):
        w, _ = crossover(rng, (g, DEFAULT_GENES), (synthetic, DEFAULT_GENES), space)
        sides.add(w.real)
        assert w in (
            O.WorkloadGenes.of_real("citm-performances", "json", w.seed),
            O.WorkloadGenes(**{**synthetic.to_json(), "seed": w.seed}),
        )
    assert sides == {"citm-performances", ""}
    assert random_real(rng, POOL, ("ndjson",)).input_kind == "ndjson"


def test_genes_of_a_real_individual_round_trip() -> None:
    g = O.WorkloadGenes.of_real("amazon-products", "ndjson", 5)
    assert O.WorkloadGenes.from_json(g.to_json()) == g
    assert g.archive_workload() == {"real": "amazon-products", "seed": 5, "input_kind": "ndjson"}
    assert O.WorkloadGenes.from_json(g.archive_workload()) == g
    with pytest.raises(ValueError, match="^the real-data workload `amazon-products` has no"):
        g.spec()
    # A state saved before real data: genes without `real` read as synthetic.
    doc = genes("json").to_json()
    del doc["real"]
    assert O.WorkloadGenes.from_json(doc) == genes("json")


@needs_shared
def test_training_pool_never_holds_a_held_out_workload() -> None:
    every = realdata.workloads(1)
    held_out = {w.name for w in every if w.held_out}
    pool = realdata.training_workloads()
    assert len(every) == 592 and len(held_out) == 203 and len(pool) == 389
    assert not held_out & set(pool)
    assert "twitter-statuses" in held_out and set(POOL) <= set(pool)
    # A held-out name never yields data, even when asked for.
    with pytest.raises(ValueError, match="^`twitter-statuses` is not a training real-data workload$"):
        O.Measurer(600).prepare(O.WorkloadGenes.of_real("twitter-statuses", "json", 1))


@needs_shared
@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
def test_real_individual_measures_the_workload_records(kind: str) -> None:
    m = O.Measurer(600, sample_ns=1e5)
    p = m.prepare(O.WorkloadGenes.of_real("citm-performances", kind, 3))
    w = realdata.training_workloads()["citm-performances"]
    assert p.n == 600 and p.profile.input_kind == kind and p.schema is w.schema
    assert p.expected_valid == [True] * 600
    assert realdata.encode(realdata.tiled(w, 600, 3), kind) == p.payload
    same, peak, hold = m.check(p, (64, 16, 2))
    assert same and peak > 0 and hold > 0
    r = p.run(DEFAULT_CONFIGURATION)
    assert r.valid == [True] * 600


@needs_shared
def test_run_with_real_data_archives_cells_named_by_their_real_workload(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=3, real_data=True, population=12)
    assert O.run(s, measurer=FakeMeasurer()) == 0
    archive = A.load_archive(s.archive)
    pool = realdata.training_workloads()
    real = [c for c in archive.cells if c.workload is not None and "real" in c.workload]
    assert real, "no cell came from a real-data workload"
    for c in real:
        assert c.workload is not None and c.workload["real"] in pool
        assert set(c.workload) == {"real", "seed", "input_kind"}
    state = archive.optimizer.random_state["search"] if archive.optimizer else {}
    names = {c["genes"]["real"] for c in state["cells"]} - {""}
    assert names and names <= set(pool)


@needs_shared
def test_refresh_regenerates_a_real_cell(tmp_path: Path) -> None:
    genes_ = O.WorkloadGenes.of_real("citm-performances", "json", 3)
    p = O.Measurer(600).prepare(genes_)
    grid = O.default_grid()
    index = A.descriptor(grid, p.profile)
    assert index is not None
    cell = A.Cell(
        index=list(index),
        profile=A.cell_profile(p.profile),
        elite="keep_default",
        throughput=1.0,
        default_throughput=1.0,
        speedup=1.0,
        speedup_ci_low=1.0,
        speedup_ci_high=1.0,
        peak_bytes=1,
        n_measurements=1,
        workload=genes_.archive_workload(),
    )
    workload, got = M.cell_workload(cell, grid, 600)
    assert (workload.origin, workload.n, got, workload.in_cell) == ("real", 600, index, True)
    assert workload.data == p.payload and workload.schema is p.schema
    missing = A.Cell(**{**{f: getattr(cell, f) for f in cell.__struct_fields__},
                        "workload": {"real": "no-such-workload", "seed": 1, "input_kind": "json"}})
    workload, got = M.cell_workload(missing, grid, 600)
    assert (workload.origin, workload.data, workload.in_cell, got) == ("real", None, False, None)


def test_fake_search_with_a_real_pool_fills_cells(tmp_path: Path) -> None:
    s = search(tmp_path, FakeMeasurer(), real_data=True)
    s.real_workloads = POOL
    s.run_generation()
    assert {c.genes.real for c in s.cells.values()} == {"", "citm-performances"}  # seed 7
