"""``satya-adapt optimize``: the MAP-Elites optimizer. It is dispatched before the parser
(its flags are those of ``benchmarks/map_elites_optimizer.py``, parsed by the optimizer's own
parser). Unlike that repository script, the command writes by default under the user's data
folder (:func:`data_dir`), never into the current folder's ``benchmarks/``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from ._common import PROG, CliError, _one_line, _Parser, _unrecognized

_OPTIMIZE_HELP = (
    "search, with MAP-Elites, the fastest batch configurations on this machine and write them"
    " to an archive (see `satya-adapt optimize --help`)"
)

#: The files ``satya-adapt optimize`` writes when ``--archive``/``--results`` are not given.
ARCHIVE_NAME = "optimizer_archive.json"
RESULTS_NAME = "optimizer_results.json"


def data_dir() -> Path:
    """Where the command line keeps what it makes: ``$XDG_DATA_HOME/satya-adapt``, else
    ``~/.local/share/satya-adapt`` (``%LOCALAPPDATA%\\satya-adapt`` on Windows,
    ``~/Library/Application Support/satya-adapt`` on macOS)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "satya-adapt"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "satya-adapt"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "satya-adapt"
    return Path.home() / ".local" / "share" / "satya-adapt"


def register(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Adds the command to the top-level parser's subcommands."""
    sub.add_parser("optimize", help=_OPTIMIZE_HELP, add_help=False)


def cmd_optimize(argv: Sequence[str]) -> int:
    try:
        from ..tuning import optimizer
    except ImportError as exc:
        if getattr(exc, "name", None) == "satya_adapt.tuning.optimizer":
            raise CliError(
                "the optimizer is not available in this build (satya_adapt.tuning.optimizer is missing)"
            ) from None
        raise CliError(f"the optimizer cannot be loaded: {_one_line(exc)}") from None
    from ..errors import ArchiveError

    prog = f"{PROG} optimize"
    parser = optimizer.build_parser(prog)
    home = data_dir()
    for action in parser._actions:
        if action.dest in ("archive", "results"):
            name = ARCHIVE_NAME if action.dest == "archive" else RESULTS_NAME
            action.default = str(home / name)
            what = "archive to write, resumed when it exists" if action.dest == "archive" else (
                "results JSON to write"
            )
            action.help = f"{what} (default {_shown(home / name)})"
    parser.epilog = (parser.epilog or "").replace(
        "benchmarks/map_elites_archive.json", "my-archive.json"
    ).replace("benchmarks/map_elites_results.json", "my-results.json")
    def one_line_error(message: str) -> None:
        # As every other command says a usage error (the optimizer's own parser printed
        # its usage block first).
        parser.exit(2, f"{PROG}: error: optimize: {message} (see '{prog} --help')\n")

    parser.error = one_line_error  # type: ignore[assignment, method-assign]
    args, extra = parser.parse_known_args(list(argv))
    if extra:  # one line with the closest option, as every other command says it
        raise CliError(f"optimize: {_unrecognized(parser, extra)} (see '{prog} --help')")
    settings = optimizer.settings_from_args(args, f"{prog} {shlex.join(argv)}".rstrip())
    try:
        result: int = optimizer.run(settings)
    except ArchiveError as exc:
        raise CliError(_one_line(exc)) from None
    return result


def _shown(path: Path) -> str:
    """``path`` with the home folder written ``~`` (help text is the same for every user)."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)
