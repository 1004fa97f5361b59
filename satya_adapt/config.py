"""Batch configurations: the three knobs of the engine, the default configuration, what a
configuration does on a call (:func:`clamp`, :func:`effective`), and the constants that the
runtime, the tuning and the command line share (a leaf module: it imports only the extension's
constants)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

from ._validator import READ_AHEAD_BYTES

__all__ = [
    "BatchConfig",
    "DEFAULT_CONFIGURATION",
    "KNOB_MAX",
    "READ_AHEAD_BYTES",
    "SHIP_THRESHOLD",
    "ONLINE_ENV_VAR",
    "check_flag",
    "check_knob",
    "clamp",
    "effective",
    "online_default",
]

#: A cell ships its elite only when the lower confidence bound of its speedup over the default
#: configuration exceeds this (the optimizer's bar, and the bar a refresh keeps an elite by).
SHIP_THRESHOLD = 1.03
# READ_AHEAD_BYTES (64 KiB): how many bytes of a stream are read ahead, to detect an NDJSON
# stream's profile and to sniff whether a file holds a JSON array or NDJSON. Defined once, in the
# Rust core (``crates/core/src/detect.rs``), which reads a file's head with it; re-exported here.


class BatchConfig(NamedTuple):
    """A batch configuration and the step of selection that chose it.

    ``source`` is one of ``"explicit"``, ``"default"`` (adaptation off), ``"archive-exact"``,
    ``"archive-nearest"``, ``"archive-knn"``, ``"archive-keep-default"``, ``"heuristic"``, or
    one of live verification's (:mod:`satya_adapt.live`): ``"default-first"``, ``"probe"``,
    ``"reverted"``, ``"online-trial"``, ``"online"``; ``"+budget"`` is appended when a memory or
    pause budget cut ``batch_size`` (see :mod:`satya_adapt.budget`). A call that gives some of
    the knobs but not all says ``"explicit+"`` and the step that chose the others
    (``"explicit+heuristic"``, ``"explicit+default"``, ``"explicit+archive-exact+budget"``).
    """

    batch_size: int
    micro_batch_size: int
    threads: int
    source: str = "default"


class SlicedTrial(BatchConfig):
    """Live verification's answer for a call that tries a candidate on a slice of its records
    (see :meth:`satya_adapt.live.Cell._trial`): the candidate's configuration (source
    ``"online-trial"``) for the first ``warm + records`` records (the first ``warm`` of them
    warm it up and are timed apart), ``rest`` (the incumbent's answer) for the others. Told
    apart by its type; its timings go to :meth:`satya_adapt.live.Live.finish_sliced`."""

    records: int
    warm: int
    lease: Any  # the candidate's lease in live verification
    rest_lease: Any  # the incumbent's

    def __new__(cls, lease: Any, records: int, rest_lease: Any, warm: int = 0) -> SlicedTrial:
        self = super().__new__(cls, *lease.slow)
        self.records, self.lease, self.rest_lease, self.warm = records, lease, rest_lease, warm
        return self

    @property
    def rest(self) -> BatchConfig:
        rest: BatchConfig = self.rest_lease.slow
        return rest


#: Used when adaptation is off, and the baseline every tuned result is compared against.
DEFAULT_CONFIGURATION = BatchConfig(batch_size=8192, micro_batch_size=1024, threads=1, source="default")


#: The largest value each knob accepts. ``batch_size`` and ``micro_batch_size`` stop at 2**32
#: records (no call holds more), and so does ``threads`` (the pool never has more threads than
#: usable cores: a larger value is capped to them).
KNOB_MAX = {"batch_size": 1 << 32, "micro_batch_size": 1 << 32, "threads": 1 << 32}


#: The margin an estimated ``n`` (``Profile.n_estimated``) is rounded up by before
#: ``batch_size`` is clamped to it: an estimate a little short would otherwise split a call into
#: a full chunk and a tiny one.
ESTIMATE_MARGIN = 1.25


def clamp_n(profile: Sequence[Any]) -> Optional[int]:
    """The ``n`` that ``batch_size`` is clamped to for a call of ``profile``: its ``n``, rounded
    up by :data:`ESTIMATE_MARGIN` when it is estimated from bytes."""
    n: Optional[int] = profile[5]
    if n is not None and len(profile) > 6 and profile[6]:
        return math.ceil(n * ESTIMATE_MARGIN)
    return n


def clamp(config: BatchConfig, n: Optional[int], cores: int) -> BatchConfig:
    """Fits ``config`` to a call of ``n`` records on ``cores`` usable cores: ``batch_size <= n``
    (at least 1), ``micro_batch_size <= batch_size``, ``1 <= threads <= min(cores, tasks)`` where
    ``tasks`` is the number of tasks in one chunk. Returns ``config`` itself when nothing changes."""
    # Written out with comparisons (min/max and the fields by name cost 0.4 of its 0.7 us: the
    # selector and live verification clamp on every call whose record count is new).
    b0, m0, t0, source = config
    b = b0
    if n is not None and b > n:
        b = n if n > 1 else 1
    m = m0 if m0 < b else b
    tasks = -(-b // m)
    t = t0 if t0 < cores else cores
    if t > tasks:
        t = tasks
    if t < 1:
        t = 1
    if b == b0 and m == m0 and t == t0:
        return config
    return BatchConfig(b, m, t, source)


def effective(config: Sequence[Any], n: int, cores: int) -> tuple[int, int, int]:
    """What a configuration does on a call of ``n`` records: clamped to the call, and with
    ``micro_batch_size`` dropped on the direct path (it has no effect there). Two
    configurations with the same answer run the engine the same way."""
    # clamp, written out without its BatchConfig: live verification asks this of every
    # candidate and piece of a cell (0.81 us a call through clamp, 0.19 us so; the pieces of
    # a cell's first grant over a range of counts took 19 us, now 8).
    b, m, t = config[0], config[1], config[2]
    if n is not None and b > n:
        b = n if n > 1 else 1
    if m > b:
        m = b
    tasks = -(-b // m)
    if t > cores:
        t = cores
    if t > tasks:
        t = tasks
    if t < 1:
        t = 1
    return (b, m if t > 1 else 0, t)


def check_knob(name: str, value: object) -> int:
    """Validates one knob given by a caller: an ``int`` from 1 to ``KNOB_MAX[name]`` (``bool``
    is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{name}` must be an int, got {type(value).__name__}")
    high = KNOB_MAX[name]
    if not 1 <= value <= high:
        raise ValueError(f"`{name}` must be between 1 and {high}, got {_short(value)}")
    return value


def _short(value: int) -> str:
    """An int as text, shortened when long (a message never echoes unbounded input)."""
    text = str(value) if value.bit_length() < 10_000 else "a number of more than 3000 digits"
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} digits)"


#: Environment variable turning live verification and online refinement (``satya_adapt.live``)
#: on (``1``) or off (``0``).
ONLINE_ENV_VAR = "SATYA_ADAPT_ONLINE"


#: The values of ``SATYA_ADAPT_ONLINE`` (any case, surrounding blanks ignored; empty or unset:
#: on). Anything else raises: a typo such as ``flase`` would otherwise leave it on unseen.
ONLINE_ON = ("1", "true", "on", "yes")
ONLINE_OFF = ("0", "false", "off", "no")


def online_default() -> bool:
    """Whether live verification is on when ``Validator(online=None)``: ``SATYA_ADAPT_ONLINE``
    (``0``, ``false``, ``off`` or ``no`` turn it off; ``1``, ``true``, ``on``, ``yes``, empty
    or unset leave it on; any other value raises ``ValueError``)."""
    raw = os.environ.get(ONLINE_ENV_VAR, "")
    value = raw.strip().lower()
    if value in ONLINE_OFF:
        return False
    if value and value not in ONLINE_ON:
        shown = raw if len(raw) <= 40 else f"{raw[:40]}..."
        raise ValueError(
            f"the environment variable {ONLINE_ENV_VAR} must be one of"
            f" {', '.join(ONLINE_ON)} (on) or {', '.join(ONLINE_OFF)} (off), got {shown!r}"
        )
    return True


def check_flag(name: str, value: Any, or_none: str = "") -> bool:
    """``value`` of the option ``name`` checked to be ``True`` or ``False`` (``bool("false")``
    is ``True``: a string or a number is refused rather than read). ``or_none``: what ``None``
    means where the option also takes it (the caller handles ``None``; the message says it)."""
    if not isinstance(value, bool):
        allowed = f"True, False or None ({or_none})" if or_none else "True or False"
        raise TypeError(f"`{name}` must be {allowed}, got {value!r:.60}")
    return value
