"""The offline MAP-Elites optimizer: it measures which batch configuration is fastest for each
kind of data and writes the winners to an archive.

``benchmarks/map_elites_optimizer.py`` and ``satya-adapt optimize`` are thin wrappers over
:func:`main`; the parser is :func:`build_parser`. How a run goes:

1. **Gates** (once per search; a resumed search keeps them). On probe workloads of every input
   kind searched, one interleaved run times the default configuration against itself (the A/A
   run: the *noise floor* of this machine) and against one-knob variants (the *sensitivity*
   pass). A knob whose variants never move throughput beyond the noise floor with an interval
   that excludes 1 is reported and frozen at its default value: it is not tuned on noise.
   ``micro_batch_size`` is probed twice: on the direct path (``threads = 1``, where it has no
   effect) and inside the pool (``threads > 1``); it is tuned only in the pool. Every timing is
   checked for plausibility: a throughput above that of merely touching the data (a C-speed
   pass over the records or bytes) is rejected as a measurement error.
2. **Search** (MAP-Elites). An individual carries workload genes (:class:`WorkloadGenes`:
   field count, string length, constraint mix, nesting, a list that sets the record size, input
   kind, data seed) and configuration genes (:class:`ConfigGenes`: log2 batch_size, log2
   micro_batch_size, threads). Its data is generated, its profile *measured* on that data
   (``Validator.profile``) and binned into a cell (:func:`satya_adapt.archive.descriptor`); it
   competes only inside that cell. Each generation holds random immigrants, crossovers between
   two elites and log-space mutations of one elite, plus re-measurements of a share of the
   elites.
3. **Fitness** is throughput relative to the default configuration, timed on the same data in
   interleaved rounds (warm-up, calibrated calls per sample, several rounds; medians and
   order-statistic intervals from :mod:`satya_adapt.tuning.measure`). A cell starts held by the
   default configuration; a challenger takes it only when the lower bound of its paired speedup
   over the holder (the default or the elite, timed in the same rounds) exceeds 1.
   Re-measured elites pool their old and fresh rounds; one whose pooled lower bound falls to 1
   or below is demoted (its advantage was noise). Every configuration is also run once and its
   results compared with the default configuration's (a configuration that changes the results
   is rejected), which also records its peak bytes in flight; with a memory budget, a
   configuration above it is infeasible.
4. **Correction.** At the end every cell's best configuration is timed again against the
   default and the heuristic in ``final_rounds`` (>= 5) fresh rounds, plus msgspec on the same
   data; those fresh figures alone go to the archive (the search's figures carry the
   winner's curse). A cell ships its elite only when the fresh lower bound of its speedup
   exceeds :data:`SHIP_THRESHOLD` (1.03); otherwise it records ``"keep_default"``.

The archive is written atomically every ``save_every`` generations, on Ctrl-C (or SIGTERM) and
at the end. Its ``optimizer`` block holds the generation reached and the random state, so the
same command resumes the search; ``optimizer.random_state`` is the state of a
``random.Random`` (see :func:`satya_adapt.archive.rng_state_to_json`) with one more key,
``search``, holding what the next generation needs: the gates' results, every cell's workload
genes and measured rounds, and the per-generation statistics.

Measurement is hidden behind :class:`Measurer`, so tests drive the search with fake timings.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import gc
import math
import os
import random
import shlex
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import orjson

from .. import archive as _archive
from . import measure
from .._argtypes import non_negative_int, positive_int
from ..config import DEFAULT_CONFIGURATION, SHIP_THRESHOLD, BatchConfig, clamp, effective
from ..errors import ArchiveError
from ..heuristic import heuristic_config
from ..profile import INPUT_KINDS, Profile
from .reference import msgspec_runner

__all__ = [
    "DEFAULT_ARCHIVE",
    "DEFAULT_RESULTS",
    "SHIP_THRESHOLD",
    "CellRecord",
    "ConfigGenes",
    "Measurer",
    "Prepared",
    "Search",
    "SearchSpace",
    "Settings",
    "WorkloadGenes",
    "build_parser",
    "default_grid",
    "main",
    "run",
    "stored_genes",
    "stored_workloads",
]

DEFAULT_ARCHIVE = os.path.join("benchmarks", "map_elites_archive.json")
DEFAULT_RESULTS = os.path.join("benchmarks", "map_elites_results.json")
TOOL = "satya-adapt map-elites optimizer"
#: Confidence level of the sensitivity pass (stricter than the search's 0.95: many variants).
GATE_LEVEL = 0.99
#: Version of the ``search`` block inside ``optimizer.random_state``.
SEARCH_STATE_VERSION = 1

# Gene bounds.
FIELD_COUNT = (1, 64)
STRING_LENGTH = (1, 256)
NESTING_MAX = 3
LIST_LENGTH_MAX = 32
LOG2_BATCH = (6, 16)
LOG2_MICRO = (4, 13)
DEFAULT_LOG2_BATCH = 13  # 8192, the default configuration
DEFAULT_LOG2_MICRO = 10  # 1024
INVALID_RATE = 0.05

# Data sizing: distinct records generated per workload, and records per measured call.
POOL_BYTES = 512 << 10
POOL_RECORDS = (64, 2000)
MAX_DATA_BYTES = 32 << 20
MIN_RECORDS = 256


def _log(level: int, verbose: int, message: str) -> None:
    if verbose >= level:
        print(message, file=sys.stderr, flush=True)


# -- the grid ---------------------------------------------------------------------------------


def default_grid() -> _archive.Grid:
    """The grid a new search uses: input kind x object size x constraint complexity.

    Why these axes (and not ``field_count`` or ``avg_string_length``) is documented with the
    measurements in ``archives/README.md``.
    """
    return _archive.Grid(
        features=[
            _archive.GridFeature(
                name="input_kind", scale="category", categories=["dicts", "json", "ndjson"]
            ),
            _archive.GridFeature(name="object_size", scale="log", edges=[128.0, 512.0, 2048.0]),
            _archive.GridFeature(
                name="constraint_complexity", scale="linear", edges=[0.4, 0.55]
            ),
        ]
    )


def grid_cells(grid: _archive.Grid, kinds: Sequence[str] = INPUT_KINDS) -> int:
    """Cells of ``grid`` that data of ``kinds`` can reach."""
    total = 1
    for f in grid.features:
        if f.scale == "category":
            total *= len([k for k in f.categories if k in kinds])
        else:
            total *= len(f.edges) + 1
    return total


# -- genes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadGenes:
    """What data an individual generates (see :class:`satya_adapt.tuning.workloads.WorkloadSpec`).

    ``list_length`` is the record-size gene: a list of up to that many bounded ints adds bulk
    that costs little to check. ``seed`` fixes the records, so the same genes give the same data.
    """

    field_count: int
    string_length: int
    constrained: float
    costly: float
    nesting: int
    list_length: int
    input_kind: str
    seed: int

    def spec(self) -> Any:
        from .workloads import WorkloadSpec

        return WorkloadSpec(
            name="optimizer",
            field_count=self.field_count,
            string_length=self.string_length,
            constrained=self.constrained,
            costly=self.costly,
            nesting=self.nesting,
            list_length=self.list_length,
            invalid_rate=INVALID_RATE,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> WorkloadGenes:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__})

    def fixed(self) -> WorkloadGenes:
        """The genes moved into their bounds."""
        return replace(
            self,
            field_count=int(min(max(self.field_count, FIELD_COUNT[0]), FIELD_COUNT[1])),
            string_length=int(min(max(self.string_length, STRING_LENGTH[0]), STRING_LENGTH[1])),
            constrained=float(min(max(self.constrained, 0.0), 1.0)),
            costly=float(min(max(self.costly, 0.0), 1.0)),
            nesting=int(min(max(self.nesting, 0), NESTING_MAX)),
            list_length=int(min(max(self.list_length, 0), LIST_LENGTH_MAX)),
        )


@dataclass(frozen=True)
class ConfigGenes:
    """A batch configuration as genes: sizes as powers of two."""

    log2_batch: int
    log2_micro: int
    threads: int

    def config(self, source: str = "optimizer") -> BatchConfig:
        return BatchConfig(1 << self.log2_batch, 1 << self.log2_micro, self.threads, source)

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ConfigGenes:
        return cls(int(doc["log2_batch"]), int(doc["log2_micro"]), int(doc["threads"]))


DEFAULT_GENES = ConfigGenes(DEFAULT_LOG2_BATCH, DEFAULT_LOG2_MICRO, DEFAULT_CONFIGURATION.threads)


@dataclass(frozen=True)
class SearchSpace:
    """Which configuration genes the search may change, and their bounds.

    A knob that is not tuned stays at its default value. ``micro_batch_size`` only matters in
    the pool, so on the direct path (``threads == 1``) it is always the default's.
    """

    cores: int
    max_log2_batch: int = LOG2_BATCH[1]
    tune_batch: bool = True
    tune_micro: bool = True
    tune_threads: bool = True

    def canonical(self, c: ConfigGenes) -> ConfigGenes:
        b = min(max(c.log2_batch, LOG2_BATCH[0]), self.max_log2_batch)
        t = min(max(c.threads, 1), self.cores)
        m = min(max(c.log2_micro, LOG2_MICRO[0]), LOG2_MICRO[1])
        if not self.tune_batch:
            b = DEFAULT_LOG2_BATCH
        if not self.tune_threads:
            t = 1
        if t == 1 or not self.tune_micro:
            m = DEFAULT_LOG2_MICRO
        return ConfigGenes(b, min(m, b), t)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- variation --------------------------------------------------------------------------------


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    exponent: float = rng.uniform(math.log2(low), math.log2(high))
    return float(2.0**exponent)


def random_workload(rng: random.Random, kinds: Sequence[str]) -> WorkloadGenes:
    """A random immigrant's workload: sizes log-uniform, shares uniform."""
    return WorkloadGenes(
        field_count=round(_log_uniform(rng, FIELD_COUNT[0], FIELD_COUNT[1])),
        string_length=round(_log_uniform(rng, STRING_LENGTH[0], STRING_LENGTH[1])),
        constrained=round(rng.random(), 3),
        costly=round(rng.random(), 3),
        nesting=rng.choices(range(NESTING_MAX + 1), weights=(6, 2, 1, 1))[0],
        list_length=0 if rng.random() < 0.6 else round(_log_uniform(rng, 1, LIST_LENGTH_MAX)),
        input_kind=rng.choice(list(kinds)),
        seed=rng.randrange(1 << 31),
    ).fixed()


