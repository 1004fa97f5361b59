"""Measurement harness: interleaved rounds, medians, confidence intervals, provenance.

Shared by the peer benchmark (``benchmarks/bench_peers.py``) and the offline optimizer.
Everything here is a pure function or a small dataclass, except the few helpers that read
the machine (:func:`provenance`, :func:`usable_cores`, the RSS helpers).

How a run works (:func:`run_rounds`): every contender is a callable that does one unit of
work on data prepared beforehand (say, validates 10,000 records). Each is warmed up, then
timed in rounds; in every round each contender runs once (``inner`` calls per sample), in
an order shuffled by a seeded generator, so drift of the machine (another process, a
frequency change) hits all contenders alike. A sample is nanoseconds per call
(:func:`time.perf_counter_ns`). Samples of two contenders taken in the same round are a
pair: their ratio cancels whatever slowed that round down, which makes
:meth:`Measurement.speedup` (the median of per-round ratios, with a distribution-free
interval) the figure to compare contenders with.

Intervals are order-statistic intervals for a median (exact, distribution-free, no
randomness); :func:`bootstrap_ci` is there for other statistics (ratio of medians). Each
interval reports the coverage it really has: with few samples the nominal level cannot be
reached, and the interval says so instead of pretending.
"""

from __future__ import annotations

import datetime as _dt
import gc
import math
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Union

__all__ = [
    "Contender",
    "Interval",
    "Measurement",
    "Speedup",
    "Summary",
    "bootstrap_ci",
    "calibrate_inner",
    "cpu_model",
    "current_rss_bytes",
    "git_commit",
    "items_per_second",
    "median",
    "median_ci",
    "order_statistic_ranks",
    "paired_ratios",
    "peak_rss_bytes",
    "provenance",
    "reset_peak_rss",
    "run_rounds",
    "speedup",
    "summarize",
    "usable_cores",
]

Number = Union[int, float]
Timer = Callable[[], int]


# -- statistics ------------------------------------------------------------------------------


