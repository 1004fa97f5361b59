#!/usr/bin/env python3
"""How reliably does online refinement learn within a few calls? Many fresh validators on one
profile, counted, optionally against another checkout in alternating batches.

``eval_live.py`` runs each held-out profile once: whether its cell learned (say, a second
thread on heavy-regex dicts) within the warm-up is one draw, and the draws depend on the
stretch of machine time they fall in (on 2026-12-05, 8 of 16 such cells learned their second
thread within 30 calls in one stretch, 13 of 16 and 22 of 24 in later ones, the same code).
Here each run is a fresh ``Validator(schema, archive=..., online=True)`` (an online cache folder
of its own: nothing learned before) making ``--calls`` calls, each paired with a call of the
default configuration in shuffled order, as ``eval_live.py``'s warm-up and unknown-hardware
parts do. Runs go in batches, each batch a process of its own (its first run is a process's
first validator, as a user's is). Per run: the cell's configuration at the end and its source,
the first call answered by a promoted candidate (``online``), the cumulative throughput over
the default's (its lowest from the second call on, and its last), and the lowest of the same in
engine time against the default's median call (the README's promise, which leaves out the
bookkeeping's wall time: see :func:`engine_promise_min`), and the candidates its cell dropped
with their trials' throughputs over the incumbent's (why a cell that did not learn ended where
it did). Per side: the runs whose cell ends on a candidate it promoted, the median promotion
call, the medians and the worst of the cumulative figures, the runs whose promise figure fell
under ``1 / (1 + alpha)``, and the dropped candidates by configuration.

``--against DIR`` compares this checkout with another (its ``satya_adapt`` on ``PYTHONPATH``;
this script and ``eval_live.py`` from this one), batch by batch in alternating order, so that
both sides meet the same stretches of the machine's time; the same data seeds on both. Both
checkouts' modules are compiled to bytecode first: with ``PYTHONDONTWRITEBYTECODE`` a checkout
without it compiles each module on first use, inside a first call (4 ms of a 10 ms call here).
``--bursty``: a process keeps one core busy in bursts (5-50 ms busy, 20-150 ms idle) for the
whole run, other work coming and going as on a user's machine. No figure here is a target; they
say how often, not how fast.

    python benchmarks/learn_rate.py                       # held-out heavy-regex dicts, 16 runs
    python benchmarks/learn_rate.py --archive other --n 10000 --calls 50   # unknown hardware
    python benchmarks/learn_rate.py --against /tmp/base --batches 6        # a change, A/B
    python benchmarks/learn_rate.py --quick

Results go to ``--json`` and ``--markdown`` (default ``benchmarks/results/learn_rate.*``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

#: The bursty background load (``--bursty``): busy for 5-50 ms, idle for 20-150 ms, repeated.
BURSTY = (
    "import random, time\n"
    "r = random.Random(1)\n"
    "while True:\n"
    "    end = time.perf_counter() + r.uniform(0.005, 0.05)\n"
    "    while time.perf_counter() < end: pass\n"
    "    time.sleep(r.uniform(0.02, 0.15))\n"
)


def run_batch(args: Any, batch: int) -> list[dict[str, Any]]:
    """``args.runs`` fresh validators in this process (the child of one batch)."""
    import eval_live as E

    from satya_adapt import Validator
    from satya_adapt import archive as A
    from satya_adapt import live as L
    from satya_adapt.errors import ArchiveWarning
    from satya_adapt.tuning.measurer import Measurer
    from satya_adapt.tuning.space import WorkloadGenes

    params = next(p for name, p, _, _ in E.HELD_OUT if name == args.profile)
    out = []
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        like = A.load_archive(os.path.join(E.ROOT, "archives", "default.json"))
        for r in range(args.runs):
            seed = args.seed + r  # the same data on every batch and side: runs pair by seed
            prepared = Measurer(args.n).prepare(
                WorkloadGenes(**params, input_kind=args.kind, seed=seed))
            if args.archive == "other":
                archive = E.archive_here(prepared, (1024, 64, 2), like,
                                         os.path.join(folder, f"other-{r}.json"), family="0")
            elif args.archive == "none":
                archive = os.path.join(folder, "missing.json")
            else:
                archive = os.path.join(E.ROOT, "archives", "default.json")
            own = os.path.join(folder, f"cache-{r}")
            os.makedirs(own)
            os.environ[L.CACHE_DIR_ENV_VAR] = own
            adaptive = Validator(E.compiled(prepared), archive=archive, online=True)
            default = Validator(E.compiled(prepared), adapt=False)
            engine: dict[str, list[float]] = {"adaptive": [], "default": []}
            times, sources = E.paired_calls(
                {"adaptive": _engine_timed(E.caller(adaptive, prepared), engine["adaptive"]),
                 "default": _engine_timed(E.caller(default, prepared), engine["default"])},
                args.calls, batch * 1000 + r,
            )
            along = E.cumulative(times["adaptive"], times["default"])
            live = adaptive.explain(prepared.payload, input_kind=args.kind)["live"] or {}
            incumbent = live.get("incumbent") or {}
            out.append({
                "batch": batch, "run": r, "seed": seed,
                "first_source": sources[0],
                "end": incumbent.get("config"), "end_source": incumbent.get("source"),
                "promoted_at": next((i + 1 for i, s in enumerate(sources) if s == "online"), None),
                "promotions": live.get("promotions", 0), "trials": live.get("trials", 0),
                # Why a cell that did not learn ended where it did: the candidates it dropped
                # (on their trials, with their throughputs over the incumbent's, or untried).
                "dropped": [{"config": d["config"], "candidate": d.get("candidate"),
                             "paired_ratios": d.get("paired_ratios", [])}
                            for d in live.get("dropped", [])],
                "cumulative_min": min(along[1:]) if len(along) > 1 else along[-1],
                "cumulative_final": along[-1],
                "engine_promise_min": engine_promise_min(engine["adaptive"], engine["default"]),
                # The same figure of the default's own calls (A/A: the figure's noise).
                "engine_promise_min_aa": engine_promise_min(engine["default"], engine["default"]),
            })
    return out


def _engine_timed(call: Any, sink: list[float]) -> Any:
    """``call``, each result's engine seconds (``stats.seconds``) appended to ``sink``."""
    def timed() -> Any:
        result = call()
        sink.append(result.stats.seconds)
        return result

    return timed


