"""``satya-adapt validate``: validate the records of DATA against a JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .._argtypes import bounded_int, non_negative_int
from ..budget import make_budget, parse_max_pause, parse_memory_budget
from ..config import KNOB_MAX
from .._inputs import said_of
from ..errors import InputError, SatyaAdaptError
from ._common import (
    _FMT,
    CliError,
    Progress,
    _add_archive_option,
    _add_format,
    _add_schema_option,
    _archive_state,
    _archive_text,
    _bytes,
    _config_text,
    _int,
    _as_text,
    _one_line,
    _Parser,
    _plural,
    _rate,
    _seconds,
    _table,
    _warn,
)
from ._files import is_many, run_many
from ._input import _make_validator, add_pointer_option, open_data

_VALIDATE_EPILOG = """\
DATA is read by its content, never its name. gzip- and zstd-compressed DATA
is decompressed as a stream (zstd needs the `zstandard` package). It is read
as a JSON array when its first non-whitespace byte is '[', as one record when
it holds one JSON object spread over several lines, otherwise as NDJSON (one
record per line; blank lines are skipped; a line that is not JSON is an
invalid record, keyword `json`). A file that is clearly not JSON (Parquet,
CSV, ZIP, an image, other binary data) is refused with exit 2, naming what
it looks like. NDJSON whose records are themselves arrays also starts with
'[': pass --input-kind ndjson for it; a file that is one record whatever it
holds (compile_commands.json, a top-level array): --input-kind document.
NDJSON is streamed (memory bounded by the batch size, whatever the file
size); a JSON array is read whole into memory. With --pointer, DATA is one
JSON document (read whole) and its records are the elements of the array at
that JSON Pointer.

examples:
  satya-adapt validate users.ndjson --schema user.schema.json
  satya-adapt validate users.json --schema user.schema.json --errors 3
  satya-adapt validate users.ndjson.gz --schema user.schema.json
  cat users.ndjson | satya-adapt validate - --schema user.schema.json --format json
  satya-adapt validate rows.ndjson --schema row.json --input-kind ndjson
  satya-adapt validate response.json --schema item.json --pointer /data/items

Several DATA, a folder (its *.ndjson, *.jsonl, *.json files, plain, .gz or .zst,
recursively) or a glob validate many files: one worker process per core
(--workers), or a Dask or Ray cluster (--engine, --address); the report
counts all records and lists the first errors with their file.

examples:
  satya-adapt validate logs/ --schema event.json
  satya-adapt validate 'logs/**/*.ndjson.gz' --schema event.json --workers 4
  satya-adapt validate logs/ --schema event.json --engine dask --address tcp://10.0.0.5:8786

A file whose name starts with '-' is written ./-name.ndjson, or last, after --.

