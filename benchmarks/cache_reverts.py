"""What a choice learned by online refinement costs in later processes once it has become
slower, and once it is fast again: a sequence of processes (each a new ``Live`` reading the
online cache the last one wrote) on one JSON cell, with injected timings (a second thread at
1.5 times one thread's speed while it is learned, then at 0.7, then 1.5 again), and each
process's cumulative throughput over the default configuration's.

    python benchmarks/cache_reverts.py [--against-live OTHER/live.py]

Injected timings, so every run prints the same table: it shows what the cache makes the next
process do, not how fast a machine runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from typing import Any

from satya_adapt.config import BatchConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 10000
PROFILE = (5, 10.0, 0.5, 200.0, "json", N)
SELECTED = BatchConfig(8192, 2048, 1, "heuristic")
#: (what the process is, its calls, a second thread's speed over one thread's)
PROCESSES = (
    ("learns the second thread", 200, 1.5),
    ("1st at 0.7", 300, 0.7),
    ("2nd at 0.7", 300, 0.7),
    ("3rd at 0.7", 300, 0.7),
    ("4th at 0.7", 300, 0.7),
    ("fast again", 600, 1.5),
    ("the next", 100, 1.5),
)


class _NoArchive:
    archive = None


def process(live_module: Any, path: str, calls: int, two_threads: float) -> dict[str, Any]:
    """One process: its calls' sources, its cumulative throughput over the default's, and the
    cache entry it leaves."""
    live_module._CACHE.path = None  # a new process reads the file anew
    live = live_module.Live(_NoArchive(), cache=path, cores=2)
    sources: Counter[str] = Counter()
    seconds = 0.0
    for _ in range(calls):
        config = live.choose(PROFILE, SELECTED)
        t = N / ((two_threads if config.threads == 2 else 1.0) * 1e6)
        live.record(N, t)
        sources[config.source] += 1
        seconds += t
    live_module._CACHE.flush()
    with open(path) as f:
        [entry] = json.load(f)["entries"]
    return {"sources": dict(sources), "vs_default": calls * N / 1e6 / seconds,
            "reverted": bool(entry.get("reverted")), "reverts": entry.get("reverts")}


def sequence(live_module: Any) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "online.json")
        return [process(live_module, path, calls, speed) for _, calls, speed in PROCESSES]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--against-live", default=None, metavar="LIVE_PY",
                   help="also run another live.py (another version's), side by side")
    args = p.parse_args(argv)
    from live_trace import load_live  # (this folder)

    runs = {"this": sequence(load_live(os.path.join(ROOT, "satya_adapt", "live.py"), "_cache_this"))}
    if args.against_live:
        runs["other"] = sequence(load_live(args.against_live, "_cache_other"))
    names = list(runs)
    print("| process | calls | " + " | ".join(f"{n}: over the default (cached as)" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for i, (what, calls, _) in enumerate(PROCESSES):
        cells = []
        for n in names:
            r = runs[n][i]
            state = f"reverted, {r['reverts']} reverts" if r["reverted"] else "learned"
            cells.append(f"{r['vs_default']:.4f} ({state})")
        print(f"| {what} | {calls} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
