#!/usr/bin/env python3
"""Two checkouts of satya-adapt, each with its own built extension, timed on the same records.

Answers "did this change make validation slower?": each round runs one fresh process per
checkout (the order alternates between rounds), each timing ``validate_*`` with the default
configuration on the same generated records (median of ``--reps`` calls after two warm-up
calls), and the per-round ratio new/base is paired. Prints, per profile and input kind, the
median ns per record of each checkout and the median ratio with its range (above 1: slower).

    python benchmarks/compare_builds.py BASE_DIR NEW_DIR                    # dicts, T=1
    python benchmarks/compare_builds.py BASE_DIR NEW_DIR --kinds dicts,json,ndjson --rounds 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, statistics, sys, time
from satya_adapt import Validator
try:
    from satya_adapt.tuning import workloads as W
except ImportError:  # a checkout from before the tuning room existed
    from satya_adapt import workloads as W
profile, kind, n, reps, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
w = W.make_workload(profile, n, seed=11)
v = Validator(w.schema, adapt=False)
# Only the form measured: building the others and freeing them (blocks of MiB) would change
# the allocator's state (glibc's trim threshold) before the calls timed.
data = w.records if kind == "dicts" else w.json_bytes() if kind == "json" else w.ndjson_bytes()
run = {"dicts": v.validate_batch, "json": v.validate_json, "ndjson": v.validate_ndjson}[kind]
times = []
for _ in range(reps + 2):
    t = time.perf_counter()
    r = run(data, batch_size=8192, micro_batch_size=1024, threads=threads)
    times.append(time.perf_counter() - t)
assert r.valid == w.expected_valid
print(json.dumps(statistics.median(times[2:])))
"""


def seconds(checkout: str, args: list[str]) -> float:
    """The median seconds of one call, measured in a fresh process importing ``checkout``."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base", help="checkout measured as the baseline")
    p.add_argument("new", help="checkout measured against it")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--n", type=int, default=20000, help="records per call")
    p.add_argument("--reps", type=int, default=7, help="timed calls per process")
    p.add_argument("--profiles", default="plain3,constrained3,mixed10,wide30,nested")
    p.add_argument("--kinds", default="dicts")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    print(f"{'profile':13} {'kind':7} {'base ns/rec':>11} {'new ns/rec':>11} "
          f"{'new/base':>9} [min, max]  ({a.rounds} rounds, threads={a.threads})")
    for profile in a.profiles.split(","):
        for kind in a.kinds.split(","):
            args = [profile, kind, str(a.n), str(a.reps), str(a.threads)]
            base, new, ratios = [], [], []
            for r in range(a.rounds):
                first_base = r % 2 == 0
                tb = seconds(a.base, args) if first_base else 0.0
                tn = seconds(a.new, args)
                if not first_base:
                    tb = seconds(a.base, args)
                base.append(tb)
                new.append(tn)
                ratios.append(tn / tb)
            print(f"{profile:13} {kind:7} {1e9 * statistics.median(base) / a.n:11.1f} "
                  f"{1e9 * statistics.median(new) / a.n:11.1f} {statistics.median(ratios):9.3f} "
                  f"[{min(ratios):.3f}, {max(ratios):.3f}]")


if __name__ == "__main__":
    main()
