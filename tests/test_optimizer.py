"""The MAP-Elites optimizer's logic, driven by fake measurements (fast and deterministic), plus a
small smoke run of the real measurer.

The fake measurer derives a profile from the workload genes and gives every configuration a
known true time per record with seeded noise, so the tests can state what the search must
conclude: which cells ship an elite, when an elite is replaced or demoted, what a resumed
search continues from.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable

import orjson
import pytest

from satya_adapt import archive as A
from satya_adapt.tuning import measure
from satya_adapt.tuning import optimizer as O
from satya_adapt.config import DEFAULT_CONFIGURATION, BatchConfig
from satya_adapt.profile import Profile
from satya_adapt.selector import Selector

# -- a fake measurer ------------------------------------------------------------------------------

Effect = Callable[[str, Sequence[int]], float]


def json_pool_wins(kind: str, config: Sequence[int]) -> float:
    """Time factor of a configuration (1.0 = the default's): two threads halve the time of JSON
    and NDJSON and double that of dicts; batch and micro-batch sizes change nothing."""
    if config[2] > 1:
        return 2.0 if kind == "dicts" else 0.5
    return 1.0


class FakePrepared:
    def __init__(self, genes: O.WorkloadGenes, n: int) -> None:
        self.genes = genes
        self.kind = genes.input_kind
        self.n = n
        self.real = genes.real
        if genes.real:
            # A real-data workload: a profile of its own (the name's length sets it).
            genes = O.WorkloadGenes(
                len(genes.real), 4 * len(genes.real), 0.5, 0.5, 0, 0, genes.input_kind, genes.seed
            )
        size = 20.0 + genes.field_count * (genes.string_length + 8) + 3 * genes.list_length
        cc = 0.3 + 0.35 * genes.constrained * (0.5 + 0.5 * genes.costly)
        self.profile = Profile(
            genes.field_count, float(genes.string_length), cc, size, genes.input_kind, n
        )
        self.touch_rate = math.inf


class FakeMeasurer:
    """Timings from ``effect`` with multiplicative noise of ``noise`` (log-normal sigma)."""

    def __init__(
        self,
        effect: Effect = json_pool_wins,
        *,
        noise: float = 0.01,
        n: int = 5000,
        seed: int = 0,
        touch_rate: float = math.inf,
        wrong: Callable[[Sequence[int]], bool] = lambda config: False,
    ) -> None:
        self.effect = effect
        self.noise = noise
        self.n = n
        self.rng = random.Random(seed)
        self.touch_rate = touch_rate
        self.wrong = wrong
        self.compares = 0
        self.on_compare: Callable[[int], None] | None = None

    def prepare(self, genes: O.WorkloadGenes) -> FakePrepared:
        p = FakePrepared(genes, self.n)
        p.touch_rate = self.touch_rate
        return p

    def peak(self, prepared: FakePrepared, config: Sequence[int]) -> int:
        return int(min(config[0], prepared.n) * prepared.profile.object_size)

    def hold(self, prepared: FakePrepared, config: Sequence[int]) -> float:
        """A chunk's GIL hold: 1 microsecond per record of a batch on one thread, one record
        per worker's micro-batch in the pool (exact binary fractions do not round)."""
        records = min(config[0], prepared.n) if config[2] == 1 else min(config[1], prepared.n)
        return records / 1048576

    def check(self, prepared: FakePrepared, config: Sequence[int]) -> tuple[bool, int, float]:
        return (not self.wrong(config)), self.peak(prepared, config), self.hold(prepared, config)

    def default_peak(self, prepared: FakePrepared) -> int:
        return self.peak(prepared, DEFAULT_CONFIGURATION)

    def default_hold(self, prepared: FakePrepared) -> float:
        return self.hold(prepared, DEFAULT_CONFIGURATION)

    def compare(
        self,
        prepared: FakePrepared,
        configs: Mapping[str, Sequence[int]],
        *,
        rounds: int,
        seed: int,
        extra: Mapping[str, Callable[[], Any]] | None = None,
    ) -> measure.Measurement:
        self.compares += 1
        if self.on_compare is not None:
            self.on_compare(self.compares)
        names = tuple(configs) + tuple(extra or ())
        m = measure.Measurement(names=names, items={n: prepared.n for n in names})
        for name in names:
            m.samples[name] = []
        for _ in range(rounds):
            for name in names:
                factor = self.effect(prepared.kind, configs[name]) if name in configs else 3.0
                base = 1000.0 * prepared.n * factor
                m.samples[name].append(base * math.exp(self.rng.gauss(0.0, self.noise)))
            m.orders.append(names)
        return m


def settings(tmp_path: Path, **changes: Any) -> O.Settings:
    base: dict[str, Any] = {
        "generations": 2,
        "test_size": 5000,
        "archive": str(tmp_path / "archive.json"),
        "results": str(tmp_path / "results.json"),
        "verbose": 0,
        "seed": 7,
        "msgspec": False,
        "cores": 2,
        "population": 6,
        "command": "pytest",
        "real_data": False,
    }
    base.update(changes)
    return O.Settings(**base)


def genes(kind: str = "json", **changes: Any) -> O.WorkloadGenes:
    base: dict[str, Any] = {
        "field_count": 8,
        "string_length": 16,
        "constrained": 0.5,
        "costly": 0.5,
        "nesting": 0,
        "list_length": 0,
        "input_kind": kind,
        "seed": 1,
    }
    base.update(changes)
    return O.WorkloadGenes(**base)


def search(tmp_path: Path, measurer: Any, **changes: Any) -> O.Search:
    s = O.Search(settings(tmp_path, **changes), measurer)
    s.space = O.SearchSpace(cores=2, max_log2_batch=10)
    s.gates = {"noise_floor": 0.0, "tuned": {}, "knobs": {}}
    return s


T2 = O.ConfigGenes(10, 8, 2)  # 1024 / 256 / 2 threads
T2_OTHER = O.ConfigGenes(10, 6, 2)  # 1024 / 64 / 2 threads


# -- genes and variation -------------------------------------------------------------------------


def test_canonical_configuration_ignores_micro_batch_on_the_direct_path() -> None:
    space = O.SearchSpace(cores=2, max_log2_batch=14)
    assert space.canonical(O.ConfigGenes(12, 5, 1)) == O.ConfigGenes(12, 10, 1)
    assert space.canonical(O.ConfigGenes(12, 5, 2)) == O.ConfigGenes(12, 5, 2)
    assert space.canonical(O.ConfigGenes(20, 13, 9)) == O.ConfigGenes(14, 13, 2)
    assert space.canonical(O.ConfigGenes(7, 12, 2)) == O.ConfigGenes(7, 7, 2)
    frozen = O.SearchSpace(cores=2, tune_batch=False, tune_micro=False, tune_threads=True)
    assert frozen.canonical(O.ConfigGenes(8, 5, 2)) == O.ConfigGenes(13, 10, 2)
    # batch_size tuned, micro_batch_size not: every thread keeps a micro-batch of the chunk.
    untuned_micro = O.SearchSpace(cores=2, tune_micro=False)
    assert untuned_micro.canonical(O.ConfigGenes(8, 12, 2)) == O.ConfigGenes(8, 7, 2)
    assert untuned_micro.canonical(O.ConfigGenes(6, 4, 2)) == O.ConfigGenes(6, 5, 2)
    assert untuned_micro.canonical(O.ConfigGenes(12, 4, 2)) == O.ConfigGenes(12, 10, 2)
    assert untuned_micro.canonical(O.ConfigGenes(8, 4, 1)) == O.ConfigGenes(8, 8, 1)
    assert O.SearchSpace(cores=2, tune_threads=False).canonical(T2) == O.ConfigGenes(10, 10, 1)


def test_effective_configuration_is_what_the_engine_does() -> None:
    assert O.effective((8192, 1024, 1), 5000, 2) == O.effective((65536, 64, 1), 5000, 2)
    assert O.effective((8192, 1024, 2), 5000, 2) != O.effective((8192, 256, 2), 5000, 2)
    assert O.effective((8192, 1024, 4), 5000, 2) == (5000, 1024, 2)


def test_variation_stays_in_bounds_and_changes_the_configuration() -> None:
    rng = random.Random(3)
    space = O.SearchSpace(cores=2, max_log2_batch=15)
    for _ in range(300):
        w = O.random_workload(rng, ("json", "ndjson"))
        assert w.input_kind in ("json", "ndjson")
        m = O.mutate_workload(rng, w, ("json", "ndjson"))
        for g in (w, m):
            assert O.FIELD_COUNT[0] <= g.field_count <= O.FIELD_COUNT[1]
            assert O.STRING_LENGTH[0] <= g.string_length <= O.STRING_LENGTH[1]
            assert 0.0 <= g.constrained <= 1.0 and 0.0 <= g.costly <= 1.0
            assert 0 <= g.nesting <= O.NESTING_MAX and 0 <= g.list_length <= O.LIST_LENGTH_MAX
        c = O.random_config(rng, space)
        assert space.canonical(c) == c
        mc = O.mutate_config(rng, c, space)
        assert mc != c and space.canonical(mc) == mc
        child_w, child_c = O.crossover(rng, (w, c), (m, mc), space)
        for name in ("field_count", "string_length", "nesting", "input_kind"):
            assert getattr(child_w, name) in (getattr(w, name), getattr(m, name))
        assert child_c.threads in (c.threads, mc.threads)


def test_genes_round_trip_through_json() -> None:
    g = genes("ndjson", list_length=5)
    assert O.WorkloadGenes.from_json(orjson.loads(orjson.dumps(g.to_json()))) == g
    assert O.ConfigGenes.from_json(T2.to_json()) == T2
    assert T2.config() == BatchConfig(1024, 256, 2, "optimizer")


# -- replacement, demotion, keep-default -----------------------------------------------------------


def test_first_challenger_fills_a_cell_held_by_the_default_when_it_does_not_win(
    tmp_path: Path,
) -> None:
    s = search(tmp_path, FakeMeasurer())
    assert s.evaluate(genes("dicts"), T2) == "new"
    (cell,) = s.cells.values()
    assert cell.elite is None and cell.candidate == T2  # slower than the default: not an elite
    assert cell.speedup["median"] == pytest.approx(0.5, rel=0.05)
    assert cell.fitness == 1.0


def test_challenger_with_proven_win_becomes_the_elite(tmp_path: Path) -> None:
    s = search(tmp_path, FakeMeasurer())
    assert s.evaluate(genes("json"), T2) == "new"
    (cell,) = s.cells.values()
    assert cell.elite == T2 and cell.candidate is None
    assert cell.speedup["low"] > 1.9
    assert cell.fitness == pytest.approx(2.0, rel=0.05)


def test_elite_is_replaced_only_on_evidence(tmp_path: Path) -> None:
    def effect(kind: str, config: Sequence[int]) -> float:
        if config[2] == 1:
            return 1.0
        return {256: 0.5, 64: 0.5, 16: 0.25}.get(config[1], 0.5)

    s = search(tmp_path, FakeMeasurer(effect, noise=0.03))
    assert s.evaluate(genes("json"), T2) == "new"
    index = next(iter(s.cells))
    # Same true speed as the elite: noise alone never clears the bar.
    for seed in range(2, 12):
        assert s.evaluate(genes("json", seed=seed), T2_OTHER) == "kept"
        assert s.cells[index].elite == T2
    assert s.cells[index].replacements == 0
    # Twice as fast as the elite: replaced, and the evidence is the challenger's.
    faster = O.ConfigGenes(10, 4, 2)
    assert s.evaluate(genes("json", seed=99), faster) == "replaced"
    cell = s.cells[index]
    assert cell.elite == faster and cell.genes.seed == 99 and cell.replacements == 1
    assert cell.speedup["median"] == pytest.approx(4.0, rel=0.1)
    # The holder itself challenges nothing.
    assert s.evaluate(genes("json", seed=5), faster) == "duplicate"


def test_lucky_elite_is_demoted_when_remeasured(tmp_path: Path) -> None:
    lucky = {"on": True}

    def effect(kind: str, config: Sequence[int]) -> float:
        return 0.7 if (config[2] > 1 and lucky["on"]) else 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.05))
    s.evaluate(genes("json"), T2)
    cell = next(iter(s.cells.values()))
    assert cell.elite == T2
    lucky["on"] = False  # the advantage was noise: gone when timed again
    outcomes = [s.remeasure(cell) for _ in range(4) if cell.elite is not None]
    assert outcomes[-1] == "demoted"
    assert cell.elite is None and cell.candidate == T2 and cell.demotions == 1
    assert cell.measurements == len(cell.ratios) > s.settings.search_rounds


