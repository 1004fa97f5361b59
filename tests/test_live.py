"""Live verification and online refinement (:mod:`satya_adapt.live`): the statistics, the probe
schedule, reverting with back-off, the conservative bandit, the cache, thread safety and the
validator's hook. Timings are injected (a throughput per configuration), never measured."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from archive_helpers import KIND_SIZE_GRID, archive, cell

from satya_adapt import ArchiveWarning, BatchConfig, Validator
from satya_adapt import archive as A
from satya_adapt import live as L
from satya_adapt.config import DEFAULT_CONFIGURATION, SlicedTrial, clamp

N = 10000
Rate = Callable[[BatchConfig], float]


def call_sliceable(
    live: L.Live, profile: tuple[Any, ...], selected: BatchConfig, rate: Rate, records: Any = None
) -> Any:
    """One call of N records that may be cut (a list, JSON), as the validator makes it: its
    answer, timed at ``rate``; a sliced trial's parts (warm-up, slice, rest) each at its own.
    ``records``: the call's list of dicts (for ``pool_cost``)."""
    c = live.start(profile, selected, sliceable=True, records=records)
    if type(c) is SlicedTrial:
        k, w = c.records, c.warm
        rest = N - w - k
        live.finish_sliced(c, k, k / rate(c), rest, rest / rate(c.rest), w, w / rate(c))
    else:
        live.finish(c, N, N / rate(c))
    return c


def run_cell(
    selected: BatchConfig,
    rate: Rate,
    calls: int,
    candidates: Any = (),
    *,
    alpha: float = 0.02,
    cores: int = 2,
    n: int = N,
) -> tuple[L.Cell, list[str]]:
    """Drives a cell with injected timings: each call takes ``n / rate(config)`` seconds.
    ``PROMOTED_AT[c]``: the calls (0-based) whose timing promoted a candidate."""
    c = L.Cell(selected, list(candidates), alpha=alpha, cores=cores)
    sources = []
    promoted = PROMOTED_AT[c] = []
    for i in range(calls):
        arm, source = c.choose(n)
        before = c.promotions
        c.record(arm, n, n / rate(arm.config))
        sources.append(source)
        if c.promotions > before:
            promoted.append(i)
    return c, sources


PROMOTED_AT: weakref.WeakKeyDictionary[L.Cell, list[int]] = weakref.WeakKeyDictionary()


@pytest.fixture
def no_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dropped candidate comes back only after MAX_BACKOFF calls, beyond the test's: for
    tests of a cell's first round of trials (see FIRST_RETURN)."""
    monkeypatch.setattr(L, "FIRST_RETURN", L.MAX_BACKOFF)


# -- statistics -----------------------------------------------------------------------------------


def test_median_interval_ranks() -> None:
    assert L.median_interval([5.0, 1.0, 3.0]) == (3.0, 1.0, 5.0)
    assert L.median_interval([4.0, 1.0, 3.0, 2.0]) == (2.5, 1.0, 4.0)
    xs = [float(x) for x in range(1, 16)]
    # 15 samples at 90%: the 4th and the 12th order statistics (binomial ranks, coverage 0.965;
    # the 5th and 11th would cover 0.88).
    assert L.median_interval(xs) == (8.0, 4.0, 12.0)
    assert L._ranks(15, 0.9) == (3, 11)
    with pytest.raises(ValueError, match="must not be empty"):
        L.median_interval([])


def test_ranks_agree_with_the_tuning_harness() -> None:
    from satya_adapt.tuning.measure import order_statistic_ranks

    for n in range(1, L.WINDOW + 1):
        lo, hi, _ = order_statistic_ranks(n, L.LEVEL)
        assert L._ranks(n, L.LEVEL) == (lo - 1, hi - 1), n


NOT_TIMINGS = (0.0, -1.0, float("nan"), float("inf"), 1e-310, 5e-324, 1.7e308)


def test_timings_that_are_not_timings_are_ignored() -> None:
    c = L.Cell(BatchConfig(4096, 512, 1, "archive-exact"), [], cores=2)
    arm, _ = c.choose(N)
    for seconds in NOT_TIMINGS:
        c.record(arm, N, seconds)
    c.record(arm, 0, 0.01)
    assert len(arm.rates) == 0 and c.slack == 0.0


@pytest.mark.parametrize("odd", NOT_TIMINGS)
@pytest.mark.parametrize("who", ["probe", "incumbent", "both"])
def test_a_timing_so_small_or_large_that_arithmetic_breaks_counts_the_call_only(odd: float, who: str) -> None:
    """Before: a probe timed 1e-310 (N / seconds overflows to inf) made `finish` raise
    ZeroDivisionError, and again later; incumbent timings that small raised in the grant, and
    timings of 1.7e308 (their sum overflows) made `start` raise ValueError."""
    for chosen in (BatchConfig(2048, 256, 1, "archive-exact"), BatchConfig(2048, 256, 1, "heuristic")):
        live = L.Live(FakeSelector(), cache=False, cores=2)
        first = True
        for _ in range(300):
            config = live.start(prof(), chosen)
            probe = config.source == "probe"
            odd_now = who == "both" or (who == "probe" and probe and first) or (who == "incumbent" and not probe)
            first = first and not (probe and odd_now)
            live.finish(config, N, odd if odd_now else N / (2e6 if config.batch_size == 2048 else 1e6))
        ex = live.explain(prof())
        assert ex is not None and ex["calls"] == 300


def test_noise_in_the_baseline_counts_as_no_saving() -> None:
    """Trials are paid from savings counted against the upper end of the baseline's median
    interval: probes at 1, 3 and 2 million records/s (a loaded machine) and a choice at 2
    million leave that slack negative; the promise's slack (the median, 2 million) is not."""
    c = L.Cell(BatchConfig(4096, 512, 1, "archive-exact"), [], cores=2)
    probes = iter([1e6, 3e6, 2e6])
    sources = []
    for _ in range(6):
        arm, source = c.choose(N)
        rate = next(probes) if source == "probe" else 2e6
        c.record(arm, N, N / rate)
        sources.append(source)
    assert sources == ["archive-exact", "probe"] * 3
    # From call 2 on (the first call, before any probe, is the cold start):
    # alpha * 5N / 3e6 + (2N / 3e6 - 2N / 2e6)
    assert c.explore_slack == pytest.approx(0.02 * 5 * N / 3e6 + 2 * N / 3e6 - 2 * N / 2e6)
    assert c.explore_slack < 0.0
    assert c.slack == pytest.approx(0.02 * 5 * N / 2e6)
    assert c.last == (1.0, 2e6 / 3e6, 2e6 / 1e6)  # not reverted: the ratio of medians is 1
    assert not c.reverted


def test_ratio_interval_combines_both_medians() -> None:
    ratio, low, high = L.ratio_interval([10.0, 12.0, 11.0], [5.0, 6.0, 4.0])
    assert (ratio, low, high) == (11.0 / 5.0, 10.0 / 6.0, 12.0 / 4.0)


# -- live verification ----------------------------------------------------------------------------


def test_a_faster_choice_is_kept_and_probed_ever_less() -> None:
    fast = BatchConfig(4096, 512, 1, "archive-exact")
    c, sources = run_cell(fast, lambda cf: 2e6 if cf.batch_size == 4096 else 1e6, 40)
    # Alternating until three throughputs each, then every 4 calls, doubled after each probe
    # that finds the choice ahead beyond noise: 8, 16, 32.
    assert [i + 1 for i, s in enumerate(sources) if s == "probe"] == [2, 4, 6, 14, 30]
    assert set(sources) == {"archive-exact", "probe"}
    assert "reverted" not in sources
    assert c.last == (2.0, 2.0, 2.0)
    assert c.probe_every == 32  # doubled after each probe that found it ahead


def test_a_slower_choice_is_reverted_and_retried_with_back_off() -> None:
    slow = BatchConfig(4096, 512, 2, "archive-exact")
    c, sources = run_cell(slow, lambda cf: 0.8e6 if cf.threads == 2 else 1e6, 70)
    # Call 1 warms the pool up (no throughput); call 2 loses a quarter of a call, more than the
    # slack (2% of the calls so far): reverted after the first probe. Back-off: retry due at
    # call 3 + 16, run when the slack covers one call at 80% of its ratio (call 32; no warm-up
    # again: the pool's threads stay warm); reverted after call 34; retried at 34 + 32 = 66,
    # reverted after call 69 (three throughputs each, the interval now below 1); next at 133.
    kept = [(i + 1, s) for i, s in enumerate(sources) if s != "reverted"]
    assert kept == [
        (1, "archive-exact"), (2, "archive-exact"), (3, "probe"), (32, "archive-exact"),
        (33, "probe"), (34, "archive-exact"), (66, "archive-exact"), (67, "probe"),
        (68, "archive-exact"), (69, "archive-exact"),
    ]
    assert c.reverts == 3 and c.warmups == 1
    assert c.retry_at == 133
    ev = c.evidence()
    assert ev["state"] == "reverted"
    assert ev["incumbent"]["source"] == "reverted"
    assert ev["throughput_ratio"] == {"median": 0.8, "low": 0.8, "high": 0.8}


def test_promise_holds_over_any_prefix_of_calls() -> None:
    """Cumulative throughput over any prefix of calls stays at least (1 - alpha) of the
    baseline's, for choices from much slower to much faster (injected timings)."""
    for alpha, factor, threads in itertools.product(
        (0.02, 0.1), (0.3, 0.6, 0.9, 0.97, 0.99, 1.0, 1.1, 2.0), (1, 2)
    ):
        chosen = BatchConfig(2048, 256, threads, "archive-exact")
        c = L.Cell(chosen, [], alpha=alpha, cores=2)
        spent = cold = 0.0
        for k in range(1, 1001):
            arm, _ = c.choose(N)
            seconds = N / (factor * 1e6 if arm is not c.baseline else 1e6)
            c.record(arm, N, seconds)
            spent += seconds
            if k <= threads:
                # What the first call, unverified, loses; on the pool, the first two (the
                # first warms the pool's threads up and is no throughput).
                cold += max(seconds - N / 1e6, 0.0)
            baseline = k * N / 1e6
            assert baseline / (spent - cold) >= 1.0 / (1.0 + alpha) - 1e-9
        if factor < 1.0:
            assert c.reverts >= 1, factor
        else:
            assert c.reverts == 0, factor


@pytest.mark.parametrize("pattern", ["alternate", "every third call large"])
def test_promise_holds_when_the_record_count_changes_from_call_to_call(pattern: str) -> None:
    """Calls of one cell of 8,192 or 16,383 records, through `Live` (grants over a range of
    counts included). Before: the promise was checked for a next call of the count of the call
    just recorded; a retry and its probe on 8,192 records, then the choice on 16,383, spent
    1.027 times the default's time with alpha 0.02 (a choice at half its speed)."""
    for factor in (0.3, 0.5, 0.6, 0.8, 0.9):
        live = L.Live(FakeSelector(), cache=False, cores=2)
        chosen = BatchConfig(2048, 256, 1, "archive-exact")
        spent = baseline = cold = 0.0
        for k in range(1500):
            n = 16383 if (k % 2 if pattern == "alternate" else k % 3 == 2) else 8192
            config = live.start(prof(n=n), chosen)
            seconds = n / (factor * 1e6 if config.batch_size == 2048 else 1e6)
            live.finish(config, n, seconds)
            spent += seconds
            baseline += n / 1e6
            if k == 0:
                cold = max(seconds - n / 1e6, 0.0)  # the first call, unverified
            assert baseline / (spent - cold) >= 1.0 / 1.02 - 1e-9, (factor, k)


