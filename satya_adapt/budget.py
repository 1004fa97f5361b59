"""Budgets: how much memory in flight and how long a pause of other Python threads a call may
cost, and how a batch configuration is chosen or cut to keep within them.

A :class:`Budget` has two optional limits:

- ``memory``: bytes; the call's ``result.stats.peak_bytes`` should stay within it;
- ``pause``: seconds; the call's ``result.stats.max_gil_hold`` (the longest stretch it holds
  the GIL, so the longest pause of every other Python thread) should stay within it.

Both are given to :class:`~satya_adapt.Validator` (``memory_budget=``, ``max_pause=``) and to
each call, as numbers (bytes, seconds) or text: ``"64MiB"``, ``"512 KB"``, ``"5ms"``,
``"250us"`` (:func:`parse_memory_budget`, :func:`parse_max_pause`).

**Choosing among candidates** (:func:`choose`): each candidate is a batch configuration with
its measured throughput (a speedup over the default configuration, with its confidence
interval), ``peak_bytes`` and longest GIL hold. With a budget, the highest throughput among
the candidates within it; with none, among the candidates whose throughput is within noise of
the best (their interval reaches the best one's lower bound), the one with the least memory in
flight. When no candidate keeps within the budget, the best one is cut (:func:`fit`).

**The model** (:func:`predict`): ``peak_bytes`` and the longest GIL hold grow linearly with
the records of a chunk (``batch_size``), so a configuration is cut by lowering ``batch_size``
(and ``micro_batch_size`` with it) until the model's prediction fits. Per record of a chunk:

=================== ================================================ ==========================
path                bytes held (``peak_bytes``)                      GIL held
=================== ================================================ ==========================
dicts, 1 thread     ``RESULT_BYTES`` (results; records read in       ``HOLD_BASE + HOLD_PER_BYTE
                    place, no reference held)
                                                                     * object_size +
                                                                     HOLD_PER_FIELD * fields *
                                                                     (1 + 2 complexity)``
dicts, threads      the same plus a reference and the records taken  the same (taken apart
                    apart: ``8 + COMPACT_BASE + COMPACT_PER_FIELD    or checked in place,
                    * fields`` (at most: only those the call finds   under the GIL)
                    worth giving to the pool are)
JSON                ``RESULT_BYTES + 24`` (results, record spans)    ``HOLD_RESULTS`` (handing
                                                                     results over)
NDJSON              the same plus the read buffer (NDJSON read       ``HOLD_RESULTS +
                    from a file or a stream): up to ``2 (batch_size  HOLD_READ_PER_BYTE *
                    * object_size + READ_BLOCK)``; in memory (not    object_size`` (reads from
                    compressed), as JSON: read in place              a Python file object)
=================== ================================================ ==========================

Fitted on this machine class (AMD EPYC, family 23, 2 usable cores, `quick` build: release
without LTO) with
``benchmarks/budget_model.py``: ``peak_bytes / batch_size`` and the smallest and median
``max_gil_hold`` per record of 500-record chunks, on the five named synthetic profiles
(56-442 bytes per record, 3-30 fields) and Twitter statuses (3.4 KB), at batch sizes 512 and
2048, threads 1 and 2 (``twitter, schema``: with ``realdata.TWITTER_SCHEMA``, 14 fields). The
byte counts are the engine's own accounting (exact; the "dicts, 1" column re-measured once records
were no longer held by reference on one thread); the hold
constants are set above every measured median (the model errs towards smaller chunks):

=============== ====== ====== ========= ========= ============ ============ ============
profile         bytes  fields dicts, 1  dicts, 2  JSON         hold, 1      model
=============== ====== ====== ========= ========= ============ ============ ============
plain3          60     3      9         279-281   31-33        374-449 ns   639 ns
mixed10         186    10     9         616-618   32-34        1038-1132 ns 1916 ns
wide30          442    30     9         1735-1738 31-34        2181-2397 ns 4374 ns
nested          95     5      9         652-654   32-34        821-898 ns   1130 ns
constrained3    56     3      10        280-282   32-34        379-425 ns   779 ns
twitter         3454   3      1         497       25           765-798 ns   1018 ns
twitter, schema 3454   14     1         ~520      25           1823-1974 ns 2761 ns
=============== ====== ====== ========= ========= ============ ============ ============

The wall-clock hold also counts any time the operating system gives the core to another
process while this thread holds the GIL: on a loaded machine a pause budget below a scheduler
time slice (a few milliseconds) cannot be promised by any configuration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional, Union

from .config import BatchConfig
from .errors import BudgetWarning, user_line, warn_at_user

__all__ = [
    "Budget",
    "Candidate",
    "choose",
    "explain_budget",
    "fit",
    "make_budget",
    "max_batch_size",
    "parse_max_pause",
    "parse_memory_budget",
    "predict",
    "unmet",
    "within",
]

#: Result bytes per record (a bool, plus an allowance for error records).
RESULT_BYTES = 16
#: Bytes of one record taken apart for the pool: a base and a share per schema field.
COMPACT_BASE = 200
COMPACT_PER_FIELD = 100
#: The NDJSON reader's read size (``READ_BLOCK`` in ``crates/core/src/stream.rs``).
READ_BLOCK = 256 * 1024
#: Seconds of GIL hold per record on the dicts path: a base, per byte, per field.
HOLD_BASE = 250e-9
HOLD_PER_BYTE = 0.1e-9
HOLD_PER_FIELD = 80e-9
#: Seconds per record to hand a result over (JSON, NDJSON).
HOLD_RESULTS = 20e-9
#: Seconds per byte read from a Python file object (NDJSON streams) under the GIL.
HOLD_READ_PER_BYTE = 0.5e-9

BytesArg = Union[int, float, str, None]
SecondsArg = Union[int, float, str, None]


class Budget(NamedTuple):
    """The limits of a call: ``memory`` in bytes, ``pause`` in seconds (``None``: no limit).
    ``in_memory``: the call's NDJSON is bytes in memory, read in place (no read buffers: the
    model charged it those of a file, and a budget of 100 KiB cut 20,000 small records to
    ``batch_size=1``, 14 times slower, where 512 of them hold 12.8 KB)."""

    memory: Optional[int] = None
    pause: Optional[float] = None
    in_memory: bool = False

    @property
    def empty(self) -> bool:
        return self.memory is None and self.pause is None


NO_BUDGET = Budget()

_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1 << 30,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1 << 40,
}
_SECOND_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_NUMBER_UNIT = re.compile(r"\s*((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Zµ]*)\s*")
_MAX_BYTES = 1 << 62


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 14000:  # (repr of 10**5000 raises)
        return f"an int of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"


def _number_and_unit(text: str) -> tuple[float, str] | None:
    m = _NUMBER_UNIT.fullmatch(text)
    if m is None:
        return None
    return float(m.group(1)), m.group(2).lower()


def parse_memory_budget(value: BytesArg, name: str = "memory_budget") -> Optional[int]:
    """Bytes from ``value``: ``None``; a positive number of bytes; or text, a number and a
    unit: ``B``, ``KB``/``MB``/``GB``/``TB`` (powers of 1000), ``KiB``/``MiB``/``GiB``/``TiB``
    (powers of 1024), case ignored (``"64MiB"``, ``"1.5 GB"``, ``"4096"``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number of bytes or a str like '64MiB', got bool")
    if isinstance(value, str):
        parsed = _number_and_unit(value) if len(value) <= 64 else None
        if parsed is None or parsed[1] not in _BYTE_UNITS:
            raise ValueError(
                f"`{name}` must be a number of bytes or a str like '64MiB', got {_short(value)}"
            )
        number = parsed[0] * _BYTE_UNITS[parsed[1]]
    elif isinstance(value, int):
        # Compared as an int: `float()` raised OverflowError past 1e308, and rounded 2**62 + 100
        # down to 2**62 (within the range) before the check.
        if not 1 <= value <= _MAX_BYTES:
            raise ValueError(
                f"`{name}` must be between 1 byte and 2**62 bytes, got {_short(value)}"
            )
        return int(value)
    elif isinstance(value, float):
        number = value
    else:
        raise TypeError(
            f"`{name}` must be a number of bytes or a str like '64MiB', got {type(value).__name__}"
        )
    if not math.isfinite(number) or number < 1 or number > _MAX_BYTES:
        raise ValueError(f"`{name}` must be between 1 byte and 2**62 bytes, got {_short(value)}")
    return int(number)


def parse_max_pause(value: SecondsArg, name: str = "max_pause") -> Optional[float]:
    """Seconds from ``value``: ``None``; a positive number of seconds; or text, a number and a
    unit: ``s``, ``ms``, ``us`` (or ``µs``), ``ns`` (``"5ms"``, ``"0.25 s"``, ``"250us"``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number of seconds or a str like '5ms', got bool")
    if isinstance(value, str):
        parsed = _number_and_unit(value) if len(value) <= 64 else None
        if parsed is None or parsed[1] not in _SECOND_UNITS:
            raise ValueError(
                f"`{name}` must be a number of seconds or a str like '5ms', got {_short(value)}"
            )
        seconds = parsed[0] * _SECOND_UNITS[parsed[1]]
    elif isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:  # an int past any float (10**400)
            seconds = math.inf
    else:
        raise TypeError(
            f"`{name}` must be a number of seconds or a str like '5ms', got {type(value).__name__}"
        )
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 86400:
        raise ValueError(f"`{name}` must be more than 0 and at most 1 day, got {_short(value)}")
    return seconds


def make_budget(memory_budget: BytesArg = None, max_pause: SecondsArg = None) -> Budget:
    """A :class:`Budget` from arguments as users give them (checked and parsed)."""
    return Budget(parse_memory_budget(memory_budget), parse_max_pause(max_pause))


# -- the model ------------------------------------------------------------------------------


def _per_record(
    config: Sequence[Any], profile: Sequence[Any], in_memory: bool = False
) -> tuple[float, float]:
    """Bytes and seconds of GIL hold per record of a chunk (see the module's table): returns
    ``(bytes_per_record, hold_per_record)``; NDJSON ``in_memory`` as JSON (read in place)."""
    fields, _, cc, object_size, kind = (
        profile[0],
        profile[1],
        profile[2],
        profile[3],
        profile[4],
    )
    size = max(float(object_size or 0.0), 1.0)
    fields = max(int(fields or 0), 1)
    cc = min(max(float(cc or 0.0), 0.0), 1.0)
    threads = int(config[2])
    if kind == "dicts":
        per_bytes = float(RESULT_BYTES)
        if threads > 1:
            # the pool's chunk holds a reference to each record and takes it apart
            per_bytes += 8.0 + COMPACT_BASE + COMPACT_PER_FIELD * fields
        hold = HOLD_BASE + HOLD_PER_BYTE * size + HOLD_PER_FIELD * fields * (1 + 2 * cc)
        return per_bytes, hold
    per_bytes = RESULT_BYTES + 24.0
    hold = HOLD_RESULTS
    if kind == "ndjson" and not in_memory:
        per_bytes += 2.0 * size
        hold += HOLD_READ_PER_BYTE * size
    return per_bytes, hold


def _fixed_bytes(profile: Sequence[Any], in_memory: bool = False) -> float:
    return 2.0 * READ_BLOCK if profile[4] == "ndjson" and not in_memory else 0.0


class Prediction(NamedTuple):
    """What the model expects of a configuration on a profile."""

    peak_bytes: float
    max_gil_hold: float


def predict(config: Sequence[Any], profile: Sequence[Any], in_memory: bool = False) -> Prediction:
    """The model's ``peak_bytes`` and longest GIL hold for ``config`` on ``profile`` (chunks
    of ``min(batch_size, n)`` records; ``in_memory``: see :class:`Budget`)."""
    per_bytes, hold = _per_record(config, profile, in_memory)
    n = profile[5]
    b = int(config[0]) if n is None else max(1, min(int(config[0]), int(n)))
    return Prediction(_fixed_bytes(profile, in_memory) + per_bytes * b, hold * b)


def max_batch_size(config: Sequence[Any], profile: Sequence[Any], budget: Budget) -> Optional[int]:
    """The largest ``batch_size`` the model keeps within ``budget`` with ``config``'s threads
    (at least 1); ``None`` without a limit."""
    per_bytes, hold = _per_record(config, profile, budget.in_memory)
    limit: Optional[int] = None
    if budget.memory is not None:
        room = budget.memory - _fixed_bytes(profile, budget.in_memory)
        limit = max(1, math.floor(room / per_bytes))
    if budget.pause is not None:
        by_pause = max(1, math.floor(budget.pause / hold))
        limit = by_pause if limit is None else min(limit, by_pause)
    return limit


def _size(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def unmet(config: Sequence[Any], profile: Sequence[Any], budget: Budget) -> Optional[str]:
    """Why no ``batch_size`` keeps within ``budget`` on ``profile`` with ``config``'s threads
    (by the model, one record per chunk already exceeds a limit), as one sentence; ``None``
    when some ``batch_size`` does."""
    one = predict((1, 1, config[2]), profile, budget.in_memory)
    parts = []
    if budget.memory is not None and one.peak_bytes > budget.memory:
        fixed = _fixed_bytes(profile, budget.in_memory)
        held = f", {_size(fixed)} of it the buffers of NDJSON read from a file or stream"
        parts.append(
            f"memory budget {_size(budget.memory)} cannot be met: by the model one record per"
            f" chunk keeps about {_size(one.peak_bytes)} in flight{held if fixed else ''}"
        )
    if budget.pause is not None and one.max_gil_hold > budget.pause:
        parts.append(
            f"pause budget {_duration(budget.pause)} cannot be met: by the model one record per"
            f" chunk holds the GIL about {_duration(one.max_gil_hold)}"
        )
    return "; ".join(parts) + "; batch_size is cut to 1" if parts else None


#: The :class:`BudgetWarning` messages issued, with the user's line each was issued at (each
#: once per line: kept per message alone, a budget unmet at a second line was never said).
_WARNED: set[tuple[str, tuple[str, int]]] = set()


def fit(config: BatchConfig, profile: Sequence[Any], budget: Budget) -> BatchConfig:
    """``config`` cut to the budget by the model: ``batch_size`` lowered to
    :func:`max_batch_size` (``micro_batch_size`` no more than it); ``config`` itself when it
    fits. ``source`` gains ``"+budget"`` when cut. When no ``batch_size`` fits (:func:`unmet`),
    the cut is to 1 and a :class:`~satya_adapt.BudgetWarning` says so, once per message and
    line of the user's."""
    if budget.empty:
        return config
    message = unmet(config, profile, budget)
    if message is not None and (key := (message, user_line())) not in _WARNED:
        if len(_WARNED) < 1024:
            _WARNED.add(key)
        warn_at_user(message, BudgetWarning)
    limit = max_batch_size(config, profile, budget)
    n = profile[5]
    b = config.batch_size if n is None else min(config.batch_size, max(1, int(n)))
    if limit is None or b <= limit:
        return config
    m = min(config.micro_batch_size, limit)
    return BatchConfig(limit, m, config.threads, f"{config.source}+budget")


def explain_budget(
    config: BatchConfig, profile: Sequence[Any], budget: Budget, measured: bool = False
) -> dict[str, Any]:
    """How :func:`fit` treats ``config`` under ``budget``, as JSON-ready values; ``measured``:
    the configuration was measured within the budget on this profile's cell (it is not cut)."""
    before = predict(config, profile, budget.in_memory)
    cut = config if measured else fit(config, profile, budget)
    after = predict(cut, profile, budget.in_memory)
    return {
        "memory_budget": budget.memory,
        "max_pause": budget.pause,
        "predicted": {"peak_bytes": before.peak_bytes, "max_gil_hold": before.max_gil_hold},
        "max_batch_size": max_batch_size(config, profile, budget),
        "measured_within": measured,
        "cut": cut is not config,
        "predicted_after": {"peak_bytes": after.peak_bytes, "max_gil_hold": after.max_gil_hold},
        "config": {
            "batch_size": cut.batch_size,
            "micro_batch_size": cut.micro_batch_size,
            "threads": cut.threads,
            "source": cut.source,
        },
    }


# -- choosing among measured candidates -----------------------------------------------------


class Candidate(NamedTuple):
    """A configuration with its measurements: ``speedup`` over the default configuration with
    its interval, ``peak_bytes``, ``max_gil_hold`` (seconds; ``None`` when not measured)."""

    config: BatchConfig
    speedup: float
    speedup_ci_low: float
    speedup_ci_high: float
    peak_bytes: float
    max_gil_hold: Optional[float] = None


def within(candidate: Candidate, budget: Budget) -> bool:
    """Whether a candidate's measurements keep within ``budget`` (an unmeasured hold counts
    as within)."""
    if budget.memory is not None and candidate.peak_bytes > budget.memory:
        return False
    if budget.pause is not None and candidate.max_gil_hold is not None:
        return candidate.max_gil_hold <= budget.pause
    return True


def choose(candidates: Sequence[Candidate], budget: Budget) -> tuple[Optional[Candidate], str]:
    """The candidate to use under ``budget``, and why (a sentence for ``explain``).

    With a budget: the highest speedup among the candidates within it (``None`` when none is:
    the caller cuts the best one with :func:`fit`). Without: among the candidates within noise
    of the best speedup (upper bound at or above the best one's lower bound), the least
    ``peak_bytes``. Ties go to the higher speedup, then to the earlier candidate.
    """
    if not candidates:
        return None, "no candidates"
    order = sorted(
        range(len(candidates)), key=lambda i: (-candidates[i].speedup, i)
    )  # best speedup first
    best = candidates[order[0]]
    if budget.empty:
        close = [i for i in order if candidates[i].speedup_ci_high >= best.speedup_ci_low]
        pick = min(close, key=lambda i: (candidates[i].peak_bytes, -candidates[i].speedup, i))
        chosen = candidates[pick]
        if pick == order[0]:
            return chosen, "the highest speedup, and the least memory among those within noise of it"
        return chosen, (
            f"within noise of the highest speedup ({chosen.speedup:.3f} vs {best.speedup:.3f},"
            f" intervals overlap) with the least memory in flight"
            f" ({chosen.peak_bytes:.0f} vs {best.peak_bytes:.0f} bytes)"
        )
    fitting = [i for i in order if within(candidates[i], budget)]
    if not fitting:
        return None, "no measured configuration keeps within the budget; the best one is cut"
    chosen = candidates[fitting[0]]
    if fitting[0] == order[0]:
        return chosen, "the highest speedup, within the budget"
    return chosen, (
        f"the highest speedup within the budget ({chosen.speedup:.3f}; the best,"
        f" {best.speedup:.3f}, does not keep within it)"
    )
