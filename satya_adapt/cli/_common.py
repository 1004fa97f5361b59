"""What the commands share: errors and exit codes, the parser class and common options,
formatting helpers, the progress bar, and which archive a command uses."""

from __future__ import annotations

import argparse
import difflib
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from typing import IO, Any, Callable

PROG = "satya-adapt"


class CliError(Exception):
    """A problem the user can fix, reported as one line (exit code 2)."""


class _Terminated(BaseException):
    """Raised by the SIGTERM handler, so that ``finally`` blocks and atomic writes clean up."""


class OutputError(CliError):
    """Standard output cannot be written: a full disk, ``> /dev/full`` (exit code 2)."""


class Stdout:
    """Standard output for a command: what it fails to write (a full disk, ``> /dev/full``) is
    an :class:`OutputError` that names it, "cannot write to standard output: No space left on
    device", not an ``OSError`` with no file name (or, once Python exited, "Exception ignored"
    and exit code 120). A closed pipe stays ``BrokenPipeError`` (exit code 141, quietly). Not an
    ``OSError``, argparse lets it out of ``--help`` too (it drops those)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> Any:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _unwritable(exc: OSError) -> OutputError:
    return OutputError(f"cannot write to standard output: {exc.strerror or _one_line(exc)}")


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


#: Control characters but line breaks and tabs, shown escaped (``\x1b``) in reports.
CONTROLS = {
    c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)
}
#: Every control character, shown escaped: for one line or cell of a report.
ALL_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}


def _as_text(text: str) -> str:
    """Text from the data (a key in a path, a message that quotes it, a file name) as one
    line of text, never as terminal controls: an escape sequence in a key reached the
    terminal through `validate`'s report."""
    return text.translate(ALL_CONTROLS)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str], indent: str = "") -> list[str]:
    """Left-aligned text columns, two spaces apart; each cell on one line, without
    terminal controls (see :func:`_as_text`)."""
    rows = [[_as_text(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    out = [indent + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for row in rows:
        out.append(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return out


def _warn(message: str) -> None:
    """One ``satya-adapt: warning: ...`` line on standard error (the command goes on)."""
    print(f"{PROG}: warning: {_as_text(message)}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, without terminal controls (a file name may hold
    them)."""
    text = str(exc).strip() or type(exc).__name__
    return _as_text(" ".join(text.split()))


def _os_error_text(exc: OSError, what: str = "") -> str:
    name = exc.filename if exc.filename is not None else what
    reason = exc.strerror or _one_line(exc)
    return _as_text(f"{name}: {reason}" if name else reason)


# -- progress bar ------------------------------------------------------------------------------


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
    most every ``interval`` seconds; erased by :meth:`close`, or left finished by :meth:`finish`.
    ``total`` is the expected number of records when known; when ``estimated`` it is shown as
    ``~`` and the bar stops at 99% until :meth:`finish` gives the real count.
    """

    def __init__(
        self,
        stream: IO[str],
        total: int | None,
        *,
        estimated: bool = True,
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
        self.estimated = estimated
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
            frac = min(done / self.total, 0.99 if self.estimated else 1.0)
            eta = ""
            if rate > 0 and self.total > done:
                eta = f"  ETA {_clock((self.total - done) / rate)}"
            filled = int(frac * _BAR_WIDTH)
            line = (
                f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {frac * 100:3.0f}%"
                f"  {_int(done)}/{'~' if self.estimated else ''}{_int(self.total)}  {speed}{eta}"
            )
        else:
            line = f"{_int(done)} records  {speed}  {_clock(elapsed)}"
        return line[: max(1, width - 1)]

    def finish(self, done: int) -> None:
        """Ends a drawn bar at 100% with the real count ``done`` and leaves it on its line."""
        if not self.drawn:
            return
        self.total, self.estimated = done, False
        self.stream.write("\r" + self.line(done, self.clock() - self.start) + "\x1b[K\n")
        self.stream.flush()
        self.drawn = False

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


# -- the parser --------------------------------------------------------------------------------

_FMT = argparse.RawDescriptionHelpFormatter


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``satya-adapt: error: ...``. It
    takes no abbreviations (``--err 3`` is not ``--errors 3``): a prefix is refused with the
    closest option named, so adding an option never changes what an old command line means."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._words: list[str] = []

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        # (the words parsed, for the hint of `error`; a subcommand's parser gets its own)
        words = args[0] if args else kwargs.get("args")
        self._words = [w for w in (sys.argv[1:] if words is None else words) if isinstance(w, str)]
        return super().parse_known_args(*args, **kwargs)

    def error(self, message: str) -> Any:
        where = self.prog[len(PROG) :].strip()
        prefix = f"{where}: " if where else ""
        hint = _dash_hint(self, self._words)
        self.exit(2, f"{PROG}: error: {prefix}{message}{hint} (see '{self.prog} --help')\n")


def _dash_hint(parser: argparse.ArgumentParser, words: list[str]) -> str:
    """For a file whose name starts with ``-`` (``-dash.ndjson``), which argparse reads as an
    option (so DATA was missing, or an option had no value): how to name it. ``""`` when no
    word before ``--`` is such a file."""
    for i, word in enumerate(words):
        if word == "--":
            break
        if word == "-" or not word.startswith("-") or not os.path.lexists(word):
            continue
        if word.split("=", 1)[0] in parser._option_string_actions:
            continue  # (a file named like an option is that option)
        before = parser._option_string_actions.get(words[i - 1]) if i else None
        if before is not None and before.nargs != 0:  # the value of an option (--schema -s.json)
            return f"; {word} is read as an option: name the file ./{word}"
        return f"; {word} is read as an option: name the file ./{word}, or put it last, after --"
    return ""


def _unrecognized(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """The usage error for arguments the command does not take, with the options a mistyped
    or abbreviated one may mean: those it begins (``--gen`` -> ``--generations``, at most 3),
    else the closest (``--erors`` -> ``--errors``)."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    options = sorted(o for o in parser._option_string_actions if o.startswith("--"))
    for word in extra:
        if word.startswith("--") and len(word) > 2:
            name = word.split("=")[0]
            close = [o for o in options if o.startswith(name)][:3]
            close = close or difflib.get_close_matches(name, options, n=1, cutoff=0.7)
            if close:
                return f"{message}; did you mean {' or '.join(close)}?"
    return message


def _dangling(path: str) -> str | None:
    """Why the symbolic link ``path`` leads to no file (``None`` if it now does)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return f"{path!r} is a symbolic link to {os.readlink(path)!r}, which does not exist"
    except OSError as exc:
        return f"{path!r}: {exc.strerror or exc}"
    return None


def _existing_file(text: str) -> str:
    """An ``--archive PATH`` that exists: a mistyped path is a usage error (exit 2), not a
    fallback to the heuristic with a warning."""
    if not os.path.exists(text):
        # (a symbolic link that leads nowhere, or round in a loop, exists as a link)
        reason = _dangling(text) if os.path.lexists(text) else None
        raise argparse.ArgumentTypeError(reason or f"no such file: {text!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not an archive file")
    return text


def _add_archive_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--archive",
        metavar="PATH",
        type=_existing_file,
        default=None,
        help="archive to select configurations from (default: $SATYA_ADAPT_ARCHIVE, else the"
        " shipped archive)",
    )


def _add_schema_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--schema",
        required=True,
        metavar="SCHEMA.json",
        help="JSON Schema file (a relative `$ref`, such as b.json#/$defs/x, reads the file under"
        " the schema's folder)",
    )
    p.add_argument(
        "--draft",
        choices=("4", "6", "7", "2019-09", "2020-12"),
        help="read the schema as this JSON Schema draft (default: the draft its `$schema` names,"
        " else 2020-12)",
    )


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )


# -- the archive in use ------------------------------------------------------------------------


def _archive_state(archive: str | None) -> dict[str, Any]:
    """Which archive a validator with ``archive=`` uses, and its state (reads it once; a
    missing, corrupt or untrusted archive is reported by one ``satya-adapt: warning:`` line)."""
    from ..selector import Selector

    selector = Selector.shared(archive)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = selector.status  # reads the archive: its state warns here, once
    info: dict[str, Any] = {
        "location": selector.location,
        "origin": selector.origin,
        "status": status,
        "trust": selector.trust,
        "reasons": selector.reasons,
        "cells": 0 if selector.archive is None else len(selector.archive.cells),
    }
    if info["trust"] not in ("untrusted", "adapted"):
        # A missing or corrupt archive stays a warning line. Another hardware class is no
        # problem to act on: the report's archive line says it, with its reasons.
        for w in caught:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return info


def _archive_text(info: dict[str, Any]) -> str:
    status = info["status"]
    text = f"{info['location']} ({info['origin']}"
    if status == "ok":
        reasons = info.get("reasons") or []
        why = f" ({'; '.join(reasons)})" if reasons else ""
        trust = {
            "full": "measured on this hardware class",
            "adapted": f"measured on a similar machine{why}, threads adapted",
            "untrusted": f"measured on another hardware class{why}: not used, the heuristic answers",
        }.get(info["trust"] or "", str(info["trust"]))
        return f"{text}; {info['cells']} cells, {trust})"
    if status == "empty":
        return f"{text}; no cells yet: the heuristic answers)"
    if status == "missing":
        return f"{text}; not found: the heuristic answers)"
    return f"{text}; unusable: the heuristic answers)"
