"""``satya-adapt archive show|explain|plot|refresh|merge``: look at and look after archives."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .._argtypes import positive_int
from ..config import SHIP_THRESHOLD
from ..errors import InputError
from ._common import (
    _FMT,
    CONTROLS,
    PROG,
    CliError,
    _add_archive_option,
    _add_format,
    _add_schema_option,
    _bytes,
    _int,
    _one_line,
    _Parser,
    _plural,
    _rate,
    _seconds,
    _table,
)
from ._input import _make_validator, add_pointer_option, open_data
from .validate import _max_pause, _memory_budget

_ARCHIVE_EPILOG = """\
PATH defaults to the archive in use: $SATYA_ADAPT_ARCHIVE when set, else
the archive shipped with the package.

examples:
  satya-adapt archive show
  satya-adapt archive explain --schema schema.json records.ndjson
  satya-adapt archive plot -o archive.png
  satya-adapt archive refresh my-archive.json
  satya-adapt archive merge a.json b.json -o merged.json
"""


_SHOW_EPILOG = """\
Prints the provenance (machine, versions, search), whether it matches this
machine, the grid, coverage, a table of cells and their elites (B/M/T:
batch_size/micro_batch_size/threads; speedup over the default
configuration with its confidence interval; n: measurements), and history.

examples:
  satya-adapt archive show
  satya-adapt archive show my-archive.json --format json
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
  satya-adapt archive plot my-archive.json -o my-archive.png
