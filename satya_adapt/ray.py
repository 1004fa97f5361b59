"""Validation on Ray: a validity column for ``Dataset.map_batches``, and summaries of datasets
and files.

:class:`ValidityColumn` is a callable class for
``ds.map_batches(ValidityColumn, fn_constructor_args=(validator,), batch_format="pyarrow")``:
each batch comes back with a boolean column of validity (and optionally the errors of each
row), validated in Rust from the Arrow columns; Ray builds one instance per actor, so the
schema is compiled once per actor. :func:`validate_dataset` validates a dataset's blocks in
Ray tasks and merges their :class:`~satya_adapt.summary.Summary` in tasks too (errors name
``block k`` and the row index in it); :func:`validate_files` does the same for files (errors
name their file). The :class:`~satya_adapt.Validator` pickles small and is compiled once per
worker process, where it selects its own batch configurations.

``pip install 'satya-adapt[ray]'``. Without ``address`` an initialized Ray is used, else a
local one is started (``workers`` CPUs).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import ray

from .arrow import with_validity
from .summary import Summary, merge, summarize, validate_path
from .validator import Validator

__all__ = ["ValidityColumn", "validate_dataset", "validate_files"]

#: Summaries merged by one reduction task.
SPLIT_EVERY = 8


class ValidityColumn:
    """Appends a boolean column ``column`` (and ``errors_column`` of each row's errors, as
    :func:`satya_adapt.arrow.with_validity` does) to each ``pyarrow`` batch."""

    def __init__(
        self,
        validator: Validator,
        column: str = "valid",
        errors_column: Optional[str] = None,
        null_as_absent: bool = False,
        **knobs: Any,
    ) -> None:
        self.validator = validator
        self.column = column
        self.errors_column = errors_column
        self.null_as_absent = null_as_absent
        self.knobs = knobs

    def __call__(self, batch: Any) -> Any:
        return with_validity(
            self.validator,
            batch,
            column=self.column,
            errors_column=self.errors_column,
            null_as_absent=self.null_as_absent,
            **self.knobs,
        )


def validate_dataset(
    validator: Validator,
    dataset: Any,
    *,
    max_errors: int = 10,
    null_as_absent: bool = False,
    **knobs: Any,
) -> Summary:
    """Validates every row of a Ray ``Dataset``, one task per block (read as Arrow, in
    order); errors name ``block k`` and the row index in that block. An empty dataset gives
    an empty summary (0 sources, 0 records)."""
    refs = dataset.to_arrow_refs()
    if not refs:  # (`from_items([])`: no block, where a filtered dataset has empty ones)
        return Summary(0, 0, 0, 0, (), max_errors, errors_counted=knobs.get("errors", True))
    task = ray.remote(_block_summary)
    parts = [task.remote(validator, ref, i, max_errors, null_as_absent, knobs) for i, ref in enumerate(refs)]
    return _reduce(parts)


def validate_files(
    validator: Validator,
    paths: Sequence[str],
    *,
    address: Optional[str] = None,
    workers: Optional[int] = None,
    max_errors: int = 10,
    input_kind: str = "auto",
    **knobs: Any,
) -> Summary:
    """Validates files (NDJSON or JSON arrays, ``.gz`` too), one Ray task per file; errors
    name their file."""
    started = _init(address, workers)
    try:
        task = ray.remote(_file_summary)
        parts = [
            task.remote(validator, path, i, max_errors, input_kind, knobs) for i, path in enumerate(paths)
        ]
        return _reduce(parts)
    finally:
        if started:
            ray.shutdown()


def _block_summary(
    validator: Validator, table: Any, position: int, max_errors: int, null_as_absent: bool, knobs: Dict[str, Any]
) -> Summary:
    result = validator.validate_arrow(
        table, null_as_absent=null_as_absent, max_errors=max_errors, **knobs
    )
    return summarize(result, f"block {position}", position, max_errors, errors_counted=knobs.get("errors", True))


def _file_summary(
    validator: Validator, path: str, position: int, max_errors: int, input_kind: str, knobs: Dict[str, Any]
) -> Summary:
    return validate_path(validator, path, position, max_errors, input_kind=input_kind, **knobs)


def _merge_refs(*parts: Summary) -> Summary:
    return merge(parts)


def _reduce(parts: List[Any]) -> Summary:
    if not parts:
        raise ValueError("nothing to validate: no files or blocks")
    task = ray.remote(_merge_refs)
    while len(parts) > 1:
        parts = [task.remote(*parts[i : i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    summary: Summary = ray.get(parts[0])
    return summary


def _init(address: Optional[str], workers: Optional[int]) -> bool:
    """Connects to Ray when it is not yet; ``True`` when this call started it."""
    if ray.is_initialized():
        return False
    if address is not None:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    return True
