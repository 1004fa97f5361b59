"""The measurement harness: exact values from fake timers and fixed samples."""

from __future__ import annotations

import mmap

import math
import os
import re
from collections.abc import Iterator

import pytest

from satya_adapt.tuning import measure
from satya_adapt.tuning.measure import Contender, Interval


def fake_timer(values: list[int]) -> measure.Timer:
    it: Iterator[int] = iter(values)
    return lambda: next(it)


# -- statistics -------------------------------------------------------------------------------------


def test_median_odd_and_even() -> None:
    assert measure.median([3, 1, 2]) == 2.0
    assert measure.median([4, 1, 3, 2]) == 2.5
    assert measure.median([7]) == 7.0
    with pytest.raises(ValueError, match="must not be empty"):
        measure.median([])


@pytest.mark.parametrize(
    "n, level, expected",
    [
        # [x_(l), x_(u)] covers the median with P(l <= B <= u-1), B ~ Bin(n, 1/2)
        (1, 0.95, (1, 1, 0.0)),
        (5, 0.95, (1, 5, 1 - 2 / 32)),  # cannot reach 95%: the widest interval, 93.75%
        (6, 0.95, (1, 6, 1 - 2 / 64)),
        (9, 0.95, (2, 8, 1 - 2 * 10 / 512)),
        (15, 0.95, (4, 12, 1 - 2 * (1 + 15 + 105 + 455) / 2**15)),
        (15, 0.5, (6, 10, 1 - 2 * (1 + 15 + 105 + 455 + 1365 + 3003) / 2**15)),
    ],
)
def test_order_statistic_ranks(n: int, level: float, expected: tuple) -> None:
    lo, hi, coverage = measure.order_statistic_ranks(n, level)
    assert (lo, hi) == expected[:2]
    assert coverage == pytest.approx(expected[2], abs=1e-15)


def test_order_statistic_ranks_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="`n` must be at least 1"):
        measure.order_statistic_ranks(0)
    with pytest.raises(ValueError, match=re.escape("`level` must be in (0, 1), got 1.0")):
        measure.order_statistic_ranks(5, 1.0)


def test_median_ci_uses_the_order_statistics() -> None:
    values = [90, 10, 80, 20, 70, 30, 60, 40, 50]  # n=9 -> ranks 2 and 8 of the sorted values
    ci = measure.median_ci(values)
    assert ci == Interval(20.0, 80.0, 1 - 2 * 10 / 512)
    assert ci.contains(50.0) and not ci.contains(81.0)


def test_bootstrap_ci_is_deterministic_for_a_seed() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 100.0]
    a = measure.bootstrap_ci(values, resamples=500, seed=7)
    b = measure.bootstrap_ci(values, resamples=500, seed=7)
    assert a == b
    assert a.coverage == 0.95
    assert 1.0 <= a.low <= a.high <= 100.0


def test_bootstrap_ci_of_a_constant_is_that_constant() -> None:
    assert measure.bootstrap_ci([5, 5, 5], resamples=50) == Interval(5.0, 5.0, 0.95)


def test_bootstrap_ci_resamples_whole_rounds() -> None:
    # Paired rounds (a, b): the ratio of medians of a constant pair is exact on every resample.
    rounds = [(10.0, 20.0), (30.0, 60.0), (50.0, 100.0)]

    def ratio_of_medians(sample):  # type: ignore[no-untyped-def]
        return measure.median([b for _, b in sample]) / measure.median([a for a, _ in sample])

    assert measure.bootstrap_ci(rounds, ratio_of_medians, resamples=100) == Interval(2.0, 2.0, 0.95)


def test_items_per_second() -> None:
    assert measure.items_per_second(1000, 2_000_000) == 500_000.0
    assert measure.items_per_second(10, 0) == math.inf


def test_paired_ratios_need_pairs() -> None:
    assert measure.paired_ratios([10, 30], [5, 10]) == [2.0, 3.0]
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        measure.paired_ratios([1, 2], [1])


def test_summarize() -> None:
    s = measure.summarize("a", [400, 100, 300, 200, 500], items=1000)
    assert (s.name, s.rounds, s.items) == ("a", 5, 1000)
    assert s.median_ns == 300.0
    assert s.ci_ns == Interval(100.0, 500.0, 1 - 2 / 32)
    assert (s.min_ns, s.max_ns) == (100.0, 500.0)
    assert s.items_per_s == 1000 * 1e9 / 300
    # the throughput interval is the time interval inverted
    assert s.items_per_s_ci == Interval(1000 * 1e9 / 500, 1000 * 1e9 / 100, 1 - 2 / 32)
    d = s.to_dict()
    assert d["median_ns"] == 300.0 and d["ci_ns"] == {
        "low": 100.0,
        "high": 500.0,
        "coverage": 1 - 2 / 32,
    }


def test_speedup_is_paired_by_round() -> None:
    # Round 2 was slow for everyone: pairing cancels it (ratios 2, 2, 2).
    sp = measure.speedup("fast", [10, 40, 10], "slow", [20, 80, 20])
    assert sp.median == 2.0
    assert sp.ratios == (2.0, 2.0, 2.0)
    assert sp.ci == Interval(2.0, 2.0, 0.75)
    assert sp.significant
    same = measure.speedup("a", [10, 20, 30], "b", [10, 20, 30])
    assert same.median == 1.0 and not same.significant


# -- run_rounds -------------------------------------------------------------------------------------


