#!/usr/bin/env python3
"""Two checkouts of satya-adapt, each with its own built extension, timed on the same records.

Answers "did this change make validation slower?": each round runs one fresh process per
checkout (the order alternates between rounds), each timing ``validate_*`` with the default
configuration on the same records (median of ``--reps`` calls after two warm-up calls), and
the per-round ratio new/base is paired. Prints, per profile and input kind, the median ns per
record of each checkout and the median ratio with its range (above 1: slower).

A profile is a generated workload (``satya_adapt.tuning.workloads``), ``ss:NAME`` (the
SchemaStore schema NAME, its valid and invalid instances repeated to ``--n`` records; see
``schemastore.py``) or ``twitter`` (the statuses of ``../shared/realdata/twitter.json``
against ``bench_realworld.TWITTER_SCHEMA``). ``--errors no`` times ``errors=False`` calls.

    python benchmarks/compare_builds.py BASE_DIR NEW_DIR                    # dicts, T=1
    python benchmarks/compare_builds.py BASE_DIR NEW_DIR --kinds dicts,json,ndjson --rounds 6
    python benchmarks/compare_builds.py BASE_DIR NEW_DIR --profiles ss:foundryvtt-module-manifest,twitter \
        --kinds json --errors no
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
profile, kind, n, reps, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
errors, here = sys.argv[6] == "yes", sys.argv[7]
if profile.startswith("ss:") or profile == "twitter":
    sys.path.insert(0, here)  # this script's folder: the corpus, not the checkout measured
    import bench_realworld as B
    from schemastore import Corpus
    corpus = Corpus()
    if profile == "twitter":
        docs, schema, resources = B.twitter_records(), B.TWITTER_SCHEMA, {}
    else:
        name = profile[3:]
        docs = [d for k in ("valid", "invalid") for _, d in corpus.instances(name, k)]
        schema, resources = corpus.schema(name), corpus.resources(name)
    records = [docs[i % len(docs)] for i in range(n)]
    v = Validator(schema, adapt=False, resources=resources)
    expected = None
    as_json = lambda: json.dumps(records).encode()
    as_ndjson = lambda: b"\n".join(json.dumps(r).encode() for r in records) + b"\n"
else:
    try:
        from satya_adapt.tuning import workloads as W
    except ImportError:  # a checkout from before the tuning room existed
        from satya_adapt import workloads as W
    w = W.make_workload(profile, n, seed=11)
    v = Validator(w.schema, adapt=False)
    records, expected = w.records, w.expected_valid
    as_json, as_ndjson = w.json_bytes, w.ndjson_bytes
# Only the form measured: building the others and freeing them (blocks of MiB) would change
# the allocator's state (glibc's trim threshold) before the calls timed.
data = records if kind == "dicts" else as_json() if kind == "json" else as_ndjson()
run = {"dicts": v.validate_batch, "json": v.validate_json, "ndjson": v.validate_ndjson}[kind]
times = []
for _ in range(reps + 2):
    t = time.perf_counter()
    r = run(data, batch_size=8192, micro_batch_size=1024, threads=threads, errors=errors)
    times.append(time.perf_counter() - t)
if expected is not None:
    assert r.valid == expected
print(json.dumps({"seconds": statistics.median(times[2:]), "valid": sum(r.valid)}))
"""

#: Valid records per workload and checkout.
VALID: dict[tuple[str, ...], dict[str, int]] = {}


def seconds(checkout: str, args: list[str]) -> float:
    """The median seconds of one call, measured in a fresh process importing ``checkout``
    (the verdicts' count goes to ``VALID``, to tell two checkouts that disagree)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args, os.path.dirname(os.path.abspath(__file__))],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout)
    VALID.setdefault(tuple(args), {})[checkout] = got["valid"]
    return float(got["seconds"])


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
    p.add_argument(
        "--errors",
        choices=("yes", "no"),
        default="yes",
        help="build every error (the default call), or the verdicts alone",
    )
    a = p.parse_args(argv)
    profiles = a.profiles.split(",")
    w = max(13, *map(len, profiles))
    print(
        f"{'profile':{w}} {'kind':7} {'base ns/rec':>11} {'new ns/rec':>11} "
        f"{'new/base':>9} [min, max]  ({a.rounds} rounds, threads={a.threads}, errors={a.errors})"
    )
    for profile in profiles:
        for kind in a.kinds.split(","):
            args = [profile, kind, str(a.n), str(a.reps), str(a.threads), a.errors]
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
            print(
                f"{profile:{w}} {kind:7} {1e9 * statistics.median(base) / a.n:11.1f} "
                f"{1e9 * statistics.median(new) / a.n:11.1f} {statistics.median(ratios):9.3f} "
                f"[{min(ratios):.3f}, {max(ratios):.3f}]"
                + (
                    ""
                    if len(set(VALID[tuple(args)].values())) == 1
                    else f"  valid records differ: {VALID[tuple(args)]}"
                )
            )


if __name__ == "__main__":
    main()