def test_true_elite_survives_remeasurement(tmp_path: Path) -> None:
    s = search(tmp_path, FakeMeasurer(noise=0.05))
    s.evaluate(genes("json"), T2)
    cell = next(iter(s.cells.values()))
    for _ in range(3):
        assert s.remeasure(cell) == "confirmed"
    assert cell.elite == T2 and cell.measurements == 4 * s.settings.search_rounds


@pytest.mark.parametrize(
    ("factor", "ships"),
    [(0.5, True), (0.95, True), (1 / 1.02, False), (1.0, False), (1.2, False)],
)
def test_cell_ships_only_above_the_bar(tmp_path: Path, factor: float, ships: bool) -> None:
    def effect(kind: str, config: Sequence[int]) -> float:
        # The elite alone (the heuristic's configuration, timed too, has two threads as well).
        return factor if tuple(config[:3]) == (1024, 256, 2) else 1.0

    s = search(tmp_path, FakeMeasurer(effect, noise=0.002))
    cell = O.CellRecord((1, 1, 1), genes("json"), FakePrepared(genes("json"), 1000).profile)
    cell.index = A.descriptor(s.grid, cell.profile)  # type: ignore[assignment]
    cell.elite = T2
    s.cells[cell.index] = cell
    s.correct()
    (archived,) = s.archive_cells()
    assert cell.final is not None
    assert cell.final["ship"] is ships
    assert archived.keep_default is (not ships)
    assert archived.speedup == pytest.approx(1 / factor, rel=0.01)
    assert archived.n_measurements == s.settings.final_rounds
    if ships:
        assert archived.elite == A.Elite(batch_size=1024, micro_batch_size=256, threads=2)
        assert archived.throughput > archived.default_throughput
    else:
        assert archived.throughput == archived.default_throughput


