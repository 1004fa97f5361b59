#!/usr/bin/env python3
"""Beyond one process: Arrow input, and many compressed NDJSON files on engines.

Two measurements, in one run:

1. **Arrow**: ``Validator.validate_arrow(table)`` against ``validate_batch(table.to_pylist())``
   (the conversion is what users pay without Arrow input), same batch configuration, on a
   table with nested structs, lists, strings and nulls. Interleaved rounds, medians, the
   ratio per round. Both must agree on every record before any time is reported.
2. **Many files**: gzip NDJSON files validated by one process (the files one after the
   other), the CLI's local process pool, Dask (a ``LocalCluster`` of single-threaded worker
   processes) and Ray (a local instance), with 1 and 2 workers: throughput, the engine's
   overhead per partition (``(t_engine - t_single / workers) / files``, positive = cost), and
   the peak resident memory of a worker (``ru_maxrss``, which includes the interpreter and
   the engine's own imports). Every run must give the summary of the single process.
   Engines that are not installed are reported as skipped.

    python benchmarks/bench_scale.py                       # 16 files
    python benchmarks/bench_scale.py --quick               # tiny, for the smoke test
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from satya_adapt import Validator  # noqa: E402
from satya_adapt.summary import merge, validate_path  # noqa: E402

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["id", "user", "event", "tags"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "event": {"enum": ["click", "view", "buy", "leave"]},
        "score": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
        "user": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 40},
                "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
                "age": {"type": ["integer", "null"], "minimum": 0, "maximum": 150},
            },
        },
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 5},
    },
}


def records(n: int, seed: int) -> List[Dict[str, Any]]:
    """Event records; about 1 in 20 invalid."""
    rnd = random.Random(seed)
    events = ["click", "view", "buy", "leave"]
    out = []
    for i in range(n):
        r: Dict[str, Any] = {
            "id": i,
            "event": events[i % 4],
            "score": None if i % 7 == 0 else round(rnd.random() * 100, 3),
            "user": {
                "name": f"user{rnd.randrange(100000):05d}",
                "email": f"u{rnd.randrange(1000)}@example.com",
                "age": None if i % 11 == 0 else rnd.randrange(90),
            },
            "tags": [f"t{rnd.randrange(50)}" for _ in range(rnd.randrange(4))],
        }
        if rnd.randrange(20) == 0:
            r["user"]["email"] = "nobody"
        out.append(r)
    return out


def provenance() -> Dict[str, Any]:
    import subprocess

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    versions = {}
    for name in ("pyarrow", "dask", "distributed", "ray"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    from satya_adapt import _validator

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": platform.processor() or platform.machine(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "build": _validator.BUILD_PROFILE,
        "commit": commit,
        "versions": versions,
    }


# -- 1. Arrow ---------------------------------------------------------------------------------


def bench_arrow(n: int, rounds: int, config: Dict[str, int]) -> Dict[str, Any]:
    import pyarrow as pa

    table = pa.Table.from_pylist(records(n, 1))
    v = Validator(SCHEMA, adapt=False)
    a = v.validate_arrow(table, **config)
    b = v.validate_batch(table.to_pylist(), **config)
    if a.valid != b.valid or a.errors != b.errors:
        raise SystemExit("arrow and dict paths disagree: no times reported")
    dicts = table.to_pylist()
    ways: Dict[str, Callable[[], Any]] = {
        "validate_arrow(table)": lambda: v.validate_arrow(table, **config),
        "validate_batch(table.to_pylist())": lambda: v.validate_batch(table.to_pylist(), **config),
        "validate_batch(dicts) (no conversion)": lambda: v.validate_batch(dicts, **config),
        "table.to_pylist() alone": lambda: table.to_pylist(),
    }
    times: Dict[str, List[float]] = {k: [] for k in ways}
    ratios = []
    for r in range(rounds):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        got = {}
        for k in order:
            t = time.perf_counter()
            ways[k]()
            got[k] = time.perf_counter() - t
            times[k].append(got[k])
        ratios.append(got["validate_batch(table.to_pylist())"] / got["validate_arrow(table)"])
    return {
        "records": n,
        "invalid": a.n_invalid,
        "config": config,
        "rounds": rounds,
        "median_s": {k: statistics.median(x) for k, x in times.items()},
        "records_per_s": {k: n / statistics.median(x) for k, x in times.items()},
        "speedup_median": statistics.median(ratios),
        "speedup_range": [min(ratios), max(ratios)],
    }


# -- 2. many files ----------------------------------------------------------------------------


def write_files(folder: str, files: int, per_file: int) -> List[str]:
    paths = []
    for f in range(files):
        path = os.path.join(folder, f"events-{f:02d}.ndjson.gz")
        with gzip.open(path, "wt", compresslevel=1) as out:
            for r in records(per_file, 100 + f):
                out.write(json.dumps(r) + "\n")
        paths.append(path)
    return paths


def _maxrss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_single(v: Validator, paths: Sequence[str], max_errors: int) -> Any:
    return merge(validate_path(v, p, i, max_errors) for i, p in enumerate(paths))


def run_local(v: Validator, paths: Sequence[str], max_errors: int, workers: int) -> Any:
    from satya_adapt.cli._files import validate_local

    return validate_local(v, list(paths), max_errors, "auto", {}, workers)


def dask_runner(workers: int) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return None
    from satya_adapt.dask import validate_files

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)

    def run(v: Validator, paths: Sequence[str], max_errors: int) -> Any:
        return validate_files(v, paths, client=client, max_errors=max_errors)

    def memory() -> int:
        return max(client.run(_maxrss_kib).values())

    def close() -> None:
        client.close()
        cluster.close()

    return run, memory, close


def ray_runner(workers: int) -> Any:
    try:
        import ray
    except ImportError:
        return None
    from satya_adapt.ray import validate_files

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)

    def run(v: Validator, paths: Sequence[str], max_errors: int) -> Any:
        return validate_files(v, paths, max_errors=max_errors)

    def memory() -> int:
        task = ray.remote(_maxrss_kib)
        return max(ray.get([task.remote() for _ in range(4 * workers)]))

    return run, memory, ray.shutdown


def bench_files(files: int, per_file: int, rounds: int, max_errors: int = 10) -> Dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="satya-scale-")
    try:
        paths = write_files(folder, files, per_file)
        size = sum(os.path.getsize(p) for p in paths)
        v = Validator(SCHEMA)
        reference = run_single(v, paths, max_errors)
        n = reference.records
        rows: List[Dict[str, Any]] = []

        def measure(name: str, workers: int, run: Callable[[], Any], memory: Optional[Callable[[], int]]) -> None:
            got = run()  # warm-up, and the correctness check
            if got[:6] != reference[:6]:
                raise SystemExit(f"{name} with {workers} workers disagrees with one process")
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                run()
                times.append(time.perf_counter() - t)
            rows.append(
                {
                    "engine": name,
                    "workers": workers,
                    "median_s": statistics.median(times),
                    "times_s": times,
                    "records_per_s": n / statistics.median(times),
                    "mb_per_s_compressed": size / 1e6 / statistics.median(times),
                    "peak_rss_mib_per_worker": None if memory is None else memory() / 1024,
                }
            )

        measure("single process", 1, lambda: run_single(v, paths, max_errors), _maxrss_kib)
        for workers in (1, 2):
            measure("local pool", workers, lambda w=workers: run_local(v, paths, max_errors, w), None)
        skipped = []
        for name, make in (("dask", dask_runner), ("ray", ray_runner)):
            for workers in (1, 2):
                runner = make(workers)
                if runner is None:
                    skipped.append(name)
                    break
                run, memory, close = runner
                try:
                    measure(name, workers, lambda run=run: run(v, paths, max_errors), memory)
                finally:
                    close()
        single = rows[0]["median_s"]
        for row in rows:
            row["overhead_ms_per_partition"] = (
                1000 * (row["median_s"] - single / row["workers"]) / files
            )
        return {
            "files": files,
            "records": n,
            "invalid": reference.invalid,
            "compressed_bytes": size,
            "rounds": rounds,
            "rows": rows,
            "skipped": skipped,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(doc: Dict[str, Any]) -> str:
    a = doc["arrow"]
    lines = [
        "# bench_scale",
        "",
        f"Provenance: {json.dumps(doc['provenance'])}",
        "",
        f"## Arrow input ({a['records']} records, {a['invalid']} invalid,"
        f" configuration {a['config']}, {a['rounds']} interleaved rounds)",
        "",
        "| way | median s | records/s |",
        "|---|---:|---:|",
    ]
    for k, s in a["median_s"].items():
        lines.append(f"| {k} | {s:.4f} | {a['records_per_s'][k]:,.0f} |")
    lo, hi = a["speedup_range"]
    lines += [
        "",
        f"Speed-up of validate_arrow over to_pylist + validate_batch: median {a['speedup_median']:.2f}x"
        f" (range {lo:.2f}x to {hi:.2f}x; target 5x).",
        "",
    ]
    f = doc["files"]
    lines += [
        f"## Many files ({f['files']} gzip NDJSON files, {f['records']} records,"
        f" {f['compressed_bytes'] / 1e6:.1f} MB compressed, {f['rounds']} rounds)",
        "",
        "| engine | workers | median s | records/s | MB/s (compressed) | overhead ms/partition | peak RSS MiB/worker |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in f["rows"]:
        rss = "-" if r["peak_rss_mib_per_worker"] is None else f"{r['peak_rss_mib_per_worker']:.0f}"
        lines.append(
            f"| {r['engine']} | {r['workers']} | {r['median_s']:.3f} | {r['records_per_s']:,.0f}"
            f" | {r['mb_per_s_compressed']:.2f} | {r['overhead_ms_per_partition']:.1f} | {rss} |"
        )
    if f["skipped"]:
        lines += ["", f"Skipped (not installed): {', '.join(f['skipped'])}."]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    p.add_argument("--arrow-n", type=int, default=200_000, help="records of the Arrow table")
    p.add_argument("--files", type=int, default=16, help="compressed NDJSON files")
    p.add_argument("--per-file", type=int, default=100_000, help="records per file")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="unused: the data is fixed by its seeds")
    p.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "results", "scale.json"))
    p.add_argument("--markdown", default=os.path.join(ROOT, "benchmarks", "results", "scale.md"))
    args = p.parse_args(argv)
    if args.quick:
        args.arrow_n, args.files, args.per_file, args.rounds = 2000, 3, 300, 1
    config = {"batch_size": 8192, "micro_batch_size": 1024, "threads": 1}
    doc = {
        "provenance": provenance(),
        "arrow": bench_arrow(args.arrow_n, max(args.rounds, 3), config),
        "files": bench_files(args.files, args.per_file, args.rounds),
    }
    with open(args.json, "w") as out:
        json.dump(doc, out, indent=2)
    text = markdown(doc)
    with open(args.markdown, "w") as out:
        out.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
