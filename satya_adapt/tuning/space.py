"""The search space of the optimizer: the grid a new search fills, the genes of an individual
(the data it generates, :class:`WorkloadGenes`, and the batch configuration it tries,
:class:`ConfigGenes`), which genes may move (:class:`SearchSpace`), and how they vary:
random immigrants, log-space mutations, uniform crossover.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from .. import archive as _archive
from ..config import DEFAULT_CONFIGURATION, BatchConfig
from ..profile import INPUT_KINDS
from .workloads import WorkloadSpec

__all__ = [
    "DEFAULT_GENES",
    "FIELD_COUNT",
    "INVALID_RATE",
    "LIST_LENGTH_MAX",
    "NESTING_MAX",
    "STRING_LENGTH",
    "ConfigGenes",
    "SearchSpace",
    "WorkloadGenes",
    "crossover",
    "default_grid",
    "grid_cells",
    "max_log2_batch",
    "mutate_config",
    "mutate_real",
    "mutate_workload",
    "random_config",
    "random_real",
    "random_workload",
]

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
    #: The name of a real-data workload (:mod:`~satya_adapt.tuning.realdata`) whose records
    #: the individual uses, in the order ``seed`` shuffles them; the other genes then do not
    #: apply. Empty: synthetic data from the genes.
    real: str = ""

    @classmethod
    def of_real(cls, name: str, input_kind: str, seed: int) -> WorkloadGenes:
        """The genes of a real-data individual (the synthetic genes at their least)."""
        return cls(1, 1, 0.0, 0.0, 0, 0, input_kind, seed, name)

    def spec(self) -> WorkloadSpec:
        if self.real:
            raise ValueError(f"the real-data workload `{self.real}` has no synthetic spec")
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
        if doc.get("real"):
            return cls.of_real(str(doc["real"]), str(doc["input_kind"]), int(doc["seed"]))
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k != "real"})

    def archive_workload(self) -> dict[str, Any]:
        """The cell's ``workload`` in an archive: the spec (or the real workload's name), the
        data seed and the input kind."""
        if self.real:
            return {"real": self.real, "seed": self.seed, "input_kind": self.input_kind}
        return {**self.spec().to_dict(), "seed": self.seed, "input_kind": self.input_kind}

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
        if t > 1 and not self.tune_micro:
            # Untuned, micro_batch_size still leaves every thread a micro-batch of the chunk
            # (the engine runs no more threads than a chunk has: config.clamp).
            m = max(LOG2_MICRO[0], min(m, b - (t - 1).bit_length()))
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


def random_real(rng: random.Random, names: Sequence[str], kinds: Sequence[str]) -> WorkloadGenes:
    """A random immigrant on real data: one of ``names``, an input kind, a record order."""
    return WorkloadGenes.of_real(rng.choice(list(names)), rng.choice(list(kinds)), rng.randrange(1 << 31))


def mutate_real(
    rng: random.Random, g: WorkloadGenes, kinds: Sequence[str], names: Sequence[str]
) -> WorkloadGenes:
    """A real-data individual moved: another input kind, or another record order, or another
    real workload (a third each, where there is another to go to); always a new order."""
    r = rng.random()
    kind, name = g.input_kind, g.real
    others = [n for n in names if n != name]
    if r < 1 / 3 and len(kinds) > 1:
        kind = rng.choice([k for k in kinds if k != kind])
    elif r >= 2 / 3 and others:
        name = rng.choice(others)
    return WorkloadGenes.of_real(name, kind, rng.randrange(1 << 31))


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
    if wa.real or wb.real:
        # Real data does not mix with genes: the child keeps one side's workload.
        side = pick(wa, wb)
        w = replace(side, seed=rng.randrange(1 << 31))
        ca, cb = a[1], b[1]
        c = ConfigGenes(
            pick(ca.log2_batch, cb.log2_batch),
            pick(ca.log2_micro, cb.log2_micro),
            pick(ca.threads, cb.threads),
        )
        return w, space.canonical(c)
    w = WorkloadGenes(
        **{
            name: pick(getattr(wa, name), getattr(wb, name))
            for name in WorkloadGenes.__dataclass_fields__
            if name not in ("seed", "real")
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



def max_log2_batch(test_size: int) -> int:
    """The largest batch_size gene worth trying: the first power of two >= the records."""
    return max(LOG2_BATCH[0], min(LOG2_BATCH[1], math.ceil(math.log2(max(2, test_size)))))

