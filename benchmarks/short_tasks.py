#!/usr/bin/env python3
"""Which task size should a short call's ``threads`` candidate run? Measures, on calls shorter
than ``live.MIN_RECORDS`` that take part in live verification, two threads with tasks of each
size against one thread.

A short call (JSON or NDJSON, 400 to 2,500 records, 0.15-0.6 ms) is one chunk; with two
threads its tasks are claimed in turn by the caller and by the pool's thread, which sleeps
between calls and joins late, so the task size decides how the call ends (see
``live.SHORT_TASK_RECORDS``). Each configuration runs in blocks of calls back to back, as a
cell's chosen configuration runs (a trial among other calls would measure the pool's waking
instead): per block, 10 calls of warm-up, then the median of ``--calls`` calls; the blocks of
all configurations interleaved in shuffled order, ``--blocks`` times. A row's speed is the
median over the blocks of one thread's block median over the configuration's (range: the
blocks' lowest and highest). The summary: each size's speed over the best size's of the same
row, the median and the lowest over the rows.

    python benchmarks/short_tasks.py            # under a minute on 2 cores
    python benchmarks/short_tasks.py --quick

Results go to ``--json`` and ``--markdown`` (default ``benchmarks/results/short_tasks.*``);
``satya_adapt/live.py`` cites them for ``SHORT_TASK_RECORDS``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from eval_live import HELD_OUT

from satya_adapt import live as L
from satya_adapt.tuning import measure
from satya_adapt.tuning.measurer import Measurer
from satya_adapt.tuning.space import WorkloadGenes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")


#: The workloads of ``eval_live.py``'s held-out profiles, by name.
WORKLOADS: dict[str, dict[str, Any]] = {name: params for name, params, _, _ in HELD_OUT}
#: Short calls: (workload, input kind, records). The first two are ``eval_live.py``'s short
#: held-out cells.
CALLS = (
    ("medium-mixed", "json", 400),
    ("tiny-plain", "ndjson", 2000),
    ("medium-mixed", "ndjson", 800),
    ("tiny-plain", "json", 1500),
    ("long-strings", "json", 500),
    ("long-strings", "ndjson", 1200),
    ("wide-costly", "ndjson", 600),
    ("nested-lists", "json", 1000),
    ("medium-mixed", "ndjson", 2500),
    ("heavy-regex", "json", 700),
)
SIZES = (32, 40, 48, 56, 64, 80, 96)
WARM = 10


def _block(prepared: Any, config: tuple[int, int, int], calls: int) -> float:
    """The median seconds of ``calls`` calls of ``config`` back to back, after ``WARM``."""
    run = prepared.run
    for _ in range(WARM):
        run(config)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        run(config)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_call(prepared: Any, sizes: Sequence[int], blocks: int, calls: int,
                 seed: int) -> dict[str, Any]:
    n = prepared.n
    one = (n, n, 1)
    configs = {"one thread": one, **{str(m): (n, m, 2) for m in sizes}}
    reference = prepared.reference()
    for name, c in configs.items():  # correctness first
        r = prepared.run(c)
        if list(r.valid) != reference[0] or list(r.errors) != reference[1]:
            raise AssertionError(f"{name}: results differ from the default configuration's")
    rng = random.Random(seed)
    medians: dict[str, list[float]] = {k: [] for k in configs}
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # validating makes no cycles: no collection on anyone's clock
    try:
        for _ in range(blocks):
            order = list(configs)
            rng.shuffle(order)
            for name in order:
                medians[name].append(_block(prepared, configs[name], calls))
    finally:
        if was:
            gc.enable()
    speeds = {}
    for name in configs:
        if name == "one thread":
            continue
        ratios = [a / b for a, b in zip(medians["one thread"], medians[name])]
        speeds[name] = {"median": statistics.median(ratios), "low": min(ratios),
                        "high": max(ratios)}
    return {"one_thread_seconds": statistics.median(medians["one thread"]), "speeds": speeds}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="two calls, few blocks")
    p.add_argument("--seeds", default="1,2,3,4", help="data seeds, comma-separated")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)),
                   help="task sizes (records), comma-separated")
    p.add_argument("--blocks", type=int, default=None, help="blocks per configuration (6)")
    p.add_argument("--calls", type=int, default=None, help="timed calls per block (50)")
    p.add_argument("--json", default=os.path.join(RESULTS, "short_tasks.json"))
    p.add_argument("--markdown", default=os.path.join(RESULTS, "short_tasks.md"))
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    blocks = args.blocks or (2 if args.quick else 6)
    calls = args.calls or (5 if args.quick else 50)
    rows = []
    for workload, kind, n in CALLS[:2] if args.quick else CALLS:
        for seed in seeds[:1] if args.quick else seeds:
            genes = WorkloadGenes(**WORKLOADS[workload], input_kind=kind, seed=seed)
            prepared = Measurer(n).prepare(genes)
            profile = tuple(prepared.profile)
            row = {"workload": workload, "kind": kind, "n": prepared.n, "seed": seed,
                   "takes_part": L.takes_part(profile),
                   **measure_call(prepared, sizes, blocks, calls, seed)}
            rows.append(row)
            print(f"{workload} {kind} {n} seed {seed}: "
                  + ", ".join(f"{k} {v['median']:.3f}" for k, v in row["speeds"].items()),
                  file=sys.stderr, flush=True)
    # Each size's speed over the best size's in the same row (rows that take part).
    of_best: dict[str, list[float]] = {str(m): [] for m in sizes}
    for row in rows:
        if not row["takes_part"]:
            continue
        best = max(v["median"] for v in row["speeds"].values())
        for k, v in row["speeds"].items():
            of_best[k].append(v["median"] / best)
    summary = {k: {"median": statistics.median(v), "lowest": min(v), "rows": len(v)}
               for k, v in of_best.items() if v}
    doc = {
        "benchmark": "short_tasks",
        "settings": {"quick": args.quick, "sizes": sizes, "seeds": seeds, "blocks": blocks,
                     "calls": calls, "warm": WARM, "short_task_records": L.SHORT_TASK_RECORDS},
        "provenance": measure.provenance(("satya-adapt",), repo=ROOT),
        "rows": rows,
        "summary": summary,
    }
    prov = doc["provenance"]
    git = prov["git"]
    commit = "unknown" if git is None else git["commit"][:12] + (" (dirty)" if git["dirty"] else "")
    names = [str(m) for m in sizes]
    lines = [
        "# Task sizes of a short call's `threads` candidate",
        "",
        (f"{prov['cpu']}, {prov['usable_cores']} usable cores, load {prov['load_average']};"
         f" {prov['date']}, commit {commit}. Two threads, one chunk, tasks of"
         f" each size (records), against one thread: per block {WARM} calls of warm-up, then"
         f" the median of {calls} calls back to back; {blocks} blocks per configuration,"
         " interleaved. Speed over one thread's: the median over the blocks [lowest, highest];"
         f" above 1 is faster. `SHORT_TASK_RECORDS` is {L.SHORT_TASK_RECORDS}."),
        "",
        "| workload | kind | records | seed | takes part | one thread (us) | "
        + " | ".join(names) + " |",
        "|---|---|---:|---:|---|---:|" + "---:|" * len(names),
    ]
    for r in rows:
        best = max(v["median"] for v in r["speeds"].values())
        cells = []
        for k in names:
            s = r["speeds"][k]
            text = f"{s['median']:.3f} [{s['low']:.2f}, {s['high']:.2f}]"
            cells.append(f"**{text}**" if s["median"] == best else text)
        lines.append(f"| {r['workload']} | {r['kind']} | {r['n']} | {r['seed']} |"
                     f" {'yes' if r['takes_part'] else 'no'} |"
                     f" {r['one_thread_seconds'] * 1e6:.0f} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each size's speed over the best size's in the same row (the rows that take part):",
        "",
        "| task size | median | lowest | rows |",
        "|---:|---:|---:|---:|",
    ]
    for k, s in summary.items():
        lines.append(f"| {k} | {s['median']:.3f} | {s['lowest']:.3f} | {s['rows']} |")
    table = "\n".join(lines) + "\n"
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
