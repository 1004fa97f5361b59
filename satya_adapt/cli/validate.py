"""``satya-adapt validate``: validate the records of DATA against a JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .._argtypes import bounded_int, non_negative_int
from ..config import KNOB_MAX
from ..errors import InputError, SatyaAdaptError
from ._common import (
    _FMT,
    CliError,
    Progress,
    _add_archive_option,
    _add_format,
    _archive_state,
    _archive_text,
    _bytes,
    _config_text,
    _int,
    _one_line,
    _Parser,
    _plural,
    _rate,
    _seconds,
    _table,
)
from ._input import _make_validator, open_data

_VALIDATE_EPILOG = """\
DATA is read as a JSON array when its first non-whitespace byte is '[',
otherwise as NDJSON (one record per line; blank lines are skipped; a line
that is not JSON is an invalid record, keyword `json`). NDJSON whose records
are themselves arrays also starts with '[': pass --input-kind ndjson for it.
NDJSON is streamed (memory bounded by the batch size, whatever the file
size); a JSON array is read whole into memory.

examples:
  satya-adapt validate users.ndjson --schema user.schema.json
  satya-adapt validate users.json --schema user.schema.json --errors 3
  cat users.ndjson | satya-adapt validate - --schema user.schema.json --format json
  satya-adapt validate rows.ndjson --schema row.json --input-kind ndjson

exit codes: 0 all records valid, 1 some invalid, 2 usage, schema or input errors.
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
    p.add_argument("data", metavar="DATA", help="NDJSON or JSON-array file, or - for stdin")
    p.add_argument("--schema", required=True, metavar="SCHEMA.json", help="JSON Schema file")
    p.add_argument(
        "--errors",
        type=non_negative_int,
        default=10,
        metavar="N",
        help="show the first N errors (default 10)",
    )
    _add_format(p)
    p.add_argument(
        "--input-kind",
        choices=("auto", "json", "ndjson"),
        default="auto",
        help="how to read DATA (default auto: '[' first means a JSON array)",
    )
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
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    p.set_defaults(func=cmd_validate)


def _error_dict(e: Any) -> dict[str, Any]:
    return {"index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}


def cmd_validate(args: argparse.Namespace) -> int:
    validator = _make_validator(args, adapt=not args.no_adapt)
    knobs = {
        name: getattr(args, name)
        for name in ("batch_size", "micro_batch_size", "threads")
        if getattr(args, name) is not None
    }
    data = open_data(args.data, args.input_kind)
    archive = _archive_state(args.archive) if not args.no_adapt and len(knobs) < 3 else None

    total: int | None = None
    progress_on = not args.no_progress and sys.stderr.isatty()
    if progress_on and (data.kind == "json" or isinstance(data.source, str)):
        try:
            total = validator.profile(data.source, input_kind=data.kind).n
        except (SatyaAdaptError, OSError, ValueError):
            total = None
    progress = Progress(sys.stderr, total, enabled=progress_on)

    n = n_valid = n_errors = chunks = peak = 0
    first: list[Any] = []
    config = None
    start = time.perf_counter()
    try:
        # The engine builds only the errors shown; it counts the others.
        chunks_of = validator.iter_validate(
            data.source, input_kind=data.kind, max_errors=args.errors, **knobs
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
            progress.update(n)
    except InputError as exc:
        hint = ""
        if data.kind == "json" and data.detected and "trailing characters" in str(exc):
            hint = (
                " (DATA starts with '[' so it was read as one JSON array; for NDJSON whose"
                " records are arrays, pass --input-kind ndjson)"
            )
        raise CliError(f"{data.name}: {_one_line(exc)}{hint}") from None
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    ips = n / seconds if seconds > 0 else 0.0
    n_invalid = n - n_valid

    if args.format == "json":
        doc = {
            "data": data.name,
            "input_kind": data.kind,
            "records": n,
            "valid": n_valid,
            "invalid": n_invalid,
            "errors_total": n_errors,
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
            "archive": archive,
        }
        print(json.dumps(doc, indent=2))
    else:
        how = "held in memory" if data.kind == "json" else "streamed"
        head = f"{data.name}: {_plural(n, 'record')} ({data.kind}, {how}): "
        if n_invalid == 0:
            head += "all valid"
        else:
            head += (
                f"{_int(n_valid)} valid, {_int(n_invalid)} invalid ({_plural(n_errors, 'error')})"
            )
        lines = [
            head,
            f"  speed          {_rate(ips)} items/s ({_seconds(seconds)})",
            f"  configuration  {_config_text(config)}",
        ]
        if archive is not None:
            lines.append(f"  archive        {_archive_text(archive)}")
        lines.append(
            f"  engine         {_int(chunks)} chunk{'s' if chunks != 1 else ''},"
            f" at most {_bytes(peak)} in flight"
        )
        if first:
            lines.append("")
            if len(first) < n_errors:
                lines.append(f"first {len(first)} of {_int(n_errors)} errors:")
            else:
                lines.append(f"{_plural(n_errors, 'error')}:")
            rows = [[str(e.index), e.path or "(root)", e.keyword, e.message] for e in first]
            lines.extend(_table(rows, ("record", "path", "keyword", "message"), "  "))
        print("\n".join(lines))
    return 0 if n_invalid == 0 else 1
