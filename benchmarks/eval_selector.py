#!/usr/bin/env python3
"""Does tuning pay? The selector against the default, the heuristic and an oracle, held out.

On profiles the shipped archive was not trained on (other workload parameters and seeds, all
three input kinds), each profile's data is validated by:

- **adaptive**: ``Validator(schema, archive=...)`` as a user calls it (profile detection and
  selection included in the timing);
- **default**: the default configuration (``adapt=False``);
- **heuristic**: the configuration of :mod:`satya_adapt.heuristic` for the profile;
- **oracle**: the best of an exhaustive grid of configurations (``batch_size`` 256..65536 in
  powers of 4, ``micro_batch_size`` 64..4096 in powers of 4 for ``threads`` = 2; ``threads`` 1
  and 2). The oracle is *chosen* in a screening run and *measured* in the final run, so that it
  does not profit from the luckiest of its 22 draws (the winner's curse).

The final run is one interleaved run per profile (shuffled order each round, warm-up, paired
rounds; :mod:`satya_adapt.tuning.measure`), with the default configuration also timed against itself
(A/A) to show the noise. Reported per profile: items/s of each, adaptive as a fraction of the
oracle (median of paired ratios), adaptive against the default and the heuristic with
intervals. The summary checks the targets of issue 4:

- adaptive >= 95% of the oracle in the median and >= 85% at worst;
- adaptive never below the default beyond noise (the interval of adaptive/default lies below 1
  and its median below 1 minus the largest A/A deviation seen);
- adaptive ahead of the heuristic in the median (median over profiles of adaptive/heuristic > 1).

    python benchmarks/eval_selector.py            # full run (a few minutes)
    python benchmarks/eval_selector.py --quick    # small run that shows it works

Results go to ``--json`` and ``--markdown`` (default ``benchmarks/results/eval_selector.*``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from satya_adapt import archive as A
from satya_adapt.config import DEFAULT_CONFIGURATION, BatchConfig, clamp, effective
from satya_adapt.heuristic import heuristic_config
from satya_adapt.tuning import measure
from satya_adapt.tuning.optimizer import Measurer, WorkloadGenes
from satya_adapt.validator import Validator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
KINDS = ("dicts", "json", "ndjson")

TARGET_MEDIAN = 0.95
TARGET_WORST = 0.85

#: Held-out workloads: parameters the training run drew at random; seeds it never used.
HELD_OUT: tuple[tuple[str, dict[str, Any]], ...] = (
    ("tiny-plain", {"field_count": 3, "string_length": 6, "constrained": 0.1, "costly": 0.0,
                    "nesting": 0, "list_length": 0}),
    ("medium-mixed", {"field_count": 12, "string_length": 20, "constrained": 0.6, "costly": 0.4,
                      "nesting": 0, "list_length": 0}),
    ("wide-costly", {"field_count": 30, "string_length": 24, "constrained": 0.9, "costly": 0.8,
                     "nesting": 1, "list_length": 0}),
    ("long-strings", {"field_count": 6, "string_length": 180, "constrained": 0.5,
                      "costly": 0.5, "nesting": 0, "list_length": 0}),
    ("nested-lists", {"field_count": 10, "string_length": 10, "constrained": 0.5,
                      "costly": 0.2, "nesting": 2, "list_length": 16}),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def oracle_grid(cores: int) -> list[BatchConfig]:
    """The exhaustive grid the oracle chooses from."""
    sizes = [256, 1024, 4096, 16384, 65536]
    micros = [64, 256, 1024, 4096]
    out = [BatchConfig(b, min(1024, b), 1, "oracle") for b in sizes]
    if cores > 1:
        for b in sizes:
            for m in micros:
                if m <= b:
                    out.append(BatchConfig(b, m, 2, "oracle"))
    return out


def evaluate_profile(
    name: str,
    genes: WorkloadGenes,
    measurer: Measurer,
    archive: str,
    *,
    screen_rounds: int,
    rounds: int,
    seed: int,
    cores: int,
) -> dict[str, Any]:
    prepared = measurer.prepare(genes)
    n, kind = prepared.n, prepared.kind
    profile = prepared.profile
    # The measurer's compiled schema: the configurations timed on prepared.run and the adaptive
    # calls then run the same compiled schema (see eval_live.compiled).
    v = Validator(prepared.validator.schema, archive=archive)
    payload = prepared.payload
    call = {"dicts": v.validate_batch, "json": v.validate_json, "ndjson": v.validate_ndjson}[kind]
    chosen = call(payload)
    adaptive_config = chosen.config
    reference = prepared.reference()
    if list(chosen.valid) != reference[0] or list(chosen.errors) != reference[1]:
        raise AssertionError(f"{name}: the adaptive call's results differ from the default's")

    # Screening: every configuration of the grid, once per round, to choose the oracle.
    grid: dict[tuple[int, int, int], BatchConfig] = {}
    for c in oracle_grid(cores):
        grid.setdefault(effective(c, n, cores), c)
    screen = measurer.compare(
        prepared, {f"{c[0]}/{c[1]}/{c[2]}": c for c in grid.values()}, rounds=screen_rounds,
        seed=seed,
    )
    oracle_name = screen.fastest()
    oracle = next(c for c in grid.values() if f"{c[0]}/{c[1]}/{c[2]}" == oracle_name)

    heuristic = clamp(heuristic_config(profile, cores), n, cores)
    configs = {
        "default": DEFAULT_CONFIGURATION,
        "default (A/A)": DEFAULT_CONFIGURATION,
        "heuristic": heuristic,
        "oracle": oracle,
    }
    m = measurer.compare(
        prepared, configs, rounds=rounds, seed=seed + 1, extra={"adaptive": lambda: call(payload)}
    )
    rates = {k: m.summary(k).items_per_s for k in m.names}
    if any(r > prepared.touch_rate for r in rates.values()):
        raise AssertionError(f"{name}: implausible throughput (faster than touching the data)")

    def sp(a: str, b: str) -> dict[str, float]:
        s = m.speedup(a, b)
        return {"median": s.median, "low": s.ci.low, "high": s.ci.high}

    return {
        "profile": name,
        "input_kind": kind,
        "genes": genes.to_json(),
        "measured_profile": dict(profile._asdict()),
        "n": n,
        "descriptor": A.descriptor(A.load_archive(archive).grid, profile),
        "configs": {
            "adaptive": list(adaptive_config[:3]),
            "adaptive_source": adaptive_config.source,
            "default": list(DEFAULT_CONFIGURATION[:3]),
            "heuristic": list(heuristic[:3]),
            "oracle": list(oracle[:3]),
        },
        "items_per_s": {k: rates[k] for k in ("adaptive", "default", "heuristic", "oracle")},
        "screening": {
            "rounds": screen.rounds,
            "configs": len(grid),
            "oracle_items_per_s": screen.summary(oracle_name).items_per_s,
            "default_items_per_s": screen.summary("8192/1024/1").items_per_s
            if "8192/1024/1" in screen.names
            else None,
        },
        "adaptive_vs_oracle": sp("adaptive", "oracle"),
        "adaptive_vs_default": sp("adaptive", "default"),
        "adaptive_vs_heuristic": sp("adaptive", "heuristic"),
        "aa": sp("default (A/A)", "default"),
        "rounds": m.rounds,
    }


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    fractions = [r["adaptive_vs_oracle"]["median"] for r in rows]
    vs_heuristic = [r["adaptive_vs_heuristic"]["median"] for r in rows]
    noise = max(abs(r["aa"]["median"] - 1.0) for r in rows)
    below = [
        r["profile"] + " " + r["input_kind"]
        for r in rows
        if r["adaptive_vs_default"]["high"] < 1.0
        and r["adaptive_vs_default"]["median"] < 1.0 - noise
    ]
    median_fraction = measure.median(fractions)
    worst = min(fractions)
    median_vs_heuristic = measure.median(vs_heuristic)
    return {
        "profiles": len(rows),
        "noise": noise,
        "adaptive_over_oracle": {"median": median_fraction, "worst": worst,
                                 "best": max(fractions)},
        "adaptive_over_heuristic_median": median_vs_heuristic,
        "adaptive_over_default_median": measure.median(
            [r["adaptive_vs_default"]["median"] for r in rows]
        ),
        "below_default_beyond_noise": below,
        "targets": [
            {"target": f"adaptive >= {TARGET_MEDIAN:.0%} of the oracle (median)",
             "value": median_fraction, "met": median_fraction >= TARGET_MEDIAN},
            {"target": f"adaptive >= {TARGET_WORST:.0%} of the oracle (worst)",
             "value": worst, "met": worst >= TARGET_WORST},
            {"target": "adaptive never below the default beyond noise",
             "value": len(below), "met": not below},
            {"target": "adaptive ahead of the heuristic (median of adaptive/heuristic > 1)",
             "value": median_vs_heuristic, "met": median_vs_heuristic > 1.0},
        ],
    }


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Selector evaluation on held-out profiles",
        "",
        (f"Archive: `{doc['archive']}` ({doc['archive_cells']} cells, {doc['archive_elites']} ship"
        f" an elite). {doc['settings']['n']} records per profile; {doc['settings']['rounds']}"
        f" paired rounds (oracle screened in {doc['settings']['screen_rounds']});"
        f" {doc['provenance']['cpu']}, {doc['provenance']['usable_cores']} usable cores,"
        f" load {doc['provenance']['load_average']}; {doc['provenance']['date']}."),
        "",
        ("| profile | kind | adaptive (source) | adaptive items/s | default | heuristic | oracle"
        " (config) | adaptive/oracle | adaptive/default [CI] | adaptive/heuristic |"),
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        c, ips = r["configs"], r["items_per_s"]
        ad = r["adaptive_vs_default"]
        lines.append(
            f"| {r['profile']} | {r['input_kind']} | {'/'.join(map(str, c['adaptive']))}"
            f" ({c['adaptive_source']}) | {ips['adaptive']:,.0f} | {ips['default']:,.0f} |"
            f" {ips['heuristic']:,.0f} | {ips['oracle']:,.0f} ({'/'.join(map(str, c['oracle']))})"
            f" | {r['adaptive_vs_oracle']['median']:.3f} | {ad['median']:.3f}"
            f" [{ad['low']:.2f}, {ad['high']:.2f}] | {r['adaptive_vs_heuristic']['median']:.3f} |"
        )
    s = doc["summary"]
    lines += [
        "",
        "## Targets (issue 4)",
        "",
        "| target | value | met |",
        "|---|---:|---|",
    ]
    for t in s["targets"]:
        value = t["value"]
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {t['target']} | {text} | {'yes' if t['met'] else '**no**'} |")
    lines += [
        "",
        (f"Noise (largest A/A deviation of the default against itself): {s['noise']:.3f}."
        f" adaptive/oracle: median {s['adaptive_over_oracle']['median']:.3f}, worst"
        f" {s['adaptive_over_oracle']['worst']:.3f}, best {s['adaptive_over_oracle']['best']:.3f}"
        " (above 1: the fresh measurement of the screened oracle came out slower than adaptive)."),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and few rounds")
    p.add_argument("--seed", type=int, default=20240607, help="data seeds and round orders")
    p.add_argument("--archive", default=os.path.join(ROOT, "archives", "default.json"),
                   help="the archive the adaptive validator uses (default: the shipped one)")
    p.add_argument("--n", type=int, default=None, help="records per profile (default 20000)")
    p.add_argument("--rounds", type=int, default=None, help="paired rounds of the final run")
    p.add_argument("--json", default=os.path.join(RESULTS, "eval_selector.json"),
                   help="results JSON")
    p.add_argument("--markdown", default=os.path.join(RESULTS, "eval_selector.md"),
                   help="results table")
    args = p.parse_args(argv)
    n = args.n or (2000 if args.quick else 20000)
    rounds = args.rounds or (5 if args.quick else 11)
    screen_rounds = 3 if args.quick else 5
    cores = measure.usable_cores()
    measurer = Measurer(n, sample_ns=2e6 if args.quick else 1e7)
    archive = A.load_archive(args.archive)
    rng = random.Random(args.seed)
    started = time.monotonic()
    rows = []
    workloads = HELD_OUT[:2] if args.quick else HELD_OUT
    for name, params in workloads:
        for kind in KINDS:
            genes = WorkloadGenes(**params, input_kind=kind, seed=rng.randrange(1 << 31))
            row = evaluate_profile(
                name, genes, measurer, args.archive, screen_rounds=screen_rounds,
                rounds=rounds, seed=rng.randrange(1 << 31), cores=cores,
            )
            rows.append(row)
            log(
                f"{name} {kind}: adaptive {'/'.join(map(str, row['configs']['adaptive']))}"
                f" ({row['configs']['adaptive_source']}) {row['items_per_s']['adaptive']:,.0f}/s,"
                f" oracle {'/'.join(map(str, row['configs']['oracle']))}"
                f" {row['items_per_s']['oracle']:,.0f}/s, adaptive/oracle"
                f" {row['adaptive_vs_oracle']['median']:.3f}, adaptive/default"
                f" {row['adaptive_vs_default']['median']:.3f}"
                f" ({time.monotonic() - started:.0f}s)"
            )
    doc = {
        "benchmark": "eval_selector",
        "archive": os.path.relpath(os.path.abspath(args.archive), ROOT),
        "archive_cells": len(archive.cells),
        "archive_elites": sum(1 for c in archive.cells if not c.keep_default),
        "archive_provenance": {
            "date": archive.provenance.date.isoformat(),
            "command": archive.provenance.command,
            "generations": archive.provenance.generations,
        },
        "settings": {"quick": args.quick, "n": n, "rounds": rounds,
                     "screen_rounds": screen_rounds, "seed": args.seed, "cores": cores,
                     "oracle_grid": [list(c[:3]) for c in oracle_grid(cores)]},
        "provenance": measure.provenance(("satya-adapt", "msgspec", "orjson")),
        "seconds": time.monotonic() - started,
        "rows": rows,
        "summary": summarize(rows),
    }
    table = markdown(doc)
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