def test_memory_budget_makes_configurations_infeasible(tmp_path: Path) -> None:
    fake = FakeMeasurer()
    s = search(tmp_path, fake, memory_budget=200_000)
    g = genes("json")  # 212-byte records in the fake: 1024 of them are 217,088 bytes
    assert s.evaluate(g, O.ConfigGenes(10, 8, 2)) == "infeasible"
    assert s.rejected["infeasible"] == 1
    # The default itself is over the budget: the first feasible configuration takes the cell.
    assert s.evaluate(g, O.ConfigGenes(9, 8, 2)) == "new"
    (cell,) = s.cells.values()
    assert cell.elite == O.ConfigGenes(9, 8, 2)
    assert cell.peak_bytes == 512 * cell.profile.object_size


def test_implausible_and_wrong_results_are_rejected(tmp_path: Path) -> None:
    s = search(tmp_path, FakeMeasurer(touch_rate=1.0))
    assert s.evaluate(genes("json"), T2) == "implausible"
    s = search(tmp_path, FakeMeasurer(wrong=lambda config: config[2] > 1))
    assert s.evaluate(genes("json"), T2) == "wrong_results"
    assert not s.cells


# -- gates ----------------------------------------------------------------------------------------


def test_gates_freeze_knobs_that_do_not_move_throughput(tmp_path: Path) -> None:
    # 200 records: every batch_size variant holds them all, so none moves memory in flight.
    s = O.Search(settings(tmp_path), FakeMeasurer(noise=0.01, n=200))
    gates = s.run_gates()
    assert gates["noise_floor"] < 0.02
    knobs = gates["knobs"]
    assert knobs["threads"]["sensitive"] is True
    assert knobs["batch_size"]["sensitive"] is False
    assert knobs["micro_batch_size (threads=1)"]["sensitive"] is False
    assert knobs["micro_batch_size (threads=2)"]["sensitive"] is False
    assert gates["tuned"] == {"batch_size": False, "micro_batch_size": False, "threads": True}
    assert s.space.canonical(O.ConfigGenes(8, 5, 2)) == O.ConfigGenes(13, 10, 2)
    assert "batch_size" in gates["frozen_because"]


