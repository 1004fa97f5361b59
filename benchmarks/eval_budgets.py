#!/usr/bin/env python3
"""Budgets and memory in flight, on held-out real-data profiles (issue 13).

Three parts, each against the default configuration (``adapt=False``):

1. **Less memory at the same speed.** On the held-out real-data profiles with records of
   2-20 KB (:mod:`satya_adapt.tuning.realdata`: Twitter statuses and held-out SchemaStore
   schemas, one per schema family), dicts and JSON: the configuration a plain
   ``Validator(schema)`` chooses against the default: ``peak_bytes`` (the engine's own count,
   the same every call) and throughput (interleaved paired rounds, median of per-round ratios
   with its interval). Target: chosen ``peak_bytes`` at most 1/4 of the default's at no less
   than 0.97 of its throughput.
2. **Memory budgets.** Three budgets, tight to loose, on Twitter statuses: ``peak_bytes`` of
   every call within the budget, and the throughput each budget costs.
3. **Pauses.** A Python heartbeat thread (sleeps 1 ms, records how late it wakes) runs beside
   repeated dict validations of Twitter statuses (4.6 KB records): its longest stall with the
   default configuration, with ``max_pause="5ms"``, and with no validation at all (the
   machine's own scheduling noise). Target: at most 10 ms with ``max_pause="5ms"``, in every
   run. Each run starts after a full garbage collection, and the full collections that happen
   during a run are counted and timed: a collection pauses every thread, whoever triggers it.

    python benchmarks/eval_budgets.py            # full run (a few minutes)
    python benchmarks/eval_budgets.py --quick    # small run that shows it works

Results go to ``--json`` and ``--markdown`` (default ``benchmarks/results/eval_budgets.*``).
Timings on a shared machine are noisy: each figure says how many rounds are behind it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from satya_adapt.tuning import measure
from satya_adapt.tuning import realdata as R
from satya_adapt.validator import Validator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

PEAK_TARGET = 0.25
SPEED_TARGET = 0.97
STALL_TARGET = 0.010
BUDGETS = (("tight", "2KiB"), ("medium", "8KiB"), ("loose", "64KiB"))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _family(name: str) -> str:
    """A SchemaStore name without its version (``abc-supply-plan-3.0.0`` -> ``abc-supply-plan``)."""
    parts = name.split("-")
    while parts and parts[-1][:1].isdigit():
        parts.pop()
    return "-".join(parts) or name


def held_out_large(n: int, limit: int, schemastore: bool = True) -> list[R.RealWorkload]:
    """Held-out workloads with 2-20 KB records, one per schema family, at most ``limit``
    (``schemastore=False``: the realdata ones only)."""
    out: list[R.RealWorkload] = []
    families: set[str] = set()
    for w in R.workloads(n, schemastore_limit=None if schemastore else 0):
        if not w.held_out or not 2000 <= w.object_size <= 20000:
            continue
        family = _family(w.name)
        if family in families:
            continue
        families.add(family)
        out.append(w)
        if len(out) >= limit:
            break
    return out


def _data(w: R.RealWorkload, kind: str) -> Any:
    if kind == "dicts":
        return w.records
    return json.dumps(w.records, separators=(",", ":")).encode()


def _runner(v: Validator, data: Any, kind: str, peaks: list[int] | None = None) -> Any:
    """One call of ``v`` on ``data``, recording ``peak_bytes`` in ``peaks``."""

    def call() -> Any:
        r = v.validate(data, input_kind=kind)
        if peaks is not None:
            peaks.append(r.stats.peak_bytes)
        return r

    return call


def part_memory(workloads: Sequence[R.RealWorkload], rounds: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for w in workloads:
        # One compiled schema for every contender (see eval_live.compiled): only the batch
        # configuration differs.
        default = Validator(w.schema, adapt=False)
        chosen = Validator(default.schema)
        for kind in ("dicts", "json"):
            data = _data(w, kind)
            rd = default.validate(data, input_kind=kind)
            rc = chosen.validate(data, input_kind=kind)
            assert rd.valid == rc.valid and rd.errors == rc.errors, w.name
            m = measure.run_rounds(
                [
                    measure.Contender("default", _runner(default, data, kind)),
                    measure.Contender("chosen", _runner(chosen, data, kind)),
                ],
                rounds=rounds,
                seed=seed,
            )
            sp = m.speedup("chosen", "default")
            row = {
                "profile": w.name,
                "kind": kind,
                "records": len(w.records),
                "object_size": round(w.object_size),
                "config": list(rc.config[:3]) + [rc.config.source],
                "default_peak_bytes": rd.stats.peak_bytes,
                "chosen_peak_bytes": rc.stats.peak_bytes,
                "peak_ratio": rc.stats.peak_bytes / max(1, rd.stats.peak_bytes),
                "speed_ratio": sp.median,
                "speed_ci": [sp.ci.low, sp.ci.high],
                "rounds": m.rounds,
            }
            row["meets"] = row["peak_ratio"] <= PEAK_TARGET and sp.median >= SPEED_TARGET
            rows.append(row)
            log(f"  {w.name} {kind}: peak {row['peak_ratio']:.3f} speed {sp.median:.3f}")
    return rows


def part_budgets(w: R.RealWorkload, rounds: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for kind in ("dicts", "json"):
        data = _data(w, kind)
        default = Validator(w.schema, adapt=False)
        contenders = [measure.Contender("default", _runner(default, data, kind))]
        peaks: dict[str, list[int]] = {"default": []}
        validators = {}
        for label, budget in BUDGETS:
            v = Validator(default.schema, memory_budget=budget)
            validators[label] = v
            peaks[label] = []
            contenders.append(measure.Contender(label, _runner(v, data, kind, peaks[label])))
        m = measure.run_rounds(contenders, rounds=rounds, seed=seed)
        for label, budget in BUDGETS:
            v = validators[label]
            r = v.validate(data, input_kind=kind)
            sp = m.speedup(label, "default")
            limit = v.budget.memory or 0
            rows.append(
                {
                    "profile": w.name,
                    "kind": kind,
                    "budget": budget,
                    "budget_bytes": limit,
                    "config": list(r.config[:3]) + [r.config.source],
                    "calls": len(peaks[label]),
                    "max_peak_bytes": max(peaks[label]),
                    "within_every_call": all(p <= limit for p in peaks[label]),
                    "speed_ratio": sp.median,
                    "speed_ci": [sp.ci.low, sp.ci.high],
                    "rounds": m.rounds,
                }
            )
            log(f"  {kind} {budget}: max peak {max(peaks[label])} speed {sp.median:.3f}")
    return rows


def _heartbeat(stop: threading.Event, gaps: list[float], period: float = 0.001) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        time.sleep(period)
        now = time.perf_counter()
        gaps.append(now - last - period)
        last = now


class _Collections:
    """The garbage collector's full (generation 2) collections while installed, and the
    longest one (seconds): Python's own pause, whatever the thread that triggers it."""

    def __init__(self) -> None:
        self.full = 0
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.full += 1
            self.longest = max(self.longest, time.perf_counter() - self._started)


