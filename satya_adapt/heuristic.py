"""The heuristic: a batch configuration from the profile alone, when the archive cannot answer.

The rule (constants below, all sizes in bytes; measured in ``archives/README.md``):

1. **Work per record** ``w = object_size * (1 + COMPLEXITY_WEIGHT * constraint_complexity)``:
   bytes to walk, weighted up for a check-heavy schema (regex and formats cost more per byte).
2. **batch_size** from bytes per chunk: ``CHUNK_BYTES / object_size`` records, rounded to the
   nearest power of two and kept in ``[MIN_BATCH_SIZE, MAX_BATCH_SIZE]``. Memory in flight is
   then about ``CHUNK_BYTES`` whatever the record size (``POOL_CHUNK_BYTES`` with a pool,
   rule 4, and up to half as much again where chunks are evened out); records of about 256
   bytes get the default configuration's 8192. On a call of ``n`` records whose chunks would
   end in a short one (under half a chunk), the chunks are made equal instead
   (:func:`even_chunks`, applied by the selector to the call's own ``n``: the rule sees the
   cell's, a power of two), each up to half as large again: the last chunk runs alone (a pool's threads wait for it), and
   5,000 records in 4,096-record chunks ran at 0.89 times the speed of one chunk (NDJSON, long
   strings, two threads; 0.92 for 2,500 regex-checked records in 2,048-record chunks).
3. **micro_batch_size** from work per task: ``TASK_WORK / w`` records, rounded to a power of
   two, in ``[MIN_MICRO_BATCH_SIZE, batch_size]``.
4. **threads**: 1 (the direct path, no pool) unless all of these hold: the input is JSON or
   NDJSON; more than one usable core; a record carries at least ``PARALLEL_MIN_RECORD_WORK``
   (enough checking to outweigh handing its result back under the GIL); a chunk
   (``min(batch_size, n)`` records) carries at least ``PARALLEL_MIN_WORK``. Then
   ``min(usable cores, tasks per chunk)``.

   Measured on the five profiles of ``benchmarks/bench_peers.py`` (100,000 records, 2 cores,
   a busy machine, so with wide intervals): two threads ran dicts at 0.32-0.63 times the speed
   of one (the GIL-holding thread takes every record apart before the pool can check it), so
   dicts stay on one thread; JSON and NDJSON gained with large records (``wide30``, 420 bytes:
   1.2-1.4 times) and lost with small, regex-checked ones (``constrained3``, 56 bytes:
   0.77-0.90 times). Where a pool pays elsewhere, the archive's measured elites say so; the
   heuristic does not guess it. Dicts measured again on 2026-12-05, once records were taken
   apart 1.1-1.6 times faster for the pool (10,000 records, 2 cores, 64-record tasks, medians
   of 15 interleaved calls): two threads ran 15 regex-checked strings of 120 characters at
   1.06-1.13 times one thread's speed, 6 strings of 180 characters at 1.0-1.13, 12 mixed
   fields at 0.6-0.77, 3 short strings at 0.28; with the second core taken (pinned to one),
   0.65, 0.66, 0.43 and 0.25. Dicts still stay on one thread here: where a second thread pays
   it pays little, and costs much when the core is busy. Measured again on 2026-12-03 (the engine since then checks
   JSON and NDJSON with the GIL released and hands results back in bulk), steady state (25
   calls of one configuration per process, processes alternating, 3 pairs per profile, 2
   cores): two threads ran ``plain3`` (52 bytes) at 1.09-1.60 times one thread's speed,
   ``constrained3`` at 1.09-2.19, ``mixed10`` JSON at 1.05-1.58, ``nested`` NDJSON at
   1.15-1.52 (50,000 records), ``plain3`` JSON at 1.26-2.21 (12,000 records): every pair
   faster. ``PARALLEL_MIN_RECORD_WORK`` went from 512 to 64 weighted bytes (the smallest
   record measured, 52 bytes of ``plain3``, weighs 101); ``PARALLEL_MIN_WORK`` still keeps
   small calls on one thread. A call whose ``n`` is unknown (a stream) may be small, and
   there a pool costs its start: 200 and 1,000 ``mixed10`` records from a file object ran at
   0.44 and 0.73-0.80 times one thread's speed on two; so without ``n`` a record must still
   carry ``STREAM_MIN_RECORD_WORK`` (512, the earlier threshold).

   ``PARALLEL_MIN_WORK`` went from 1 MiB (four tasks) to 384 KiB (one and a half) on
   2026-12-04: one thread against two (four tasks), 250 interleaved calls each, on four
   synthetic profiles (5 to 20 fields, 156 to 1,035 weighted bytes per record; JSON and
   NDJSON), with chunks of 48K to 768K weighted bytes, in two runs: at 384K two threads ran
   1.13-1.45 times one thread's speed in 15 of 16 medians (0.96 once, in a run whose second
   core was busy throughout); at 192K 0.92-1.30, at 96K and below as often slower as faster.
   The rule sees the lower end of the call's power-of-two bucket of ``n``, so a call it sends
   to the pool carries 384-768K. Where it changed the answer (22 calls: six profiles,
   600-6,000 records), the heuristic's call ran 1.37-1.73 times as fast as before (medians
   of 200 interleaved calls); in a second run, with the second core busy much of the time,
   0.97-1.64 (12 of 22 within 0.97-1.01). Such a short chunk is cut into at least two
   tasks per thread.

   With more than one thread, chunks of ``POOL_CHUNK_BYTES`` (four times as large; rule 2's
   evening-out applies to them): each chunk ends when its last task does, with the pool's
   threads waiting, and the caller's thread hands its results over alone. Measured against
   rule 2's chunks, 11 interleaved rounds, 2 cores: 1.04-1.06 times on four profiles (JSON
   and NDJSON, 10,000-20,000 records of 230-800 bytes); in separate processes (steady
   state), 10,000 records of 30 fields in one chunk against five: 1.19 times (medians of
   5 processes).

5. **Budgets** (:mod:`satya_adapt.budget`): with a memory or pause budget, ``batch_size`` is
   cut to the largest the budget model keeps within it (``micro_batch_size`` no more than it).

The constants are starting points to be checked by the optimizer's held-out evaluation
(``benchmarks/eval_selector.py``), which measures the heuristic beside the default configuration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .budget import NO_BUDGET, Budget, fit, max_batch_size
from .config import BatchConfig

__all__ = [
    "CHUNK_BYTES",
    "COMPLEXITY_WEIGHT",
    "MAX_BATCH_SIZE",
    "MIN_BATCH_SIZE",
    "MIN_MICRO_BATCH_SIZE",
    "PARALLEL_MIN_RECORD_WORK",
    "PARALLEL_MIN_WORK",
    "POOL_CHUNK_BYTES",
    "STREAM_MIN_RECORD_WORK",
    "TASK_WORK",
    "even_chunks",
    "heuristic_config",
    "heuristic_rule",
    "work_per_record",
]

#: Bytes of records per chunk (memory in flight is a small multiple of it).
CHUNK_BYTES = 2 * 1024 * 1024
#: Bytes of records per chunk checked by more than one thread (memory in flight is then a
#: small multiple of it).
POOL_CHUNK_BYTES = 4 * CHUNK_BYTES
#: Work per task, in weighted bytes: large enough to dwarf the cost of scheduling a task.
TASK_WORK = 256 * 1024
#: Extra cost per byte of a schema whose checks are all expensive (complexity 1).
COMPLEXITY_WEIGHT = 3.0
#: Work a chunk must carry before a thread pool pays for itself.
PARALLEL_MIN_WORK = 3 * TASK_WORK // 2
#: Work one record must carry before checking it in the pool pays (JSON and NDJSON).
PARALLEL_MIN_RECORD_WORK = 64.0
#: ... when the call's number of records is unknown (a stream, which may be short).
STREAM_MIN_RECORD_WORK = 512.0
MIN_BATCH_SIZE = 64
MAX_BATCH_SIZE = 65536
MIN_MICRO_BATCH_SIZE = 16


def _pow2(x: float) -> int:
    """The power of two nearest to ``x`` in log space (at least 1)."""
    if not x > 1.0:
        return 1
    return 1 << round(math.log2(x))


def _pow2_floor(x: int) -> int:
    """The largest power of two at most ``x`` (1 below 1)."""
    return 1 << (x.bit_length() - 1) if x > 1 else 1


def _clip(x: int, low: int, high: int) -> int:
    return max(low, min(x, high))


def work_per_record(object_size: float, constraint_complexity: float) -> float:
    """Rule 1: the weighted bytes of one record of ``object_size`` bytes."""
    size = max(float(object_size), 1.0)
    cc = min(max(float(constraint_complexity), 0.0), 1.0)
    return size * (1.0 + COMPLEXITY_WEIGHT * cc)


def heuristic_rule(
    profile: Sequence[Any], cores: int, budget: Budget = NO_BUDGET, threads: int | None = None
) -> dict[str, Any]:
    """The rule's inputs, intermediate values and result (for ``explain``).

    ``profile`` is a :class:`~satya_adapt.Profile` (``n`` may be ``None``); ``cores`` the usable
    cores; ``budget`` the call's limits; ``threads`` the caller's, when given (rule 4 is then
    not applied, and the chunks are those of that many threads). The result is not clamped to
    ``n``; the selector does that.
    """
    _, _, cc, object_size, kind, n = profile[:6]
    size = max(float(object_size), 1.0)
    work = work_per_record(object_size, cc)
    batch = _clip(_pow2(CHUNK_BYTES / size), MIN_BATCH_SIZE, MAX_BATCH_SIZE)
    micro = _clip(_pow2(TASK_WORK / work), MIN_MICRO_BATCH_SIZE, batch)
    chunk_records = batch if n is None else max(0, min(batch, int(n)))
    chunk_work = chunk_records * work
    tasks = max(1, -(-chunk_records // micro))
    why: str | None = None
    if kind not in ("json", "ndjson"):
        why = "dicts are taken apart under the GIL"
    elif cores <= 1:
        why = "one usable core"
    elif work < PARALLEL_MIN_RECORD_WORK:
        why = (
            f"work per record {work:.0f} < PARALLEL_MIN_RECORD_WORK {PARALLEL_MIN_RECORD_WORK:.0f}"
        )
    elif n is None and work < STREAM_MIN_RECORD_WORK:
        why = (
            f"n unknown and work per record {work:.0f} < STREAM_MIN_RECORD_WORK"
            f" {STREAM_MIN_RECORD_WORK:.0f}"
        )
    elif chunk_work < PARALLEL_MIN_WORK:
        why = f"chunk work {chunk_work:.0f} < PARALLEL_MIN_WORK {PARALLEL_MIN_WORK}"
    if threads is None:
        threads = 1 if why is not None else max(1, min(cores, tasks))
    else:
        why = None if threads > 1 else "threads given: 1"
    if threads > 1 and kind in ("json", "ndjson"):
        # (Dicts given a pool keep rule 2's chunks and tasks: they are taken apart under the
        # GIL.)
        batch = _clip(_pow2(POOL_CHUNK_BYTES / size), MIN_BATCH_SIZE, MAX_BATCH_SIZE)
        if n is not None:
            # A short call's chunk split into at least two tasks per thread (a thread that
            # draws the longer of two uneven tasks keeps the others waiting).
            per_thread = min(batch, int(n)) // (2 * threads)
            micro = max(MIN_MICRO_BATCH_SIZE, min(micro, _pow2_floor(per_thread)))
    cut: dict[str, Any] = {}
    if not budget.empty:  # reported only with a budget
        fitted = fit(BatchConfig(batch, micro, threads), profile, budget)
        cut["budget_batch_size"] = max_batch_size((batch, micro, threads), profile, budget)
        batch, micro = fitted.batch_size, fitted.micro_batch_size
    return {
        "work_per_record": work,
        "chunk_records": chunk_records,
        "chunk_work": chunk_work,
        "tasks_per_chunk": tasks,
        "single_thread_because": why,
        **cut,
        "batch_size": batch,
        "micro_batch_size": micro,
        "threads": threads,
    }


def heuristic_config(
    profile: Sequence[Any], cores: int, budget: Budget = NO_BUDGET, threads: int | None = None
) -> BatchConfig:
    """The heuristic's batch configuration for ``profile`` on ``cores`` usable cores, within
    ``budget``; with ``threads``, the chunks and tasks for that many threads."""
    r = heuristic_rule(profile, cores, threads=threads)
    config = BatchConfig(r["batch_size"], r["micro_batch_size"], r["threads"], source="heuristic")
    return fit(config, profile, budget)


def even_chunks(config: BatchConfig, n: int | None) -> BatchConfig:
    """``config`` on a call of ``n`` records: where its chunks would end in one of under half
    ``batch_size`` records, ``batch_size`` made ``ceil(n / full chunks)`` (at most
    ``MAX_BATCH_SIZE``), so that every chunk is as large; else ``config`` itself."""
    b = config.batch_size
    if n is None or b <= 0:
        return config
    full, rest = divmod(n, b)
    if full == 0 or rest == 0 or 2 * rest >= b:
        return config
    even = -(-n // full)
    if even > MAX_BATCH_SIZE:
        return config
    # (not ``_replace``: 0.5 us more, on every call of a new count)
    return BatchConfig(even, config.micro_batch_size, config.threads, config.source)
