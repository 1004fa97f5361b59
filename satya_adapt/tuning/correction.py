"""The correction: what each cell of a finished search ships.

At the end every cell's best configuration and up to three other points of its front (the
most diverse in peak bytes) are timed again against the default and the heuristic in
``final_rounds`` (>= 5) fresh rounds, plus msgspec on the same data; those fresh figures alone
go to the archive (the search's figures carry the winner's curse). A point stays on the cell's
front only when the fresh lower bound of its speedup exceeds the shipping bar
(:data:`satya_adapt.config.SHIP_THRESHOLD`, 1.03) and no other kept point dominates it; the
cell ships the fastest kept point as its elite, or records ``"keep_default"`` when none is
kept. The other front points and the heuristic's configuration, timed in the same rounds,
join the front the same way, or for their memory: with less memory in flight than the default
configuration and a lower bound above ``1 / 1.03`` (they claim the default's throughput,
within the same margin, not a speedup); such a *memory point* is never the elite, and without
a budget the selector takes it when it is within noise of the best point
(:func:`satya_adapt.budget.choose`).

**Other data of the cell.** A cell's claim rests on the one workload it was found on, while
the selector answers every profile that falls in the cell with it. So a cell that ships an
elite times it once more against the default, in the same number of fresh rounds, on other
data that fell in the same cell during the search (another real schema or other synthetic
genes, not only other records): :func:`confirm_cell`. The elite ships only when its lower
bound clears the bar there too; otherwise the cell ships no speedup (its fast front points
rest on the same workload and go with it) and keeps its memory points. This is what stops
one schema whose checking dominates from giving two threads to every dict profile of its
cell, where taking the records apart buys nothing and holds hundreds of times the memory.

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

def memory_point(low: float, peak_bytes: int, default_peak_bytes: int, bar: float) -> bool:
    """Whether a configuration earns a front place for its memory, not its speed: the
    default's throughput within the shipping margin ``bar`` (the lower bound of its speedup
    above ``1 / bar``) with less memory in flight than the default configuration."""
    return low > 1.0 / bar and peak_bytes < default_peak_bytes


__all__ = [
    "CellFinal",
    "Confirmation",
    "Evidence",
    "FinalPoint",
    "HeuristicSpeedup",
    "Holds",
    "Peaks",
    "Rates",
    "Spread",
    "confirm_cell",
    "correct_cell",
    "memory_point",
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


class FinalPoint(_Record):
    """One configuration of a cell's front timed by the correction: its fresh speedup over the
    default configuration, items/s, peak bytes, longest GIL hold (seconds), and whether it is
    kept (its lower bound clears the bar, it fits the memory budget, no other kept point
    dominates it)."""

    config: Tuple[int, int, int]
    speedup: Evidence
    items_per_s: float
    peak_bytes: int
    max_gil_hold: float
    kept: bool
    #: Kept for its memory, not its speed: less memory in flight than the default
    #: configuration at its throughput (lower bound above ``1 / ship_threshold``); never the
    #: cell's elite.
    memory: bool = False


class Confirmation(_Record):
    """The shipped elite timed against the default on other data of the cell."""

    workload: Dict[str, Any]  # the other data's workload genes
    speedup: Evidence
    peak_bytes: int
    default_peak_bytes: int
    #: Whether the elite's lower bound clears the bar on that data too.
    confirmed: bool


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
    front: List[FinalPoint] = []
    # Added with the check on other data (``None``: not checked, see :func:`confirm_cell`).
    confirmation: Optional[Confirmation] = None


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values, interpolated linearly (``None`` when empty)."""
    if not sorted_values:
        return None
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def _dominates(a: FinalPoint, b: FinalPoint) -> bool:
    sa, sb = a.speedup.median, b.speedup.median
    no_worse = sa >= sb and a.peak_bytes <= b.peak_bytes and a.max_gil_hold <= b.max_gil_hold
    better = sa > sb or a.peak_bytes < b.peak_bytes or a.max_gil_hold < b.max_gil_hold
    return no_worse and better


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
    front: Sequence[ConfigGenes] = (),
) -> CellFinal:
    """Times the cell's best configuration, its other ``front`` configurations, the default and
    the heuristic in ``rounds`` fresh interleaved rounds on ``prepared`` (plus msgspec), and
    decides what the cell ships: the front points whose fresh lower bound clears the bar (the
    non-dominated ones), its elite the one of them with the highest throughput."""
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
    for i, genes in enumerate(front):
        fc = genes.config()
        if effective(fc, n, cores) not in keys:
            keys[effective(fc, n, cores)] = f"front{i}"
            configs[f"front{i}"] = fc
    heur_name = keys[heur_key]
    best_name = keys[effective(best.config(), n, cores)] if best is not None else "default"
    # The candidates for the front, in order: the best configuration, then the others.
    candidates: List[str] = []
    for genes in ([best] if best is not None else []) + list(front):
        name = keys[effective(genes.config(), n, cores)]
        if name != "default" and name not in candidates:
            candidates.append(name)
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
    peaks: Dict[str, int] = {"default": measurer.default_peak(prepared)}
    holds: Dict[str, float] = {"default": measurer.default_hold(prepared)}
    for name in dict.fromkeys([*candidates, heur_name]):
        if name != "default":
            _, peaks[name], holds[name] = measurer.check(prepared, configs[name])
    default_over = memory_budget is not None and peaks["default"] > memory_budget
    points: Dict[str, FinalPoint] = {}

    def point(name: str, ev_name: Evidence, clears: bool, memory: bool = False) -> FinalPoint:
        feasible = memory_budget is None or peaks[name] <= memory_budget
        b, mb, t = configs[name][:3]
        return FinalPoint(
            config=(int(b), int(mb), int(t)),
            speedup=ev_name,
            items_per_s=rates[name],
            peak_bytes=peaks[name],
            max_gil_hold=holds[name],
            kept=feasible and clears and name not in implausible,
            memory=memory,
        )

    def lean(name: str, ev_name: Evidence) -> bool:
        return memory_point(ev_name.low, peaks[name], peaks["default"], ship_threshold)

    for name in candidates:
        ev_name = speedup_evidence(m.speedup(name, "default").ratios)
        clears = ev_name.low > ship_threshold or (default_over and ev_name.low > 0)
        # The best configuration claims a speedup or nothing; the other front points (memory
        # points of the search among them) may stay for their memory.
        memory = not clears and name != best_name and lean(name, ev_name)
        points[name] = point(name, ev_name, clears or memory, memory=memory)
    if heur_name not in points and heur_name != "default":
        # The heuristic sizes chunks by bytes: with large records it holds far less in flight
        # than the default configuration. Timed in the same rounds, it joins the front for
        # its speed (as any point) or for its memory.
        ev_h = speedup_evidence(m.speedup(heur_name, "default").ratios)
        fast = ev_h.low > ship_threshold
        points[heur_name] = point(heur_name, ev_h, fast or lean(heur_name, ev_h), memory=not fast)
    kept = [name for name, p in points.items() if p.kept]
    # Only the non-dominated points stay on the front; the elite is the fastest of them
    # that is kept for its speed.
    for name in list(kept):
        if any(_dominates(points[o], points[name]) for o in kept if o != name):
            points[name] = msgspec.structs.replace(points[name], kept=False)
    fast_kept = [name for name, p in points.items() if p.kept and not p.memory]
    ship = bool(fast_kept)
    chosen = max(fast_kept, key=lambda name: rates[name]) if ship else best_name
    if chosen == "default":
        ev = Evidence(median=1.0, low=1.0, high=1.0, coverage=0.0, rounds=m.rounds)
        ratios: tuple[float, ...] = tuple(1.0 for _ in range(m.rounds))
    else:
        ratios = m.speedup(chosen, "default").ratios
        ev = speedup_evidence(ratios)
    heur_sp = m.speedup(heur_name, "default") if heur_name != "default" else None
    tuned_name = chosen if ship else "default"
    spread = sorted(ratios)
    has_best = best is not None and chosen != "default"
    return CellFinal(
        ship=ship,
        best=None if best is None else (points[chosen].config if ship else best.config()[:3]),
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
            best=rates[chosen],
            heuristic=rates[heur_name],
            msgspec=rates.get("msgspec"),
        ),
        heuristic=list(heur[:3]),
        heuristic_speedup=None
        if heur_sp is None
        else HeuristicSpeedup(median=heur_sp.median, low=heur_sp.ci.low, high=heur_sp.ci.high),
        peak_bytes=Peaks(
            tuned=peaks[tuned_name],
            default=peaks["default"],
            best=peaks[chosen] if has_best else (peaks["default"] if best is not None else None),
            heuristic=peaks[heur_name],
        ),
        default_over_budget=default_over,
        implausible=implausible,
        msgspec_note=msgspec_note,
        rounds=m.rounds,
        n=n,
        max_gil_hold=Holds(
            tuned=holds[tuned_name],
            default=holds["default"],
            best=holds[chosen] if has_best else (holds["default"] if best is not None else None),
            heuristic=holds[heur_name],
        ),
        front=list(points.values()),
    )


