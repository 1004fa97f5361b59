"""What reading compressed input costs: ``validate_ndjson`` on one NDJSON file, plain, gzip- and
zstd-compressed (decompressed as a stream, see ``satya_adapt/_inputs.py``), timed in
interleaved rounds; medians and each form's ratio to the plain file, paired by round.

    python benchmarks/bench_inputs.py                 # 200,000 mixed10 records, 9 rounds
    python benchmarks/bench_inputs.py --quick --json  # a smoke run, JSON on stdout
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from satya_adapt import Validator
from satya_adapt.tuning import workloads as W


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", default="mixed10", help="a workload profile (default mixed10)")
    p.add_argument("--quick", action="store_true", help="2,000 records, 3 rounds")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args(argv)
    n, rounds = (2_000, 3) if args.quick else (args.records, args.rounds)
    w = W.make_workload(args.profile, n, seed=args.seed)
    data = w.ndjson_bytes()
    forms = {"plain": data, "gzip": gzip.compress(data, compresslevel=6, mtime=0)}
    try:
        import zstandard

        forms["zstd"] = zstandard.ZstdCompressor(level=3).compress(data)
    except ImportError:
        pass
    v = Validator(w.schema)
    times: dict[str, list[float]] = {name: [] for name in forms}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, blob in forms.items():
            paths[name] = Path(tmp) / f"records.{name}"
            paths[name].write_bytes(blob)
        expected = v.validate_ndjson(paths["plain"]).valid
        for name, path in paths.items():  # every form reads the same records
            if v.validate_ndjson(path).valid != expected:
                raise SystemExit(f"{name}: results differ from the plain file's")
        for r in range(rounds):
            order = list(paths) if r % 2 == 0 else list(reversed(paths))
            for name in order:
                start = time.perf_counter()
                v.validate_ndjson(paths[name])
                times[name].append(time.perf_counter() - start)
    plain = times["plain"]
    out = {
        "records": n,
        "rounds": rounds,
        "profile": args.profile,
        "cpu_count": os.cpu_count(),
        "forms": {
            name: {
                "bytes": len(forms[name]),
                "median_s": statistics.median(ts),
                "items_per_s": n / statistics.median(ts),
                "ratio_to_plain": statistics.median(t / p for t, p in zip(ts, plain)),
            }
            for name, ts in times.items()
        },
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{n} {args.profile} records, {rounds} interleaved rounds (medians)")
        print(f"{'form':<6} {'bytes':>12} {'seconds':>9} {'items/s':>12} {'x plain':>8}")
        for name, f in out["forms"].items():
            print(
                f"{name:<6} {f['bytes']:>12,} {f['median_s']:>9.3f} {f['items_per_s']:>12,.0f}"
                f" {f['ratio_to_plain']:>8.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