def test_gates_tune_batch_size_that_moves_memory_in_flight(tmp_path: Path) -> None:
    # 5000 records: batch_size=256 holds 256 of them in flight, the default all 5000.
    m = FakeMeasurer(noise=0.01, n=5000)
    s = O.Search(settings(tmp_path), m)
    gates = s.run_gates()
    batch = gates["knobs"]["batch_size"]
    assert batch["sensitive"] is False
    assert batch["moves_memory"] is True
    assert batch["largest_peak_ratio"] == 5000 / 256
    probe = gates["probes"][0]
    size = m.prepare(O.WorkloadGenes.from_json(probe["genes"])).profile.object_size
    assert probe["peak_bytes"] == {
        "default": int(5000 * size),
        "batch_size=256": int(256 * size),
        "batch_size=65536": int(5000 * size),
    }
    assert gates["tuned"] == {"batch_size": True, "micro_batch_size": False, "threads": True}
    assert gates["frozen_because"]["batch_size"] == (
        "no throughput effect beyond the noise floor; tuned for memory in flight (the front)"
    )
    # micro_batch_size is not tuned: it leaves each of the two threads a micro-batch of 128.
    assert s.space.canonical(O.ConfigGenes(8, 5, 2)) == O.ConfigGenes(8, 7, 2)


def test_gates_tune_batch_size_under_a_memory_budget(tmp_path: Path) -> None:
    s = O.Search(settings(tmp_path, memory_budget=1 << 20), FakeMeasurer(noise=0.01))
    assert s.run_gates()["tuned"]["batch_size"] is True