def test_run_rounds_times_each_contender_with_the_timer() -> None:
    calls: list[str] = []
    a = Contender("a", lambda: calls.append("a"), items=10)
    b = Contender("b", lambda: calls.append("b"), items=10)
    # 2 rounds x 2 contenders, each sample reads the timer twice; the first read is the start.
    timer = fake_timer([0, 100, 150, 200, 230, 300, 400, 500, 520])
    m = measure.run_rounds([a, b], rounds=2, warmup=1, shuffle=False, timer=timer, collect=False)
    assert calls == ["a", "b", "a", "b", "a", "b"]  # warm-up, then 2 rounds
    assert m.samples == {"a": [50.0, 100.0], "b": [30.0, 20.0]}
    assert m.orders == [("a", "b"), ("a", "b")]
    assert m.rounds == 2
    assert m.fastest() == "b"
    assert m.summary("a").median_ns == 75.0
    assert m.speedup("b", "a").ratios == (50 / 30, 100 / 20)


def test_run_rounds_inner_divides_by_the_calls() -> None:
    count = {"a": 0, "b": 0}

    def bump(name: str):  # type: ignore[no-untyped-def]
        return lambda: count.__setitem__(name, count[name] + 1)

    timer = fake_timer([0, 0, 1000, 0, 300])
    m = measure.run_rounds(
        [Contender("a", bump("a")), Contender("b", bump("b"))],
        rounds=1,
        warmup=0,
        inner={"a": 4},
        shuffle=False,
        timer=timer,
        collect=False,
    )
    assert count == {"a": 4, "b": 1}
    assert m.samples == {"a": [250.0], "b": [300.0]}


def test_run_rounds_shuffles_with_the_seed() -> None:
    cs = [Contender(n, lambda: None) for n in "abcdef"]
    m1 = measure.run_rounds(cs, rounds=4, warmup=0, seed=3, collect=False)
    m2 = measure.run_rounds(cs, rounds=4, warmup=0, seed=3, collect=False)
    assert m1.orders == m2.orders
    assert all(sorted(o) == list("abcdef") for o in m1.orders)
    assert len(set(m1.orders)) > 1  # not the same order every round


def test_run_rounds_stops_on_the_time_budget_after_min_rounds() -> None:
    # each timer read advances 1 s: a round of one contender spans 2 s plus the budget read.
    ticks = iter(range(0, 10**12, 10**9))
    m = measure.run_rounds(
        [Contender("a", lambda: None)],
        rounds=100,
        warmup=0,
        timer=lambda: next(ticks),
        collect=False,
        max_seconds=4.5,
        min_rounds=2,
    )
    # start=0; r1: 1,2 check 3 (3 s); r2: 4,5 check 6 (6 s >= 4.5) -> stop after 2 rounds
    assert m.rounds == 2
    assert m.samples["a"] == [1e9, 1e9]


def test_run_rounds_reports_progress_and_rejects_misuse() -> None:
    seen: list[int] = []
    measure.run_rounds(
        [Contender("a", lambda: None)],
        rounds=3,
        warmup=0,
        collect=False,
        on_round=lambda r, m: seen.append(r),
    )
    assert seen == [0, 1, 2]
    with pytest.raises(ValueError, match="`rounds` must be at least 1, got 0"):
        measure.run_rounds([Contender("a", lambda: None)], rounds=0)
    with pytest.raises(ValueError, match="names must be unique"):
        measure.run_rounds([Contender("a", lambda: None), Contender("a", lambda: None)], rounds=1)
    with pytest.raises(ValueError, match="`inner` must be at least 1, got 0 for 'a'"):
        measure.run_rounds([Contender("a", lambda: None)], rounds=1, inner=0)


def test_measurement_to_dict_keeps_samples_and_orders() -> None:
    timer = fake_timer([0, 0, 10, 10, 30])
    m = measure.run_rounds(
        [Contender("a", lambda: None, 5), Contender("b", lambda: None, 5)],
        rounds=1,
        warmup=0,
        shuffle=False,
        timer=timer,
        collect=False,
    )
    d = m.to_dict()
    assert d["rounds"] == 1 and d["orders"] == [["a", "b"]]
    assert d["contenders"]["a"]["samples_ns"] == [10.0]
    assert d["contenders"]["b"]["median_ns"] == 20.0
    assert d["contenders"]["b"]["items_per_s"] == 5 * 1e9 / 20


def test_calibrate_inner_doubles_until_the_target() -> None:
    # k=1: 0->100, k=2: 100->300, k=4: 300->700 (>= 400)
    timer = fake_timer([0, 100, 100, 300, 300, 700])
    assert measure.calibrate_inner(lambda: None, target_ns=400, timer=timer) == 4


# -- the machine --------------------------------------------------------------------------------------


def test_provenance_names_the_machine_and_versions() -> None:
    p = measure.provenance(["pytest", "surely-not-installed-dist"])
    assert p["usable_cores"] >= 1
    assert p["python"].count(".") == 2
    assert p["libraries"]["pytest"] == pytest.__version__
    assert p["libraries"]["surely-not-installed-dist"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", p["date"])
    assert isinstance(p["cpu"], str) and p["cpu"]
    git = p["git"]
    if git is not None:
        assert re.fullmatch(r"[0-9a-f]{40}", git["commit"])


def test_git_commit_outside_a_checkout_is_none(tmp_path: os.PathLike[str]) -> None:
    assert measure.git_commit(tmp_path) is None


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_rss_helpers_read_proc() -> None:
    rss = measure.current_rss_bytes()
    assert rss is not None and rss > 0
    assert measure.peak_rss_bytes() >= rss
    if measure.reset_peak_rss():
        # Fresh anonymous pages (a bytearray may reuse memory the process already holds,
        # freed by earlier tests, and then add nothing to the RSS).
        base = measure.current_rss_bytes() or 0
        block = mmap.mmap(-1, 32 * 1024 * 1024)
        for offset in range(0, len(block), 4096):  # touch every page
            block[offset] = 1
        assert measure.peak_rss_bytes() >= base + 24 * 1024 * 1024
        block.close()
