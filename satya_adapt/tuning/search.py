"""The MAP-Elites search: cells, the random state, and one generation at a time.

An individual carries workload genes (:class:`~satya_adapt.tuning.space.WorkloadGenes`: field
count, string length, constraint mix, nesting, a list that sets the record size, input kind,
data seed) and configuration genes (:class:`~satya_adapt.tuning.space.ConfigGenes`: log2
batch_size, log2 micro_batch_size, threads). Its data is generated, its profile *measured* on
that data (``Validator.profile``) and binned into a cell
(:func:`satya_adapt.archive.descriptor`); it competes only inside that cell. Each generation
holds random immigrants, crossovers between two elites and log-space mutations of one elite,
plus re-measurements of a share of the elites.

**Fitness** is throughput relative to the default configuration, timed on the same data in
interleaved rounds (warm-up, calibrated calls per sample, several rounds; medians and
order-statistic intervals from :mod:`satya_adapt.tuning.measure`). A cell starts held by the
default configuration; a challenger takes it only when the lower bound of its paired speedup
over the holder (the default or the elite, timed in the same rounds) exceeds 1. Re-measured
elites pool their old and fresh rounds; one whose pooled lower bound falls to 1 or below is
demoted (its advantage was noise). Every configuration is also run once and its results
compared with the default configuration's (a configuration that changes the results is
rejected), which also records its peak bytes in flight and its longest GIL hold; with a memory
budget, a configuration above it is infeasible.

**Fronts.** Besides its elite, a cell keeps every evaluated configuration whose speedup over
the default has a lower bound above 1, and every *memory point*: a configuration with less
memory in flight than the default at the default's throughput within the shipping margin
(lower bound above ``1 / ship_threshold``); both are filtered to the non-dominated ones over
(speedup, peak bytes, GIL hold) and capped at :data:`~satya_adapt.tuning.state.FRONT_CAP`.
Re-measurement drops those whose pooled lower bound no longer clears their bar. **Real data:** a third of the immigrants draw
a training real-data workload (:mod:`~satya_adapt.tuning.realdata`) when the search has some.

The gates (:mod:`~satya_adapt.tuning.gates`) run before the first generation, the correction
(:mod:`~satya_adapt.tuning.correction`) after the last; :mod:`~satya_adapt.tuning.report`
turns a search into an archive and a results document; :mod:`~satya_adapt.tuning.state` holds
what a resumed search continues from.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Callable

import msgspec

from .. import archive as _archive
from ..config import DEFAULT_CONFIGURATION, SHIP_THRESHOLD, effective
from ..errors import ArchiveError
from ..profile import INPUT_KINDS
from . import measure, report
from .correction import confirm_cell, correct_cell, memory_point
from .gates import run_gates
from .space import (
    DEFAULT_GENES,
    ConfigGenes,
    SearchSpace,
    WorkloadGenes,
    crossover,
    default_grid,
    grid_cells,
    max_log2_batch,
    mutate_config,
    mutate_real,
    mutate_workload,
    random_config,
    random_real,
    random_workload,
)
from .state import (
    FRONT_CAP,
    SEARCH_STATE_VERSION,
    CellRecord,
    FrontCandidate,
    SearchState,
    decode_search_state,
    front_of,
)

__all__ = [
    "DEFAULT_ARCHIVE",
    "DEFAULT_RESULTS",
    "FRONT_CORRECTED",
    "FRONT_REMEASURED",
    "REAL_SHARE",
    "Search",
    "Settings",
]

DEFAULT_ARCHIVE = os.path.join("benchmarks", "map_elites_archive.json")
DEFAULT_RESULTS = os.path.join("benchmarks", "map_elites_results.json")
#: The share of immigrants drawn from the real-data workloads (when there are).
REAL_SHARE = 1 / 3
#: Front points re-measured with a cell's elite (those with the fewest rounds behind them).
FRONT_REMEASURED = 3
#: Front points the correction times besides the best configuration (most diverse in peak bytes).
FRONT_CORRECTED = 3


@dataclass
class Settings:
    """Everything a run needs; :func:`main` fills it from the command line."""

    generations: int = 50
    test_size: int = 20000
    save_every: int = 1
    archive: str = DEFAULT_ARCHIVE
    results: str | None = DEFAULT_RESULTS
    verbose: int = 1
    seed: int = 42
    msgspec: bool = True
    time_budget: float | None = None
    input_kinds: tuple[str, ...] = INPUT_KINDS
    memory_budget: int | None = None
    population: int = 8
    search_rounds: int = 9
    final_rounds: int = 9
    gate_rounds: int = 9
    sample_ns: float = 1e7
    immigrant_share: float = 0.25
    crossover_share: float = 0.25
    remeasure_share: float = 0.15
    ship_threshold: float = SHIP_THRESHOLD
    command: str | None = None
    cores: int | None = None
    real_data: bool = True

    def __post_init__(self) -> None:
        if self.generations < 0:
            raise ValueError(f"`generations` must be >= 0, got {self.generations}")
        if self.test_size < 1:
            raise ValueError(f"`test_size` must be >= 1, got {self.test_size}")
        if self.save_every < 1:
            raise ValueError(f"`save_every` must be >= 1, got {self.save_every}")
        if self.final_rounds < 5:
            raise ValueError(f"`final_rounds` must be >= 5, got {self.final_rounds}")
        if self.search_rounds < 3 or self.gate_rounds < 3:
            raise ValueError("`search_rounds` and `gate_rounds` must be >= 3")
        if self.population < 1:
            raise ValueError(f"`population` must be >= 1, got {self.population}")
        bad = [k for k in self.input_kinds if k not in INPUT_KINDS]
        if bad or not self.input_kinds:
            raise ValueError(f"`input_kinds` must be among {INPUT_KINDS}, got {self.input_kinds}")
        if self.memory_budget is not None and self.memory_budget < 1:
            raise ValueError(f"`memory_budget` must be >= 1 byte, got {self.memory_budget}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ValueError(f"`time_budget` must be > 0 seconds, got {self.time_budget}")



class Search:
    """A MAP-Elites search over one grid; holds the cells, the random state and the counts."""

    def __init__(
        self,
        settings: Settings,
        measurer: Any,
        *,
        grid: _archive.Grid | None = None,
        log: Callable[[int, str], None] = lambda level, message: None,
        clock: Callable[[], float] = time.monotonic,
        real_workloads: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        #: The training real-data workloads immigrants may draw (never a held-out one).
        self.real_workloads = list(real_workloads)
        self.measurer = measurer
        self.grid = grid if grid is not None else default_grid()
        self.log = log
        self.clock = clock
        self.cores = settings.cores or measure.usable_cores()
        self.rng = random.Random(settings.seed)
        self.generation = 0
        self.evaluations = 0
        self.cells: dict[tuple[int, ...], CellRecord] = {}
        self.gates: dict[str, Any] | None = None
        self.space = SearchSpace(cores=self.cores, max_log2_batch=max_log2_batch(settings.test_size))
        self.history: list[dict[str, Any]] = []
        self.rejected: dict[str, int] = {
            "implausible": 0,
            "infeasible": 0,
            "wrong_results": 0,
            "duplicate": 0,
            "outside_grid": 0,
        }
        self.search_seconds = 0.0
        self.corrected = False
        self.sessions = 0


    # -- state ----------------------------------------------------------------------------------

    def state_json(self) -> dict[str, Any]:
        """The search state for ``optimizer.random_state`` (JSON values only)."""
        doc = _archive.rng_state_to_json(self.rng)
        doc["search"] = msgspec.to_builtins(
            SearchState(
                version=SEARCH_STATE_VERSION,
                test_size=self.settings.test_size,
                input_kinds=list(self.settings.input_kinds),
                memory_budget=self.settings.memory_budget,
                seed=self.settings.seed,
                space=self.space,
                gates=self.gates,
                cells=list(self.cells.values()),
                history=self.history,
                rejected=dict(self.rejected),
                search_seconds=self.search_seconds,
                corrected=self.corrected,
                sessions=self.sessions,
            )
        )
        return doc

    def restore(self, generation: int, evaluations: int, state: Any) -> None:
        """Continues from a saved state (see :meth:`state_json`)."""
        search = decode_search_state(state)
        s = self.settings
        if search.memory_budget != s.memory_budget:
            raise ArchiveError(
                f"the archive's search used --memory-budget {search.memory_budget!r},"
                f" this run asks for {s.memory_budget!r}; resume with the same value or choose"
                " another --archive"
            )
        changed = [
            f"{flag} {old!r} -> {value!r}"
            for old, value, flag in (
                (search.test_size, s.test_size, "--test-size"),
                (search.input_kinds, list(s.input_kinds), "--input-kind"),
            )
            if old != value
        ]
        if changed:
            # New evaluations use the new values; the correction re-measures every cell with
            # them (a corrected search too: its archive said the new test size of cells
            # measured at the old one), so the archive written at the end is consistent.
            self.log(1, "resuming with other settings: " + ", ".join(changed))
        if search.seed is not None and search.seed != s.seed:
            # --seed starts a new search; a resumed one goes on with its own (the archive
            # said the new seed of a search it had not drawn).
            self.log(1, f"resuming the search of seed {search.seed} (--seed {s.seed} is a new search's)")
            self.settings = replace(s, seed=search.seed)
        self.rng = _archive.rng_from_json(state)
        self.generation = generation
        self.evaluations = evaluations
        self.space = replace(
            search.space, cores=self.cores, max_log2_batch=max_log2_batch(s.test_size)
        )
        self.gates = search.gates
        self.cells = {cell.index: cell for cell in search.cells}
        self.history = list(search.history)
        self.rejected.update(search.rejected)
        self.search_seconds = search.search_seconds
        self.corrected = search.corrected and not changed
        self.sessions = search.sessions

    # -- gates ----------------------------------------------------------------------------------

    def run_gates(self) -> dict[str, Any]:
        """Runs the gates (:func:`satya_adapt.tuning.gates.run_gates`) and freezes the knobs that
        do not move throughput beyond the noise."""
        s = self.settings
        gates = run_gates(
            self.measurer,
            input_kinds=s.input_kinds,
            seed=s.seed,
            rounds=s.gate_rounds,
            cores=self.cores,
            ship_threshold=s.ship_threshold,
            memory_budget=s.memory_budget,
            rng=self.rng,
            log=self.log,
        )
        self.space = replace(
            self.space,
            tune_batch=gates.tune_batch,
            tune_threads=gates.tune_threads,
            tune_micro=gates.tune_micro,
        )
        self.gates = gates.document
        return self.gates

    # -- one evaluation -------------------------------------------------------------------------

    def evaluate(self, genes: WorkloadGenes, config: ConfigGenes) -> str:
        """Generates the data, finds the cell, times the challenger against the holder; returns
        what happened (``"new"``, ``"replaced"``, ``"kept"``, or a rejection)."""
        s = self.settings
        prepared = self.measurer.prepare(genes)
        index = _archive.descriptor(self.grid, prepared.profile)
        if index is None:
            self.rejected["outside_grid"] += 1
            return "outside_grid"
        n = prepared.n
        config = self.space.canonical(config)
        challenger = config.config()
        cell = self.cells.get(index)
        holder = cell.elite if cell is not None else None
        holder_config = holder.config() if holder is not None else DEFAULT_CONFIGURATION
        if effective(challenger, n, self.cores) == effective(holder_config, n, self.cores):
            self.rejected["duplicate"] += 1
            return "duplicate"
        same, peak, hold = self.measurer.check(prepared, challenger)
        if not same:
            self.rejected["wrong_results"] += 1
            self.log(1, f"configuration {tuple(challenger[:3])} changed the results on {genes}")
            return "wrong_results"
        default_peak = self.measurer.default_peak(prepared)
        default_hold = self.measurer.default_hold(prepared)
        budget = s.memory_budget
        if budget is not None and peak > budget:
            self.rejected["infeasible"] += 1
            return "infeasible"
        default_over = budget is not None and default_peak > budget
        configs: dict[str, Sequence[Any]] = {"default": DEFAULT_CONFIGURATION, "challenger": challenger}
        if holder is not None:
            configs["holder"] = holder_config
        m = self._time(prepared, configs)
        if m is None:
            return "implausible"
        vs_default = m.speedup("challenger", "default")
        if holder is not None:
            vs_holder = m.speedup("challenger", "holder")
            wins = vs_holder.ci.low > 1.0
        else:
            wins = default_over or vs_default.ci.low > 1.0
        new = cell is None
        if cell is None:
            cell = CellRecord(index, genes, prepared.profile, default_peak_bytes=default_peak)
            self.cells[index] = cell
        cell.note_data(genes)
        cell.challenges += 1
        fast = default_over or vs_default.ci.low > 1.0
        if fast or self._lean(vs_default.ci.low, peak, default_peak):
            self._add_front(
                cell,
                FrontCandidate(
                    config,
                    list(vs_default.ratios),
                    m.summary("challenger").items_per_s,
                    peak,
                    hold,
                    memory=not fast,
                ),
            )
        evidence = {
            "genes": genes,
            "profile": prepared.profile,
            "ratios": list(vs_default.ratios),
            "rate": m.summary("challenger").items_per_s,
            "default_rate": m.summary("default").items_per_s,
            "peak_bytes": peak,
            "default_peak_bytes": default_peak,
            "max_gil_hold": hold,
            "default_max_gil_hold": default_hold,
            "measurements": len(vs_default.ratios),
        }
        if wins:
            for k, v in evidence.items():
                setattr(cell, k, v)
            cell.elite, cell.candidate = config, None
            if not new:
                cell.replacements += 1
            return "new" if new else "replaced"
        if cell.elite is None and (
            cell.candidate is None or vs_default.median > cell.speedup.median
        ):
            for k, v in evidence.items():
                setattr(cell, k, v)
            cell.candidate = config
        return "new" if new else "kept"

    def _time(
        self, prepared: Any, configs: Mapping[str, Sequence[Any]]
    ) -> measure.Measurement | None:
        """One evaluation: ``configs`` timed in ``search_rounds`` interleaved rounds; ``None``
        (counted as a rejection) when a timing is faster than touching the data."""
        m: measure.Measurement = self.measurer.compare(
            prepared, configs, rounds=self.settings.search_rounds, seed=self.rng.randrange(1 << 31)
        )
        self.evaluations += 1
        if any(m.summary(name).items_per_s > prepared.touch_rate for name in configs):
            self.rejected["implausible"] += 1
            return None
        return m

    def _lean(self, low: float, peak: int, default_peak: int) -> bool:
        """Whether a configuration earns a front place for its memory: less memory in flight
        than the default configuration at the default's throughput within the shipping margin
        (the lower bound of its speedup above ``1 / ship_threshold``)."""
        return memory_point(low, peak, default_peak, self.settings.ship_threshold)

    def _add_front(self, cell: CellRecord, candidate: FrontCandidate) -> None:
        """Adds ``candidate`` to the cell's front (pooling the rounds of a configuration already
        there) and keeps the non-dominated candidates, at most :data:`FRONT_CAP`."""
        for old in cell.front:
            if old.config == candidate.config:
                old.ratios = old.ratios + candidate.ratios
                old.rate, old.peak_bytes = candidate.rate, candidate.peak_bytes
                old.max_gil_hold = candidate.max_gil_hold
                # The pooled rounds decide what the point claims (a speedup, or memory).
                old.memory = (candidate.memory or old.memory) and old.speedup.low <= 1.0
                break
        else:
            cell.front = [*cell.front, candidate]
        cell.front = front_of(cell.front, FRONT_CAP)

    def remeasure(self, cell: CellRecord) -> str:
        """Times the elite and up to :data:`FRONT_REMEASURED` other front points against the
        default again on the cell's data; pools the rounds and demotes the elite (and drops a
        front point) whose pooled lower bound no longer exceeds 1."""
        s = self.settings
        prepared = self.measurer.prepare(cell.genes)
        configs: dict[str, Sequence[Any]] = {"default": DEFAULT_CONFIGURATION}
        if cell.elite is not None:
            configs["elite"] = cell.elite.config()
        others = [p for p in cell.front if p.config != cell.elite]
        others.sort(key=lambda p: len(p.ratios))
        points = {f"front{i}": p for i, p in enumerate(others[:FRONT_REMEASURED])}
        for name, p in points.items():
            configs[name] = p.config.config()
        own = next((p for p in cell.front if p.config == cell.elite), None)
        if own is not None:
            points["elite"] = own
        if len(configs) == 1:
            return "confirmed"
        m = self._time(prepared, configs)
        if m is None:
            return "implausible"
        budget = s.memory_budget
        default_over = budget is not None and cell.default_peak_bytes > budget
        for name, p in points.items():
            p.ratios = p.ratios + list(m.speedup(name, "default").ratios)
            p.rate = m.summary(name).items_per_s
        dropped = []
        for p in points.values():
            if p.speedup.low > 1.0 or default_over:
                p.memory = False
            elif p.config != cell.elite and self._lean(
                p.speedup.low, p.peak_bytes, cell.default_peak_bytes
            ):
                p.memory = True  # no speedup any more, but still the default's speed, leaner
            else:
                dropped.append(p)
        if dropped:
            cell.front = [p for p in cell.front if all(p is not d for d in dropped)]
            cell.front_demotions += len(dropped)
        cell.default_rate = m.summary("default").items_per_s
        if cell.elite is None:
            return "confirmed"
        fresh = m.speedup("elite", "default")
        cell.ratios = cell.ratios + list(fresh.ratios)
        cell.measurements = len(cell.ratios)
        cell.rate = m.summary("elite").items_per_s
        if cell.speedup.low <= 1.0 and not default_over:
            cell.candidate, cell.elite = cell.elite, None
            cell.demotions += 1
            return "demoted"
        return "confirmed"

    # -- one generation -------------------------------------------------------------------------

    def _parents(self) -> list[CellRecord]:
        return [self.cells[k] for k in sorted(self.cells)]

    def _genome(self, cell: CellRecord) -> tuple[WorkloadGenes, ConfigGenes]:
        best = cell.best
        return cell.genes, best if best is not None else DEFAULT_GENES

    def offspring(self) -> list[tuple[str, WorkloadGenes, ConfigGenes]]:
        """The individuals of the next generation: immigrants, crossovers, mutations."""
        s, rng = self.settings, self.rng
        parents = self._parents()
        out: list[tuple[str, WorkloadGenes, ConfigGenes]] = []
        n_imm = s.population if not parents else max(1, round(s.immigrant_share * s.population))
        n_cross = round(s.crossover_share * s.population) if len(parents) >= 2 else 0
        default = self.space.canonical(DEFAULT_GENES)

        def challenger(make: Callable[[], ConfigGenes]) -> ConfigGenes:
            # The default configuration challenges nothing: draw again (a few times).
            c = make()
            for _ in range(8):
                if c != default:
                    break
                c = make()
            return c

        real = self.real_workloads
        for _ in range(n_imm):
            if real and rng.random() < REAL_SHARE:
                w = random_real(rng, real, s.input_kinds)
            else:
                w = random_workload(rng, s.input_kinds)
            out.append(("immigrant", w, challenger(lambda: random_config(rng, self.space))))
        for _ in range(min(n_cross, s.population - len(out))):
            a, b = rng.sample(parents, 2)
            w, c = crossover(rng, self._genome(a), self._genome(b), self.space)
            if c == default:
                c = mutate_config(rng, c, self.space)
            out.append(("crossover", w, c))
        while len(out) < s.population:
            w, c = self._genome(rng.choice(parents))
            if rng.random() < 0.5:
                # Same kind of data, new records: challenge the cell with another configuration.
                w = replace(w, seed=rng.randrange(1 << 31))
            elif w.real:
                w = mutate_real(rng, w, s.input_kinds, real or [w.real])
            else:
                w = mutate_workload(rng, w, s.input_kinds)
            child = challenger(lambda c=c: mutate_config(rng, c, self.space))  # type: ignore[misc]
            if child == default and c != default:
                # Every step from the parent leads back to the default (a small search space):
                # challenge again with the parent's configuration, on the new data.
                child = c
            out.append(("mutation", w, child))
        return out

    @property
    def searchable(self) -> bool:
        """Whether any configuration other than the default is left to try."""
        sp = self.space
        return sp.tune_batch or sp.tune_threads

    def run_generation(self, progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
        """One generation: offspring evaluated, then a share of the elites re-measured."""
        s = self.settings
        started = self.clock()
        counts: dict[str, int] = {}
        speedups: list[float] = []
        children = self.offspring()
        elites = [c for c in self._parents() if c.elite is not None or c.front]
        k = min(len(elites), max(1 if elites else 0, round(s.remeasure_share * len(elites))))
        # Re-measure the elites with the fewest rounds behind them first.
        elites.sort(key=lambda c: (c.measurements, self.rng.random()))
        chosen = elites[:k]
        total = len(children) + len(chosen)
        for i, (origin, w, c) in enumerate(children):
            outcome = self.evaluate(w, c)
            counts[outcome] = counts.get(outcome, 0) + 1
            if progress is not None:
                progress(i + 1, total, f"{origin} {w.input_kind}: {outcome}")
        for j, cell in enumerate(chosen):
            outcome = self.remeasure(cell)
            counts[outcome] = counts.get(outcome, 0) + 1
            if progress is not None:
                progress(len(children) + j + 1, total, f"re-measure {list(cell.index)}: {outcome}")
        for cell in self.cells.values():
            if cell.elite is not None:
                speedups.append(cell.speedup.median)
        self.generation += 1
        self.corrected = False
        seconds = self.clock() - started
        self.search_seconds += seconds
        stats = {
            "generation": self.generation,
            "evaluations": self.evaluations,
            "outcomes": dict(sorted(counts.items())),
            "cells": len(self.cells),
            "elites": sum(1 for c in self.cells.values() if c.elite is not None),
            "coverage": self.coverage(),
            "qd_score": self.qd_score(),
            "median_speedup": measure.median(self.cell_speedups()) if self.cells else None,
            "median_elite_speedup": measure.median(speedups) if speedups else None,
            "seconds": seconds,
        }
        self.history.append(stats)
        return stats

    def cell_speedups(self) -> list[float]:
        """Per filled cell: the elite's median speedup over the default, 1.0 where the default
        holds the cell."""
        return [c.fitness for c in self.cells.values()]

    def coverage(self) -> float:
        return len(self.cells) / grid_cells(self.grid, self.settings.input_kinds)

    def qd_score(self) -> float:
        """Sum over the filled cells of the elite's median speedup over the default (1.0 where
        the default holds): it grows with coverage and with quality."""
        return float(sum(self.cell_speedups()))


    # -- correction -----------------------------------------------------------------------------

    def correct(
        self,
        progress: Callable[[int, int, str], None] | None = None,
        *,
        with_msgspec: bool | None = None,
    ) -> None:
        """Times every cell's best configuration, the default and the heuristic again in
        ``final_rounds`` fresh rounds (plus msgspec), and decides what each cell ships (see
        :mod:`satya_adapt.tuning.correction`)."""
        s = self.settings
        use_msgspec = s.msgspec if with_msgspec is None else with_msgspec
        cells = self._parents()
        for i, cell in enumerate(cells):
            prepared = self.measurer.prepare(cell.genes)
            final = correct_cell(
                self.measurer,
                prepared,
                cell.best,
                cores=self.cores,
                rounds=s.final_rounds,
                ship_threshold=s.ship_threshold,
                memory_budget=s.memory_budget,
                with_msgspec=use_msgspec,
                rng=self.rng,
                front=self.front_to_correct(cell),
            )
            shipped = final.ship
            other = self.other_data_to_confirm(cell)
            if shipped and other is not None:
                final = confirm_cell(
                    self.measurer,
                    self.measurer.prepare(other),
                    other.to_json(),
                    final,
                    rounds=s.final_rounds,
                    ship_threshold=s.ship_threshold,
                    rng=self.rng,
                )
            cell.final = final
            cell.profile = prepared.profile
            if progress is not None:
                ev = final.speedup
                line = (f"cell {list(cell.index)} {cell.genes.input_kind}: "
                        f"{'ships' if shipped else 'keeps the default'} "
                        f"({ev.median:.3f} [{ev.low:.3f}, {ev.high:.3f}])")
                c = final.confirmation
                if c is not None and other is not None:
                    e = c.speedup
                    line += (f"; on other data ({other.real or 'other genes'}) {e.median:.3f} "
                             f"[{e.low:.3f}, {e.high:.3f}]: "
                             f"{'confirmed' if c.confirmed else 'not confirmed, keeps the default'}")
                progress(i + 1, len(cells), line)
        self.corrected = True

    @staticmethod
    def other_data_to_confirm(cell: CellRecord) -> WorkloadGenes | None:
        """The other data the correction confirms a cell's elite on: the latest real-data
        workload that fell in the cell, else the latest synthetic one; ``None`` when the cell
        saw no other data."""
        others = cell.other_data_now()
        real = [g for g in others if g.real]
        pick = real or others
        return pick[-1] if pick else None

    @staticmethod
    def front_to_correct(cell: CellRecord, limit: int = FRONT_CORRECTED) -> list[ConfigGenes]:
        """Up to ``limit`` front points besides the cell's best configuration, the most diverse
        in peak bytes: each next one the farthest (in log bytes) from those already chosen."""
        best = cell.best
        rest = [p for p in cell.front if p.config != best]
        chosen_peaks = [
            next((p.peak_bytes for p in cell.front if p.config == best), cell.peak_bytes)
        ] if best is not None else []
        out: list[ConfigGenes] = []
        while rest and len(out) < limit:
            def distance(p: FrontCandidate) -> float:
                if not chosen_peaks:
                    return -p.speedup.median  # nothing chosen yet: the fastest first
                lp = math.log2(max(1, p.peak_bytes))
                return -min(abs(lp - math.log2(max(1, q))) for q in chosen_peaks)

            pick = min(rest, key=distance)
            rest.remove(pick)
            out.append(pick.config)
            chosen_peaks.append(pick.peak_bytes)
        return out

    # -- archive and results --------------------------------------------------------------------

    def archive_cells(self) -> list[_archive.Cell]:
        """The archive's cells: the corrected figures when there are, else the search's."""
        return report.archive_cells(self)

    def to_archive(
        self, previous: _archive.ArchiveFile | None = None, change: _archive.Change | None = None
    ) -> _archive.ArchiveFile:
        return report.to_archive(self, previous, change)

    def results(self, *, complete: bool, interrupted: bool = False) -> dict[str, Any]:
        """The ``--results`` document (see :func:`satya_adapt.tuning.report.results`)."""
        return report.results(self, complete=complete, interrupted=interrupted)