def confirm_cell(
    measurer: Any,
    other: Any,
    workload: Dict[str, Any],
    final: CellFinal,
    *,
    rounds: int,
    ship_threshold: float,
    rng: random.Random,
) -> CellFinal:
    """Times the elite ``final`` ships against the default on ``other`` (prepared data of the
    same cell, described by ``workload``) in ``rounds`` fresh interleaved rounds. Confirmed:
    ``final`` as it was, with the evidence. Not confirmed (its lower bound does not clear the
    bar there, or it changes the results): the cell ships no elite and its front keeps only
    its memory points."""
    if not final.ship or final.best is None:
        return final
    elite = final.best
    same, peak, _hold = measurer.check(other, elite)
    default_peak = measurer.default_peak(other)
    m = measurer.compare(
        other,
        {"default": DEFAULT_CONFIGURATION, "elite": elite},
        rounds=rounds,
        seed=rng.randrange(1 << 31),
    )
    ev = speedup_evidence(m.speedup("elite", "default").ratios)
    confirmed = same and ev.low > ship_threshold
    confirmation = Confirmation(
        workload=workload,
        speedup=ev,
        peak_bytes=peak,
        default_peak_bytes=default_peak,
        confirmed=confirmed,
    )
    if confirmed:
        return msgspec.structs.replace(final, confirmation=confirmation)
    front = [p if p.memory else msgspec.structs.replace(p, kept=False) for p in final.front]
    # What the cell ships is the default again: its figures stand for "tuned".
    rates = msgspec.structs.replace(final.items_per_s, tuned=final.items_per_s.default)
    peaks = msgspec.structs.replace(final.peak_bytes, tuned=final.peak_bytes.default)
    holds = final.max_gil_hold
    if holds is not None:
        holds = msgspec.structs.replace(holds, tuned=holds.default)
    return msgspec.structs.replace(
        final,
        ship=False,
        front=front,
        items_per_s=rates,
        peak_bytes=peaks,
        max_gil_hold=holds,
        confirmation=confirmation,
    )