def test_gates_refuse_implausible_timings(tmp_path: Path) -> None:
    s = O.Search(settings(tmp_path), FakeMeasurer(touch_rate=1.0))
    with pytest.raises(RuntimeError, match="implausible"):
        s.run_gates()


# -- whole runs: archive, results, resume ---------------------------------------------------------


def test_run_writes_a_valid_archive_and_results(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=3)
    assert O.run(s, measurer=FakeMeasurer()) == 0
    archive = A.load_archive(s.archive)
    assert archive.optimizer is not None and archive.optimizer.generation == 3
    assert archive.provenance.generations == 3 and archive.provenance.command == "pytest"
    assert archive.provenance.test_size == 5000
    assert archive.grid == O.default_grid()
    assert archive.cells
    shipped = 0
    for cell in archive.cells:
        kind = cell.profile.input_kind
        # The fake pool halves JSON time and doubles dict time: dicts never ship (three
        # generations over every knob need not find the pool in every JSON cell).
        assert cell.keep_default or kind != "dicts"
        shipped += not cell.keep_default
        default = next(p for p in cell.front if p.default)
        for p in cell.front:
            # Every other point claims a speedup or, as a memory point, the default's speed
            # within the margin with less memory in flight.
            fast = p.speedup_ci_low > O.SHIP_THRESHOLD
            lean = p.speedup_ci_low > 1 / O.SHIP_THRESHOLD and p.peak_bytes < default.peak_bytes
            assert p.default or fast or lean
        if not cell.keep_default:
            assert isinstance(cell.elite, A.Elite) and cell.elite.threads == 2
            assert cell.speedup_ci_low > O.SHIP_THRESHOLD
            # The GIL hold is measured: the fake's, one record per worker's micro-batch.
            assert cell.max_gil_hold == cell.elite.micro_batch_size / 1048576
        else:
            assert cell.max_gil_hold == 5000 / 1048576  # the default, 5000 records at once
        assert [p.max_gil_hold for p in cell.front if p.default] == [5000 / 1048576]
    assert shipped >= sum(c.profile.input_kind != "dicts" for c in archive.cells) - 1
    # batch_size moves memory in flight in the fake: the search finds memory points.
    assert any(
        p.speedup_ci_low <= O.SHIP_THRESHOLD and not p.default
        for c in archive.cells
        for p in c.front
    )
    assert [c.action for c in archive.history] == ["optimize"]
    results = orjson.loads(Path(s.results).read_bytes())  # type: ignore[arg-type]
    assert results["complete"] is True and results["corrected"] is True
    assert [g["generation"] for g in results["generations"]] == [1, 2, 3]
    assert all(0 < g["coverage"] <= 1 for g in results["generations"])
    assert results["noise_floor"] == archive.optimizer.random_state["search"]["gates"]["noise_floor"]
    assert results["knob_sensitivity"]["threads"] is True
    assert len(results["cells"]) == len(archive.cells)
    assert results["keep_default_share"] == pytest.approx(
        sum(c.keep_default for c in archive.cells) / len(archive.cells)
    )
    assert set(results["speedup_percentiles"]["shipped"]) == {"p5", "p50", "p95"}
    row = results["cells"][0]
    assert set(row["items_per_s"]) == {"tuned", "default", "heuristic", "best_candidate"}
    assert set(row["peak_bytes"]) == {"tuned", "default", "best", "heuristic"}
    assert set(row["max_gil_hold"]) == {"tuned", "default", "best", "heuristic"}
    for r in results["cells"]:
        # Every front point the correction timed, kept when its fresh bound clears the bar,
        # or (the heuristic's) for its memory: within the margin below 1, with less in flight.
        # (a point that clears a bar is dropped only when another kept point dominates it).
        default_peak = r["peak_bytes"]["default"]

        def dominated(p: dict[str, Any], kept: list[dict[str, Any]]) -> bool:
            def key(q: dict[str, Any]) -> tuple[float, int, float]:
                return (-q["speedup"]["median"], q["peak_bytes"], q["max_gil_hold"])
            return any(q is not p and all(a <= b for a, b in zip(key(q), key(p)))
                       and key(q) != key(p) for q in kept)

        kept_points = [p for p in r["front"] if p["kept"]]
        for p in r["front"]:
            clears = p["speedup"]["low"] > 1.03 or (
                p["memory"] and p["speedup"]["low"] > 1 / 1.03 and p["peak_bytes"] < default_peak
            )
            assert p["kept"] == (clears and not dominated(p, kept_points))
        # A memory point is never the elite.
        assert not any(p["memory"] and list(p["config"]) == r["elite"] for p in r["front"])
    assert "msgspec_items_per_s" not in row
    # The archive works for the selector: a JSON cell answers with its elite.
    json_cell = next(c for c in archive.cells if not c.keep_default)
    p = json_cell.profile
    profile = Profile(p.field_count, p.avg_string_length, p.constraint_complexity,
                      p.object_size, p.input_kind, 5000)
    config = Selector(archive).select(profile)
    assert config.source == "archive-exact" and config.threads == 2


