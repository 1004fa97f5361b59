#!/usr/bin/env python3
"""What adaptation costs a call: profile detection, selection, import, the first call.

Figures (each the median over rounds of a timed loop, in a quiet process):

- **detection**: ``Profile(*CompiledSchema.profile_objects(records, n))``, what
  ``validate_batch`` does before selecting, for 1,000 and 100 records;
- **selection, same profile**: ``Selector.select`` answering a profile it has seen (the steady
  state of a service that validates similar batches: one dict lookup);
- **selection, varying profile**: every call a profile it has not seen exactly (other sampled
  string lengths) but whose quantized key is cached;
- both as a share of a whole ``validate_batch`` call on 1,000 and on 100 dict records, and the
  measured difference between an adaptive call and one with all three knobs given explicitly;
- **import**: ``import satya_adapt`` in a fresh interpreter (median of several);
- **first call**: in a fresh interpreter, the first ``validate_batch`` call minus the median of
  the calls after it (archive reading, lazy imports, table building).

Each selection figure is taken with the shipped archive and with a synthetic archive of
``--cells`` cells on the shipped grid, labelled as this machine's class (its elites are
arbitrary: the figures are about cost, not about the configurations chosen).

    python benchmarks/bench_selector.py            # full run, results in benchmarks/results/
    python benchmarks/bench_selector.py --quick    # a short run that only shows it works
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, Callable

import satya_adapt
from satya_adapt import Field, Profile, Schema, Validator
from satya_adapt import archive as A
from satya_adapt.selector import Selector
from satya_adapt.tuning import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
LIBRARIES = ("satya-adapt", "msgspec", "orjson", "scikit-learn", "numpy")

#: Targets of issue 3 ("Costs, shown by a benchmark").
TARGET_STEADY_US = 2.0  # detection + selection per call
TARGET_SHARE_1000 = 0.01  # of a 1,000-record dict call
TARGET_IMPORT_MS = 150.0
TARGET_FIRST_CALL_MS = 100.0


def schema() -> Schema:
    return Schema(
        {
            "id": Field(int, ge=0),
            "name": Field(str, min_length=1, max_length=64),
            "email": Field(str, format="email"),
            "score": Field(float, ge=0, le=100),
            "tags": Field(list, items=Field(str, max_length=16), max_items=8),
            "active": bool,
        }
    )


def records(n: int, rng: random.Random) -> list[dict[str, Any]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for i in range(n):
        name = "".join(rng.choice(letters) for _ in range(rng.randint(4, 20)))
        out.append(
            {
                "id": i,
                "name": name,
                "email": f"{name}@example.com",
                "score": round(rng.uniform(0, 100), 2),
                "tags": [
                    rng.choice(["red", "green", "blue", "cyan"]) for _ in range(rng.randint(0, 4))
                ],
                "active": rng.random() < 0.5,
            }
        )
    return out


def per_call_ns(fn: Callable[[], Any], loops: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time of one call in a loop of ``loops`` calls."""
    for _ in range(max(1, loops // 10)):
        fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter_ns() - t0) / loops)
    return measure.median(samples)


def synthetic_archive(n_cells: int, rng: random.Random) -> A.ArchiveFile:
    """The shipped grid with ``n_cells`` cells of arbitrary elites, labelled as this machine."""
    shipped = A.load_archive(A.shipped_archive())
    grid = shipped.grid
    cells: dict[Any, A.Cell] = {}
    tries = 0
    while len(cells) < n_cells and tries < 100 * n_cells:
        tries += 1
        p = Profile(
            round(2 ** rng.uniform(0, 7)),
            2 ** rng.uniform(1, 9),
            rng.random(),
            2 ** rng.uniform(5, 15),
            rng.choice(["dicts", "json", "ndjson"]),
            10_000,
        )
        index = A.descriptor(grid, p)
        if index is None or index in cells:
            continue
        b = 2 ** rng.randint(8, 15)
        elite: Any = "keep_default"
        if rng.random() < 0.8:
            elite = A.Elite(
                batch_size=b,
                micro_batch_size=b // 2 ** rng.randint(0, 4),
                threads=rng.randint(1, 2),
            )
        cells[index] = A.Cell(
            index=list(index),
            profile=A.cell_profile(p),
            elite=elite,
            throughput=1e6,
            default_throughput=1e6,
            speedup=1.0,
            speedup_ci_low=1.0,
            speedup_ci_high=1.0,
            peak_bytes=0,
            n_measurements=1,
        )
    return A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=A.provenance_here(
            tool="benchmarks/bench_selector.py (synthetic, not measured)",
            command=None,
            seed=None,
            generations=0,
        ),
        grid=grid,
        cells=list(cells.values()),
    )


# -- in-process figures -----------------------------------------------------------------------