def test_a_promoted_choice_whose_whole_calls_run_behind_keeps_the_promise() -> None:
    """A candidate ahead in its trials (1.3 times the incumbent's speed) runs behind once
    promoted (``after`` times the default's: on a real machine, slices of calls that ran faster
    than whole calls, or a second core slowed for a while). Its window still holds the trials'
    throughputs, so its median says ahead for several calls; the promise takes the median of its
    whole calls since the promotion once there are three, and the slack never falls below zero.
    Before, the cell kept it until the window's median fell below 1: the slack went to -0.17
    calls (0.8) and -0.21 to -1.4 calls (0.7). Whole calls ahead of the default, though slower
    than the trials, are kept."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    cand = BatchConfig(2048, 512, 1, "online-trial")
    for after, seed in itertools.product((0.7, 0.8, 1.1), range(3)):
        rng = random.Random(seed)
        c = L.Cell(selected, [(cand, "sizes")], cores=2)
        promoted_at = reverted_at = None
        ratios = []
        for k in range(1, 61):
            arm, _ = c.choose(N)
            fast = 1.3e6 if not c.promotions else after * 1e6
            rate = fast if arm.config[:3] == cand[:3] else 1e6
            c.record(arm, N, N / (rate * (1.0 + 0.02 * rng.random())))
            if c.promotions and promoted_at is None:
                promoted_at = k
            if c.reverts and reverted_at is None:
                reverted_at = k
                ratios.append(c.retry_ratio)
            if c.baseline.rates:
                assert c.slack >= 0.0, (after, seed, k)
        assert promoted_at is not None
        if after < 1.0:
            # Reverted on whole calls (at most 8 of them: the window's median still says ahead),
            # to be retried at their ratio, not the window's.
            assert reverted_at is not None and reverted_at - promoted_at <= 8, (after, seed)
            assert ratios[0] <= after * 1.03  # (the timings carry 2% noise)
        else:
            assert reverted_at is None and c.incumbent.config == cand


def test_a_choice_that_slows_down_suddenly_keeps_the_promise() -> None:
    """A choice 1.2 times the default's speed for 20 calls, then 0.5 (a machine whose second
    core got busy, a cache pushed out): its window's median says ahead for 8 more calls. It
    is reverted by the first call behind the default that leaves the slack spent, and retried
    only once the slack covers a call at its last call's ratio: over every prefix of the run the
    time spent is at most (1 + alpha) times the default's plus the loss of that one call. Before,
    10 calls ran behind (7 past a spent slack: 1.22 times the default's time) and the retry came
    as soon as the slack covered a call at the median's ratio, losing another call."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 1, "archive-exact")
    one_call = N / 0.5e6 - N / 1e6
    spent = default = 0.0
    behind = []  # the calls behind the default
    for i in range(400):
        c = live.start(prof(), chosen)
        rate = 1e6 if c.batch_size != 4096 else (1.2e6 if i < 20 else 0.5e6)
        live.finish(c, N, N / rate)
        spent += N / rate
        default += N / 1e6
        if rate < 1e6:
            behind.append(i)
        assert spent <= (1.0 + L.ALPHA) * default + one_call * (1.0 + 1e-9), i
    # (The first retry comes once the reverted calls' share of alpha covers 1.5 calls.)
    assert sum(i < 30 for i in behind) <= 4 and evidence(live)["reverts"] >= 2, behind


def test_noise_within_the_interval_does_not_revert() -> None:
    choice = BatchConfig(4096, 512, 1, "archive-exact")
    wobble = [1.0, 1.04, 0.97, 1.02, 0.99, 1.03, 0.98]
    k = {"i": 0}

    def rate(cf: BatchConfig) -> float:
        k["i"] += 1
        return 1e6 * wobble[k["i"] % len(wobble)] * (1.01 if cf.batch_size == 4096 else 1.0)

    c, sources = run_cell(choice, rate, 100)
    assert "reverted" not in sources
    assert c.reverts == 0


def test_a_choice_equal_to_the_default_is_never_probed() -> None:
    same = BatchConfig(8192, 4096, 1, "heuristic")  # micro_batch_size is moot with one thread
    c, sources = run_cell(same, lambda cf: 1e6, 30)
    assert sources == ["heuristic"] * 30
    assert len(c.baseline.rates) == L.WINDOW  # its calls are the baseline's evidence


def test_history_is_bounded() -> None:
    c, _ = run_cell(BatchConfig(4096, 512, 1, "archive-exact"), lambda cf: 1e6, 2000)
    assert len(c.incumbent.rates) == len(c.baseline.rates) == L.WINDOW


def schedule(
    selected: BatchConfig, rate: Rate, candidates: Any = (), cell: type[L.Cell] = L.Cell,
    calls: int = 200, seed: int = 7,
) -> tuple[L.Cell, list[str]]:
    """Drives a cell with injected timings that wobble by up to 2% (seeded)."""
    rng = random.Random(seed)
    c = cell(selected, list(candidates), cores=2)
    out = []
    for _ in range(calls):
        arm, source = c.choose(N)
        c.record(arm, N, N / (rate(arm.config) * (1.0 + 0.02 * rng.random())))
        out.append(source)
    return c, out


def marks(sources: list[str], *usual: str) -> list[tuple[int, str]]:
    return [(i + 1, s) for i, s in enumerate(sources) if s not in usual]


REFINE = BatchConfig(8192, 2048, 1, "heuristic")
REFINE_CANDIDATES = [
    (BatchConfig(8192, 2048, 2, "online-trial"), "threads"),
    (BatchConfig(2048, 512, 1, "online-trial"), "sizes"),
]


def refine_rate(cf: BatchConfig) -> float:
    return 1.4e6 if cf.threads == 2 else (0.9e6 if cf.batch_size == 2048 else 1e6)


#: The calls of a choice on the pool at 0.85x (the others run "reverted"): its first call warms
#: the pool up, the probe after its second reverts it; retried with back-off (16, 32, 64 calls
#: after each revert, once the slack covers a call), reverted after three throughputs each.
SLOW_MARKS = [
    (1, "archive-exact"), (2, "archive-exact"), (3, "probe"), (28, "archive-exact"),
    (29, "probe"), (30, "archive-exact"), (31, "archive-exact"), (63, "archive-exact"),
    (64, "probe"), (65, "archive-exact"), (66, "archive-exact"), (130, "archive-exact"),
    (131, "probe"), (132, "archive-exact"), (133, "archive-exact"),
]


def test_schedule_over_200_calls() -> None:
    """Probes, reverts, retries and trials over 200 calls, call by call (the steady state's
    shortcuts skip none of them: these are the calls of the version without shortcuts)."""
    fast = BatchConfig(4096, 512, 1, "archive-exact")
    c, s = schedule(fast, lambda cf: 1.3e6 if cf.batch_size == 4096 else 1e6)
    assert marks(s, "archive-exact") == [
        (2, "probe"), (4, "probe"), (6, "probe"), (14, "probe"), (30, "probe"), (62, "probe"),
        (126, "probe"), (190, "probe"),
    ]
    assert (c.probe_every, c.reverts) == (64, 0)
    slow = BatchConfig(4096, 512, 2, "archive-exact")
    c, s = schedule(slow, lambda cf: 0.85e6 if cf.threads == 2 else 1e6)
    assert marks(s, "reverted") == SLOW_MARKS
    assert (c.reverts, c.retry_at) == (4, 261)
    c, s = schedule(REFINE, refine_rate, REFINE_CANDIDATES)
    # Whole-call trials, each after an incumbent call (its pair). The threads candidate's run
    # two calls in a row, the first warming the pool (no throughput), the second the trial;
    # the first of them is the cell's first call on the pool and waits for the slack to cover
    # it at WORST_RATIO_COLD (call 137 instead of 69); promoted on four pairs.
    assert marks(s, "heuristic", "online") == [
        (18, "online-trial"), (25, "online-trial"), (33, "online-trial"),
        (137, "online-trial"), (138, "online-trial"), (140, "online-trial"),
        (141, "online-trial"), (143, "online-trial"), (144, "online-trial"),
        (146, "online-trial"), (147, "online-trial"), (148, "probe"), (156, "probe"),
        (172, "probe"),
    ]
    assert s.index("online") == 148 and set(s[148:]) == {"online", "probe"}
    assert (c.promotions, c.trials, c.probes, c.reverts, c.warmups) == (1, 7, 3, 0, 4)
    assert c.incumbent.config[:3] == (8192, 2048, 2)


class SlowPathCell(L.Cell):
    """A cell that never takes the steady state's shortcuts (every call decided in full)."""

    def choose(self, n: int) -> tuple[Any, str]:
        self.calls += 1
        out = self._choose(n)
        self._fast_n = -1  # so record never takes its steady path either
        return out


@pytest.mark.parametrize("seed", range(12))
def test_steady_state_shortcuts_decide_as_the_full_path(seed: int) -> None:
    """Call by call, the same sources, the same arms and the same evidence (exact floats)."""
    rng = random.Random(seed)
    speed = {1: rng.uniform(0.6, 1.5), 2: rng.uniform(0.6, 1.5)}
    noise = rng.choice([0.0, 0.02, 0.1])
    selected = BatchConfig(4096, 512, rng.choice([1, 2]), rng.choice(["archive-exact", "heuristic"]))
    cands = REFINE_CANDIDATES if selected.source == "heuristic" else []

    def drive(kind: type[L.Cell]) -> tuple[L.Cell, list[tuple[str, Any, float, Any]]]:
        r = random.Random(seed)
        c = kind(selected, list(cands), cores=2)
        trace = []
        for i in range(600):
            arm, source = c.choose(N)
            shift = 1.5 if i > 300 and seed % 3 == 0 else 1.0  # the machine changes mid-run
            rate = 1e6 * shift * speed[arm.config.threads] * (1.0 + noise * r.random())
            c.record(arm, N, N / rate)
            trace.append((source, arm.config[:3], c.slack, c.last))
        return c, trace

    fast, ours = drive(L.Cell)
    full, theirs = drive(SlowPathCell)
    assert ours == theirs
    assert fast.evidence() == full.evidence()


@pytest.mark.parametrize("seed", range(16))
def test_candidates_made_when_first_needed_decide_as_candidates_given_at_once(seed: int) -> None:
    """A cell whose candidates are made later (``later``, as Live makes them) runs the same
    calls as one given them at once, call by call, whatever its incumbent (running as the
    baseline or not, slower or faster: reverted early or not); they are made no sooner than
    the call after the baseline's MIN_SAMPLES-th throughput, and never on the first call."""
    rng = random.Random(seed)
    speed = {1: rng.uniform(0.6, 1.5), 2: rng.uniform(0.6, 1.5)}
    noise = rng.choice([0.0, 0.02, 0.1])
    selected = rng.choice([REFINE, DEFAULT_CONFIGURATION._replace(source="archive-keep-default"),
                           BatchConfig(4096, 512, 2, "heuristic")])
    cands = rng.choice([REFINE_CANDIDATES, THREADS_AND_SIZES, []])  # none: may it never refine
    if seed >= 12:  # a second thread far slower: reverted on its first throughputs
        selected, speed = BatchConfig(4096, 512, 2, "heuristic"), {1: 1.0, 2: 0.6}

    def drive(later: bool) -> tuple[L.Cell, list[tuple[str, Any, float, Any]], list[int]]:
        r = random.Random(seed)
        made: list[int] = []

        def make() -> list[tuple[BatchConfig, str]]:
            made.append(c.calls)
            assert len(c.baseline.rates) >= L.MIN_SAMPLES or c.reverted
            return list(cands)

        c = L.Cell(selected, [] if later else list(cands), cores=2, first_call_warms=True,
                   later=make if later else None)
        trace = []
        for _ in range(400):
            arm, source = c.choose(N)
            rate = 1e6 * speed[arm.config.threads] * (1.0 + noise * r.random())
            c.record(arm, N, N / rate)
            trace.append((source, arm.config[:3], c.slack, c.last))
        return c, trace, made

    now, ours, made = drive(True)
    once, theirs, _ = drive(False)
    assert ours == theirs
    assert now.evidence() == once.evidence()
    assert len(made) == 1 and made[0] > 1


# -- online refinement ----------------------------------------------------------------------------


#: A cell's candidates for the schedule tests below: a second thread and both sizes variants
#: (a JSON cell's, less its heuristic; a dicts cell has no smaller chunks on one thread).
THREADS_AND_SIZES = [
    (BatchConfig(8192, 2048, 2, "online-trial"), "threads"),
    (BatchConfig(32768, 8192, 1, "online-trial"), "sizes"),
    (BatchConfig(2048, 512, 1, "online-trial"), "sizes"),
]


def test_candidates_are_small_and_distinct() -> None:
    """Each configuration once, as it runs on the call; on dicts, no candidate that runs one
    thread on smaller chunks than both the selector's answer and the default (read in place,
    smaller chunks never run faster)."""
    elite = [BatchConfig(1024, 64, 2, "elite")]
    threads = (BatchConfig(8192, 2048, 2, "online-trial"), "threads")
    from_elite = (BatchConfig(1024, 64, 2, "online-trial"), "elite")
    larger = (BatchConfig(32768, 8192, 1, "online-trial"), "sizes")
    smaller = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    heuristic = (BatchConfig(32768, 512, 2, "online-trial"), "heuristic")  # JSON's: 2 threads
    for kind, expected in (
        ("json", [heuristic, threads, from_elite, larger, smaller]),
        ("dicts", [threads, from_elite, larger]),
    ):
        rep = (5, 10.0, 0.5, 200.0, kind, N)
        assert L.candidates(BatchConfig(8192, 2048, 1, "heuristic"), rep, N, 2, elite) == expected
    assert L.candidates(BatchConfig(8192, 1024, 1, "heuristic"), (5, 10.0, 0.5, 200.0, "dicts",
                        N), N, 1) == [(BatchConfig(32768, 4096, 1, "online-trial"), "sizes")]
    # An answer with smaller chunks than the default's: none smaller still on one thread (its
    # larger variant is the default itself, the baseline, not a candidate).
    got = L.candidates(BatchConfig(2048, 256, 1, "archive-nearest"),
                       (5, 10.0, 0.5, 200.0, "dicts", N), N, 2)
    assert [c[:3] for c, _ in got] == [(2048, 256, 2)]


def test_a_short_calls_threads_candidate_cuts_its_chunk_into_short_tasks() -> None:
    """400 records whose one-thread answer is a single task: the threads candidate cuts the
    chunk into tasks of at most SHORT_TASK_RECORDS (else it would run as one thread: no
    candidate)."""
    rep = (12, 15.0, 0.5, 225.0, "json", 400)
    got = L.candidates(BatchConfig(493, 493, 1, "heuristic"), rep, 400, 2)
    assert got[0] == (BatchConfig(493, L.SHORT_TASK_RECORDS, 2, "online-trial"), "threads")
    assert L.SHORT_TASK_RECORDS < 493 // 4


def test_short_json_and_ndjson_calls_take_part_when_they_carry_enough_work() -> None:
    assert L.takes_part((5, 10.0, 0.5, 200.0, "dicts", L.MIN_RECORDS))
    assert not L.takes_part((5, 10.0, 0.5, 200.0, "dicts", L.MIN_RECORDS - 1))
    # 400 records of 225 bytes at complexity 0.5: 562.5 weighted bytes each, 225,000 in all.
    for kind in ("json", "ndjson"):
        assert L.takes_part((12, 15.0, 0.5, 225.0, kind, 400))
        assert not L.takes_part((12, 15.0, 0.5, 225.0, kind, 200))  # under MIN_SHORT_RECORDS
        assert not L.takes_part((12, 15.0, 0.5, 225.0, kind, None))  # a stream
        assert not L.takes_part((3, 6.0, 0.3, 40.0, kind, 400))  # 30,400: too little work
    assert not L.takes_part((12, 15.0, 0.5, 225.0, "dicts", 400))


def test_a_short_json_call_with_enough_work_is_verified_live() -> None:
    schema = {"type": "object", "properties": {
        "text": {"type": "string", "pattern": "^[a-z ]+$"}, "id": {"type": "integer"}}}
    heavy = json.dumps([{"text": "lorem ipsum " * 40, "id": i} for i in range(600)]).encode()
    light = json.dumps([{"id": i} for i in range(600)]).encode()
    v = Validator(schema, online=True)
    for data in (heavy, light):
        for _ in range(3):
            assert v.validate_json(data).n_valid == 600
    heavy_live = v.explain(heavy, input_kind="json")["live"]
    assert heavy_live is not None and heavy_live["calls"] == 3
    assert v.explain(light, input_kind="json")["live"] is None


def test_a_short_dict_call_is_left_out_without_asking_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator answers "dicts below MIN_RECORDS never take part" itself: asking
    ``live.takes_part`` (an import statement and a call, 1 us) cost online=True 3% of a
    1,000-record call of small dicts that never takes part. JSON still asks."""
    import satya_adapt.validator as V

    asked: list[Any] = []

    def spy(profile: Any) -> bool:
        asked.append(profile[4])
        return False

    monkeypatch.setattr(L, "takes_part", spy)
    monkeypatch.setattr(V, "_takes_part", None, raising=False)  # imported afresh: the spy
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    v = Validator(schema, online=True)
    assert v.validate_batch([{"id": i} for i in range(1000)]).n_valid == 1000
    assert asked == []
    assert v.validate_json(json.dumps([{"id": i} for i in range(1000)])).n_valid == 1000
    assert asked == ["json"]


def test_a_candidate_ahead_only_within_noise_is_never_promoted() -> None:
    """A sizes candidate whose median is 4% ahead but whose throughputs overlap the incumbent's
    is tried again up to MAX_TRIAL_SAMPLES, then dropped: nothing is promoted (or cached) on
    noise. The same candidate clearly ahead is promoted after MIN_SAMPLES."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    cand = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    # Throughputs alternate around their medians: the default 0.95e6/1e6/1.05e6, the candidate
    # 1.0e6/1.04e6/1.08e6 (ahead by 4% in the median, its low end below the default's high).
    cycle = {True: [1.0e6, 1.04e6, 1.08e6], False: [0.95e6, 1.0e6, 1.05e6]}
    seen = {True: 0, False: 0}

    def noisy(cf: BatchConfig) -> float:
        mine = cf.batch_size == 2048
        seen[mine] += 1
        return cycle[mine][seen[mine] % 3]

    c, sources = run_cell(selected, noisy, 200, [cand])
    assert sources.count("online-trial") == L.MAX_TRIAL_SAMPLES
    assert (c.promotions, c.candidates, c.changed) == (0, [], False)
    assert c.incumbent.config[:3] == (8192, 2048, 1)
    assert set(sources) == {"heuristic", "online-trial"}
    c, sources = run_cell(selected, lambda cf: 1.2e6 if cf.batch_size == 2048 else 1e6, 200, [cand])
    assert sources.count("online-trial") == L.PAIRED_MIN_SAMPLES
    assert (c.promotions, c.changed) == (1, True)


def test_a_short_calls_candidates_first_trial_is_a_warm_up() -> None:
    """A configuration's first run on a short call is slower than its next ones (on the
    held-out 400-record JSON cell, 11 first trials of 12 below the same candidate's later
    median): there the first trial of each candidate counts in the slack, not as a
    throughput, so it is judged on the runs after it. A warm-up whose 80% is below the worst
    case assumed for the candidate sets that worst case (as a throughput would): its next trial
    waits for the slack to cover that. On 10,000-record calls the first trial counts."""
    selected = BatchConfig(510, 510, 1, "heuristic")  # runs as the default configuration
    cand = (BatchConfig(128, 128, 1, "online-trial"), "sizes")
    runs = [0]

    def cold_first(cf: BatchConfig) -> float:
        if cf.batch_size != 128:
            return 1e6
        runs[0] += 1
        return 0.8e6 if runs[0] == 1 else 1.2e6

    c, sources = run_cell(selected, cold_first, 300, [cand], n=400)
    assert (c.promotions, c.warmups) == (1, 1)
    assert list(c.incumbent.pairs) == pytest.approx([1.2] * L.PAIRED_MIN_SAMPLES)
    assert sources[:PROMOTED_AT[c][0] + 1].count("online-trial") == 1 + L.PAIRED_MIN_SAMPLES

    # A warm-up at 0.3 of the default's speed, below the 0.75 assumed for a size change, sets
    # its worst case to 0.24; one at 0.9 to 0.72; one at 0.95 (80% of it: 0.76) leaves it.
    for warm, worst in ((0.3, 0.24), (0.9, 0.72), (0.95, L.WORST_RATIO_SIZES)):
        c = L.Cell(selected, [cand], alpha=0.02, cores=2)
        arm = c.candidates[0]
        while c.warmups == 0:
            a, _ = c.choose(400)
            c.record(a, 400, 400 / (warm * 1e6 if a is arm else 1e6))
        assert not arm.rates and arm in c.candidates
        assert c._worst(arm) == pytest.approx(worst)

    # The same candidate on 10,000-record calls: promoted on its first four trials.
    runs[0] = 0
    big = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    c, sources = run_cell(BatchConfig(8192, 2048, 1, "heuristic"),
                          lambda cf: 1.2e6 if cf.batch_size == 2048 else 1e6, 200, [big])
    assert (c.promotions, c.warmups) == (1, 0)
    assert sources[:PROMOTED_AT[c][0] + 1].count("online-trial") == L.PAIRED_MIN_SAMPLES


def test_a_promotion_that_adds_a_thread_leaves_one_thread_candidates_for_later(no_returns: None) -> None:
    """Once a second thread is promoted (JSON, cut for its trials), no one-thread candidate
    runs: the sizes variant not tried yet goes, to come back later (such trials cost the
    heavy-regex dicts cells of ``eval_live.py`` 0.75-1.0 of a call each)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    trials = []
    for i in range(300):
        c = call_sliceable(live, prof(kind="json"), selected,
                           lambda cf: 1.5e6 if cf.threads == 2 else 1e6)
        if c.source == "online-trial":
            trials.append((i, tuple(c[:3])))
    cell = live._cells[live._key(prof(kind="json"))]
    assert cell.promotions == 1 and cell.incumbent.config[:3] == (8192, 2048, 2)
    first_two = min(i for i, c in trials if c[2] == 2)
    assert [c for i, c in trials if c[2] == 1] == [(2048, 512, 1)] * 3  # all before it
    assert all(i < first_two for i, c in trials if c[2] == 1)
    later = [a for a in cell.dropped if a.config[:3] == (32768, 8192, 1)]
    assert [(a.kind, a.note, a.back_at > 0) for a in later] == [
        ("sizes", "fewer threads than the incumbent's 2", True)]


def test_candidates_with_fewer_threads_than_a_promoted_one_go_for_now() -> None:
    """What a promotion that adds a thread does to the candidates: those with fewer threads go,
    to come back later (one that has run is not called untried); the others stay."""
    c = L.Cell(BatchConfig(8192, 2048, 1, "heuristic"), [
        (BatchConfig(32768, 8192, 1, "online-trial"), "sizes"),
        (BatchConfig(1024, 256, 1, "online-trial"), "elite"),
        (BatchConfig(4096, 64, 2, "online-trial"), "elite"),
    ], cores=2)
    c.candidates[1].rates.append(1e6)
    c._fewer_threads_later(2)
    assert [a.config[:3] for a in c.candidates] == [(4096, 64, 2)]
    assert [(a.config[:3], a.note, a.back_at) for a in c.dropped] == [
        ((32768, 8192, 1), "fewer threads than the incumbent's 2", L.FIRST_RETURN),
        ((1024, 256, 1), "", L.FIRST_RETURN)]


def test_a_dropped_candidate_is_tried_again_later() -> None:
    """A sizes candidate slower than the incumbent in its first trials (0.8 times its speed:
    the machine was busy then) is dropped, and the evidence says when it is tried again:
    FIRST_RETURN calls later. No trial of it comes before; then it is a candidate again, its
    evidence cleared, and, 1.5 times as fast by then, promoted."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    c = L.Cell(selected, [(BatchConfig(2048, 512, 1, "online-trial"), "sizes")], alpha=0.02, cores=2)
    fast = False
    sources: list[str] = []
    dropped_at = 0
    while not c.promotions and c.calls < 4000:
        arm, source = c.choose(N)
        speed = (1.5e6 if fast else 0.8e6) if arm.config.batch_size == 2048 else 1e6
        c.record(arm, N, N / speed)
        sources.append(source)
        if c.dropped and not dropped_at:
            dropped_at = c.calls
            (ev,) = c.evidence()["dropped"]
            assert ev["samples"] == L.MIN_SAMPLES and ev["tried_again_at_call"] == dropped_at + L.FIRST_RETURN
            assert c.candidates == []
            fast = True
    assert dropped_at and c.promotions == 1 and c.incumbent.config[:3] == (2048, 512, 1)
    back = dropped_at + L.FIRST_RETURN
    assert "online-trial" not in sources[dropped_at:back - 1]
    assert sources[back - 1:].count("online-trial") >= L.PAIRED_MIN_SAMPLES
    assert list(c.dropped) == []  # it came back: no longer listed as dropped


def test_a_candidate_dropped_again_comes_back_twice_as_late_and_the_promise_holds() -> None:
    """A second thread always at 0.6 times one thread's speed: dropped, tried again
    FIRST_RETURN calls later, dropped again, tried again twice as late, and so on (at most
    MAX_BACKOFF apart). Its trials are paid from the allowance: over the whole run the cell's
    throughput stays at least 1 - alpha of the default's. A candidate dropped untried never
    comes back."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    cands = [(BatchConfig(8192, 2048, 2, "online-trial"), "threads"),
             (BatchConfig(2048, 512, 1, "online-trial"), "sizes")]
    c = L.Cell(selected, cands, alpha=0.02, cores=2)
    c.drop_untried([c.candidates[1]], "hopeless")
    spent = default = 0.0
    backs = []
    for _ in range(8000):
        arm, _source = c.choose(N)
        seconds = N / (0.6e6 if arm.config.threads == 2 else 1e6)
        c.record(arm, N, seconds)
        spent += seconds
        default += N / 1e6
        for d in c.evidence()["dropped"]:
            if d["config"][2] == 2 and d.get("tried_again_at_call") not in (None, *backs[-1:]):
                backs.append(d["tried_again_at_call"])
        assert default / spent >= 1.0 - c.alpha - 1e-9
    assert c.promotions == 0 and c.incumbent.config[:3] == (8192, 2048, 1)
    gaps = [b - a for a, b in zip(backs, backs[1:])]
    assert len(backs) >= 3
    # Twice as late each time, up to MAX_BACKOFF.
    assert all(g >= min(L.FIRST_RETURN << (i + 1), L.MAX_BACKOFF) for i, g in enumerate(gaps))
    untried = [d for d in c.evidence()["dropped"] if d.get("dropped_untried")]
    assert untried and all("tried_again_at_call" not in d for d in untried)


def test_a_returning_candidate_without_room_comes_later() -> None:
    """A dropped candidate due back while the cell already has MAX_CANDIDATES candidates waits
    FIRST_RETURN calls more, rather than staying due (which would end every steady state at
    once: every call would decide)."""
    c = L.Cell(BatchConfig(8192, 2048, 1, "heuristic"), [
        (BatchConfig(1024 * (i + 1), 512, 1, "online-trial"), "sizes") for i in range(L.MAX_CANDIDATES)
    ], alpha=0.02, cores=2)
    arm = L._Arm(BatchConfig(8192, 2048, 2, "online-trial"), "threads")
    c.calls = 5
    c._come_back_later(arm)
    c.calls = arm.back_at
    c._bring_back()
    assert arm not in c.candidates and len(c.candidates) == L.MAX_CANDIDATES
    assert arm.back_at == c.calls + L.FIRST_RETURN == c.next_return
    c.candidates.pop()
    c.calls = arm.back_at
    c._bring_back()
    assert c.candidates[-1] is arm and arm.back_at == 0 and c.next_return == L._NEVER


def test_sign_test() -> None:
    assert L.sign_test([1.1] * 4) == 1 / 16
    assert L.sign_test([1.1] * 5 + [0.9]) == 7 / 64
    assert L.sign_test([1.1] * 6 + [0.9]) == 8 / 128
    assert L.sign_test([0.9, 1.0]) == 1.0  # a tie is not ahead


def candidate_speeds(speeds: Sequence[float], repeat: bool = False) -> Rate:
    """Timings for :func:`run_cell`: a candidate with chunks of 2048 records runs its calls at
    ``speeds`` times the default's 1e6 records/s in turn (cycled when ``repeat``, else at the
    last one after them); every other configuration at 1e6."""
    seen = [0]

    def rate(cf: BatchConfig) -> float:
        if cf.batch_size != 2048:
            return 1e6
        i = seen[0]
        seen[0] += 1
        return speeds[i % len(speeds) if repeat else min(i, len(speeds) - 1)] * 1e6

    return rate


@pytest.mark.parametrize(("slow", "trials", "promoted"), [
    (1, L.MAX_TRIAL_SAMPLES, True), (2, 15, True), (3, L.MAX_AHEAD_TRIAL_SAMPLES, False)])
def test_a_candidate_with_a_slow_tail_is_judged_by_the_sign_test(
    slow: int, trials: int, promoted: bool, no_returns: None
) -> None:
    """A sizes candidate 1.5 times as fast as the incumbent except in ``slow`` of every 7 trials
    (0.8 times: a shared machine's tail): 6 pairs of 7 ahead promote it (chance gives that to a
    candidate no faster once in 16); with 5 of 7, its median well ahead, it is tried on until
    11 pairs of 15 are (5 of 7 had dropped it); with 4 of 7 it never is, and is dropped after
    MAX_AHEAD_TRIAL_SAMPLES (12 of 21). Requiring all 7 had dropped the first two."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    cand = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    tail = [0.8 if i in (1, 4, 6)[:slow] else 1.5 for i in range(7)]
    c, sources = run_cell(selected, candidate_speeds(tail, repeat=True), 400, [cand])
    assert sources.count("online-trial") == trials
    assert (c.promotions, c.changed) == ((1, True) if promoted else (0, False))
    assert c.incumbent.config[:3] == ((2048, 512, 1) if promoted else (8192, 2048, 1))
    assert c.candidates == []
    if not promoted:
        assert c.evidence()["dropped"][0]["paired_ratios"] == pytest.approx(
            [0.8 if i % 7 in (1, 4, 6) else 1.5 for i in range(trials)])


