#!/usr/bin/env python3
"""Does a change to ``satya_adapt/live.py`` keep its answers? A digest of live verification's
answers, call by call, on injected timings, to compare two versions.

A change meant to make live bookkeeping cheaper (longer grants of quiet calls, a faster replay)
must leave every answer as it was: the same configuration and source at every call, the same
evidence at the end. Timings on a real machine never repeat, so this drives
:class:`satya_adapt.live.Live` with timings made up from the answer itself (a speed per
configuration, seeded noise, a slow tail, a change of speeds halfway) over scenarios that reach
its states: trials (whole calls and, through ``start(..., sliceable=True)``, slices),
promotions, verification, probes, reverts, ties, cancelled calls. Per scenario it keeps a digest
of the answers, the count of each source, the evidence at the end, and the decisions made (a
cost, not an answer: a longer grant makes fewer; it may differ). Deterministic: the same
``live.py`` gives the same output in any process.

    python benchmarks/live_trace.py --against /tmp/base       # this checkout's live.py against another's
    python benchmarks/live_trace.py --live A.py --against-live B.py
    python benchmarks/live_trace.py --json trace.json         # the digests, for a later compare

Exit status 1 when the answers of the two differ (the scenarios that do are listed).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import os
import random
import sys
from collections.abc import Sequence
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from satya_adapt.config import BatchConfig  # noqa: E402

N = 10000
CALLS = 3000


class _NoArchive:
    archive = None


def load_live(path: str, name: str) -> Any:
    """The module at ``path`` (a ``live.py``), loaded as ``satya_adapt.<name>`` so that its
    relative imports resolve to this checkout's package."""
    spec = importlib.util.spec_from_file_location(f"satya_adapt.{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"live_trace: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def scenarios(limit: int | None = None, start: int = 0) -> list[dict[str, Any]]:
    """Input kind x timing noise x second thread's speed (before, after the change) x the
    selector's source (refined or not) x the selected configuration's speed x API (choose and
    record, or start and finish with slices)."""
    out = []
    product = itertools.product(
        ("dicts", "json"), (0.0, 0.02, 0.1), ((0.6, 1.3), (1.3, 0.7), (1.4, 1.4)),
        ("heuristic", "archive-exact", "archive-knn"), (0.9, 1.1), ("choose", "start"),
    )
    for seed, (kind, noise, threads, source, chosen, api) in enumerate(product):
        out.append({
            "seed": seed, "kind": kind, "noise": noise, "threads": list(threads),
            "source": source, "chosen": chosen, "api": api,
            "small_tasks": (1.0, 1.05, 0.9)[seed % 3], "tail": (seed // 2 % 2) * 0.05,
            "sizes": [N, N], "selected": [4096, 512, 1], "period": CALLS // 2,
        })
    # Record counts that change from call to call (each drawn from ``sizes``; one cell or
    # two; the selected configuration's batch size inside them or not), speeds that swap every
    # ``period`` calls (reverts and retries in the steady state).
    # A small ``alpha`` makes the slack, not the interval, decide the reverts.
    product = itertools.product(
        (0.02, 0.1), ((0.6, 1.3), (1.4, 0.8)), ("heuristic", "archive-exact"), (0.9, 1.1),
        ([9000, 16000], [4500, 15000], [10000, 10001], [5000, 8000]),
        ([4096, 512, 1], [12000, 1500, 2], [12000, 6000, 2]), (0.02, 0.002),
    )
    for seed, (noise, threads, source, chosen, sizes, selected, alpha) in enumerate(product, start=len(out)):
        out.append({
            "seed": seed, "kind": ("dicts", "json", "json-estimated")[seed // 2 % 3], "noise": noise,
            "threads": list(threads), "source": source, "chosen": chosen,
            "api": ("choose", "start")[seed % 2], "small_tasks": (1.0, 1.05, 0.9)[seed % 3],
            "tail": (seed // 4 % 2) * 0.05, "sizes": sizes, "selected": selected,
            "period": (300, 700)[seed // 3 % 2], "alpha": alpha,
        })
    # Profiles that differ in their records' average string length, the count the same: one
    # cell or several, each profile its own route.
    for seed, (noise, threads, source, lengths, api) in enumerate(itertools.product(
        (0.02, 0.1), ((0.6, 1.3), (1.4, 0.8)), ("heuristic", "archive-exact"),
        ([3.0, 3.05, 3.1], [3.0, 6.0], [3.0, 3.1, 12.0, 40.0]), ("choose", "start"),
    ), start=len(out)):
        out.append({
            "seed": seed, "kind": "dicts", "noise": noise, "threads": list(threads),
            "source": source, "chosen": (0.9, 1.1)[seed % 2], "api": api,
            "small_tasks": 1.0, "tail": (seed // 2 % 2) * 0.05, "sizes": [N, N],
            "selected": [4096, 512, 1], "period": (300, 700)[seed // 3 % 2], "lengths": lengths,
        })
    return out[start:limit]


def _speed(config: Sequence[int], phase: int, sc: dict[str, Any]) -> float:
    """A configuration's speed relative to the default's in a scenario's ``phase`` (0, 1)."""
    b, m, t = config[:3]
    f = 1.0
    if t > 1:
        f *= sc["threads"][phase]
    if b < 2048:
        f *= 0.97
    if m < 100:
        f *= sc["small_tasks"]
    if [b, m, t] == sc["selected"] or (b == 4096 and m == 512):
        f *= sc["chosen"] if phase == 0 else 2.0 - sc["chosen"]
    return f


def run(live_module: Any, sc: dict[str, Any], calls: int = CALLS) -> dict[str, Any]:
    """One scenario on ``live_module``: its digest, sources, evidence and decisions."""
    rng = random.Random(sc["seed"] * 1009 + 17)
    live = live_module.Live(_NoArchive(), cache=False, cores=2, alpha=sc.get("alpha", 0.02))
    decided = [0]
    decide = live._decide

    def counting(*args: Any, **kwargs: Any) -> Any:
        decided[0] += 1
        return decide(*args, **kwargs)

    live._decide = counting
    low, high = sc["sizes"]
    selected = BatchConfig(*sc["selected"], sc["source"])
    sliced_type = getattr(live_module, "SlicedTrial", None)
    profile: tuple[Any, ...]
    digest = hashlib.sha256()
    sources: dict[str, int] = {}

    def seconds_of(config: Sequence[int], phase: int, n: int = N) -> float:
        s = 0.004 * n / N / _speed(config, phase, sc) * (1.0 + sc["noise"] * rng.random())
        return s * 1.5 if rng.random() < sc["tail"] else s

    for i in range(calls):
        phase = i // sc["period"] % 2
        n = low if low == high else rng.randint(low, high)
        if sc["kind"] == "json-estimated":
            # JSON text: the profile's count estimated from a sample (one in four misses by up
            # to 10%), the call reporting the count.
            miss = rng.random() < 0.25
            estimate = int(n * (1.0 + 0.2 * (rng.random() - 0.5))) if miss else n
            profile = (2, 3.0, 0.1, 30.0, "json", estimate, True)
        else:
            lengths = sc.get("lengths")
            length = 3.0 if lengths is None else lengths[rng.randrange(len(lengths))]
            profile = (2, length, 0.1, 30.0, sc["kind"], n)
        if sc["api"] == "choose":
            config = live.choose(profile, selected)
        else:
            config = live.start(profile, selected, sliceable=True)
        sliced = sliced_type is not None and type(config) is sliced_type
        digest.update(repr((i, tuple(config[:3]), config.source, sliced)).encode())
        sources[config.source] = sources.get(config.source, 0) + 1
        seconds = seconds_of(config, phase, n)
        if i % 997 == 500 and not sliced:  # a call that raised
            if sc["api"] == "choose":
                live.forget()
            else:
                live.cancel(config)
        elif sc["api"] == "choose":
            live.record(n, seconds)
        elif sliced:
            k, warm = config.records, config.warm
            rest = n - k - warm
            digest.update(repr((k, warm, tuple(config.rest[:3]))).encode())
            live.finish_sliced(config, k, seconds * k / n, rest,
                               seconds_of(config.rest, phase, n) * rest / n, warm, seconds * warm / n * 1.2)
        else:
            live.finish(config, n, seconds)
    last = (2, 3.0, 0.1, 30.0, "json", high, True) if sc["kind"] == "json-estimated" else (
        2, 3.0, 0.1, 30.0, sc["kind"], high)
    evidence = json.loads(json.dumps(live.explain(last), default=str))
    return {"scenario": sc, "digest": digest.hexdigest(), "sources": sources,
            "evidence": evidence, "decisions": decided[0]}


def trace(
    live_module: Any, limit: int | None = None, calls: int = CALLS, start: int = 0
) -> list[dict[str, Any]]:
    return [run(live_module, sc, calls) for sc in scenarios(limit, start)]


def new_keys(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    """The keys of the evidence that one version reports and the other does not (a field added
    to ``explain``), told apart from answers that differ."""
    ka = {k for x in a if x["evidence"] for k in x["evidence"]}
    kb = {k for x in b if x["evidence"] for k in x["evidence"]}
    return sorted(ka ^ kb)


def differences(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[int]:
    """The scenarios whose answers differ (decisions aside; the evidence on the keys both
    versions report, see :func:`new_keys`)."""
    skip = set(new_keys(a, b))

    def answers(x: dict[str, Any]) -> Any:
        evidence = x["evidence"] and {k: v for k, v in x["evidence"].items() if k not in skip}
        return x["digest"], x["sources"], evidence

    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if answers(x) != answers(y)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--live", default=os.path.join(ROOT, "satya_adapt", "live.py"),
                   help="the live.py to trace (default: this checkout's)")
    p.add_argument("--against", default=None, metavar="DIR",
                   help="compare with the live.py of another checkout")
    p.add_argument("--against-live", default=None, metavar="LIVE_PY",
                   help="compare with another live.py file")
    p.add_argument("--scenarios", type=int, default=None, help="the first N scenarios only")
    p.add_argument("--start", type=int, default=0,
                   help="skip the scenarios before this one (216-599: changing counts; 600 and after:"
                        " profiles that differ, one count)")
    p.add_argument("--calls", type=int, default=CALLS, help=f"calls per scenario (default {CALLS})")
    p.add_argument("--json", default=None, help="write this live.py's trace here")
    args = p.parse_args(argv)
    this = trace(load_live(args.live, "_live_trace_this"), args.scenarios, args.calls, args.start)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(this, f, indent=1, sort_keys=True)
    totals: dict[str, int] = {}
    for row in this:
        for source, count in row["sources"].items():
            totals[source] = totals.get(source, 0) + count
    print(f"{len(this)} scenarios of {args.calls} calls; answers by source: {dict(sorted(totals.items()))}")
    other_path = args.against_live or (
        os.path.join(args.against, "satya_adapt", "live.py") if args.against else None
    )
    if other_path is None:
        print(f"decisions: {sum(r['decisions'] for r in this)}")
        return 0
    other = trace(load_live(other_path, "_live_trace_other"), args.scenarios, args.calls, args.start)
    print(f"decisions: {sum(r['decisions'] for r in this)} here, {sum(r['decisions'] for r in other)}"
          f" in {other_path}")
    added = new_keys(this, other)
    if added:
        print(f"evidence keys in one version only (not compared): {added}")
    diff = differences(this, other)
    if diff:
        print(f"answers differ in {len(diff)} of {len(this)} scenarios: {diff[:20]}")
        for i in diff[:3]:
            print(" ", json.dumps(this[i]["scenario"]))
        return 1
    print(f"answers the same in all {len(this)} scenarios")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
