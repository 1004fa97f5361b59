"""The heuristic rule: exact configurations for known profiles."""

from __future__ import annotations

import pytest

from satya_adapt import BatchConfig, Profile
from satya_adapt import heuristic as H
from satya_adapt.heuristic import heuristic_config, heuristic_rule


def p(size: float, kind: str = "dicts", cc: float = 0.0, n: int | None = None) -> Profile:
    return Profile(10, 12.0, cc, size, kind, n)


def test_typical_records_get_the_default_configuration() -> None:
    # 256 bytes: 2 MiB / 256 = 8192 records per chunk; 256 KiB / 256 = 1024 per task.
    assert heuristic_config(p(256), 2) == BatchConfig(8192, 1024, 1, "heuristic")
    assert heuristic_config(p(200, cc=0.2), 2) == BatchConfig(8192, 1024, 1, "heuristic")


def test_chunk_bytes_fix_batch_size() -> None:
    assert heuristic_config(p(1024), 1).batch_size == 2048
    assert heuristic_config(p(5000), 1).batch_size == 512  # 419 -> 512
    assert heuristic_config(p(40), 1).batch_size == 65536  # 52429 -> 65536 (the cap)
    assert heuristic_config(p(1 << 20), 1).batch_size == 64  # 2 -> the floor 64


def test_work_per_task_fixes_micro_batch_size() -> None:
    # work per record 1024 * (1 + 3 * 0.5) = 2560 -> 262144 / 2560 = 102.4 -> 128
    assert heuristic_config(p(1024, cc=0.5), 1).micro_batch_size == 128
    # never above batch_size, never below 16 (unless batch_size is smaller)
    assert heuristic_config(p(10), 1).micro_batch_size == 32768  # 26214 -> 32768
    assert heuristic_config(p(1 << 20, cc=1.0), 1).micro_batch_size == 16


def test_threads() -> None:
    # JSON: 4096 records * 600 B = 2.4 MB of work per chunk -> parallel, 16 tasks, 4 cores;
    # checked by a pool, chunks of 8 MiB: 13,981 -> 16384 records
    assert heuristic_config(p(600, "json"), 4) == BatchConfig(16384, 512, 4, "heuristic")
    assert heuristic_config(p(600, "ndjson"), 2) == BatchConfig(16384, 512, 2, "heuristic")
    assert heuristic_config(p(600, "json"), 1) == BatchConfig(4096, 512, 1, "heuristic")
    # dicts stay on one thread, whatever the checks cost
    assert heuristic_config(p(600, "dicts", cc=0.2), 4).threads == 1
    # work per record 600 * 2.5 = 1500 -> 174.8 records per task -> 128
    assert heuristic_config(p(600, "dicts", cc=0.5), 4) == BatchConfig(4096, 128, 1, "heuristic")
    assert heuristic_config(p(600, "dicts", cc=1.0), 16).threads == 1
    # a small call is not worth a pool: 100 or 512 records * 600 B (307 KB of work)
    assert heuristic_config(p(600, "json", n=100), 4).threads == 1
    assert heuristic_config(p(600, "json", n=512), 4).threads == 1
    # 1,024 records (614 KB of work): two tasks of 512, so two threads, each given two tasks
    assert heuristic_config(p(600, "json", n=1024), 4) == BatchConfig(16384, 256, 2, "heuristic")
    assert heuristic_config(p(600, "ndjson", n=1024), 2) == BatchConfig(16384, 256, 2, "heuristic")
    # no more threads than tasks: 2048 records, 4 tasks of 512, so 4 threads given 2 tasks each
    assert heuristic_config(p(600, "json", n=2048), 16) == BatchConfig(16384, 256, 4, "heuristic")
    # one thread: rule 2's 2 MiB chunks; a record too small for a pool keeps them too
    assert heuristic_config(p(40, "json"), 2) == BatchConfig(65536, 8192, 1, "heuristic")
    assert heuristic_config(p(100, "json", n=100000), 2) == BatchConfig(65536, 2048, 2, "heuristic")
    # a stream (n unknown) may be short: a pool only for records of 512 weighted bytes or more
    assert heuristic_config(p(100, "json"), 2) == BatchConfig(16384, 2048, 1, "heuristic")