def test_a_candidate_well_ahead_waits_when_the_slack_is_spent(no_returns: None) -> None:
    """A trial's timing comes when the slack is spent (warm-ups that cost more than assumed),
    before the candidate has MIN_SAMPLES throughputs: one 1.35 times the incumbent's speed
    stays, tried again once the slack pays for it, and is promoted; one at 0.9 goes."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    cand = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    for speed, kept in ((1.35, True), (0.9, False)):
        c = L.Cell(selected, [cand], alpha=0.02, cores=2)
        arm = c.candidates[0]
        for _ in range(5):  # the incumbent runs as the default: baseline evidence
            a, _ = c.choose(N)
            c.record(a, N, N / 1e6)
        c.other_seconds += 0.1  # a warm-up 10 calls long: the slack is spent
        assert c.slack < 0.0
        c.record(arm, N, N / (speed * 1e6))
        assert (arm in c.candidates, len(c.dropped)) == ((True, 0) if kept else (False, 1))
        sources = []
        for _ in range(1000):
            a, source = c.choose(N)
            c.record(a, N, N / ((speed if a.config.batch_size == 2048 else 1.0) * 1e6))
            sources.append(source)
        assert (c.promotions, c.incumbent.config[:3]) == (
            (1, (2048, 512, 1)) if kept else (0, (8192, 2048, 1)))
        # Not tried until the slack pays for a trial again (it grows by 2% of a call a call).
        assert ("online-trial" in sources[:200]) is False
        assert ("online-trial" in sources) is kept


@pytest.mark.parametrize(("speeds", "trials", "promoted"), [
    ([0.95, 1.65, 0.86] + [1.5] * 10, 10, True),  # promoted with 8 pairs of 10 ahead
    ([1.02, 0.98, 1.03] * 5, L.MIN_SAMPLES, False),  # a tie
    ([0.9, 0.8, 0.85] * 5, L.MIN_SAMPLES, False),  # slower
])
def test_a_candidate_with_few_pairs_but_one_well_ahead_is_tried_again(
    speeds: list[float], trials: int, promoted: bool, no_returns: None
) -> None:
    """Three trials of a second thread on short calls, two of them slow (the pool's thread woke
    late: 0.95 and 0.86 times the incumbent's speed) and one 1.65 times: its median is below 1,
    but the pair well ahead makes a slow tail's draws likelier than a slower candidate; it is
    tried on, and promoted once its pairs say so. Ties and slower candidates, no pair well
    ahead, are dropped after MIN_SAMPLES as before."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    cand = (BatchConfig(2048, 512, 1, "online-trial"), "sizes")
    c, sources = run_cell(selected, candidate_speeds(speeds), 300, [cand])
    assert (c.promotions, c.changed) == ((1, True) if promoted else (0, False))
    assert sources.count("online-trial") == trials


def test_bandit_waits_until_the_slack_covers_a_trial_then_converges() -> None:
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # runs as the default configuration
    cands = THREADS_AND_SIZES
    c, sources = run_cell(selected, lambda cf: 1.5e6 if cf.threads == 2 else 1e6, 200, cands)
    # Sizes variants risk a third of a call (worst ratio 0.75): affordable once alpha * calls
    # >= 1/3, at call 18. The threads variant's first whole call is the cell's first on the
    # pool, a warm-up that risks 2.33 calls (WORST_RATIO_COLD 0.3): at call 118 (2% of 117
    # calls); its measured trials risk a call at most (worst 0.5). No two whole-call trials in
    # a row: each is paired with the call before it; the threads variant's come each right
    # after a whole call of it that warms the pool (counted in the slack only).
    first = sources.index("online-trial")
    assert first == 17
    # two sizes variants, three calls each (not ahead: dropped), one call apart
    assert sources[17:29] == ["online-trial", "heuristic"] * 6
    assert sources[29:117] == ["heuristic"] * 88
    # four times a warm-up and a trial, each after an incumbent call (its pair)
    assert sources[117:128] == ["online-trial", "online-trial", "heuristic"] * 3 + [
        "online-trial", "online-trial"]
    assert set(sources[128:]) == {"online", "probe"}
    assert c.incumbent.config[:3] == (8192, 2048, 2)
    assert (c.promotions, c.warmups) == (1, 4)
    ev = c.evidence()
    assert ev["incumbent"]["source"] == "online"
    # The promoted one shows the paired ratios that promoted it; the two dropped ones theirs
    # (each throughput over the incumbent's next to it: as fast, so not ahead).
    assert ev["incumbent"]["paired_ratios"] == [1.5] * L.PAIRED_MIN_SAMPLES
    assert [(d["config"], d["candidate"], d["paired_ratios"]) for d in ev["dropped"]] == [
        ([32768, 8192, 1], "sizes", [1.0] * 3), ([2048, 512, 1], "sizes", [1.0] * 3)]
    assert ev["candidates"] == []


def record_call(c: L.Cell, arm: Any, rate: Rate, n: int = N) -> None:
    """Records a call of ``n`` records that ran ``arm`` as :class:`Live` does: a trial on a
    slice as its warm-up (spent), the incumbent's rest of the call, then the slice (its pair)."""
    k, w = c.slice, c.warm
    if k:
        c.spend(arm, w, w / rate(arm.config))
        c.record(c.incumbent, n - w - k, (n - w - k) / rate(c.incumbent.config))
        c.record(arm, k, k / rate(arm.config))
    else:
        c.record(arm, n, n / rate(arm.config))


def test_candidates_are_first_tried_on_a_slice_of_a_call() -> None:
    """A call that can be cut in two tries a candidate on its first records (the incumbent runs
    the rest). A size candidate runs whole chunks of its own: 2048 records of a 10,000-record
    call, a fifth of a call's worst case (a third of a call at the worst ratio 0.75), so it is
    tried from call 5 instead of call 18; not ahead, it is dropped after three. A candidate
    whose chunk outgrows the quarter and that keeps the threads is never sliced (a slice would
    cut the chunks it changes): whole calls, one call apart (each paired with the incumbent's
    call before it). A ``threads`` candidate whose chunk is larger than the quarter runs on
    the fewest records that give each of its threads a micro-batch (4096, more than the
    quarter) after as many that warm it up, once the slack covers 0.82 of a call at the worst
    ratio 0.5; always on a slice then (a whole call would start cold), and promoted after four.
    No scout runs first (see the next tests): none could be shorter than its slice."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    cands = THREADS_AND_SIZES
    rate: Rate = lambda cf: 1.5e6 if cf.threads == 2 else 1e6  # noqa: E731
    c = L.Cell(selected, list(cands), alpha=0.02, cores=2)
    trials = []
    for i in range(60):
        arm, source = c.choose(N, sliceable=True)
        if source == "online-trial":
            trials.append((i, arm.config[:3], c.slice, c.warm))
        record_call(c, arm, rate)
    assert trials == [
        (4, (2048, 512, 1), 2048, 0),
        (5, (2048, 512, 1), 2048, 0),
        (6, (2048, 512, 1), 2048, 0),
        (17, (32768, 8192, 1), 0, 0),
        (19, (32768, 8192, 1), 0, 0),
        (21, (32768, 8192, 1), 0, 0),
        (41, (8192, 2048, 2), 4096, 4096),
        (42, (8192, 2048, 2), 4096, 4096),
        (43, (8192, 2048, 2), 4096, 4096),
        (44, (8192, 2048, 2), 4096, 4096),
    ]
    assert c.incumbent.config[:3] == (8192, 2048, 2) and c.promotions == 1 and c.scouts == 0
    # Without a slice (a generator), the same candidate waits for a whole call's slack.
    c2, sources = run_cell(selected, rate, 60, cands)
    assert sources.index("online-trial") == 17 and c2.slice == 0


def test_candidates_with_more_threads_run_slices_as_long_as_one_another() -> None:
    """Two second-thread candidates, one with chunks larger than a quarter of the call (it runs
    on the quarter, 2,500 records, after as many of warm-up), one with 1,024-record chunks
    (in its own whole chunks, 2,048: its trials were then the cheaper, so tried first, and
    noisier): both run 2,500. The same cost, so the first in the list (the ``threads``
    candidate) is tried first, and then the other on as many records. A lone candidate with
    more threads keeps its whole chunks (4,096 of a 20,000-record call, not its quarter)."""
    selected = BatchConfig(5000, 128, 1, "heuristic")
    cands = [(BatchConfig(5000, 128, 2, "online-trial"), "threads"),
             (BatchConfig(1024, 64, 2, "online-trial"), "elite")]
    c = L.Cell(selected, cands, cores=2, worst_threads=L.WORST_RATIO_THREADS_DICTS)
    threads, elite = c.candidates
    part = int(N * L.TRIAL_SLICE)
    assert (c._slice_of(threads, N, part), c._slice_of(elite, N, part)) == (2500, 2048)
    rate: Rate = lambda cf: 1.2e6 if cf.threads == 2 else 1e6  # noqa: E731
    tried = []
    for _ in range(120):
        arm, source = c.choose(N, sliceable=True)
        if source == "online-trial" and arm.kind != L.SCOUT and c.incumbent.config.threads == 1:
            tried.append((arm.config[:3], c.slice, c.warm))
        record_call(c, arm, rate)
    assert tried[0] == ((5000, 128, 2), 2500, 2500)
    assert {t[1:] for t in tried} == {(2500, 2500)}
    lone = L.Cell(selected, [(BatchConfig(4096, 128, 2, "online-trial"), "threads")], cores=2,
                  worst_threads=L.WORST_RATIO_THREADS_DICTS)
    n = 20000
    for _ in range(200):
        arm, source = lone.choose(n, sliceable=True)
        if source == "online-trial" and arm.kind != L.SCOUT:
            assert (lone.slice, lone.warm) == (4096, 4096)
            break
        record_call(lone, arm, rate, n)
    else:
        raise AssertionError("no trial in 200 calls")


def test_a_scout_and_a_threads_candidate_that_ran_set_the_next_ones_worst_case() -> None:
    """Two candidates with a second thread, whose trials the slack does not cover at the worst
    ratio 0.5 for a long while. A *scout* runs first: the candidate that needs the fewest
    records for its threads (8192/256/2) on the largest slice the slack covers, 1100 records
    after 1100 that warm it up, at call 11. It ran at 0.95 of the baseline: every candidate
    with two threads is judged at 0.76 from then on, so the slow one's trials (on the quarter)
    come at once; the scout's throughput is none of them (the candidate still has three trials
    to run). It is dropped; the fast one needs 8192 records for its two micro-batches of 4096
    (with as many to warm it up, more than a call), so it runs whole calls from call 21 (at
    0.5, a whole call would wait for call 50), each trial right after a whole call that warms
    the pool, one incumbent call between; it is ahead and promoted."""
    selected = BatchConfig(8192, 1024, 1, "heuristic")
    slow, fast = BatchConfig(8192, 256, 2, "online-trial"), BatchConfig(65536, 4096, 2, "online-trial")
    speeds = {slow: 0.95e6, fast: 1.5e6}
    rate: Rate = lambda cf: speeds.get(cf._replace(source="online-trial"), 1e6)  # noqa: E731
    c = L.Cell(selected, [(slow, "heuristic"), (fast, "threads")], alpha=0.02, cores=2)
    slow_arm, fast_arm = c.candidates
    trials = []
    for i in range(60):
        arm, source = c.choose(N, sliceable=True)
        k, w = c.slice, c.warm
        if source == "online-trial":
            trials.append((i, arm.kind, arm.config[:3], k, w))
            if arm.kind == "scout":
                assert arm not in c.candidates and not slow_arm.rates
            elif not arm.rates:
                assert c._worst(arm) == pytest.approx(0.8 * 0.95)
        record_call(c, arm, rate)
    assert trials == [
        (11, "scout", (8192, 256, 2), 1100, 1100),
        (12, "heuristic", (8192, 256, 2), 2500, 2500),
        (13, "heuristic", (8192, 256, 2), 2500, 2500),
        (14, "heuristic", (8192, 256, 2), 2500, 2500),
        (21, "threads", (65536, 4096, 2), 0, 0),
        (22, "threads", (65536, 4096, 2), 0, 0),
        (24, "threads", (65536, 4096, 2), 0, 0),
        (25, "threads", (65536, 4096, 2), 0, 0),
        (27, "threads", (65536, 4096, 2), 0, 0),
        (28, "threads", (65536, 4096, 2), 0, 0),
        (30, "threads", (65536, 4096, 2), 0, 0),
        (31, "threads", (65536, 4096, 2), 0, 0),
    ]
    assert c.incumbent is fast_arm and c.promotions == 1
    assert c.scouts == 1 and c.evidence()["scouts"] == 1


def test_a_scout_that_runs_slow_costs_no_more_than_the_slack() -> None:
    """A scout is paid from the pessimistic slack like a trial: a second thread at half the
    baseline's speed (the worst ratio assumed) is scouted on the largest slice the slack covers
    at that ratio; the run's cumulative throughput stays within alpha of the baseline's. The
    candidate is judged at 0.4 from then on (0.8 of what the scout showed): its trials cost
    more, and come later, than they would have without the scout."""
    selected = BatchConfig(8192, 1024, 1, "heuristic")
    cand = BatchConfig(8192, 256, 2, "online-trial")
    rate: Rate = lambda cf: 0.5e6 if cf.threads == 2 else 1e6  # noqa: E731
    c = L.Cell(selected, [(cand, "threads")], alpha=0.02, cores=2)
    (cand_arm,) = c.candidates
    spent, lowest, kinds, worst = 0.0, 1.0, [], []
    for i in range(200):
        arm, source = c.choose(N, sliceable=True)
        if source == "online-trial":
            kinds.append(arm.kind)
        k, w = c.slice, c.warm
        spent += (k + w) / rate(arm.config) + (N - k - w) / 1e6
        record_call(c, arm, rate)
        if arm.kind == "scout":
            worst.append(c._worst(cand_arm))
        lowest = min(lowest, (i + 1) * N / 1e6 / spent)
    assert kinds[0] == "scout" and c.scouts == 1 and "threads" in kinds
    assert worst == [pytest.approx(0.4)]
    assert lowest >= 1.0 - L.ALPHA


def test_no_slice_below_the_smallest_slice_or_when_a_whole_call_is_affordable() -> None:
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    cands = [(BatchConfig(8192, 2048, 2, "online-trial"), "threads")]
    small = 4 * L.MIN_SLICE_RECORDS - 4  # a quarter below MIN_SLICE_RECORDS
    c = L.Cell(selected, cands, alpha=0.02, cores=2)
    for _ in range(20):
        arm, _source = c.choose(small, sliceable=True)
        assert c.slice == 0
        c.record(arm, small, small / 1e6)
    # A generous alpha: the whole call is affordable at once, so no slice is needed; but a
    # candidate with more threads is still tried on a slice, after its warm-up.
    sizes = [(BatchConfig(16384, 2048, 1, "online-trial"), "sizes")]
    for cand, want in ((sizes, (0, 0)), (cands, (4096, 4096))):
        c = L.Cell(selected, cand, alpha=0.5, cores=2)
        for _ in range(3):
            arm, _source = c.choose(N, sliceable=True)
            c.record(arm, N, N / 1e6)
        arm, source = c.choose(N, sliceable=True)
        assert (source, c.slice, c.warm) == ("online-trial", *want)


def test_a_candidates_cold_warm_up_does_not_hold_back_its_trials() -> None:
    """A short call's second thread: 0.37 times the default's speed on its first call (cold),
    1.3 times after. The warm-up waits for the slack to cover 0.3 (call 118); a cold start
    that slow is as expected, so the measured trials are judged at the usual 0.5 and follow
    once the slack has recovered (call 137, not after another 117 calls at 80% of 0.37), each
    right after a whole call that warms the pool, the first of them a warm-up too (a short
    call's candidate); promoted on four pairs."""
    left = [1]

    def rate(cf: BatchConfig) -> float:
        if cf.threads == 2:
            if left[0]:
                left[0] -= 1
                return 0.37e6
            return 1.3e6
        return 1e6

    cand = (BatchConfig(493, 64, 2, "online-trial"), "threads")
    c, s = run_cell(BatchConfig(493, 493, 1, "heuristic"), rate, 200, [cand], n=400)
    assert marks(s, "heuristic", "online")[:12] == [
        (118, "online-trial"), (137, "online-trial"), (138, "online-trial"),
        (140, "online-trial"), (141, "online-trial"), (143, "online-trial"),
        (144, "online-trial"), (146, "online-trial"), (147, "online-trial"),
        (149, "online-trial"), (150, "online-trial"), (151, "probe"),
    ]
    assert (c.warmups, c.promotions, s.index("online")) == (7, 1, 151)


def test_a_second_thread_is_tried_after_a_call_that_wakes_the_pool() -> None:
    """Short calls whose pool threads fall asleep between calls: two threads run 0.9 times the
    default's speed right after a one-thread call, 1.3 times call after call. Each whole-call
    trial comes right after a call of the candidate that warms the pool (its timing kept out of
    the evidence), so the candidate is judged at 1.3 and promoted; tried among one-thread calls
    (the previous schedule) it showed 0.9 and was dropped. The cumulative time stays within
    alpha of the default's."""
    last = [1]

    def rate(cf: BatchConfig) -> float:
        warm = last[0] == 2
        last[0] = cf.threads
        return (1.3e6 if warm else 0.9e6) if cf.threads == 2 else 1e6

    cand = (BatchConfig(493, 64, 2, "online-trial"), "threads")
    c = L.Cell(BatchConfig(493, 493, 1, "heuristic"), [cand], alpha=0.02, cores=2)
    spent = 0.0
    for _ in range(400):
        arm, _source = c.choose(400)
        seconds = 400 / rate(arm.config)
        spent += seconds
        c.record(arm, 400, seconds)
        assert spent <= (1 + c.alpha) * c.calls * 400 / 1e6 + 400 / 1e6 * (1 / 0.3)
    assert c.incumbent.config[:3] == (493, 64, 2) and c.promotions == 1
    # its trials were each timed after a call that warmed the pool: paired ratios of 1.3
    assert len(c.incumbent.pairs) >= L.PAIRED_MIN_SAMPLES
    assert all(p == pytest.approx(1.3) for p in c.incumbent.pairs)
    assert c.warmups >= 4


def test_a_call_too_short_for_a_slice_warms_the_pool_and_tries_a_second_thread_at_once() -> None:
    """The cell above, its 400-record calls sliceable (a list, JSON, NDJSON): a trial of the
    second thread runs the whole call, its first task per thread (128 records) warming the
    pool up (0.9 times the default's speed there, timed apart and counted in the slack only),
    the other 272 records measured (1.3 times). One call a trial instead of two, each paired
    with the incumbent's call before it: first tried at call 72 (a warm-up, as every short
    call's candidate's first trial), promoted at call 80, where whole calls (a generator) first
    warmed the pool at call 117 and promoted at 130. The cumulative time never exceeds
    (1 + alpha) times the default's."""
    cand = (BatchConfig(493, 64, 2, "online-trial"), "threads")
    marks = {}
    for sliceable in (True, False):
        last = [1]

        def rate(cf: BatchConfig, last: list[int] = last) -> float:
            warm = last[0] == 2
            last[0] = cf.threads
            return (1.3e6 if warm else 0.9e6) if cf.threads == 2 else 1e6

        c = L.Cell(BatchConfig(493, 493, 1, "heuristic"), [cand], alpha=0.02, cores=2)
        spent, trials, promoted = 0.0, [], -1
        for i in range(200):
            arm, source = c.choose(400, sliceable)
            if source == "online-trial":
                trials.append((i, c.warm, c.slice))
            if c.slice:  # as Live.finish_sliced records it: the warm-up spent, the rest timed
                w, k = c.warm, c.slice
                last[0] = 2
                c.spend(arm, w, w / 0.9e6)
                c.record(arm, k, k / 1.3e6)
                spent += w / 0.9e6 + k / 1.3e6
            else:
                seconds = 400 / rate(arm.config)
                c.record(arm, 400, seconds)
                spent += seconds
            assert spent <= (1 + c.alpha) * c.calls * 400 / 1e6 + 1e-12
            if promoted < 0 and c.promotions:
                promoted = i
        assert c.incumbent.config[:3] == (493, 64, 2)
        assert list(c.incumbent.pairs) == pytest.approx([1.3] * L.PAIRED_MIN_SAMPLES)
        marks[sliceable] = (trials[0][0], promoted, c.warmups)
        if sliceable:
            assert {(w, k) for _, w, k in trials} == {(128, 272)}
    assert marks == {True: (72, 80, 1), False: (117, 130, 6)}


def test_a_losing_candidates_warm_up_bounds_its_next_trials(no_returns: None) -> None:
    """A second thread at 0.2 times the speed: its first whole call warms the pool up (no
    throughput), slower than WORST_RATIO_COLD (0.3), so the worst case assumed for its warm
    calls shrinks alike (0.5 * 0.2 / 0.3 = 0.33) and its next trial waits for the slack to
    cover that (call 301, not 120); it loses more, the slack is spent: dropped."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    cands = [(BatchConfig(8192, 2048, 2, "online-trial"), "threads")]
    c, sources = run_cell(selected, lambda cf: 0.2e6 if cf.threads == 2 else 1e6, 1500, cands)
    assert marks(sources, "heuristic") == [(118, "online-trial"), (301, "online-trial")]
    assert (c.warmups, c.candidates) == (1, [])
    assert c.incumbent.config == selected


def test_online_after_a_revert_promotes_a_candidate() -> None:
    # The selector's answer (threads=2) loses; the candidate with threads=1 and larger sizes wins.
    selected = BatchConfig(4096, 512, 2, "heuristic")
    cands = [(BatchConfig(16384, 2048, 1, "online-trial"), "sizes")]

    def rate(cf: BatchConfig) -> float:
        return {2: 0.7e6}.get(cf.threads, 1.3e6 if cf.batch_size == 16384 else 1e6)

    c, sources = run_cell(selected, rate, 150, cands, alpha=0.05)
    # Call 1 warms the pool up; threads=2 lost 43% of a call in call 2.
    assert sources[:3] == ["heuristic", "heuristic", "probe"]
    assert sources[3:9] == ["reverted"] * 6
    assert sources[9:17] == ["online-trial", "reverted"] * 3 + ["online-trial", "probe"]
    # Reverted after one throughput, the selector's answer is a candidate again: tried against
    # the new incumbent (with more threads: each trial right after a whole call that warms
    # the pool; the third warm-up, the slack then short of a trial, is the trial) and dropped
    # (still slower).
    assert sources[17:25] == ["online-trial"] * 2 + ["online"] + ["online-trial"] * 2 + [
        "online", "online", "online-trial"]
    assert set(sources[25:]) == {"online", "probe"}
    assert c.incumbent.config == BatchConfig(16384, 2048, 1, "online-trial")
    assert c.reverts == 1 and c.promotions == 1 and c.retry is None and c.candidates == []


def cold_then_fast(selected: BatchConfig, cold: int) -> Rate:
    """``selected`` runs its first ``cold`` calls at 0.7 times the default's throughput, then
    1.4 times; any other configuration with two threads 0.9 times (the other candidates do not
    pay), with one thread the default's."""
    left = [cold]

    def rate(cf: BatchConfig) -> float:
        if cf[:3] != selected[:3]:
            return 0.9e6 if cf.threads == 2 else 1e6
        if left[0]:
            left[0] -= 1
            return 0.7e6
        return 1.4e6

    return rate


@pytest.mark.parametrize("kind", ["json", "dicts"])
def test_the_first_call_on_the_pool_is_a_warm_up(kind: str) -> None:
    """The selector's answer has a second thread whose first call runs cold (0.7x the
    default: the pool's threads had not run the schema), then 1.4x. Judged on that call
    against one probe, it was reverted at call 2; now that call is a warm-up (counted in the
    slack, no throughput) and the choice is verified on the calls after it."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 2, "heuristic")
    rate = cold_then_fast(selected, 1)

    answers = [call_sliceable(live, prof(kind=kind), selected, rate) for _ in range(3)]
    assert [(c.source, c.threads) for c in answers] == [
        ("heuristic", 2), ("heuristic", 2), ("probe", 1)
    ]
    early = live.explain(prof(kind=kind))
    assert early is not None and early["warmups"] == 1
    assert early["incumbent"]["samples"] == 1  # the second call's; the first was no throughput
    answers += [call_sliceable(live, prof(kind=kind), selected, rate) for _ in range(57)]
    assert {c.source for c in answers} <= {"heuristic", "probe", "online-trial"}
    ev = live.explain(prof(kind=kind))
    assert ev is not None and (ev["warmups"], ev["reverts"]) == (1, 0)
    assert ev["incumbent"]["config"] == list(selected[:3])
    assert ev["throughput_ratio"]["median"] == pytest.approx(1.4)


@pytest.mark.parametrize("cores", [1, 2])
def test_the_pool_is_started_before_the_first_answer_on_more_than_one_thread(cores: int) -> None:
    """``start_pool`` runs once, before the first answer that runs on more than one thread is
    given (so the pool's first build, 0.24-0.32 ms, lands outside that call's timing: in a
    fresh process it had made a first trial of two threads on 400 records of JSON cost more
    than the cell's slack, and dropped the candidate), and never for one-thread answers."""
    started: list[int] = []
    live = L.Live(FakeSelector(), cache=False, cores=cores,
                  start_pool=lambda: started.append(len(answers)))
    answers: list[Any] = []
    one, two = BatchConfig(4096, 512, 1, "heuristic"), BatchConfig(4096, 512, 2, "heuristic")
    for selected, kind in ((one, "dicts"), (two, "json"), (two, "ndjson")):
        for _ in range(5):
            answers.append(call_sliceable(live, prof(kind=kind), selected, lambda c: 1e6))
    threads = [c.threads for c in answers]
    assert threads[:5] == [1] * 5 and (2 in threads) == (cores > 1)
    assert started == ([threads.index(2)] if cores > 1 else [])


def test_the_validator_starts_the_pool_for_live_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    import satya_adapt.validator as V

    started: list[int] = []
    monkeypatch.setattr(V, "_start_pool", lambda: started.append(1))
    schema = {"type": "object", "properties": {
        "text": {"type": "string", "pattern": "^[a-z ]+$"}, "id": {"type": "integer"}}}
    v = Validator(schema, online=True)
    records = [{"text": "lorem ipsum " * 30, "id": i} for i in range(5000)]
    assert v.validate_batch(records).config.threads == 1
    assert started == []
    r = v.validate_json(json.dumps(records))
    assert started == ([1] if r.config.threads > 1 else [])


@pytest.mark.parametrize("kind", ["json", "dicts"])
def test_a_choice_reverted_on_one_cold_throughput_is_tried_again_on_slices(kind: str) -> None:
    """The selector's answer has a second thread whose first two calls run cold (0.7x the
    default), then 1.4x (the other candidates do not pay). The first is a warm-up; reverted on
    the second against one probe, it came back only by its back-off retry, once the slack
    covered a whole call of it at 80% of 0.7x: at call 93 on JSON, 41 on dicts (before the
    warm-up). Now it is a candidate again at once (its cold call bounding its own worst case
    only): tried on slices paired with the rest of their calls, promoted by call 28."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 2, "heuristic")
    rate = cold_then_fast(selected, 2)

    answers = []
    for _ in range(60):
        c = call_sliceable(live, prof(kind=kind), selected, rate)
        answers.append((c.source, c.threads))
        if len(answers) == 4:
            early = live.explain(prof(kind=kind))
    assert answers[:4] == [("heuristic", 2), ("heuristic", 2), ("probe", 1), ("reverted", 1)]
    assert early is not None and early["state"] == "reverted" and early["retry_at"] is None
    assert early["candidates"][0] == {"config": list(selected[:3]), "samples": 0, "candidate": "retry"}
    back = answers.index(("online", 2))
    assert back <= 28
    ev = live.explain(prof(kind=kind))
    assert ev is not None and ev["reverts"] == 1 and ev["promotions"] == 1
    assert ev["incumbent"]["config"] == list(selected[:3]) and ev["retry_at"] is None
    assert set(answers[-10:]) <= {("online", 2), ("probe", 1)}  # the others tried and dropped


def test_a_slice_that_runs_as_the_baseline_is_paired_with_the_rest_of_its_call() -> None:
    """A one-thread choice of 4,096-record chunks on calls of 20,000 dicts, 1.1 times the
    default's speed after two cold calls, is reverted on them and tried again, first on a
    slice of one chunk: on 4,096 records it runs as the default does, and its throughput
    joined the baseline's window, which is the incumbent's while the cell is reverted. It was
    paired with itself, then its next trial (a whole call) with that slice: ratios of exactly
    1, and it was dropped as not ahead. A candidate's throughput stays out of the baseline's
    window now: each trial is paired with the default's (1.1), and it comes back at call 18.
    (An archive's k-NN answer: the heuristic's for dicts is a candidate from the start.)"""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 128, 1, "archive-knn")
    n = 20000
    trials, sources = [], []
    for i in range(40):
        ours = 0.7e6 if i < 2 else 1.1e6  # (its first two calls cold)
        rate: Rate = lambda cf, ours=ours: ours if cf[:3] == selected[:3] else 1e6  # noqa: E731
        c = live.start(prof(n=n), selected, sliceable=True)
        sources.append(c.source)
        if type(c) is SlicedTrial:
            k, w = c.records, c.warm
            trials.append((i, tuple(c[:3]), k))
            rest = n - w - k
            live.finish_sliced(c, k, k / rate(c), rest, rest / rate(c.rest), w, w / rate(c))
        else:
            if c.source == "online-trial":
                trials.append((i, tuple(c[:3]), n))
            live.finish(c, n, n / rate(c))
    # First on one chunk of its own (as the default runs 4,096 records), then on whole calls.
    assert trials[:4] == [(10, (4096, 128, 1), 4096), (11, (4096, 128, 1), n),
                          (13, (4096, 128, 1), n), (15, (4096, 128, 1), n)]
    assert sources.index("online") == 18
    ev = live.explain(prof(n=n))
    assert ev is not None and ev["reverts"] == 1 and ev["promotions"] == 1
    assert ev["incumbent"]["config"] == list(selected[:3])
    assert ev["incumbent"]["candidate"] == "retry" and ev["incumbent"]["paired_ratios"] == [1.1] * 4
    assert ev["baseline"]["median_items_per_s"] == 1e6


# -- the Live object: threads, cells, cache --------------------------------------------------------


class FakeSelector:
    archive = None


def prof(size: float = 200.0, n: int = N, kind: str = "dicts") -> tuple[Any, ...]:
    return (5, 10.0, 0.5, size, kind, n)


@pytest.mark.parametrize(
    "kind", ["dicts", "json", "dicts of changing counts", "json of changing counts"]
)
@pytest.mark.parametrize("source", ["archive-exact", "heuristic"])
def test_live_is_thread_safe(kind: str, source: str) -> None:
    """Eight threads share a cell; for JSON each call reports N or N + 3 records at random
    (a profile's estimate that some calls miss: the route's count flips under the others'
    quiet calls); dicts of changing counts have 8,192-16,383 records a call (grants over a
    range of counts, their tickets taken by all threads); JSON of changing counts, one of 16
    estimated counts (each profile's route keeps its answers to range tickets, shared by the
    threads), each call reporting 7 records fewer. Every call is counted once, nothing
    raises, nothing is left pending. A ``heuristic`` answer is refined: its candidates are
    made while the others call."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 1, source)
    barrier = threading.Barrier(8)
    changing = kind.endswith("of changing counts")
    kind = kind.split()[0]
    estimates = random.Random(0).sample(range(8192, 13000), 16)  # (one cell: x 1.25, 2**13-2**14)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(200):
            if changing and kind == "json":
                n = rng.choice(estimates)
                config = live.choose((*prof(n=n, kind=kind), True), chosen)
                n -= 7
            else:
                n = rng.randint(8192, 16383) if changing else N
                config = live.choose(prof(n=n, kind=kind), chosen)
                n += 3 * (kind == "json" and rng.random() < 0.3)
            live.record(n, n / (2e6 if config.batch_size == 4096 else 1e6))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ex = live.explain((*prof(kind=kind), True) if changing and kind == "json" else prof(kind=kind))
    assert ex is not None
    assert ex["calls"] == 1600
    assert ex["reverts"] == 0
    assert live._pending == {}
    assert (ex["trials"] > 0) == (source == "heuristic")


def test_a_tied_cell_shared_by_eight_threads_counts_every_call() -> None:
    """Eight threads on a cell whose choice ties with the default within 2% noise (grants with
    a window: timings over the ceiling placed where they come, by whichever thread finishes
    them), now and then a call that raised: every call is counted once, nothing raises, and
    the grants still spare the decisions (at most one call in 8 decided)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 1, "archive-exact")
    decided = count_decisions(live)
    wobble = random.Random(7)
    for _ in range(2000):  # settled, one thread
        config = live.start(prof(), chosen)
        live.finish(config, N, 0.004 * (1.0 + 0.02 * wobble.random()))
    before = decided[0]
    barrier = threading.Barrier(8)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(400):
            config = live.start(prof(), chosen)
            if rng.random() < 0.01:
                live.cancel(config)
            else:
                live.finish(config, N, 0.004 * (1.0 + 0.02 * rng.random()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ex = evidence(live)
    assert ex["calls"] == 2000 + 3200
    assert decided[0] - before <= 3200 // 8


class _TakenAtOnce(list):  # type: ignore[type-arg]
    """Tickets that other threads take as soon as they are put there."""

    def extend(self, items: Any) -> None:
        super().extend(items)
        self.clear()


def test_a_grant_emptied_by_other_threads_at_once_still_answers_its_own_call() -> None:
    """Before: a decision put its grant where other threads pop tickets without the lock, then
    popped this call's answer from there; another thread could empty a short grant in between,
    and `start` raised IndexError (8 threads sharing a cell: 1-5 calls in 24,000). The race is
    made certain here: every grant's tickets are taken the moment they are put there."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 1, "archive-exact")
    config = live.start(prof(), chosen)
    live.finish(config, N, N / 2e6)
    route = live._routes[prof()]
    route.tickets = _TakenAtOnce()
    granted = 0
    for _ in range(500):
        config = live.start(prof(), chosen)  # (raised IndexError at the first grant)
        live.finish(config, N, N / (2e6 if config.batch_size == 4096 else 1e6))
        granted += config is live._issued[id(config)].fast
    assert granted > 0  # grants were made, and their first calls answered


def test_a_quiet_call_that_runs_across_another_routes_grant_is_counted() -> None:
    """Before: a grant to one route of a cell let go of the other routes' leases that held no
    timing yet; a quiet call of one of them still running then finished into a lease that
    nothing replayed (8 threads, 2-6 profiles of one cell: 1-20 calls of 24,000 never
    counted)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 1, "archive-exact")
    a, b = prof(size=200.0), prof(size=201.0)  # two profiles, one cell

    def call(profile: tuple[Any, ...]) -> None:
        config = live.start(profile, chosen)
        live.finish(config, N, N / (2e6 if config.batch_size == 4096 else 1e6))

    for _ in range(40):
        call(a)
    held = live.start(a, chosen)  # a quiet call of a, still running while b's calls go on
    assert held is live._issued[id(held)].fast
    for _ in range(300):
        call(b)
    live.finish(held, N, N / 2e6)
    for _ in range(300):
        call(b)
    ex = live.explain(b)
    assert ex is not None and ex["calls"] == 641


@pytest.mark.parametrize("selected", [
    BatchConfig(4096, 512, 1, "archive-exact"), BatchConfig(4096, 512, 2, "archive-exact"),
    BatchConfig(8192, 2048, 1, "heuristic"),
])
def test_live_answers_as_its_cell_decides(selected: BatchConfig) -> None:
    """Through :class:`Live` (its shortcut for the steady state included), call by call the
    sources and configurations of a cell that decides every call in full."""
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=False)
    full = SlowPathCell(selected, [], cores=2, worst_threads=L.WORST_RATIO_THREADS_DICTS)
    rng = random.Random(3)
    for i in range(300):
        profile = prof(n=N + (i % 3 == 2))  # another n: the steady state is left and regained
        config = live.choose(profile, selected)
        arm, source = full.choose(profile[5])
        assert (config.source, config[:3]) == (source, arm.config[:3]), i
        rate = 1e6 * (0.85 if config.threads == 2 else 1.0) * (1.3 if config.batch_size == 4096
                                                                else 1.0)
        seconds = profile[5] / (rate * (1.0 + 0.02 * rng.random()))
        live.record(profile[5], seconds)
        full.record(arm, profile[5], seconds)
    ex = live.explain(prof())
    assert ex is not None
    assert {k: v for k, v in ex.items() if k != "cell"} == full.evidence()


def test_live_asks_the_selector_only_for_a_profile_without_a_route() -> None:
    """Given the selector's ``select`` instead of its answer, ``start`` asks it once per
    profile, when the profile's route is made (the route's cell keeps its own answer), and
    answers call by call as given the answer itself."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    asked: list[tuple[Any, ...]] = []

    def select(profile: Sequence[Any]) -> BatchConfig:
        asked.append(tuple(profile))
        return selected

    given = L.Live(FakeSelector(), cache=False, cores=2)
    lazy = L.Live(FakeSelector(), cache=False, cores=2)
    profiles = [prof(n=N), prof(n=N + 1), prof(size=300.0), prof(n=2 * N)]
    rng = random.Random(5)
    for i in range(400):
        profile = profiles[i % 7 % 4]
        a, b = given.choose(profile, selected), lazy.choose(profile, select)
        assert (a.source, a[:3]) == (b.source, b[:3]), i
        rate = 1e6 * (1.2 if a.batch_size != 8192 else 1.0) * (1.0 + 0.05 * rng.random())
        given.record(profile[5], profile[5] / rate)
        lazy.record(profile[5], profile[5] / rate)
    assert sorted(asked) == sorted(profiles)
    assert lazy.explain(prof()) == given.explain(prof())


def test_the_validator_asks_the_selector_once_per_profile_that_takes_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call that takes part in live verification does not ask the selector once its
    profile has a route (5-6 us a call where counts change from call to call); one that does
    not take part does."""
    from satya_adapt.selector import Selector

    asked: list[int] = []
    select = Selector.select

    def counting(self: Selector, profile: Sequence[Any]) -> BatchConfig:
        asked.append(profile[5])
        return select(self, profile)

    monkeypatch.setattr(Selector, "select", counting)
    v = Validator({"type": "object", "properties": {"id": {"type": "integer"}}}, online=True)
    records = [{"id": i} for i in range(L.MIN_RECORDS + 1000)]
    for _ in range(20):
        assert v.validate_batch(records).n_valid == len(records)
    assert asked == [len(records)]
    assert v.validate_batch(records[:1000]).n_valid == 1000
    assert asked == [len(records), 1000]


def test_live_answers_a_sliced_trial_and_learns_from_both_parts() -> None:
    """Through :class:`Live`: a call that can be cut (a JSON array) gets a :class:`SlicedTrial`
    when its cell tries a ``threads`` candidate on a slice (after its warm-up); its timings go
    back with ``finish_sliced``; the candidate is promoted as in the cell alone."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    rate: Rate = lambda cf: 1.5e6 if cf.threads == 2 else 1e6  # noqa: E731
    answers = []
    for _ in range(40):
        c = live.start(prof(kind="json"), selected, sliceable=True)
        if type(c) is SlicedTrial:
            k, w = c.records, c.warm
            rest = N - w - k
            live.finish_sliced(c, k, k / rate(c), rest, rest / rate(c.rest), w, w / rate(c))
            answers.append((c.source, c.threads, k, c.rest.threads))
        else:
            live.finish(c, N, N / rate(c))
            answers.append((c.source, c.threads, 0, 0))
    first = next(i for i, a in enumerate(answers) if a[0] == "online-trial" and a[1] == 2)
    # A scout of a second thread (the candidate that needs fewest records), then the trials.
    assert answers[first : first + 3] == [("online-trial", 2, 1100, 1)] + [("online-trial", 2, 4096, 1)] * 2
    assert ("online-trial", 1, 2048, 1) in answers[:first]  # a size candidate, whole chunks
    assert answers[-1][:2] == ("online", 2)
    ev = live.explain(prof(kind="json"))
    assert ev is not None and ev["promotions"] == 1 and ev["incumbent"]["config"][2] == 2
    # A call that cannot be cut gets whole-call answers only.
    other = L.Live(FakeSelector(), cache=False, cores=2)
    for _ in range(40):
        c = other.start(prof(kind="json"), selected)
        assert type(c) is BatchConfig
        other.finish(c, N, N / rate(c))


def drive_second_thread(
    live: L.Live, kind: str, selected: BatchConfig, speed: float, records: Any = None
) -> tuple[list[int], float]:
    """300 calls of N records that may be cut, a second thread running at ``speed`` (one at
    1e6 records a second): the calls that tried a second thread, and the lowest cumulative
    throughput over the default's since the first call."""
    spent, trials, lowest = 0.0, [], 1.0
    for i in range(300):
        c = live.start(prof(kind=kind), selected, True, records)
        rate = speed if c.threads == 2 else 1e6
        if c.source == "online-trial" and c.threads == 2:
            trials.append(i)
        if type(c) is SlicedTrial:
            k, w = c.records, c.warm
            rest = N - w - k
            live.finish_sliced(c, k, k / rate, rest, rest / 1e6, w, w / rate)
            spent += (k + w) / rate + rest / 1e6
        else:
            live.finish(c, N, N / rate)
            spent += N / rate
        lowest = min(lowest, (i + 1) * N / 1e6 / spent)
    return trials, lowest


def test_a_second_thread_on_dicts_costs_no_more_than_the_allowance() -> None:
    """Python dicts are taken apart for the pool under the GIL: there a second thread ran at
    0.12-0.18 of one thread's speed, so a dicts cell judges an untried ``threads`` candidate at
    WORST_RATIO_THREADS_DICTS and tries it only once the slack covers that; a JSON cell at
    WORST_RATIO_THREADS. With the second thread at 0.15 on dicts the run's cumulative
    throughput stays within alpha of the default's (at 0.5 a first trial cost 2.5 calls where
    the slack held half of one). A second thread is first run at call 233 on dicts (a trial
    on 4096 records, the fewest that give both threads a micro-batch, after 4096 of warm-up),
    at call 11 on JSON (a scout: the slack covers one there much sooner)."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    for kind, speed, worst, first in (("dicts", 0.15e6, 0.15, 233), ("json", 1.5e6, 0.5, 11)):
        live = L.Live(FakeSelector(), cache=False, cores=2)
        trials, lowest = drive_second_thread(live, kind, selected, speed)
        cell = live._cells[live._key(prof(kind=kind))]
        assert cell.worst_threads == worst
        assert trials[0] == first, kind
        if kind == "dicts":
            assert lowest >= 1.0 - L.ALPHA
            assert cell.incumbent.config.threads == 1
        else:
            assert cell.incumbent.config.threads == 2


def test_a_second_thread_on_dicts_at_worst() -> None:
    """The worst case of a second thread on dicts, by pool_cost's ratio ``c / (a + c)``: what
    taking every record apart gave (the ratio itself) where taking apart costs at least the
    check (the engine then hands nothing over), else ``1 - (a / c) / 2``, rising to 1."""
    for ratio in (0.01, 0.25, 0.5):
        assert L.sharing_worst(ratio) == ratio
    assert L.sharing_worst(0.75) == pytest.approx(1.0 - (1.0 / 0.75 - 1.0) / 2.0)
    assert L.sharing_worst(1.0) == pytest.approx(1.0)
    worst = [L.sharing_worst(r / 100) for r in range(1, 101)]
    assert worst == sorted(worst)
    assert all(w >= r / 100 for r, w in zip(range(1, 101), worst))


def test_a_dicts_cell_takes_a_second_threads_worst_case_from_its_records() -> None:
    """Given the call's records and ``pool_cost``, a new dicts cell assumes a second thread
    runs at POOL_COST_MARGIN of what :func:`sharing_worst` makes of one thread in place over
    taken apart (there 0.7 / 1.0: 0.79, so 0.63): a second thread that is 1.3 times as fast is then tried within 40
    calls and learned; one that runs at that worst case keeps the run's cumulative throughput
    within alpha of the default's. Once per cell, before its first trial but not on the call
    that makes it (a new validator's first call pays the least); ``None``, an error, no
    records, a selected second thread or one core: WORST_RATIO_THREADS_DICTS, as before."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    asked: list[Any] = []
    calls_when_asked: list[int] = []
    lives: list[L.Live] = []

    def pool_cost(records: Any) -> Any:
        asked.append(records)
        calls_when_asked.append(sum(c.calls for c in lives[-1]._cells.values()))
        return (0.7, 1.0)

    records = [{"a": 1}]
    for speed in (1.3e6, L.POOL_COST_MARGIN * L.sharing_worst(0.7) * 1e6):
        asked.clear()
        calls_when_asked.clear()
        live = L.Live(FakeSelector(), cache=False, cores=2, pool_cost=pool_cost)
        lives.append(live)
        trials, lowest = drive_second_thread(live, "dicts", selected, speed, records)
        cell = live._cells[live._key(prof(kind="dicts"))]
        assert cell.worst_threads == pytest.approx(L.POOL_COST_MARGIN * L.sharing_worst(0.7))
        ev = live.explain(prof(kind="dicts"))
        assert ev is not None and ev["threads_worst_ratio"]["from"] == "measured"
        assert asked == [records]  # once
        # Not on the cell's first call; before any call that ran a second thread.
        assert 1 <= calls_when_asked[0] < cell.calls
        assert calls_when_asked[0] <= trials[0]
        assert trials and trials[0] < 40
        if speed > 1e6:
            assert cell.incumbent.config.threads == 2
        else:
            assert lowest >= 1.0 - L.ALPHA
            assert cell.incumbent.config.threads == 1

    def raises(records: Any) -> Any:
        raise TypeError("record 3 is a set")

    for cost, start_records, chosen, cores in (
        (lambda r: None, records, selected, 2),
        (lambda r: (0.0, 1.0), records, selected, 2),
        (raises, records, selected, 2),
        (pool_cost, None, selected, 2),
        (pool_cost, records, selected._replace(threads=2), 2),
        (pool_cost, records, selected, 1),
    ):
        asked.clear()
        live = L.Live(FakeSelector(), cache=False, cores=cores, pool_cost=cost)
        live.finish(live.start(prof(kind="dicts"), chosen, True, start_records), N, 0.01)
        cell = live._cells[live._key(prof(kind="dicts"))]
        assert cell.worst_threads == L.WORST_RATIO_THREADS_DICTS
        assert cell.evidence()["threads_worst_ratio"]["from"] == "assumed"
        if start_records is None or chosen.threads == 2 or cores == 1:
            assert asked == []


def test_threads_that_cannot_pay_are_dropped_untried() -> None:
    """Where taking the records apart and checking them costs more than about 1.8 times
    checking them in place (pool_cost's first time over the second under POOL_HOPELESS / 2,
    0.55), two threads could not beat one unless they scaled almost perfectly: the ``threads`` candidates go untried,
    said so in the evidence, and the cell neither scouts nor tries a second thread (the sizes
    candidate is still tried). At 0.6 they stay."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    records = [{"a": 1}]
    for ratio, dropped in ((0.3, True), (0.5, True), (0.6, False)):
        live = L.Live(FakeSelector(), cache=False, cores=2, pool_cost=lambda r, x=ratio: (x, 1.0))
        trials, _ = drive_second_thread(live, "dicts", selected, 0.3e6, records)
        ev = live.explain(prof(kind="dicts"))
        assert ev is not None
        untried = [d for d in ev["dropped"] if "dropped_untried" in d]
        if dropped:
            assert trials == [] and ev["scouts"] == 0
            assert [(d["config"][2], d["candidate"], d["samples"]) for d in untried] == [
                (2, "threads", 0)
            ]
            assert untried[0]["dropped_untried"].startswith(f"a thread at {ratio:.2f} of in place")
            assert all(c["config"][2] == 1 for c in ev["candidates"])
            assert ev["trials"] > 0  # the sizes candidate's
        else:
            assert untried == [] and trials != []


def test_a_hopeless_measure_is_confirmed_before_threads_go() -> None:
    """A first measure that says no threads pay is taken again twice, and the median of the
    three decides (a candidate dropped untried never comes back): a lone low measure (an
    interruption) keeps the second thread, two low ones drop it. A measure that says threads
    may pay is taken once."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    records = [{"a": 1}]
    for measures, dropped, ratio in (([0.37, 0.74, 0.75], False, 0.74), ([0.37, 0.5, 0.74], True, 0.5),
                                     ([0.74], False, 0.74)):
        given = list(measures)
        live = L.Live(FakeSelector(), cache=False, cores=2,
                      pool_cost=lambda r, g=given: (g.pop(0), 1.0))
        drive_second_thread(live, "dicts", selected, 0.3e6, records)
        ev = live.explain(prof(kind="dicts"))
        assert ev is not None and given == []  # each measure taken, no more
        untried = [d for d in ev["dropped"] if "dropped_untried" in d]
        assert bool(untried) is dropped
        worst = L.POOL_COST_MARGIN * L.sharing_worst(ratio)
        assert ev["threads_worst_ratio"] == {"ratio": pytest.approx(worst), "from": "measured"}


def test_pool_cost_times_a_sample_of_the_records() -> None:
    """The binding behind ``pool_cost``: seconds of checking a spread sample in place and
    taken apart for the pool, on this thread; ``None`` when a sampled record is not a JSON
    value (the call itself says which); a list or a tuple only. A validator's live cell of
    dicts takes its worst case for a second thread from it (on more than one core), measured
    on a later call than the one that made the cell, before the cell may try a candidate."""
    v = Validator({"type": "object", "properties": {"s": {"type": "string", "pattern": "^a+$"}}})
    records = [{"s": "a" * 50, "n": i} for i in range(5000)]
    for items in (records, tuple(records), records[:3]):
        for verdicts_only in (False, True):
            cost = v._core.pool_cost(items, L.POOL_COST_RECORDS, L.POOL_COST_ROUNDS, verdicts_only)
            assert cost is not None and cost[0] > 0.0 and cost[1] > 0.0
    assert v._core.pool_cost([{1, 2}] + records, 16, 1) is None  # the first is sampled
    assert v._core.pool_cost([], 16, 1) is None
    for k, rounds in ((0, 1), (16, 0)):
        with pytest.raises(ValueError, match="`k` and `rounds` must be positive ints"):
            v._core.pool_cost(records, k, rounds)
    with pytest.raises(ValueError, match="list or a tuple"):
        v._core.pool_cost(iter(records), 16, 1)
    online = Validator(v.schema, online=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        assert online.validate_batch(records).n_valid == len(records)
    assert online._live is not None
    (cell,) = online._live._cells.values()
    cell._fill()  # its candidates, made when the cell first needs them (and pool_cost_due)
    one_thread = cell.incumbent.config.threads == 1
    if not (one_thread and any(a.config.threads > 1 for a in cell.candidates)):
        pytest.skip("no second thread to try here (one core, or an elite measured on the cell)")
    assert cell.pool_cost_due and cell.worst_threads == L.WORST_RATIO_THREADS_DICTS
    for _ in range(40):
        if not cell.pool_cost_due:
            break
        assert not cell.trials and not cell.scouts
        online.validate_batch(records)
    assert not cell.pool_cost_due
    # Tried from here on, unless the measure says no number of threads can pay (below
    # POOL_HOPELESS: dropped untried, here when the machine is loaded).
    untried = [a for a in cell.dropped if a.note]
    assert cell.may_try() or (untried and not cell.candidates)
    assert 0.0 < cell.worst_threads <= L.POOL_COST_MARGIN
    assert cell.worst_threads != L.WORST_RATIO_THREADS_DICTS  # measured, not assumed
    assert cell.evidence()["threads_worst_ratio"]["from"] == "measured"


@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
def test_a_keep_default_cell_is_refined_and_an_exact_elite_is_only_verified(kind: str) -> None:
    """The archive's "keep the default" was measured on other data of the cell: its calls run
    as the baseline and a second thread is tried (on a slice, for every input kind) and
    learned when it is ahead. An elite measured on the cell itself is verified, never
    replaced by a candidate."""
    rate: Rate = lambda cf: 1.4e6 if cf.threads == 2 else 1e6  # noqa: E731

    def drive(selected: BatchConfig) -> tuple[L.Live, list[str]]:
        live = L.Live(FakeSelector(), cache=False, cores=2)
        sources = []
        # Dicts: a second thread is judged at 0.15 before it runs: scouted at call 117.
        for _ in range(200 if kind == "dicts" else 60):
            sources.append(call_sliceable(live, prof(kind=kind), selected, rate).source)
        return live, sources

    live, sources = drive(DEFAULT_CONFIGURATION._replace(source="archive-keep-default"))
    ev = live.explain(prof(kind=kind))
    assert ev is not None and ev["selected_source"] == "archive-keep-default"
    assert ev["promotions"] == 1 and ev["incumbent"]["config"][2] == 2
    assert sources[-1] in ("online", "probe") and "online-trial" in sources
    live, sources = drive(BatchConfig(4096, 512, 1, "archive-exact"))
    ev = live.explain(prof(kind=kind))
    assert ev is not None and ev["candidates"] == [] and ev["promotions"] == 0
    assert "online-trial" not in sources


def test_live_keeps_a_bounded_number_of_cells() -> None:
    live = L.Live(FakeSelector(), cache=False, cores=2)
    for i in range(L.MAX_CELLS + 50):
        live.choose((i, 10.0, 0.5, 200.0, "dicts", N), BatchConfig(4096, 512, 1, "archive-exact"))
        live.record(N, 0.01)
    assert len(live._cells) == L.MAX_CELLS
    assert live.explain(prof(n=100)) is None  # below MIN_RECORDS: no evidence


def _churn(live: L.Live, profile: tuple[Any, ...], calls: int, rng: random.Random) -> None:
    """``calls`` calls of ``profile`` whose counts change within its ``n`` bucket (a JSON
    profile's, estimated: grants over a range of counts), two threads 1.2 times as fast."""
    for _ in range(calls):
        n = rng.randint(8192, 16383)
        config = live.start((*profile, n, profile[4] != "dicts"), BatchConfig(4096, 512, 2, "heuristic"))
        live.finish(config, n, n / (1.2e6 if config.threads == 2 else 1e6) * (1 + 0.05 * rng.random()))


def test_evicted_cells_are_freed_without_the_cycle_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """An evicted cell, its routes and its leases (quiet grants and grants over a range of
    counts) go as soon as nothing refers to them: no reference cycle waits for a full
    collection (they kept 3-19 MB of cells gone over 200,000 calls of ever new profiles)."""
    import gc

    monkeypatch.setattr(L, "MAX_CELLS", 6)
    rng = random.Random(3)
    live = L.Live(FakeSelector(), cache=False, cores=2)
    gone: list[weakref.ref[Any]] = []
    ranged = quiet = 0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(12):
            profile = (i + 1, 10.0, 0.5, 200.0, ("json", "dicts", "ndjson")[i % 3])
            _churn(live, profile, 150, rng)
            # (an estimated count's cell may be one of two: the estimate's margin)
            for cell in [c for key, c in live._cells.items() if key[0] == i + 1]:
                ranged += bool(cell.range_leases)
                quiet += any(r.leases for r in live._routes.values() if r.cell is cell)
                if i < 8:  # evicted by the later ones
                    gone.append(weakref.ref(cell))
            del cell
        alive = sum(ref() is not None for ref in gone)
    finally:
        if was_enabled:
            gc.enable()
    assert ranged >= 4 and quiet >= 4  # both kinds of grant were there to let go
    assert len(live._cells) == 6 and len(gone) >= 8
    assert alive == 0


def test_a_call_still_running_when_its_cell_is_evicted_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers given before their cell went (a quiet call's, a range grant's) finish without
    error, and a range lease let go still answers the calls that popped it."""
    monkeypatch.setattr(L, "MAX_CELLS", 3)
    rng = random.Random(5)
    live = L.Live(FakeSelector(), cache=False, cores=2)
    json_profile, dicts_profile = (1, 10.0, 0.5, 200.0, "json"), (2, 10.0, 0.5, 200.0, "dicts")
    _churn(live, json_profile, 150, rng)
    _churn(live, dicts_profile, 150, rng)
    [lease, *_] = next(c for c in live._cells.values() if c.range_leases).range_leases.values()
    held = [live.start((*json_profile, 12000, True), BatchConfig(4096, 512, 2, "heuristic")),
            live.start((*dicts_profile, 12000, False), BatchConfig(4096, 512, 2, "heuristic"))]
    assert type(held[0]) is L.QuietAnswer  # a range grant's
    for i in range(3):  # evicts the three cells
        _churn(live, (10 + i, 10.0, 0.5, 200.0, "dicts"), 5, rng)
    assert lease.fast is None
    for config in held:
        live.finish(config, 12000, 0.01)
    late = lease.answer(20000)
    assert type(late) is L.QuietAnswer and late.lease is lease
    assert late[:3] == clamp(lease.arm.config, None, 2)[:3] and late.source == lease.source


def test_a_range_grants_call_whose_count_left_its_range_is_counted_at_once() -> None:
    """A quiet call of a grant over a range of counts whose reported count is in the range
    waits to be replayed; one whose count is not (the range moved while it ran) is counted,
    with the timings waiting before it, at once; its route keeps the count it reported."""
    rng = random.Random(5)
    live = L.Live(FakeSelector(), cache=False, cores=2)
    profile = (1, 10.0, 0.5, 200.0, "json")
    _churn(live, profile, 150, rng)
    selected = BatchConfig(4096, 512, 2, "heuristic")
    answer = live.start((*profile, 12000, True), selected)
    assert type(answer) is L.QuietAnswer
    lease, route = answer.lease, answer.route
    cell = lease.cell
    live.finish(answer, 12000, 0.01)
    assert lease.timings[-1] == (12000, 0.01) and route.n == 12000
    answer = live.start((*profile, 12000, True), selected)
    assert type(answer) is L.QuietAnswer and answer.lease is lease
    waiting, calls = len(lease.timings), cell.calls
    outside = lease.hi + 1
    live.finish(answer, outside, outside / 1.2e6)
    assert lease.timings == [] and cell.calls == calls + waiting + 1
    assert route.n == outside


def learn(live: L.Live, calls: int = 200) -> list[str]:
    """A JSON cell whose second thread is 1.5 times as fast, learned over whole calls (the
    first on the pool, a warm-up, once the slack covers it: call 118)."""
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    out = []
    for _ in range(calls):
        config = live.choose(prof(kind="json"), selected)
        live.record(N, N / (1.5e6 if config.threads == 2 else 1e6))
        out.append(config.source)
    return out


def test_what_is_learned_is_cached_and_read_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "online.json"
    L._CACHE.path = None
    sources = learn(L.Live(FakeSelector(), cache=path, cores=2))
    assert sources[-1] in ("online", "probe")
    L._CACHE.flush()  # written by the cache's own thread (and at exit); here, now
    doc = json.loads(path.read_text())
    assert doc["format"] == "satya-adapt-online-cache"
    [entry] = doc["entries"]
    assert entry["hardware"] == L.fingerprint()
    assert entry["config"] == [32768, 512, 2]  # the heuristic's pool chunks (8 MiB)
    assert entry["cell"][4:] == ["json", N.bit_length()]
    # No temporary left; the lock file processes take turns on stays (removing it would let
    # two of them lock two files of one name).
    assert sorted(p.name for p in path.parent.iterdir()) == ["online.json", "online.json.lock"]
    L._CACHE.path = None  # a new process
    fresh = L.Live(FakeSelector(), cache=path, cores=2)
    first = fresh.choose(prof(kind="json"), BatchConfig(8192, 2048, 1, "heuristic"))
    assert first == BatchConfig(10000, 512, 2, "online")  # clamped to the call


def run_process(
    path: Path, calls: int, two_threads: float, noise: float = 0.0
) -> tuple[list[str], float]:
    """A new process's ``calls`` JSON calls of the cell :func:`learn` learns, a second thread
    at ``two_threads`` times one thread's speed (each timing up to ``noise`` longer): their
    sources, and their cumulative throughput over the default's (its cache written at the end,
    as at exit)."""
    L._CACHE.path = None
    live = L.Live(FakeSelector(), cache=path, cores=2)
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    rng = random.Random(3)
    sources, seconds = [], 0.0
    for _ in range(calls):
        config = live.choose(prof(kind="json"), selected)
        t = N / ((two_threads if config.threads == 2 else 1.0) * 1e6) * (1.0 + noise * rng.random())
        live.record(N, t)
        sources.append(config.source)
        seconds += t
    L._CACHE.flush()
    return sources, calls * N / 1e6 / seconds


def test_a_learned_choice_reverted_as_slower_is_cached_so_and_retried_with_back_off(
    tmp_path: Path,
) -> None:
    """Before: the cache kept a learned choice whatever happened to it later, so a choice that
    had become slower (here a second thread at 0.7 times one thread's speed) started every
    process, lost to the default, and was reverted again: 0.9845 of the default's throughput
    in each process of 300 calls. Now a revert behind the baseline is written, and the next
    process starts reverted, retrying after the back-off its reverts call for; a retry ahead
    beyond noise (the second thread fast again) is written as learned again."""
    path = tmp_path / "online.json"
    sources, _ = run_process(path, 200, 1.5)
    assert sources[-1] in ("online", "probe")
    [entry] = json.loads(path.read_text())["entries"]
    assert entry["config"] == [32768, 512, 2] and "reverted" not in entry

    sources, first = run_process(path, 300, 0.7)
    assert sources[0] == "online" and "reverted" in sources
    [entry] = json.loads(path.read_text())["entries"]
    assert entry["config"] == [32768, 512, 2] and entry["reverted"] is True
    reverts = entry["reverts"]
    assert reverts >= 1 and entry["ties"] == 0 and 0.0 < entry["retry_ratio"] < 0.98

    # The next process starts reverted: the default runs until the back-off is over.
    L._CACHE.path = None
    live = L.Live(FakeSelector(), cache=path, cores=2)
    assert live.choose(prof(kind="json"), BatchConfig(8192, 2048, 1, "heuristic")) == (
        BatchConfig(8192, 1024, 1, "reverted")
    )
    live.record(N, N / 1e6)
    evidence = live.explain(prof(kind="json"))
    assert evidence is not None
    assert (evidence["cached"], evidence["state"], evidence["reverts"]) == ("reverted", "reverted", reverts)
    assert evidence["retry_at"] == L._doubled(L.FIRST_BACKOFF, reverts)

    sources, later = run_process(path, 300, 0.7)
    backoff = L._doubled(L.FIRST_BACKOFF, reverts)
    assert sources[: backoff - 1] == ["reverted"] * (backoff - 1)
    assert first < later <= 1.0 and later >= 1.0 - L.ALPHA
    [entry] = json.loads(path.read_text())["entries"]
    assert entry["reverted"] is True and entry["reverts"] > reverts

    # Fast again: retried after the back-off, ahead beyond noise, learned again.
    sources, _ = run_process(path, 1200, 1.5)
    assert sources[0] == "reverted" and sources[-1] in ("online", "probe")
    [entry] = json.loads(path.read_text())["entries"]
    assert entry["config"] == [32768, 512, 2] and "reverted" not in entry
    sources, _ = run_process(path, 10, 1.5)
    assert sources[0] == "online"


def test_a_learned_choice_reverted_as_a_tie_stays_cached_as_learned(tmp_path: Path) -> None:
    """A choice reverted with its median within the tie margin of the baseline's is not
    written as reverted: started reverted, a cell would run the default, which the selector's
    answer the choice often is can beat by a little (10,000 small dicts: 0.35%)."""
    path = tmp_path / "online.json"
    run_process(path, 200, 1.5)
    sources, _ = run_process(path, 600, 1.0, noise=0.05)
    assert "reverted" in sources
    [entry] = json.loads(path.read_text())["entries"]
    assert "reverted" not in entry


@pytest.mark.parametrize(
    ("field", "value"),
    [("reverted", "yes"), ("reverts", -1), ("reverts", True), ("ties", 1.5),
     ("retry_ratio", 0.0), ("retry_ratio", "1"), ("retry_ratio", float("inf"))],
)
def test_a_cache_entry_with_a_bad_revert_field_makes_the_cache_corrupt(
    tmp_path: Path, field: str, value: Any
) -> None:
    path = tmp_path / "online.json"
    run_process(path, 200, 1.5)
    doc = json.loads(path.read_text())
    doc["entries"][0][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(A.ArchiveError, match=f"`{field}`"):
        L.read_cache(str(path))


def test_calls_with_and_without_errors_learn_apart_in_the_cache(tmp_path: Path) -> None:
    """Before: the two `Live`s of a validator (calls with errors, calls with `errors=False`)
    wrote one (hardware, cell) entry, the last write winning for both in the next process."""
    path = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=path, cores=2))
    L._CACHE.flush()
    [with_errors] = json.loads(path.read_text())["entries"]
    assert "errors" not in with_errors  # (as earlier versions wrote and read it)
    # The verdicts' cell learns another configuration: a second thread slower, so it stays.
    verdicts = L.Live(FakeSelector(), cache=path, cores=2, verdicts_only=True)
    doc = json.loads(path.read_text())
    entry = {**with_errors, "errors": False, "config": [4096, 512, 1]}
    doc["entries"].append(entry)
    path.write_text(json.dumps(doc))
    L._CACHE.path = None  # a new process reads both
    both = L.read_cache(str(path))
    assert [e.get("errors", True) for e in both] == [True, False]
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    keeps = L.Live(FakeSelector(), cache=path, cores=2).choose(prof(kind="json"), selected)
    verdicts = L.Live(FakeSelector(), cache=path, cores=2, verdicts_only=True)
    fast = verdicts.choose(prof(kind="json"), selected)
    assert keeps[:3] == (10000, 512, 2) and fast[:3] == (4096, 512, 1)
    # A write keeps both (one key each), and a cell learned again replaces its own.
    L.write_cache(str(path), [{**with_errors, "config": [16384, 512, 2]}])
    assert [(e.get("errors", True), e["config"]) for e in L.read_cache(str(path))] == [
        (False, [4096, 512, 1]), (True, [16384, 512, 2])
    ]
    path.write_text(json.dumps({**doc, "entries": [{**with_errors, "errors": "no"}]}))
    with pytest.raises(A.ArchiveError, match="is corrupt: an entry whose `errors` is not true or false$"):
        L.read_cache(str(path))


def run_learning_process(body: str, *args: str) -> None:
    """Runs ``body`` in a new Python process with this module's ``L``, ``FakeSelector`` and
    ``learn`` imported, no cache file read yet, and ``args`` in ``sys.argv[1:]``."""
    code = (
        f"import os, signal, sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "from test_live import L, FakeSelector, learn; L._CACHE.path = None;" + body
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def cached_config(path: Path) -> list[int]:
    """The configuration of the one entry of the cache file at ``path``."""
    [entry] = json.loads(path.read_text())["entries"]
    return list(entry["config"])


def test_the_cache_is_written_off_the_calls_thread_and_at_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write (read, merge, rename: 0.4-3 ms) runs on the cache's own thread, never in
    the call that learned; a process that exits right after learning leaves its entry all the
    same (flushed at exit)."""
    path = tmp_path / "online.json"
    written_by: list[str] = []
    write = L.write_cache

    def spy(p: str, entries: Sequence[dict[str, Any]]) -> None:
        written_by.append(threading.current_thread().name)
        write(p, entries)

    monkeypatch.setattr(L, "write_cache", spy)
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=path, cores=2))
    L._CACHE.flush()
    assert written_by and threading.main_thread().name not in written_by[:-1]
    assert len(json.loads(path.read_text())["entries"]) == 1

    child = tmp_path / "child.json"
    run_learning_process(
        "s = learn(L.Live(FakeSelector(), cache=sys.argv[1], cores=2));"
        "assert s[-1] in ('online', 'probe'), s[-1]",
        str(child),
    )
    assert cached_config(child) == [32768, 512, 2]


class Writing:
    """The cache's writer, writing (as :class:`Live` sees it), apart from the real one: its
    thread, done with an earlier test's write, would say it is done."""

    busy_until = math.inf


def test_a_call_beside_the_caches_write_counts_but_is_no_evidence() -> None:
    """With the calls' own timings (``real_timings``: the validator's), a decided call whose
    engine ran while this process wrote its online cache counts, and its seconds count in the
    slack, but its throughput is no evidence (the write slowed it): here, while the window
    fills (every call decided, as after a promotion), ten calls of the incumbent at a fifth of
    its speed revert nothing. Injected timings (``real_timings=False``) are evidence whatever
    the writer does: the same ten revert it."""
    chosen = BatchConfig(4096, 512, 1, "archive-exact")

    def rate(c: BatchConfig, slow: bool) -> float:
        return 0.2e6 if slow and c.batch_size == 4096 else 1e6

    for real in (True, False):
        live = L.Live(FakeSelector(), cache=False, cores=2, real_timings=real)
        assert (live._writes is L._CACHE) == real
        for _ in range(12):  # evidence on both sides, the incumbent's window not full
            c = live.start(prof(), chosen)
            live.finish(c, N, N / rate(c, False))
        [cell] = live._cells.values()
        before = evidence(live)
        rates = list(cell.incumbent.rates)
        records, seconds = cell.records, cell.other_seconds
        writes, live._writes = live._writes, Writing() if real else live._writes
        spent = 0.0
        for _ in range(10):
            c = live.start(prof(), chosen)
            live.finish(c, N, N / rate(c, True))
            if c.batch_size == 4096:  # the incumbent's (a probe's seconds are the baseline's)
                spent += N / rate(c, True)
        live._writes = writes
        after = evidence(live)
        assert after["calls"] == before["calls"] + 10
        if real:
            assert (after["reverts"], after["incumbent"]) == (before["reverts"], before["incumbent"])
            assert list(cell.incumbent.rates) == rates  # (a probe granted as a ticket is not told apart)
            assert cell.records == records + 10 * N  # counted in the slack, with their seconds
            assert spent > 0.0 and cell.other_seconds == pytest.approx(seconds + spent)
        else:
            assert after["reverts"] == before["reverts"] + 1


def test_a_sliced_trial_beside_the_caches_write_counts_but_is_no_evidence() -> None:
    """The same for a sliced trial: its three parts count in the slack; the candidate gets no
    throughput and no pair, the incumbent no throughput."""
    live = L.Live(FakeSelector(), cache=False, cores=2, real_timings=True)
    selected = BatchConfig(8192, 2048, 1, "heuristic")
    rate: Rate = lambda cf: 1.5e6 if cf.threads == 2 else 1e6  # noqa: E731
    for _ in range(200):
        c = live.start(prof(kind="json"), selected, sliceable=True)
        if type(c) is SlicedTrial:
            break
        live.finish(c, N, N / rate(c))
    else:
        raise AssertionError("no sliced trial in 200 calls")
    [cell] = live._cells.values()
    arms = [cell.incumbent, *cell.candidates]
    kept = [(list(a.rates), list(a.pairs)) for a in arms]
    records = cell.records
    live._writes = Writing()
    k, w = c.records, c.warm
    rest = N - w - k
    live.finish_sliced(c, k, k / rate(c), rest, rest / rate(c.rest), w, w / rate(c))
    assert [(list(a.rates), list(a.pairs)) for a in arms] == kept
    assert cell.records == records + N


def test_the_cache_writer_tells_when_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While its thread writes, ``busy_until`` is infinite; after, the write's end and
    WRITE_SETTLE for WRITE_HOLD seconds; then 0.0 (calls check nothing). The online cache is
    not fsynced (a cache: a power cut leaves it empty at worst); archives are."""
    seen: list[float] = []
    write = L.write_cache

    def spy(p: str, entries: Sequence[dict[str, Any]]) -> None:
        seen.append(L._CACHE.busy_until)
        write(p, entries)

    synced: list[int] = []
    fsync = os.fsync

    def count(fd: int) -> None:
        synced.append(fd)
        fsync(fd)

    monkeypatch.setattr(L, "write_cache", spy)
    monkeypatch.setattr(L, "WRITE_HOLD", 0.05)
    monkeypatch.setattr(os, "fsync", count)
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=tmp_path / "online.json", cores=2))
    deadline = time.monotonic() + 60.0  # the thread's write and hold, on a busy machine
    while (not seen or L._CACHE.busy_until) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen and all(b == math.inf for b in seen)
    assert L._CACHE.busy_until == 0.0
    assert synced == []
    assert cached_config(tmp_path / "online.json") == [32768, 512, 2]
    A.atomic_write_bytes(tmp_path / "archive.json", b"{}")
    assert len(synced) >= 1  # the file (and its folder, where POSIX allows)


def test_a_cache_that_cannot_be_written_is_warned_at_the_users_line(tmp_path: Path) -> None:
    """The cache's thread does not warn (its warning would point into ``threading.py``): the
    next caller's thread does, at the user's line (here, this file's ``flush`` call)."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = blocker / "online.json"  # under a file: cannot be read nor written
    L._CACHE.path = None
    L._CACHE.warned.clear()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        learn(L.Live(FakeSelector(), cache=path, cores=2))  # also "cannot read it"
        L._CACHE.flush()
    writes = [w for w in record if "cannot write it" in str(w.message)]
    assert [(w.category, Path(w.filename).name) for w in writes] == [
        (ArchiveWarning, Path(__file__).name)
    ]
    assert L._CACHE.failures == []


def test_the_cache_is_written_in_the_call_where_no_thread_can_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no thread can start (Python 3.12+ at interpreter shutdown: a validate call in an
    atexit handler), the entry is written in the call, and nothing raises."""
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    monkeypatch.setattr(L._CACHE, "_writer", None)
    path = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=path, cores=2))
    [entry] = json.loads(path.read_text())["entries"]  # no flush: written already
    assert entry["config"] == [32768, 512, 2]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_a_forked_child_writes_its_cache_even_when_the_parent_was_writing(tmp_path: Path) -> None:
    """Forked while the parent's cache thread held its write lock, a child that learns
    writes its cache at exit instead of waiting for that lock for ever (it did)."""
    run_learning_process(
        "learn(L.Live(FakeSelector(), cache=sys.argv[1] + '/parent.json', cores=2));"
        "L._CACHE._writing.acquire();"  # as if its thread were writing at the fork
        "pid = os.fork();"
        "L._CACHE.path = None if pid == 0 else L._CACHE.path;"
        "pid == 0 and learn(L.Live(FakeSelector(), cache=sys.argv[1] + '/child.json', cores=2));"
        "pid == 0 and (L._CACHE.flush(), os._exit(0));"
        "L._CACHE._writing.release();"
        "sys.exit(os.waitpid(pid, 0)[1])",
        str(tmp_path),
    )
    for name in ("parent.json", "child.json"):
        assert cached_config(tmp_path / name) == [32768, 512, 2]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_a_child_forked_while_a_cell_decided_decides_in_the_child(tmp_path: Path) -> None:
    """Before: forked while another thread held a validator's lock (a decision, `explain`),
    the child's first decision waited for ever for a lock no thread of it would release. The
    child starts its cells anew (its state may have been half changed) and learns as a new
    process would; the parent's cells are untouched."""
    run_learning_process(
        "live = L.Live(FakeSelector(), cache=False, cores=2); learn(live, 30);"
        "live._lock.acquire();"  # as if another thread were deciding at the fork
        "pid = os.fork();"
        "pid == 0 and (signal.alarm(60), os._exit(0 if learn(live)[-1] == 'online'"
        " and not live._lock.locked() else 3));"
        "live._lock.release();"
        "status = os.waitpid(pid, 0)[1];"
        "sys.exit(status or (learn(live, 170)[-1] != 'online'))",
        str(tmp_path),
    )


def test_a_corrupt_cache_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "online.json"
    path.write_text('{"format": "satya-adapt-online-cache", "format_version": 1, "entries": 3}')
    L._CACHE.path = None
    L._CACHE.warned.clear()
    live = L.Live(FakeSelector(), cache=path, cores=2)
    with pytest.warns(ArchiveWarning) as record:
        config = live.choose(prof(), BatchConfig(8192, 2048, 1, "archive-knn"))
    assert [str(w.message) for w in record] == [
        f"online cache {path} is corrupt: `entries` must be a list; ignored"
    ]
    assert config == BatchConfig(8192, 2048, 1, "archive-knn")  # as selected


def test_a_validator_reads_the_cache_when_made_and_warns_at_its_first_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A validator reads the online cache when it is made (not in its first call), and says
    what is wrong with it at the call that makes its first cell, as before. Before: read by
    that call, so a cache mended meanwhile was read mended."""
    path = tmp_path / L.CACHE_NAME
    path.write_text('{"format": "satya-adapt-online-cache", "format_version": 1, "entries": 3}')
    monkeypatch.setenv(L.CACHE_DIR_ENV_VAR, str(tmp_path))
    L._CACHE.path = None
    L._CACHE.warned.clear()
    with warnings.catch_warnings(record=True) as made:
        warnings.simplefilter("always")
        v = Validator({"type": "object"}, archive=tmp_path / "none.json", online=True)
    assert [w for w in made if issubclass(w.category, ArchiveWarning)
            and "online cache" in str(w.message)] == []
    path.write_text('{"format": "satya-adapt-online-cache", "format_version": 1, "entries": []}')
    with pytest.warns(ArchiveWarning) as record:
        v.validate_batch([{"a": i} for i in range(5000)])
    assert [str(w.message) for w in record if "online cache" in str(w.message)] == [
        f"online cache {path} is corrupt: `entries` must be a list; ignored"
    ]


def test_read_cache_messages(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    assert L.read_cache(str(path)) == []
    path.write_text("[1, 2")
    with pytest.raises(A.ArchiveError, match=r"is corrupt: "):
        L.read_cache(str(path))
    path.write_text('{"format": "x"}')
    with pytest.raises(A.ArchiveError) as info:
        L.read_cache(str(path))
    assert str(info.value) == f"online cache {path} is corrupt: not a `satya-adapt-online-cache` file"


def test_cache_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATYA_ADAPT_CACHE_DIR", "/x/y")
    assert L.cache_path() == "/x/y/online.json"
    monkeypatch.delenv("SATYA_ADAPT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/c")
    assert L.cache_path() == "/c/satya-adapt/online.json"


# -- the validator's hook -------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string"}},
    "required": ["id", "name"],
}


def recs(n: int) -> list[dict[str, Any]]:
    return [{"id": i if i % 7 else -1, "name": "ab"} for i in range(n)]


def test_validator_probes_the_default_and_reports_live_sources(tmp_path: Path) -> None:
    data = recs(5000)
    prof_ = Validator(SCHEMA).profile(data)
    path = tmp_path / "archive.json"
    from satya_adapt.hardware import current

    A.write_archive(archive([cell(KIND_SIZE_GRID, prof_, (1024, 256, 1))], hardware=current()), path)
    v = Validator(SCHEMA, archive=path, online=True)
    reference = Validator(SCHEMA, adapt=False).validate_batch(data)
    results = [v.validate_batch(data) for _ in range(4)]
    assert [r.config for r in results[:3]] == [
        BatchConfig(1024, 256, 1, "archive-exact"),  # the validator's first call: a warm-up
        BatchConfig(1024, 256, 1, "archive-exact"),
        BatchConfig(5000, 1024, 1, "probe"),  # the default configuration, clamped to the call
    ]
    for r in results:
        assert (r.valid, r.errors) == (reference.valid, reference.errors)
    live = v.explain(data)["live"]
    assert live["calls"] == 4
    assert live["warmups"] == 1
    assert live["probes"] >= 1  # later calls depend on the timings: reverted or probed
    assert live["baseline"]["config"] == [8192, 1024, 1]
    assert set(live) >= {"throughput_ratio", "state", "incumbent", "reverts", "slack_seconds"}
    # Small calls and streams keep today's answer; online=False too.
    assert v.validate_batch(data[:1000]).config.source == "archive-exact"
    off = Validator(SCHEMA, archive=path, online=False)
    assert [off.validate_batch(data).config.source for _ in range(3)] == ["archive-exact"] * 3
    assert off.explain(data)["live"] is None



def test_a_new_cells_candidates_are_made_when_it_first_may_try_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not in a validator's first calls (the first a warm-up, the second before any probe: no
    trial, and no revert, can come yet, whatever the timings); once the baseline has
    MIN_SAMPLES throughputs (or at a revert); ``explain`` shows them at any time."""
    monkeypatch.setenv(L.CACHE_DIR_ENV_VAR, str(tmp_path))
    made: list[int] = []
    make = L.candidates

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return make(*args, **kwargs)

    monkeypatch.setattr(L, "candidates", counted)
    data = recs(5000)
    v = Validator(SCHEMA, archive=tmp_path / "missing.json", online=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        sources = [v.validate_batch(data).config.source for _ in range(2)]
    assert sources == ["default-first", "default-first"]  # (the heuristic's answer: a candidate)
    assert made == []
    live = v.explain(data)["live"]
    assert made == [1] and live["candidates"]
    w = Validator(SCHEMA, archive=tmp_path / "missing.json", online=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        for _ in range(4 + 2 * L.MIN_SAMPLES):
            w.validate_batch(data)
    assert made == [1, 1]  # once the baseline had its throughputs

class _Lease:
    def __init__(self, config: BatchConfig) -> None:
        self.slow = config


class SlicingLive:
    """A live verification that answers every call with a sliced trial of ``records`` after
    ``warm`` records of warm-up."""

    def __init__(self, records: int, warm: int = 0) -> None:
        self.records, self.warm = records, warm
        self.timed: list[tuple[int, int, int]] = []

    def start(
        self, profile: Any, selected: BatchConfig, sliceable: bool = False, records: Any = None
    ) -> BatchConfig:
        assert sliceable
        trial = _Lease(BatchConfig(1024, 64, 2, "online-trial"))
        rest = _Lease(BatchConfig(4096, 512, 1, "heuristic"))
        return SlicedTrial(trial, self.records, rest, self.warm)

    def finish_sliced(
        self,
        trial: Any,
        n: int,
        seconds: float,
        rest_n: int,
        rest_seconds: float,
        warm_n: int = 0,
        warm_seconds: float = 0.0,
    ) -> None:
        assert seconds > 0.0 and (rest_seconds > 0.0) == (rest_n > 0)
        assert (warm_seconds > 0.0) == (warm_n > 0)
        self.timed.append((warm_n, n, rest_n))

    def finish(self, config: BatchConfig, n: int, seconds: float) -> None:
        """A call this live verification did not answer (a generator): nothing to record."""


@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
@pytest.mark.parametrize("max_errors", [None, 0, 3, 700])
@pytest.mark.parametrize(("records", "warm"), [(1, 0), (2500, 0), (4999, 0), (1000, 1500), (4000, 2500)])
def test_a_sliced_call_gives_the_result_of_one_call(
    kind: str, max_errors: Any, records: int, warm: int
) -> None:
    """A call cut in two for a trial on a slice (after a warm-up part, timed apart) returns
    what one call returns: every verdict, every error with its index in the whole call, the
    error cap across the parts; lists, JSON arrays and NDJSON bytes alike (the engine switches
    configuration at a chunk boundary). A trial longer than the call covers it all."""
    import orjson

    data = recs(5000)
    payload: Any = data
    if kind == "json":
        payload = orjson.dumps(data)
    elif kind == "ndjson":
        payload = b"".join(orjson.dumps(r) + b"\n" for r in data)
    v = Validator(SCHEMA, online=True)
    live = v._live = SlicingLive(records, warm)
    got = v.validate(payload, input_kind=kind, max_errors=max_errors)
    want = Validator(SCHEMA, adapt=False).validate_batch(data, max_errors=max_errors)
    k = min(records, 5000 - warm)
    assert live.timed == [(warm, k, 5000 - warm - k)]
    assert (got.valid, got.errors, got.errors_omitted) == (want.valid, want.errors, want.errors_omitted)
    assert [e.schema_path for e in got.errors] == [e.schema_path for e in want.errors]
    assert type(got.config) is BatchConfig and got.config == BatchConfig(1024, 64, 2, "online-trial")
    # The warm-up and the slice in chunks of 1,024 records each, the rest in chunks of 4,096.
    assert got.stats.chunks == -(-warm // 1024) + -(-k // 1024) + -(-(5000 - warm - k) // 4096)
    # A generator is never cut: it runs the selector's answer, without live verification.
    assert v.validate_batch(iter(data)).config.source != "online-trial"


def test_the_engine_switches_configuration_once_and_reports_the_first_part() -> None:
    """The engine's side of a sliced trial: the first ``warm + records`` run the trial's knobs
    (in chunks that stop at the end of the warm-up and at the switch), the rest the call's; the
    first part's records and seconds come back, after and during its warm-up. A trial that asks
    for more records than the call holds covers all of them."""
    import orjson

    core = Validator(SCHEMA, adapt=False)._core
    data = recs(10)
    text = orjson.dumps(data)
    for run in (
        lambda t: core.validate_objects(data, 3, 1, 1, None, False, None, t),
        lambda t: core.validate_json(text, 3, 1, 1, None, False, t),
    ):
        raw, (k, seconds, w, warm_seconds) = run((4, 5, 2, 2, 0))
        assert (k, w, warm_seconds) == (4, 0, 0.0) and 0.0 <= seconds <= raw[5]
        assert raw[2] == 1 + 2  # one chunk of 4 (cut from 5), then chunks of 3: 3 + 3
        raw, (k, seconds, w, warm_seconds) = run((50, 5, 2, 2, 0))
        assert (k, w) == (10, 0) and seconds == raw[5] and raw[2] == 2
        # A warm-up of 2, then 4: chunks of 2 (cut from 5), of 4 (cut from 5), then 3 + 1.
        raw, (k, seconds, w, warm_seconds) = run((4, 5, 2, 2, 2))
        assert (k, w) == (4, 2) and 0.0 < warm_seconds and warm_seconds + seconds <= raw[5]
        assert raw[2] == 1 + 1 + 2
        raw, (k, seconds, w, warm_seconds) = run((50, 5, 2, 2, 7))
        assert (k, w) == (3, 7) and warm_seconds + seconds == pytest.approx(raw[5])
        raw, (k, seconds, w, warm_seconds) = run((5, 5, 2, 2, 50))
        assert (k, seconds, w, warm_seconds) == (0, 0.0, 10, raw[5])
    for trial, message in (
        ((0, 1, 1, 1, 0), "a trial's `records` must be positive, got 0"),
        ((5, 0, 1, 1, 0), "`batch_size` must be a positive int, got 0"),
    ):
        with pytest.raises(ValueError) as info:
            core.validate_json(b"[1]", 3, 1, 1, None, False, trial)
        assert str(info.value) == message
    with pytest.raises(ValueError, match="not `chunked`"):
        core.validate_json(b"[1]", 3, 1, 1, None, True, (1, 1, 1, 1, 0))


def test_online_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATYA_ADAPT_ONLINE", "0")
    assert Validator(SCHEMA).online is False
    monkeypatch.setenv("SATYA_ADAPT_ONLINE", "1")
    assert Validator(SCHEMA).online is True
    monkeypatch.delenv("SATYA_ADAPT_ONLINE")
    assert Validator(SCHEMA).online is True
    assert Validator(SCHEMA, online=False).online is False
    for value, on in ((" OFF ", False), ("No", False), ("false", False), ("Yes", True),
                      ("on", True), ("TRUE", True), ("", True), ("  ", True)):
        monkeypatch.setenv("SATYA_ADAPT_ONLINE", value)
        assert Validator(SCHEMA).online is on, value
        assert Validator(SCHEMA, online=not on).online is (not on)  # the argument wins


def test_unknown_online_environment_value_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    # A typo would otherwise leave live verification on without a word.
    monkeypatch.setenv("SATYA_ADAPT_ONLINE", "flase")
    with pytest.raises(ValueError) as info:
        Validator(SCHEMA)
    assert str(info.value) == (
        "the environment variable SATYA_ADAPT_ONLINE must be one of 1, true, on, yes (on) or"
        " 0, false, off, no (off), got 'flase'"
    )
    assert Validator(SCHEMA, online=False).online is False  # not read when the argument is given
    monkeypatch.setenv("SATYA_ADAPT_ONLINE", "x" * 10_000)
    with pytest.raises(ValueError, match=r"got 'x{40}\.\.\.'$"):
        Validator(SCHEMA)


@pytest.mark.parametrize("name", ["online", "adapt", "strict", "formats"])
@pytest.mark.parametrize("value", ["false", 0, 1, "", [], 0.0])
def test_flags_are_bools(name: str, value: object) -> None:
    # bool("false") is True: a flag given as anything but a bool is refused, not read.
    with pytest.raises(TypeError) as info:
        Validator(SCHEMA, **{name: value})
    allowed = "True, False or None (SATYA_ADAPT_ONLINE, else on)" if name == "online" else "True or False"
    assert str(info.value) == f"`{name}` must be {allowed}, got {value!r}"
    kept = Validator(SCHEMA, **{name: False})
    assert {"online": kept.online, "adapt": kept.adapt}.get(name, False) is False


def test_alpha_is_checked() -> None:
    with pytest.raises(ValueError) as info:
        Validator(SCHEMA, alpha=1.5)
    assert str(info.value) == "`alpha` must be a number in [0, 1), got 1.5"
    assert Validator(SCHEMA, alpha=0.05).alpha == 0.05


def test_json_and_ndjson_calls_take_part() -> None:
    import orjson

    data = recs(5000)
    v = Validator(SCHEMA, online=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        j = [v.validate_json(orjson.dumps(data)) for _ in range(2)]
        nd = b"".join(orjson.dumps(r) + b"\n" for r in data)
        k = [v.validate_ndjson(nd) for _ in range(2)]
    assert all(r.valid == j[0].valid for r in j + k)
    assert v._live is not None and len(v._live._cells) == 2
    assert DEFAULT_CONFIGURATION.source == "default"


def test_calls_without_errors_keep_their_own_evidence() -> None:
    """errors=False runs failing records faster than a call that builds their errors: its
    timings go to cells of their own, never compared with the other calls'."""
    data = recs(5000)
    v = Validator(SCHEMA, online=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        built = [v.validate_batch(data) for _ in range(3)]
        alone = [v.validate_batch(data, errors=False) for _ in range(3)]
    assert all(r.valid == built[0].valid for r in built + alone)
    assert all(r.errors == [] for r in alone)
    assert v._live is not None and v._live_verdicts is not None
    cells, verdict_cells = list(v._live._cells.values()), list(v._live_verdicts._cells.values())
    # One cell each (quiet calls are counted at the cell's next decision: at least the first).
    assert len(cells) == len(verdict_cells) == 1
    assert cells[0].calls >= 1 and verdict_cells[0].calls >= 1
    # `explain(data, errors=False)` gives theirs (before: it had no `errors`, and gave None
    # for a validator whose calls were all errors=False).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        only = Validator(SCHEMA, online=True)
        for _ in range(3):
            only.validate_batch(data, errors=False)
        assert only.explain(data)["live"] is None
        assert only.explain(data, errors=False)["live"]["calls"] >= 1
        assert v.explain(data, errors=False)["live"]["cell"] == v.explain(data)["live"]["cell"]


# -- satya-adapt archive merge CACHE --into ARCHIVE ------------------------------------------------


def run_cli(*args: str, cwd: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    return subprocess.run([sys.executable, "-m", "satya_adapt", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def empty_archive() -> A.ArchiveFile:
    """An archive of this machine without cells, on the kind-and-size grid."""
    return A.ArchiveFile(
        format=A.FORMAT, format_version=A.FORMAT_VERSION,
        provenance=A.provenance_here(tool="tests", command=None, seed=None, generations=0),
        grid=KIND_SIZE_GRID, cells=[],
    )


def test_archive_merge_folds_a_cache_into_an_archive(tmp_path: Path) -> None:
    cache = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=cache, cores=2))
    L._CACHE.flush()
    empty = empty_archive()
    A.write_archive(empty, tmp_path / "arch.json")
    proc = run_cli("archive", "merge", "online.json", "--into", "arch.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "Folded online cache online.json: 1 cells added, 0 changed (higher lower bound of the"
        " throughput ratio over the default)."
    )
    assert lines[-1] == "wrote arch.json"
    merged = A.load_archive(tmp_path / "arch.json")
    [c] = merged.cells
    assert c.elite == A.Elite(batch_size=32768, micro_batch_size=512, threads=2)
    assert (c.speedup, c.speedup_ci_low, c.speedup_ci_high) == (1.5, 1.5, 1.5)
    assert c.profile.input_kind == "json"
    last = merged.history[-1]
    assert (last.action, last.cells_added, last.cells_changed) == ("merge", 1, 0)
    assert last.command == "satya-adapt archive merge online.json --into arch.json"
    # Folding again changes nothing (the evidence is not better than the cell's).
    again = run_cli("archive", "merge", "online.json", "--into", "arch.json", "-o", "b.json",
                    cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("Folded online cache online.json: 0 cells added")
    # A cache with B, or --into with two archives: one-line usage errors.
    bad = run_cli("archive", "merge", "online.json", "arch.json", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == (
        "satya-adapt: error: a cache is folded into one archive: name it with `--into ARCHIVE`\n"
    )
    bad = run_cli("archive", "merge", "arch.json", "--into", "b.json", cwd=tmp_path)
    assert bad.stderr == (
        "satya-adapt: error: `--into` applies to an online cache, and A is an archive\n"
    )


def test_archive_merge_skips_cache_entries_that_cannot_make_a_cell(tmp_path: Path) -> None:
    # Entries that pass the cache's reading but hold evidence no archive cell can (found by a
    # hostile-input hunt: each failed the whole fold, with a traceback or an error located in
    # the merged archive, or wrote an archive that could not be read back).
    cache = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=cache, cores=2))
    L._CACHE.flush()
    doc = json.loads(cache.read_text())
    [good] = doc["entries"]
    bad = [
        {**good, "cell": [good["cell"][0], 5000, *good["cell"][2:]]},  # 2.0 ** 1250
        {**good, "items_per_s": 10**400},
        {**good, "default_items_per_s": float("nan")},
        {**good, "ratio": [1.0, 1.5, 2.0]},  # out of order
        {**good, "config": [2048, 2**31, 2]},  # micro_batch_size above batch_size
    ]
    doc["entries"] = [{**good, "samples": True}, *bad]  # (a bool is not a count)
    cache.write_text(json.dumps(doc))
    empty = empty_archive()
    A.write_archive(empty, tmp_path / "arch.json")
    proc = run_cli("archive", "merge", "online.json", "--into", "arch.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "Folded online cache online.json: 1 cells added, 0 changed (higher lower bound of the"
        " throughput ratio over the default); 5 entries skipped (another hardware, no evidence,"
        " or evidence that cannot make a cell)."
    )
    [c] = A.load_archive(tmp_path / "arch.json").cells
    assert c.n_measurements == 1


def test_archive_merge_leaves_out_cache_entries_reverted_live(tmp_path: Path) -> None:
    cache = tmp_path / "online.json"
    run_process(cache, 200, 1.5)
    run_process(cache, 300, 0.7)
    [entry] = json.loads(cache.read_text())["entries"]
    assert entry["reverted"] is True
    A.write_archive(empty_archive(), tmp_path / "arch.json")
    proc = run_cli("archive", "merge", "online.json", "--into", "arch.json", "-o", "b.json",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "Folded online cache online.json: 0 cells added, 0 changed (higher lower bound of the"
        " throughput ratio over the default); 1 entries left out whose choice was reverted live."
    )
    assert A.load_archive(tmp_path / "b.json").cells == []


def test_archive_merge_never_rewrites_the_shipped_archive_and_only_writes_a_change(
    tmp_path: Path,
) -> None:
    """Before: without `--into` a cache was folded into the archive in use, the installed
    package's own file (in a checkout, a tracked one, its link replaced by a file), and written
    with a history record even when nothing changed; a cache whose keys came in another order,
    or an empty one, was taken for an archive, and a FIFO made it wait for ever."""
    cache = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=cache, cores=2))
    L._CACHE.flush()
    shipped = Path(A.shipped_archive())
    before = shipped.read_bytes()
    proc = run_cli("archive", "merge", "online.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("satya-adapt: error: the archive in use is the shipped one (")
    assert proc.stderr.endswith(
        "), which a merge does not rewrite: name the archive to fold into with `--into"
        " ARCHIVE`, or the result with `-o OUT`\n"
    )
    assert shipped.read_bytes() == before
    empty = empty_archive()
    A.write_archive(empty, tmp_path / "arch.json")
    doc = json.loads(cache.read_text())
    (tmp_path / "sorted.json").write_text(json.dumps(doc, sort_keys=True))  # `entries` first
    assert run_cli("archive", "merge", "sorted.json", "--into", "arch.json", cwd=tmp_path).returncode == 0
    written = (tmp_path / "arch.json").read_bytes()
    again = run_cli("archive", "merge", "online.json", "--into", "arch.json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "nothing changed: arch.json left as it was"
    assert (tmp_path / "arch.json").read_bytes() == written
    (tmp_path / "empty.json").write_text("")
    bad = run_cli("archive", "merge", "empty.json", "--into", "arch.json", cwd=tmp_path)
    assert (bad.returncode, bad.stderr) == (
        2, "satya-adapt: error: online cache empty.json is corrupt: Expecting value: line 1"
        " column 1 (char 0)\n"
    )
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        bad = run_cli("archive", "merge", "fifo", "--into", "arch.json", cwd=tmp_path)
        assert (bad.returncode, bad.stderr) == (
            2, "satya-adapt: error: online cache fifo: cannot read it: not a regular file\n"
        )


# -- the benchmark ---------------------------------------------------------------------------------


OVERHEAD_KEYS = {
    "call_1000_seconds", "bookkeeping_seconds", "bookkeeping_share_of_1000_record_call",
    "bookkeeping_by_state", "call_min_records_seconds", "bookkeeping_share_of_min_records_call",
    "online_vs_offline_1000", "online_vs_offline_10000", "loop_min_records", "loop_10000",
    "loop_json_10000", "loop_changing_counts", "loop_json_changing_counts", "loop_changing_profiles",
}


def test_eval_live_overhead_only(tmp_path: Path) -> None:
    """benchmarks/eval_live.py --overhead-only prints the overhead part alone and writes no
    results file (structure only, no timing)."""

    root = Path(__file__).resolve().parent.parent
    out_json = tmp_path / "live.json"
    # The user's cache is neither read nor written: each measurement learns from an empty one
    # (before, a cached choice started the cells of `--overhead-only`'s loops).
    user = tmp_path / "user-cache"
    user.mkdir()
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "eval_live.py"), "--overhead-only", "--quick",
         "--rounds", "1", "--json", str(out_json)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, L.CACHE_DIR_ENV_VAR: str(user)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(user.iterdir()) == []
    doc = json.loads(proc.stdout)
    assert set(doc) == OVERHEAD_KEYS
    assert doc["online_vs_offline_1000"]["rounds"] == 2
    assert doc["online_vs_offline_10000"]["rounds"] == 2
    assert doc["loop_json_10000"]["kind"] == "json"
    # The loop's figure is the mean (decisions count as often as they come), the median beside it.
    assert doc["loop_changing_counts"]["records"] == [8192, 16383]
    assert doc["loop_json_changing_counts"]["kind"] == "json"
    assert doc["loop_changing_profiles"]["mixes"] == 20
    for loop in ("loop_min_records", "loop_10000", "loop_json_10000", "loop_changing_counts",
                 "loop_json_changing_counts", "loop_changing_profiles"):
        assert {"online_extra_seconds", "online_extra_median_seconds", "share_of_call",
                "share_of_call_median", "wall_ratio", "engine_ratio"} <= set(doc[loop])
        assert doc[loop]["wall_ratio"] > 0.0 and doc[loop]["engine_ratio"] > 0.0
    assert set(doc["bookkeeping_by_state"]) == {"constant", "tie", "ahead", "reverted"}
    assert not out_json.exists()


def test_eval_live_quick_run_writes_its_tables(tmp_path: Path) -> None:
    """benchmarks/eval_live.py --quick runs every part and writes the JSON and the tables: the
    held-out rows with their warm-up in wall time, the targets (structure only, no timing)."""
    root = Path(__file__).resolve().parent.parent
    out_json, out_md = tmp_path / "live.json", tmp_path / "live.md"
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "eval_live.py"), "--quick", "--json",
         str(out_json), "--markdown", str(out_md)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out_json.read_text())
    assert len(doc["held_out"]) == 2
    assert all(r["warmup_cumulative_vs_default"] > 0 for r in doc["held_out"])
    text = out_md.read_text()
    assert "| warm-up/default |" in text
    # held out; unknown hardware with an archive of another class, and with none
    assert text.count("\n| heavy-regex | dicts |") == 3
    assert len(doc["summary"]["targets"]) == 9
    assert "## Targets" in text


def test_eval_live_overhead_against_another_live_py(tmp_path: Path) -> None:
    """--before LIVE_PY measures another version's bookkeeping too (here this one's own)."""

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "eval_live.py"), "--overhead-only", "--quick",
         "--rounds", "1", "--before", str(root / "satya_adapt" / "live.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert set(doc) == OVERHEAD_KEYS | {"bookkeeping_before_by_state"}
    assert set(doc["bookkeeping_before_by_state"]) == set(doc["bookkeeping_by_state"])


def test_eval_live_quick_runs(tmp_path: Path) -> None:
    """benchmarks/eval_live.py --quick runs and writes its tables (structure only, no timing)."""

    root = Path(__file__).resolve().parent.parent
    out_json, out_md = tmp_path / "live.json", tmp_path / "live.md"
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "eval_live.py"), "--quick", "--profiles", "1",
         "--busy-calls", "3", "--unknown-calls", "2", "--rounds", "2", "--warmup", "2",
         "--json", str(out_json), "--markdown", str(out_md)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out_json.read_text())
    assert [(r["profile"], r["input_kind"]) for r in doc["held_out"]] == [("heavy-regex", "dicts")]
    row = doc["held_out"][0]
    assert set(row["items_per_s"]) == {"adaptive", "default", "default (A/A)", "oracle"}
    assert row["rounds"] == 2 and row["warmup_calls"] == 2
    assert doc["busy_core"]["calls"] == 3 and doc["busy_core"]["elite"] == [8192, 1024, 2]
    assert [(u["input_kind"], u["archive"]) for u in doc["unknown_hardware"]] == [
        ("dicts", "other hardware class"), ("dicts", "no archive"),
        ("ndjson", "other hardware class"), ("ndjson", "no archive"),
    ]
    assert len(doc["summary"]["targets"]) == 9
    for u in doc["unknown_hardware"]:
        assert u["runs"] == 2 and len(u["cumulative_vs_default_min_per_run"]) == 2
        # Every run's validator is measured against the oracle, not the last run's alone.
        assert len(u["adaptive_vs_oracle_after_per_run"]) == 2
        # --quick: the comparison after the calls takes --rounds (21 rounds otherwise).
        assert all(a["rounds"] == 2 for a in u["adaptive_vs_oracle_after_per_run"])
        # The noise floor of the along-the-way figure: the same statistic for the default
        # against itself (the lowest of the median of the A/A runs at each call).
        assert u["aa_cumulative_min"] > 0
    floor = doc["summary"]["along_noise"]
    assert floor["median_of_runs"] == min(u["aa_cumulative_min"] for u in doc["unknown_hardware"])
    assert floor["single_run"] == min(x for u in doc["unknown_hardware"]
                                      for x in u["aa_cumulative_min_per_run"])
    assert doc["settings"]["after_rounds"] == 2
    assert set(doc["overhead"]) == OVERHEAD_KEYS
    table = out_md.read_text()
    for heading in ("## Held-out profiles", "## Busy core", "## Unknown hardware", "## Overhead",
                    "## Targets"):
        assert heading in table
    assert "| A/A, median of the runs (min) |" in table
    assert "(A/A: timing noise alone): median of the runs" in table


# -- quiet calls: the steady state without a lock --------------------------------------------------


def drive_live_and_cell(
    selected: BatchConfig, rate: Rate, calls: int, seed: int, *, refine: bool = False,
    odd: float = 0.0, sizes: tuple[int, int] = (N, N), decided: list[int] | None = None,
) -> tuple[L.Live, SlowPathCell, list[str]]:
    """Drives a :class:`Live` the way the validator does (start, then finish or cancel) and a
    cell that decides every call in full with the same timings; asserts, call by call, the same
    source and configuration (clamped to the call). ``odd``: the share of calls with something
    unusual (a timing 3 times longer, an invalid timing, a call that raised, another record
    count, an explain). ``sizes``: each call's record count drawn from this range (one cell's
    bucket). ``decided``: gets the count of calls decided in full."""
    from satya_adapt.selector import _rep

    live = L.Live(FakeSelector(), cache=False, cores=2, refine=refine)
    counted = count_decisions(live)
    full: Any = None
    rng = random.Random(seed)
    sources = []
    for i in range(calls):
        n = sizes[0] if sizes[0] == sizes[1] else rng.randint(*sizes)
        config = live.start(prof(n=n), selected)
        if full is None:  # made as Live makes its cell: candidates for the first call's count
            first = refine and L.starts_from_default(selected, "dicts")
            cands = L.candidates(
                selected, _rep(live._key(prof(n=n))), n, 2, with_selected=first
            ) if refine else []
            full = SlowPathCell(L.DEFAULT_FIRST if first else selected, cands, cores=2,
                                worst_threads=L.WORST_RATIO_THREADS_DICTS,
                                selected_source=selected.source)
        arm, source = full.choose(n)
        assert (config.source, config[:3]) == (source, clamp(arm.config, n, 2)[:3]), i
        sources.append(source)
        seconds = n / (rate(config) * (1.0 + 0.03 * rng.random()))
        what = rng.random() < odd and rng.choice(["slow", "invalid", "raised", "n", "explain"])
        if what == "slow":
            seconds *= 3.0
        elif what == "invalid":
            seconds = rng.choice([0.0, -1.0, float("nan"), float("inf")])
        elif what == "n" and sizes[0] == sizes[1]:
            n -= 1
        elif what == "explain":
            live.explain(prof(n=n))
        if what == "raised":
            live.cancel(config)
        else:
            live.finish(config, n, seconds)
            full.record(arm, n, seconds)
    if decided is not None:
        decided[:] = counted
    return live, full, sources


def evidence(live: L.Live) -> dict[str, Any]:
    ex = live.explain(prof())
    assert ex is not None
    return {k: v for k, v in ex.items() if k != "cell"}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("speed", [2.0, 1.3, 1.0, 0.9, 0.5])
def test_quiet_calls_decide_as_the_full_path(speed: float, seed: int) -> None:
    """Through start/finish/cancel (quiet calls, their replay, ceilings, probes granted ahead),
    call by call the sources and configurations of a cell that decides every call in full, and
    at the end the same evidence (exact floats), with and without unusual calls."""
    selected = BatchConfig(4096, 512, 1 + seed % 2, "archive-exact")

    def rate(cf: BatchConfig) -> float:
        return speed * 1e6 if cf.batch_size == 4096 else 1e6

    live, full, _ = drive_live_and_cell(selected, rate, 400, seed, odd=0.05 * (seed % 3))
    assert evidence(live) == full.evidence()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("source", ["heuristic", "archive-knn"])  # (from the default, or not)
def test_quiet_calls_decide_as_the_full_path_while_refining(seed: int, source: str) -> None:
    live, full, sources = drive_live_and_cell(REFINE._replace(source=source), refine_rate, 300,
                                              seed, refine=True, odd=0.03 * seed)
    assert "online-trial" in sources
    assert evidence(live) == full.evidence()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("source", ["heuristic", "archive-knn"])  # (from the default, or not)
def test_quiet_calls_decide_as_the_full_path_while_candidates_wait(seed: int, source: str) -> None:
    """Candidates that the slack does not afford for long (a second thread, slower, judged at
    the dicts' worst case) next to a verified incumbent a little ahead of the default: the
    cell looks for a trial every few calls (LOOK_EVERY at most), between quiet grants and
    probes, as the cell that decides every call in full does."""

    def rate(cf: BatchConfig) -> float:
        if cf.threads == 2:
            return 0.9e6
        return 1.05e6 if cf.batch_size == 4096 else 1e6

    selected = BatchConfig(4096, 1024, 1, source)
    live, full, sources = drive_live_and_cell(selected, rate, 400, seed, refine=True,
                                              odd=0.03 * seed)
    assert evidence(live) == full.evidence()
    assert "online-trial" in sources and "probe" in sources


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("after", [0.6, 0.8])
def test_quiet_calls_decide_as_the_full_path_when_a_promoted_choice_runs_behind(
    seed: int, after: float
) -> None:
    """Trials 1.3 times the default's speed, the promoted choice ``after`` times it on its
    calls (the promise on its whole calls since the promotion reverts it, see
    ``test_a_promoted_choice_whose_whole_calls_run_behind_keeps_the_promise``): the same
    sources and evidence as the cell that decides every call in full."""

    def rate(cf: BatchConfig) -> float:
        return {"online-trial": 1.3e6, "online": after * 1e6}.get(cf.source, 1e6)

    live, full, sources = drive_live_and_cell(REFINE, rate, 300, seed, refine=True,
                                              odd=0.03 * seed)
    assert evidence(live) == full.evidence()
    assert "online" in sources and "reverted" in sources


@pytest.mark.parametrize("seed", range(4))
def test_quiet_calls_decide_as_the_full_path_when_the_choice_slows_down_suddenly(seed: int) -> None:
    """A choice 1.3 times the default's speed, then 0.5 from a call on (its window's median
    still ahead while its calls spend the slack, see
    ``test_a_choice_that_slows_down_suddenly_keeps_the_promise``): the quiet calls' ceilings
    stop at the call that may revert it, as the cell that decides every call in full does."""
    calls = itertools.count()
    turn = 60 + 40 * seed

    def rate(cf: BatchConfig) -> float:
        i = next(calls)
        if cf.batch_size != 4096:
            return 1e6
        return 1.3e6 if i < turn else 0.5e6

    selected = BatchConfig(4096, 512, 1, "archive-exact")
    live, full, sources = drive_live_and_cell(selected, rate, 400, seed, odd=0.03 * seed)
    assert evidence(live) == full.evidence()
    assert "reverted" in sources[turn:]


def count_decisions(live: L.Live) -> list[int]:
    decided = [0]
    decide = live._decide

    def counted(
        profile: Any,
        selected: BatchConfig,
        route: Any = None,
        sliceable: bool = False,
        records: Any = None,
    ) -> BatchConfig:
        decided[0] += 1
        return decide(profile, selected, route, sliceable, records)

    live._decide = counted  # type: ignore[method-assign]
    return decided


def drive(
    live: L.Live, selected: BatchConfig, rate: Rate, calls: int = 400, kind: str = "dicts",
    reported: int = N,
) -> list[str]:
    """``calls`` calls of :func:`prof` through start and finish, each reporting ``reported``
    records at ``rate``: their sources."""
    sources = []
    for _ in range(calls):
        config = live.start(prof(kind=kind), selected)
        live.finish(config, reported, reported / rate(config))
        sources.append(config.source)
    return sources


def test_a_validators_first_call_is_a_warm_up() -> None:
    """The first call of a validator that takes part runs its schema for the first time
    (measured: 469 us against 253-307 us for the next calls on 10,000 small dicts). Counted
    as evidence, that cold call against one probe reverted a choice 2% faster than the
    default; as a warm-up it counts nothing, and the choice stays. Only the first cell of a
    Live made so (the validator's): later cells' first calls count."""
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    calls = iter(range(1_000_000))

    def rate(cf: BatchConfig) -> float:
        cold = next(calls) == 0
        return (0.6e6 if cold else 1.02e6) if cf.batch_size == 4096 else 1e6

    for warms in (False, True):
        calls = iter(range(1_000_000))
        live = L.Live(FakeSelector(), cache=False, cores=2, first_call_warms=warms)
        sources = drive(live, selected, rate, calls=40)
        if warms:
            assert sources[:3] == ["archive-exact", "archive-exact", "probe"]
            assert "reverted" not in sources
            assert live.explain(prof())["warmups"] == 1
        else:
            assert sources[:3] == ["archive-exact", "probe", "reverted"]
        other = drive(live, selected, lambda cf: 1e6, calls=3, kind="json")
        assert live.explain(prof(kind="json"))["warmups"] == 0 and len(other) == 3


def test_a_settled_cell_decides_once_per_grant() -> None:
    """A choice twice as fast as the default, constant timings: after the warm-up, the cell
    decides once per 64 calls (a grant of 63 quiet calls and the probe after them)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    decided = count_decisions(live)
    sources = drive(live, selected, lambda cf: 2e6 if cf.batch_size == 4096 else 1e6)
    assert marks(sources, "archive-exact") == [
        (2, "probe"), (4, "probe"), (6, "probe"), (14, "probe"), (30, "probe"), (62, "probe"),
        (126, "probe"), (190, "probe"), (254, "probe"), (318, "probe"), (382, "probe"),
    ]
    # (27 before 2026-12-07, when each call was decided until the window of 15 was full.)
    assert decided[0] == 17
    cell = live._cells[live._key(prof())]
    grants = []
    quiet = cell.quiet

    def remember(n: int, most: int) -> L.Grant:
        grants.append(quiet(n, most))
        return grants[-1]

    cell.quiet = remember  # type: ignore[method-assign]
    before = decided[0]
    for _ in range(128):
        config = live.start(prof(), selected)
        live.finish(config, N, N / (2e6 if config.batch_size == 4096 else 1e6))
    assert decided[0] - before == 2
    # 63 quiet calls if every timing stays under N / 1e6 s (throughput at least half the
    # incumbent's median: the ratio stays at least 1), then the probe.
    assert grants == [(63, N / 1e6, True, N / 1e6, 0, None)] * 2
    assert evidence(live)["calls"] == 528


def test_a_choice_with_a_slow_tail_is_granted_calls_past_its_tail() -> None:
    """A choice 1.3 times as fast as the default whose every 20th call runs at 0.8 times (a
    pool's slow tail): one ceiling at 80% of the median granted the 63 calls up to the next
    probe but was crossed every 20 calls (52 decisions in 800 calls); the grant that lets a
    few timings past the default's speed, up to half the median, is worth more calls and
    decides about once per probe. The same calls run (the full path's: above)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    decided = count_decisions(live)
    calls = itertools.count()

    def rate(cf: BatchConfig) -> float:
        if cf.batch_size != 4096:
            return 1e6
        return 0.8e6 if next(calls) % 20 == 19 else 1.3e6

    drive(live, selected, rate, calls=200)
    before, probes = decided[0], evidence(live)["probes"]
    sources = drive(live, selected, rate, calls=800)
    assert sources.count("probe") == evidence(live)["probes"] - probes == 12
    assert decided[0] - before <= 16
    assert evidence(live)["reverts"] == 0


def test_quiet_calls_come_when_the_profile_estimates_the_count() -> None:
    """A JSON or NDJSON profile's ``n`` is estimated from a sample (here 3 records short of the
    call's count): the cell decides, and grants quiet calls, for the count its calls report,
    so it decides as rarely as where the estimate is exact (every call was decided in full)."""
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    counts = {}
    for reported in (N, N + 3):
        live = L.Live(FakeSelector(), cache=False, cores=2)
        decided = count_decisions(live)
        sources = drive(live, selected, lambda cf: 2e6 if cf.batch_size == 4096 else 1e6,
                        kind="json", reported=reported)
        counts[reported] = decided[0]
        assert sources.count("probe") == 11
    assert counts[N] == 17  # (27 before the window's filling calls were granted)
    assert counts[N + 3] <= counts[N] + 1  # the first call's, for the estimate


def test_a_cell_running_the_baseline_looks_for_a_trial_when_the_slack_should_cover_it(
    no_returns: None,
) -> None:
    """The incumbent runs as the default configuration; a second thread, slower, waits for
    the slack: the slack grows by alpha of a call per call, so the cell looks when it should
    cover the trial (at most LOOK_EVERY_AS_BASE calls on) rather than every LOOK_EVERY calls:
    the same trials at the same calls (each of the second thread's right after a whole call
    that warms the pool), 30 decisions in 400 calls (looking every LOOK_EVERY calls made 93,
    with one more sizes candidate than a dicts cell has now; 32 while grants stopped at 64
    calls; 31 while the calls that fill the baseline's first throughputs were decided)."""
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=True)
    decided = count_decisions(live)
    selected = BatchConfig(8192, 2048, 1, "heuristic")  # (runs as the default: no candidate)
    sources = drive(live, selected, lambda cf: 0.9e6 if cf.threads == 2 else 1e6)
    assert marks(sources, "default-first") == [
        (18, "online-trial"), (20, "online-trial"), (22, "online-trial"), (285, "online-trial"),
        (286, "online-trial"), (288, "online-trial"), (289, "online-trial"), (291, "online-trial"),
        (292, "online-trial"),
    ]
    assert decided[0] == 30


def test_the_calls_that_fill_the_baseline_decide_nothing() -> None:
    """A new cell whose incumbent runs as the default configuration: its calls only add to the
    baseline's throughputs until it has MIN_SAMPLES of them, so the second call is granted the
    next ones as quiet calls, up to the call that has them all (one more after a cold start,
    the validator's first call, which counts nothing); that call decides in full (it makes the
    candidates). Before: each of them was decided in full, 30-60 us more outside the engine
    than the default's call on 10,000 heavy-regex dicts."""
    for warms, expected in ((False, [1, 2, 4]), (True, [1, 2, 5])):
        live = L.Live(FakeSelector(), cache=False, cores=2, first_call_warms=warms)
        decided = count_decisions(live)
        at, sources = [], []
        for i in range(1, 7):
            before = decided[0]
            c = live.start(prof(), BatchConfig(8192, 2048, 1, "heuristic"))
            live.finish(c, N, N / 1e6)
            sources.append(c.source)
            if decided[0] > before:
                at.append(i)
        assert at[:3] == expected, warms
        assert sources[: expected[2]] == ["default-first"] * expected[2]


def test_a_cell_whose_slack_does_not_grow_looks_again_later() -> None:
    """Cell._look_later: where the slack grows at the present pace, the next look comes when
    it should cover the trial (LOOK_EVERY calls at most); where it does not grow (the
    incumbent's median not far enough ahead to pay for the allowance the pessimistic slack
    counts) and the baseline's window full, LOOK_NO_GROWTH calls on: looking every 8 calls
    there decided in full for good."""
    c, _ = run_cell(BatchConfig(4096, 512, 1, "heuristic"),
                    lambda cf: 1.1e6 if cf.batch_size == 4096 else 1e6, 40)
    call = N / c._base_rate()
    c._look_later(N, 0.25 * call, c._base_high())  # grows ~0.12 of a call per call
    assert c.look_at - c.calls == 3
    c._look_later(N, 10 * call, c._base_high())
    assert c.look_at - c.calls == L.LOOK_EVERY
    assert c.last is not None
    c.last = (0.97, *c.last[1:])  # behind: the slack shrinks
    c._look_later(N, 0.25 * call, c._base_high())
    assert len(c.baseline.rates) < L.WINDOW  # its pace is mostly noise yet: as often as before
    assert c.look_at - c.calls == L.LOOK_EVERY
    c.baseline.rates.extend([1e6] * L.WINDOW)
    c._base_median = None
    c._look_later(N, 0.25 * call, c._base_high())
    assert c.look_at - c.calls == L.LOOK_NO_GROWTH
    c.last = None  # no pace known
    c._look_later(N, 0.25 * call, c._base_high())
    assert c.look_at - c.calls == L.LOOK_EVERY


def test_a_long_timing_revokes_the_quiet_calls() -> None:
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    for _ in range(130):
        config = live.start(prof(), selected)
        live.finish(config, N, N / (2e6 if config.batch_size == 4096 else 1e6))
    route = live._routes[prof()]
    assert len(route.tickets) == 60  # after the probe at call 126, a grant of 63 and the probe
    config = live.start(prof(), selected)
    live.finish(config, N, 0.0101)  # over the ceiling (N / 1e6 s)
    assert route.tickets == []  # the next call is decided, with this timing known
    decided = count_decisions(live)
    config = live.start(prof(), selected)
    assert decided[0] == 1 and config.source == "archive-exact"


def test_quiet_bounds_hold_where_they_are_tight() -> None:
    """Cell.quiet: the calls before the interval could fall below 1, exactly."""
    c, _ = run_cell(BatchConfig(4096, 512, 1, "archive-exact"),
                    lambda cf: 2e6 if cf.batch_size == 4096 else 1e6, 40)
    assert c.next_probe - c.calls - 1 == 21  # calls before the probe at call 62
    assert c.quiet(N, 64)[:3] == (21, N / 1e6, True)
    # Within the window's median: the ceiling spends at most the slack over the calls (the
    # calls ahead of the baseline may spend it, see _verify), above the baseline's call.
    k, ceiling, probe = c.quiet(N, 5)[:3]
    assert (k, probe) == (5, False)
    assert N / 1e6 < ceiling <= (1.0 + c.alpha) * N / 1e6 + c.slack / 5
    assert c.slack + 5 * ((1.0 + c.alpha) * N / 1e6 - ceiling) >= 0.0
    assert c.quiet(N + 1, 64)[:3] == (0, 0.0, False)  # another n: decided
    # Seven throughputs far below the baseline: the median is still the incumbent's, and a
    # ceiling at half of it keeps the ratio at least 1 (the baseline's median) for all 21.
    for x in (1e5,) * 7:
        c.incumbent.rates.append(x)
    assert c.quiet(N, 64)[:3] == (21, N / 1e6, True)
    # Eight: the median is one of them; no ceiling keeps the ratio, nor the slack, for a call.
    c.incumbent.rates.append(1e5)
    assert c.quiet(N, 64)[:3] == (0, 0.0, False)


def _placed(g: L.Grant, wanted: Sequence[int]) -> set[int]:
    """The calls of grant ``g`` (0-based) whose timings go over its ceiling: of ``wanted``
    (ascending), each while one of ``g.spare`` is left and, with a window, where it fits (as
    the quiet calls' timings are let through one after another)."""
    crossed: list[int] = []
    over: set[int] = set()
    for j in wanted:
        if len(over) >= g.spare:
            break
        if g.window is None or L.fits_window(g.window, crossed, j + 1):
            over.add(j)
    return over


def test_two_ceilings_grant_only_calls_that_decide_nothing() -> None:
    """Cell.quiet with two ceilings (timings that tie with the baseline's, noisy): whatever
    the grant's calls take within it (every timing at most the ceiling, at most ``spare`` of
    them up to ``hard``, in any order, each where the grant's window lets it come), a cell
    that decides each of them in full runs the incumbent and reverts nothing. The worst of
    them: the allowed timings over the ceiling at ``hard`` exactly, the others at the
    ceiling, as many and as early as the grant lets them come. Fails with one spare too many,
    or with the window read newest first (both tried), or with a window's rank one higher."""
    rng = random.Random(5)
    granted = spares = windows = 0
    for case in range(160):
        noise, alpha = rng.choice([0.02, 0.05, 0.1]), rng.choice([0.02, 0.05])
        speed = rng.choice([0.98, 1.0, 1.02])

        def rate(cf: BatchConfig, speed: float = speed, noise: float = noise) -> float:
            return (speed if cf.batch_size == 4096 else 1.0) * 1e6 * (1 + noise * (rng.random() - 0.5))

        c, _ = run_cell(BatchConfig(4096, 512, 1, "archive-exact"), rate, rng.randrange(40, 300),
                        alpha=alpha)
        g = c.quiet(N, 64)
        if not g.spare:
            continue
        granted += 1
        spares += g.spare
        windows += g.window is not None
        assert g.ceiling < g.hard
        for order in range(8):
            if order == 0:  # every call that may go over it, from the first
                wanted = list(range(g.calls))
            elif order == 1:  # a stretch of them after the window's oldest have gone
                wanted = list(range(min(g.calls, L.WINDOW // 2), g.calls))
            else:
                wanted = sorted(rng.sample(range(g.calls), rng.randint(1, g.calls)))
            over = _placed(g, wanted)
            full = copy.deepcopy(c)
            for j in range(g.calls):
                arm, source = full.choose(N)
                assert arm is full.incumbent and source == "archive-exact", (case, order, j)
                full.record(arm, N, g.hard if j in over else g.ceiling)
            assert full.reverts == c.reverts and not full.reverted, case
    # The cases exercise the two ceilings, and the window (where spare counted the worst case
    # alone, 5-7 timings over the ceiling ended a grant on timings that tie).
    assert granted >= 15 and spares >= 30 and windows >= 10


def test_a_grant_with_a_window_replays_as_its_calls_one_by_one() -> None:
    """Cell.replay of a grant with a window, whatever its timings and wherever those over the
    ceiling come (within the window or beyond it, up to ``hard`` or past it, as many as
    ``spare`` or more; late timings of other threads may bring any of them): the state the
    same calls leave recorded one by one (``_in_turn``, what a decided call records), and the
    same next answer. Fails with the window's sliding count off by one (tried in
    ``fits_window``, which the bulk check and the check call by call both use, and in the bulk
    check's own count before it used it)."""
    rng = random.Random(17)
    replayed = bulk = 0
    over_fit = L._over_fit

    def counted(*args: Any) -> bool:
        nonlocal bulk
        fits = over_fit(*args)
        bulk += fits and args[3] is not None
        return fits

    for case in range(16):
        # A choice tied with the default within 2-5% noise, settled: grants with a window.
        noise = rng.choice([0.02, 0.05])
        c, _ = run_cell(BatchConfig(4096, 512, 1, "archive-exact"),
                        lambda cf, noise=noise: 1e6 * (1 + noise * rng.random()), 2000)
        for _ in range(100):  # (its next calls: at each grant with a window, a replay tried)
            g = c.quiet(N, 64)
            if g.window is None:
                arm, _source = c.choose(N)
                c.record(arm, N, N / (1e6 * (1 + noise * rng.random())))
                continue
            replayed += 1
            share = rng.choice([0.25, 0.5, 0.75, 1.0])
            worst = rng.choice([g.hard, 0.5 * (g.ceiling + g.hard)] * 4 + [g.hard * 1.01])
            timings = [worst if rng.random() < share else g.ceiling * rng.uniform(0.97, 1.0)
                       for _ in range(rng.randint(1, g.calls))]
            replay, one_by_one = copy.deepcopy(c), copy.deepcopy(c)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(L, "_over_fit", counted)
                replay.replay(replay.incumbent, N, timings)
            one_by_one._in_turn(one_by_one.incumbent, [(N, t) for t in timings], False)
            assert replay.evidence() == one_by_one.evidence(), case
            (arm, source), (arm_, source_) = replay.choose(N), one_by_one.choose(N)
            assert (arm.config, source) == (arm_.config, source_), case
            arm, _source = c.choose(N)  # the cell goes on with calls that tie
            c.record(arm, N, N / (1e6 * (1 + noise * rng.random())))
    assert replayed >= 500 and bulk >= 150


def test_a_choice_that_ties_is_granted_calls_up_to_the_probe() -> None:
    """A verified choice whose timings tie with the default's within 2% noise (a quarter of
    them below the baseline's low end): its grants last up to the probe. Counting the timings
    over the ceiling as if all came first ended them every 34 calls (187 decisions in these
    6,400 calls); placed where they come, one decision a probe (101, 100 probes)."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    wobble = random.Random(7)
    noise = [1.0 + 0.02 * wobble.random() for _ in range(4096)]
    decided = count_decisions(live)
    for i in range(8400):
        config = live.start(prof(), selected)
        live.finish(config, N, 0.004 * noise[i & 4095])
        if i == 1999:  # settled
            before, probes = decided[0], evidence(live)["probes"]
    assert evidence(live)["reverts"] == 1 and evidence(live)["incumbent"]["config"][0] == 4096
    assert evidence(live)["probes"] - probes == 100
    assert decided[0] - before <= 105


def test_a_tied_choice_granted_by_where_its_slow_timings_come_answers_as_the_full_path() -> None:
    """The same calls through start/finish and through a cell that decides every call in full
    (a choice that ties, 2-5% noise, now and then a timing 3 times longer, an invalid one or
    a call that raised): the same answers, call by call, with fewer decisions than counting
    the slow timings as if they came first (204 in 6,000 calls)."""
    noise = random.Random(3)
    wobble = [1.0 + 0.02 * noise.random() for _ in range(4096)]
    k = itertools.count()
    decided: list[int] = []
    drive_live_and_cell(BatchConfig(4096, 512, 1, "archive-exact"),
                        lambda cf: 1e6 / wobble[next(k) & 4095], 6000, 0, decided=decided)
    assert decided[0] <= 185
    for seed in range(3):
        drive_live_and_cell(BatchConfig(4096, 512, 1, "archive-exact"),
                            lambda cf: 1e6 / wobble[next(k) & 4095], 3000, seed, odd=0.02)


def test_filling_grants_grant_only_calls_that_decide_nothing() -> None:
    """Cell.quiet while the incumbent's window fills (a choice started from the online cache):
    whatever the grant's calls take within its ceiling, a cell that decides each of them in
    full runs the incumbent and reverts nothing; the worst of them, every timing at the
    ceiling exactly. The ceiling is the baseline's median throughput's call, no further."""
    rng = random.Random(11)
    granted = 0
    for case in range(120):
        speed, noise = rng.choice([0.97, 1.0, 1.05, 1.3, 2.0]), rng.choice([0.0, 0.05, 0.3])

        def rate(cf: BatchConfig, speed: float = speed, noise: float = noise) -> float:
            return (speed if cf.batch_size == 4096 else 1.0) * 1e6 * (1 + noise * (rng.random() - 0.5))

        c = L.Cell(BatchConfig(8192, 1024, 1, "archive-exact"),
                   cached=BatchConfig(4096, 512, 1, "online"), cores=2)
        for _ in range(rng.randrange(3, 30)):
            arm, _ = c.choose(N)
            c.record(arm, N, N / rate(arm.config))
        g = c.quiet(N, 64)
        if not g.calls or c.reverted or len(c.incumbent.rates) >= L.WINDOW:
            continue  # (a reverted cell runs the baseline: its grants have no ceiling)
        granted += 1
        assert g.spare == 0 and N / g.ceiling >= c._base_median > N / math.nextafter(g.ceiling, math.inf)
        assert len(c.incumbent.rates) + g.calls <= L.WINDOW
        full = copy.deepcopy(c)
        for j in range(g.calls):
            arm, source = full.choose(N)
            assert arm is full.incumbent and source == "online", (case, j)
            full.record(arm, N, g.ceiling)
        assert full.reverts == c.reverts and not full.reverted, case
        if g.probe:
            assert full.choose(N)[1] == "probe"
    assert granted >= 20


def test_a_filling_window_is_granted_quiet_calls() -> None:
    """A choice 1.3 or 2 times the default's speed, its window of 15 filling from nothing: 11
    decisions in its first 60 calls (21 when each call before a full window was decided),
    with the answers of a cell that decides every call in full."""
    for speed in (1.3, 2.0):
        decided: list[int] = []
        drive_live_and_cell(BatchConfig(4096, 512, 1, "archive-exact"),
                            lambda cf, s=speed: s * 1e6 if cf.batch_size == 4096 else 1e6,
                            60, 0, decided=decided)
        assert decided == [11]


# -- quiet calls whose record counts change from call to call ---------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "selected", [(4096, 512, 1), (12000, 1500, 2), (12000, 6000, 2), (16384, 16384, 1)]
)
@pytest.mark.parametrize("speed", [1.3, 1.0, 0.9])
def test_quiet_calls_of_changing_counts_decide_as_the_full_path(
    selected: tuple[int, int, int], speed: float, seed: int
) -> None:
    """Lists of dicts whose length changes from call to call (9,000-16,000 records, one n
    bucket; 4,500-8,000 for odd seeds): through start/finish/cancel, call by call the sources
    and configurations (clamped to each call) of a cell that decides every call in full, and
    the same evidence at the end; and most calls are quiet (every call was decided in full,
    25-30 us each after an engine call, before grants over a range of counts): at most about
    twice as many decisions as the same calls at one count (12,500 or 6,250) make (the grant
    is computed for the range's largest count, so a choice behind the default gets shorter
    ones), except where the counts straddle a point where the choice changes how it runs
    (12000/6000/2 on 4,500-8,000 records: one thread up to 6,000, as the default runs them;
    two above): a grant holds on one side, so a call on the other side is decided."""
    chosen = BatchConfig(*selected, "archive-exact")

    def rate(cf: BatchConfig) -> float:
        return (speed if cf.batch_size in (selected[0], 4096) else 1.0) * 1e6

    sizes = (9000, 16000) if seed % 2 == 0 else (4500, 8000)
    odd = 0.04 * (seed % 3)
    decided: list[int] = []
    live, full, _ = drive_live_and_cell(chosen, rate, 600, seed, sizes=sizes, odd=odd,
                                        decided=decided)
    assert evidence_at(live, sizes[0]) == full.evidence()
    one = sum(sizes) // 2 + 250
    at_one_count: list[int] = []
    drive_live_and_cell(chosen, rate, 600, seed, sizes=(one, one), odd=odd, decided=at_one_count)
    if selected == (12000, 6000, 2) and sizes == (4500, 8000):
        assert decided[0] < 0.9 * 600
    else:
        assert decided[0] <= 2 * at_one_count[0] + 60, (decided[0], at_one_count[0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("source", ["heuristic", "archive-knn"])  # (from the default, or not)
def test_quiet_calls_of_changing_counts_decide_as_the_full_path_while_refining(
    seed: int, source: str
) -> None:
    live, full, _ = drive_live_and_cell(REFINE._replace(source=source), refine_rate, 400, seed,
                                        sizes=(9000, 16000), refine=True, odd=0.03 * seed)
    assert evidence_at(live, 9000) == full.evidence()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("selected", [(4096, 512, 1), (12000, 1500, 2)])
@pytest.mark.parametrize("speed", [1.3, 0.9])
@pytest.mark.parametrize("source", ["archive-exact", "heuristic"])
def test_quiet_calls_of_estimated_changing_counts_decide_as_the_full_path(
    selected: tuple[int, int, int], speed: float, seed: int, source: str
) -> None:
    """JSON text of changing length (7,500-11,800 records, 9,000-9,001 for odd seeds: one
    cell, whose key has the estimate with its margin; the profile's count an estimate that one
    call in four misses by up to 10%): call by call the
    answers of a cell that decides every call in full with the count a route of its own
    profile holds (the estimate at first, then the count its last call reported), the answer
    clamped to the estimate with its margin; the same evidence at the end; few decisions."""
    from satya_adapt.config import clamp_n
    from satya_adapt.selector import _rep

    chosen = BatchConfig(*selected, source)
    refine = source == "heuristic"  # candidates tried on whole calls: their trials use the count
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=refine)
    decided = count_decisions(live)
    full: Any = None
    rng = random.Random(seed)
    route_n: dict[tuple[Any, ...], int] = {}  # the full path's routes: their counts
    sizes = (7500, 11800) if seed % 2 == 0 else (9000, 9001)
    for i in range(600):
        n = rng.randint(*sizes)
        estimate = int(n * (1.0 + 0.2 * (rng.random() - 0.5))) if rng.random() < 0.25 else n
        profile = (5, 10.0, 0.5, 200.0, "json", estimate, True)
        config = live.start(profile, chosen)
        if full is None:  # made as Live makes its cell: candidates for the first call's count
            cands = L.candidates(chosen, _rep(live._key(profile)), estimate, 2) if refine else []
            full = SlowPathCell(chosen, cands, cores=2, worst_threads=L.WORST_RATIO_THREADS)
        arm, source = full.choose(route_n.setdefault(profile, estimate))
        assert (config.source, config[:3]) == (source, clamp(arm.config, clamp_n(profile), 2)[:3]), i
        seconds = n / ((speed if config.batch_size == selected[0] else 1.0) * 1e6
                       * (1.0 + 0.03 * rng.random()))
        live.finish(config, n, seconds)
        full.record(arm, n, seconds)
        route_n[profile] = n
    ex = live.explain((5, 10.0, 0.5, 200.0, "json", sizes[0], True))
    assert ex is not None
    assert {k: v for k, v in ex.items() if k != "cell"} == full.evidence()
    assert decided[0] < (0.5 if refine else 0.25) * 600, decided[0]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("speed", [1.3, 1.0, 0.9])
def test_profiles_of_one_cell_share_its_grant(speed: float, seed: int) -> None:
    """Batches whose records differ a little (average string lengths 10-11: four profiles, one
    cell, each profile its own route), in random order: call by call the answers of a cell
    that decides every call in full, the same evidence, and about as few decisions as one
    profile's calls make (each profile's calls revoked the others' grant before: most calls
    were decided in full)."""
    chosen = BatchConfig(4096, 512, 1 + seed % 2, "archive-exact")

    def rate(cf: BatchConfig) -> float:
        return (speed if cf.batch_size == 4096 else 1.0) * 1e6

    decisions = []
    for lengths in ([10.0], [10.0, 10.2, 10.5, 11.0]):
        live = L.Live(FakeSelector(), cache=False, cores=2)
        decided = count_decisions(live)
        full = SlowPathCell(chosen, [], cores=2, worst_threads=L.WORST_RATIO_THREADS_DICTS)
        rng = random.Random(seed)
        for i in range(600):
            profile = (5, rng.choice(lengths), 0.5, 200.0, "dicts", N)
            config = live.start(profile, chosen)
            arm, source = full.choose(N)
            assert (config.source, config[:3]) == (source, clamp(arm.config, N, 2)[:3]), i
            seconds = N / (rate(config) * (1.0 + 0.03 * rng.random()))
            live.finish(config, N, seconds)
            full.record(arm, N, seconds)
        assert evidence(live) == full.evidence()
        assert len(live._cells) == 1
        decisions.append(decided[0])
    one, four = decisions
    assert four <= one + 20, decisions


def evidence_at(live: L.Live, n: int) -> dict[str, Any]:
    ex = live.explain(prof(n=n))
    assert ex is not None
    return {k: v for k, v in ex.items() if k != "cell"}


def test_range_grants_grant_only_calls_that_decide_nothing() -> None:
    """Cell.quiet_range: whatever the grant's calls are, a count anywhere in its range and a
    throughput at its floor per record (at most ``spare`` of them at the hard floor, in any
    order), a cell that decides each of them in full runs the incumbent and reverts nothing.
    The worst of them: every call at the range's largest count (the grant is computed for it);
    fails with the grant computed for the smallest (tried)."""
    rng = random.Random(11)
    granted = tight = 0
    for case in range(120):
        noise, alpha = rng.choice([0.02, 0.05, 0.1]), rng.choice([0.002, 0.02, 0.05])
        speed = rng.choice([0.97, 0.99, 1.0, 1.02, 1.3])
        selected = BatchConfig(*rng.choice([(4096, 512, 1), (12000, 1500, 2), (20000, 2500, 2)]),
                               "archive-exact")
        c = L.Cell(selected, [], alpha=alpha, cores=2)
        c.n_range = (8192, 16383)
        for _ in range(rng.randrange(40, 300)):
            n = rng.randint(8192, 16383)
            arm, _ = c.choose(n)
            fast = speed if arm.config.batch_size == selected.batch_size else 1.0
            c.record(arm, n, n / (fast * 1e6 * (1 + noise * (rng.random() - 0.5))))
        n = rng.randint(8192, 16383)
        g, lo, hi = c.quiet_range(n, 64)
        if not g.calls:
            continue
        granted += 1
        bound = -c._quiet[3] if c._quiet is not None else hi  # the count it was computed for
        floor = bound / g.ceiling if g.ceiling < math.inf else 0.0
        hard = bound / g.hard if g.hard < math.inf else 0.0
        tight += floor > 0.0
        assert lo <= n <= hi and c.n_range[0] <= lo and hi <= c.n_range[1]
        for order in range(4):
            over = set(rng.sample(range(g.calls), min(g.spare, g.calls)))
            full = copy.deepcopy(c)
            for j in range(g.calls):
                m = hi if order < 2 else rng.randint(lo, hi)
                arm, _ = full.choose(m)
                assert arm is full.incumbent, (case, j)
                rate = hard if j in over else floor
                seconds = m / rate if rate > 0.0 else m / 1e6
                while m / seconds < rate:  # the slowest the grant lets through, exactly
                    seconds = math.nextafter(seconds, 0.0)
                full.record(arm, m, seconds)
            assert full.reverts == c.reverts and full.reverted == c.reverted, case
    assert granted >= 40 and tight >= 20  # the cases exercise grants with ceilings


@pytest.mark.parametrize("config", [(4096, 512, 1), (12000, 1500, 2), (12000, 6000, 2),
                                    (9000, 9000, 2), (16384, 4096, 2), (8192, 1024, 1),
                                    (5000, 700, 2), (30000, 15000, 2)])
@pytest.mark.parametrize("cores", [2, 4])
def test_a_steady_range_runs_alike_at_every_count(config: tuple[int, int, int], cores: int) -> None:
    """Cell._steady_range, against :func:`effective` at every count of the bucket: within
    the range around any count, the incumbent runs as the baseline everywhere or nowhere, and
    on the pool everywhere or nowhere; the ranges are as wide as that allows (a neighbour
    outside them differs)."""
    for lo, hi in ((4096, 8191), (8192, 16383)):
        c = L.Cell(BatchConfig(*config, "archive-exact"), [], cores=cores)
        c.n_range = (lo, hi)
        c.pool_cold = False
        kinds = {x: (c._runs_as_base(c.incumbent, x), c._on_pool(c.incumbent, x))
                 for x in range(lo, hi + 1)}
        for n in range(lo, hi + 1, 37):
            a, b = c._steady_range(n)
            assert a <= n <= b
            assert all(kinds[x] == kinds[n] for x in range(a, b + 1)), (config, n, a, b)
            assert a == lo or kinds[a - 1] != kinds[n]
            assert b == hi or kinds[b + 1] != kinds[n]


def test_a_cold_pool_keeps_calls_on_it_out_of_a_range() -> None:
    """Before the cell's first call on the pool (a warm-up, not evidence), a range holds only
    counts that run off it."""
    c = L.Cell(BatchConfig(12000, 6000, 2, "archive-exact"), [], cores=2)
    c.n_range = (4096, 8191)
    assert c.pool_cold
    assert c._steady_range(5000) == (4096, 6000)  # one thread up to one task per chunk
    assert c._steady_range(7000) == (7000, 7000)  # two threads: that count alone
    c.pool_cold = False
    assert c._steady_range(7000) == (6001, 8191)


def test_changing_counts_through_the_validator() -> None:
    """Lists of dicts of 9,000-16,000 records through a validator with live verification:
    results whose configuration is a plain BatchConfig fitted to the call, and every call
    counted once by its cell. (How many are decided depends on the machine's timings: the
    tests above count them on injected ones.)"""
    records = [{"id": i, "name": "abc"} for i in range(16000)]
    v = Validator({"type": "object", "properties": {"id": {"type": "integer"}}}, online=True)
    rng = random.Random(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        for _ in range(301):
            n = rng.randint(9000, 16000)
            r = v.validate_batch(records[:n])
            assert type(r.config) is BatchConfig and r.config.batch_size <= n
            assert len(r.valid) == n and all(r.valid)
        ex = v.explain(records[:9000])["live"]
    assert ex is not None and ex["calls"] == 301


def test_a_quiet_call_that_raised_counts_as_a_call() -> None:
    live = L.Live(FakeSelector(), cache=False, cores=2)
    selected = BatchConfig(4096, 512, 1, "archive-exact")
    for _ in range(100):
        config = live.start(prof(), selected)
        live.finish(config, N, N / (2e6 if config.batch_size == 4096 else 1e6))
    config = live.start(prof(), selected)
    assert config is live._routes[prof()].leases[live._cells[live._key(prof())].incumbent].fast
    live.cancel(config)
    live.finish(BatchConfig(4096, 512, 1, "archive-exact"), N, 0.001)  # not an answer: ignored
    ex = evidence(live)
    assert (ex["calls"], ex["incumbent"]["samples"]) == (101, L.WINDOW)


def test_start_and_finish_are_thread_safe() -> None:
    """8 threads through the validator's path, timings that make the cell revert and retry:
    every call is counted once, and no thread sees an error."""
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 2, "archive-exact")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        try:
            for i in range(300):
                config = live.start(prof(), chosen)
                if i % 50 == 49:
                    live.cancel(config)
                    continue
                fast = 2e6 if config.threads == 2 and i < 150 else 0.8e6
                live.finish(config, N, N / (fast * (1.0 + 0.1 * rng.random())))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ex = evidence(live)
    assert ex["calls"] == 2400


def test_cells_evicted_while_other_threads_call_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """6 threads call a JSON and a dicts profile of changing counts (grants over ranges of
    counts) while another makes new cells, with room for 3: cells (and with them every route)
    go while the 6 hold their tickets and answers. No thread sees an error, and every answer
    is a configuration for its call."""
    monkeypatch.setattr(L, "MAX_CELLS", 3)
    live = L.Live(FakeSelector(), cache=False, cores=2)
    chosen = BatchConfig(4096, 512, 2, "heuristic")
    barrier = threading.Barrier(7)
    done = threading.Event()
    errors: list[BaseException] = []
    bad: list[Any] = []

    def call(profile: tuple[Any, ...], n: int, rng: random.Random) -> None:
        config = live.start(profile, chosen)
        if isinstance(config, SlicedTrial):
            k = config.records
            live.finish_sliced(config, k, k / 1.2e6, n - k, (n - k) / 1e6)
            return
        if not (isinstance(config, BatchConfig) and min(config[:3]) >= 1):
            bad.append(config)
        live.finish(config, n, n / (1.2e6 if config.threads == 2 else 1e6)
                    * (1.0 + 0.05 * rng.random()))

    def work(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        try:
            for _ in range(600):
                kind = ("json", "dicts")[rng.randrange(2)]
                n = rng.randint(9000, 12000)
                call((1, 10.0, 0.5, 200.0, kind, n, kind == "json"), n, rng)
        except BaseException as exc:
            errors.append(exc)

    def evict() -> None:
        rng = random.Random(0)
        barrier.wait()
        try:
            for j in itertools.count(100):
                if done.wait(0.002):
                    break
                call((j, 10.0, 0.5, 200.0, "dicts", N), N, rng)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    evictor = threading.Thread(target=evict)
    for t in [*threads, evictor]:
        t.start()
    for t in threads:
        t.join()
    done.set()
    evictor.join()
    assert errors == [] and bad == []
    assert len(live._cells) == 3


def live_schedule(selected: BatchConfig, rate: Rate, calls: int = 200, seed: int = 7) -> list[str]:
    """:func:`schedule` through :class:`Live` (choose and record, as before quiet calls)."""
    rng = random.Random(seed)
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=False)
    out = []
    for _ in range(calls):
        config = live.choose(prof(), selected)
        live.record(N, N / (rate(config) * (1.0 + 0.02 * rng.random())))
        out.append(config.source)
    return out


def test_live_schedule_over_200_calls() -> None:
    """The calls of test_schedule_over_200_calls, through Live: quiet calls skip none of them
    (this test passes on the version before quiet calls too)."""
    fast = BatchConfig(4096, 512, 1, "archive-exact")
    s = live_schedule(fast, lambda cf: 1.3e6 if cf.batch_size == 4096 else 1e6)
    assert marks(s, "archive-exact") == [
        (2, "probe"), (4, "probe"), (6, "probe"), (14, "probe"), (30, "probe"), (62, "probe"),
        (126, "probe"), (190, "probe"),
    ]
    slow = BatchConfig(4096, 512, 2, "archive-exact")
    s = live_schedule(slow, lambda cf: 0.85e6 if cf.threads == 2 else 1e6)
    assert marks(s, "reverted") == SLOW_MARKS
    tie = live_schedule(fast, lambda cf: 1e6)
    # Tied with the default (the interval's low end 1, not below 1 - alpha): probes back off
    # as when ahead.
    probes = [2, 4, 6, 14, 30, 62, 126, 190]
    assert marks(tie, "archive-exact") == [(i, "probe") for i in probes]
    # Tied, its interval's low end 0.99: the probes back off. (With a low end under 1 - alpha,
    # it is reverted as tied: the test below.)
    got = live_schedule(fast, wobbly_rate(1.0, 0.01))
    assert marks(got, "archive-exact") == [
        (i, "probe") for i in [2, 4, 6, 14, 22, 38, 70, 134, 198]
    ]


def wobbly_rate(center: float, amplitude: float) -> Rate:
    """The choice (``batch_size`` 4096) at ``center`` times the default's throughput, each
    call off by ``-amplitude``, 0 or ``+amplitude`` of it in turn; the default at 1e6."""
    k = [0]

    def rate(cf: BatchConfig) -> float:
        if cf.batch_size != 4096:
            return 1e6
        k[0] += 1
        return center * (1.0 + amplitude * (k[0] % 3 - 1)) * 1e6

    return rate


def runs_of(sources: list[str], source: str) -> list[tuple[int, int]]:
    """``(first call, length)`` of each run of calls reported as ``source``."""
    out = []
    for key, group in itertools.groupby(enumerate(sources, 1), key=lambda x: x[1]):
        calls = [i for i, _ in group]
        if key == source:
            out.append((calls[0], len(calls)))
    return out


def test_a_noisy_choice_tied_with_the_default_is_reverted_and_one_ahead_probed_less() -> None:
    """Noisy timings keep the interval's low end under 1 - alpha for good. Tied in the median
    (within TIE_MARGIN, the interval reaching no further above 1 than below), the choice is
    reverted as tied once its window is full (a probe every 4 calls and a decision every 2-3
    before, for nothing), and tried again after FIRST_TIE_BACKOFF calls, then twice as late;
    ahead in the median, the slack pays for probes twice as late each time (every 4 calls
    before, where the median was less than 10% ahead)."""
    fast = BatchConfig(4096, 512, 1, "archive-exact")
    for amplitude, reverted, probes in (
        (0.04, [(23, 127), (276, 125)], [151, 155, 163, 179, 211, 275]),
        # Retried at 151, the interval leans above 1 at each probe: not a tie; the probes back
        # off as the slack allows, until one finds it tied again.
        (0.1, [(23, 127), (340, 61)], [151, 155, 163, 179, 211, 243, 275, 307, 339]),
    ):
        got = live_schedule(fast, wobbly_rate(1.0, amplitude), calls=400)
        assert runs_of(got, "reverted") == reverted
        assert [i for i, s in marks(got, "archive-exact", "reverted")] == [
            2, 4, 6, 10, 14, 18, 22, *probes,
        ]
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=False)
    sources = drive(live, fast, wobbly_rate(1.0, 0.04), 400)
    ev = live.explain(prof())
    assert ev is not None and (ev["ties"], ev["reverts"]) == (2, 2)
    assert runs_of(sources, "reverted") == [(23, 127), (180, 221)]
    for center, probes in (
        (1.05, [2, 4, 6, 10, 14, 22, 38, 54, 86, 150, 214, 278, 342]),
        (1.03, [2, 4, 6, 10, 14, 18, 22, 30, 38, 54, 70, 102, 134, 166, 230, 294, 358]),
    ):
        got = live_schedule(fast, wobbly_rate(center, 0.1), calls=400)
        assert marks(got, "archive-exact") == [(i, "probe") for i in probes]


def test_the_heuristics_answer_for_dicts_is_a_candidate_of_a_cell_that_runs_the_default() -> None:
    """The heuristic's answer for dicts runs them on one thread, as the default does, with
    other sizes: a refining cell starts from the default (``default-first``) and tries that
    answer first among its candidates. Running the default, every call adds alpha of itself to
    the pessimistic slack, which a tied incumbent's calls do not: with the same timings (the
    answer 1.02 times the default's speed, each throughput off by up to 4%, a second thread
    1.2 times), the second thread is promoted at call 17, and at call 20 where the same
    answer came from an archive's k-NN (verified as the incumbent, as before). (19 and 26
    while a second thread's worst case was pool_cost's ratio itself, before
    :func:`sharing_worst`.)"""

    def run(source: str) -> tuple[list[str], int, dict[str, Any]]:
        live = L.Live(FakeSelector(), cache=False, cores=2, pool_cost=lambda r: (0.6, 1.0))
        selected = BatchConfig(4096, 128, 1, source)
        k = [0]

        def rate(cf: BatchConfig) -> float:
            k[0] += 1
            speed = 1.2e6 if cf.threads == 2 else (1.02e6 if cf.batch_size == 4096 else 1e6)
            return speed * (1.0 + 0.04 * ((k[0] * 7) % 5 - 2) / 2)

        sources, learned, first = [], 0, None
        for i in range(60):
            c = call_sliceable(live, prof(n=N), selected, rate, [{}] * 16)
            sources.append(c.source)
            if not learned and c.source == "online" and c.threads == 2:
                learned = i + 1
            if first is None:
                first = live.explain(prof(n=N))
        assert first is not None
        return sources, learned, first

    sources, learned, first = run("heuristic")
    assert sources[:3] == ["default-first"] * 3 and learned == 17
    assert first["selected_source"] == "heuristic"
    assert first["incumbent"]["config"] == [8192, 1024, 1]
    assert first["incumbent"]["source"] == "default-first"
    assert [(c["config"], c["candidate"]) for c in first["candidates"][:2]] == [
        ([4096, 128, 1], "heuristic"), ([4096, 128, 2], "threads")
    ]
    knn_sources, knn_learned, knn_first = run("archive-knn")
    assert knn_sources[0] == "archive-knn" and knn_learned == 20
    assert knn_first["incumbent"]["config"] == [4096, 128, 1]


def test_which_cells_start_from_the_default() -> None:
    """Only the heuristic's one-thread answer for dicts; not an archive's answer, not JSON or
    NDJSON (where the heuristic's answer may bound the memory that parsed records hold, and a
    second thread from the first call pays), not a cell that starts from what the cache
    learned, not without online refinement."""
    assert L.starts_from_default(BatchConfig(4096, 128, 1, "heuristic"), "dicts")
    assert not L.starts_from_default(BatchConfig(4096, 128, 2, "heuristic"), "dicts")
    assert not L.starts_from_default(BatchConfig(4096, 128, 1, "archive-knn"), "dicts")
    for kind in ("json", "ndjson"):
        assert not L.starts_from_default(BatchConfig(4096, 128, 1, "heuristic"), kind)
    selected = BatchConfig(4096, 128, 1, "heuristic")
    assert L.Live(FakeSelector(), cache=False, cores=2).start(prof(kind="json"), selected).source == "heuristic"
    off = L.Live(FakeSelector(), cache=False, cores=2, refine=False)
    assert off.start(prof(), selected).source == "heuristic"


def test_a_cell_that_learned_the_heuristics_answer_starts_from_it(tmp_path: Path) -> None:
    """Promoted (the heuristic's answer ahead of the default), it is cached; the next process
    starts that cell from it, not from the default."""
    path = tmp_path / "online.json"
    selected = BatchConfig(4096, 128, 1, "heuristic")
    rate = lambda cf: 1.1e6 if cf.batch_size == 4096 else 1e6  # noqa: E731
    live = L.Live(FakeSelector(), cache=path, cores=2)
    sources = drive(live, selected, rate, 120)
    assert sources[0] == "default-first" and sources[-1] == "online"
    L._CACHE.flush()  # written by the cache's own thread; here, now
    again = L.Live(FakeSelector(), cache=path, cores=2)
    c = again.start(prof(), selected)
    assert (c.source, c[:3]) == ("online", (4096, 128, 1))


def test_a_tie_waits_while_candidates_wait() -> None:
    """A refining cell whose choice ties with the default keeps it while candidates are still
    to be tried (a revert there held back their trials), and reverts it as tied once none is
    left. (An archive's k-NN answer: the heuristic's for dicts is a candidate from the start.)"""
    selected = BatchConfig(4096, 1024, 1, "archive-knn")
    live = L.Live(FakeSelector(), cache=False, cores=2, refine=True)
    rate = wobbly_rate(1.0, 0.04)
    sources = drive(live, selected, lambda cf: 0.5e6 if cf.threads == 2 else rate(cf), 400)
    ev = live.explain(prof())
    assert ev is not None and ev["ties"] == 1 and not ev["candidates"]
    first_tie = runs_of(sources, "reverted")[0][0]
    assert "online-trial" not in sources[first_tie - 1:]  # every trial came before it


def cache_entries(hardware: str, cells: range, config: list[int]) -> list[dict[str, Any]]:
    """Cache entries of ``hardware`` for JSON cells ``cells`` (the first number of each)."""
    return [{"hardware": hardware, "cell": [i, 20, 0.5, 30, "json", 13], "config": config}
            for i in cells]


def write_entries_in_turn(path: str, first: int) -> None:
    """In a process of its own: 20 writes of one entry each to the cache file ``path``."""
    for i in range(first, first + 20):
        L.write_cache(path, cache_entries("hw", range(i, i + 1), [8192, 512, 2]))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_processes_writing_one_cache_keep_every_entry(tmp_path: Path) -> None:
    """Before: each write read, merged and renamed alone, so writes of processes at the same
    time dropped each other's entries (4 processes x 20 writes: 47 of 80 left). They take
    turns now."""
    import multiprocessing

    path = str(tmp_path / "online.json")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=write_entries_in_turn, args=(path, 20 * k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert sorted(e["cell"][0] for e in L.read_cache(path)) == list(range(80))


@pytest.mark.parametrize(
    "content, why",
    [
        ('{"format": "satya-adapt-online-cache", "format_version": 2, "entries": []}',
         "another version of satya-adapt wrote it (`format_version` 2), so it is left as it is"),
        ('{"name": "a file of the user\'s"}',
         "it is not a `satya-adapt-online-cache` file, so it is left as it is (remove it, or"
         " set SATYA_ADAPT_CACHE_DIR to another folder)"),
        ("not JSON at all",
         "it is not a `satya-adapt-online-cache` file, so it is left as it is (remove it, or"
         " set SATYA_ADAPT_CACHE_DIR to another folder)"),
    ],
)
def test_a_write_leaves_a_file_it_cannot_merge_as_it_is(tmp_path: Path, content: str, why: str) -> None:
    """Before: a write replaced a cache of a newer format, or any file of that name, with its
    own entries alone."""
    path = tmp_path / "online.json"
    path.write_text(content)
    with pytest.raises(A.ArchiveError) as info:
        L.write_cache(str(path), cache_entries("hw", range(1), [8192, 512, 2]))
    assert str(info.value) == why
    assert path.read_text() == content


def test_a_write_keeps_the_valid_entries_and_the_newest_of_a_full_cache(tmp_path: Path) -> None:
    """Before: one entry this version cannot read (a negative `threads`) made a write drop
    every other one, other machines' included; and an entry re-learned where it stood first
    in a full cache was the one evicted."""
    path = tmp_path / "online.json"
    bad = cache_entries("other", range(1), [8192, 512, -1])
    others = cache_entries("other", range(1, 4), [4096, 256, 1])
    path.write_text(json.dumps({"format": "satya-adapt-online-cache", "format_version": 1,
                                "entries": [*bad, *others]}))  # fmt: skip
    L.write_cache(str(path), cache_entries("here", range(1), [8192, 512, 2]))
    assert [(e["hardware"], e["cell"][0]) for e in L.read_cache(str(path))] == [
        ("other", 1), ("other", 2), ("other", 3), ("here", 0)
    ]
    full = cache_entries("here", range(L.MAX_CACHE_ENTRIES), [4096, 256, 1])
    path.write_text(json.dumps({"format": "satya-adapt-online-cache", "format_version": 1,
                                "entries": full}))  # fmt: skip
    L.write_cache(str(path), cache_entries("here", range(1), [8192, 512, 2]))  # cell 0 again
    kept = L.read_cache(str(path))
    assert len(kept) == L.MAX_CACHE_ENTRIES
    assert (kept[-1]["cell"][0], kept[-1]["config"]) == (0, [8192, 512, 2])


@pytest.mark.parametrize("cell", [[10**400, 20, 0.5, 30, "json", 13], [1, -1, 0.5, 30, "json", 13],
                                  [1, 20, float("nan"), 30, "json", 13], [1, 20, 0.5, 30, "json", 10**6]])
def test_a_cached_cell_out_of_range_makes_the_cache_corrupt(tmp_path: Path, cell: list[Any]) -> None:
    """Before: a huge int in a cell was read, and `archive merge` then raised `OverflowError`."""
    path = tmp_path / "online.json"
    path.write_text(json.dumps({"format": "satya-adapt-online-cache", "format_version": 1,
                                "entries": [{"hardware": "hw", "cell": cell, "config": [1, 1, 1]}]}))
    with pytest.raises(A.ArchiveError, match="is corrupt: a cell out of range$"):
        L.read_cache(str(path))


def test_folding_a_cache_keeps_the_archives_bar_and_the_cells_profile(tmp_path: Path) -> None:
    """Before: an entry whose ratio's lower bound was under 1 (a sign test promotes on evidence
    whose interval may reach below 1) replaced a cell that keeps the default, an elite that
    `archive refresh` demoted at once; and a replaced cell took the cache's coarser profile."""
    import msgspec

    from satya_adapt.tuning import online_merge

    cache = tmp_path / "online.json"
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=cache, cores=2))
    L._CACHE.flush()
    [entry] = L.read_cache(str(cache))
    empty = empty_archive()
    [learned] = online_merge.fold_cache(empty, [entry], name="c").archive.cells
    keeps = msgspec.structs.replace(learned, elite=A.KEEP_DEFAULT, speedup=0.97, speedup_ci_low=0.38,
                         speedup_ci_high=1.87, profile=msgspec.structs.replace(learned.profile, field_count=17))
    archive = msgspec.structs.replace(empty, cells=[keeps])
    noisy = {**entry, "ratio": [1.37, 0.86, 2.82]}
    report = online_merge.fold_cache(archive, [noisy], name="c")
    assert (report.added, report.changed, report.archive.cells) == ([], [], [keeps])
    assert report.change.summary == (
        "Folded online cache c: 0 cells added, 0 changed (higher lower bound of the throughput"
        " ratio over the default); 1 entries not ahead of the default beyond noise (lower bound"
        " of the ratio at most 1.03)."
    )
    report = online_merge.fold_cache(archive, [entry], name="c")  # 1.5 [1.5, 1.5]
    [cell] = report.archive.cells
    assert (cell.elite, cell.speedup_ci_low) == (learned.elite, 1.5)
    assert cell.profile == keeps.profile
    # Learned on calls with `errors=False`: left out (an archive measures calls with errors).
    report = online_merge.fold_cache(archive, [{**entry, "errors": False}], name="c")
    assert (report.added, report.changed, report.archive.cells) == ([], [], [keeps])
    assert report.change.summary.endswith(
        "; 1 entries of calls with errors=False left out (an archive's cells are measured on"
        " calls that keep errors)."
    )


_IMPORTED_IN_THE_WORKER = """
import multiprocessing, os, sys

def worker(path):
    from satya_adapt import live as L  # imported here, after the worker started
    from satya_adapt.config import BatchConfig

    L._CACHE.load(path, L.fingerprint(), say=False)
    for i in range(3):
        cell = [i, 14, 0.5, 30, "json", 11]
        entry = {"hardware": L.fingerprint(), "cell": cell, "config": [2048, 256, 2]}
        L._CACHE.put((tuple(cell), True), entry, BatchConfig(2048, 256, 2, "online"))

if __name__ == "__main__":
    method, path = sys.argv[1:]
    process = multiprocessing.get_context(method).Process(target=worker, args=(path,))
    process.start()
    process.join(120)
    assert "satya_adapt" not in sys.modules
    from satya_adapt import live as L
    print(process.exitcode, len(L.read_cache(path)))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_worker_that_imports_satya_adapt_itself_writes_its_cache_as_it_ends(
    tmp_path: Path, method: str
) -> None:
    """Found by a hostile-input hunt: a worker whose parent had not imported satya-adapt runs
    no after-fork hook of ours, and its entries still waiting for the writer thread were lost
    at its `os._exit` (all of them, put just before it ended)."""
    script = tmp_path / "run.py"
    script.write_text(_IMPORTED_IN_THE_WORKER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, str(script), method, str(tmp_path / "online.json")],
        check=False, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "3"]


def learn_in_a_worker(folder: str) -> None:
    """A `multiprocessing` worker's job: learn one cell with the cache in ``folder``."""
    L._CACHE.path = None
    learn(L.Live(FakeSelector(), cache=os.path.join(folder, "online.json"), cores=2))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_multiprocessing_worker_writes_what_it_learned_as_it_ends(
    tmp_path: Path, method: str
) -> None:
    """Before: such a worker ends with `os._exit` (no `atexit`), so what it learned just before
    was never written (10 workers: none cached); `spawn` workers, which exit normally, did."""
    import multiprocessing

    proc = multiprocessing.get_context(method).Process(target=learn_in_a_worker, args=(str(tmp_path),))
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0
    assert cached_config(tmp_path / "online.json") == [32768, 512, 2]
