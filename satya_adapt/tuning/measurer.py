"""How the optimizer gets data and timings: :class:`Prepared` (one workload's data, ready to
time) and :class:`Measurer` (interleaved rounds on it). Tests replace the measurer with fake
timings (see ``tests/test_optimizer.py``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ..config import DEFAULT_CONFIGURATION
from ..profile import Profile
from ..validator import Validator
from . import measure, realdata
from .reference import msgspec_runner
from .space import WorkloadGenes
from .workloads import make_workload

__all__ = ["MAX_DATA_BYTES", "MIN_RECORDS", "Measurer", "Prepared"]

# Data sizing: distinct records generated per workload, and records per measured call.
POOL_BYTES = 512 << 10
POOL_RECORDS = (64, 2000)
MAX_DATA_BYTES = 32 << 20
MIN_RECORDS = 256


class Prepared:
    """One workload's data, ready to time: ``n`` records of one input kind, the measured
    profile, a validator (adaptation off) and the rate of merely touching the data."""

    def __init__(self, genes: WorkloadGenes, test_size: int) -> None:
        self.genes = genes
        self.kind = genes.input_kind
        if genes.real:
            records, truth, size = self._real(genes)
        else:
            spec = genes.spec()
            probe = make_workload(spec, 32, seed=genes.seed)
            size = max(1.0, len(probe.json_bytes()) / 32.0)
        n = int(min(test_size, max(MIN_RECORDS, MAX_DATA_BYTES // size)))
        pool_n = int(min(n, POOL_RECORDS[1], max(POOL_RECORDS[0], POOL_BYTES // size)))
        if genes.real:
            records, truth = records[:pool_n], truth[:pool_n]
        else:
            self.workload = make_workload(genes.spec(), pool_n, seed=genes.seed)
            self.schema = self.workload.schema
            records, truth = self.workload.records, self.workload.expected_valid
        self.n = n
        reps = -(-n // len(records))
        self.expected_valid = (truth * reps)[:n]
        tiled = (records * reps)[:n]
        # Compact JSON, as json.dumps(separators=(",", ":")) writes it.
        self.payload: Any = realdata.encode(tiled, self.kind)
        self.validator = Validator(self.schema, adapt=False)
        self.profile: Profile = self.validator.profile(self.payload, input_kind=self.kind)
        self._reference: Any = None
        self.touch_rate = self._touch_rate()

    def _real(self, genes: WorkloadGenes) -> tuple[list[Any], list[bool], float]:
        """A real-data workload's distinct records (in the seed's order), their truth (all
        valid) and their mean size; only training workloads (never a held-out one)."""
        w = realdata.training_workloads().get(genes.real)
        if w is None:
            raise ValueError(f"`{genes.real}` is not a training real-data workload")
        self.schema = w.schema
        records = realdata.tiled(w, len(w.records), genes.seed)
        return records, [True] * len(records), max(1.0, w.object_size)

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
            self._reference = (
                list(r.valid), list(r.errors), r.stats.peak_bytes, r.stats.max_gil_hold
            )
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

    def check(self, prepared: Prepared, config: Sequence[Any]) -> tuple[bool, int, float]:
        """Runs ``config`` once: whether its results equal the default configuration's, its
        peak bytes in flight and its longest GIL hold (seconds)."""
        valid, errors, _, _ = prepared.reference()
        r = prepared.run(config)
        same = list(r.valid) == valid and list(r.errors) == errors
        return same, int(r.stats.peak_bytes), float(r.stats.max_gil_hold)

    def default_peak(self, prepared: Prepared) -> int:
        return int(prepared.reference()[2])

    def default_hold(self, prepared: Prepared) -> float:
        """The default configuration's longest GIL hold (seconds), from the reference run."""
        return float(prepared.reference()[3])

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