exit codes: 0 all records valid, 1 some invalid, 2 usage, schema, input or output errors.
"""


def register(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Adds the command to the top-level parser's subcommands."""
    p = sub.add_parser(
        "validate",
        help="validate an NDJSON or JSON-array file (or stdin) against a JSON Schema",
        description="Validate the records of DATA against a JSON Schema and report the errors.",
        epilog=_VALIDATE_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="+",
        help="NDJSON or JSON-array files (.gz too), folders, globs; or - for stdin",
    )
    _add_schema_option(p)
    p.add_argument(
        "--errors",
        type=non_negative_int,
        default=10,
        metavar="N",
        help="show the first N errors (default 10)",
    )
    p.add_argument(
        "--no-errors",
        action="store_true",
        help="the verdicts alone: count valid and invalid records, build and count no error"
        " (faster on invalid records; --errors is then ignored)",
    )
    _add_format(p)
    p.add_argument(
        "--input-kind",
        choices=("auto", "json", "ndjson", "document"),
        default="auto",
        help="how to read DATA (default auto: by its content; '[' first means a JSON array of"
        " records); document: DATA is one record, whatever it holds (a top-level array too)",
    )
    add_pointer_option(p)
    _add_archive_option(p)
    p.add_argument(
        "--no-adapt", action="store_true", help="use the default configuration (no selection)"
    )
    for flag, name, meta, text in (
        ("--batch-size", "batch_size", "B", "records per chunk"),
        ("--micro-batch-size", "micro_batch_size", "M", "records per pool task"),
        ("--threads", "threads", "T", "pool threads"),
    ):
        high = KNOB_MAX[name]
        p.add_argument(flag, type=bounded_int(1, high), metavar=meta, help=f"{text} (1 to {high})")
    p.add_argument(
        "--memory-budget",
        type=_memory_budget,
        metavar="BYTES",
        help="keep the engine's memory in flight within BYTES (e.g. 64MiB, 512KB, 1000000)",
    )
    p.add_argument(
        "--max-pause",
        type=_max_pause,
        metavar="TIME",
        help="hold the GIL at most TIME at a stretch (e.g. 5ms, 250us, 0.01)",
    )
    p.add_argument(
        "--max-record-bytes",
        type=_max_record_bytes,
        metavar="BYTES",
        help="the longest NDJSON line, or decompressed JSON array, accepted (default 64MiB;"
        " e.g. 256MiB)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    p.add_argument(
        "--engine",
        choices=("local", "dask", "ray"),
        default="local",
        help="where many files are validated (default local: a process pool on this machine)",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="the Dask scheduler or Ray cluster to use (default: a local one over all cores)",
    )
    p.add_argument(
        "--workers",
        type=bounded_int(1, 4096),
        metavar="N",
        help="worker processes for many files (default: the usable cores)",
    )
    p.set_defaults(func=cmd_validate)


def _max_record_bytes(text: str) -> int:
    try:
        value = parse_memory_budget(text, "max_record_bytes")
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected bytes such as 256MiB or 100000000, got {_shown(text)}"
        )
    return value


def _memory_budget(text: str) -> int | None:
    try:
        return parse_memory_budget(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected bytes such as 64MiB, 512KB or 1000000, got {_shown(text)}"
        ) from None


