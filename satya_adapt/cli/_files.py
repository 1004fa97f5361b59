"""``satya-adapt validate`` on many files: paths, globs and folders expanded to files, validated
by a local process pool (no engine needed), Dask or Ray, and reported as one input.

Each file is validated whole by one worker process (its schema compiled once per process,
its batch configuration selected per file); the per-file summaries are merged in input order
(:mod:`satya_adapt.summary`), so the report is the same whatever the engine and the number of
workers, apart from timings.
"""

from __future__ import annotations

import argparse
import glob
import json
import multiprocessing
import os
import signal
import stat
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Dict, List

from ..errors import InputError, SatyaAdaptError
from ._common import (
    CliError,
    _int,
    _one_line,
    _plural,
    _rate,
    _seconds,
    _table,
    _warn,
)
from ._input import changed

#: File names a folder contributes: NDJSON and JSON, plain or gzip- or zstd-compressed (the
#: content, not the name, then says how each is read).
DATA_SUFFIXES = tuple(
    base + comp for comp in ("", ".gz", ".zst") for base in (".ndjson", ".jsonl", ".json")
)
_GLOB_CHARS = "*?["


def is_many(paths: List[str]) -> bool:
    """Whether DATA names more than one plain path (several, a glob or a folder)."""
    if len(paths) != 1:
        return True
    path = paths[0]
    if path == "-":
        return False
    if os.path.isdir(path):
        return True
    return not os.path.exists(path) and any(c in path for c in _GLOB_CHARS)


def expand(paths: List[str]) -> List[str]:
    """The files DATA names, in the order given: a folder's data files (recursively, sorted),
    a glob's matches (sorted), each file once."""
    out: List[str] = []
    seen = set()
    for path in paths:
        if path == "-":
            raise CliError("`-` (standard input) cannot be combined with other DATA")
        if os.path.isdir(path):
            found = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(path)
                for name in names
                if name.endswith(DATA_SUFFIXES)
            )
            if not found:
                raise CliError(
                    f"no data files in folder {path} (looked for .ndjson, .jsonl and .json"
                    " files, plain, .gz or .zst)"
                )
        elif os.path.exists(path):
            found = [path]
        elif any(c in path for c in _GLOB_CHARS):
            found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not found:
                raise CliError(f"no files match {path}")
        else:
            raise CliError(f"cannot read {path}: no such file or directory")
        for f in found:
            if f not in seen:
                seen.add(f)
                out.append(f)
    return out


# -- the local process pool -------------------------------------------------------------------

_WORKER: Any = None


def _init_worker(validator: Any) -> None:
    global _WORKER
    _WORKER = validator
    # Ctrl-C reaches the whole process group: the command stops the pool (see _stop); a
    # worker that took it waiting for a task died with a traceback, and the pool's shutdown
    # then waited for it for ever.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's archive fallback would print once per process, outside the report.
    from ..errors import ArchiveWarning

    warnings.simplefilter("ignore", ArchiveWarning)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stops ``pool`` now (the command was interrupted or failed): its tasks not started are
    cancelled, its workers ended, mid-file too (shutting down as `with` does waited for
    every running file to end)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)
    # Now that no worker runs, the pool's own thread ends and frees its queues (leaving them
    # to exit made the resource tracker warn of "leaked semaphore objects").
    pool.shutdown(wait=True)


def _validate_one(path: str, position: int, max_errors: int, input_kind: str, knobs: Dict[str, Any]) -> Any:
    from ..summary import validate_path

    return validate_path(_WORKER, path, position, max_errors, input_kind=input_kind, **knobs)


#: What a pool's server process imports once, so that each worker starts with it imported.
_PRELOAD = ["satya_adapt", "satya_adapt.summary", "satya_adapt.cli._files"]


