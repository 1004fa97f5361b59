"""The correction: what each cell of a finished search ships.

At the end every cell's best configuration is timed again against the default and the
heuristic in ``final_rounds`` (>= 5) fresh rounds, plus msgspec on the same data; those fresh
figures alone go to the archive (the search's figures carry the winner's curse). A cell ships
its elite only when the fresh lower bound of its speedup exceeds the shipping bar
(:data:`satya_adapt.config.SHIP_THRESHOLD`, 1.03); otherwise it records ``"keep_default"``.
The outcome of one cell is a :class:`CellFinal`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, Callable, Dict, List, Optional, Tuple

import msgspec

from ..config import DEFAULT_CONFIGURATION, clamp, effective
from ..heuristic import heuristic_config
from . import measure
from .space import ConfigGenes

__all__ = [
    "CellFinal",
    "Evidence",
    "HeuristicSpeedup",
    "Holds",
    "Peaks",
    "Rates",
    "Spread",
    "correct_cell",
    "quantile",
    "speedup_evidence",
]


class _Record(msgspec.Struct, kw_only=True):
    """A typed record that also reads as a mapping (``final["ship"]``), as its JSON form does."""

    def __getitem__(self, key: str) -> Any:
        if key not in self.__struct_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.__struct_fields__ else default


class Evidence(_Record):
    """Median and interval of paired speedups (default time / configuration time)."""

    median: float
    low: float
    high: float
    coverage: float
    rounds: int


def speedup_evidence(ratios: Sequence[float]) -> Evidence:
    """The evidence of paired speedups; no usable ratio reads as no difference."""
    ratios = [r for r in ratios if math.isfinite(r) and r > 0]
    if not ratios:
        return Evidence(median=1.0, low=1.0, high=1.0, coverage=0.0, rounds=0)
    ci = measure.median_ci(ratios)
    return Evidence(
        median=measure.median(ratios),
        low=ci.low,
        high=ci.high,
        coverage=ci.coverage,
        rounds=len(ratios),
    )


class Spread(_Record):
    min: float
    p25: Optional[float]
    p75: Optional[float]
    max: float


class Rates(_Record):
    """Items/s in the correction's rounds: what the cell ships (``tuned``), the default, the
    best configuration found, the heuristic's, msgspec's (``None`` when not timed)."""

    tuned: float
    default: float
    best: float
    heuristic: float
    msgspec: Optional[float]


class HeuristicSpeedup(_Record):
    median: float
    low: float
    high: float


class Peaks(_Record):
    """Peak bytes in flight for one chunk, per configuration (``best``: ``None`` without one)."""

    tuned: int
    default: int
    best: Optional[int]
    heuristic: int


class Holds(_Record):
    """Longest GIL hold (seconds) of one run, per configuration, as :class:`Peaks`."""

    tuned: float
    default: float
    best: Optional[float]
    heuristic: float


class CellFinal(_Record):
    """What the correction measured for one cell, and whether it ships its elite."""

    ship: bool
    best: Optional[Tuple[int, int, int]]
    best_is_default: bool
    speedup: Evidence
    spread: Spread
    items_per_s: Rates
    heuristic: List[int]
    heuristic_speedup: Optional[HeuristicSpeedup]
    peak_bytes: Peaks
    default_over_budget: bool
    implausible: List[str]
    msgspec_note: Optional[str]
    rounds: int
    n: int
    # Added with the fronts (``None`` in a state saved before).
    max_gil_hold: Optional[Holds] = None


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values, interpolated linearly (``None`` when empty)."""
    if not sorted_values:
        return None
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def correct_cell(
    measurer: Any,
    prepared: Any,
    best: ConfigGenes | None,
    *,
    cores: int,
    rounds: int,
    ship_threshold: float,
    memory_budget: int | None,
    with_msgspec: bool,
    rng: random.Random,
) -> CellFinal:
    """Times the cell's best configuration, the default and the heuristic in ``rounds`` fresh
    interleaved rounds on ``prepared`` (plus msgspec), and decides whether the cell ships."""
    n = prepared.n
    heur = clamp(heuristic_config(prepared.profile, cores), n, cores)
    configs: Dict[str, Sequence[Any]] = {"default": DEFAULT_CONFIGURATION}
    keys = {effective(DEFAULT_CONFIGURATION, n, cores): "default"}
    if best is not None:
        bc = best.config()
        keys.setdefault(effective(bc, n, cores), "best")
        if keys[effective(bc, n, cores)] == "best":
            configs["best"] = bc
    heur_key = effective(heur, n, cores)
    if heur_key not in keys:
        keys[heur_key] = "heuristic"
        configs["heuristic"] = heur
    heur_name = keys[heur_key]
    best_name = keys[effective(best.config(), n, cores)] if best is not None else "default"
    extra: Dict[str, Callable[[], Any]] = {}
    msgspec_note = None
    if with_msgspec:
        runner = getattr(prepared, "msgspec_runner", lambda: None)()
        if runner is None:
            msgspec_note = "msgspec unavailable or no translation for this schema"
        else:
            extra["msgspec"] = runner
    m = measurer.compare(prepared, configs, rounds=rounds, seed=rng.randrange(1 << 31), extra=extra)
    implausible = [name for name in configs if m.summary(name).items_per_s > prepared.touch_rate]
    rates = {name: m.summary(name).items_per_s for name in m.names}
    if best_name == "default":
        ev = Evidence(median=1.0, low=1.0, high=1.0, coverage=0.0, rounds=m.rounds)
        ratios: tuple[float, ...] = tuple(1.0 for _ in range(m.rounds))
    else:
        ratios = m.speedup(best_name, "default").ratios
        ev = speedup_evidence(ratios)
    heur_sp = m.speedup(heur_name, "default") if heur_name != "default" else None
    peaks: Dict[str, int] = {"default": measurer.default_peak(prepared)}
    holds: Dict[str, float] = {"default": measurer.default_hold(prepared)}
    if best is not None:
        _, peaks["best"], holds["best"] = measurer.check(prepared, best.config())
    _, peaks["heuristic"], holds["heuristic"] = measurer.check(prepared, heur)
    default_over = memory_budget is not None and peaks["default"] > memory_budget
    best_feasible = memory_budget is None or peaks.get("best", 0) <= memory_budget
    ship = (
        best is not None
        and best_name != "default"
        and best_feasible
        and not implausible
        and (ev.low > ship_threshold or (default_over and ev.low > 0))
    )
    tuned_name = best_name if ship else "default"
    spread = sorted(ratios)
    return CellFinal(
        ship=bool(ship),
        best=None if best is None else best.config()[:3],
        best_is_default=best_name == "default",
        speedup=ev,
        spread=Spread(
            min=spread[0] if spread else 1.0,
            p25=quantile(spread, 0.25),
            p75=quantile(spread, 0.75),
            max=spread[-1] if spread else 1.0,
        ),
        items_per_s=Rates(
            tuned=rates[tuned_name],
            default=rates["default"],
            best=rates[best_name],
            heuristic=rates[heur_name],
            msgspec=rates.get("msgspec"),
        ),
        heuristic=list(heur[:3]),
        heuristic_speedup=None
        if heur_sp is None
        else HeuristicSpeedup(median=heur_sp.median, low=heur_sp.ci.low, high=heur_sp.ci.high),
        peak_bytes=Peaks(
            tuned=peaks["best"] if ship else peaks["default"],
            default=peaks["default"],
            best=peaks.get("best"),
            heuristic=peaks["heuristic"],
        ),
        default_over_budget=default_over,
        implausible=implausible,
        msgspec_note=msgspec_note,
        rounds=m.rounds,
        n=n,
        max_gil_hold=Holds(
            tuned=holds["best"] if ship else holds["default"],
            default=holds["default"],
            best=holds.get("best"),
            heuristic=holds["heuristic"],
        ),
    )
