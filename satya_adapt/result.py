"""What a validate call returns."""

from __future__ import annotations

from typing import Any, List, NamedTuple, Tuple

from ._validator import RecordError
from .config import BatchConfig

__all__ = ["EngineStats", "ValidationResult", "RecordError"]


class EngineStats(NamedTuple):
    """What the engine did: ``chunks`` of at most ``batch_size`` records, ``tasks`` of at most
    ``micro_batch_size`` records, the most bytes it held for one chunk (``peak_bytes``: records
    taken apart for the pool, as many as the call found worth it; parsed documents, read
    buffers, pending results) and wall time.

    ``max_gil_hold`` is the longest stretch, in seconds, the call held the GIL without letting
    it go: how long every other Python thread could be paused by it. Records given as Python
    objects are read under the GIL a whole chunk at a time (with several threads, checked in
    place or taken apart for the pool a chunk at a time), so it grows with ``batch_size``; JSON and NDJSON are checked with the
    GIL released and hold it only to hand each chunk's results over. It is never more than
    ``seconds``."""

    chunks: int
    tasks: int
    peak_bytes: int
    seconds: float
    max_gil_hold: float = 0.0


class ValidationResult:
    """The outcome of one call (or of one chunk, for :meth:`Validator.iter_validate`).

    ``valid[i]`` tells whether record ``i`` passed; ``errors`` lists every failure, ordered by
    record index and then by where it was found, or the first ``max_errors`` of them;
    ``errors_omitted`` counts the failures past ``max_errors`` (found, not built);
    ``config`` is the batch configuration used and ``config.source`` the step that chose it.
    A result (its errors included) can be pickled and copied. It has no truth value (``if
    result:`` raises ``TypeError``): ask ``all_valid``.
    """

    __slots__ = ("valid", "errors", "config", "stats", "start", "errors_omitted")

    def __init__(
        self,
        valid: List[bool],
        errors: List[RecordError],
        config: BatchConfig,
        stats: EngineStats,
        start: int = 0,
        errors_omitted: int = 0,
    ) -> None:
        self.valid = valid
        self.errors = errors
        self.config = config
        self.stats = stats
        #: Index of this result's first record in the whole input (non-zero for later chunks
        #: of :meth:`Validator.iter_validate`); ``errors[k].index`` is always a whole-input index.
        self.start = start
        self.errors_omitted = errors_omitted

    @property
    def n_valid(self) -> int:
        return self.valid.count(True)

    @property
    def n_invalid(self) -> int:
        return len(self.valid) - self.n_valid

    @property
    def all_valid(self) -> bool:
        return not self.errors and not self.errors_omitted and all(self.valid)

    def __len__(self) -> int:
        return len(self.valid)

    def __bool__(self) -> bool:
        # With only __len__, `if v.validate_batch(records):` was true when every record failed
        # and false for no records: a trap where a result reads as a verdict.
        raise TypeError(
            "the truth of a ValidationResult is ambiguous: use `result.all_valid` (every record"
            " valid) or `len(result)` (the number of records)"
        )

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickling (a multiprocessing worker returns its result) and `copy`, with every pickle
        # protocol and Python version: slots alone need protocol 2 and Python 3.11.
        return (
            type(self),
            (self.valid, self.errors, self.config, self.stats, self.start, self.errors_omitted),
        )

    def __repr__(self) -> str:
        c = self.config
        omitted = f"errors_omitted={self.errors_omitted}, " if self.errors_omitted else ""
        return (
            f"ValidationResult(n={len(self.valid)}, n_valid={self.n_valid}, "
            f"n_invalid={self.n_invalid}, errors={len(self.errors)}, {omitted}"
            f"config=(batch_size={c.batch_size}, micro_batch_size={c.micro_batch_size}, "
            f"threads={c.threads}, source={c.source!r}))"
        )
