"""The ``satya-adapt`` command line: validate files, a demo, and the archive's jobs.

A thin layer: every command parses its arguments, calls library code (:class:`Validator`,
:mod:`satya_adapt.archive`, :mod:`satya_adapt.selector`, :mod:`satya_adapt.tuning.maintenance`,
:mod:`satya_adapt.tuning.optimizer`, :mod:`satya_adapt.tuning.plot`) and prints. This module
holds :func:`main` and the top-level parser; each command lives in its own module
(``validate``, ``demo``, ``archive``, ``optimize``), which adds its parser and runs it;
``_common`` and ``_input`` hold what they share. Nothing in the library imports this package.

Exit codes: 0 success (``validate``: every record valid), 1 ``validate`` found invalid records,
2 usage errors, schema errors, unreadable input or archives, unwritable output (a full disk),
130 interrupted (Ctrl-C), 141 standard output closed early (``| head``), 143 terminated
(SIGTERM). Errors are one line on standard error, ``satya-adapt: error: ...``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import SatyaAdaptError
from . import archive, demo, optimize, validate
from ._common import (
    _FMT,
    PROG,
    CliError,
    OutputError,
    Stdout,
    _one_line,
    _os_error_text,
    _Parser,
    _Terminated,
    _unrecognized,
)

__all__ = ["build_parser", "main"]

_MAIN_EPILOG = """\
examples:
  satya-adapt demo
  satya-adapt validate records.ndjson --schema schema.json
  satya-adapt archive show
  satya-adapt archive explain --schema schema.json records.ndjson

exit codes: 0 success (validate: all records valid), 1 some records invalid,
2 usage, schema, input or output errors, 130 interrupted (Ctrl-C), 141 output closed
early (| head), 143 terminated (SIGTERM).
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``satya-adapt`` (``optimize`` is dispatched before it, see :func:`main`)."""
    from .. import __version__

    parser = _Parser(
        prog=PROG,
        description="Validate records fast, with batch sizes chosen per call, and look after"
        " the archive those choices come from.",
        epilog=_MAIN_EPILOG,
        formatter_class=_FMT,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    validate.register(sub)
    demo.register(sub)
    archive.register(sub)
    optimize.register(sub)
    return parser


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The parser of the (sub)command ``args`` chose: ``satya-adapt archive show``'s for
    ``archive show ...``, the top-level one when none was chosen."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return _command_parser(action.choices[name], args)
    return parser


# -- main --------------------------------------------------------------------------------------


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(
        f"{PROG}: warning: {_one_line(message) if isinstance(message, BaseException) else message}",
        file=sys.stderr,
    )


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def _flush() -> None:
    """Writes what standard output holds now, not as Python exits: a full disk is then an
    error line and exit code 2, not "Exception ignored" and exit code 120 after the command
    said nothing."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _drop_stdout() -> None:
    """What standard output still holds goes nowhere: Python, as it exits, would write it
    again and fail again ("Exception ignored", exit code 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _run(args_list: list[str]) -> int:
    """Parses ``args_list`` and runs the command it names; the exit code."""
    if args_list and args_list[0] == "optimize":
        return optimize.cmd_optimize(args_list[1:])
    parser = build_parser()
    args, extra = parser.parse_known_args(args_list)
    if extra:
        command = _command_parser(parser, args)
        command.error(_unrecognized(command, extra))
    args.argv = args_list
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    code: int = func(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``satya-adapt`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        previous = None
    stdout = sys.stdout
    if stdout is not None:
        sys.stdout = Stdout(stdout)
    try:
        try:
            code = _run(args_list)
        except SystemExit:
            _flush()  # what argparse wrote (--help, --version)
            raise
        _flush()
        return code
    except KeyboardInterrupt:
        return 130
    except _Terminated:
        return 143
    except BrokenPipeError:
        # The reader went away (say, `| head`): stop quietly, as shell tools do.
        _drop_stdout()
        return 141
    except OutputError as exc:
        _drop_stdout()
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
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
        sys.stdout = stdout
        if previous is not None:
            try:
                signal.signal(signal.SIGTERM, previous)
            except (ValueError, OSError):
                pass