def paired_ns(
    a: Callable[[], Any], b: Callable[[], Any], loops: int, rounds: int
) -> dict[str, float]:
    """Per-call times of ``a`` and ``b`` timed alternately in each round, and the median of the
    per-round differences ``a - b`` (drift of the machine hits both alike)."""
    for fn in (a, b):
        for _ in range(max(1, loops // 10)):
            fn()
    sa, sb = [], []
    for r in range(rounds):
        for fn, out in ((a, sa), (b, sb)) if r % 2 == 0 else ((b, sb), (a, sa)):
            t0 = time.perf_counter_ns()
            for _ in range(loops):
                fn()
            out.append((time.perf_counter_ns() - t0) / loops)
    return {
        "a_ns": measure.median(sa),
        "b_ns": measure.median(sb),
        "a_minus_b_ns": measure.median([x - y for x, y in zip(sa, sb)]),
    }


def call_figures(
    v: Validator, selector: Selector, recs: list[dict[str, Any]], loops: int, rounds: int
) -> dict[str, Any]:
    """Detection, selection and whole-call figures for one list of dict records."""
    core = v.schema._compiled
    n = len(recs)
    profile = Profile(*core.profile_objects(recs, n))
    rust = per_call_ns(lambda: core.profile_objects(recs, n), loops, rounds)
    detect = per_call_ns(lambda: Profile(*core.profile_objects(recs, n)), loops, rounds)
    same = per_call_ns(lambda: selector.select(profile), loops * 10, rounds)
    # 5,000 profiles that differ in avg_string_length (more than the 4,096 exact profiles the
    # first cache holds) but share one quantized key: each call misses the first cache and
    # hits the second.
    varying = [
        profile._replace(avg_string_length=profile.avg_string_length + i * 1e-9)
        for i in range(5000)
    ]
    counter = iter(range(1 << 62))
    vary = per_call_ns(lambda: selector.select(varying[next(counter) % 5000]), loops * 10, rounds)
    config = selector.select(profile)
    b, m, t = config[:3]
    calls = paired_ns(
        lambda: v.validate_batch(recs),
        lambda: v.validate_batch(recs, batch_size=b, micro_batch_size=m, threads=t),
        max(10, loops // n),
        rounds,
    )
    return {
        "profile": profile._asdict(),
        "config": config._asdict(),
        "detection_rust_ns": rust,
        "detection_ns": detect,
        "selection_same_ns": same,
        "selection_varying_ns": vary,
        "steady_ns": detect + same,
        "call_ns": calls["a_ns"],
        "explicit_call_ns": calls["b_ns"],
        "steady_share": (detect + same) / calls["a_ns"],
        "varying_share": (detect + vary) / calls["a_ns"],
        "adaptive_minus_explicit_ns": calls["a_minus_b_ns"],
    }


def selection_figures(
    archive_path: str | None,
    label: str,
    data: dict[int, list[dict[str, Any]]],
    loops: int,
    rounds: int,
) -> dict[str, Any]:
    v = Validator(schema(), archive=archive_path)
    selector = Selector.shared(archive_path)
    archive = selector.archive
    out: dict[str, Any] = {
        "archive": label,
        "status": selector.status,
        "cells": len(archive.cells) if archive is not None else 0,
    }
    for n, recs in data.items():
        out[str(n)] = call_figures(v, selector, recs, loops, rounds)
    return out


# -- fresh-interpreter figures ----------------------------------------------------------------

IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import satya_adapt; print(time.perf_counter() - t)"
)

# The fresh interpreter imports only satya_adapt and the standard library before the first
# call, as a user's program would; the schema and records come from a JSON file.
FIRST_CALL_SNIPPET = r"""
import json, sys, time
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
import satya_adapt
v = satya_adapt.Validator(doc["schema"], archive=doc["archive"])
recs = doc["records"]
t = time.perf_counter(); r = v.validate_batch(recs); first = time.perf_counter() - t
later = []
for _ in range(30):
    t = time.perf_counter(); v.validate_batch(recs); later.append(time.perf_counter() - t)
later.sort()
print(json.dumps({"first": first, "later": later[len(later) // 2], "source": r.config.source}))
"""


def fresh_env() -> dict[str, str]:
    """The environment of the fresh interpreters: no ``SATYA_ADAPT_ARCHIVE``, and bytecode
    caching on (as after ``pip install``, which compiles the modules)."""
    env = dict(os.environ)
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def fresh(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return done.stdout.strip().splitlines()[-1]


def import_figure(repeats: int, env: dict[str, str]) -> dict[str, Any]:
    fresh(IMPORT_SNIPPET, env)  # warm the OS file cache and the bytecode cache
    times = [float(fresh(IMPORT_SNIPPET, env)) for _ in range(repeats)]
    return {"median_s": measure.median(times), "runs_s": times}


def first_call_figure(
    archive_path: str | None,
    recs: list[dict[str, Any]],
    repeats: int,
    env: dict[str, str],
    tmp: str,
) -> dict[str, Any]:
    doc_path = os.path.join(tmp, "first_call.json")
    with open(doc_path, "w", encoding="utf-8") as f:
        json.dump({"schema": schema().json_schema, "archive": archive_path, "records": recs}, f)
    fresh(FIRST_CALL_SNIPPET, env, doc_path)  # warm-up: file and bytecode caches
    runs = [json.loads(fresh(FIRST_CALL_SNIPPET, env, doc_path)) for _ in range(repeats)]
    extra = [r["first"] - r["later"] for r in runs]
    return {
        "median_extra_s": measure.median(extra),
        "median_first_s": measure.median([r["first"] for r in runs]),
        "median_later_s": measure.median([r["later"] for r in runs]),
        "source": runs[0]["source"],
        "runs": runs,
    }


# -- report -----------------------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(result: dict[str, Any]) -> str:
    prov = result["provenance"]
    lines = [
        "# Selector costs",
        "",
        f"satya-adapt {result['version']}, {prov['cpu']}, {prov['usable_cores']} usable cores,"
        f" Python {prov['python']}, load average {prov['load_average']}"
        + (" (quick run)" if result["quick"] else ""),
        "",
        (
            "| archive | records | detection µs | selection µs (same / varying) | steady µs"
            f" (target < {TARGET_STEADY_US:g}) | call µs | steady share | adaptive − explicit µs"
            " | config |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for sel in result["selection"]:
        for n in ("1000", "100"):
            f = sel[n]
            c = f["config"]
            share = f"{f['steady_share']:.2%}"
            if n == "1000":
                ok = f["steady_share"] < TARGET_SHARE_1000
                share += f" (target < {TARGET_SHARE_1000:.0%}: {mark(ok)})"
            lines.append(
                f"| {sel['archive']} | {n} | {f['detection_ns'] / 1e3:.2f}"
                f" ({f['detection_rust_ns'] / 1e3:.2f} in Rust) |"
                f" {f['selection_same_ns'] / 1e3:.2f} / {f['selection_varying_ns'] / 1e3:.2f} |"
                f" {f['steady_ns'] / 1e3:.2f} {mark(f['steady_ns'] / 1e3 < TARGET_STEADY_US)} |"
                f" {f['call_ns'] / 1e3:.1f} | {share} |"
                f" {f['adaptive_minus_explicit_ns'] / 1e3:+.2f} |"
                f" {c['batch_size']}/{c['micro_batch_size']}/{c['threads']} {c['source']} |"
            )
    lines.append("")
    imp = result["import"]["median_s"] * 1e3
    lines.append(
        f"- `import satya_adapt`: {imp:.1f} ms"
        f" (target < {TARGET_IMPORT_MS:g} ms: {mark(imp < TARGET_IMPORT_MS)})"
    )
    for fc in result["first_call"]:
        extra = fc["median_extra_s"] * 1e3
        lines.append(
            f"- first call extra, {fc['archive']}: {extra:.1f} ms"
            f" (first {fc['median_first_s'] * 1e3:.1f} ms, later {fc['median_later_s'] * 1e3:.2f} ms;"
            f" target < {TARGET_FIRST_CALL_MS:g} ms: {mark(extra < TARGET_FIRST_CALL_MS)})"
        )
    lines += [
        "",
        (
            "Detection: `Profile(*CompiledSchema.profile_objects(records, n))` (Rust call alone in"
            " brackets). Selection: `Selector.select` on a profile seen before (same) and on 5,000"
            " profiles that differ but share a quantized key (varying). Steady = detection +"
            " selection (same). Adaptive − explicit: a `validate_batch` call minus the same call with"
            " the chosen knobs given explicitly, timed alternately. Import and first call: fresh"
            " interpreters with bytecode cached, median of several."
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run that only shows it works")
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="write results as JSON here, and a markdown table next to it (default: "
        "benchmarks/results/selector.json; a --quick run writes nothing unless given)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the records and archive")
    parser.add_argument(
        "--cells", type=int, default=200, help="cells of the synthetic archive (default 200)"
    )
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    loops, rounds, repeats = (2000, 3, 2) if args.quick else (20000, 15, 9)
    data = {1000: records(1000, rng), 100: records(100, rng)}
    env = fresh_env()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = os.path.join(tmp, "synthetic.json")
        A.write_archive(synthetic_archive(args.cells, rng), synthetic)
        scenarios = [(None, "shipped"), (synthetic, f"synthetic {args.cells} cells")]
        selection = [
            selection_figures(path, label, data, loops, rounds) for path, label in scenarios
        ]
        first_call = []
        for path, label in scenarios:
            fc = first_call_figure(path, data[1000], repeats, env, tmp)
            fc["archive"] = label
            first_call.append(fc)
        imports = import_figure(repeats, env)
    result = {
        "benchmark": "bench_selector",
        "version": satya_adapt.__version__,
        "quick": args.quick,
        "seed": args.seed,
        "provenance": measure.provenance(LIBRARIES, repo=ROOT),
        "targets": {
            "steady_us": TARGET_STEADY_US,
            "share_of_1000_record_call": TARGET_SHARE_1000,
            "import_ms": TARGET_IMPORT_MS,
            "first_call_extra_ms": TARGET_FIRST_CALL_MS,
        },
        "selection": selection,
        "import": imports,
        "bytecode_cached": True,
        "first_call": first_call,
    }
    table = report(result)
    print(table)
    path = args.json or (None if args.quick else os.path.join(RESULTS, "selector.json"))
    if path:
        measure.write_results(result, path, os.path.splitext(path)[0] + ".md", table)
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
