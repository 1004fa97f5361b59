"""``satya-adapt demo``: adaptive against default batch configurations on generated records."""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from typing import Any

from .._argtypes import positive_int
from ._common import (
    _FMT,
    CliError,
    _add_archive_option,
    _add_format,
    _archive_state,
    _archive_text,
    _config_text,
    _int,
    _Parser,
    _rate,
    _seconds,
    _table,
)

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


def register(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Adds the command to the top-level parser's subcommands."""
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
    from ..tuning import measure
    from ..tuning import workloads as W
    from ..config import DEFAULT_CONFIGURATION, effective
    from ..validator import Validator

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