def _pool_context() -> Any:
    """Workers forked from a server process that imported satya-adapt once (its first pool
    starts it; later pools fork from it), not each spawned and importing it again. Forking
    this process would be unsafe (a forked child inherits a thread pool without its threads);
    the server runs no threads of ours. Spawn where there is no fork server."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not POSIX
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def validate_local(
    validator: Any, files: List[str], max_errors: int, input_kind: str, knobs: Dict[str, Any], workers: int
) -> Any:
    """Summary of ``files`` validated by ``workers`` processes (1: this process)."""
    from ..summary import merge, validate_path

    if workers <= 1 or len(files) <= 1:
        # As in a worker: the archive's fallback is no warning in the report of `validate`.
        from ..errors import ArchiveWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ArchiveWarning)
            parts = [
                validate_path(validator, f, i, max_errors, input_kind=input_kind, **knobs)
                for i, f in enumerate(files)
            ]
        return merge(parts)
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(files)),
        mp_context=_pool_context(),
        initializer=_init_worker,
        initargs=(validator,),
    )
    try:
        futures = [
            pool.submit(_validate_one, f, i, max_errors, input_kind, knobs) for i, f in enumerate(files)
        ]
        summary = merge(f.result() for f in futures)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return summary


def _sizes(files: List[str]) -> Dict[str, int]:
    """The sizes of the regular files among ``files`` now, before they are read (see
    :func:`~satya_adapt.cli._input.changed`)."""
    sizes = {}
    for path in files:
        try:
            status = os.stat(path)
        except OSError:
            continue  # (its worker says why it cannot be read)
        if stat.S_ISREG(status.st_mode):
            sizes[path] = status.st_size
    return sizes


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_many(args: argparse.Namespace, validator: Any, knobs: Dict[str, Any]) -> int:
    """Validates every file DATA names with ``args.engine``; prints the report; the exit code."""
    files = expand(args.data)
    sizes = _sizes(files)
    kind = args.input_kind
    start = time.perf_counter()
    try:
        if args.engine == "dask":
            from .. import dask as sa_dask

            summary = sa_dask.validate_files(
                validator, files, address=args.address, workers=args.workers,
                max_errors=args.errors, input_kind=kind, **knobs,
            )
        elif args.engine == "ray":
            from .. import ray as sa_ray

            summary = sa_ray.validate_files(
                validator, files, address=args.address, workers=args.workers,
                max_errors=args.errors, input_kind=kind, **knobs,
            )
        else:
            workers = args.workers or default_workers()
            summary = validate_local(validator, files, args.errors, kind, knobs, workers)
    except ImportError as exc:
        raise CliError(
            f"--engine {args.engine} needs {exc.name or args.engine}: pip install 'satya-adapt[{args.engine}]'"
        ) from None
    except (InputError, SatyaAdaptError) as exc:
        raise CliError(_one_line(exc)) from None
    seconds = time.perf_counter() - start
    for path, size in sizes.items():
        change = changed(path, size)
        if change is not None:
            _warn(change)
    report(args, files, summary, seconds)
    return 0 if summary.invalid == 0 else 1


def report(args: argparse.Namespace, files: List[str], summary: Any, seconds: float) -> None:
    ips = summary.records / seconds if seconds > 0 else 0.0
    if args.format == "json":
        doc = {
            "data": files,
            "engine": args.engine,
            "files": len(files),
            "records": summary.records,
            "valid": summary.valid,
            "invalid": summary.invalid,
            "errors_total": summary.errors_total if summary.errors_counted else None,
            "errors": [
                {"file": e.source, "index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}
                for e in summary.first_errors
            ],
            "seconds": seconds,
            "items_per_s": ips,
            "configs": [
                {"batch_size": b, "micro_batch_size": m, "threads": t, "source": s}
                for b, m, t, s in summary.configs
            ],
            "chunks": summary.chunks,
            "peak_bytes": summary.peak_bytes,
        }
        print(json.dumps(doc, indent=2))
        return
    head = f"{_plural(len(files), 'file')}: {_plural(summary.records, 'record')}: "
    if summary.invalid == 0:
        head += "all valid"
    else:
        head += f"{_int(summary.valid)} valid, {_int(summary.invalid)} invalid"
        if summary.errors_counted:
            head += f" ({_plural(summary.errors_total, 'error')})"
    lines = [
        head,
        f"  speed          {_rate(ips)} items/s ({_seconds(seconds)})",
        f"  engine         {args.engine}",
    ]
    first = summary.first_errors
    if first:
        lines.append("")
        if len(first) < summary.errors_total:
            lines.append(f"first {len(first)} of {_int(summary.errors_total)} errors:")
        else:
            lines.append(f"{_plural(summary.errors_total, 'error')}:")
        rows = [[e.source, str(e.index), e.path or "(root)", e.keyword, e.message] for e in first]
        lines.extend(_table(rows, ("file", "record", "path", "keyword", "message"), "  "))
    print("\n".join(lines))

