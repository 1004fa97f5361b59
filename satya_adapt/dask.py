"""Validation on Dask: files, bags of NDJSON lines, and DataFrame partitions.

Each file or partition is one task that validates it whole and returns a
:class:`~satya_adapt.summary.Summary` (counts and its first errors with the file or
``partition k`` and the record index in it); the summaries are merged by a tree of tasks on
the cluster, so only the final summary comes back. The :class:`~satya_adapt.Validator` travels
as its schema document (it pickles small) and is compiled once per worker process, where it
selects its own batch configurations for that worker's hardware. A task lost with its worker
is run again by Dask: its summary is a pure function of its input, so nothing is lost or
counted twice.

``pip install 'satya-adapt[dask]'``. Without ``client`` or ``address`` the current Dask
scheduler runs the graph (a ``distributed.Client`` made earlier, else Dask's default).
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence

import dask
from dask import delayed

from .errors import ArchiveWarning, InputError
from .summary import Summary, merge, summarize, validate_path
from .validator import Validator

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # dask without distributed: no cluster of ours to start
    WorkerPlugin = object

__all__ = ["validate_bag", "validate_dataframe", "validate_files", "reduce_summaries"]

#: Summaries merged by one reduction task.
SPLIT_EVERY = 8


def reduce_summaries(parts: Sequence[Any]) -> Any:
    """A delayed :class:`Summary` merging delayed ``parts`` by a tree of tasks."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to validate: no files or partitions")
    while len(parts) > 1:
        parts = [
            delayed(merge, pure=True)(parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


def validate_files(
    validator: Validator,
    paths: Sequence[str],
    *,
    client: Any = None,
    address: Optional[str] = None,
    workers: Optional[int] = None,
    max_errors: int = 10,
    input_kind: str = "auto",
    **knobs: Any,
) -> Summary:
    """Validates files (NDJSON or JSON arrays, ``.gz`` too), one task per file; errors name
    their file. ``client``: a ``distributed.Client``; ``address``: a scheduler to connect to;
    with ``workers`` (and neither) a ``LocalCluster`` of that many single-threaded worker
    processes is started for the call."""
    parts = [
        delayed(_file_summary, pure=True)(validator, path, i, max_errors, input_kind, knobs)
        for i, path in enumerate(paths)
    ]
    return _compute(reduce_summaries(parts), client, address, workers)


def validate_bag(
    validator: Validator,
    bag: Any,
    *,
    client: Any = None,
    max_errors: int = 10,
    **knobs: Any,
) -> Summary:
    """Validates a Dask bag of NDJSON lines (``str`` or ``bytes``, as ``dask.bag.read_text``
    gives them) or of records (dicts), one task per partition (a list or any iterable); errors
    name ``partition k`` and the record index in it. A partition that mixes lines and records
    raises :class:`InputError`."""
    parts = [
        delayed(_partition_summary, pure=True)(validator, part, i, max_errors, knobs)
        for i, part in enumerate(bag.to_delayed())
    ]
    return _compute(reduce_summaries(parts), client, None, None)


def validate_dataframe(
    validator: Validator,
    frame: Any,
    *,
    client: Any = None,
    max_errors: int = 10,
    null_as_absent: bool = False,
    **knobs: Any,
) -> Summary:
    """Validates the rows of a Dask DataFrame, each partition through Arrow
    (:meth:`Validator.validate_arrow`: needs pyarrow on the workers); errors name
    ``partition k`` and the row index in it."""
    parts = [
        delayed(_frame_summary, pure=True)(validator, part, i, max_errors, null_as_absent, knobs)
        for i, part in enumerate(frame.to_delayed())
    ]
    return _compute(reduce_summaries(parts), client, None, None)


# -- tasks ------------------------------------------------------------------------------------


def _file_summary(
    validator: Validator, path: str, position: int, max_errors: int, input_kind: str, knobs: Dict[str, Any]
) -> Summary:
    return validate_path(validator, path, position, max_errors, input_kind=input_kind, **knobs)


def _partition_summary(
    validator: Validator, items: Iterable[Any], position: int, max_errors: int, knobs: Dict[str, Any]
) -> Summary:
    source = f"partition {position}"
    if not isinstance(items, list):  # a partition may be any iterable (a generator)
        items = list(items)
    texts = sum(isinstance(i, (str, bytes)) for i in items)
    if 0 < texts < len(items):
        # Read by its first item, a str after a dict was a record, a dict after a str broke.
        head = isinstance(items[0], (str, bytes))
        first = next(k for k, i in enumerate(items) if isinstance(i, (str, bytes)) != head)
        raise InputError(
            f"{source} mixes NDJSON lines (str or bytes) and records: item 0 is"
            f" {type(items[0]).__name__}, item {first} {type(items[first]).__name__};"
            " give a bag of lines or a bag of records (`bag.map(json.loads)` makes records of lines)"
        )
    if texts:
        lines = [
            (i if isinstance(i, bytes) else i.encode("utf-8", "surrogatepass")).rstrip(b"\r\n")
            for i in items
        ]
        result = validator.validate_ndjson(b"\n".join(lines), max_errors=max_errors, **knobs)
    else:
        result = validator.validate_batch(items, max_errors=max_errors, **knobs)
    return summarize(result, source, position, max_errors, errors_counted=knobs.get("errors", True))


def _frame_summary(
    validator: Validator, frame: Any, position: int, max_errors: int, null_as_absent: bool, knobs: Dict[str, Any]
) -> Summary:
    from .arrow import to_table

    try:
        table = to_table(frame)  # (what validate_arrow does: a column with no Arrow type is said)
    except InputError as exc:
        raise InputError(f"partition {position}: {exc}") from None
    result = validator.validate_arrow(
        table, null_as_absent=null_as_absent, max_errors=max_errors, **knobs
    )
    return summarize(result, f"partition {position}", position, max_errors, errors_counted=knobs.get("errors", True))


# -- running ----------------------------------------------------------------------------------


def _compute(graph: Any, client: Any, address: Optional[str], workers: Optional[int]) -> Summary:
    with _client(client, address, workers) as c:
        if c is None:
            (summary,) = dask.compute(graph)
        else:
            summary = c.compute(graph).result()
    return summary  # type: ignore[no-any-return]


@contextlib.contextmanager
def _client(client: Any, address: Optional[str], workers: Optional[int]) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    if address is None and workers is None:
        current = None
        try:
            from distributed import get_client

            current = get_client()
        except (ImportError, ValueError):  # no distributed, or no client made
            pass
        yield current
        return
    from distributed import Client, LocalCluster

    if address is not None:
        with Client(address) as c:
            yield c
        return
    # The dashboard on a free port: the default 8787 may be taken by a cluster the user runs.
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, Client(cluster) as c:
        c.register_plugin(_QuietArchiveWarnings())
        yield c


class _QuietArchiveWarnings(WorkerPlugin):  # type: ignore[misc]
    """In the worker processes of a cluster started for one call: an archive that does not
    describe the machine is not warned about once per worker (printed on the caller's terminal
    beside the report, attributed to a line of Dask), as the local process pool's workers do
    not warn either."""

    name = "satya-adapt-quiet-archive-warnings"

    def setup(self, worker: Any) -> None:
        warnings.simplefilter("ignore", ArchiveWarning)