def test_resume_continues_the_generation_count(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=2)
    assert O.run(s, measurer=FakeMeasurer(seed=1)) == 0
    first = A.load_archive(s.archive)
    assert first.optimizer is not None
    state = first.optimizer.random_state["search"]
    assert first.optimizer.generation == 2 and state["sessions"] == 1
    gates = state["gates"]
    fake = FakeMeasurer(seed=2)
    assert O.run(settings(tmp_path, generations=4), measurer=fake) == 0
    second = A.load_archive(s.archive)
    assert second.optimizer is not None
    assert second.optimizer.generation == 4
    assert second.optimizer.evaluations > first.optimizer.evaluations
    state = second.optimizer.random_state["search"]
    assert state["gates"] == gates  # the gates are not run again
    assert [h["generation"] for h in state["history"]] == [1, 2, 3, 4]
    assert state["sessions"] == 2
    assert [c.action for c in second.history] == ["optimize", "optimize"]
    assert second.history[1].summary.startswith("generations 3..4")
    # Asked for no more than it has: nothing is measured again.
    fake = FakeMeasurer(seed=3)
    assert O.run(settings(tmp_path, generations=4), measurer=fake) == 0
    assert fake.compares == 0
    assert A.load_archive(s.archive).optimizer.generation == 4  # type: ignore[union-attr]


def test_resume_gives_the_same_offspring_as_an_uninterrupted_search(tmp_path: Path) -> None:
    a = O.Search(settings(tmp_path), FakeMeasurer(noise=0.0))
    a.run_gates()
    a.run_generation()
    saved = (a.generation, a.evaluations, orjson.loads(orjson.dumps(a.state_json())))
    b = O.Search(settings(tmp_path, seed=999), FakeMeasurer(noise=0.0))
    b.restore(*saved)
    assert b.generation == 1 and b.cells.keys() == a.cells.keys()
    assert b.offspring() == a.offspring()


def test_interrupt_saves_the_last_complete_generation(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=4)
    fake = FakeMeasurer()

    def interrupt(count: int) -> None:
        if count == 6 + 2 * s.population + 3:  # gates, two generations, then mid-generation
            raise KeyboardInterrupt

    fake.on_compare = interrupt
    assert O.run(s, measurer=fake) == 130
    saved = A.load_archive(s.archive)
    assert saved.optimizer is not None and saved.optimizer.generation == 2
    assert saved.history[-1].summary.endswith("interrupted")
    results = orjson.loads(Path(s.results).read_bytes())  # type: ignore[arg-type]
    assert results["interrupted"] is True and results["complete"] is False
    assert O.run(s, measurer=FakeMeasurer()) == 0
    done = A.load_archive(s.archive)
    assert done.optimizer is not None and done.optimizer.generation == 4


def test_resume_with_another_test_size_or_memory_budget(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=1)
    assert O.run(s, measurer=FakeMeasurer()) == 0
    with pytest.raises(A.ArchiveError, match="--memory-budget"):
        O.run(settings(tmp_path, generations=2, memory_budget=1 << 20), measurer=FakeMeasurer())
    # Another test size continues the search (the correction re-measures every cell with it).
    assert O.run(settings(tmp_path, generations=2, test_size=60000), measurer=FakeMeasurer()) == 0
    resumed = A.load_archive(s.archive)
    assert resumed.optimizer is not None and resumed.optimizer.generation == 2
    assert resumed.provenance.test_size == 60000
    state = resumed.optimizer.random_state["search"]
    assert state["test_size"] == 60000 and state["space"]["max_log2_batch"] == 16


