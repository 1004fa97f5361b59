"""Batch configurations: the three knobs of the engine and the default configuration."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["BatchConfig", "DEFAULT_CONFIGURATION", "check_knob"]


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


def check_knob(name: str, value: object) -> int:
    """Validates one knob given by a caller: a positive ``int`` (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{name}` must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive int, got {value}")
    return value
