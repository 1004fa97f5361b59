"""Summaries of validation over many sources (files, partitions), reduced in any order.

A :class:`Summary` holds what a report needs from many validate calls: counts of records,
valid records and errors, and the first ``max_errors`` errors, each with its ``source`` (a
file name, ``partition 3``) and its record index in that source. Summaries of parts merge
with :func:`merge` into the summary of the whole, whatever the order or grouping of the
merges (sources are ordered by their position in the input, so the first errors are the same
as in one process reading the sources one after the other). The local process pool
(``satya-adapt validate`` on many files), :mod:`satya_adapt.dask` and :mod:`satya_adapt.ray`
all reduce with it.

:func:`validate_path` validates one file (NDJSON, a JSON array or one JSON document, gzip- or
zstd-compressed, all told by content as for one file) and returns its summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, List, NamedTuple, Optional, Tuple

from ._inputs import Opened, open_input, said_of
from .errors import InputError
from .result import ValidationResult
from .validator import DEFAULT_MAX_RECORD_BYTES, Validator

__all__ = ["ErrorAt", "Summary", "merge", "summarize", "validate_path", "open_path"]

class ErrorAt(NamedTuple):
    """One failure of one record of one source."""

    source: str
    index: int  # type: ignore[assignment]  # the record's index, as in RecordError
    path: str
    keyword: str
    message: str


class Summary(NamedTuple):
    """Counts over sources, and their first errors in input order.

    ``errors`` is sorted by (position of the source in the input, record index, order found)
    and holds at most ``max_errors`` entries. ``sources`` counts the sources merged;
    ``chunks`` and ``peak_bytes`` are the engine's (chunks added up, the largest peak);
    ``configs`` the distinct batch configurations used, as ``(batch_size, micro_batch_size,
    threads, source)``. ``errors_counted`` is ``False`` when a source was validated with
    ``errors=False`` (the verdicts alone): no error was built or counted, and
    ``errors_total`` says nothing."""

    sources: int
    records: int
    valid: int
    errors_total: int
    errors: Tuple[Tuple[int, ErrorAt], ...]
    max_errors: int
    chunks: int = 0
    peak_bytes: int = 0
    configs: Tuple[Tuple[int, int, int, str], ...] = ()
    errors_counted: bool = True

    @property
    def invalid(self) -> int:
        return self.records - self.valid

    @property
    def first_errors(self) -> List[ErrorAt]:
        """The first errors without their source positions."""
        return [e for _, e in self.errors]


def empty(max_errors: int) -> Summary:
    return Summary(0, 0, 0, 0, (), max_errors)


def summarize(
    result: ValidationResult,
    source: str,
    position: int,
    max_errors: int,
    first_index: int = 0,
    errors_counted: bool = True,
) -> Summary:
    """The summary of one validate call on source ``source``, the ``position``-th of the
    input; record indexes are offset by ``first_index``. The call needs to build only the
    first ``max_errors`` errors (its ``max_errors``): the others are counted in
    ``errors_omitted``. ``errors_counted=False``: the call had ``errors=False``."""
    errors = tuple(
        (position, ErrorAt(source, first_index + e.index, e.path, e.keyword, e.message))
        for e in result.errors[:max_errors]
    )
    c = result.config
    return Summary(
        sources=1,
        records=len(result.valid),
        valid=result.n_valid,
        errors_total=len(result.errors) + result.errors_omitted,
        errors=errors,
        max_errors=max_errors,
        chunks=result.stats.chunks,
        peak_bytes=result.stats.peak_bytes,
        configs=((c.batch_size, c.micro_batch_size, c.threads, c.source),),
        errors_counted=errors_counted,
    )


def merge(parts: Iterable[Summary]) -> Summary:
    """The summary of the union of disjoint parts (associative and commutative)."""
    parts = list(parts)
    if not parts:
        raise ValueError("`parts` must hold at least one summary")
    max_errors = min(p.max_errors for p in parts)
    errors = sorted(
        (e for p in parts for e in p.errors), key=lambda pe: (pe[0], pe[1].index)
    )[:max_errors]
    configs = tuple(sorted({c for p in parts for c in p.configs}))
    return Summary(
        sources=sum(p.sources for p in parts),
        records=sum(p.records for p in parts),
        valid=sum(p.valid for p in parts),
        errors_total=sum(p.errors_total for p in parts),
        errors=tuple(errors),
        max_errors=max_errors,
        chunks=sum(p.chunks for p in parts),
        peak_bytes=max(p.peak_bytes for p in parts),
        configs=configs,
        errors_counted=all(p.errors_counted for p in parts),
    )


def open_path(
    path: str,
    input_kind: str = "auto",
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    pointer: Optional[str] = None,
) -> Tuple[str, Any, Optional[Opened]]:
    """``(kind, source, opened)`` for validating the file at ``path``, read as one file is
    read anywhere (:mod:`satya_adapt._inputs`): compression and the kind told by content,
    one JSON document over lines is one record, what is clearly not JSON is refused.
    ``source`` is what to pass to :meth:`Validator.validate` and ``opened`` what to close
    after (the same object). ``input_kind`` ``"json"`` or ``"ndjson"`` forces a reading;
    ``max_bytes`` bounds a decompressed JSON array held in memory. With ``pointer`` (a JSON
    Pointer), the file is one JSON document and the records are the array it leads to
    (:func:`~satya_adapt._inputs.at_pointer`)."""
    kind = None if input_kind == "auto" else input_kind
    opened = open_input(
        Path(path), kind, max_bytes=max_bytes, str_is_text=False, default="cli", pointer=pointer
    )
    return opened.kind, opened, opened


def validate_path(
    validator: Validator,
    path: str,
    position: int,
    max_errors: int,
    *,
    input_kind: str = "auto",
    name: Optional[str] = None,
    pointer: Optional[str] = None,
    **knobs: Any,
) -> Summary:
    """Validates the file at ``path`` (the ``position``-th source of the input) and returns
    its summary; errors name it ``name`` (default: ``path``). Only the errors the summary
    keeps are built (the others are counted). ``pointer``: the records are the array this
    JSON Pointer leads to in the file's JSON document (see :func:`open_path`)."""
    try:
        kind, source, opened = open_path(path, input_kind, validator.max_record_bytes, pointer)
    except InputError as exc:
        raise InputError(f"{name or path}: {exc}") from None
    try:
        result = validator.validate(source, input_kind=kind, max_errors=max_errors, **knobs)
    except InputError as exc:
        message = str(exc) if opened is None else said_of(opened, str(exc))
        raise InputError(f"{name or path}: {message}") from None
    finally:
        if opened is not None:
            opened.close()
    # `errors` is a bool here: the call raised TypeError otherwise.
    return summarize(result, name or path, position, max_errors, errors_counted=knobs.get("errors", True))