def random_config(rng: random.Random, space: SearchSpace) -> ConfigGenes:
    return space.canonical(
        ConfigGenes(
            rng.randint(LOG2_BATCH[0], space.max_log2_batch),
            rng.randint(*LOG2_MICRO),
            rng.randint(1, space.cores),
        )
    )


def _log_step(rng: random.Random, value: float, sigma: float, floor: float = 0.0) -> float:
    """``value`` moved in log space: ``(floor + v) * 2 ** N(0, sigma) - floor``."""
    step: float = rng.gauss(0.0, sigma)
    return float((floor + value) * 2.0**step - floor)


def mutate_workload(
    rng: random.Random, g: WorkloadGenes, kinds: Sequence[str], sigma: float = 0.6
) -> WorkloadGenes:
    """Log-space steps for sizes, small steps for shares, rarely another input kind; new data."""
    kind = g.input_kind
    if len(kinds) > 1 and rng.random() < 0.1:
        kind = rng.choice([k for k in kinds if k != kind])
    nesting = g.nesting
    if rng.random() < 0.2:
        nesting += rng.choice((-1, 1))
    return WorkloadGenes(
        field_count=round(_log_step(rng, g.field_count, sigma)),
        string_length=round(_log_step(rng, g.string_length, sigma)),
        constrained=g.constrained + rng.gauss(0.0, 0.15),
        costly=g.costly + rng.gauss(0.0, 0.15),
        nesting=nesting,
        list_length=round(_log_step(rng, g.list_length, sigma, floor=1.0)),
        input_kind=kind,
        seed=rng.randrange(1 << 31),
    ).fixed()


def mutate_config(rng: random.Random, c: ConfigGenes, space: SearchSpace) -> ConfigGenes:
    """Steps of one or two octaves on the sizes, sometimes another thread count; never the same
    configuration (unless nothing can change)."""
    for _ in range(16):
        b, m, t = c.log2_batch, c.log2_micro, c.threads
        if rng.random() < 0.6:
            b += rng.choice((-2, -1, 1, 2))
        if rng.random() < 0.6:
            m += rng.choice((-2, -1, 1, 2))
        if space.cores > 1 and rng.random() < 0.3:
            t = rng.choice([x for x in range(1, space.cores + 1) if x != t])
        out = space.canonical(ConfigGenes(b, m, t))
        if out != space.canonical(c):
            return out
    return space.canonical(c)


def crossover(
    rng: random.Random,
    a: tuple[WorkloadGenes, ConfigGenes],
    b: tuple[WorkloadGenes, ConfigGenes],
    space: SearchSpace,
) -> tuple[WorkloadGenes, ConfigGenes]:
    """Uniform crossover of two elites, gene by gene; the child gets new data."""

    def pick(x: Any, y: Any) -> Any:
        return x if rng.random() < 0.5 else y

    wa, wb = a[0], b[0]
    w = WorkloadGenes(
        **{
            name: pick(getattr(wa, name), getattr(wb, name))
            for name in WorkloadGenes.__dataclass_fields__
            if name != "seed"
        },
        seed=rng.randrange(1 << 31),
    )
    ca, cb = a[1], b[1]
    c = ConfigGenes(
        pick(ca.log2_batch, cb.log2_batch),
        pick(ca.log2_micro, cb.log2_micro),
        pick(ca.threads, cb.threads),
    )
    return w.fixed(), space.canonical(c)


# -- data and measurement ---------------------------------------------------------------------


