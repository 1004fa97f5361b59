"""The ``satya-adapt`` command line: validate files, a demo, and the archive's jobs.

A thin layer: every command parses its arguments, calls library code (:class:`Validator`,
:mod:`satya_adapt.archive`, :mod:`satya_adapt.selector`, :mod:`satya_adapt.tuning.maintenance`,
:mod:`satya_adapt.tuning.optimizer`, :mod:`satya_adapt.tuning.plot`) and prints. Nothing imports this module.

Exit codes: 0 success (``validate``: every record valid), 1 ``validate`` found invalid records,
2 usage errors, schema errors, unreadable input or archives, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). Errors are one line on standard error, ``satya-adapt: error: ...``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shlex
import shutil
import signal
import stat
import sys
import time
import warnings
from collections.abc import Sequence
from typing import IO, Any, Callable

from ._argtypes import bounded_int, non_negative_int, positive_int
from .config import KNOB_MAX
from .config import READ_AHEAD_BYTES as _SNIFF_BYTES  # read from DATA to tell JSON from NDJSON
from .errors import InputError, SatyaAdaptError

__all__ = ["build_parser", "main"]

PROG = "satya-adapt"

_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


class CliError(Exception):
    """A problem the user can fix, reported as one line (exit code 2)."""


class _Terminated(BaseException):
    """Raised by the SIGTERM handler, so that ``finally`` blocks and atomic writes clean up."""


# -- small formatting helpers ------------------------------------------------------------------


def _int(n: int) -> str:
    return f"{n:,}"


def _plural(n: int, word: str) -> str:
    return f"{_int(n)} {word}{'' if n == 1 else 's'}"


def _rate(x: float) -> str:
    """Items per second, three significant figures with a unit: 1.23M, 456k."""
    if not math.isfinite(x):
        return "inf"
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale * 0.9995:  # what rounds to 1000 of a unit is 1 of the next
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _bytes(n: float) -> str:
    for scale, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def _seconds(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    if s < 120:
        return f"{s:.2f} s"
    m, sec = divmod(round(s), 60)
    return f"{m}:{sec:02d} min"


def _config_text(config: Any) -> str:
    if config is None:
        return "none (no records)"
    return (
        f"batch_size={config.batch_size} micro_batch_size={config.micro_batch_size}"
        f" threads={config.threads} (source: {config.source})"
    )


def _table(rows: Sequence[Sequence[str]], header: Sequence[str], indent: str = "") -> list[str]:
    """Left-aligned text columns, two spaces apart."""
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    out = [indent + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for row in rows:
        out.append(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return out


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _os_error_text(exc: OSError, what: str = "") -> str:
    name = exc.filename if exc.filename is not None else what
    reason = exc.strerror or _one_line(exc)
    return f"{name}: {reason}" if name else reason


# -- progress bar -------------------------------------------------------------------------------


_BAR_WIDTH = 20


def _clock(seconds: float) -> str:
    """A duration as m:ss (h:mm:ss past an hour)."""
    total = max(0, round(seconds))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Progress:
    """A one-line progress bar on a terminal, for inputs that take more than ``delay`` seconds.

    Drawn on ``stream`` only when it is a terminal (never when piped or redirected); updated at
    most every ``interval`` seconds; erased by :meth:`close`. ``total`` is the expected number
    of records when known (an estimate: shown as ``~``, the bar stops at 99% until the end).
    """

    def __init__(
        self,
        stream: IO[str],
        total: int | None,
        *,
        enabled: bool | None = None,
        delay: float = 1.0,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if enabled is None:
            isatty = getattr(stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.last = 0.0
        self.drawn = False

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self.start
        if elapsed < self.delay or now - self.last < self.interval:
            return
        self.last = now
        self.stream.write("\r" + self.line(done, elapsed) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def line(self, done: int, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        width = shutil.get_terminal_size((80, 24)).columns
        speed = f"{_rate(rate)} items/s"
        if self.total:
            frac = min(done / self.total, 0.99)
            eta = ""
            if rate > 0 and self.total > done:
                eta = f"  ETA {_clock((self.total - done) / rate)}"
            filled = int(frac * _BAR_WIDTH)
            line = (
                f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {frac * 100:3.0f}%"
                f"  {_int(done)}/~{_int(self.total)}  {speed}{eta}"
            )
        else:
            line = f"{_int(done)} records  {speed}  {_clock(elapsed)}"
        return line[: max(1, width - 1)]

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


# -- reading DATA ---------------------------------------------------------------------------------


class _PrefixedReader:
    """A binary reader that returns ``prefix`` first, then reads ``raw``."""

    def __init__(self, prefix: bytes, raw: Any) -> None:
        self._prefix = prefix
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                out, self._prefix = self._prefix + bytes(self._raw.read()), b""
                return out
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        return bytes(self._raw.read(size))


def _sniff_kind(head: bytes) -> str | None:
    """``"json"`` when the first non-whitespace byte is ``[``, ``"ndjson"`` when it is another
    byte, ``None`` when ``head`` is only whitespace (read more)."""
    head = head.removeprefix(_BOM)
    stripped = head.lstrip(_WHITESPACE)
    if not stripped:
        return None
    return "json" if stripped[:1] == b"[" else "ndjson"


class Data:
    """DATA opened for validation: ``kind`` (``"json"`` or ``"ndjson"``) and ``source`` (JSON
    bytes; an NDJSON path or binary reader), plus its size in bytes when known."""

    def __init__(self, name: str, kind: str, source: Any, size: int | None, detected: bool):
        self.name = name
        self.kind = kind
        self.source = source
        self.size = size
        self.detected = detected


def open_data(path: str, input_kind: str) -> Data:
    """Opens DATA (a path, or ``-`` for standard input) as a JSON array or NDJSON.

    ``input_kind`` ``"auto"`` reads the first non-whitespace byte: ``[`` is a JSON array,
    anything else NDJSON. JSON arrays are read whole into memory; NDJSON is streamed. A path
    that is not a regular file (a FIFO, ``/dev/stdin``) is read as a stream, as ``-`` is.
    """
    if path == "-":
        return _open_stream(sys.stdin.buffer, "<stdin>", input_kind)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise CliError(f"cannot read {path}: it is a directory")
        if not stat.S_ISREG(mode):
            return _open_stream(open(path, "rb"), path, input_kind)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            kind = None if input_kind == "auto" else input_kind
            head = b""
            while kind is None:
                block = f.read(_SNIFF_BYTES)
                if not block:
                    kind = "ndjson"
                    break
                head += block
                kind = _sniff_kind(head)
            if kind == "json":
                data = head + f.read()
                return Data(path, "json", data, size, input_kind == "auto")
    except OSError as exc:
        raise CliError(f"cannot read {_os_error_text(exc, path)}") from None
    return Data(path, "ndjson", path, size, input_kind == "auto")


def _open_stream(raw: Any, name: str, input_kind: str) -> Data:
    """DATA from a binary stream: the first bytes tell the kind, the engine reads them first."""
    head = b""
    kind = None if input_kind == "auto" else input_kind
    if kind is None:
        while True:
            block = raw.read1(_SNIFF_BYTES) if hasattr(raw, "read1") else raw.read(_SNIFF_BYTES)
            if not block:
                break
            head += block
            kind = _sniff_kind(head)
            if kind is not None:
                break
        kind = kind or "ndjson"
    if kind == "json":
        data = head + raw.read()
        return Data(name, "json", data, len(data), input_kind == "auto")
    return Data(name, "ndjson", _PrefixedReader(head, raw), None, input_kind == "auto")


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number"}


def load_schema(path: str) -> Any:
    """The JSON Schema document in the file at ``path`` (parsed, not yet compiled): a JSON
    object or boolean in UTF-8 (one leading byte order mark is skipped)."""
    from .schema import MAX_SCHEMA_DEPTH

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise CliError(f"cannot read the schema {_os_error_text(exc, path)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(
            f"the schema {path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    if not text.strip():
        raise CliError(f"the schema {path} is empty")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CliError(f"the schema {path} is not valid JSON: {_one_line(exc)}") from None
    except RecursionError:
        raise CliError(
            f"invalid schema {path}: the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
        ) from None
    if not isinstance(document, (dict, bool)):
        kind = "null" if document is None else _JSON_TYPES.get(type(document), "a number")
        raise CliError(
            f"invalid schema {path}: a JSON Schema is an object or a boolean, got {kind}"
        )
    return document


def _make_validator(args: argparse.Namespace, adapt: bool = True) -> Any:
    from .errors import SchemaError
    from .validator import Validator

    document = load_schema(args.schema)
    try:
        return Validator(document, archive=getattr(args, "archive", None), adapt=adapt)
    except SchemaError as exc:
        raise CliError(f"invalid schema {args.schema}: {_one_line(exc)}") from None


def _archive_state(archive: str | None) -> dict[str, Any]:
    """Which archive a validator with ``archive=`` uses, and its state (reads it once; a
    missing, corrupt or untrusted archive is reported by one ``satya-adapt: warning:`` line)."""
    from .selector import Selector

    selector = Selector.shared(archive)
    status = selector.status  # reads the archive: an unusable one warns here, once
    info: dict[str, Any] = {
        "location": selector.location,
        "origin": selector.origin,
        "status": status,
        "trust": selector.trust,
        "cells": 0 if selector.archive is None else len(selector.archive.cells),
    }
    return info


def _archive_text(info: dict[str, Any]) -> str:
    status = info["status"]
    text = f"{info['location']} ({info['origin']}"
    if status == "ok":
        trust = {
            "full": "measured on this hardware class",
            "adapted": "measured on a similar machine, threads adapted",
            "untrusted": "measured on another hardware class: not used, the heuristic answers",
        }.get(info["trust"] or "", str(info["trust"]))
        return f"{text}; {info['cells']} cells, {trust})"
    if status == "empty":
        return f"{text}; no cells yet: the heuristic answers)"
    if status == "missing":
        return f"{text}; not found: the heuristic answers)"
    return f"{text}; unusable: the heuristic answers)"


# -- validate -------------------------------------------------------------------------------------


def _error_dict(e: Any) -> dict[str, Any]:
    return {"index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}


def cmd_validate(args: argparse.Namespace) -> int:
    if args.errors < 0:
        raise CliError("--errors must be >= 0")
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
        for chunk in validator.iter_validate(data.source, input_kind=data.kind, **knobs):
            size = len(chunk.valid)
            n += size
            n_valid += chunk.n_valid
            n_errors += len(chunk.errors)
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


# -- demo -----------------------------------------------------------------------------------------

#: (profile, input kind) rows of the demo: small and wide records, cheap and costly checks,
#: the three input kinds.
DEMO_ROWS: tuple[tuple[str, str], ...] = (
    ("plain3", "dicts"),
    ("constrained3", "dicts"),
    ("mixed10", "dicts"),
    ("wide30", "dicts"),
    ("nested", "json"),
    ("mixed10", "json"),
    ("mixed10", "ndjson"),
    ("wide30", "ndjson"),
)


def cmd_demo(args: argparse.Namespace) -> int:
    from .tuning import measure
    from .tuning import workloads as W
    from .config import DEFAULT_CONFIGURATION, effective
    from .validator import Validator

    if args.records < 1 or args.rounds < 1:
        raise CliError("--records and --rounds must be at least 1")
    rows = DEMO_ROWS
    if args.profiles:
        wanted = [p.strip() for p in args.profiles.split(",") if p.strip()]
        for p in wanted:
            if p not in W.PROFILES:
                raise CliError(f"unknown profile {p!r}; known: {', '.join(W.PROFILES)}")
        rows = tuple(r for r in DEMO_ROWS if r[0] in wanted) or tuple((p, "dicts") for p in wanted)
    archive = _archive_state(args.archive)
    text = args.format == "text"
    if text:
        print(
            f"satya-adapt demo: adaptive vs default batch configuration,"
            f" {_int(args.records)} records per profile, median of {args.rounds}"
            f" interleaved rounds"
        )
        print(f"archive: {_archive_text(archive)}")
        print(
            f"default configuration: {_config_text(DEFAULT_CONFIGURATION).split(' (')[0]};"
            f" usable cores: {measure.usable_cores()}"
        )
        print()
        sys.stdout.flush()
    workloads: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name, kind in rows:
        if name not in workloads:
            workloads[name] = W.make_workload(name, args.records, seed=args.seed)
        w = workloads[name]
        adaptive = Validator(w.schema, archive=args.archive)
        default = Validator(w.schema, adapt=False)
        data = w.data(kind)
        run_a = functools.partial(adaptive.validate, data, input_kind=kind)
        run_d = functools.partial(default.validate, data, input_kind=kind)
        ra, rd = run_a(), run_d()
        if ra.valid != rd.valid or ra.errors != rd.errors or ra.valid != w.expected_valid:
            raise CliError(
                f"{name}/{kind}: the adaptive and default results differ; please report this bug"
            )
        inner = measure.calibrate_inner(run_d, target_ns=10e6)
        m = measure.run_rounds(
            [
                measure.Contender("adaptive", run_a, w.n),
                measure.Contender("default", run_d, w.n),
            ],
            rounds=args.rounds,
            inner=inner,
            seed=args.seed,
        )
        s = m.speedup("adaptive", "default")
        c = ra.config
        results.append(
            {
                "profile": name,
                "input_kind": kind,
                "records": w.n,
                "invalid": ra.n_invalid,
                "adaptive_items_per_s": m.summary("adaptive").items_per_s,
                "default_items_per_s": m.summary("default").items_per_s,
                "ratio": s.median,
                "ratio_ci": [s.ci.low, s.ci.high],
                "ratio_ci_coverage": s.ci.coverage,
                "config": {
                    "batch_size": c.batch_size,
                    "micro_batch_size": c.micro_batch_size,
                    "threads": c.threads,
                    "source": c.source,
                },
            }
        )
    seconds = time.perf_counter() - started
    if args.format == "json":
        print(
            json.dumps(
                {
                    "records": args.records,
                    "rounds": args.rounds,
                    "seed": args.seed,
                    "archive": archive,
                    "rows": results,
                    "seconds": seconds,
                },
                indent=2,
            )
        )
        return 0
    table = [
        [
            r["profile"],
            r["input_kind"],
            _int(r["records"]),
            _rate(r["adaptive_items_per_s"]),
            _rate(r["default_items_per_s"]),
            f"{r['ratio']:.2f} [{r['ratio_ci'][0]:.2f}, {r['ratio_ci'][1]:.2f}]",
            (
                f"{r['config']['batch_size']}/{r['config']['micro_batch_size']}"
                f"/{r['config']['threads']}"
            ),
            r["config"]["source"],
        ]
        for r in results
    ]
    header = (
        "profile",
        "input",
        "records",
        "adaptive items/s",
        "default items/s",
        "ratio [CI]",
        "config B/M/T",
        "source",
    )
    print("\n".join(_table(table, header)))
    coverage = results[0]["ratio_ci_coverage"] if results else 0.0
    print()
    print(
        f"ratio: default time / adaptive time, median of the per-round ratios"
        f" ({coverage:.0%} interval); > 1 means adaptive is faster."
    )
    print(
        f"B/M/T: batch_size/micro_batch_size/threads chosen adaptively. Took {_seconds(seconds)}."
    )
    same = sum(
        1
        for r in results
        if effective(
            [r["config"][k] for k in ("batch_size", "micro_batch_size", "threads")],
            r["records"],
            measure.usable_cores(),
        )
        == effective(DEFAULT_CONFIGURATION, r["records"], measure.usable_cores())
    )
    if same:
        print(
            f"{same} of {len(results)} rows run as the default configuration does (same chunks,"
            " tasks and threads): their ratios show this machine's timing noise."
        )
    return 0


# -- archive show ---------------------------------------------------------------------------------


def _resolve_archive(path: str | None) -> tuple[str, Any]:
    from .archive import discover_archive

    origin, location = discover_archive(path)
    return origin, location


def _load(location: Any) -> Any:
    from .archive import load_archive

    return load_archive(location)


def _grid_cells(grid: Any) -> int:
    total = 1
    for f in grid.features:
        total *= len(f.categories) if f.scale == "category" else len(f.edges) + 1
    return total


def _elite_text(elite: Any) -> str:
    if isinstance(elite, str):
        return elite
    return f"{elite.batch_size}/{elite.micro_batch_size}/{elite.threads}"


def _num(x: float) -> str:
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.3g}"


def _bins_text(f: Any) -> str:
    if f.scale == "category":
        return " | ".join(f.categories)
    return f"edges {', '.join(_num(e) for e in f.edges)} ({len(f.edges) + 1} bins)"


def cmd_archive_show(args: argparse.Namespace) -> int:
    import msgspec

    from . import hardware
    from .archive import hardware_class

    origin, location = _resolve_archive(args.path)
    archive = _load(location)
    prov = archive.provenance
    total = _grid_cells(archive.grid)
    elites = sum(1 for c in archive.cells if not c.keep_default)
    keep = len(archive.cells) - elites
    recorded = hardware_class(prov)
    trust, reasons = (
        ("none", []) if recorded is None else hardware.compare(recorded, hardware.current())
    )
    if args.format == "json":
        doc = {
            "location": str(location),
            "origin": origin,
            "coverage": {
                "cells": total,
                "filled": len(archive.cells),
                "elites": elites,
                "keep_default": keep,
            },
            "trust_here": trust,
            "trust_reasons": reasons,
            "archive": msgspec.to_builtins(archive),
        }
        print(json.dumps(doc, indent=2))
        return 0
    out = [f"archive      {location} ({origin})"]
    out.append(f"format       {archive.format} version {archive.format_version}")
    out.append("provenance")
    out.append(f"  tool       {prov.tool}")
    out.append(f"  date       {prov.date.isoformat()}")
    if prov.command:
        out.append(f"  command    {prov.command}")
    out.append(
        f"  search     seed {'-' if prov.seed is None else prov.seed},"
        f" {prov.generations} generations,"
        f" test size {prov.test_size if prov.test_size is not None else '-'}"
    )
    if prov.hardware is not None:
        hw = prov.hardware
        out.append(
            f"  hardware   {hw.cpu_model} ({hw.cpu_vendor} family {hw.cpu_family}, {hw.machine}),"
            f" {hw.usable_cores} usable cores{', ' + hw.os if hw.os else ''}"
        )
    else:
        out.append("  hardware   - (no measurements)")
    if prov.software is not None:
        sw = prov.software
        out.append(
            f"  software   {sw.python_implementation} {sw.python_version}"
            f"{'' if sw.gil_enabled else ' (free-threaded)'}, satya-adapt"
            f" {sw.satya_adapt_version} ({sw.build_profile} build)"
            f"{', commit ' + sw.commit if sw.commit else ''}"
        )
    if prov.note:
        out.append(f"  note       {prov.note}")
    here = {
        "full": "yes: same hardware class",
        "adapted": "partly: threads are adapted (" + "; ".join(reasons) + ")",
        "untrusted": "no: the heuristic answers instead (" + "; ".join(reasons) + ")",
        "none": "nothing measured",
    }[trust]
    out.append(f"  here       {here}")
    out.append(f"grid         {len(archive.grid.features)} features, {_int(total)} cells")
    width = max((len(f.name) for f in archive.grid.features), default=0)
    for f in archive.grid.features:
        out.append(f"  {f.name.ljust(width)}  {f.scale:<8}  {_bins_text(f)}")
    sel = archive.selection
    out.append(
        f"selection    k={sel.k}, nearest_radius={sel.nearest_radius:g},"
        f" confidence_radius={sel.confidence_radius:g}, transfer={sel.transfer}"
    )
    share = len(archive.cells) / total if total else 0.0
    out.append(
        f"coverage     {len(archive.cells)} of {_int(total)} cells filled ({share:.1%}):"
        f" {elites} elites, {keep} keep the default"
    )
    if archive.cells:
        kinds: dict[str, int] = {}
        for c in archive.cells:
            kinds[c.profile.input_kind] = kinds.get(c.profile.input_kind, 0) + 1
        out.append("             " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        out.append("cells")
        rows = []
        for c in sorted(archive.cells, key=lambda c: c.index):
            p = c.profile
            rows.append(
                [
                    str(list(c.index)),
                    p.input_kind,
                    str(p.field_count),
                    f"{p.avg_string_length:.1f}",
                    f"{p.constraint_complexity:.2f}",
                    _num(round(p.object_size)),
                    _elite_text(c.elite),
                    f"{c.speedup:.2f} [{c.speedup_ci_low:.2f}, {c.speedup_ci_high:.2f}]",
                    _rate(c.throughput),
                    _bytes(c.peak_bytes),
                    str(c.n_measurements),
                ]
            )
        out.extend(
            _table(
                rows,
                (
                    "index",
                    "input",
                    "fields",
                    "str len",
                    "cc",
                    "bytes",
                    "elite B/M/T",
                    "speedup [CI]",
                    "items/s",
                    "peak",
                    "n",
                ),
                "  ",
            )
        )
    out.append("history")
    if not archive.history:
        out.append("  (none)")
    for h in archive.history:
        counts = f"+{h.cells_added} ~{h.cells_changed} -{h.cells_dropped}"
        out.append(f"  {h.date.isoformat()}  {h.action:<9} {counts:<10} {h.summary}")
        if h.command:
            out.append(f"  {'':<25}  {'':<9} {'':<10} command: {h.command}")
    print("\n".join(out))
    return 0


# -- archive explain ------------------------------------------------------------------------------


def _bin_text(feature: Any, i: int) -> str:
    """What bin ``i`` of a grid feature holds: a category, or a range of values."""
    if feature.scale == "category":
        return f"{feature.name}={feature.categories[i] if i < len(feature.categories) else i}"
    edges = feature.edges
    low = _num(edges[i - 1]) if i > 0 else ""
    high = _num(edges[i]) if i < len(edges) else ""
    if low and high:
        return f"{low} <= {feature.name} < {high}"
    if high:
        return f"{feature.name} < {high}"
    if low:
        return f"{feature.name} >= {low}"
    return f"{feature.name} any"


def _explain_lines(ex: dict[str, Any], selection: Any, grid: Any = None) -> list[str]:
    out: list[str] = []
    p = ex["profile"]
    q = ex.get("quantized_profile") or {}
    n = p.get("n")
    out.append("profile (detected from a sample of DATA)")
    rows = []
    for key in (
        "input_kind",
        "field_count",
        "avg_string_length",
        "constraint_complexity",
        "object_size",
        "n",
    ):
        value, qv = p.get(key), q.get(key)
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        qtext = ""
        if isinstance(qv, float) and key in ("avg_string_length", "object_size"):
            qtext = f"(quantized {qv:.4g})"
        if key == "n":
            estimated = p.get("input_kind") in ("json", "ndjson")
            text = "unknown" if n is None else f"{'~' if estimated else ''}{_int(n)}"
            qtext = "(records in the call" + (", estimated from bytes" if estimated else "")
            qtext += "; only clamps batch_size)"
        rows.append([key, text, qtext])
    out.extend(_table(rows, ("feature", "value", ""), "  ")[1:])
    arch = ex.get("archive") or {}
    if "error" in ex:
        out.append(f"selection failed: {ex['error']}")
    out.append("")
    status = arch.get("status")
    out.append(
        f"archive  {arch.get('location')} ({arch.get('origin')}): {status}"
        + (f", {arch.get('cells')} cells" if status == "ok" else "")
        + (f", trust {arch.get('trust')}" if arch.get("trust") else "")
    )
    if arch.get("problem"):
        out.append(f"  problem: {arch['problem']}")
    for reason in arch.get("reasons") or []:
        out.append(f"  {reason}")
    desc = ex.get("descriptor")
    if desc is not None:
        index = desc.get("index")
        if index is None:
            out.append("cell     none: this input kind is not in the archive's grid")
        else:
            out.append(f"cell     {index}: {'filled' if desc['filled'] else 'empty'}")
            if grid is not None and len(grid.features) == len(index):
                for f, i in zip(grid.features, index):
                    out.append(f"           {_bin_text(f, i)}")
    out.append("")
    out.append("steps")
    step = ex["step"]
    usable = status == "ok" and arch.get("trust") != "untrusted"
    out.append("  1. explicit arguments: none given")
    decided = False

    def evidence(e: dict[str, Any]) -> str:
        lo, hi = e["speedup_ci"]
        return (
            f"elite {_elite_text_dict(e['elite'])}, speedup {e['speedup']:.2f} [{lo:.2f}, {hi:.2f}]"
            f" over the default from {e['n_measurements']} measurements,"
            f" peak {_bytes(e['peak_bytes'])}"
        )

    if not usable:
        why = {
            "empty": "the archive has no cells",
            "missing": "the archive was not found",
            "corrupt": "the archive cannot be read",
        }.get(status or "", "the archive was measured on another hardware class")
        out.append(f"  2-4. archive cells: skipped, {why}")
    elif desc is not None and desc.get("index") is None:
        out.append("  2-4. archive cells: skipped, the input kind is not in the grid")
    else:
        desc = desc or {}
        filled = bool(desc.get("filled"))
        elite = ex.get("elite")
        if filled and elite is not None:
            out.append(f"  2. exact cell {desc['index']}: {evidence(elite)}  <- answers")
            decided = True
        else:
            out.append(f"  2. exact cell {desc.get('index', '?')}: empty")
            neighbours = ex.get("neighbours") or []
            radius = getattr(selection, "nearest_radius", None)
            if step in ("archive-nearest", "archive-keep-default") and neighbours:
                nb = neighbours[0]
                out.append(
                    f"  3. nearest cell within {radius:g}: {nb['index']} at distance"
                    f" {nb['distance']:.3f}: {evidence(nb)}  <- answers"
                )
                decided = True
            else:
                nearest = (
                    f"nearest {neighbours[0]['index']} at {neighbours[0]['distance']:.3f}"
                    if neighbours
                    else "no cells of this input kind"
                )
                out.append(f"  3. nearest cell within {radius:g}: none ({nearest})")
                conf = getattr(selection, "confidence_radius", None)
                if step == "archive-knn":
                    out.append(
                        f"  4. k-NN within {conf:g}: {_plural(len(neighbours), 'neighbour')},"
                        " distance weighted (sizes in log space, transferred by bytes)"
                        "  <- answers"
                    )
                    rows = [
                        [
                            str(nb["index"]),
                            f"{nb['distance']:.3f}",
                            f"{nb['weight']:.3f}" if nb.get("weight") is not None else "-",
                            _elite_text_dict(nb["elite"]),
                            f"{nb['speedup']:.2f}",
                            str(nb["n_measurements"]),
                        ]
                        for nb in neighbours
                    ]
                    out.extend(
                        _table(
                            rows,
                            ("cell", "distance", "weight", "elite B/M/T", "speedup", "n"),
                            "       ",
                        )
                    )
                    decided = True
                else:
                    out.append(f"  4. k-NN within {conf:g}: no cell that close")
    if not decided:
        rule = ex.get("heuristic") or {}
        out.append("  5. heuristic (from the profile alone)  <- answers")
        rows = [[k, f"{v:.4g}" if isinstance(v, float) else str(v)] for k, v in rule.items()]
        out.extend(_table(rows, ("", ""), "       ")[1:])
    pre = ex.get("unclamped")
    if pre:
        out.append("")
        out.append(
            f"chosen   batch_size={pre['batch_size']} micro_batch_size={pre['micro_batch_size']}"
            f" threads={pre['threads']}"
        )
    clamped = ex.get("clamped") or []
    out.append(
        "clamped  "
        + ("; ".join(clamped) + " (fitted to the call)" if clamped else "nothing to fit")
    )
    c = ex["config"]
    out.append(
        f"final    batch_size={c['batch_size']} micro_batch_size={c['micro_batch_size']}"
        f" threads={c['threads']} (source: {c['source']})"
    )
    return out


def _elite_text_dict(elite: Any) -> str:
    if isinstance(elite, dict):
        return f"{elite['batch_size']}/{elite['micro_batch_size']}/{elite['threads']}"
    return str(elite)


def cmd_archive_explain(args: argparse.Namespace) -> int:
    from .selector import Selector

    validator = _make_validator(args)
    data = open_data(args.data, args.input_kind)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex = validator.explain(data.source, input_kind=data.kind)
    except InputError as exc:
        raise CliError(f"{data.name}: {_one_line(exc)}") from None
    if args.format == "json":
        print(json.dumps(ex, indent=2, default=str))
        return 0
    archive = Selector.shared(args.archive).archive
    selection = archive.selection if archive is not None else None
    grid = archive.grid if archive is not None else None
    print(f"explain: {data.name} against {args.schema}")
    print("\n".join(_explain_lines(ex, selection, grid)))
    return 0


# -- archive plot ---------------------------------------------------------------------------------


def cmd_archive_plot(args: argparse.Namespace) -> int:
    _origin, location = _resolve_archive(args.path)
    archive = _load(location)
    try:
        from .tuning import plot
    except ImportError as exc:
        if getattr(exc, "name", None) == "matplotlib" or "matplotlib" in str(exc):
            raise CliError(_NO_MATPLOTLIB) from None
        raise CliError(f"plotting is not available in this build: {_one_line(exc)}") from None
    try:
        plot.plot_archive(archive, args.output)
    except ImportError as exc:
        if getattr(exc, "name", "") and str(getattr(exc, "name", "")).startswith("matplotlib"):
            raise CliError(_NO_MATPLOTLIB) from None
        raise
    print(f"wrote {args.output} ({location}, {len(archive.cells)} cells)")
    return 0


_NO_MATPLOTLIB = (
    "archive plot needs matplotlib, which is not installed;"
    " install the extra: pip install 'satya-adapt[plot]'"
)


# -- archive refresh / merge ----------------------------------------------------------------------


def _command_line(argv: Sequence[str]) -> str:
    return shlex.join([PROG, *argv])


def cmd_archive_refresh(args: argparse.Namespace) -> int:
    from .tuning import maintenance

    if args.rounds < 1:
        raise CliError("--rounds must be at least 1")
    if args.records is not None and args.records < 1:
        raise CliError("--records must be at least 1")
    out = args.output or args.path
    archive = _load(args.path)
    measured = sum(1 for c in archive.cells if not c.keep_default)
    print(
        f"refreshing {args.path}: {len(archive.cells)} cells, {measured} elites to re-measure"
        f" against the default configuration ({args.rounds} rounds each"
        + (f", {_int(args.records)} records" if args.records else "")
        + ")"
    )
    sys.stdout.flush()

    def on_cell(i: int, total: int, cell: Any) -> None:
        if not cell.keep_default:
            print(
                f"[{i + 1}/{total}] cell {list(cell.index)} {cell.profile.input_kind}:"
                f" measuring elite {_elite_text(cell.elite)} ...",
                flush=True,
            )

    def on_result(r: Any) -> None:
        if r.action != "keep_default":
            print(f"      {r.describe()}", flush=True)

    report = maintenance.refresh_archive(
        archive,
        records=args.records,
        rounds=args.rounds,
        min_speedup=args.min_speedup,
        seed=args.seed,
        command=_command_line(args.argv),
        on_cell=on_cell,
        on_result=on_result,
    )
    from .archive import write_archive

    write_archive(report.archive, out)
    print()
    print(f"changes: {report.change.summary}")
    keep = report.count("keep_default")
    if keep:
        print(
            f"         {_plural(keep, 'cell')} already {'keeps' if keep == 1 else 'keep'}"
            " the default: nothing to re-measure"
        )
    print(f"wrote {out} (history: {len(report.archive.history)} entries)")
    return 0


def cmd_archive_merge(args: argparse.Namespace) -> int:
    from .tuning import maintenance

    report = maintenance.merge_files(args.a, args.b, args.output, command=_command_line(args.argv))
    print(report.change.summary)
    rows = [
        [
            str(list(c.index)),
            c.profile.input_kind,
            _elite_text(c.elite),
            f"{c.speedup_ci_low:.2f}",
            str(c.n_measurements),
            report.origins[tuple(c.index)]
            .replace("a", "A")
            .replace("b", "B")
            .replace("over", "over"),
        ]
        for c in report.archive.cells
    ]
    if rows:
        print(
            "\n".join(_table(rows, ("cell", "input", "elite B/M/T", "CI low", "n", "from"), "  "))
        )
    print(f"wrote {args.output}")
    return 0


# -- optimize -------------------------------------------------------------------------------------


def cmd_optimize(argv: Sequence[str]) -> int:
    try:
        from .tuning import optimizer
    except ImportError as exc:
        if getattr(exc, "name", None) == "satya_adapt.tuning.optimizer":
            raise CliError(
                "the optimizer is not available in this build (satya_adapt.tuning.optimizer is missing)"
            ) from None
        raise CliError(f"the optimizer cannot be loaded: {_one_line(exc)}") from None
    result: int = optimizer.main(list(argv), prog=f"{PROG} optimize")
    return result


# -- the parser -----------------------------------------------------------------------------------

_FMT = argparse.RawDescriptionHelpFormatter


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``satya-adapt: error: ...``."""

    def error(self, message: str) -> Any:
        where = self.prog[len(PROG) :].strip()
        prefix = f"{where}: " if where else ""
        self.exit(2, f"{PROG}: error: {prefix}{message} (see '{self.prog} --help')\n")


_MAIN_EPILOG = """\
examples:
  satya-adapt demo
  satya-adapt validate records.ndjson --schema schema.json
  satya-adapt archive show
  satya-adapt archive explain --schema schema.json records.ndjson

exit codes: 0 success (validate: all records valid), 1 some records invalid,
2 usage, schema or input errors, 130 interrupted.
"""

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

_DEMO_EPILOG = """\
Generates records for a few profiles (plain, constrained, wide, nested; as
dicts, a JSON array and NDJSON), validates them with the configuration
chosen adaptively and with the default configuration, interleaved, and
prints the medians. Uses the archive in use (--archive, else
$SATYA_ADAPT_ARCHIVE, else the shipped one).

examples:
  satya-adapt demo
  satya-adapt demo --records 50000 --rounds 7
  satya-adapt demo --profiles mixed10,wide30 --format json
"""

_ARCHIVE_EPILOG = """\
PATH defaults to the archive in use: $SATYA_ADAPT_ARCHIVE when set, else
the archive shipped with the package.

examples:
  satya-adapt archive show
  satya-adapt archive explain --schema schema.json records.ndjson
  satya-adapt archive plot -o archive.png
  satya-adapt archive refresh archives/default.json
  satya-adapt archive merge a.json b.json -o merged.json
"""

_SHOW_EPILOG = """\
Prints the provenance (machine, versions, search), whether it matches this
machine, the grid, coverage, a table of cells and their elites (B/M/T:
batch_size/micro_batch_size/threads; speedup over the default
configuration with its confidence interval; n: measurements), and history.

examples:
  satya-adapt archive show
  satya-adapt archive show archives/default.json --format json
"""

_EXPLAIN_EPILOG = """\
Detects DATA's profile from a sample (as a validate call would), finds its
cell, and walks the selection steps: explicit arguments, exact cell,
nearest cell, k-NN interpolation, heuristic; then clamps to the call.

examples:
  satya-adapt archive explain --schema user.schema.json users.ndjson
  satya-adapt archive explain --schema s.json data.json --archive my.json --format json
"""

_PLOT_EPILOG = """\
Heat maps of the speedup over the default configuration and of the elites'
batch sizes over the grid. Needs matplotlib: pip install 'satya-adapt[plot]'.

examples:
  satya-adapt archive plot -o archive.png
  satya-adapt archive plot archives/default.json -o default.png
"""

_REFRESH_EPILOG = """\
Re-measures every elite against the default configuration on this machine
and build, on data regenerated for its cell (from the workload stored with
the cell, else from the cell's profile). An elite whose lower confidence
bound of the speedup is <= --min-speedup is demoted (the cell keeps the
default). The changes are printed and recorded in the file's history; the
file is written atomically (an interrupted refresh leaves it untouched).

examples:
  satya-adapt archive refresh archives/default.json
  satya-adapt archive refresh my.json -o refreshed.json --records 5000 --rounds 5
"""

_MERGE_EPILOG = """\
Both archives must share the grid and the hardware class. Per cell, the
better-evidenced one is kept: the higher lower confidence bound of the
speedup over the default, then more measurements, then A's. Written
atomically.

examples:
  satya-adapt archive merge a.json b.json -o merged.json
"""

_OPTIMIZE_HELP = (
    "run the MAP-Elites optimizer (the flags of benchmarks/map_elites_optimizer.py;"
    " see `satya-adapt optimize --help`)"
)


def _add_archive_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--archive",
        metavar="PATH",
        default=None,
        help="archive to select configurations from (default: $SATYA_ADAPT_ARCHIVE, else the"
        " shipped archive)",
    )


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )






def build_parser() -> argparse.ArgumentParser:
    """The parser of ``satya-adapt`` (``optimize`` is dispatched before it, see :func:`main`)."""
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="Validate records fast, with batch sizes chosen per call, and look after"
        " the archive those choices come from.",
        epilog=_MAIN_EPILOG,
        formatter_class=_FMT,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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

    p = sub.add_parser(
        "demo",
        help="validate generated records adaptively and with the default configuration",
        description="Show what adaptive batch configurations do on generated records.",
        epilog=_DEMO_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument(
        "--records", type=positive_int, default=20000, help="records per profile (default 20000)"
    )
    p.add_argument(
        "--rounds", type=positive_int, default=7, help="interleaved timed rounds (default 7)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated records")
    p.add_argument(
        "--profiles",
        default=None,
        metavar="NAMES",
        help="comma-separated profiles (plain3, constrained3, mixed10, wide30, nested)",
    )
    _add_archive_option(p)
    _add_format(p)
    p.set_defaults(func=cmd_demo)

    pa = sub.add_parser(
        "archive",
        help="show, explain, plot, refresh and merge archives",
        description="Look at and look after archives of elite batch configurations.",
        epilog=_ARCHIVE_EPILOG,
        formatter_class=_FMT,
    )
    asub = pa.add_subparsers(dest="archive_command", metavar="ACTION", parser_class=_Parser)
    pa.set_defaults(func=lambda args: _missing_action(pa))

    p = asub.add_parser(
        "show",
        help="provenance, coverage, cells and history of an archive",
        description="Print an archive: provenance, coverage, cells and elites, history.",
        epilog=_SHOW_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument("path", metavar="PATH", nargs="?", help="archive file (default: in use)")
    _add_format(p)
    p.set_defaults(func=cmd_archive_show)

    p = asub.add_parser(
        "explain",
        help="how a configuration is chosen for DATA, step by step",
        description="Explain how the configuration for validating DATA is chosen.",
        epilog=_EXPLAIN_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument("data", metavar="DATA", help="NDJSON or JSON-array file, or - for stdin")
    p.add_argument("--schema", required=True, metavar="SCHEMA.json", help="JSON Schema file")
    p.add_argument(
        "--input-kind",
        choices=("auto", "json", "ndjson"),
        default="auto",
        help="how to read DATA (default auto)",
    )
    _add_archive_option(p)
    _add_format(p)
    p.set_defaults(func=cmd_archive_explain)

    p = asub.add_parser(
        "plot",
        help="heat maps of speedup and elite batch sizes over the grid",
        description="Plot an archive as heat maps (PNG, SVG or PDF, by the file name).",
        epilog=_PLOT_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument("path", metavar="PATH", nargs="?", help="archive file (default: in use)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="image to write")
    p.set_defaults(func=cmd_archive_plot)

    p = asub.add_parser(
        "refresh",
        help="re-measure every elite here; demote those that no longer win",
        description="Re-measure an archive's elites on this machine and build.",
        epilog=_REFRESH_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument("path", metavar="PATH", help="archive file to refresh")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        default=None,
        help="write the refreshed archive here (default: PATH itself)",
    )
    p.add_argument(
        "--records",
        type=positive_int,
        default=None,
        metavar="N",
        help="records per measured call (default: the cell's own size, else the archive's"
        " test size)",
    )
    p.add_argument("--rounds", type=positive_int, default=9, help="paired rounds per cell (default 9)")
    p.add_argument(
        "--min-speedup",
        type=float,
        default=1.03,
        metavar="X",
        help="an elite stays when the lower bound of its speedup exceeds X (default 1.03)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the regenerated records")
    p.set_defaults(func=cmd_archive_refresh)

    p = asub.add_parser(
        "merge",
        help="merge two archives, keeping the better-evidenced elite per cell",
        description="Merge archive B into archive A cell by cell.",
        epilog=_MERGE_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument("a", metavar="A", help="first archive (its provenance and settings are kept)")
    p.add_argument("b", metavar="B", help="second archive")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="merged archive to write")
    p.set_defaults(func=cmd_archive_merge)

    sub.add_parser("optimize", help=_OPTIMIZE_HELP, add_help=False)
    return parser


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.error("choose an action: show, explain, plot, refresh or merge")
    return 2


# -- main -----------------------------------------------------------------------------------------


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(
        f"{PROG}: warning: {_one_line(message) if isinstance(message, BaseException) else message}",
        file=sys.stderr,
    )


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``satya-adapt`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        previous = None
    try:
        if args_list and args_list[0] == "optimize":
            return cmd_optimize(args_list[1:])
        parser = build_parser()
        args = parser.parse_args(args_list)
        args.argv = args_list
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return 2
        code: int = func(args)
        return code
    except KeyboardInterrupt:
        return 130
    except _Terminated:
        return 143
    except BrokenPipeError:
        # The reader went away (say, `| head`): stop quietly, as shell tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 141
    except CliError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: error: {_os_error_text(exc)}", file=sys.stderr)
        return 2
    except (SatyaAdaptError, ValueError) as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            try:
                signal.signal(signal.SIGTERM, previous)
            except (ValueError, OSError):
                pass


if __name__ == "__main__":
    sys.exit(main())