def test_resume_without_a_new_generation_keeps_the_seed_and_remeasures_another_test_size(
    tmp_path: Path,
) -> None:
    """Before: resuming a finished search rewrote its provenance to this run's seed (42, the
    default) and test size, though nothing was drawn or measured with them."""
    s = settings(tmp_path, generations=1, seed=11)
    assert O.run(s, measurer=FakeMeasurer()) == 0
    first = A.load_archive(s.archive)
    assert first.provenance.seed == 11
    # Another --seed (7 here), for one more generation: the search of seed 11 goes on.
    assert O.run(settings(tmp_path, generations=2), measurer=FakeMeasurer()) == 0
    again = A.load_archive(s.archive)
    assert again.provenance.seed == 11
    assert again.optimizer.random_state["search"]["seed"] == 11  # type: ignore[union-attr]
    # Another test size and no new generation: every cell is measured again with it.
    fake = FakeMeasurer()
    assert O.run(settings(tmp_path, generations=2, test_size=60000), measurer=fake) == 0
    assert fake.compares > 0
    resumed = A.load_archive(s.archive)
    assert resumed.provenance.test_size == 60000
    assert resumed.optimizer.random_state["search"]["corrected"] is True  # type: ignore[union-attr]


def test_resume_refuses_foreign_archives(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=1)
    assert O.run(s, measurer=FakeMeasurer()) == 0
    foreign = tmp_path / "foreign.json"
    doc = orjson.loads(Path(s.archive).read_bytes())
    doc["optimizer"] = None  # an archive written by another tool (a refresh, by hand)
    foreign.write_bytes(orjson.dumps(doc))
    with pytest.raises(A.ArchiveError, match="no optimizer state"):
        O.run(settings(tmp_path, archive=str(foreign)), measurer=FakeMeasurer())