def median(values: Sequence[Number]) -> float:
    """The median; the mean of the two middle values for an even count."""
    if not values:
        raise ValueError("`values` must not be empty")
    s = sorted(values)
    n = len(s)
    mid = n // 2
    if n % 2:
        return float(s[mid])
    return (s[mid - 1] + s[mid]) / 2.0


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` and the ``coverage`` it actually has (0..1)."""

    low: float
    high: float
    coverage: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "coverage": self.coverage}


def _binom_half_cdf(k: int, n: int) -> float:
    """P(B <= k) for B ~ Binomial(n, 1/2), exactly (as a float of an exact fraction)."""
    if k < 0:
        return 0.0
    total: int = sum(math.comb(n, i) for i in range(min(k, n) + 1))
    return total / (1 << n)


def order_statistic_ranks(n: int, level: float = 0.95) -> tuple[int, int, float]:
    """1-based ranks ``(l, u)`` such that ``[x_(l), x_(u)]`` covers the median of the
    population with probability ``coverage >= level`` (the narrowest such symmetric pair).

    When ``n`` is too small to reach ``level``, returns ``(1, n)`` with the coverage it has
    (e.g. n=5: 0.9375). The coverage is ``P(l <= B <= u - 1)``, B ~ Binomial(n, 1/2).
    """
    if n < 1:
        raise ValueError("`n` must be at least 1")
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must be in (0, 1), got {level}")
    best = (1, n, 1.0 - 2.0 * _binom_half_cdf(0, n))
    for k in range(2, (n + 1) // 2 + 1):
        coverage = 1.0 - 2.0 * _binom_half_cdf(k - 1, n)
        if coverage < level:
            break
        best = (k, n - k + 1, coverage)
    return best


def median_ci(values: Sequence[Number], level: float = 0.95) -> Interval:
    """Distribution-free (order-statistic) confidence interval for the median of ``values``."""
    if not values:
        raise ValueError("`values` must not be empty")
    s = sorted(values)
    lo, hi, coverage = order_statistic_ranks(len(s), level)
    return Interval(float(s[lo - 1]), float(s[hi - 1]), coverage)


def bootstrap_ci(
    values: Sequence[Any],
    statistic: Callable[[Sequence[Any]], float] = median,
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (seeded, deterministic).

    ``values`` may be tuples (say, the paired samples of one round) so that a statistic of
    several contenders resamples whole rounds. ``coverage`` is the nominal ``level``.
    """
    if not values:
        raise ValueError("`values` must not be empty")
    if resamples < 1:
        raise ValueError("`resamples` must be at least 1")
    rng = random.Random(seed)
    n = len(values)
    stats = sorted(
        statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)
    )
    alpha = (1.0 - level) / 2.0
    lo = stats[min(resamples - 1, max(0, math.floor(alpha * resamples)))]
    hi = stats[min(resamples - 1, max(0, math.ceil((1.0 - alpha) * resamples) - 1))]
    return Interval(float(lo), float(hi), level)


def items_per_second(items: int, ns_per_call: float) -> float:
    """Throughput of a call that handled ``items`` records in ``ns_per_call`` nanoseconds."""
    if ns_per_call <= 0:
        return math.inf
    return items * 1e9 / ns_per_call


def paired_ratios(numerator: Sequence[Number], denominator: Sequence[Number]) -> list[float]:
    """Per-round ratios ``numerator[i] / denominator[i]`` (the samples must be paired)."""
    if len(numerator) != len(denominator):
        raise ValueError(
            f"paired samples must have the same length, got {len(numerator)} and {len(denominator)}"
        )
    return [a / b if b else math.inf for a, b in zip(numerator, denominator)]


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One contender's timing: ``median_ns`` per call with its interval, and throughput."""

    name: str
    rounds: int
    items: int
    median_ns: float
    ci_ns: Interval
    min_ns: float
    max_ns: float

    @property
    def items_per_s(self) -> float:
        return items_per_second(self.items, self.median_ns)

    @property
    def items_per_s_ci(self) -> Interval:
        """Throughput interval: the time interval inverted (a slow bound is a low rate)."""
        return Interval(
            items_per_second(self.items, self.ci_ns.high),
            items_per_second(self.items, self.ci_ns.low),
            self.ci_ns.coverage,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rounds": self.rounds,
            "items": self.items,
            "median_ns": self.median_ns,
            "ci_ns": self.ci_ns.to_dict(),
            "min_ns": self.min_ns,
            "max_ns": self.max_ns,
            "items_per_s": self.items_per_s,
            "items_per_s_ci": self.items_per_s_ci.to_dict(),
        }


@dataclass(frozen=True)
class Speedup:
    """How many times faster ``name`` ran than ``baseline``: the median over rounds of
    ``baseline_ns / name_ns`` (paired by round), with an order-statistic interval."""

    name: str
    baseline: str
    median: float
    ci: Interval
    ratios: tuple[float, ...]

    @property
    def significant(self) -> bool:
        """True when the interval excludes 1 (a real difference, at ``ci.coverage``)."""
        return self.ci.low > 1.0 or self.ci.high < 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "median": self.median,
            "ci": self.ci.to_dict(),
        }


def summarize(
    name: str, samples_ns: Sequence[Number], items: int = 1, level: float = 0.95
) -> Summary:
    """Median, interval and range of one contender's samples (nanoseconds per call)."""
    if not samples_ns:
        raise ValueError(f"no samples for {name!r}")
    return Summary(
        name=name,
        rounds=len(samples_ns),
        items=items,
        median_ns=median(samples_ns),
        ci_ns=median_ci(samples_ns, level),
        min_ns=float(min(samples_ns)),
        max_ns=float(max(samples_ns)),
    )


def speedup(
    name: str,
    name_ns: Sequence[Number],
    baseline: str,
    baseline_ns: Sequence[Number],
    level: float = 0.95,
) -> Speedup:
    """Speedup of ``name`` over ``baseline`` from samples paired by round."""
    ratios = paired_ratios(baseline_ns, name_ns)
    if not ratios:
        raise ValueError("no paired samples")
    return Speedup(name, baseline, median(ratios), median_ci(ratios, level), tuple(ratios))


@dataclass(frozen=True)
class Contender:
    """One thing to time: ``fn()`` does one unit of work on ``items`` records."""

    name: str
    fn: Callable[[], Any]
    items: int = 1


@dataclass
class Measurement:
    """Samples (nanoseconds per call) of several contenders, taken in interleaved rounds.

    ``samples[name][r]`` was taken in round ``r``; ``orders[r]`` is the order the contenders
    ran in that round.
    """

    names: tuple[str, ...]
    items: dict[str, int]
    samples: dict[str, list[float]] = field(default_factory=dict)
    orders: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(self.orders)

    def summary(self, name: str, level: float = 0.95) -> Summary:
        return summarize(name, self.samples[name], self.items[name], level)

    def speedup(self, name: str, baseline: str, level: float = 0.95) -> Speedup:
        """Speedup of ``name`` over ``baseline``, paired by round (>1: ``name`` is faster)."""
        return speedup(name, self.samples[name], baseline, self.samples[baseline], level)

    def fastest(self, names: Iterable[str] | None = None) -> str:
        """The contender (among ``names``, default all) with the highest median throughput."""
        pool = list(self.names if names is None else names)
        if not pool:
            raise ValueError("no contenders to choose from")
        return max(pool, key=lambda n: self.summary(n).items_per_s)

    def to_dict(self, level: float = 0.95) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "orders": [list(o) for o in self.orders],
            "contenders": {
                n: dict(self.summary(n, level).to_dict(), samples_ns=list(self.samples[n]))
                for n in self.names
            },
        }


def run_rounds(
    contenders: Sequence[Contender],
    *,
    rounds: int,
    warmup: int = 1,
    inner: int | Mapping[str, int] = 1,
    shuffle: bool = True,
    seed: int = 0,
    timer: Timer = time.perf_counter_ns,
    collect: bool = True,
    max_seconds: float | None = None,
    min_rounds: int = 3,
    on_round: Callable[[int, Measurement], None] | None = None,
) -> Measurement:
    """Times ``contenders`` in interleaved rounds and returns their samples.

    - ``warmup``: untimed calls of each contender before the first round.
    - ``inner``: calls per sample (one number, or one per contender name); a sample is the
      elapsed time divided by ``inner``. Use it when one call is too short for the timer.
    - ``shuffle``: each round runs the contenders in an order drawn from
      ``random.Random(seed)``; otherwise in the given order.
    - ``collect``: run the garbage collector before each timed sample, so that garbage left
      by one contender is not collected on another's clock.
    - ``max_seconds``: stop after the first round that ends past this budget (as measured by
      ``timer``), but never before ``min_rounds`` rounds.
    - ``on_round(r, measurement)`` is called after each round (progress reports).
    """
    if rounds < 1:
        raise ValueError(f"`rounds` must be at least 1, got {rounds}")
    if warmup < 0:
        raise ValueError(f"`warmup` must be >= 0, got {warmup}")
    names = tuple(c.name for c in contenders)
    if len(set(names)) != len(names):
        raise ValueError(f"contender names must be unique, got {list(names)}")
    if not contenders:
        raise ValueError("no contenders")
    inner_of = {
        c.name: (inner.get(c.name, 1) if isinstance(inner, Mapping) else inner) for c in contenders
    }
    for name, k in inner_of.items():
        if k < 1:
            raise ValueError(f"`inner` must be at least 1, got {k} for {name!r}")
    m = Measurement(names=names, items={c.name: c.items for c in contenders})
    for c in contenders:
        m.samples[c.name] = []
    for _ in range(warmup):
        for c in contenders:
            c.fn()
    rng = random.Random(seed)
    order = list(contenders)
    start = timer()
    for r in range(rounds):
        if shuffle:
            rng.shuffle(order)
        for c in order:
            k = inner_of[c.name]
            if collect:
                gc.collect()
            fn = c.fn
            t0 = timer()
            for _ in range(k):
                out = fn()
            t1 = timer()
            del out
            m.samples[c.name].append((t1 - t0) / k)
        m.orders.append(tuple(c.name for c in order))
        if on_round is not None:
            on_round(r, m)
        if (
            max_seconds is not None
            and r + 1 >= min_rounds
            and (timer() - start) / 1e9 >= max_seconds
        ):
            break
    return m


def calibrate_inner(
    fn: Callable[[], Any],
    *,
    target_ns: float = 2e6,
    timer: Timer = time.perf_counter_ns,
    limit: int = 1 << 20,
) -> int:
    """Calls per sample so that one sample lasts at least ``target_ns`` (doubling search)."""
    k = 1
    while True:
        t0 = timer()
        for _ in range(k):
            fn()
        elapsed = timer() - t0
        if elapsed >= target_ns or k >= limit:
            return k
        k *= 2


# -- the machine --------------------------------------------------------------------------------


def usable_cores() -> int:
    """Cores this process may use (the same count the selector clamps ``threads`` to)."""
    from ..hardware import usable_cores as _usable_cores

    return _usable_cores()


def cpu_model() -> str:
    """The CPU's model name, best effort."""
    from ..hardware import cpu_info

    return cpu_info()["model"] or platform.machine() or "unknown"


def _version_of(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_commit(path: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git checkout at ``path``; ``None`` outside one."""
    cwd = os.fspath(path) if path is not None else os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": bool(status.strip())}


def _gil_enabled() -> bool:
    from ..hardware import gil_enabled

    return gil_enabled()


def provenance(
    libraries: Iterable[str] = (), *, repo: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Where and with what a measurement was taken: CPU, cores, Python, library versions
    (distribution names; ``None`` when not installed), git commit, date (UTC), load."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gil_enabled": _gil_enabled(),
        "executable": sys.executable,
        "libraries": {name: _version_of(name) for name in libraries},
        "git": git_commit(repo),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "load_average": load,
    }


# -- memory -----------------------------------------------------------------------------------------


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def current_rss_bytes() -> int | None:
    """This process's resident set size now (``VmRSS``), or ``None`` where unknown."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes() -> int:
    """This process's peak resident set size (``VmHWM``; else ``ru_maxrss``)."""
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def reset_peak_rss() -> bool:
    """Resets the peak RSS to the current RSS (Linux ``/proc/self/clear_refs``, value 5).

    Returns False where that is not possible; then a peak measured afterwards includes
    whatever peak came before.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


def write_results(
    doc: Any, json_path: str, markdown_path: str | None = None, table: str = ""
) -> None:
    """Writes a run's results, creating the folders they go in: the document as indented JSON
    (orjson; written atomically, so an interrupted run leaves the previous file whole) and, when
    ``markdown_path`` is given, its markdown ``table``. The one writer of the benchmark scripts
    and the optimizer's ``--results``."""
    import os

    import orjson

    from ..archive import atomic_write_bytes

    options = (
        orjson.OPT_INDENT_2
        | orjson.OPT_APPEND_NEWLINE
        | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_NON_STR_KEYS
    )
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    atomic_write_bytes(json_path, orjson.dumps(doc, option=options), what="the results")
    if markdown_path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(markdown_path)), exist_ok=True)
        with open(markdown_path, "w", encoding="utf-8") as f:
            f.write(table)
