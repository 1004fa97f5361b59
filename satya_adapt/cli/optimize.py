"""``satya-adapt optimize``: the MAP-Elites optimizer. It is dispatched before the parser
(its flags are those of ``benchmarks/map_elites_optimizer.py``, parsed by the optimizer)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._common import PROG, CliError, _one_line, _Parser

_OPTIMIZE_HELP = (
    "run the MAP-Elites optimizer (the flags of benchmarks/map_elites_optimizer.py;"
    " see `satya-adapt optimize --help`)"
)


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
    result: int = optimizer.main(list(argv), prog=f"{PROG} optimize")
    return result