class Prepared:
    """One workload's data, ready to time: ``n`` records of one input kind, the measured
    profile, a validator (adaptation off) and the rate of merely touching the data."""

    def __init__(self, genes: WorkloadGenes, test_size: int) -> None:
        from ..validator import Validator
        from .workloads import make_workload

        self.genes = genes
        self.kind = genes.input_kind
        spec = genes.spec()
        probe = make_workload(spec, 32, seed=genes.seed)
        size = max(1.0, len(probe.json_bytes()) / 32.0)
        n = int(min(test_size, max(MIN_RECORDS, MAX_DATA_BYTES // size)))
        pool_n = int(min(n, POOL_RECORDS[1], max(POOL_RECORDS[0], POOL_BYTES // size)))
        self.workload = make_workload(spec, pool_n, seed=genes.seed)
        self.n = n
        self.schema = self.workload.schema
        reps = -(-n // pool_n)
        truth = self.workload.expected_valid
        self.expected_valid = (truth * reps)[:n]
        if self.kind == "dicts":
            self.payload: Any = (self.workload.records * reps)[:n]
        else:
            texts = [
                orjson.dumps(r) for r in self.workload.records
            ]  # compact JSON, as json.dumps(separators=(",", ":")) writes it
            tiled = (texts * reps)[:n]
            if self.kind == "json":
                self.payload = b"[" + b",".join(tiled) + b"]"
            else:
                self.payload = b"\n".join(tiled) + b"\n"
        self.validator = Validator(self.schema, adapt=False)
        self.profile: Profile = self.validator.profile(self.payload, input_kind=self.kind)
        self._reference: Any = None
        self.touch_rate = self._touch_rate()

    def run(self, config: Sequence[Any]) -> Any:
        """Validates the data once with ``config``; returns the :class:`ValidationResult`."""
        return self.validator.validate(
            self.payload,
            input_kind=self.kind,
            batch_size=config[0],
            micro_batch_size=config[1],
            threads=config[2],
        )

    def touch(self) -> Any:
        """The least any validator must do: pass over every record (dicts) or byte (JSON)."""
        if self.kind == "dicts":
            return sum(map(len, self.payload))
        return self.payload.count(b",")

    def _touch_rate(self) -> float:
        samples = []
        for _ in range(5):
            t0 = time.perf_counter_ns()
            self.touch()
            samples.append(max(1, time.perf_counter_ns() - t0))
        # The fastest touch: a validator slower than the fastest pass is certainly plausible.
        return measure.items_per_second(self.n, min(samples))

    def reference(self) -> Any:
        """The default configuration's results (valid list and errors), computed once."""
        if self._reference is None:
            r = self.run(DEFAULT_CONFIGURATION)
            self._reference = (list(r.valid), list(r.errors), r.stats.peak_bytes)
        return self._reference

    def msgspec_runner(self) -> Callable[[], Any] | None:
        """msgspec validating the same data, record by record (``None`` when unavailable)."""
        import importlib.util

        if importlib.util.find_spec("msgspec") is None:
            return None
        try:
            return msgspec_runner(self.kind, self.schema, self.payload)
        except (ValueError, TypeError):
            return None


def _runner(prepared: Prepared, config: Sequence[Any]) -> Callable[[], Any]:
    return lambda: prepared.run(config)


class Measurer:
    """How the search gets data and timings; tests replace it with fake measurements.

    ``sample_ns``: the least time one timed sample lasts (calls are repeated to reach it).
    """

    def __init__(self, test_size: int, *, sample_ns: float = 1e7, warmup: int = 1) -> None:
        self.test_size = test_size
        self.sample_ns = sample_ns
        self.warmup = warmup

    def prepare(self, genes: WorkloadGenes) -> Prepared:
        return Prepared(genes, self.test_size)

    def check(self, prepared: Prepared, config: Sequence[Any]) -> tuple[bool, int]:
        """Runs ``config`` once: whether its results equal the default configuration's, and
        its peak bytes in flight."""
        valid, errors, _ = prepared.reference()
        r = prepared.run(config)
        same = list(r.valid) == valid and list(r.errors) == errors
        return same, int(r.stats.peak_bytes)

    def default_peak(self, prepared: Prepared) -> int:
        return int(prepared.reference()[2])

    def compare(
        self,
        prepared: Prepared,
        configs: Mapping[str, Sequence[Any]],
        *,
        rounds: int,
        seed: int,
        extra: Mapping[str, Callable[[], Any]] | None = None,
    ) -> measure.Measurement:
        """Times ``configs`` (and the callables of ``extra``) in interleaved rounds on the same
        data: one warm-up call each, then ``rounds`` rounds in shuffled order."""
        contenders = [
            measure.Contender(name, _runner(prepared, c), prepared.n)
            for name, c in configs.items()
        ]
        for name, fn in (extra or {}).items():
            contenders.append(measure.Contender(name, fn, prepared.n))
        first = contenders[0].fn
        # No garbage collection inside the rounds (validating creates no cycles): one collection
        # before, none on anyone's clock.
        gc.collect()
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            inner = measure.calibrate_inner(first, target_ns=self.sample_ns, limit=64)
            return measure.run_rounds(
                contenders, rounds=rounds, warmup=self.warmup, inner=inner, seed=seed,
                collect=False,
            )
        finally:
            if was_enabled:
                gc.enable()


# -- cells ------------------------------------------------------------------------------------


def _evidence(ratios: Sequence[float]) -> dict[str, Any]:
    """Median and interval of paired speedups (default time / configuration time)."""
    ratios = [r for r in ratios if math.isfinite(r) and r > 0]
    if not ratios:
        return {"median": 1.0, "low": 1.0, "high": 1.0, "coverage": 0.0, "rounds": 0}
    ci = measure.median_ci(ratios)
    return {
        "median": measure.median(ratios),
        "low": ci.low,
        "high": ci.high,
        "coverage": ci.coverage,
        "rounds": len(ratios),
    }


@dataclass
class CellRecord:
    """A cell during the search.

    ``elite`` is ``None`` while the default configuration holds the cell; ``ratios`` are the
    paired speedups over the default of the configuration behind the evidence: the elite, or
    (``elite is None``) the best candidate that did not prove itself (``candidate``). ``genes``
    and ``profile`` describe the data that evidence was measured on.
    """

    index: tuple[int, ...]
    genes: WorkloadGenes
    profile: Profile
    elite: ConfigGenes | None = None
    candidate: ConfigGenes | None = None
    ratios: list[float] = field(default_factory=list)
    rate: float = 0.0  # items/s of the configuration behind the evidence
    default_rate: float = 0.0
    peak_bytes: int = 0  # of the configuration behind the evidence
    default_peak_bytes: int = 0
    measurements: int = 0  # timed rounds behind the evidence
    challenges: int = 0
    replacements: int = 0
    demotions: int = 0
    final: dict[str, Any] | None = None

    @property
    def best(self) -> ConfigGenes | None:
        return self.elite if self.elite is not None else self.candidate

    @property
    def speedup(self) -> dict[str, Any]:
        return _evidence(self.ratios)

    @property
    def fitness(self) -> float:
        """The cell's contribution to the QD-score: the elite's median speedup over the default
        configuration, 1.0 while the default holds the cell."""
        return self.speedup["median"] if self.elite is not None else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "index": list(self.index),
            "genes": self.genes.to_json(),
            "profile": list(self.profile),
            "elite": None if self.elite is None else self.elite.to_json(),
            "candidate": None if self.candidate is None else self.candidate.to_json(),
            "ratios": [float(r) for r in self.ratios],
            "rate": self.rate,
            "default_rate": self.default_rate,
            "peak_bytes": self.peak_bytes,
            "default_peak_bytes": self.default_peak_bytes,
            "measurements": self.measurements,
            "challenges": self.challenges,
            "replacements": self.replacements,
            "demotions": self.demotions,
            "final": self.final,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CellRecord:
        return cls(
            index=tuple(doc["index"]),
            genes=WorkloadGenes.from_json(doc["genes"]),
            profile=Profile(*doc["profile"]),
            elite=None if doc["elite"] is None else ConfigGenes.from_json(doc["elite"]),
            candidate=None if doc["candidate"] is None else ConfigGenes.from_json(doc["candidate"]),
            ratios=list(doc["ratios"]),
            rate=float(doc["rate"]),
            default_rate=float(doc["default_rate"]),
            peak_bytes=int(doc["peak_bytes"]),
            default_peak_bytes=int(doc["default_peak_bytes"]),
            measurements=int(doc["measurements"]),
            challenges=int(doc.get("challenges", 0)),
            replacements=int(doc.get("replacements", 0)),
            demotions=int(doc.get("demotions", 0)),
            final=doc.get("final"),
        )


# -- settings ---------------------------------------------------------------------------------


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


# -- the search -------------------------------------------------------------------------------

#: The probes of the gates: (name, workload genes without kind and seed).
PROBES = (
    ("small-cheap", {"field_count": 4, "string_length": 8, "constrained": 0.3, "costly": 0.0,
                         "nesting": 0, "list_length": 0}),
    ("large-costly", {"field_count": 24, "string_length": 48, "constrained": 1.0, "costly": 1.0,
                          "nesting": 0, "list_length": 0}),
)


def _max_log2_batch(test_size: int) -> int:
    """The largest batch_size gene worth trying: the first power of two >= the records."""
    return max(LOG2_BATCH[0], min(LOG2_BATCH[1], math.ceil(math.log2(max(2, test_size)))))


class Interrupted(Exception):
    """Raised by the SIGTERM handler, handled like Ctrl-C."""


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
    ) -> None:
        self.settings = settings
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
        self.space = SearchSpace(cores=self.cores, max_log2_batch=_max_log2_batch(settings.test_size))
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
        doc["search"] = {
            "version": SEARCH_STATE_VERSION,
            "test_size": self.settings.test_size,
            "input_kinds": list(self.settings.input_kinds),
            "memory_budget": self.settings.memory_budget,
            "seed": self.settings.seed,
            "space": self.space.to_json(),
            "gates": self.gates,
            "cells": [c.to_json() for c in self.cells.values()],
            "history": self.history,
            "rejected": dict(self.rejected),
            "search_seconds": self.search_seconds,
            "corrected": self.corrected,
            "sessions": self.sessions,
        }
        return doc

    def restore(self, generation: int, evaluations: int, state: Any) -> None:
        """Continues from a saved state (see :meth:`state_json`)."""
        if not isinstance(state, dict) or not isinstance(state.get("search"), dict):
            raise ArchiveError("the archive holds no optimizer search state to resume")
        search = state["search"]
        if search.get("version") != SEARCH_STATE_VERSION:
            raise ArchiveError(
                f"the archive's search state has version {search.get('version')!r};"
                f" this optimizer resumes version {SEARCH_STATE_VERSION}"
            )
        s = self.settings
        if search.get("memory_budget") != s.memory_budget:
            raise ArchiveError(
                f"the archive's search used --memory-budget {search.get('memory_budget')!r},"
                f" this run asks for {s.memory_budget!r}; resume with the same value or choose"
                " another --archive"
            )
        changed = [
            f"{flag} {search.get(name)!r} -> {value!r}"
            for name, value, flag in (
                ("test_size", s.test_size, "--test-size"),
                ("input_kinds", list(s.input_kinds), "--input-kind"),
            )
            if search.get(name) != value
        ]
        if changed:
            # New evaluations use the new values; the correction re-measures every cell with
            # them, so the archive written at the end is consistent.
            self.log(1, "resuming with other settings: " + ", ".join(changed))
        self.rng = _archive.rng_from_json(state)
        self.generation = generation
        self.evaluations = evaluations
        sp = search["space"]
        self.space = SearchSpace(**{k: sp[k] for k in SearchSpace.__dataclass_fields__})
        self.space = replace(
            self.space, cores=self.cores, max_log2_batch=_max_log2_batch(s.test_size)
        )
        self.gates = search.get("gates")
        self.cells = {}
        for doc in search["cells"]:
            cell = CellRecord.from_json(doc)
            self.cells[cell.index] = cell
        self.history = list(search.get("history", []))
        self.rejected.update(search.get("rejected", {}))
        self.search_seconds = float(search.get("search_seconds", 0.0))
        self.corrected = bool(search.get("corrected", False))
        self.sessions = int(search.get("sessions", 0))

    # -- gates ----------------------------------------------------------------------------------

    def run_gates(self) -> dict[str, Any]:
        """The A/A noise floor, the knob sensitivity and the plausibility check (see the module
        documentation); freezes the knobs that do not move throughput beyond the noise."""
        s = self.settings
        variants: dict[str, tuple[int, int, int]] = {
            "default": tuple(DEFAULT_CONFIGURATION[:3]),  # type: ignore[dict-item]
            "default (A/A)": tuple(DEFAULT_CONFIGURATION[:3]),  # type: ignore[dict-item]
            "batch_size=256": (256, 256, 1),
            "batch_size=65536": (65536, 1024, 1),
            "micro_batch_size=64, threads=1": (8192, 64, 1),
        }
        if self.cores > 1:
            t = self.cores
            variants.update(
                {
                    f"threads={t}": (8192, 1024, t),
                    f"threads={t}, micro_batch_size=64": (8192, 64, t),
                    f"threads={t}, micro_batch_size=4096": (8192, 4096, t),
                }
            )
        probes: list[dict[str, Any]] = []
        for kind in s.input_kinds:
            for name, params in PROBES:
                genes = WorkloadGenes(**params, input_kind=kind, seed=s.seed)  # type: ignore[arg-type]
                prepared = self.measurer.prepare(genes)
                m = self.measurer.compare(
                    prepared, variants, rounds=s.gate_rounds, seed=self.rng.randrange(1 << 31)
                )
                rates = {v: m.summary(v).items_per_s for v in variants}
                aa = m.speedup("default (A/A)", "default")
                effects = {}
                for v in variants:
                    if v in ("default", "default (A/A)"):
                        continue
                    base = "default"
                    if v.startswith("threads=") and "micro_batch_size" in v:
                        base = f"threads={self.cores}"
                    sp = m.speedup(v, base, level=GATE_LEVEL)
                    effects[v] = {
                        "against": base,
                        "speedup": sp.median,
                        "ci_low": sp.ci.low,
                        "ci_high": sp.ci.high,
                        "ci_coverage": sp.ci.coverage,
                    }
                probes.append(
                    {
                        "probe": f"{name} {kind}",
                        "genes": genes.to_json(),
                        "profile": dict(prepared.profile._asdict()),
                        "n": prepared.n,
                        "items_per_s": rates,
                        "touch_items_per_s": prepared.touch_rate,
                        "implausible": [v for v, r in rates.items() if r > prepared.touch_rate],
                        "aa_speedup": aa.median,
                        "aa_ci": [aa.ci.low, aa.ci.high],
                        "aa_half_width": max(aa.ci.high - 1.0, 1.0 - aa.ci.low),
                        "aa_rounds": len(aa.ratios),
                        "effects": effects,
                    }
                )
                self.log(
                    2,
                    f"gate {name} {kind}: A/A {aa.median:.3f} [{aa.ci.low:.3f}, {aa.ci.high:.3f}]"
                    f", default {rates['default']:,.0f} items/s",
                )
        implausible = [p["probe"] for p in probes if p["implausible"]]
        if implausible:
            raise RuntimeError(
                "implausible timings in the gates (faster than touching the data) on "
                + ", ".join(implausible)
                + ": the measurement is broken, not searching"
            )
        half_widths = sorted(p["aa_half_width"] for p in probes)
        deviations = sorted(abs(p["aa_speedup"] - 1.0) for p in probes)
        floor = deviations[-1]

        least = max(floor, s.ship_threshold - 1.0)

        def moved(e: Mapping[str, Any]) -> bool:
            outside = e["ci_low"] > 1.0 or e["ci_high"] < 1.0
            return bool(outside and abs(e["speedup"] - 1.0) > least)

        knobs: dict[str, dict[str, Any]] = {}

        def knob(name: str, keys: Callable[[str], bool], note: str) -> None:
            rows = []
            for p in probes:
                for v, e in p["effects"].items():
                    if keys(v):
                        rows.append(
                            {"probe": p["probe"], "variant": v, **e, "beyond_floor": moved(e)}
                        )
            sensitive = any(r["beyond_floor"] for r in rows)
            knobs[name] = {"sensitive": sensitive, "note": note, "effects": rows}

        knob(
            "batch_size",
            lambda v: v.startswith("batch_size="),
            "batch_size variants against the default configuration (threads=1)",
        )
        knob(
            "micro_batch_size (threads=1)",
            lambda v: v.startswith("micro_batch_size="),
            "the direct path has no pool: micro_batch_size should have no effect here",
        )
        knob(
            "threads",
            lambda v: v.startswith("threads=") and "micro_batch_size" not in v,
            "the pool against the direct path (same batch_size and micro_batch_size)",
        )
        knob(
            f"micro_batch_size (threads={self.cores})",
            lambda v: v.startswith("threads=") and "micro_batch_size" in v,
            "micro_batch_size variants inside the pool, against micro_batch_size=1024",
        )
        tune_threads = knobs["threads"]["sensitive"] if self.cores > 1 else False
        tune_micro = tune_threads and knobs.get(
            f"micro_batch_size (threads={self.cores})", {"sensitive": False}
        )["sensitive"]
        tune_batch = knobs["batch_size"]["sensitive"] or s.memory_budget is not None
        self.space = replace(
            self.space, tune_batch=tune_batch, tune_threads=tune_threads, tune_micro=tune_micro
        )
        tuned = {
            "batch_size": tune_batch,
            "micro_batch_size": tune_micro,
            "threads": tune_threads,
        }
        reasons = {}
        if not knobs["batch_size"]["sensitive"]:
            reasons["batch_size"] = (
                "no effect beyond the noise floor"
                + ("; tuned anyway for the memory budget" if tune_batch else "; kept at 8192")
            )
        if self.cores <= 1:
            reasons["threads"] = "one usable core; kept at 1"
        elif not tune_threads:
            reasons["threads"] = "no effect beyond the noise floor; kept at 1"
        if not tune_micro:
            reasons["micro_batch_size"] = (
                "tuned only inside the pool, and the pool is not tuned"
                if not tune_threads
                else "no effect beyond the noise floor inside the pool; kept at 1024"
            )
        self.gates = {
            "noise_floor": floor,
            "noise_floor_definition": (
                "the largest distance from 1 of the A/A median speedup over the probes (the"
                " default configuration timed against itself, interleaved, paired by round):"
                " how far a comparison without a difference strays on this machine. A knob moves"
                " throughput when the 99% interval of a variant's speedup excludes 1 (many"
                " variants are tried: a stricter level than the search's 95%) and its median is"
                " further from 1 than both the floor and the shipping margin"
            ),
            "least_effect": least,
            "aa_deviations": deviations,
            "aa_half_widths": half_widths,
            "aa_max_half_width": half_widths[-1],
            "rounds": s.gate_rounds,
            "probes": probes,
            "knobs": knobs,
            "tuned": tuned,
            "frozen_because": reasons,
        }
        self.log(
            1,
            f"noise floor {floor:.3f} (A/A medians off 1 by {', '.join(f'{d:.3f}' for d in deviations)});"
            f" tuned: {', '.join(k for k, v in tuned.items() if v) or 'nothing'}"
            + "".join(f"; {k}: {why}" for k, why in reasons.items()),
        )
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
        same, peak = self.measurer.check(prepared, challenger)
        if not same:
            self.rejected["wrong_results"] += 1
            self.log(1, f"configuration {tuple(challenger[:3])} changed the results on {genes}")
            return "wrong_results"
        default_peak = self.measurer.default_peak(prepared)
        budget = s.memory_budget
        if budget is not None and peak > budget:
            self.rejected["infeasible"] += 1
            return "infeasible"
        default_over = budget is not None and default_peak > budget
        configs: dict[str, Sequence[Any]] = {"default": DEFAULT_CONFIGURATION, "challenger": challenger}
        if holder is not None:
            configs["holder"] = holder_config
        m = self.measurer.compare(
            prepared, configs, rounds=s.search_rounds, seed=self.rng.randrange(1 << 31)
        )
        self.evaluations += 1
        if any(m.summary(name).items_per_s > prepared.touch_rate for name in configs):
            self.rejected["implausible"] += 1
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
        cell.challenges += 1
        evidence = {
            "genes": genes,
            "profile": prepared.profile,
            "ratios": list(vs_default.ratios),
            "rate": m.summary("challenger").items_per_s,
            "default_rate": m.summary("default").items_per_s,
            "peak_bytes": peak,
            "default_peak_bytes": default_peak,
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
            cell.candidate is None or vs_default.median > cell.speedup["median"]
        ):
            for k, v in evidence.items():
                setattr(cell, k, v)
            cell.candidate = config
        return "new" if new else "kept"

    def remeasure(self, cell: CellRecord) -> str:
        """Times the elite against the default again on its own data; pools the rounds and
        demotes the elite when the pooled lower bound no longer exceeds 1."""
        assert cell.elite is not None
        s = self.settings
        prepared = self.measurer.prepare(cell.genes)
        configs = {"default": DEFAULT_CONFIGURATION, "elite": cell.elite.config()}
        m = self.measurer.compare(
            prepared, configs, rounds=s.search_rounds, seed=self.rng.randrange(1 << 31)
        )
        self.evaluations += 1
        if any(m.summary(name).items_per_s > prepared.touch_rate for name in configs):
            self.rejected["implausible"] += 1
            return "implausible"
        fresh = m.speedup("elite", "default")
        cell.ratios = cell.ratios + list(fresh.ratios)
        cell.measurements = len(cell.ratios)
        cell.rate = m.summary("elite").items_per_s
        cell.default_rate = m.summary("default").items_per_s
        budget = s.memory_budget
        default_over = budget is not None and cell.default_peak_bytes > budget
        if cell.speedup["low"] <= 1.0 and not default_over:
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

        for _ in range(n_imm):
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
        elites = [c for c in self._parents() if c.elite is not None]
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
                speedups.append(cell.speedup["median"])
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
        ``final_rounds`` fresh rounds (plus msgspec), and decides what each cell ships."""
        s = self.settings
        use_msgspec = s.msgspec if with_msgspec is None else with_msgspec
        cells = self._parents()
        for i, cell in enumerate(cells):
            prepared = self.measurer.prepare(cell.genes)
            n = prepared.n
            best = cell.best
            heur = clamp(heuristic_config(prepared.profile, self.cores), n, self.cores)
            configs: dict[str, Sequence[Any]] = {"default": DEFAULT_CONFIGURATION}
            keys = {effective(DEFAULT_CONFIGURATION, n, self.cores): "default"}
            if best is not None:
                bc = best.config()
                keys.setdefault(effective(bc, n, self.cores), "best")
                if keys[effective(bc, n, self.cores)] == "best":
                    configs["best"] = bc
            heur_key = effective(heur, n, self.cores)
            if heur_key not in keys:
                keys[heur_key] = "heuristic"
                configs["heuristic"] = heur
            heur_name = keys[heur_key]
            best_name = keys[effective(best.config(), n, self.cores)] if best is not None else "default"
            extra: dict[str, Callable[[], Any]] = {}
            msgspec_note = None
            if use_msgspec:
                runner = getattr(prepared, "msgspec_runner", lambda: None)()
                if runner is None:
                    msgspec_note = "msgspec unavailable or no translation for this schema"
                else:
                    extra["msgspec"] = runner
            m = self.measurer.compare(
                prepared, configs, rounds=s.final_rounds, seed=self.rng.randrange(1 << 31), extra=extra
            )
            implausible = [
                name for name in configs if m.summary(name).items_per_s > prepared.touch_rate
            ]
            rates = {name: m.summary(name).items_per_s for name in m.names}
            if best_name == "default":
                ev = {"median": 1.0, "low": 1.0, "high": 1.0, "coverage": 0.0,
                      "rounds": m.rounds}
                ratios: tuple[float, ...] = tuple(1.0 for _ in range(m.rounds))
            else:
                sp = m.speedup(best_name, "default")
                ratios = sp.ratios
                ev = _evidence(ratios)
            heur_sp = (
                m.speedup(heur_name, "default") if heur_name != "default" else None
            )
            budget = s.memory_budget
            peaks = {"default": self.measurer.default_peak(prepared)}
            if best is not None:
                peaks["best"] = self.measurer.check(prepared, best.config())[1]
            peaks["heuristic"] = self.measurer.check(prepared, heur)[1]
            default_over = budget is not None and peaks["default"] > budget
            best_feasible = budget is None or peaks.get("best", 0) <= budget
            ship = (
                best is not None
                and best_name != "default"
                and best_feasible
                and not implausible
                and (ev["low"] > s.ship_threshold or (default_over and ev["low"] > 0))
            )
            tuned_name = best_name if ship else "default"
            spread = sorted(ratios)
            final = {
                "ship": bool(ship),
                "best": None if best is None else best.config()[:3],
                "best_is_default": best_name == "default",
                "speedup": ev,
                "spread": {
                    "min": spread[0] if spread else 1.0,
                    "p25": _quantile(spread, 0.25),
                    "p75": _quantile(spread, 0.75),
                    "max": spread[-1] if spread else 1.0,
                },
                "items_per_s": {
                    "tuned": rates[tuned_name],
                    "default": rates["default"],
                    "best": rates[best_name],
                    "heuristic": rates[heur_name],
                    "msgspec": rates.get("msgspec"),
                },
                "heuristic": list(heur[:3]),
                "heuristic_speedup": None
                if heur_sp is None
                else {"median": heur_sp.median, "low": heur_sp.ci.low, "high": heur_sp.ci.high},
                "peak_bytes": {
                    "tuned": peaks["best"] if ship else peaks["default"],
                    "default": peaks["default"],
                    "best": peaks.get("best"),
                    "heuristic": peaks["heuristic"],
                },
                "default_over_budget": default_over,
                "implausible": implausible,
                "msgspec_note": msgspec_note,
                "rounds": m.rounds,
                "n": n,
            }
            cell.final = final
            cell.profile = prepared.profile
            if progress is not None:
                progress(i + 1, len(cells), f"cell {list(cell.index)} {cell.genes.input_kind}: "
                         f"{'ships' if ship else 'keeps the default'} "
                         f"({ev['median']:.3f} [{ev['low']:.3f}, {ev['high']:.3f}])")
        self.corrected = True

    # -- archive and results --------------------------------------------------------------------

    def archive_cells(self) -> list[_archive.Cell]:
        """The archive's cells: the corrected figures when there are, else the search's."""
        out = []
        with_workload = "workload" in getattr(_archive.Cell, "__struct_fields__", ())
        for cell in self._parents():
            f = cell.final if self.corrected else None
            if f is not None:
                ev = f["speedup"]
                ship = f["ship"]
                rates = f["items_per_s"]
                throughput = rates["tuned"]
                default_rate = rates["default"]
                peak = f["peak_bytes"]["tuned"]
                rounds = f["rounds"]
                best = f["best"]
            else:
                ev = cell.speedup
                ship = cell.elite is not None and ev["low"] > self.settings.ship_threshold
                throughput = cell.rate if ship else cell.default_rate
                default_rate = cell.default_rate
                peak = cell.peak_bytes if ship else cell.default_peak_bytes
                rounds = max(1, cell.measurements)
                best = None if cell.elite is None else cell.elite.config()[:3]
            elite: Any = (
                _archive.Elite(batch_size=best[0], micro_batch_size=best[1], threads=best[2])
                if ship and best is not None
                else _archive.KEEP_DEFAULT
            )
            kwargs: dict[str, Any] = {}
            if with_workload:
                # The spec, plus the data seed and the input kind (extra keys a spec ignores).
                kwargs["workload"] = {
                    **cell.genes.spec().to_dict(),
                    "seed": cell.genes.seed,
                    "input_kind": cell.genes.input_kind,
                }
            low, med, high = ev["low"], ev["median"], ev["high"]
            out.append(
                _archive.Cell(
                    index=list(cell.index),
                    profile=_archive.cell_profile(cell.profile),
                    elite=elite,
                    throughput=max(throughput, 1e-9),
                    default_throughput=max(default_rate, 1e-9),
                    speedup=med,
                    speedup_ci_low=min(low, med),
                    speedup_ci_high=max(high, med),
                    peak_bytes=int(peak),
                    n_measurements=max(1, int(rounds)),
                    **kwargs,
                )
            )
        return out

    def to_archive(
        self, previous: _archive.ArchiveFile | None = None, change: _archive.Change | None = None
    ) -> _archive.ArchiveFile:
        s = self.settings
        cells = self.archive_cells()
        commit = None
        git = measure.git_commit()
        if git is not None:
            commit = git["commit"] + ("-dirty" if git["dirty"] else "")
        gates = self.gates or {}
        tuned = gates.get("tuned", {})
        note = (
            f"{'corrected' if self.corrected else 'search in progress (not corrected)'};"
            f" {len(cells)} cells, {sum(1 for c in cells if not c.keep_default)} ship an elite;"
            f" noise floor {gates.get('noise_floor', float('nan')):.3f};"
            f" knobs tuned: {', '.join(k for k, v in tuned.items() if v) or 'none'};"
            f" {s.test_size} records per workload (distinct records tiled up to it)"
        )
        provenance = _archive.provenance_here(
            tool=TOOL,
            command=s.command,
            seed=s.seed,
            generations=self.generation,
            test_size=s.test_size,
            commit=commit,
            note=note,
        )
        history = list(previous.history) if previous is not None else []
        if change is not None:
            history.append(change)
        return _archive.ArchiveFile(
            format="satya-adapt-archive",
            format_version=_archive.FORMAT_VERSION,
            provenance=provenance,
            grid=self.grid,
            selection=previous.selection if previous is not None else _archive.Selection(),
            cells=cells,
            history=history,
            optimizer=_archive.OptimizerState(
                generation=self.generation,
                evaluations=self.evaluations,
                random_state=self.state_json(),
            ),
        )

    def results(self, *, complete: bool, interrupted: bool = False) -> dict[str, Any]:
        """The ``--results`` document (see the module documentation)."""
        s = self.settings
        rows = []
        shipped_speedups = []
        best_speedups = []
        keep = 0
        for cell in self._parents():
            f = cell.final if self.corrected else None
            ev = f["speedup"] if f is not None else cell.speedup
            ship = f["ship"] if f is not None else (
                cell.elite is not None and ev["low"] > s.ship_threshold
            )
            keep += 0 if ship else 1
            shipped_speedups.append(ev["median"] if ship else 1.0)
            best_speedups.append(ev["median"])
            row: dict[str, Any] = {
                "index": list(cell.index),
                "profile": dict(cell.profile._asdict()),
                "workload_genes": cell.genes.to_json(),
                "elite": (f["best"] if f is not None else (
                    None if cell.elite is None else list(cell.elite.config()[:3])))
                if ship else "keep_default",
                "best_candidate": None if cell.best is None else list(cell.best.config()[:3]),
                "speedup": ev["median"],
                "speedup_ci": [ev["low"], ev["high"]],
                "speedup_ci_coverage": ev.get("coverage"),
                "rounds": ev.get("rounds"),
                "search": {
                    "speedup": cell.speedup,
                    "challenges": cell.challenges,
                    "replacements": cell.replacements,
                    "demotions": cell.demotions,
                    "held_by": "elite" if cell.elite is not None else "default",
                },
            }
            if f is not None:
                rates = f["items_per_s"]
                msgspec_rate = rates.get("msgspec")
                row.update(
                    {
                        "items_per_s": {
                            "tuned": rates["tuned"],
                            "default": rates["default"],
                            "heuristic": rates["heuristic"],
                            "best_candidate": rates["best"],
                        },
                        "heuristic": f["heuristic"],
                        "heuristic_speedup": f["heuristic_speedup"],
                        "spread": f["spread"],
                        "peak_bytes": f["peak_bytes"],
                        "default_over_budget": f["default_over_budget"],
                        "n": f["n"],
                    }
                )
                if s.msgspec:
                    row["msgspec_items_per_s"] = msgspec_rate
                    row["ratio_vs_msgspec"] = (
                        rates["tuned"] / msgspec_rate if msgspec_rate else None
                    )
                    if f["msgspec_note"]:
                        row["msgspec_note"] = f["msgspec_note"]
            rows.append(row)
        total = grid_cells(self.grid, s.input_kinds)
        qd_corrected = float(sum(shipped_speedups)) if self.corrected else None
        return {
            "tool": TOOL,
            "complete": complete,
            "interrupted": interrupted,
            "command": s.command,
            "archive": s.archive,
            "settings": {
                "generations": s.generations,
                "test_size": s.test_size,
                "seed": s.seed,
                "input_kinds": list(s.input_kinds),
                "memory_budget": s.memory_budget,
                "time_budget": s.time_budget,
                "population": s.population,
                "search_rounds": s.search_rounds,
                "final_rounds": s.final_rounds,
                "gate_rounds": s.gate_rounds,
                "ship_threshold": s.ship_threshold,
                "msgspec": s.msgspec,
            },
            "provenance": measure.provenance(("satya-adapt", "msgspec", "orjson")),
            "generation": self.generation,
            "evaluations": self.evaluations,
            "search_seconds": self.search_seconds,
            "noise_floor": None if self.gates is None else self.gates["noise_floor"],
            "gates": self.gates,
            "knob_sensitivity": None
            if self.gates is None
            else {k: v["sensitive"] for k, v in self.gates["knobs"].items()},
            "search_space": self.space.to_json(),
            "rejected": dict(self.rejected),
            "generations": self.history,
            "grid": {
                "features": [f.name for f in self.grid.features],
                "cells": total,
            },
            "coverage": len(self.cells) / total,
            "qd_score": self.qd_score(),
            "corrected": self.corrected,
            "corrected_qd_score": qd_corrected,
            "speedup_percentiles": {
                "shipped": _percentiles(shipped_speedups),
                "best_candidate": _percentiles(best_speedups),
            },
            "keep_default_share": keep / len(rows) if rows else None,
            "cells": rows,
        }


def _quantile(sorted_values: Sequence[float], q: float) -> float | None:
    if not sorted_values:
        return None
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def _percentiles(values: Sequence[float]) -> dict[str, float | None] | None:
    if not values:
        return None
    s = sorted(values)
    return {"p5": _quantile(s, 0.05), "p50": _quantile(s, 0.5), "p95": _quantile(s, 0.95)}


def stored_genes(archive: _archive.ArchiveFile) -> dict[tuple[int, ...], WorkloadGenes]:
    """The workload genes each cell was measured on, from the optimizer's search state, else
    from a cell's ``workload`` (when it carries ``seed``); ``Prepared(genes, n)`` regenerates
    the data. Cells without either are left out."""
    out: dict[tuple[int, ...], WorkloadGenes] = {}
    for cell in archive.cells:
        w = getattr(cell, "workload", None)
        if isinstance(w, dict) and "seed" in w:
            try:
                out[tuple(cell.index)] = WorkloadGenes.from_json(
                    {**w, "input_kind": cell.profile.input_kind}
                )
            except (KeyError, TypeError, ValueError):
                pass
    state = archive.optimizer.random_state if archive.optimizer is not None else None
    if isinstance(state, dict) and isinstance(state.get("search"), dict):
        for doc in state["search"].get("cells", []):
            out[tuple(doc["index"])] = WorkloadGenes.from_json(doc["genes"])
    return out


def stored_workloads(archive: _archive.ArchiveFile) -> dict[tuple[int, ...], Any]:
    """The workload (a :class:`~satya_adapt.tuning.workloads.WorkloadSpec`, with its data seed) each
    cell of an optimizer-written archive was measured on: ``{index: (spec, seed)}``; empty for
    archives without search state. Refresh jobs can regenerate a cell's data from it."""
    state = archive.optimizer.random_state if archive.optimizer is not None else None
    if not isinstance(state, dict) or not isinstance(state.get("search"), dict):
        return {}
    out: dict[tuple[int, ...], Any] = {}
    for doc in state["search"].get("cells", []):
        genes = WorkloadGenes.from_json(doc["genes"])
        out[tuple(doc["index"])] = (genes.spec(), genes.seed)
    return out


# -- a whole run ------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _change(
    search: Search,
    previous: _archive.ArchiveFile | None,
    cells: Sequence[_archive.Cell],
    *,
    first_generation: int,
    interrupted: bool,
) -> _archive.Change:
    before = {tuple(c.index): c.elite for c in (previous.cells if previous is not None else [])}
    after = {tuple(c.index): c.elite for c in cells}
    added = sum(1 for k in after if k not in before)
    changed = sum(1 for k in after if k in before and before[k] != after[k])
    dropped = sum(1 for k in before if k not in after)
    shipped = sum(1 for c in cells if not c.keep_default)
    what = "interrupted" if interrupted else ("corrected" if search.corrected else "saved")
    return _archive.Change(
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0),
        action="optimize",
        summary=(
            f"generations {first_generation + 1}..{search.generation}"
            if search.generation > first_generation
            else f"no new generation (at {search.generation})"
        )
        + f", {search.evaluations} evaluations in all; {len(cells)} cells, {shipped} ship an"
        f" elite, {len(cells) - shipped} keep the default; {what}",
        command=search.settings.command,
        cells_added=added,
        cells_changed=changed,
        cells_dropped=dropped,
    )


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(f"signal {signum}")


def run(settings: Settings, *, measurer: Any = None) -> int:
    """Runs (or resumes) a search as ``settings`` says; returns the exit code (0 done,
    130 interrupted, the archive then holding the last complete generation)."""
    s = settings

    def log(level: int, message: str) -> None:
        _log(level, s.verbose, message)

    started = time.monotonic()
    deadline = started + s.time_budget if s.time_budget is not None else None
    measurer = measurer if measurer is not None else Measurer(s.test_size, sample_ns=s.sample_ns)
    previous: _archive.ArchiveFile | None = None
    if os.path.exists(s.archive):
        previous = _archive.load_archive(s.archive)
        if previous.optimizer is None:
            raise ArchiveError(
                f"{s.archive}: the archive holds no optimizer state to resume from;"
                " choose another --archive"
            )
        search = Search(s, measurer, grid=previous.grid, log=log)
        search.restore(
            previous.optimizer.generation,
            previous.optimizer.evaluations,
            previous.optimizer.random_state,
        )
        log(
            1,
            f"resuming {s.archive} at generation {search.generation}"
            f" ({len(search.cells)} cells, {search.evaluations} evaluations)",
        )
    else:
        search = Search(s, measurer, log=log)
        log(1, f"new search -> {s.archive} (seed {s.seed}, {search.cores} usable cores)")
    search.sessions += 1
    first_generation = search.generation
    gen_seconds: list[float] = []

    def eval_seconds() -> float:
        evals = sum(sum(h["outcomes"].values()) for h in search.history[-5:]) or 1
        secs = sum(h["seconds"] for h in search.history[-5:])
        return secs / evals if secs else 2.0

    def final_estimate() -> float:
        cells = len(search.cells) + (s.population // 2 if not search.cells else 0)
        factor = (s.final_rounds + 1) / (s.search_rounds + 1) * (5.0 if s.msgspec else 4.0) / 3.0
        return cells * eval_seconds() * factor

    def eta(done_in_generation: float) -> str:
        per_gen = measure.median(gen_seconds) if gen_seconds else eval_seconds() * s.population
        left_gens = max(0.0, s.generations - search.generation - done_in_generation)
        estimate = left_gens * per_gen + final_estimate()
        if deadline is not None:
            estimate = min(estimate, max(0.0, deadline - time.monotonic()))
        return _duration(estimate)

    def progress(i: int, total: int, what: str) -> None:
        if s.verbose >= 2:
            log(
                2,
                f"[gen {search.generation + 1}/{s.generations} {i}/{total}] {what} | cells"
                f" {len(search.cells)} QD {search.qd_score():.2f} | elapsed"
                f" {_duration(time.monotonic() - started)} ETA {eta(i / max(1, total))}",
            )

    def final_progress(i: int, total: int, what: str) -> None:
        log(2, f"[correction {i}/{total}] {what} | elapsed {_duration(time.monotonic() - started)}")

    snapshot: tuple[int, int, dict[str, Any]] | None = None

    def take() -> tuple[int, int, dict[str, Any]]:
        return (search.generation, search.evaluations, copy.deepcopy(search.state_json()))

    def save(change: _archive.Change | None = None) -> None:
        _archive.write_archive(search.to_archive(previous, change), s.archive)

    old_handler = None
    try:
        old_handler = signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:  # not the main thread
        old_handler = None
    try:
        if search.gates is None:
            search.run_gates()
            os.makedirs(os.path.dirname(os.path.abspath(s.archive)), exist_ok=True)
            save()
        snapshot = take()
        if not search.searchable:
            log(1, "no knob moves throughput beyond the noise floor: nothing to search")
        while search.generation < s.generations and search.searchable:
            if deadline is not None and search.history:
                per_gen = measure.median(gen_seconds) if gen_seconds else eval_seconds() * s.population
                if time.monotonic() + per_gen + final_estimate() > deadline:
                    log(1, f"time budget: search stops at generation {search.generation}")
                    break
            stats = search.run_generation(progress)
            gen_seconds.append(stats["seconds"])
            snapshot = take()
            log(
                1,
                f"generation {stats['generation']}/{s.generations}: coverage {stats['coverage']:.1%}"
                f" ({stats['cells']} cells, {stats['elites']} elites), QD {stats['qd_score']:.2f},"
                f" median speedup {stats['median_speedup'] or 1.0:.3f},"
                f" {', '.join(f'{k} {v}' for k, v in stats['outcomes'].items())}"
                f" ({stats['seconds']:.1f}s)",
            )
            if (search.generation - first_generation) % s.save_every == 0:
                save()
        if not search.corrected:
            log(1, f"correction: {len(search.cells)} cells, {s.final_rounds} fresh rounds each")
            search.correct(final_progress)
        archive = search.to_archive(previous)
        change = _change(
            search, previous, archive.cells, first_generation=first_generation, interrupted=False
        )
        save(change)
        if s.results:
            measure.write_results(search.results(complete=True), s.results)
        cells = archive.cells
        shipped = sum(1 for c in cells if not c.keep_default)
        log(
            1,
            f"done: {len(cells)} cells, {shipped} ship an elite, {len(cells) - shipped} keep the"
            f" default; archive {s.archive}"
            + (f", results {s.results}" if s.results else "")
            + f" ({_duration(time.monotonic() - started)})",
        )
        return 0
    except (KeyboardInterrupt, Interrupted):
        if snapshot is None:
            log(0, "interrupted before the first generation; nothing saved")
            return 130
        search.restore(*snapshot)
        archive = search.to_archive(previous)
        change = _change(
            search, previous, archive.cells, first_generation=first_generation, interrupted=True
        )
        save(change)
        if s.results:
            measure.write_results(search.results(complete=False, interrupted=True), s.results)
        log(
            0,
            f"interrupted: saved generation {search.generation} to {s.archive};"
            " run the same command again to resume",
        )
        return 130
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)


# -- command line -----------------------------------------------------------------------------

_EPILOG = """\
examples:
  %(prog)s --generations 2 --test-size 5000 --save-every 1 --verbose 2 --no-msgspec \\
      --seed 42 --archive benchmarks/map_elites_archive.json \\
      --results benchmarks/map_elites_results.json
  %(prog)s --generations 50 --test-size 100000 --time-budget 1800 --input-kind json

The archive resumes: run the same command again after Ctrl-C and the search continues from
the saved generation. Exit codes: 0 done, 1 failure, 2 usage or archive error, 130 interrupted.
"""


def _bytes(text: str) -> int:
    units = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
             "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
    t = text.strip().lower()
    i = len(t)
    while i and not t[i - 1].isdigit():
        i -= 1
    try:
        value = int(t[:i])
        unit = units[t[i:].strip()]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"expected a number of bytes such as 67108864 or 64MiB, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the memory budget must be at least 1 byte, got {text!r}")
    return value * unit






def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The optimizer's command line (shared by ``benchmarks/map_elites_optimizer.py`` and
    ``satya-adapt optimize``)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Search, with MAP-Elites, the fastest batch configuration for each kind of data and"
            " write the winners to an archive (resumable)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--generations", type=non_negative_int, default=50,
                   help="generations to reach (a resumed search continues up to it; default 50)")
    p.add_argument("--test-size", type=positive_int, default=20000,
                   help="records per measured workload (at most 32 MiB of JSON; default 20000)")
    p.add_argument("--save-every", type=positive_int, default=1,
                   help="write the archive every N generations (default 1)")
    p.add_argument("--archive", default=DEFAULT_ARCHIVE,
                   help=f"archive to write, resumed when it exists (default {DEFAULT_ARCHIVE})")
    p.add_argument("--results", default=DEFAULT_RESULTS,
                   help=f"results JSON to write (default {DEFAULT_RESULTS})")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0 quiet, 1 one line per generation, 2 progress lines with ETA")
    p.add_argument("--seed", type=int, default=42, help="random seed of a new search (default 42)")
    p.add_argument("--no-msgspec", action="store_true",
                   help="do not time msgspec on the cells' data at the end")
    p.add_argument("--time-budget", type=_seconds, metavar="SECONDS", default=None,
                   help="stop searching in time to finish the correction within SECONDS")
    p.add_argument("--input-kind", choices=(*INPUT_KINDS, "all"), default="all",
                   help="input kinds to search (default all)")
    p.add_argument("--memory-budget", type=_bytes, metavar="BYTES", default=None,
                   help="configurations whose peak bytes in flight exceed BYTES are infeasible"
                   " (suffixes KiB, MiB, GiB accepted)")
    return p


def settings_from_args(args: argparse.Namespace, command: str | None = None) -> Settings:
    return Settings(
        generations=args.generations,
        test_size=args.test_size,
        save_every=args.save_every,
        archive=args.archive,
        results=args.results or None,
        verbose=args.verbose,
        seed=args.seed,
        msgspec=not args.no_msgspec,
        time_budget=args.time_budget,
        input_kinds=INPUT_KINDS if args.input_kind == "all" else (args.input_kind,),
        memory_budget=args.memory_budget,
        command=command,
    )


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parses ``argv`` (default ``sys.argv[1:]``) and runs; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    args = parser.parse_args(args_list)
    command = " ".join(
        x for x in (("python " + prog) if prog and prog.endswith(".py") else (prog or "optimizer"),
                    shlex.join(args_list)) if x
    )
    settings = settings_from_args(args, command)
    try:
        return run(settings)
    except ArchiveError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