def engine_promise_min(adaptive: Sequence[float], default: Sequence[float]) -> float | None:
    """The promise as the README states it, in engine time: over the adaptive validator's
    calls 2 to ``k`` (its first call runs unverified), the default's median engine time of a
    call (its calls 2 on) times ``k - 1`` over their engine time, the lowest over ``k``. It
    holds when this is at least ``1 / (1 + alpha)`` (0.980); the default's median is that of
    this run's calls, so a few per cent either way is the run's noise."""
    from satya_adapt.tuning import measure

    if len(adaptive) < 2 or len(default) < 2:
        return None
    per_call = measure.median(default[1:])
    spent, lowest = 0.0, math.inf
    for k, seconds in enumerate(adaptive[1:], start=1):
        spent += seconds
        lowest = min(lowest, k * per_call / spent)
    return lowest


def _median(xs: Sequence[float]) -> float | None:
    """``measure.median``, ``None`` for no values (no run learned)."""
    from satya_adapt.tuning import measure

    return measure.median(xs) if xs else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    learned = [r for r in runs if r["end_source"] == "online"]
    batches = sorted({r["batch"] for r in runs})
    from satya_adapt.live import ALPHA  # (this checkout's: the validators' default alpha)

    promise = [x for r in runs if (x := r.get("engine_promise_min")) is not None]
    aa = [x for r in runs if (x := r.get("engine_promise_min_aa")) is not None]
    return {
        "runs": len(runs),
        "learned": len(learned),
        # Stretches of machine time differ: 0 of 4 in one batch, 4 of 4 in the next.
        "learned_per_batch": [sum(r["batch"] == b for r in learned) for b in batches],
        "promoted_at_median": _median([r["promoted_at"] for r in learned if r["promoted_at"]]),
        "ends": _ends(runs),
        "cumulative_min_median": _median([r["cumulative_min"] for r in runs]),
        "cumulative_min_worst": min((r["cumulative_min"] for r in runs), default=None),
        "cumulative_final_median": _median([r["cumulative_final"] for r in runs]),
        "engine_promise_min_median": _median(promise),
        "engine_promise_min_worst": min(promise, default=None),
        "engine_promise_below": sum(x < 1.0 / (1.0 + ALPHA) for x in promise),
        "engine_promise_aa_min_median": _median(aa),
        "engine_promise_aa_below": sum(x < 1.0 / (1.0 + ALPHA) for x in aa),
        "dropped": _dropped(runs),
    }


