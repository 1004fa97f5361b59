#!/usr/bin/env python3
"""Two checkouts' online refinement on ``eval_live.py``'s held-out profiles, data seed by seed.

Answers "does this change to live verification do better on these profiles?", where one run
of ``eval_live.py`` cannot tell: its short held-out cells (400 records of JSON, 2,000 of
NDJSON, about 0.2 ms a call) move by 0.1 from run to run with the machine's noise and with
whether their cell learns a second thread within the run. For each data seed, one process per
checkout (which goes first alternates with the seed) runs ``eval_live.py``'s held-out
measurement of each chosen profile, as the full run does: ``--warmup`` calls paired with the
default, the oracle screened, then interleaved rounds of adaptive, default, default again
and oracle. Each checkout runs its own ``satya_adapt`` (built: the extension in place) and its
own ``archives/default.json``; the measurement code is this checkout's ``eval_live.py``.
Prints, per profile and checkout, over the seeds: adaptive/oracle and adaptive/default
(median, lower quartile, least), warm-up/default (the adaptive's cumulative wall time ratio
over its first calls, bookkeeping and trials included), and in how many runs the cell ended
on more than one thread.

    python benchmarks/held_out_ab.py BASE_DIR NEW_DIR                    # profiles 7 and 11
    python benchmarks/held_out_ab.py BASE_DIR NEW_DIR --profiles 7,11 --seeds 24
    python benchmarks/held_out_ab.py BASE_DIR NEW_DIR --quick            # shows it works

Profiles are indexes into ``eval_live.HELD_OUT`` (7: medium-mixed JSON of 400 records, 11:
tiny-plain NDJSON of 2,000). A run takes 2-3 s a profile (``--quick``: under 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import argparse, json, os, random, sys, warnings
# The checkout's package first (`-c` puts the folder this runs in before PYTHONPATH: started
# from another checkout, that one's package ran for both), then this script's folder
# (eval_live.py, not the checkout's).
sys.path[:0] = [sys.argv[1], sys.argv[2]]
warnings.simplefilter("ignore")
import eval_live as E
import satya_adapt
from satya_adapt.tuning import measure
checkout, profiles, seed, quick = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
args = argparse.Namespace(quick=quick, warmup=4 if quick else 30, rounds=3 if quick else 9,
                          screen_rounds=2 if quick else 3)
archive = os.path.join(checkout, "archives", "default.json")
rng = random.Random(seed)
with E._empty_cache():
    for i in map(int, profiles.split(",")):
        name, params, kind, n = E.HELD_OUT[i]
        row = E.held_out(name, params, kind, min(n, 2000) if quick else n, archive, args, rng,
                         measure.usable_cores())
        print(json.dumps({
            "profile": i, "name": f"{name} {kind} n={row['n']}", "seed": seed,
            "adaptive_vs_oracle": row["adaptive_vs_oracle"]["median"],
            "adaptive_vs_default": row["adaptive_vs_default"]["median"],
            "warmup_vs_default": row["warmup_cumulative_vs_default"],
            "learned": row["incumbent"]["config"], "oracle": row["oracle"],
            "package": os.path.dirname(os.path.abspath(satya_adapt.__file__)),
        }), flush=True)
"""


def run_child(checkout: str, profiles: str, seed: int, quick: bool) -> list[dict[str, Any]]:
    root = os.path.abspath(checkout)
    env = dict(os.environ, PYTHONPATH=root)
    cmd = [sys.executable, "-c", CHILD, HERE, root, profiles, str(seed), "1" if quick else "0"]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"held_out_ab: {checkout}, seed {seed}:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    ran = {r["package"] for r in rows}
    if ran != {os.path.join(root, "satya_adapt")}:
        raise SystemExit(f"held_out_ab: {checkout} ran the package in {sorted(ran)}")
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    def stats(key: str, xs: list[dict[str, Any]]) -> str:
        v = sorted(x[key] for x in xs)
        return f"{statistics.median(v):.3f} / {v[len(v) // 4]:.3f} / {v[0]:.3f}"

    out = [
        "| profile | checkout | runs | adaptive/oracle | adaptive/default | warm-up/default |"
        " more than one thread |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    keys = sorted({(r["profile"], r["name"]) for r in rows})
    for i, name in keys:
        for label in dict.fromkeys(r["checkout"] for r in rows):
            xs = [r for r in rows if r["profile"] == i and r["checkout"] == label]
            threads = sum(1 for x in xs if x["learned"][2] > 1)
            out.append(
                f"| {name} | {label} | {len(xs)} | {stats('adaptive_vs_oracle', xs)}"
                f" | {stats('adaptive_vs_default', xs)} | {stats('warmup_vs_default', xs)}"
                f" | {threads} |"
            )
    out.append("")
    out.append("Each ratio: median / lower quartile / least over the runs (one run a data seed).")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("base", help="a checkout (its satya_adapt built in place)")
    p.add_argument("new", help="another checkout (or the same, for its noise)")
    p.add_argument("--profiles", default="7,11", help="indexes into eval_live.HELD_OUT")
    p.add_argument("--seeds", type=int, default=12, help="data seeds (runs per checkout)")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="few calls and rounds, 2,000 records at most")
    p.add_argument("--json", default=None, help="write every run's figures here")
    args = p.parse_args(argv)
    labels = {"base": args.base, "new": args.new}
    rows: list[dict[str, Any]] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        order = list(labels) if seed % 2 else list(labels)[::-1]  # alternate who goes first
        for label in order:
            for row in run_child(labels[label], args.profiles, seed, args.quick):
                rows.append({**row, "checkout": label})
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"base": args.base, "new": args.new, "runs": rows}, f, indent=1)
    print(f"base: {args.base}\nnew: {args.new}\n")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
