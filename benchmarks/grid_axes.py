#!/usr/bin/env python3
"""Which profile features should key the archive? Measures, one feature at a time, how the
candidate configurations compare with the default configuration.

The design rule: keep a dimension only where the measurements show that the best configuration
changes along it. For each input kind and each axis (string length, field count, constraint
mix, a bulk list that grows records cheaply), a base workload is varied along that axis only;
on each step the default configuration, itself again (A/A), the pool (``threads`` = 2 with
``micro_batch_size`` 256 and 1024) and a small ``batch_size`` (512) are timed in one
interleaved run (:meth:`satya_adapt.tuning.optimizer.Measurer.compare`). The table shows each
candidate's paired speedup over the default with its interval, next to the measured profile
(object size, field count, string length, constraint complexity) of the step.

    python benchmarks/grid_axes.py            # about 3 minutes on 2 cores
    python benchmarks/grid_axes.py --quick

Results go to ``--json`` and ``--markdown`` (default ``benchmarks/results/grid_axes.*``);
``archives/README.md`` cites them for the grid of the shipped archive.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from satya_adapt.tuning import measure
from satya_adapt.tuning.optimizer import Measurer, WorkloadGenes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

BASE = {"field_count": 8, "string_length": 16, "constrained": 0.5, "costly": 0.5, "nesting": 0,
        "list_length": 0}
AXES: dict[str, list[dict[str, Any]]] = {
    "string_length": [{"string_length": v} for v in (4, 16, 64, 200)],
    "field_count": [{"field_count": v, "string_length": 8} for v in (2, 8, 24, 64)],
    "constraints": [
        {"field_count": 16, "constrained": c, "costly": k}
        for c, k in ((0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0))
    ],
    "list_length": [{"list_length": v, "field_count": 4} for v in (0, 8, 32)],
}
CONFIGS = {
    "default": (8192, 1024, 1),
    "default (A/A)": (8192, 1024, 1),
    "threads=2 micro=256": (8192, 256, 2),
    "threads=2 micro=1024": (8192, 1024, 2),
    "batch=512": (512, 512, 1),
}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, one axis step fewer")
    p.add_argument("--seed", type=int, default=7, help="data seed")
    p.add_argument("--n", type=int, default=None, help="records per step (default 20000)")
    p.add_argument("--json", default=os.path.join(RESULTS, "grid_axes.json"))
    p.add_argument("--markdown", default=os.path.join(RESULTS, "grid_axes.md"))
    args = p.parse_args(argv)
    n = args.n or (1000 if args.quick else 20000)
    rounds = 3 if args.quick else 9
    measurer = Measurer(n, sample_ns=2e6 if args.quick else 1e7)
    rows = []
    for kind in ("dicts", "json", "ndjson"):
        for axis, steps in AXES.items():
            for step in steps[:2] if args.quick else steps:
                genes = WorkloadGenes(**{**BASE, **step}, input_kind=kind, seed=args.seed)
                prepared = measurer.prepare(genes)
                m = measurer.compare(prepared, CONFIGS, rounds=rounds, seed=args.seed)
                pr = prepared.profile
                speedups = {}
                for name in CONFIGS:
                    if name == "default":
                        continue
                    s = m.speedup(name, "default")
                    speedups[name] = {"median": s.median, "low": s.ci.low, "high": s.ci.high}
                row = {
                    "kind": kind,
                    "axis": axis,
                    "step": step,
                    "profile": dict(pr._asdict()),
                    "n": prepared.n,
                    "default_items_per_s": m.summary("default").items_per_s,
                    "speedups": speedups,
                }
                rows.append(row)
                print(
                    f"{kind} {axis} {step}: object_size {pr.object_size:.0f}, cc"
                    f" {pr.constraint_complexity:.2f}: "
                    + ", ".join(f"{k} {v['median']:.2f}" for k, v in speedups.items()),
                    file=sys.stderr,
                    flush=True,
                )
    doc = {
        "benchmark": "grid_axes",
        "settings": {"quick": args.quick, "n": n, "rounds": rounds, "seed": args.seed,
                     "base": BASE, "configs": CONFIGS},
        "provenance": measure.provenance(("satya-adapt",)),
        "rows": rows,
    }
    names = [k for k in CONFIGS if k != "default"]
    lines = [
        "# How the candidates compare with the default along each profile feature",
        "",
        (f"{n} records per step, {rounds} paired rounds; {doc['provenance']['cpu']},"
        f" {doc['provenance']['usable_cores']} usable cores, load"
        f" {doc['provenance']['load_average']}; {doc['provenance']['date']}. Speedup over the"
        " default configuration (median [95% interval]); above 1 is faster."),
        "",
        "| kind | axis | step | object_size | fields | string length | complexity | "
        + " | ".join(names)
        + " |",
        "|---|---|---|---:|---:|---:|---:|" + "---:|" * len(names),
    ]
    for r in rows:
        pr = r["profile"]
        step = ", ".join(f"{k}={v}" for k, v in r["step"].items())
        cells = " | ".join(
            f"{r['speedups'][k]['median']:.2f} [{r['speedups'][k]['low']:.2f},"
            f" {r['speedups'][k]['high']:.2f}]"
            for k in names
        )
        lines.append(
            f"| {r['kind']} | {r['axis']} | {step} | {pr['object_size']:.0f} |"
            f" {pr['field_count']} | {pr['avg_string_length']:.0f} |"
            f" {pr['constraint_complexity']:.2f} | {cells} |"
        )
    table = "\n".join(lines) + "\n"
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