"""


_REFRESH_EPILOG = """\
Re-measures every elite against the default configuration on this machine
and build, on data regenerated for its cell (from the workload stored with
the cell, else from the cell's profile). An elite whose lower confidence
bound of the speedup is <= --min-speedup is demoted (the cell keeps the
default). The changes are printed and recorded in the file's history; the
file is written atomically (an interrupted refresh leaves it untouched).

examples:
  satya-adapt archive refresh my-archive.json
  satya-adapt archive refresh my.json -o refreshed.json --records 5000 --rounds 5
"""


_MERGE_EPILOG = """\
Both archives must share the grid and the hardware class. Per cell, the
better-evidenced one is kept: the higher lower confidence bound of the
speedup over the default, then more measurements, then A's. Written
atomically.

With an online cache (A is the file live verification writes, e.g.
~/.cache/satya-adapt/online.json), its entries measured on the archive's
hardware are folded into --into ARCHIVE (default: the archive in use, but the
shipped one only with -o OUT), written to -o OUT or the archive itself (not
when nothing changed): a learned configuration becomes a cell's elite when the
lower bound of its throughput ratio over the default clears the bar of every
elite (1.03) and that cell is empty or its own lower bound is lower. The
change is recorded in the archive's history.

examples:
  satya-adapt archive merge a.json b.json -o merged.json
  satya-adapt archive merge ~/.cache/satya-adapt/online.json --into my.json
"""


def _speedup_text(c: Any) -> str:
    """A cell's speedup with its interval; in parentheses for a cell that keeps the default,
    whose stored speedup is the best candidate's, which was not kept (not a gain)."""
    text = f"{c.speedup:.2f} [{c.speedup_ci_low:.2f}, {c.speedup_ci_high:.2f}]"
    return f"({text})" if c.keep_default else text


def register(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Adds the command to the top-level parser's subcommands."""
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
    _add_schema_option(p)
    p.add_argument(
        "--input-kind",
        choices=("auto", "json", "ndjson", "document"),
        default="auto",
        help="how to read DATA (default auto; document: DATA is one record, as for validate)",
    )
    add_pointer_option(p)
    p.add_argument(
        "--memory-budget",
        type=_memory_budget,
        metavar="BYTES",
        help="explain the choice under this memory budget (e.g. 64MiB), as validate's option",
    )
    p.add_argument(
        "--max-pause",
        type=_max_pause,
        metavar="TIME",
        help="explain the choice under this pause budget (e.g. 5ms), as validate's option",
    )
    _add_archive_option(p)
    _add_format(p)
    p.set_defaults(func=cmd_archive_explain)

    p = asub.add_parser(
        "plot",
        help="heat maps of speedup and elite batch sizes over the grid",
        description=(
            "Plot an archive as heat maps (PNG, SVG or PDF, by the file name), and beside them"
            " (OUT-fronts.png) each cell's Pareto front: throughput against memory in flight."
        ),
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
        help="merge two archives, or fold an online cache into an archive",
        description="Merge archive B into archive A cell by cell, or fold an online cache"
        " (what live verification learned) into an archive.",
        epilog=_MERGE_EPILOG,
        formatter_class=_FMT,
    )
    p.add_argument(
        "a",
        metavar="A",
        help="first archive (its provenance and settings are kept), or an online cache file",
    )
    p.add_argument("b", metavar="B", nargs="?", help="second archive (not with a cache)")
    p.add_argument(
        "--into",
        metavar="ARCHIVE",
        default=None,
        help="with a cache: the archive to fold it into (default: the archive in use; the"
        " shipped one only with -o OUT)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        default=None,
        help="merged archive to write (with a cache, default: the --into archive itself)",
    )
    p.set_defaults(func=cmd_archive_merge)


def _fold_cache(args: argparse.Namespace) -> int:
    from ..tuning import online_merge

    if args.b is not None:
        raise CliError("a cache is folded into one archive: name it with `--into ARCHIVE`")
    origin, into = _resolve_archive(args.into)
    if origin == "shipped" and args.output is None:
        # (the installed package's file, or in a checkout a tracked one)
        raise CliError(
            f"the archive in use is the shipped one ({into}), which a merge does not rewrite:"
            " name the archive to fold into with `--into ARCHIVE`, or the result with `-o OUT`"
        )
    out = args.output or into
    report = online_merge.fold_cache_file(
        args.a, into, out, command=_command_line(args.argv)
    )
    print(report.change.summary)
    rows = [
        [
            str(list(c.index)),
            c.profile.input_kind,
            _elite_text(c.elite),
            f"{c.speedup:.2f} [{c.speedup_ci_low:.2f}, {c.speedup_ci_high:.2f}]",
            str(c.n_measurements),
            "added" if tuple(c.index) in report.added else "changed",
        ]
        for c in report.archive.cells
        if tuple(c.index) in report.added or tuple(c.index) in report.changed
    ]
    if rows:
        print("\n".join(_table(rows, ("cell", "input", "elite B/M/T", "ratio [CI]", "n", ""), "  ")))
    print(f"wrote {out}" if report.written else f"nothing changed: {out} left as it was")
    return 0


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.error("choose an action: show, explain, plot, refresh or merge")
    return 2


# -- helpers -----------------------------------------------------------------------------------


def _resolve_archive(path: str | None) -> tuple[str, Any]:
    from ..archive import discover_archive

    origin, location = discover_archive(path)
    return origin, location


def _load(location: Any) -> Any:
    from ..archive import load_archive

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


def _command_line(argv: Sequence[str]) -> str:
    return shlex.join([PROG, *argv])


# -- archive show ------------------------------------------------------------------------------


def cmd_archive_show(args: argparse.Namespace) -> int:
    import msgspec

    from .. import hardware
    from ..archive import cell_front, hardware_class
    from ..config import DEFAULT_CONFIGURATION

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
            "fronts": [
                {
                    "index": list(c.index),
                    "points": msgspec.to_builtins(cell_front(c, DEFAULT_CONFIGURATION[:3])),
                }
                for c in sorted(archive.cells, key=lambda c: c.index)
            ],
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
                    _speedup_text(c),
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
        if any(c.keep_default for c in archive.cells):
            out.append(
                "  keep_default: (in parentheses) the best candidate's speedup, not kept (its lower"
                f" bound is not above {SHIP_THRESHOLD:g}); the cell runs the default configuration"
            )
    fronts = [(c, cell_front(c, DEFAULT_CONFIGURATION[:3])) for c in archive.cells]
    if any(len(points) > 1 for _, points in fronts):
        out.append("fronts       non-dominated configurations per cell (* the cell's elite)")
        rows = []
        for c, points in sorted(fronts, key=lambda item: item[0].index):
            for i, pt in enumerate(points):
                b, m, t = pt.config.batch_size, pt.config.micro_batch_size, pt.config.threads
                elite = (pt.default and c.keep_default) or (
                    not c.keep_default and c.elite == pt.config and not pt.default
                )
                rows.append(
                    [
                        str(list(c.index)) if i == 0 else "",
                        f"{b}/{m}/{t}{' (default)' if pt.default else ''}{' *' if elite else ''}",
                        f"{pt.speedup:.2f} [{pt.speedup_ci_low:.2f}, {pt.speedup_ci_high:.2f}]",
                        _bytes(pt.peak_bytes),
                        "-" if pt.max_gil_hold is None else _seconds(pt.max_gil_hold),
                    ]
                )
        out.extend(
            _table(rows, ("index", "B/M/T", "speedup [CI]", "peak", "longest GIL hold"), "  ")
        )
    out.append("history")
    if not archive.history:
        out.append("  (none)")
    for h in archive.history:
        counts = f"+{h.cells_added} ~{h.cells_changed} -{h.cells_dropped}"
        out.append(f"  {h.date.isoformat()}  {h.action:<9} {counts:<10} {h.summary}")
        if h.command:
            out.append(f"  {'':<25}  {'':<9} {'':<10} command: {h.command}")
    # The file's strings (tool, note, commands, summaries) as text, never as terminal
    # controls: an escape sequence in `provenance.tool` reached the terminal.
    print("\n".join(out).translate(CONTROLS))
    return 0




# -- archive explain ---------------------------------------------------------------------------


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
            estimated = bool(p.get("n_estimated"))
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
        if e["elite"] == "keep_default":
            # The speedup stored is the best candidate's, which was not kept: not a gain.
            return (
                f"keep the default configuration ({e['n_measurements']} measurements): the best"
                f" candidate was not kept, its speedup interval [{lo:.2f}, {hi:.2f}] does not"
                f" clear the bar (lower bound above {SHIP_THRESHOLD:g})"
            )
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
        # A value of None (no reason to stay on one thread) is no line, not "None".
        rows = [
            [k, f"{v:.4g}" if isinstance(v, float) else str(v)]
            for k, v in rule.items()
            if v is not None
        ]
        out.extend(_table(rows, ("", ""), "       ")[1:])
    out.extend(_front_lines(ex))
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


def _front_lines(ex: dict[str, Any]) -> list[str]:
    """The answering cell's front, the chosen point marked, why it was chosen, and what the
    budgets (when given) predict and cut."""
    out: list[str] = []
    front = ex.get("front") or []
    budget = ex.get("budget")
    if front:
        out.append("")
        out.append(f"front    {_plural(len(front), 'point')} of the cell (* chosen)")
        rows = [
            [
                f"{p['batch_size']}/{p['micro_batch_size']}/{p['threads']}"
                + (" (default)" if p["default"] else "")
                + (" *" if p["chosen"] else ""),
                f"{p['speedup']:.2f} [{p['speedup_ci'][0]:.2f}, {p['speedup_ci'][1]:.2f}]",
                _bytes(p["peak_bytes"]),
                "-" if p["max_gil_hold"] is None else _seconds(p["max_gil_hold"]),
            ]
            for p in front
        ]
        out.extend(_table(rows, ("B/M/T", "speedup [CI]", "peak", "longest GIL hold"), "  "))
        limits = "no budget" if budget is None else _budget_text(budget)
        out.append(f"  chosen under {limits}: {ex.get('front_choice')}")
    if budget is not None:
        predicted, after = budget["predicted"], budget["predicted_after"]
        out.append("")
        out.append(
            f"budget   {_budget_text(budget)}: predicted peak {_bytes(predicted['peak_bytes'])},"
            f" longest GIL hold {_seconds(predicted['max_gil_hold'])}"
            + (" (measured within the budget on this cell: not cut)"
               if budget["measured_within"] else "")
        )
        if budget["cut"]:
            c = budget["config"]
            out.append(
                f"         cut to batch_size={c['batch_size']} micro_batch_size="
                f"{c['micro_batch_size']} threads={c['threads']}: predicted peak"
                f" {_bytes(after['peak_bytes'])}, longest GIL hold"
                f" {_seconds(after['max_gil_hold'])}"
            )
    return out


def _budget_text(budget: dict[str, Any]) -> str:
    parts = []
    if budget.get("memory_budget") is not None:
        parts.append(f"memory budget {_bytes(budget['memory_budget'])}")
    if budget.get("max_pause") is not None:
        parts.append(f"max pause {_seconds(budget['max_pause'])}")
    return ", ".join(parts) or "no budget"


def _elite_text_dict(elite: Any) -> str:
    if isinstance(elite, dict):
        return f"{elite['batch_size']}/{elite['micro_batch_size']}/{elite['threads']}"
    return str(elite)


def cmd_archive_explain(args: argparse.Namespace) -> int:
    from ..selector import Selector

    validator = _make_validator(args)
    data = open_data(args.data, args.input_kind, args.pointer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex = validator.explain(
                data.source,
                input_kind=data.kind,
                memory_budget=args.memory_budget,
                max_pause=args.max_pause,
            )
    except InputError as exc:
        raise CliError(f"{data.name}: {_one_line(exc)}") from None
    finally:
        data.close()
    if args.format == "json":
        print(json.dumps(ex, indent=2, default=str))
        return 0
    archive = Selector.shared(args.archive).archive
    selection = archive.selection if archive is not None else None
    grid = archive.grid if archive is not None else None
    print(f"explain: {data.name} against {args.schema}")
    print("\n".join(_explain_lines(ex, selection, grid)))
    return 0


# -- archive plot ------------------------------------------------------------------------------


def cmd_archive_plot(args: argparse.Namespace) -> int:
    _origin, location = _resolve_archive(args.path)
    archive = _load(location)
    try:
        from ..tuning import plot
    except ImportError as exc:
        if getattr(exc, "name", None) == "matplotlib" or "matplotlib" in str(exc):
            raise CliError(_NO_MATPLOTLIB) from None
        raise CliError(f"plotting is not available in this build: {_one_line(exc)}") from None
    try:
        heatmap = plot.plot_archive(archive, args.output)
        fronts = plot.plot_fronts(archive, plot.fronts_path(heatmap))
    except ImportError as exc:
        if getattr(exc, "name", "") and str(getattr(exc, "name", "")).startswith("matplotlib"):
            raise CliError(_NO_MATPLOTLIB) from None
        raise
    except ValueError as exc:  # a grid too large to draw
        raise CliError(f"archive plot: {location}: {exc}") from None
    print(f"wrote {heatmap} ({location}, {len(archive.cells)} cells)")
    print(f"wrote {fronts} (the cells' Pareto fronts: throughput against memory in flight)")
    return 0


_NO_MATPLOTLIB = (
    "archive plot needs matplotlib, which is not installed;"
    " install the extra: pip install 'satya-adapt[plot]'"
)


# -- archive refresh / merge -------------------------------------------------------------------


def _can_write(path: str) -> None:
    """Refuses an output the archive could not be written to: a folder, a folder that does
    not exist or is not writable (refresh found it after measuring every cell)."""
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise CliError(f"{path}: cannot write the archive: a folder")
    if not os.path.isdir(folder):
        raise CliError(f"{path}: cannot write the archive: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"{path}: cannot write the archive: {folder} is not writable")


def cmd_archive_refresh(args: argparse.Namespace) -> int:
    from ..tuning import maintenance

    out = args.output or args.path
    archive = _load(args.path)
    _can_write(out)  # before minutes of measuring, not after
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
    from ..archive import write_archive

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


def _format_of(path: str) -> Any:
    """The ``format`` of the JSON file at ``path`` (the whole file read: its keys may come in
    any order; a FIFO is not waited for), ``None`` when it has none or cannot be read."""
    from ..archive import open_regular

    try:
        with open_regular(path) as f:
            doc = json.loads(f.read(64 * 1024 * 1024 + 1))
    except (OSError, ValueError, RecursionError):
        return None
    return doc.get("format") if isinstance(doc, dict) else None


def cmd_archive_merge(args: argparse.Namespace) -> int:
    from ..archive import FORMAT
    from ..live import CACHE_FORMAT

    found = _format_of(args.a)
    if found == CACHE_FORMAT or (args.into is not None and args.b is None and found != FORMAT):
        return _fold_cache(args)  # (with --into, A is meant as a cache: its reading says why not)
    if args.into is not None:
        raise CliError("`--into` applies to an online cache, and A is an archive")
    if args.b is None or args.output is None:
        raise CliError("merging two archives needs B and `-o OUT`")
    from ..tuning import maintenance

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