def test_rule_explains_itself() -> None:
    assert heuristic_rule(p(600, "json", n=100), 4) == {
        "work_per_record": 600.0,
        "chunk_records": 100,
        "chunk_work": 60000.0,
        "tasks_per_chunk": 1,
        "single_thread_because": "chunk work 60000 < PARALLEL_MIN_WORK 393216",
        "batch_size": 4096,
        "micro_batch_size": 512,
        "threads": 1,
    }
    assert heuristic_rule(p(600), 4)["single_thread_because"] == (
        "dicts are taken apart under the GIL"
    )
    assert heuristic_rule(p(600, "json"), 1)["single_thread_because"] == "one usable core"
    # tiny records: handing results back outweighs checking them in the pool
    assert heuristic_rule(p(20, "json", cc=0.5), 4)["single_thread_because"] == (
        "work per record 50 < PARALLEL_MIN_RECORD_WORK 64"
    )
    assert heuristic_config(p(26, "ndjson", cc=0.5, n=100000), 4).threads == 4  # 65 weighted
    assert heuristic_rule(p(100, "ndjson", cc=0.5), 4)["single_thread_because"] == (
        "n unknown and work per record 250 < STREAM_MIN_RECORD_WORK 512"
    )
    assert heuristic_config(p(205, "ndjson", cc=0.5), 4).threads == 4  # 512.5 weighted bytes


def test_bad_values_are_made_safe() -> None:
    assert heuristic_config(Profile(0, 0.0, -1.0, 0.0, "dicts", 0), 4) == BatchConfig(
        65536, 65536, 1, "heuristic"
    )
    assert heuristic_config(Profile(0, 0.0, 7.0, 100.0, "json", None), 4).micro_batch_size == 512


@pytest.mark.parametrize("size", [1, 10, 100, 1000, 10**4, 10**5, 10**6, 10**7])
@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
@pytest.mark.parametrize("cc", [0.0, 0.3, 1.0])
def test_bounds_hold(size: int, kind: str, cc: float) -> None:
    for cores in (1, 2, 16):
        c = heuristic_config(p(size, kind, cc), cores)
        assert H.MIN_BATCH_SIZE <= c.batch_size <= H.MAX_BATCH_SIZE
        assert 1 <= c.micro_batch_size <= c.batch_size
        assert 1 <= c.threads <= cores
        for k in (c.batch_size, c.micro_batch_size):
            assert k & (k - 1) == 0  # powers of two


def test_a_short_last_chunk_is_spread_over_even_chunks() -> None:
    c = BatchConfig(4096, 128, 2, "heuristic")
    # 5,000 = 4,096 + 904 (under half a chunk): one chunk; 10,000 = 2 x 4,096 + 1,808: two of 5,000.
    assert H.even_chunks(c, 5000) == BatchConfig(5000, 128, 2, "heuristic")
    assert H.even_chunks(c, 10000) == BatchConfig(5000, 128, 2, "heuristic")
    # A last chunk of half a chunk or more, whole chunks, a call of one chunk: as they are.
    for n in (6144, 12000, 8192, 4096, 100, None):
        assert H.even_chunks(c, n) is c
    # Never past MAX_BATCH_SIZE: 70,000 = 65,536 + 4,464 stays in two chunks.
    big = BatchConfig(H.MAX_BATCH_SIZE, 4096, 1, "heuristic")
    assert H.even_chunks(big, 70000) is big


def test_threads_given_size_the_chunks() -> None:
    # JSON records of 600 bytes: a pool by the rule (16,384-record chunks); one thread given:
    # rule 2's 4,096; two threads given for dicts: rule 2's too (taken apart under the GIL).
    assert heuristic_config(p(600, "json"), 4, threads=1) == BatchConfig(4096, 512, 1, "heuristic")
    assert heuristic_config(p(600, "dicts"), 4, threads=2) == BatchConfig(4096, 512, 2, "heuristic")
    # a short call: JSON's chunk cut into two tasks per thread given; dicts keep rule 3's tasks
    assert heuristic_config(p(600, "json", n=1000), 4, threads=2).micro_batch_size == 128
    assert heuristic_config(p(600, "dicts", n=1000), 4, threads=2).micro_batch_size == 512
    assert heuristic_rule(p(600, "json"), 4, threads=1)["single_thread_because"] == (
        "threads given: 1"
    )