def _dropped(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The candidates the runs' cells dropped, by configuration (the most often dropped
    first): in how many runs, and the median of their paired ratios over all those runs
    (``None``: dropped untried)."""
    by: dict[str, list[float]] = {}
    count: Counter[str] = Counter()
    for r in runs:
        for d in r.get("dropped", []):
            key = "/".join(map(str, d["config"])) + (f" ({d['candidate']})" if d["candidate"] else "")
            count[key] += 1
            by.setdefault(key, []).extend(d["paired_ratios"])
    return {k: {"runs": n, "paired_ratio_median": _median(by[k]), "pairs": len(by[k])}
            for k, n in count.most_common()}


def _ends(runs: list[dict[str, Any]]) -> dict[str, int]:
    """How many runs ended on each configuration (and source), the most first."""
    return dict(Counter(
        f"{'/'.join(map(str, r['end']))} ({r['end_source']})" if r["end"]
        else "no cell (its calls took no part)"
        for r in runs
    ).most_common())


def _child(args: Any, side: str, root: str, batch: int) -> list[dict[str, Any]]:
    """One batch in a process of its own, with ``root``'s ``satya_adapt``."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(batch),
           "--profile", args.profile, "--kind", args.kind, "--n", str(args.n),
           "--calls", str(args.calls), "--runs", str(args.runs), "--archive", args.archive,
           "--seed", str(args.seed)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"learn_rate: a batch of {side} ({root}) failed:\n{proc.stderr[-3000:]}")
    runs: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    for r in runs:
        r["side"] = side
    return runs