def _max_pause(text: str) -> float | None:
    try:
        return parse_max_pause(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a time such as 5ms, 250us or 0.01 (seconds), got {_shown(text)}"
        ) from None


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def _error_dict(e: Any) -> dict[str, Any]:
    return {"index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}


def cmd_validate(args: argparse.Namespace) -> int:
    validator = _make_validator(args, adapt=not args.no_adapt)
    knobs = {
        name: getattr(args, name)
        for name in ("batch_size", "micro_batch_size", "threads")
        if getattr(args, name) is not None
    }
    budget = {"memory_budget": args.memory_budget, "max_pause": args.max_pause}
    if args.address is not None and args.engine == "local":
        raise CliError("--address needs --engine dask or --engine ray")
    archive_used = not args.no_adapt and len(knobs) < 3
    if args.no_errors:
        knobs["errors"] = False
    if args.engine != "local" or is_many(args.data):
        # The workers get the budgets with the validator (it pickles them).
        validator.budget = make_budget(args.memory_budget, args.max_pause)
        if args.pointer is not None:
            knobs["pointer"] = args.pointer
        return run_many(args, validator, knobs)
    args.data = args.data[0]
    data = open_data(args.data, args.input_kind, args.pointer, validator.max_record_bytes)
    archive = _archive_state(args.archive) if archive_used else None

    total: int | None = None
    estimated = False
    progress_on = not args.no_progress and sys.stderr.isatty()
    if progress_on and (data.kind == "json" or isinstance(data.source.source, str)):
        try:
            prof = validator.profile(data.source, input_kind=data.kind)
            total, estimated = prof.n, prof.n_estimated
        except (SatyaAdaptError, OSError, ValueError):
            total = None
    progress = Progress(sys.stderr, total, estimated=estimated, enabled=progress_on)

    n = n_valid = n_errors = chunks = peak = 0
    hold = 0.0
    first: list[Any] = []
    config = None
    start = time.perf_counter()
    try:
        # The engine builds only the errors shown; it counts the others.
        chunks_of = validator.iter_validate(
            data.source, input_kind=data.kind, max_errors=args.errors, **knobs, **budget
        )
        for chunk in chunks_of:
            size = len(chunk.valid)
            n += size
            n_valid += chunk.n_valid
            n_errors += len(chunk.errors) + chunk.errors_omitted
            if len(first) < args.errors:
                first.extend(chunk.errors[: args.errors - len(first)])
            config = chunk.config
            chunks += chunk.stats.chunks
            peak = max(peak, chunk.stats.peak_bytes)
            hold = max(hold, chunk.stats.max_gil_hold)
            progress.update(n)
        progress.finish(n)
    except InputError as exc:
        hint = ""
        if data.kind == "json" and data.detected and "trailing characters" in str(exc):
            hint = (
                " (DATA starts with '[' so it was read as one JSON array; for NDJSON whose"
                " records are arrays, pass --input-kind ndjson)"
            )
        message = said_of(data.source, _one_line(exc))
        if "`max_record_bytes`" in message:
            hint = " (--max-record-bytes sets it)"
        raise CliError(f"{data.name}: {message}{hint}") from None
    finally:
        progress.close()
        data.close()
    seconds = time.perf_counter() - start
    change = data.changed()
    if change is not None:
        _warn(change)
    ips = n / seconds if seconds > 0 else 0.0
    n_invalid = n - n_valid

    if args.format == "json":
        doc = {
            "data": data.name,
            "input_kind": data.kind,
            "pointer": args.pointer,
            "compression": data.compression,
            "document": data.document,
            "records": n,
            "valid": n_valid,
            "invalid": n_invalid,
            "errors_total": None if args.no_errors else n_errors,
            "errors": [_error_dict(e) for e in first],
            "seconds": seconds,
            "items_per_s": ips,
            "config": None
            if config is None
            else {
                "batch_size": config.batch_size,
                "micro_batch_size": config.micro_batch_size,
                "threads": config.threads,
                "source": config.source,
            },
            "chunks": chunks,
            "peak_bytes": peak,
            "max_gil_hold": hold,
            "memory_budget": args.memory_budget,
            "max_pause": args.max_pause,
            "archive": archive,
        }
        print(json.dumps(doc, indent=2))
    else:
        if data.document:
            how = "json document, streamed as one record"
        else:
            at = "" if args.pointer is None else f" at {args.pointer or '(root)'}"
            how = f"{data.kind}{at}, " + ("held in memory" if data.kind == "json" else "streamed")
        if data.compression:
            how = f"{data.compression}, {how}"
        head = f"{_as_text(data.name)}: {_plural(n, 'record')} ({how}): "
        if n_invalid == 0:
            head += "all valid"
        else:
            head += f"{_int(n_valid)} valid, {_int(n_invalid)} invalid"
            if not args.no_errors:
                head += f" ({_plural(n_errors, 'error')})"
        lines = [
            head,
            f"  speed          {_rate(ips)} items/s ({_seconds(seconds)})",
            f"  configuration  {_config_text(config)}",
        ]
        if archive is not None:
            lines.append(f"  archive        {_archive_text(archive)}")
        over = ""
        if args.memory_budget is not None and peak > args.memory_budget:
            over = f" (over the {_bytes(args.memory_budget)} memory budget)"
        lines.append(
            f"  engine         {_int(chunks)} chunk{'s' if chunks != 1 else ''},"
            f" at most {_bytes(peak)} in flight{over}"
        )
        if first:
            lines.append("")
            if len(first) < n_errors:
                lines.append(f"first {len(first)} of {_int(n_errors)} errors:")
            else:
                lines.append(f"{_plural(n_errors, 'error')}:")
            rows = [[str(e.index), e.path or "(root)", e.keyword, e.message] for e in first]
            lines.extend(_table(rows, ("record", "path", "keyword", "message"), "  "))
        if n_invalid and data.kind == "json" and data.detected and args.pointer is None:
            document = validator.schema.json_schema
            if isinstance(document, dict) and document.get("type") == "array":
                lines.append(
                    "\nnote: DATA is a JSON array, so each of its elements is a record; the schema"
                    " describes an array: --input-kind document validates DATA as one record"
                )
        print("\n".join(lines))
    return 0 if n_invalid == 0 else 1
