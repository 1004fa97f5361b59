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

   The files are written with gzip level 1 (fast to write; reading, which is what is
   timed, costs about the same at any level) into a temporary folder removed at the end.
   ``--payload-bytes N`` gives every record a field of N random base64 characters (checked
   by the schema's ``maxLength``), which barely compresses: about 1 GB of compressed NDJSON
   is then 1-2 million records rather than 40 million small ones. ``--target-mb`` sizes the
   files to that many compressed MB in all (``--per-file`` computed from a sample). The
   machine's load average is recorded before and after the run.

    python benchmarks/bench_scale.py                       # 16 files
    python benchmarks/bench_scale.py --payload-bytes 600 --target-mb 1000 --rounds 1   # ~1 GB
    python benchmarks/bench_scale.py --quick               # tiny, for the smoke test
"""

from __future__ import annotations

import argparse
import base64
import gzip
import math
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


def schema(payload_bytes: int = 0) -> Dict[str, Any]:
    """SCHEMA, with the ``payload`` string of ``records(..., payload_bytes)`` when there is one."""
    if payload_bytes <= 0:
        return SCHEMA
    properties = dict(SCHEMA["properties"], payload={"type": "string", "maxLength": payload_bytes})
    return dict(SCHEMA, properties=properties)


def records(n: int, seed: int, payload_bytes: int = 0) -> List[Dict[str, Any]]:
    """Event records; about 1 in 20 invalid. ``payload_bytes``: a field of that many random
    base64 characters in each record (incompressible content, to reach a size in bytes)."""
    rnd = random.Random(seed)
    events = ["click", "view", "buy", "leave"]
    raw = math.ceil(payload_bytes * 3 / 4)
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
        if payload_bytes > 0:
            r["payload"] = base64.b64encode(rnd.randbytes(raw)).decode()[:payload_bytes]
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


#: Records generated (and written) at a time, so that a big file never sits in memory whole.
_BLOCK = 20_000


def write_files(folder: str, files: int, per_file: int, payload_bytes: int = 0) -> List[str]:
    """``files`` gzip (level 1) NDJSON files of ``per_file`` records each."""
    paths = []
    for f in range(files):
        path = os.path.join(folder, f"events-{f:02d}.ndjson.gz")
        with gzip.open(path, "wb", compresslevel=1) as out:
            for start in range(0, per_file, _BLOCK):
                block = records(min(_BLOCK, per_file - start), 100 + f + 1000 * start, payload_bytes)
                out.write("".join(json.dumps(r) + "\n" for r in block).encode())
        paths.append(path)
    return paths


def per_file_for(target_mb: float, files: int, payload_bytes: int) -> int:
    """Records per file for about ``target_mb`` compressed MB in ``files`` files, from the
    compressed size of a sample."""
    sample = 2000
    text = "".join(json.dumps(r) + "\n" for r in records(sample, 7, payload_bytes)).encode()
    per_record = len(gzip.compress(text, compresslevel=1)) / sample
    return max(1, round(target_mb * 1e6 / files / per_record))


def load() -> Dict[str, Any]:
    """The load averages (1, 5, 15 min) and the usable cores, to judge how busy the machine was."""
    return {"loadavg": list(os.getloadavg()), "cores": os.cpu_count()}


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

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
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


def bench_files(
    files: int, per_file: int, rounds: int, max_errors: int = 10, payload_bytes: int = 0, tmp: Optional[str] = None
) -> Dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="satya-scale-", dir=tmp)
    try:
        t = time.perf_counter()
        paths = write_files(folder, files, per_file, payload_bytes)
        generate_s = time.perf_counter() - t
        size = sum(os.path.getsize(p) for p in paths)
        print(f"wrote {files} files, {files * per_file} records, {size / 1e6:.1f} MB (gzip level 1)"
              f" in {generate_s:.1f} s; load {load()['loadavg']}", file=sys.stderr, flush=True)
        v = Validator(schema(payload_bytes))
        reference = run_single(v, paths, max_errors)
        n = reference.records
        rows: List[Dict[str, Any]] = []

        def measure(
            name: str, workers: int, run: Callable[[Sequence[str]], Any], memory: Optional[Callable[[], int]]
        ) -> None:
            run(paths[:workers])  # warm-up (starts the workers), on one file per worker
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                got = run(paths)
                times.append(time.perf_counter() - t)
                # Every timed run must give the summary of one process.
                if got[:6] != reference[:6]:
                    raise SystemExit(f"{name} with {workers} workers disagrees with one process")
            print(f"{name} {workers}: {times} s; load {load()['loadavg']}", file=sys.stderr, flush=True)
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

        measure("single process", 1, lambda ps: run_single(v, ps, max_errors), _maxrss_kib)
        for workers in (1, 2):
            measure("local pool", workers, lambda ps, w=workers: run_local(v, ps, max_errors, w), None)
        skipped = []
        for name, make in (("dask", dask_runner), ("ray", ray_runner)):
            for workers in (1, 2):
                runner = make(workers)
                if runner is None:
                    skipped.append(name)
                    break
                run, memory, close = runner
                try:
                    measure(name, workers, lambda ps, run=run: run(v, ps, max_errors), memory)
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
            "payload_bytes": payload_bytes,
            "generate_s": generate_s,
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
        f"Records carry a payload of {f['payload_bytes']} random base64 characters"
        f" (0: none); files written with gzip level 1 in {f['generate_s']:.0f} s (not timed below)."
        " Each engine: a warm-up on one file per worker, then the timed rounds over all files,"
        " each checked against the single process's summary.",
        f"Load average (1, 5, 15 min) on {doc['load_before']['cores']} cores: before"
        f" {doc['load_before']['loadavg']}, after {doc['load_after']['loadavg']}"
        " (the machine is shared: figures with 2 workers are noisy).",
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
    p.add_argument("--payload-bytes", type=int, default=0,
                   help="random base64 characters per record (content that does not compress)")
    p.add_argument("--target-mb", type=float, default=None,
                   help="compressed MB of all files together (sets --per-file from a sample)")
    p.add_argument("--tmp", default=None, help="folder for the temporary files (default: the system's)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="unused: the data is fixed by its seeds")
    p.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "results", "scale.json"))
    p.add_argument("--markdown", default=os.path.join(ROOT, "benchmarks", "results", "scale.md"))
    args = p.parse_args(argv)
    if args.quick:
        args.arrow_n, args.files, args.per_file, args.rounds = 2000, 3, 300, 1
    if args.target_mb is not None:
        args.per_file = per_file_for(args.target_mb, args.files, args.payload_bytes)
    config = {"batch_size": 8192, "micro_batch_size": 1024, "threads": 1}
    doc: Dict[str, Any] = {"provenance": provenance(), "load_before": load()}
    doc["arrow"] = bench_arrow(args.arrow_n, max(args.rounds, 3), config)
    doc["files"] = bench_files(
        args.files, args.per_file, args.rounds, payload_bytes=args.payload_bytes, tmp=args.tmp
    )
    doc["load_after"] = load()
    with open(args.json, "w") as out:
        json.dump(doc, out, indent=2)
    text = markdown(doc)
    with open(args.markdown, "w") as out:
        out.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