def markdown(doc: dict[str, Any]) -> str:
    s, prov = doc["settings"], doc["provenance"]
    git = prov["git"]
    commit = "unknown" if git is None else git["commit"][:12] + (" (dirty)" if git["dirty"] else "")
    load = "one core busy in bursts (5-50 ms on, 20-150 ms off)" if s["bursty"] else "no added load"
    lines = [
        "# How often online refinement learns within a few calls",
        "",
        (f"{prov['cpu']}, {prov['usable_cores']} usable cores, load {prov['load_average']};"
         f" {prov['date']}, commit {commit}. {s['profile']} {s['kind']}, {s['n']} records a"
         f" call, archive: {s['archive']}; {s['batches']} batches x {s['runs']} fresh validators,"
         f" each {s['calls']} calls paired with the default configuration's; {load}. Learned:"
         " the cell ends on a candidate it promoted (`online`). Cumulative: throughput over the"
         " default's, the lowest from the second call on and the last. Promise: the same in"
         " engine time, the adaptive calls 2 to k against k - 1 calls at the default's median"
         " engine time, the lowest over k; `below`: runs under 1 / (1 + alpha) = 0.980 (the"
         " README's promise); A/A: the same figure of the default's own calls, the noise of"
         " the figure (median of the runs, and the runs below)."),
        "",
        ("| side | checkout | learned | learned per batch | promoted at (median call) | ends"
         " | cumulative min, median (worst) | cumulative final, median"
         " | promise min, median (worst) | below | A/A promise min, median | A/A below |"),
        "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for side, summ in doc["summary"].items():
        ends = "; ".join(f"{k}: {v}" for k, v in summ["ends"].items())
        at = "-" if summ["promoted_at_median"] is None else str(summ["promoted_at_median"])
        lines.append(
            f"| {side} | {doc['sides'][side]} | {summ['learned']}/{summ['runs']}"
            f" | {' '.join(map(str, summ['learned_per_batch']))} | {at} | {ends}"
            f" | {summ['cumulative_min_median']:.3f} ({summ['cumulative_min_worst']:.3f})"
            f" | {summ['cumulative_final_median']:.3f} | {_promise(summ)} |")
    lines.append("")
    for side, summ in doc["summary"].items():
        dropped = summ.get("dropped")  # (results of an older version have none)
        if dropped:
            each = "; ".join(
                f"{k} in {d['runs']} run{'' if d['runs'] == 1 else 's'}"
                + (", untried" if d["paired_ratio_median"] is None
                   else f", paired ratio {d['paired_ratio_median']:.3f} in the median of {d['pairs']}")
                for k, d in dropped.items())
            lines += [f"Candidates the cells dropped ({side}; paired ratio: a trial's throughput"
                      f" over the incumbent's): {each}.", ""]
    return "\n".join(lines)


def _promise(summ: dict[str, Any]) -> str:
    """The promise columns of a side (results of an older version have none)."""
    if summ.get("engine_promise_min_median") is None:
        return "- | - | - | -"
    return (f"{summ['engine_promise_min_median']:.3f} ({summ['engine_promise_min_worst']:.3f})"
            f" | {summ['engine_promise_below']}/{summ['runs']}"
            f" | {summ['engine_promise_aa_min_median']:.3f}"
            f" | {summ['engine_promise_aa_below']}/{summ['runs']}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="heavy-regex",
                   help="a workload of eval_live.py's held-out profiles (default heavy-regex)")
    p.add_argument("--kind", default="dicts", choices=("dicts", "json", "ndjson"))
    p.add_argument("--n", type=int, default=None, help="records a call (default 20,000)")
    p.add_argument("--calls", type=int, default=None, help="calls of each run (default 30)")
    p.add_argument("--runs", type=int, default=None, help="fresh validators a batch (default 4)")
    p.add_argument("--batches", type=int, default=None, help="batches a side (default 4)")
    p.add_argument("--archive", default="shipped", choices=("shipped", "other", "none"),
                   help="the shipped archive, one of another hardware class (eval_live.py's"
                        " unknown-hardware part), or none")
    p.add_argument("--against", default=None, metavar="DIR",
                   help="another checkout (built), run in alternating batches")
    p.add_argument("--bursty", action="store_true", help="one core busy in bursts throughout")
    p.add_argument("--seed", type=int, default=100, help="the first run's data seed")
    p.add_argument("--quick", action="store_true", help="small sizes: shows it works")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--json", default=os.path.join(RESULTS, "learn_rate.json"), help="results JSON")
    p.add_argument("--markdown", default=os.path.join(RESULTS, "learn_rate.md"),
                   help="results table")
    args = p.parse_args(argv)
    args.n = args.n or (5000 if args.quick else 20000)
    args.calls = args.calls or (6 if args.quick else 30)
    args.runs = args.runs or (2 if args.quick else 4)
    args.batches = args.batches or (1 if args.quick else 4)
    if args.child is not None:
        print(json.dumps(run_batch(args, args.child)))
        return 0

    from satya_adapt.tuning import measure

    sides = {"this": ROOT}
    if args.against:
        sides["against"] = os.path.abspath(args.against)
    for root in set(sides.values()):
        compileall.compile_dir(os.path.join(root, "satya_adapt"), quiet=1)
    loader = subprocess.Popen([sys.executable, "-c", BURSTY]) if args.bursty else None
    started = time.monotonic()
    runs: list[dict[str, Any]] = []
    try:
        order = list(sides)
        for b in range(args.batches):
            for side in order if b % 2 == 0 else order[::-1]:
                runs.extend(_child(args, side, sides[side], b))
                print(f"batch {b} {side}: {sum(r['end_source'] == 'online' for r in runs[-args.runs:])}"
                      f"/{args.runs} learned", file=sys.stderr, flush=True)
    finally:
        if loader is not None:
            loader.kill()
            loader.wait()
    doc = {
        "benchmark": "learn_rate",
        "settings": {"profile": args.profile, "kind": args.kind, "n": args.n,
                     "calls": args.calls, "runs": args.runs, "batches": args.batches,
                     "archive": args.archive, "bursty": args.bursty, "seed": args.seed},
        "sides": sides,
        "provenance": measure.provenance(("satya-adapt",), repo=ROOT),
        "seconds": time.monotonic() - started,
        "runs": runs,
        "summary": {side: summarize([r for r in runs if r["side"] == side]) for side in sides},
    }
    table = markdown(doc)
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