def _stall_run(work: Any, seconds: float) -> tuple[float, float, float, int, _Collections]:
    """Runs ``work`` repeatedly for ``seconds`` beside a heartbeat; returns the heartbeat's
    longest stall, its 99th percentile, the longest ``max_gil_hold`` reported, the calls and
    the full collections seen.

    A full collection first: the garbage the earlier parts of this script left would
    otherwise be collected during the run, a pause of its own (~12 ms over 16,384 statuses
    here) that validating does not cause (a validation call creates next to no objects that
    survive it); the collections that still happen during the run are reported."""
    gc.collect()
    collections = _Collections()
    gaps: list[float] = []
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(stop, gaps), daemon=True)
    beat.start()
    time.sleep(0.05)
    gaps.clear()
    gc.callbacks.append(collections)
    try:
        end = time.perf_counter() + seconds
        hold, calls = 0.0, 0
        while time.perf_counter() < end:
            r = work()
            calls += 1
            if r is not None:
                hold = max(hold, r.stats.max_gil_hold)
    finally:
        gc.callbacks.remove(collections)
    stop.set()
    beat.join()
    ordered = sorted(gaps) or [0.0]
    return ordered[-1], ordered[int(0.99 * (len(ordered) - 1))], hold, calls, collections


def part_pauses(w: R.RealWorkload, repeats: int, seconds: float) -> list[dict[str, Any]]:
    default = Validator(w.schema, adapt=False)
    paused = Validator(default.schema, max_pause="5ms")
    cases = [
        ("no validation", lambda: (time.sleep(0.01), None)[1]),
        ("default", lambda: default.validate_batch(w.records)),
        ('max_pause="5ms"', lambda: paused.validate_batch(w.records)),
        # The pool: records taken apart under the GIL, handed over at the signal polls.
        ('max_pause="5ms", threads=2', lambda: paused.validate_batch(w.records, threads=2)),
    ]
    rows = []
    for label, work in cases:
        stalls, p99s, holds, calls, full, longest_full = [], [], [], 0, 0, 0.0
        for _ in range(repeats):
            stall, p99, hold, k, seen = _stall_run(work, seconds)
            stalls.append(stall)
            p99s.append(p99)
            holds.append(hold)
            calls += k
            full += seen.full
            longest_full = max(longest_full, seen.longest)
        config = None
        if label != "no validation":
            r = work()
            config = list(r.config[:3]) + [r.config.source]
        rows.append(
            {
                "case": label,
                "config": config,
                "runs": repeats,
                "seconds_each": seconds,
                "calls": calls,
                "stall_max_ms": [round(s * 1e3, 2) for s in stalls],
                "stall_median_of_max_ms": round(measure.median(stalls) * 1e3, 2),
                "stall_p99_ms": round(measure.median(p99s) * 1e3, 2),
                "max_gil_hold_ms": round(max(holds) * 1e3, 2),
                "full_collections": full,
                "longest_full_collection_ms": round(longest_full * 1e3, 2),
            }
        )
        log(f"  {label}: longest stalls {rows[-1]['stall_max_ms']} ms")
    return rows


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Budgets and memory in flight (issue 13)",
        "",
        f"Machine: {doc['provenance']['cpu']}, {doc['provenance']['usable_cores']} usable cores,"
        f" load average {doc['provenance']['load_average']} (a shared, busy machine).",
        "",
        "## 1. Held-out real profiles, 2-20 KB records: chosen vs default",
        "",
        "| profile | kind | bytes/record | chosen B/M/T (source) | peak default | peak chosen |"
        " peak ratio | speed ratio [CI] | rounds | meets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["memory"]:
        c = r["config"]
        lines.append(
            f"| {r['profile']} | {r['kind']} | {r['object_size']} | {c[0]}/{c[1]}/{c[2]} ({c[3]})"
            f" | {r['default_peak_bytes']} | {r['chosen_peak_bytes']} | {r['peak_ratio']:.3f}"
            f" | {r['speed_ratio']:.3f} [{r['speed_ci'][0]:.3f}, {r['speed_ci'][1]:.3f}]"
            f" | {r['rounds']} | {'yes' if r['meets'] else 'no'} |"
        )
    lines += [
        "",
        "## 2. Memory budgets (Twitter statuses)",
        "",
        "| kind | budget | chosen B/M/T (source) | max peak_bytes | within every call | calls |"
        " speed vs default [CI] | rounds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["budgets"]:
        c = r["config"]
        lines.append(
            f"| {r['kind']} | {r['budget']} ({r['budget_bytes']} B) | {c[0]}/{c[1]}/{c[2]} ({c[3]})"
            f" | {r['max_peak_bytes']} | {'yes' if r['within_every_call'] else 'NO'} | {r['calls']}"
            f" | {r['speed_ratio']:.3f} [{r['speed_ci'][0]:.3f}, {r['speed_ci'][1]:.3f}]"
            f" | {r['rounds']} |"
        )
    lines += [
        "",
        "## 3. Heartbeat stalls beside dict validation (Twitter statuses)",
        "",
        "| case | B/M/T (source) | longest stall per run (ms) | median of longest | p99 |"
        " longest max_gil_hold | full collections (longest, ms) | runs x seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["pauses"]:
        c = r["config"]
        cfg = "-" if c is None else f"{c[0]}/{c[1]}/{c[2]} ({c[3]})"
        lines.append(
            f"| {r['case']} | {cfg} | {', '.join(map(str, r['stall_max_ms']))}"
            f" | {r['stall_median_of_max_ms']} | {r['stall_p99_ms']} | {r['max_gil_hold_ms']}"
            f" | {r['full_collections']} ({r['longest_full_collection_ms']})"
            f" | {r['runs']} x {r['seconds_each']} |"
        )
    lines += ["", "Summary: " + json.dumps(doc["summary"]), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run that shows it works")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rounds", type=int, default=None, help="paired rounds (default 9)")
    parser.add_argument(
        "--profiles", type=int, default=None, help="held-out profiles at most (default 6)"
    )
    parser.add_argument("--json", default=os.path.join(RESULTS, "eval_budgets.json"))
    parser.add_argument("--markdown", default=os.path.join(RESULTS, "eval_budgets.md"))
    args = parser.parse_args(argv)
    # more records than the default configuration's 8192 a chunk, so that chunks differ
    n = 9000 if args.quick else 16384
    rounds = args.rounds or (1 if args.quick else 9)
    profiles = args.profiles or (1 if args.quick else 6)
    log("loading held-out real-data profiles...")
    large = held_out_large(n, profiles, schemastore=not args.quick)
    if not large:
        log("no shared data folder (realdata, schemastore): nothing to measure")
        return 2
    twitter = next((w for w in large if w.name == "twitter-statuses"), large[0])
    log("1. memory at the same speed")
    memory = part_memory(large, rounds, args.seed)
    log("2. memory budgets")
    budgets = part_budgets(twitter, rounds, args.seed)
    log("3. pauses")
    pauses = part_pauses(twitter, 1 if args.quick else 5, 0.2 if args.quick else 2.0)
    paused = next(r for r in pauses if r["case"] == 'max_pause="5ms"')
    summary = {
        "memory_profiles_meeting_target": sum(r["meets"] for r in memory),
        "memory_rows": len(memory),
        "budgets_within_every_call": all(r["within_every_call"] for r in budgets),
        # The longest stall of every run, not a median: the target is on the longest.
        "stall_with_max_pause_ms": max(paused["stall_max_ms"]),
        "stall_target_met": max(paused["stall_max_ms"]) <= STALL_TARGET * 1e3,
    }
    doc = {
        "provenance": measure.provenance(repo=ROOT),
        "settings": {"records": n, "rounds": rounds, "profiles": [w.name for w in large]},
        "memory": memory,
        "budgets": budgets,
        "pauses": pauses,
        "summary": summary,
    }
    table = markdown(doc)
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
