"""Batch configurations: the three knobs of the engine and the default configuration."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["BatchConfig", "DEFAULT_CONFIGURATION", "KNOB_MAX", "check_knob"]


class BatchConfig(NamedTuple):
    """A batch configuration and the step of selection that chose it.

    ``source`` is one of ``"explicit"``, ``"default"`` (adaptation off), ``"archive-exact"``,
    ``"archive-nearest"``, ``"archive-knn"``, ``"archive-keep-default"``, ``"heuristic"``.
    """

    batch_size: int
    micro_batch_size: int
    threads: int
    source: str = "default"


#: Used when adaptation is off, and the baseline every tuned result is compared against.
DEFAULT_CONFIGURATION = BatchConfig(batch_size=8192, micro_batch_size=1024, threads=1, source="default")


#: The largest value each knob accepts. ``batch_size`` and ``micro_batch_size`` stop at 2**32
#: records (no call holds more); ``threads`` at 1024 (each one is an OS thread of the pool).
KNOB_MAX = {"batch_size": 1 << 32, "micro_batch_size": 1 << 32, "threads": 1 << 32}


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