def test_main_reports_archive_errors_in_one_line(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert O.main(["--archive", str(bad), "--verbose", "0"], prog="opt") == 2
    err = capsys.readouterr().err
    assert err.startswith("opt: error: ") and "not valid JSON" in err and "Traceback" not in err


def test_stored_workloads_regenerate_cells(tmp_path: Path) -> None:
    s = settings(tmp_path, generations=1)
    O.run(s, measurer=FakeMeasurer())
    archive = A.load_archive(s.archive)
    stored = O.stored_workloads(archive)
    assert set(stored) == {tuple(c.index) for c in archive.cells}
    spec, seed = next(iter(stored.values()))
    assert spec.invalid_rate == O.INVALID_RATE and isinstance(seed, int)
    genes_by_cell = O.stored_genes(archive)
    assert genes_by_cell.keys() == stored.keys()
    # Without the search state, the cells' `workload` (spec, seed, kind) gives the same genes.
    bare = A.decode_archive(A.encode_archive(archive))
    bare.optimizer = None
    assert O.stored_genes(bare) == genes_by_cell
    for cell in archive.cells:
        assert cell.workload is not None
        assert cell.workload["seed"] == genes_by_cell[tuple(cell.index)].seed


# -- command line ---------------------------------------------------------------------------------


def test_parser_has_the_flags_of_the_original_tool() -> None:
    p = O.build_parser("opt")
    args = p.parse_args(
        [
            *("--generations", "2", "--test-size", "5000", "--save-every", "1"),
            *("--verbose", "2", "--no-msgspec", "--seed", "42", "--archive", "a.json"),
            *("--results", "r.json", "--time-budget", "90", "--input-kind", "json"),
            *("--memory-budget", "64MiB"),
        ]
    )
    assert (args.generations, args.test_size, args.save_every, args.verbose, args.seed) == (
        2, 5000, 1, 2, 42
    )
    assert args.no_msgspec and args.archive == "a.json" and args.results == "r.json"
    assert args.time_budget == 90.0 and args.input_kind == "json"
    assert args.memory_budget == 64 << 20
    st = O.settings_from_args(args, "cmd")
    assert st.input_kinds == ("json",) and not st.msgspec and st.command == "cmd"
    assert O.settings_from_args(p.parse_args([])).input_kinds == O.INPUT_KINDS
    for bad in (["--verbose", "3"], ["--memory-budget", "lots"], ["--test-size", "0"],
                ["--time-budget", "-1"], ["--input-kind", "xml"]):
        with pytest.raises(SystemExit):
            p.parse_args(bad)


def test_grid_counts() -> None:
    grid = O.default_grid()
    assert O.grid_cells(grid) == 3 * 4 * 3
    assert O.grid_cells(grid, ("json",)) == 12


# -- the real measurer, small ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
def test_real_measurer_prepares_and_checks(kind: str) -> None:
    m = O.Measurer(600, sample_ns=1e5)
    p = m.prepare(genes(kind, field_count=5, string_length=6))
    assert p.n == 600 and p.profile.input_kind == kind
    assert A.descriptor(O.default_grid(), p.profile) is not None
    same, peak, hold = m.check(p, (64, 16, 2))
    assert same and peak > 0 and hold > 0
    assert m.default_hold(p) > 0
    r = p.run((100, 10, 1))
    assert r.valid == p.expected_valid  # the generator's truth, through the tiling
    assert m.default_peak(p) > 0
    meas = m.compare(p, {"default": DEFAULT_CONFIGURATION, "small": (64, 64, 1)}, rounds=3, seed=0)
    assert meas.rounds == 3 and 0 < meas.summary("default").items_per_s < p.touch_rate


def test_argparse_namespace_defaults_match_settings() -> None:
    args = O.build_parser().parse_args([])
    assert isinstance(args, argparse.Namespace)
    st = O.settings_from_args(args)
    assert (st.generations, st.save_every, st.seed, st.archive, st.results) == (
        O.Settings().generations, 1, 42, O.DEFAULT_ARCHIVE, O.DEFAULT_RESULTS
    )


# -- the parts: typed knobs, typed correction, typed resume state ---------------------------------


def test_gate_variants_name_the_knob_they_probe() -> None:
    from satya_adapt.tuning.gates import Knob, variants

    assert [(v.name, v.config, v.knob, v.against) for v in variants(2)] == [
        ("default", (8192, 1024, 1), None, "default"),
        ("default (A/A)", (8192, 1024, 1), None, "default"),
        ("batch_size=256", (256, 256, 1), Knob.BATCH_SIZE, "default"),
        ("batch_size=65536", (65536, 1024, 1), Knob.BATCH_SIZE, "default"),
        ("micro_batch_size=64, threads=1", (8192, 64, 1), Knob.MICRO_DIRECT, "default"),
        ("threads=2", (8192, 1024, 2), Knob.THREADS, "default"),
        ("threads=2, micro_batch_size=64", (8192, 64, 2), Knob.MICRO_POOL, "threads=2"),
        ("threads=2, micro_batch_size=4096", (8192, 4096, 2), Knob.MICRO_POOL, "threads=2"),
    ]
    assert [v.name for v in variants(1)][-1] == "micro_batch_size=64, threads=1"
    assert [k.label(4) for k in Knob] == [
        "batch_size",
        "micro_batch_size (threads=1)",
        "threads",
        "micro_batch_size (threads=4)",
    ]


def test_correction_result_is_typed_and_stored_as_before(tmp_path: Path) -> None:
    # The elite alone is faster (the heuristic's configuration has two threads as well).
    fast = FakeMeasurer(lambda kind, config: 0.5 if tuple(config[:3]) == (1024, 256, 2) else 1.0)
    s = search(tmp_path, fast)
    cell = O.CellRecord((1, 1, 1), genes("json"), FakePrepared(genes("json"), 1000).profile)
    cell.index = A.descriptor(s.grid, cell.profile)  # type: ignore[assignment]
    cell.elite = T2
    s.cells[cell.index] = cell
    s.correct()
    final = cell.final
    assert final is not None
    assert final.ship is True and final["ship"] is True
    assert final.best == (1024, 256, 2)
    assert final.speedup.low > 1.03 and final.rounds == s.settings.final_rounds
    doc = cell.to_json()["final"]
    assert list(doc) == [
        "ship", "best", "best_is_default", "speedup", "spread", "items_per_s", "heuristic",
        "heuristic_speedup", "peak_bytes", "default_over_budget", "implausible", "msgspec_note",
        "rounds", "n", "max_gil_hold", "front", "confirmation",
    ]
    assert doc["confirmation"] is None  # no other data fell in the cell
    assert list(doc["max_gil_hold"]) == ["tuned", "default", "best", "heuristic"]
    assert final.max_gil_hold is not None
    assert (final.max_gil_hold.tuned, final.max_gil_hold.default) == (256 / 1048576, 5000 / 1048576)
    assert list(doc["speedup"]) == ["median", "low", "high", "coverage", "rounds"]
    assert list(doc["items_per_s"]) == ["tuned", "default", "best", "heuristic", "msgspec"]
    assert O.CellRecord.from_json(orjson.loads(orjson.dumps(cell.to_json()))) == cell


def test_resume_state_that_cannot_be_read_is_an_archive_error(tmp_path: Path) -> None:
    a = O.Search(settings(tmp_path), FakeMeasurer(noise=0.0))
    state = orjson.loads(orjson.dumps(a.state_json()))
    state["search"]["cells"] = [{"index": [0, 0, 0]}]
    b = O.Search(settings(tmp_path), FakeMeasurer(noise=0.0))
    with pytest.raises(A.ArchiveError, match=r"^the archive's search state cannot be read: "):
        b.restore(0, 0, state)
