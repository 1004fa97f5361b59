"""Live verification and online refinement: every adaptive call's own timing is evidence.

The selector (:mod:`satya_adapt.selector`) answers from measurements made elsewhere: another
machine, other data, a free core. This module checks its answers on the calls it serves and
learns where the archive cannot answer. One :class:`Live` belongs to one
:class:`~satya_adapt.Validator` (thread-safe: any number of threads may share it).

**Cells.** Calls are grouped by the selector's cache key: the quantized profile, with ``n``
bucketed by powers of two. Only calls of at least :data:`MIN_RECORDS` records take part, and
shorter JSON and NDJSON calls that carry enough work (:func:`takes_part`); any other call runs
the selector's answer untouched: its timing says little and its cost is small. At most
:data:`MAX_CELLS` cells are kept (the oldest one goes, freed at once: :meth:`Cell.release`),
each with at most :data:`WINDOW` throughputs per configuration: memory is bounded.

**Live verification.** Each cell runs its *incumbent* (at first the selector's answer) and,
in occasional *probe* calls, the *baseline*: the default configuration clamped to the call.
Both keep their recent throughputs (records per second of engine time, ``stats.seconds``),
except the cell's first call on the pool (the incumbent's, or a candidate's whole-call trial):
the pool's threads have not run the schema yet, so that call is a *warm-up*, counted in the
slack only (a candidate's is afforded at :data:`WORST_RATIO_COLD`; slower than that, it
lowers the worst case assumed for its next trials alike).
Probes alternate with the incumbent until each has :data:`MIN_SAMPLES` throughputs, then run
every ``probe_every`` calls (4, doubled after each probe that finds the incumbent not behind
by more than ``alpha`` beyond noise, the lower end of the interval below at least
``1 - alpha``, or not behind in the median with the slack to cover twice
as many calls until the next probe at that lower end, up to :data:`MAX_PROBE_EVERY`). The statistic is the ratio of the two medians with a
distribution-free interval: the order-statistic interval of each median at
:data:`LEVEL` (ranks from the binomial distribution), combined as
``[low_inc / high_base, high_inc / low_base]``. The incumbent is **reverted** (the cell runs the
baseline, ``source == "reverted"``) when the whole interval lies below 1 (slower beyond noise),
or when the cell's *slack* is spent while the incumbent's median is below the baseline's (or
by a call below it, whatever the median: the median lags a sudden slowdown), or when it is
*tied* with the baseline (:data:`TIE_MARGIN`: the noise too wide to tell them apart, its
verification costs more than the difference).
Whatever the number of throughputs, it is also reverted when its median is below the
baseline's and the slack no longer covers the time one more call of it would lose at that
ratio (this is what keeps the promise; for a candidate just promoted, whose window still holds
its trials' throughputs, that ratio is also the median of its whole calls since, see
:meth:`Cell._promise_ratio`). A reverted incumbent is tried
again after 16 calls, then 32, 64, ... (exponential back-off, :data:`FIRST_TIE_BACKOFF` after
a tie, at most :data:`MAX_BACKOFF`
calls), with its old throughputs forgotten, and only once the slack covers one call of it at
80% of the throughput ratio it had. In a cell with online refinement, an incumbent reverted
before it had :data:`MIN_SAMPLES` throughputs (thin evidence: a first call, often cold) is a
candidate again at once instead, tried on slices like the others, its lowest throughput
bounding its worst case (:meth:`Cell._revert`); the back-off applies if its trials drop it.

**Slack** is the promise in seconds: ``alpha`` times the baseline-equivalent time of every
call so far (``records / baseline throughput``), plus the time the cell's non-baseline calls
saved against the baseline (negative when they lost), with the baseline's median throughput.
Over a run of calls the cumulative throughput stays at least ``(1 - alpha)`` times the
baseline's as long as slack stays non-negative. Trials are paid from a second, pessimistic
slack that takes the upper end of the interval of the baseline's median instead: on a noisy
machine, noise never counts as time saved that would pay for a trial.

**Online refinement** (cells whose selector answer did not come from an elite measured on the
cell itself: ``heuristic``, ``archive-knn``, ``archive-nearest``, and ``archive-keep-default``,
where the archive found nothing ahead of the default on its data): a small candidate set (the
heuristic, the nearest elites of the archive even when it was measured on another hardware
class, ``threads`` variants, ``batch_size`` and ``micro_batch_size`` four times larger and
smaller; see :func:`candidates`) is tried in ``online-trial`` calls, a conservative bandit: a
trial runs only when the slack covers its worst-case loss (the pessimistic slack), the
baseline-equivalent time of the call times ``1 / worst - 1``, where ``worst`` is the lowest
throughput ratio still plausible for it (its own lowest observed ratio, discounted by 20%, once
it has run; before that :data:`WORST_RATIO_THREADS` when it changes ``threads``; for Python
dicts, what taking them apart for the pool costs, measured on a call's records before the first
trial (:data:`POOL_COST_RECORDS`), else :data:`WORST_RATIO_THREADS_DICTS`;
:data:`WORST_RATIO_SIZES` otherwise).
A cell of dicts whose selector answer is the heuristic's (one thread, as the default) starts
from the default configuration instead (``default-first``), that answer its first candidate
(:func:`starts_from_default`): as the incumbent, a choice that ties with the default left the
pessimistic slack little of ``alpha`` to grow by.
A candidate whose loss on a whole call the slack does not cover yet is tried on a *slice* of a
call (``validate_batch`` with a list, JSON arrays and NDJSON): its first records run the
candidate, the rest the incumbent, in one engine call that switches configuration at a chunk
boundary, one result as any call gives it. The slice is as many whole chunks of the candidate
as :data:`TRIAL_SLICE` of the records hold (of the estimated count for JSON and NDJSON), at
least :data:`MIN_SLICE_RECORDS`, so a size candidate runs its own chunks; a ``threads``
candidate whose chunk is larger runs on that quarter cut short. The worst-case loss is then
the slice's share of a call's. Its throughput on the slice sets its worst case for the next
trials, which run whole calls once the slack covers them. A candidate with more threads than
the incumbent always runs on a slice when the call allows, after as many records that warm it
up (the same configuration, timed apart and counted in the slack: a second thread right after
one-thread work runs slower than once warm, and a trial among the incumbent's calls would
judge it cold); its slice holds at least a task of ``micro_batch_size`` records per thread
(more than the quarter if need be: a slice the second thread sits out measures nothing).
Before such a trial is affordable, a *scout* (:meth:`Cell._scout`) runs the candidate that
needs the fewest records on the largest slice the slack covers: its throughput only bounds
the worst case of every candidate with its threads, so the first trial comes sooner (on
10,000-record JSON calls at ``alpha`` 2%, a second thread first runs after about 11 calls
instead of 25).
A candidate with more threads than the incumbent tried on a whole call (a call too short
for a slice, or not sliceable) runs two calls in a row: the first warms the pool (counted in
the slack only, as a slice's warm-up is), the second is the trial, when the slack left covers
it (else the first is the trial): between one-thread calls the pool's threads fall asleep,
and a trial among them paid their waking (400 records of medium-mixed JSON: two threads
201-222 us there, 140 us call after call, against 185 us on one thread: in 14 runs of that
held-out cell the candidate was not promoted 5 times, and once with the warm-up call).
On a call shorter than :data:`MIN_RECORDS` a candidate's first trial, whatever ran before it,
is a warm-up too (counted in the slack only; see :meth:`Cell.record`): configurations that had
not run came out slower in their first trial than in the next ones, and three throughputs
decided.
Each trial's throughput is *paired* with the incumbent's next to it in time: the rest of the
same call for a slice, the call just before for a whole call (no two whole-call trials run in
a row, so that call ran the incumbent; before a warm-up call, the call before it). On a
shared machine whose speed drifts over seconds,
a burst of trials compared with the incumbent's older throughputs would measure the drift;
a pair moves with it. A candidate becomes the incumbent (``source == "online"``) only when it
is ahead beyond noise: with :data:`PAIRED_MIN_SAMPLES` paired ratios or more, so many of them
above 1 that a fair coin would give as many at most once in 16 (:func:`sign_test`: 4 of 4, 5
of 5, 6 of 6, 6 of 7), and their median ahead by more than :data:`PROMOTE_MARGIN` (two
configurations that tie pass the sign test once in 16 cells, more where the machine's speed
drifts, and a tie promoted costs slack to revert); a candidate with an
unpaired throughput (the incumbent had none yet) is judged on the interval of the ratio of the
two medians (:func:`ratio_interval`) from :data:`MIN_SAMPLES` throughputs. One whose median
is ahead by more than :data:`PROMOTE_MARGIN` but not beyond noise is tried again, up to
:data:`MAX_TRIAL_SAMPLES` throughputs while the slack lasts; any other is dropped (after
:data:`MIN_SAMPLES`). The incumbent stays under live verification.

**Cache.** What online refinement learned is written to a per-user cache file
(``$SATYA_ADAPT_CACHE_DIR/online.json``, else ``$XDG_CACHE_HOME/satya-adapt/online.json``,
else ``~/.cache/satya-adapt/online.json``), keyed by the hardware fingerprint
(:func:`fingerprint`) and the cell (calls with ``errors=False`` apart: ``"errors": false``),
atomically (a temporary file renamed over it). The next
process starts those cells from the learned incumbent (still verified). A learned choice later
reverted with its median behind the baseline's by more than :data:`TIE_MARGIN` is written as
reverted (``"reverted": true``, with the cell's ``reverts``, ``ties`` and ``retry_ratio``):
the next process starts that cell reverted, its retry after the back-off those reverts call
for, and a retry ahead by :data:`PROMOTE_MARGIN` beyond noise over a full window writes it as
learned again (:class:`Reverted`). A corrupt cache is
ignored with one :class:`~satya_adapt.ArchiveWarning`; ``satya-adapt archive merge CACHE
--into ARCHIVE`` folds one into an archive.

**Cost.** A cell in its steady state (a verified incumbent with no trial or retry pending, or a
reverted one before its retry is due) is answered from what the last full decision left: the
arm, and the call at which the next probe is due; its timing updates running sums (the slack is
computed from them when read) and the incumbent's interval every 4th call, as before. Through
:class:`Live`, such a cell takes no lock at all on most calls: each decision (under the lock)
computes how many of the next calls cannot decide anything whatever their timings
(:meth:`Cell.quiet`: until the next probe, which may be granted with them, at most
:data:`MAX_QUIET`; for a verified incumbent, only while each timing stays under a ceiling
that keeps the interval's upper end and the ratio, or else the slack, clear of a revert, by
order statistics of the window; where the timings tie with the baseline's, under two: the
baseline's low end for most timings and half the median for a few; while the window fills
(not after a promotion), under the call at the baseline's median throughput, where at least
half the window is that fast, see :meth:`Cell._filling_grant`) and grants them to the call's
route as tickets. A granted call costs a dict lookup and a ``list.pop``; its timing a
``list.append`` (a timing over the ceiling revokes the rest, or spends one of the few). Where
the record count changes from call to call, a grant covers a range of counts
(:meth:`Cell.quiet_range`: ceilings per record, each call's answer fitted to its count, its
count replayed with its timing, :meth:`Cell.replay_counts`). The
next decision replays the timings in turn first (:meth:`Cell.replay`, one pass up to a timing
that revoked the rest, only the last of the interval's recomputations done), so probes, reverts, back-off,
trials and promotions happen at the same calls as when every call is decided in full. The
cache file is written only when a cell's incumbent changes by online refinement or a learned
choice is reverted or learned again (one atomic write each, never per call).

Sources a call reports in ``result.config.source``: the selector's step (incumbent unchanged),
``default-first`` (a cell that starts from the default, see above), ``probe`` (a baseline
probe), ``reverted``, ``online-trial``, ``online``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import math
import operator
import os
import sys
import threading
import time
import weakref
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, compress, count
from typing import Any, NamedTuple, Optional, Union, cast

from . import hardware as _hardware
from .config import (
    DEFAULT_CONFIGURATION,
    ESTIMATE_MARGIN,
    ONLINE_ENV_VAR,
    BatchConfig,
    SlicedTrial,
    clamp,
    clamp_n,
    effective,
    online_default,
)
from .errors import ArchiveError, warn_at_user
from .heuristic import MIN_MICRO_BATCH_SIZE, heuristic_config, work_per_record

__all__ = [
    "ALPHA",
    "SlicedTrial",
    "CACHE_DIR_ENV_VAR",
    "CACHE_FORMAT",
    "Live",
    "MIN_RECORDS",
    "ONLINE_ENV_VAR",
    "cache_path",
    "fingerprint",
    "median_interval",
    "online_default",
    "ratio_interval",
    "read_cache",
    "takes_part",
]

#: What :meth:`Live.start` takes for the selector's answer: the answer, or the selector's
#: ``select`` (asked only when the answer is read: for a profile with no route yet).
Selected = Union[BatchConfig, Callable[[Sequence[Any]], BatchConfig]]

#: Environment variable naming the folder of the online cache file.
CACHE_DIR_ENV_VAR = "SATYA_ADAPT_CACHE_DIR"
CACHE_FORMAT = "satya-adapt-online-cache"
CACHE_NAME = "online.json"
#: The default share of the baseline's throughput that live verification may lose.
ALPHA = 0.02
#: The timings taken as timings (seconds); any other (0.0 for a call that raised, a negative,
#: NaN, infinite, or one so small that records / seconds overflow) counts the call only.
MIN_TIMING = 1e-9
MAX_TIMING = 1e9
#: Calls shorter than this (records) run the selector's answer without live bookkeeping.
MIN_RECORDS = 4096
#: A JSON or NDJSON call of fewer records takes part when it has at least this many records
#: and at least :data:`MIN_SHORT_WORK` weighted bytes (:func:`takes_part`).
MIN_SHORT_RECORDS = 256
#: Weighted bytes (``heuristic.work_per_record`` times records) of a short call that takes part:
#: 50-170 us of checking on the AMD machine (0.34-1.3 ns per weighted byte, the held-out
#: profiles of ``benchmarks/eval_live.py``), so a settled cell's bookkeeping (0.5-0.9 us) stays
#: within about 1% of most such calls. Below 4,096 records the pool's start is what decides
#: whether a second thread pays, and that depends on how the calls come (400 records of 12
#: fields, JSON: two threads ran 1.33 times one thread's speed back to back, 0.77-0.90 with 1-5
#: ms of Python between calls): only the calls themselves can tell.
MIN_SHORT_WORK = 128 * 1024
#: Records of a task of the ``threads`` candidate on such a short call: the pool's thread may
#: join late (it sleeps between calls), and the caller then waits for one task at the end.
#: Which size ends best depends on the data more than on any rule (``benchmarks/
#: short_tasks.py``: 10 short calls of JSON and NDJSON, 400-2,500 records, 4 data seeds each,
#: tasks of 32-96 records, calls back to back): tasks of 48 records ran at 0.982 of the best
#: size's speed in the median row, 0.85 at the least; of 64 records (the size before), 0.968
#: and 0.72 (400 records of medium-mixed JSON, a held-out cell: 1.05-1.08 times one thread's
#: speed, where 48 ran 1.23-1.30 and 56 1.33-1.46); quarter-chunk tasks had run 0.90-1.58.
SHORT_TASK_RECORDS = 48
MAX_CELLS = 256
WINDOW = 15
MIN_SAMPLES = 3
LEVEL = 0.9
FIRST_PROBE_EVERY = 4
MAX_PROBE_EVERY = 64
FIRST_BACKOFF = 16
MAX_BACKOFF = 4096
PROMOTE_MARGIN = 0.02
#: A verified incumbent whose median throughput is within this much of the baseline's, with a
#: full window and an interval whose low end is under ``1 - alpha`` (the noise too wide to
#: tell them apart) and whose upper end is no further above 1 than that low end is below, is
#: reverted as *tied*: its verification decided every 2-3 calls in full, 20-30 us after each
#: call of 10,000 small dicts (240 us), 3-5% of it, for a difference smaller than that. Tried
#: again with back-off like any revert. (Without the last condition, a second thread on a busy
#: core, 1.09 times the default's speed over 200 calls, was reverted as tied at a median of
#: 1.012 with an interval of 0.974-1.384, and ran the default for 69 calls.) Not while the
#: cell has candidates to try: on a cell of unknown hardware, a tie reverted before the
#: candidates' trials held them back (3 trials in 50 calls instead of 9-15).
TIE_MARGIN = 0.02
#: Calls before a tied choice is tried again (doubled at each tie): its retry is verified in
#: full (every call decides until its window is full, 20-30 calls), which after a back-off of
#: 16 calls made a tied cell decide as often as before.
FIRST_TIE_BACKOFF = 128
#: A candidate whose paired ratios are this much ahead is tried on (see :data:`MAX_AHEAD_TRIAL_SAMPLES`).
AHEAD_MARGIN = 0.1
MAX_TRIAL_SAMPLES = 7
#: A candidate whose every throughput is paired with the incumbent's (see :meth:`Cell.record`)
#: is promoted on its paired ratios, once it has this many, when so many of them are above 1
#: that chance would give that to a candidate no faster than the incumbent at most once in
#: 16 (:data:`SIGN_LEVEL`, :func:`sign_test`): 4 of 4, 5 of 5, 6 of 6, 6 of 7. (Requiring all
#: of them up to 7, the range being the interval of their median at :data:`LEVEL`, a second
#: thread whose calls have a slow tail on a shared machine, 4 in 15 near 0.8 times the
#: default's speed where the rest ran 1.5-1.8, was dropped after 7 trials six times in seven.)
PAIRED_MIN_SAMPLES = 4
SIGN_LEVEL = 1.0 / 16
#: ... and one whose paired ratios look well ahead (median above ``1 + AHEAD_MARGIN``) but not
#: yet beyond chance is tried until it has this many: such trials cost nothing on average (it
#: is faster), and a second thread on 400 records of JSON, 1.3-1.7 times one thread's speed but
#: now and then 0.8-0.96 (the pool's thread woke late), was dropped with 5 pairs of 7 ahead and
#: a median of 1.6 (2 runs of 6 learned nothing, `eval_live.py`'s held-out part). The sign
#: test then asks 7 pairs of 8 ahead, 8 of 10, 11 of 15, 14 of 20.
MAX_AHEAD_TRIAL_SAMPLES = 21
WORST_RATIO_THREADS = 0.5
#: ... for Python dicts, which the pool's threads cannot read: they are taken apart for it
#: under the GIL first. Measured on this repository's 2-vCPU VM: a second thread on a cell of
#: 10,000 small dicts ran 0.12-0.18 times one thread's speed (0.17-0.55 in bench_peers; the
#: engine before 2026-12-08, which took every record apart for the pool), so a
#: trial judged at 0.5 cost several times the slack that paid for it.
WORST_RATIO_THREADS_DICTS = 0.15
#: ... measured instead on the call's own records when the validator can (see
#: :meth:`Live.start`), once per cell, before its first trial: this many records spread over
#: the list, checked in place and taken apart for the pool and checked, on the caller's
#: thread (the binding's ``pool_cost``, each the best of :data:`POOL_COST_ROUNDS`); the
#: first time over the second is what a second thread gave when it shared the caller's
#: core and the caller took every record apart. Since 2026-12-08 the caller hands a task to
#: the pool only where taking it apart costs it less than checking it in place, and checks the
#: others itself; :data:`POOL_COST_MARGIN` of what that gives at worst
#: (:func:`sharing_worst`) is the worst case assumed. On the four dict
#: profiles of ``benchmarks/eval_live.py`` (8 measurements each): 0.74 / 0.42-0.43 /
#: 0.24-0.25 / 0.66-0.68, against two threads pinned to one core (64-record tasks, 2 runs of
#: 15 calls of 10,000 records) 0.63-0.64 / 0.42 / 0.22-0.24 / 0.64: within 0.85 of it. It
#: costs 6-85 us, 0.7% of a call of 10,000 records of 15 regex-checked strings (64 records
#: and 3 rounds: 4.5%, which showed when the cell's first call paid it: 0.86-0.92 of the
#: default's speed, against 0.91-0.97 without).
POOL_COST_RECORDS = 16
POOL_COST_ROUNDS = 2
POOL_COST_MARGIN = 0.8
#: A candidate with ``t`` threads is dropped untried where ``t`` times that first time over the
#: second is below this: the records' taking apart and checking, spread over ``t`` threads at
#: best, would take about as long as checking them in place on one. No pool scales that well:
#: on the four dict profiles of ``eval_live.py``, two threads (128- to 2,048-record tasks) ran
#: 0.65-0.83 times that product (tiny-plain 0.48: 0.28-0.31; medium-mixed 0.91: 0.69-0.71;
#: long-strings 1.32: 0.96-1.01; heavy-regex 1.52: 1.07-1.26), so below 1.1 a second thread
#: would have to come within 10% of perfect scaling to break even. (At 0.8, the medium-mixed
#: cell, 0.86-1.06 a measure, tried a second thread three times after its warm-up, at 0.58 of
#: one thread's speed, and lost 1% of its throughput to them; the tiny-plain dicts, 0.24-0.25
#: a measure, or 10,000 dicts of two short fields, 0.34, were dropped at 0.8 already.)
POOL_HOPELESS = 1.1
WORST_RATIO_SIZES = 0.75
#: ... for a cell's first call on the pool (a warm-up, see :meth:`Cell.record`) when a trial
#: runs it on a whole call (a short call, which cannot be sliced): measured 0.37-0.59.
WORST_RATIO_COLD = 0.3
#: A sliced trial runs the candidate on this share of a call's records (the first ones),
#: the incumbent on the rest: its worst-case loss is that share of a whole call's.
TRIAL_SLICE = 0.25
#: ... and only when the slice holds at least this many records.
MIN_SLICE_RECORDS = 1024
MAX_CANDIDATES = 6
#: A candidate dropped on its trials (not one dropped untried, nor a reverted choice, which has
#: its own retry) is tried again this many calls later, twice as late each time it is dropped
#: again, at most :data:`MAX_BACKOFF`: trials that ran while the machine was busy (a second
#: thread on a loaded core), or in a bad draw of a noisy machine (a second thread on dicts here
#: runs below one thread in a quarter of its calls), would otherwise keep a faster
#: configuration out for the rest of the process. Its trials are paid from the allowance as
#: any are, its worst case its lowest throughput before.
FIRST_RETURN = 1024
#: Dropped candidates a cell's evidence lists (the latest).
MAX_DROPPED = 8
#: Calls between two looks for an affordable trial or retry after one found none: looking at
#: every call made every call decide in full (20-40 us after a 10,000-record call, 3-6% of it,
#: measured) in cells whose candidates wait for the slack, often for good.
LOOK_EVERY = 8
#: ... where the cell runs the baseline (its incumbent runs as it, or it is reverted): the slack
#: then grows by ``alpha`` of a baseline call per call, a pace that only the baseline's median
#: moves, so the look comes when the slack should cover the trial, up to this many calls
#: later. (Every 8 calls, a cell of 400-record JSON calls of 170 us whose threads candidate
#: waited 117 calls for its warm-up spent 2.5 us a call on looks and their grants, 1.4%.)
LOOK_EVERY_AS_BASE = 64
#: ... where the slack does not grow at the present pace (the incumbent tied with the baseline:
#: its median is no further ahead than the interval's upper end, which the pessimistic slack
#: counts the baseline at): only a probe or the incumbent's next throughputs can change that.
#: Every 8 calls there, a cell of 10,000-record dict calls tied with the default spent ~3 us a
#: call (1.3%) on looks that found its threads candidate unaffordable, for good. Only once the
#: baseline's window is full: before, the pace is mostly noise (on the unknown-hardware dicts
#: cell of ``eval_live.py`` a second thread then went untried for 50 calls in 5 runs of 20,
#: against 2 of 18 before LOOK_NO_GROWTH and 1 of 18 with this rule).
LOOK_NO_GROWTH = 32
#: The kind of the arm a scout runs (see :meth:`Cell._scout`): a copy of a candidate's.
SCOUT = "scout"
MAX_CACHE_ENTRIES = 4096
#: The most of a cache file read (a larger one is corrupt).
_MAX_CACHE_BYTES = 64 * 1024 * 1024
#: A call whose engine ran while this process wrote its online cache, or less than this many
#: seconds after, measured the write too: its timing is spent, not evidence (see
#: :meth:`Live.finish`). The write (a thread of its own, 0.4-0.8 ms on the Intel VM) slowed
#: 1-3 of the 2-thread calls of 2,000 tiny NDJSON records that ran beside it or just after,
#: to 0.4-0.8 of their speed (fsynced, 1-5 calls, to 0.25-0.9), just after the promotion
#: that caused the write: the new incumbent's first timings, which reverted it where the
#: allowance was spent.
WRITE_SETTLE = 0.0005
#: ... and how long after a write the writer keeps telling them apart (then calls check nothing).
WRITE_HOLD = 1.0
#: Selector steps whose answers online refinement may replace.
#: A keep-default cell is refined too: the archive found no configuration ahead of the default
#: on the data it measured, which says little of other data in the cell, and there the trials
#: are paid from the allowance alone (its calls run as the baseline).
REFINED_SOURCES = frozenset({"heuristic", "archive-knn", "archive-nearest", "archive-keep-default"})
#: The default configuration as a cell that starts from it reports it (see
#: :func:`starts_from_default`).
DEFAULT_FIRST = DEFAULT_CONFIGURATION._replace(source="default-first")


def starts_from_default(selected: BatchConfig, kind: str) -> bool:
    """Whether a cell with online refinement starts from the default configuration, the
    selector's answer ``selected`` its first candidate: the heuristic's answer for dicts, which
    runs them on one thread as the default does (see :mod:`satya_adapt.heuristic`, rule 4) and
    differs from it in its sizes alone, a few percent either way on one thread. As the
    incumbent, such a tie held online refinement back: the pessimistic slack counts the
    incumbent's calls at the upper end of the baseline's interval (1-2% above its median while
    probes are few), which left about a quarter of ``alpha`` a call to pay for a second
    thread's trial (4 ms of a 10 ms call of heavy-regex dicts at its worst case): it came
    within 50 calls in 37 of 48 fresh validators (10,000 heavy-regex dicts a call, no
    archive), 17 of 24 with an archive of another hardware class. Running the default, every
    call adds ``alpha`` of itself: 54 of 54 and 24 of 24 (2026-12-06, alternating; in
    ``benchmarks/learn_rate.py --against`` the commit before, 30 of 40 against 16 of 40 within
    30 calls of 20,000, 40 of 40 against 29 of 40 with the other archive)."""
    return (
        selected.source == "heuristic" and kind == "dicts"
        and selected.threads == DEFAULT_CONFIGURATION.threads
    )


_NEVER = 1 << 62  # a call number no cell reaches


# -- statistics -------------------------------------------------------------------------------


def _longest(n: int, rate: float) -> float:
    """The longest timing of a call of ``n`` records whose throughput (``n / seconds``, as
    rounded) is still at least ``rate``: ``n / rate`` less what rounding takes."""
    seconds = n / rate
    while n / seconds < rate:
        seconds = math.nextafter(seconds, 0.0)
    return seconds


def _ranks(n: int, level: float) -> tuple[int, int]:
    """0-based ranks ``(lo, hi)`` of the narrowest symmetric pair of order statistics that
    covers the median of ``n`` samples with probability at least ``level`` (the extremes when
    ``n`` is too small): ``[x_j, x_(n-1-j)]`` covers it with ``1 - 2 P(B <= j)``,
    B ~ Binomial(n, 1/2), as :func:`satya_adapt.tuning.measure.order_statistic_ranks`."""
    best = 0
    cdf = 1.0 / 2.0**n  # P(B <= 0)
    for j in range(1, (n + 1) // 2):
        cdf += math.comb(n, j) / 2.0**n
        if 1.0 - 2.0 * cdf < level:
            break
        best = j
    return best, n - 1 - best


_RANKS = {n: _ranks(n, LEVEL) for n in range(1, WINDOW + 1)}
_MID, _HI = WINDOW // 2, _RANKS[WINDOW][1]  # ranks of a full window's median and upper end


def median_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """``(median, low, high)``: the sample median and its order-statistic interval at
    :data:`LEVEL` (distribution-free)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("`values` must not be empty")
    mid = xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])
    lo, hi = _RANKS.get(n) or _ranks(n, LEVEL)
    return mid, xs[lo], xs[hi]


def takes_part(profile: Sequence[Any]) -> bool:
    """Whether a call of ``profile`` takes part in live verification: ``n`` known and at least
    :data:`MIN_RECORDS`, or, for JSON and NDJSON, at least :data:`MIN_SHORT_RECORDS` records
    carrying :data:`MIN_SHORT_WORK` weighted bytes. (Dicts are left out below
    :data:`MIN_RECORDS`: they run on one thread, and a short call's sizes change little.)"""
    n: Optional[int] = profile[5]
    if n is None or n < MIN_SHORT_RECORDS:
        return False
    if n >= MIN_RECORDS:
        return True
    if profile[4] not in ("json", "ndjson"):
        return False
    return n * work_per_record(profile[3], profile[2]) >= MIN_SHORT_WORK


def _doubled(first: int, times: int) -> int:
    """A back-off of ``first`` calls the first time, doubled each time after, at most
    :data:`MAX_BACKOFF`."""
    return min(first << min(times - 1, 20), MAX_BACKOFF)


def sign_test(ratios: Sequence[float]) -> float:
    """The chance that at least as many of ``ratios`` as here are above 1 when each is above 1
    or not as by a fair coin: the one-sided sign test of "ahead"."""
    m = len(ratios)
    k = sum(1 for r in ratios if r > 1.0)
    return sum(math.comb(m, j) for j in range(k, m + 1)) / 2.0**m


def ratio_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """``(ratio, low, high)`` of throughputs ``a`` over ``b``: the ratio of medians and the
    interval ``[low_a / high_b, high_a / low_b]`` (conservative: both medians' intervals)."""
    ma, la, ha = median_interval(a)
    mb, lb, hb = median_interval(b)
    return ma / mb, la / hb, ha / lb


# -- one cell ---------------------------------------------------------------------------------


class _Arm:
    """A configuration (unclamped) and its recent throughputs."""

    __slots__ = (
        "config", "rates", "kind", "trials", "same_n", "same", "pairs", "floor", "cold", "note",
        "drops", "back_at", "pieces",
    )

    def __init__(self, config: BatchConfig, kind: str = "") -> None:
        self.config = config
        self.rates: deque[float] = deque(maxlen=WINDOW)
        self.kind = kind  # for candidates: what made them (heuristic, elite, threads, sizes, retry)
        self.trials = 0
        self.same_n = -1  # the n that ``same`` was computed for
        self.same = False  # runs the engine as the default configuration on same_n records
        #: For candidates: each throughput over the incumbent's next to it (see Cell.record).
        self.pairs: list[float] = []
        #: For a reverted incumbent tried again as a candidate: its lowest throughput before.
        self.floor = 0.0
        #: A candidate not tried yet: its first trial is a warm-up (see Cell.record).
        self.cold = bool(kind)
        self.note = ""  # for a candidate dropped untried: why
        self.drops = 0  # times dropped on its trials
        self.back_at = 0  # for a dropped candidate: the call it is tried again at (0: never)
        #: For an incumbent: the pieces of :meth:`Cell._steady_range`, with the range they cover.
        self.pieces: Optional[tuple[tuple[int, int], list[list[Any]]]] = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "config": list(self.config[:3]),
            "samples": len(self.rates),
        }
        if self.kind:
            out["candidate"] = self.kind
        if self.rates:
            out["median_items_per_s"] = median_interval(self.rates)[0]
        if self.pairs:
            # Its throughputs over the incumbent's next to them (what promotes or drops it).
            out["paired_ratios"] = [round(x, 4) for x in self.pairs]
        if self.note:
            out["dropped_untried"] = self.note
        if self.back_at:
            out["tried_again_at_call"] = self.back_at
        return out


#: Where the timings over a grant's ceiling may come, ``(below, rank)``: ``below[j]``, how
#: many of the incumbent's window of throughputs lie below the baseline's low end and are
#: still in it after ``j`` more (the oldest go first; 0 from :data:`WINDOW` on), and
#: ``rank``, the most that may lie below it at any time. A timing over the ceiling, the
#: ``j``-th throughput of the grant, fits when ``below[j]`` and the timings over the ceiling
#: among the last :data:`WINDOW` (itself one of them) are at most ``rank`` together. (A plain
#: tuple: a grant of a choice tied with the default makes one at each decision.)
Window = tuple[list[int], int]


def _over_fit(timings: Sequence[float], ceiling: float, spare: int, window: Optional[Window]) -> bool:
    """Whether the timings over ``ceiling`` among ``timings`` (each valid: the ``j``-th is the
    grant's ``j``-th throughput) are at most ``spare`` and, with a ``window``, each fits it
    (:func:`fits_window`, one after another, as the quiet calls let them through)."""
    over = list(compress(count(1), map(ceiling.__lt__, timings)))  # their positions
    if len(over) > spare:
        return False
    if window is None:
        return True
    if len(over) + window[0][0] <= window[1]:
        return True
    crossed: list[int] = []
    return all(fits_window(window, crossed, j) for j in over)


def fits_window(window: Window, crossed: list[int], j: int) -> bool:
    """Whether a timing over the ceiling as the ``j``-th of its grant fits ``window``, the
    earlier ones at the positions ``crossed`` (ascending); if so, ``j`` joins them."""
    below, rank = window
    # Itself and the earlier ones among the last WINDOW throughputs.
    if below[j if j < WINDOW else WINDOW] + len(crossed) - bisect_right(crossed, j - WINDOW) >= rank:
        return False
    crossed.append(j)
    return True


class Grant(NamedTuple):
    """What :meth:`Cell.quiet` grants: the next ``calls`` calls decide nothing as long as each
    timing is at most ``ceiling`` seconds, or at most ``hard`` for ``spare`` of them; when
    ``probe``, the call after them is the next probe. With a ``window`` (see :data:`Window`),
    those ``spare`` timings must also fit it where each comes (:func:`fits_window`)."""

    calls: int
    ceiling: float
    probe: bool
    hard: float = math.inf
    spare: int = 0
    window: Optional[Window] = None


_NO_GRANT = Grant(0, 0.0, False)


class Reverted(NamedTuple):
    """What the online cache says of a cell whose learned ``config`` was reverted live (see
    :meth:`Cell._revert`): the cell's reverts and ties so far (its back-off goes on from
    them) and the throughput ratio the choice is retried at (see :meth:`Cell._retry_due`)."""

    config: BatchConfig
    reverts: int
    ties: int
    ratio: float


#: The most reverts (or ties) a cache entry carries: the back-off stops doubling long before.
MAX_CACHED_REVERTS = 64
#: What the online cache holds for a cell: its learned choice, or that choice reverted.
CacheAnswer = Union[BatchConfig, Reverted]


class Cell:
    """The live state of one cell: pure bookkeeping, no clock and no engine (tests drive it
    with injected timings). Not thread-safe by itself: :class:`Live` holds a lock around it."""

    def __init__(
        self,
        selected: BatchConfig,
        candidates: Sequence[tuple[BatchConfig, str]] = (),
        *,
        alpha: float = ALPHA,
        cores: int = 1,
        cached: Union[BatchConfig, Reverted, None] = None,
        worst_threads: float = WORST_RATIO_THREADS,
        first_call_warms: bool = False,
        later: Optional[Callable[[], Sequence[tuple[BatchConfig, str]]]] = None,
        selected_source: str = "",
    ) -> None:
        """``selected``: the configuration the cell starts from (the selector's answer, or the
        default where it starts from that, see :func:`starts_from_default`; then
        ``selected_source`` is the selector's step). ``later``: makes the candidates (added
        after ``candidates``) when the cell first
        needs them, once the baseline has :data:`MIN_SAMPLES` throughputs (see :meth:`_fill`):
        no candidate is tried before, and made with the cell they took about 55 us of a new
        validator's first call (the candidate set 32, the archive's nearest elites 21, on
        10,000 heavy-regex dicts: a call of 10 ms, whose wall time outside the engine was
        0.45 ms against the default's 0.06)."""
        self.alpha = alpha
        #: The cell's first timing is a warm-up (see :meth:`record`): it is the first call of
        #: its validator that takes part.
        self.cold_start = first_call_warms
        self.cores = cores
        #: The worst ratio assumed for an untried ``threads`` change (see :meth:`_worst`).
        self.worst_threads = worst_threads
        #: ... ``measured`` on the call's records (dicts, see :data:`POOL_COST_RECORDS`), else
        #: ``assumed``.
        self.worst_threads_from = "assumed"
        #: :class:`Live` is to measure :attr:`worst_threads` on the records of a call before
        #: the cell may first try a candidate (see :meth:`may_try`).
        self.pool_cost_due = False
        self.selected_source = selected_source or selected.source
        self.baseline = _Arm(DEFAULT_CONFIGURATION)
        reverted: Optional[Reverted] = None
        learned: Optional[BatchConfig] = None
        if isinstance(cached, Reverted):
            reverted, learned = cached, cached.config
        else:
            learned = cached
        self.incumbent = _Arm(learned if learned is not None else selected)
        self.incumbent_source = "online" if learned is not None else selected.source
        #: What the online cache said of the cell when it was made: ``learned`` (it starts
        #: from that choice), ``reverted`` (it starts reverted, see :class:`Reverted`), or
        #: ``None``.
        self.cached = None if cached is None else "reverted" if reverted is not None else "learned"
        #: The cache holds (or is to hold) the cell's choice as reverted: written at a revert
        #: on evidence (see :meth:`_revert`), and again as learned once the retried choice is
        #: ahead beyond noise (see :meth:`_verify`).
        self.written_reverted = reverted is not None
        #: No call of the cell has run on the pool yet: the first that does, the incumbent's
        #: or a candidate's whole-call trial, is a warm-up (see :meth:`record`).
        self.pool_cold = True
        self.candidates: list[_Arm] = [] if cached is not None else [_Arm(c, k) for c, k in candidates]
        #: What makes the rest of the candidates (``None``: made, or none to make).
        self._later = later if cached is None else None
        #: Online refinement runs here (the cell was given candidates, or will be).
        self.refines = bool(self.candidates) or self._later is not None
        #: Records of the slice the last trial chosen runs (0: the whole call; see :meth:`_trial`).
        self.slice = 0
        #: Records that warm its candidate up before the slice (timed apart; see :meth:`_trial`).
        self.warm = 0
        self._whole_trial = False  # the last trial chosen ran a whole call
        # A candidate with more threads tried on whole calls runs twice in a row: its first
        # call (``_warm_arm``'s next timing) warms the pool, the second (``_warm_next``) is
        # the trial. See :meth:`_trial`.
        self._warm_arm: Optional[_Arm] = None
        self._warm_next: Optional[_Arm] = None
        #: The lowest throughput any candidate has shown, by its ``threads`` (see :meth:`_worst`).
        self._lowest: dict[int, float] = {}
        self.calls = 0
        self.probes = 0
        self.trials = 0
        self.scouts = 0
        self.warmups = 0
        self.reverts = 0
        self.ties = 0  # reverts of a choice tied with the baseline (see :data:`TIE_MARGIN`)
        self.promotions = 0
        self.retry: Optional[_Arm] = None  # the reverted incumbent, tried again at retry_at
        self.retry_source = ""
        self.retry_ratio = 1.0
        self.retry_at = 0
        #: The next call that looks for an affordable trial or retry (see :data:`LOOK_EVERY`).
        self.look_at = 0
        self.probe_every = FIRST_PROBE_EVERY
        self.next_probe = 0
        self.records = 0  # records of every timed call
        self.other_records = 0  # ... of the calls that did not run as the baseline
        self.other_seconds = 0.0  # their engine time
        self.last: Optional[tuple[float, float, float]] = None  # incumbent/baseline ratio
        #: A promoted incumbent's throughputs from its trials, the first of its window (0: none,
        #: or the window is full); see :meth:`_promise_ratio`.
        self.trial_rates = 0
        self.changed = False  # the incumbent changed by online refinement (cache it)
        self._base_median: Optional[float] = None
        self._base_stats = (1.0, 1.0, 1.0)
        self._since_check = 0  # incumbent throughputs since the interval was last computed
        #: The cell's key in :class:`Live` (its cache entries are keyed by it).
        self.key: tuple[Any, ...] = ()
        # The steady state, remembered by the slow path of :meth:`choose`: while a call of
        # ``_fast_n`` records comes before call ``_fast_until``, the next arm is the incumbent,
        # or the baseline when ``_fast_probe`` and a probe is due. Nothing else can be due
        # until the incumbent, the retry or the candidates change (each resets ``_fast_n``).
        self._fast_n = -1
        self._fast_until = 0
        self._fast_probe = False
        # The last grant of quiet(): (calls, k, ceiling, n, hard, spare, window).
        self._quiet: Optional[tuple[int, int, float, int, float, int, Optional[Window]]] = None
        #: The record counts this cell's calls have (its ``n`` bucket, set by :class:`Live`;
        #: ``(0, 0)``: not known, no grant over a range, see :meth:`quiet_range`).
        self.n_range = (0, 0)
        #: The most records of a call of this cell so far: the promise covers a next call of
        #: that many (a choice at half the default's speed, whose calls had 8,192 or 16,383
        #: records, was checked for a call of the last call's count, and the next call, twice
        #: as long, spent 1.027 times the default's time with alpha 0.02).
        self.n_most = 0
        #: The tickets of :class:`Live`'s grants over a range of record counts (leases popped
        #: one per call, see :meth:`quiet_range`), and those leases by arm.
        self.range_tickets: list[Any] = []
        self.range_leases: dict[_Arm, Any] = {}
        #: :class:`Live`'s leases on this cell (fast answers whose timings wait to be replayed).
        self.leases: list[Any] = []  # _Lease, _RangeLease
        #: The tickets of the lease granted last (emptied when it is revoked).
        self.granted: list[BatchConfig] = []
        #: The record count of the calls it was granted to (-1: a grant over a range of counts).
        self.granted_n = -1
        #: The candidates dropped (the latest :data:`MAX_DROPPED`), for :meth:`evidence`.
        self.dropped: deque[_Arm] = deque(maxlen=MAX_DROPPED)
        #: Dropped candidates to try again (see :data:`FIRST_RETURN`), the first due at
        #: :attr:`next_return`.
        self._returning: list[_Arm] = []
        self.next_return = _NEVER
        if reverted is not None:
            # Where the last process left it: the baseline runs, the choice is retried after
            # the back-off its reverts (and ties) so far call for. (Started from the choice, a
            # second thread since become 0.7 times one thread's speed lost to the default in
            # each process until reverted: 0.9845 of its throughput over 300 calls.)
            self.reverts = min(reverted.reverts, MAX_CACHED_REVERTS)
            self.ties = min(reverted.ties, MAX_CACHED_REVERTS)
            self.retry, self.retry_source = self.incumbent, self.incumbent_source
            self.retry_ratio = reverted.ratio
            self.incumbent, self.incumbent_source = self.baseline, "reverted"
            self.retry_at = self._backoff()

    # -- choosing ---------------------------------------------------------------------------

    @property
    def slack(self) -> float:
        """Seconds (see the module docstring): re-estimated from every baseline throughput at
        hand, not accumulated call by call, with the baseline's median (the best estimate:
        reverting). Computed when read, from running sums; 0 before any baseline throughput."""
        if not self.baseline.rates:
            return 0.0
        budget = self.alpha * self.records + self.other_records
        return budget / self._base_rate() - self.other_seconds

    @property
    def explore_slack(self) -> float:
        """:attr:`slack` with the baseline at the upper end of its interval (exploring: noise
        never counts as time saved that would pay for a trial)."""
        if not self.baseline.rates:
            return 0.0
        budget = self.alpha * self.records + self.other_records
        return budget / self._base_high() - self.other_seconds

    @property
    def reverted(self) -> bool:
        return self.retry is not None

    def may_try(self) -> bool:
        """Whether the next :meth:`choose` may try a candidate (the baseline has its first
        throughputs; no trial comes before)."""
        if len(self.baseline.rates) < MIN_SAMPLES:
            return False
        self._fill()
        return bool(self.candidates)

    def _fill(self) -> None:
        """Makes the candidates still to be made (see ``later``). Until then the cell acts as
        one with candidates: before the baseline has :data:`MIN_SAMPLES` throughputs, only
        whether the incumbent running as the baseline stays out of the steady state depends
        on them (see :meth:`_choose`); a revert (:meth:`_revert`), a trial and
        :meth:`evidence` make them first."""
        later = self._later
        if later is not None:
            made = [_Arm(c, k) for c, k in later()]  # (raising, it leaves the cell as it was)
            self._later = None
            self.candidates.extend(made)
            self.refines = bool(self.candidates)

    def choose(self, n: int, sliceable: bool = False) -> tuple[_Arm, str]:
        """The arm of the next call of ``n`` records and the source it reports. ``sliceable``:
        the call may run a trial on a slice of its records (then :attr:`slice` says how many;
        the incumbent runs the rest)."""
        calls = self.calls = self.calls + 1
        self.slice = self.warm = 0
        if n == self._fast_n and calls < self._fast_until:
            if self._fast_probe and calls >= self.next_probe:
                return self._probe()
            return self.incumbent, self.incumbent_source
        return self._choose(n, sliceable)

    def _choose(self, n: int, sliceable: bool = False) -> tuple[_Arm, str]:
        """:meth:`choose` outside the steady state (``calls`` already counted)."""
        self._fast_n = -1
        base = self.baseline
        if self._later is not None and len(base.rates) >= MIN_SAMPLES:
            self._fill()
        if self.calls >= self.next_return:
            self._bring_back()
        look = self.calls >= self.look_at
        if self.retry is not None and self.calls >= self.retry_at and look and self._retry_due(n):
            self.incumbent, self.incumbent_source = self.retry, self.retry_source
            self.incumbent.rates.clear()
            self.trial_rates = 0
            self.last = None
            self.retry = None
            self.next_probe = self.calls + 1
            self.probe_every = FIRST_PROBE_EVERY
        if self._as_base(self.incumbent, n):
            # The incumbent is the baseline: its calls are baseline evidence; refine if allowed.
            if self.candidates or self._later is not None:
                if len(base.rates) < MIN_SAMPLES:
                    self._filling(n)
                    return self.incumbent, self.incumbent_source
                trial = self._trial(n, sliceable) if look else None
                if trial is not None:
                    return trial, "online-trial"
            self._steady(n, False)
            return self.incumbent, self.incumbent_source
        ni, nb = len(self.incumbent.rates), len(base.rates)
        if nb < MIN_SAMPLES:
            if ni > nb:
                return self._probe()
            return self.incumbent, self.incumbent_source
        if ni >= MIN_SAMPLES and self.candidates:
            trial = self._trial(n, sliceable) if look else None
            if trial is not None:
                return trial, "online-trial"
        if self.retry is None and (ni >= MIN_SAMPLES or not self.candidates):
            # Steady: the incumbent, and a probe whenever one is due (the baseline's
            # throughputs only grow in number, so ``nb`` stays at least MIN_SAMPLES).
            self._steady(n, True)
        if self.calls >= self.next_probe:
            return self._probe()
        return self.incumbent, self.incumbent_source

    def _look_later(self, n: int, short: float, base: float) -> None:
        """The next look for a trial or retry, now ``short`` seconds of slack away from one: in
        as many calls as the slack takes to grow by that much at its present pace (calls at
        the incumbent's median throughput, the baseline's at ``base``), at most
        :data:`LOOK_EVERY` (:data:`LOOK_EVERY_AS_BASE` where the cell runs the baseline), or
        :data:`LOOK_NO_GROWTH` calls when the slack does not grow at that pace."""
        grow = self.alpha * n / base
        most = LOOK_EVERY_AS_BASE
        if not self._as_base(self.incumbent, n):
            if self.last is None:  # no pace known yet
                self.look_at = self.calls + LOOK_EVERY
                return
            grow += n / base - n / (self.last[0] * self._base_rate())
            most = LOOK_EVERY
        if grow <= 0.0:
            # Only new evidence changes that: while the baseline's window fills, every probe
            # moves its interval's upper end (the pace) a lot, so look as often as before.
            k = LOOK_NO_GROWTH if len(self.baseline.rates) >= WINDOW else most
        else:
            k = most if short >= grow * most else max(1, math.ceil(short / grow))
        self.look_at = self.calls + k

    def _steady(self, n: int, probe: bool) -> None:
        """Calls of ``n`` records run the incumbent (and, when ``probe``, the baseline whenever a
        probe is due) and decide nothing until the next look for a trial or retry that can
        come (never when there is none): the steady state, whose calls :meth:`quiet` may grant
        as tickets."""
        until = _NEVER
        if self.retry is not None:
            until = max(self.retry_at, self.look_at)
        if self.candidates:
            until = min(until, self.look_at)
        until = min(until, self.next_return)
        self._fast_n, self._fast_until, self._fast_probe = n, until, probe

    def _filling(self, n: int) -> None:
        """While the baseline's first :data:`MIN_SAMPLES` throughputs come from an incumbent
        that runs as the baseline, its calls decide nothing (evidence only: see :meth:`record`)
        until the call that has them all (one more after a cold start, which counts nothing):
        the steady state's until then, which :meth:`quiet` may grant. Decided in full, each of
        them cost 25-45 us more outside the engine than the default's call (10,000
        heavy-regex dicts), 0.25-0.45% of it, in the calls where the promise has least slack."""
        self._steady(n, False)
        need = MIN_SAMPLES - len(self.baseline.rates) + (1 if self.cold_start else 0)
        self._fast_until = min(self._fast_until, self.calls + need)

    def quiet(self, n: int, most: int) -> Grant:
        """``(k, ceiling, probe, hard, spare)``: the next ``k`` calls of ``n`` records (at most ``most``,
        the next one first) certainly run the incumbent and decide nothing as long as each of
        their timings is at most ``ceiling`` seconds, and, when ``probe``, the call after them
        is the next probe (its timing decides, at the next call). ``(0, 0.0, False)`` outside
        the steady state; none of them reaches the next look for a trial or retry. Replayed in
        turn (:meth:`replay`), such calls leave the state that :meth:`choose` and
        :meth:`record` call by call leave.

        A reverted cell (or one whose incumbent runs as the baseline) decides nothing on a
        timing: its calls are quiet until its retry is due, whatever the timings. A verified
        incumbent decides on a timing only by reverting: when the interval's upper end is
        below 1 (recomputed every 4th call) or when its ratio is below 1 and the slack no
        longer covers a call. With a full window (``xs`` sorted), the ``r``-th order statistic
        after ``j`` new throughputs is at least ``xs[r - j]`` whatever they are (fewer than
        ``r - j + 1`` values can lie below it), and at least ``min(floor, xs[r])`` when each of
        them is at least ``floor = n / ceiling``; the slack then falls by at most
        ``ceiling - (1 + alpha) n / base`` a call. ``k`` is the most calls over which no
        revert can happen (a call behind the baseline that leaves the slack below 0 reverts
        too, whatever the median: each grant has a ceiling): while the order statistics alone
        keep the upper end at least the baseline's low end and the median at least the
        baseline's median, with a ceiling that spends at most the slack over them, or the
        baseline's call where that is higher; else with a ceiling at half, then 80%, of the
        incumbent's median throughput, the ratio bounded below by ``min(floor, xs[median]) /
        base``, the slack at least 0 after each call that may be behind and past those calls
        covering a call at that ratio (with a margin for rounding); or, when it is worth
        more (the calls expected before a timing over the ceiling ends the grant, at the rate
        the window's timings cross it), with two ceilings (:meth:`_two_ceilings`): the
        baseline's low end for most timings, half the median for ``spare`` of them (with a
        ``window``, each where it keeps the count below that low end within the rank that
        holds the verdict: :func:`fits_window`)."""
        self._quiet = None
        calls = self.calls + 1
        if n != self._fast_n or calls >= self._fast_until:
            return _NO_GRANT
        return self._grant(n, most, calls)

    def quiet_range(self, n: int, most: int) -> tuple[Grant, int, int]:
        """``(grant, lo, hi)``: :meth:`quiet` for calls of any record count from ``lo`` to
        ``hi`` (``n`` among them), where the record count changes from call to call (lists of
        dicts of varying length, JSON text of varying size): each of those counts is answered
        and decided as the steady
        state's own (see :meth:`_steady_range`), so the grant is computed for ``hi`` records,
        the most a call of the range can lose, and its ceilings hold per record (a call of
        ``m`` records is within the ceiling when ``m / seconds >= hi / ceiling``, as
        :meth:`replay_counts` checks). Without it, every such call was decided in full: 25-30
        us after a call of 5,000-15,000 small dicts, 10% of it."""
        self._quiet = None
        calls = self.calls + 1
        if self._fast_n <= 0 or calls >= self._fast_until or n <= 0:
            return _NO_GRANT, 0, 0
        lo, hi = self._steady_range(self._fast_n)
        if not lo <= n <= hi:
            return _NO_GRANT, 0, 0
        bound = hi  # the most a call of the range can lose
        # (A range lease counts its timings over the ceiling, not where they come.)
        grant = self._grant(bound, most, calls, placed=False)
        if self._quiet is not None:  # told apart from a grant for calls of hi records alone
            self._quiet = (*self._quiet[:3], -bound, *self._quiet[4:])
        return grant, lo, hi

    def _steady_range(self, n: int) -> tuple[int, int]:
        """The record counts around ``n`` (within :attr:`n_range`) whose calls the steady state
        of ``n`` answers and records alike: the incumbent runs as the baseline at all of them
        or at none, and on the pool at all or none (a cold pool makes a call a warm-up; then
        only counts off the pool). ``(n, n)`` when the cell's counts are not known.

        :func:`effective` is piecewise in the record count: the chunk is the call's records
        below ``batch_size``, the task the chunk below ``micro_batch_size``, the threads
        change where a chunk holds one more task. Between those points (each its own piece)
        every part of it is constant or the count itself, so equality with the baseline's
        holds everywhere or nowhere; pieces alike are joined (memoized per incumbent)."""
        lo, hi = self.n_range
        inc = self.incumbent
        if not lo <= n <= hi:
            return n, n
        memo = inc.pieces
        if memo is None or memo[0] != self.n_range:
            points = {lo}
            for b, m, *_ in (inc.config, DEFAULT_CONFIGURATION):
                for p in (b, b + 1, *(k * m + d for k in range(1, self.cores + 1) for d in (0, 1))):
                    if lo < p <= hi:
                        points.add(p)
            pieces: list[list[Any]] = []
            for start in sorted(points):
                kind = (self._runs_as_base(inc, start), self._on_pool(inc, start))
                if pieces and pieces[-1][2] == kind:
                    continue
                if pieces:
                    pieces[-1][1] = start - 1
                pieces.append([start, hi, kind])
            memo = inc.pieces = (self.n_range, pieces)
        for start, end, kind in memo[1]:
            if start <= n <= end:
                if self.pool_cold and kind[1]:
                    return n, n
                return start, end
        return n, n

    def _runs_as_base(self, arm: _Arm, n: int) -> bool:
        """:meth:`_as_base` without its memo."""
        return arm is self.baseline or effective(arm.config, n, self.cores) == effective(
            DEFAULT_CONFIGURATION, n, self.cores
        )

    def _grant(self, n: int, most: int, calls: int, placed: bool = True) -> Grant:
        """:meth:`quiet` once its steady state holds for the calls (of at most ``n`` records);
        ``placed``: see :meth:`_two_ceilings`."""
        if not self._fast_probe:
            return Grant(max(0, min(most, self._fast_until - calls)), math.inf, False)
        upto = self.next_probe - calls  # incumbent calls before the probe
        if upto <= 0:
            return Grant(0, 0.0, True)
        rates = self.incumbent.rates
        last, base = self.last, self._base_median
        if last is None or base is None or n <= 0:
            return _NO_GRANT
        to_look = self._fast_until - calls  # calls before the next look (it decides in full)
        if len(rates) < WINDOW:
            return self._filling_grant(n, min(most, upto, to_look, WINDOW - len(rates)),
                                       upto, most, to_look, base)
        limit = min(most, upto, to_look)
        xs = sorted(rates)
        mid, hi = _MID, _HI
        low_base = self._base_stats[1]
        # Calls over which the order statistics alone (whatever the timings) keep the interval's
        # upper end and the ratio at least 1: xs[r - k] at least the baseline's low end, median.
        k_top = hi - bisect_left(xs, low_base)
        k_ratio = mid - bisect_left(xs, base) if last[0] >= 1.0 else -1
        call = n / base
        slack = self.slack
        # A call behind the baseline must leave the slack at least 0 whatever the median (see
        # _verify): no grant without a ceiling. Over the calls the order statistics alone keep
        # clear, the higher of the ceiling that spends at most the slack there is and the
        # baseline's median's (a call within it is not behind).
        best = min(k_top, k_ratio, limit)
        ceiling = math.inf
        if best > 0:
            even = _longest(n, base)
            top = (1.0 + self.alpha) * call + slack / best
            top -= 1e-9 * (top + abs(slack) + call)  # (a margin for rounding)
            ceiling = top if top > even else even
        if best < limit:
            for share in (0.5, 0.8):
                # A ceiling on the timings: a throughput at least ``share`` times the median.
                floor = share * xs[mid]
                if floor <= 0.0:
                    break
                top = n / floor
                floor = n / top  # what a timing of at most ``top`` guarantees
                k = limit if min(floor, xs[hi]) >= low_base else k_top
                rho = min(last[0], min(floor, xs[mid]) / base)
                # Each call loses at most ``top - (1 + alpha) call`` of the slack, which must
                # stay at least 0 after each call that may be behind the baseline, and past
                # k_ratio, where the ratio may fall to rho, cover a call at rho.
                step = (1.0 + self.alpha) * call - top
                cost = call * (1.0 / rho - 1.0) if rho > 0.0 else math.inf
                margin = 1e-9 * (abs(slack) + (cost if rho < 1.0 else 0.0) + limit * abs(step) + call)
                if step < 0.0 and floor < base:
                    k = min(k, max(0, int((slack - margin) / -step)))
                if rho < 1.0 and k > k_ratio:
                    room = slack - cost - margin
                    if step >= 0.0:
                        k = k if room + step >= 0.0 else k_ratio
                    else:
                        k = min(k, max(k_ratio, int(room / -step)))
                if k > best:
                    best, ceiling = min(k, limit), top
                if best >= limit:
                    break
        best = min(best, limit)
        hard, spare, window = ceiling, 0, None
        # What the grant is worth: the calls expected before a timing over its ceiling revokes
        # it, if they come as often as in the window. A ceiling the window's timings cross
        # often ends the grant long before its calls run out: a verified second thread on 400
        # records of JSON (a slow tail, 1 call in 20 over 1.25 times the median) granted 63
        # calls under one ceiling decided every 24 calls, 25 us each after an engine call
        # (every 40 with two ceilings considered there too).
        worth = best
        if ceiling < math.inf:
            over = bisect_left(xs, n / ceiling)
            if over:
                worth = min(best, len(xs) // over)
        if worth < limit:
            k, top, two_hard, two_spare, two_worth, two_window = self._two_ceilings(
                n, xs, limit, low_base, base, last[0], placed
            )
            if two_worth > worth:
                best, ceiling, hard, spare, window = k, top, two_hard, two_spare, two_window
        if best <= 0:
            return _NO_GRANT
        self._quiet = (self.calls, best, ceiling, n, hard, spare, window)
        return Grant(best, ceiling, best == limit and upto <= most and upto < to_look, hard, spare,
                     window)

    def _filling_grant(
        self, n: int, limit: int, upto: int, most: int, to_look: int, base: float
    ) -> Grant:
        """:meth:`_grant` while the incumbent's window fills (fewer than :data:`WINDOW`
        throughputs, none of them a trial's), for at most ``limit`` calls (none pushes a
        throughput out): calls each at least as fast as the baseline's median (a timing of
        at most the ceiling) decide nothing when at least half the window is too. After ``j``
        of them, ``j`` more throughputs are at least that median, so the median of the window
        is (at least ``m // 2 + 1`` of its ``m`` values are), and with it the upper end of its
        interval: the ratio is at least 1 at every recomputation, no revert by the interval
        or the promise; and each call adds to the slack, so the promise that holds for the
        ratio of the last recomputation holds until the next. Replayed call by call (no grant
        is remembered for :meth:`replay`). Before, each of these calls was decided in full
        (20-80 us after an engine call): the first 15 of a cell started from the online
        cache, and of each retry."""
        rates = self.incumbent.rates
        last = self.last
        if self.trial_rates or limit <= 0 or last is None or not 0.0 < self._base_stats[1] <= base:
            return _NO_GRANT
        ratio = last[0]
        if ratio < 1.0 and not (
            ratio > 0.0 and self.slack >= max(n, self.n_most) / base * (1.0 / ratio - 1.0)
        ):
            return _NO_GRANT
        if sum(map(base.__le__, rates)) < (len(rates) + 1) // 2:
            return _NO_GRANT
        ceiling = _longest(n, base)
        return Grant(limit, ceiling, limit == upto and upto <= most and upto < to_look, ceiling)

    def _two_ceilings(
        self, n: int, xs: list[float], limit: int, low_base: float, base: float, ratio: float,
        placed: bool = True,
    ) -> tuple[int, float, float, int, int, Optional[Window]]:
        """``(k, ceiling, hard, spare, worth, window)`` for :meth:`quiet` (``k`` 0: none): a
        grant whose timings stay under ``ceiling`` (a throughput at least the baseline's low
        end) but for at most ``spare`` of them, under ``hard`` (half the incumbent's median
        throughput), and, with a ``window``, only where they fit it.

        Of a full window with ``below(j)`` throughputs below the baseline's low end that are
        still in it after ``j`` more (the oldest go first), at most ``below(j) + min(j, spare)``
        lie below it after ``j`` such calls, a number that grows with ``j`` up to
        ``below(spare) + spare``: with that at most the upper end's rank, the interval's upper
        end stays at least that low end (no revert by the interval); with that at most the
        median's rank, the ratio stays at least ``low_base / base``, else at least ``min(floor,
        xs[0], low_base) / base``. The slack after ``j`` calls is at least its value now plus
        ``j`` steps of the ceiling and ``spare`` steps of the hard one, and must stay at least 0
        and cover a call at that ratio where it is below 1. Of the two, the grant worth more calls: ``worth``, the calls expected
        before ``spare + 1`` timings over the ceiling if they come as often as in the window.

        Where the timings tie with the baseline's, one ceiling at half the median granted only
        the calls over which the order statistics alone stay clear (7 of 15: a decision every
        7 calls); two ceilings grant until the probe and are revoked after ``spare + 1``
        timings over the first.

        ``placed`` (not for a grant over a range of counts): where a call within the ceiling
        costs the slack nothing (``step`` at least 0), ``spare`` is what the slack pays for
        and the ``window`` bounds where those timings come (:func:`fits_window`): the count
        below the low end is then checked as it is, not as it would be if every such timing
        came first. Where the timings tie with the baseline's (2% noise, a quarter of them over
        the ceiling), ``spare`` counted the worst case, 5-7 timings, and a grant ended every
        29 calls instead of at the probe."""
        c = bisect_left(xs, low_base)
        median = xs[_MID]
        if _HI - c < 1 or low_base <= 0.0 or median <= 0.0:
            return 0, 0.0, 0.0, 0, 0, None
        # below[m]: of the window's throughputs, those below the low end that are still in it
        # after m more (the oldest go first); most(r): the most timings over the ceiling such
        # that at most r throughputs lie below it after any of the grant's calls.
        # (quiet calls this with a full window: WINDOW throughputs.)
        below = [*accumulate(map(low_base.__gt__, reversed(self.incumbent.rates)), initial=0)]
        below.reverse()

        def most(rank: int) -> int:
            m = 0  # (rank < WINDOW: below[m + 1] is in range)
            while m < rank and below[m + 1] + m + 1 <= rank:
                m += 1
            return m

        ceiling = _longest(n, low_base)
        hard = n / (0.5 * median)
        floor = n / hard
        if floor >= low_base:  # one ceiling does it (see quiet)
            return 0, 0.0, 0.0, 0, 0, None
        call = n / base
        slack = self.slack
        step = (1.0 + self.alpha) * call - ceiling
        step_hard = min(0.0, (1.0 + self.alpha) * call - hard)
        best: tuple[int, float, float, int, int, Optional[Window]] = (0, 0.0, 0.0, 0, 0, None)
        for rank, kept in ((_HI, False), (_MID, True)):
            spare = most(rank)
            if spare < 1:
                continue
            low = low_base if kept else min(floor, xs[0], low_base)
            rho = min(ratio, low / base)
            # The slack must stay at least 0 after each call, and cover a call at rho.
            cost = 0.0
            if rho < 1.0:
                cost = call * (1.0 / rho - 1.0) if rho > 0.0 else math.inf
            margin = 1e-9 * (abs(slack) + cost + limit * (abs(step) - step_hard) + call)
            room = slack - cost - margin
            if room < 0.0:
                continue
            if step_hard < 0.0:
                spare = min(spare, int(room / -step_hard))
            window, worst = None, spare
            if placed and step >= 0.0 and c:
                # (c: timings cross the ceiling.) As many as the slack pays for, each where it
                # fits (spare counted the worst case: all of them first).
                paid = limit if step_hard >= 0.0 else min(limit, int(room / -step_hard))
                if paid > spare:
                    window, spare = (below, rank), paid
            if spare < 1:
                continue
            room += spare * step_hard
            k = limit if step >= 0.0 else min(limit, spare + int(room / -step))
            worth = min(k, (spare + 1) * len(xs) // c) if c else k
            if window is not None and 2 * c > rank:
                # As many below the low end as now leave little room in the window: count on
                # the worst case's timings alone.
                worth = min(worth, (worst + 1) * len(xs) // c)
            if worth > best[4]:
                best = (k, ceiling, hard, spare, worth, window)
        return best

    def replay(self, arm: _Arm, n: int, timings: Sequence[float], probe: bool = False) -> None:
        """The calls of ``n`` records that ran ``arm`` answered without :meth:`choose` (the quiet
        calls of :meth:`quiet`, or its ``probe``), counted and recorded in turn: the state that
        :meth:`choose` and :meth:`record` leave call by call. An invalid timing (the 0.0 of a
        call that raised) counts the call only.

        In one pass where nothing can be decided: the calls of an incumbent that runs as the
        baseline, and the quiet calls of the last :meth:`quiet` when nothing else happened
        since, up to the first timing beyond its ceilings (then only the last of the interval's
        recomputations, every 4th call, matters: the others revert nothing); the calls from
        that timing on call by call."""
        grant, self._quiet = self._quiet, None
        if n > self.n_most:
            self.n_most = n
        if not probe and arm is self.incumbent and n > 0:
            as_base = arm.same if arm.same_n == n else self._as_base(arm, n)
            spare = 0
            window = None
            if as_base:
                ceiling = hard = math.inf
            elif (
                grant is not None and grant[0] == self.calls and grant[3] == n
                and len(timings) <= grant[1]
            ):
                ceiling, hard, spare, window = grant[2], grant[4], grant[5], grant[6]
            else:
                ceiling = hard = -1.0
            total = self.other_seconds
            if (
                len(timings) >= 8 and min(timings) >= MIN_TIMING and (top := max(timings)) <= hard
                and top <= MAX_TIMING
                and (not spare or top <= ceiling or _over_fit(timings, ceiling, spare, window))
            ):
                # All of them valid (the sum is finite: no inf, no nan) and in bulk, in C.
                total = functools.reduce(operator.add, timings, total)  # in turn
                if total - total == 0.0:
                    self.calls += len(timings)
                    rates = list(map(float(n).__truediv__, timings))  # n / seconds
                    if as_base:
                        self._as_base_rates(arm, n * len(rates), rates)
                    else:
                        self._quiet_rates(arm, n * len(rates), rates, total)
                    return
                total = self.other_seconds
            new: list[float] = []
            crossed: list[int] = []
            done = 0
            for seconds in timings:
                if MIN_TIMING <= seconds <= MAX_TIMING:
                    if seconds > ceiling:
                        if seconds > hard or spare <= 0 or (
                            window is not None and not fits_window(window, crossed, len(new) + 1)
                        ):
                            break  # it may decide: call by call from here
                        spare -= 1
                    new.append(n / seconds)
                    total += seconds  # in turn, as call by call
                done += 1
            # The calls before that timing (all of them when none broke the grant) decided
            # nothing: at once.
            self.calls += done
            if new:
                if as_base:
                    self._as_base_rates(arm, n * len(new), new)
                else:
                    self._quiet_rates(arm, n * len(new), new, total)
            if done == len(timings):
                return
            timings = timings[done:]
        self._in_turn(arm, [(n, seconds) for seconds in timings], probe)

    def replay_counts(
        self, arm: _Arm, bound: int, calls: Sequence[tuple[int, float]], probe: bool = False
    ) -> None:
        """:meth:`replay` of the calls of a grant over a range of record counts
        (:meth:`quiet_range`, computed for ``bound`` records): ``calls`` of ``(records,
        seconds)``, each counted and recorded with its own count (``(0, 0.0)``: a call that
        raised). In one pass up to the first call beyond the grant's ceilings per record, the
        rest call by call."""
        grant, self._quiet = self._quiet, None
        if not calls:
            return
        counts, timings = zip(*calls)
        n0 = max(counts)
        if n0 > self.n_most:
            self.n_most = n0
        if not probe and arm is self.incumbent and n0 > 0:
            # Every count of the grant's range runs as the baseline, or none (_steady_range).
            as_base = arm.same if arm.same_n == n0 else self._as_base(arm, n0)
            spare = 0
            if as_base:
                floor = hard = 0.0
            elif (
                grant is not None and grant[0] == self.calls and grant[3] == -bound
                and len(calls) <= grant[1]
            ):
                floor, hard, spare = bound / grant[2], bound / grant[4], grant[5]
            else:
                floor = hard = math.inf
            total = self.other_seconds
            if (
                len(calls) >= 8 and min(counts) > 0 and min(timings) >= MIN_TIMING
                and max(timings) <= MAX_TIMING
            ):
                rates = list(map(operator.truediv, counts, timings))  # n / seconds
                if min(rates) >= hard and (
                    not spare or sum(map(floor.__gt__, rates)) <= spare
                ):
                    # All of them within the grant (and valid: the sum is finite), in bulk, in C.
                    total = functools.reduce(operator.add, timings, total)  # in turn
                    if total - total == 0.0:
                        self.calls += len(calls)
                        if as_base:
                            self._as_base_rates(arm, sum(counts), rates)
                        else:
                            self._quiet_rates(arm, sum(counts), rates, total)
                        return
                    total = self.other_seconds
            new: list[float] = []
            records = done = 0
            for n, seconds in calls:
                if n > 0 and MIN_TIMING <= seconds <= MAX_TIMING:
                    rate = n / seconds
                    if rate < floor:
                        if rate < hard or spare <= 0:
                            break  # it may decide: call by call from here
                        spare -= 1
                    new.append(rate)
                    records += n
                    total += seconds  # in turn, as call by call
                done += 1
            self.calls += done
            if new:
                if as_base:
                    self._as_base_rates(arm, records, new)
                else:
                    self._quiet_rates(arm, records, new, total)
            calls = calls[done:]
        self._in_turn(arm, calls, probe)

    def _in_turn(self, arm: _Arm, calls: Sequence[tuple[int, float]], probe: bool) -> None:
        """Replayed calls ``(records, seconds)`` of ``arm``, counted and recorded call by call."""
        for n, seconds in calls:
            self.calls += 1
            if probe and arm is self.baseline and self._fast_probe and self.calls >= self.next_probe:
                self._probe()
            self.record(arm, n, seconds)

    def _as_base_rates(self, arm: _Arm, records: int, new: list[float]) -> None:
        """:meth:`record` of the incumbent's calls (``records`` in all) when it runs as the
        baseline: evidence only."""
        arm.rates.extend(new)
        if arm is not self.baseline:
            self.baseline.rates.extend(new)  # the same engine runs as the baseline's
        self._base_median = None
        self.records += records

    def _quiet_rates(self, arm: _Arm, records: int, new: list[float], total: float) -> None:
        """:meth:`record` of the verified incumbent's quiet calls (``records`` in all; see
        :meth:`quiet`)."""
        v = len(new)
        rates = arm.rates
        since = self._since_check
        first = max(0, 3 - since)  # the first of them that recomputes the interval
        if first < v:
            at = first + (v - 1 - first) // 4 * 4  # the last one
            mi, li, hi = median_interval([*rates, *new[: at + 1]][-WINDOW:])
            mb, lb, hb = self._base_stats
            self.last = (mi / mb, li / hb, hi / lb)
            self._since_check = v - 1 - at
        else:
            self._since_check = since + v
        rates.extend(new)
        self.records += records
        self.other_records += records
        self.other_seconds = total

    def _retry_due(self, n: int) -> bool:
        """A reverted incumbent is tried again only when the slack covers one call of it at
        80% of the throughput ratio it had when it was reverted (a call of as many records as
        the most a call of the cell had); else look again later."""
        call = max(n, self.n_most) / self._base_rate()
        short = call * (1.0 / max(1e-3, 0.8 * self.retry_ratio) - 1.0) - self.slack
        if short <= 0.0:
            return True
        self._look_later(n, short, self._base_rate())
        return False

    def _probe(self) -> tuple[_Arm, str]:
        self.probes += 1
        self.next_probe = self.calls + self.probe_every
        return self.baseline, "probe"

    def _trial(self, n: int, sliceable: bool = False) -> Optional[_Arm]:
        """The candidate to try in this call, the one whose worst-case loss is the least, when
        the pessimistic slack covers it; else ``None``. A candidate whose loss on the whole
        call is not covered runs on a slice of it when the call allows (``sliceable``, about
        :data:`TRIAL_SLICE` of its records, at least :data:`MIN_SLICE_RECORDS`; see
        :meth:`_slice_of`): its loss is then the slice's share of a whole call's, so it is
        tried long before the slack would pay for a whole call of it.

        A candidate with more threads than the incumbent is always tried on a slice when the
        call allows, and the slice comes after as many records that warm it up (timed apart,
        :attr:`warm`; on a call too short for a slice, the candidate runs all of it, its first
        task per thread the warm-up, at :data:`WORST_RATIO_COLD`): on a shared VM a second
        thread right after one-thread calls ran 1.0-1.2 times as fast as one thread, and
        1.25-1.5 times once it had run for 2 ms, so a trial among the incumbent's calls measured
        what no call of the candidate would see once it runs call after call. :meth:`choose` has
        reset :attr:`slice` and :attr:`warm`."""
        if not self.candidates:
            return None
        warmed, self._warm_next = self._warm_next, None
        if (
            warmed is not None and warmed in self.candidates
            and n / self._base_rate() * (1.0 / self._worst(warmed) - 1.0) <= self.explore_slack
        ):
            # The call after a whole call that warmed the pool for this candidate: its trial,
            # when the slack left covers it (see :meth:`record`).
            self.trials += 1
            warmed.trials += 1
            self._whole_trial = True
            return warmed
        if self._whole_trial:
            # The call after a whole-call trial runs the incumbent: the next trial's pair.
            self._whole_trial = False
            return None
        call = n / self._base_rate()
        slack = self.explore_slack
        part = int(n * TRIAL_SLICE) if sliceable else 0
        threads = self.incumbent.config.threads
        # Candidates with more threads run slices as long as one another's, up to the quarter:
        # in its own whole chunks, an elite of 1,024-record chunks ran 2,048 records of 10,000
        # heavy-regex dicts where the threads candidate of 5,000-record chunks ran 2,500 (the
        # quarter, its chunk cut short): the cheaper, so tried first, and its low paired
        # ratios (0.6-0.96) made a second thread too dear to try again within 50 calls
        # (learned in 33 runs of 48, 47 now). Up to the quarter: a slice of the quarter for
        # every such candidate took 5,000 records of 20,000 for 4,096-record chunks.
        own: dict[_Arm, int] = {}  # the slices of the candidates with more threads
        if part >= MIN_SLICE_RECORDS:
            own = {a: self._slice_of(a, n, part) for a in self.candidates if a.config.threads > threads}
        longest = min(part, max(own.values(), default=0))
        best: Optional[_Arm] = None
        best_cost, best_part, best_warm = math.inf, 0, 0
        for arm in self.candidates:
            cost = call * (1.0 / self._worst(arm) - 1.0)
            k = warm = 0
            more_threads = arm.config.threads > threads
            if (cost > slack or more_threads) and part >= MIN_SLICE_RECORDS:
                k = own[arm] if more_threads else self._slice_of(arm, n, part)
                if k and more_threads:
                    k = max(k, longest)
                if k:
                    warm = k if more_threads else 0
                    cost = cost * (warm + k) / n
            elif more_threads and sliceable:
                # A call too short for a slice: the candidate runs all of it, its first task per
                # thread a warm-up (timed apart, at the cold pool's worst case), the rest measured.
                warm = self._threads_need(arm, n)
                if 2 * warm <= n:
                    k = n - warm
                    cost = cost * k / n + call * (1.0 / WORST_RATIO_COLD - 1.0) * warm / n
                else:
                    warm = 0
            if not k and self.pool_cold and self._on_pool(arm, n):
                # A whole call on the cold pool: its warm-up (see :meth:`record`), dearer.
                cost = max(cost, call * (1.0 / WORST_RATIO_COLD - 1.0))
            if cost < best_cost:
                best, best_cost, best_part, best_warm = arm, cost, k, warm
        if best is None or best_cost > slack:
            short = best_cost - slack
            if part >= MIN_SLICE_RECORDS:
                scout, scout_short = self._scout(n, part, call, slack)
                if scout is not None:
                    return scout
                short = min(short, scout_short)
            self._look_later(n, short, self._base_high())
            return None
        self.slice, self.warm = best_part, best_warm
        # (A trial that runs the whole call, warm-up and all, is paired as a whole call is.)
        self._whole_trial = best_part == 0 or best_part + best_warm >= n
        if best_part == 0 and best.config.threads > threads:
            # Between one-thread calls the pool's threads fall asleep, and a whole-call trial
            # among them paid their waking: on 400 records of medium-mixed JSON (185 us a
            # call on one thread) two threads ran 201-222 us there, 140 us call after call
            # (where the call before warmed them), and were dropped though 1.3 times as fast
            # once chosen. This call warms the pool (counted in the slack only) and the next
            # one is the trial, paid when it comes; where the slack left does not cover it,
            # this call is the trial instead (see :meth:`record`).
            self._warm_arm = self._warm_next = best
            return best
        self.trials += 1
        best.trials += 1
        return best

    def _scout(self, n: int, part: int, call: float, slack: float) -> tuple[Optional[_Arm], float]:
        """A *scout* of a number of threads no candidate has run with yet, when no trial is
        affordable: a candidate with more threads than the incumbent runs on the largest slice
        (after as many records that warm it up) whose worst-case loss the pessimistic slack
        covers, less than a trial's, and long enough for its threads (see :meth:`_threads_need`;
        of the candidates, the one that needs the fewest records). Its throughput sets the worst
        case of every candidate with those threads (see :meth:`_worst`) and counts for nothing
        else: a short slice pays the pool's start more than a trial's, so it judges no
        candidate; it only bounds the loss of the first trial, which then comes many calls
        sooner than at :attr:`worst_threads`. With none: ``None`` and how much more slack
        would afford one (``inf``: none could)."""
        threads = self.incumbent.config.threads
        best: Optional[_Arm] = None
        need = part
        for arm in self.candidates:
            t = arm.config.threads
            if t > threads and not arm.rates and t not in self._lowest:
                k = max(MIN_SLICE_RECORDS, self._threads_need(arm, n))
                if k < need:
                    best, need = arm, k
        if best is None:
            return None, math.inf
        loss = call * (1.0 / self._worst(best) - 1.0)  # of a whole call at the worst ratio
        k = min(part - 1, int(slack / loss * n / 2.0)) if loss > 0.0 else part - 1
        if k < need:
            return None, (need * 2.0 * loss / n - slack if loss > 0.0 else math.inf)
        self.scouts += 1
        self.slice = self.warm = k
        return _Arm(best.config, SCOUT), 0.0

    def _threads_need(self, arm: _Arm, n: int) -> int:
        """The fewest records of a slice on which ``arm`` runs as many threads as on a whole call
        of ``n`` records: a chunk of them splits into that many micro-batches."""
        c = clamp(arm.config, n, self.cores)
        return min(c.batch_size, c.threads * c.micro_batch_size)

    def _slice_of(self, arm: _Arm, n: int, part: int) -> int:
        """Records of a slice of a call of ``n`` records that tries ``arm`` as it would run a
        whole call (0: none): whole chunks of it, as many as ``part`` holds (the chunks a
        size candidate changes are then measured as they are); else, for a ``threads``
        candidate, ``part`` itself (a chunk cut short still shows what its threads do), or more
        when ``part`` is too short to give each of its threads a micro-batch, as long as the
        slice (and, with more threads than the incumbent, as many records of warm-up) leaves
        the incumbent some of the call."""
        b = min(arm.config.batch_size, n)
        k = part // b * b
        if k >= MIN_SLICE_RECORDS:
            return k
        threads = self.incumbent.config.threads
        if arm.config.threads == threads:
            return 0
        k = max(part, self._threads_need(arm, n))
        return k if k * (2 if arm.config.threads > threads else 1) < n else 0

    def spend(self, arm: _Arm, n: int, seconds: float) -> None:
        """A part of a call that ran ``arm`` and measures nothing (a trial's warm-up): its
        records and seconds count in the slack as :meth:`record` counts them; no throughput."""
        self._quiet = None
        if n <= 0 or not MIN_TIMING <= seconds <= MAX_TIMING or not self.baseline.rates:
            return
        self.records += n
        if not self._as_base(arm, n):
            self.other_records += n
            self.other_seconds += seconds
            if self._on_pool(arm, n):
                self.pool_cold = False  # a sliced trial's warm-up ran on the pool

    def spend_call(self, arm: _Arm, n: int, seconds: float) -> None:
        """:meth:`spend` for a whole call of ``arm`` that measures nothing (it ran beside the
        online cache's write, see :meth:`Live.finish`); a call that was to warm the pool for a
        trial warmed it all the same."""
        if arm is self._warm_arm:
            self._warm_arm = None
        self.spend(arm, n, seconds)

    def _on_pool(self, arm: _Arm, n: int) -> bool:
        """Whether ``arm`` runs a call of ``n`` records on more than one thread."""
        return effective(arm.config, n, self.cores)[2] > 1

    def _worst(self, arm: _Arm) -> float:
        """The lowest throughput ratio to the baseline still plausible for ``arm``: its own
        lowest less 20% once it has run; else, for a ``threads`` change, the lowest that any
        candidate with its ``threads`` has shown less 20% (the same data, the same number of
        threads: a first candidate that ran near the baseline with two threads makes the next
        one's first trial cost less than half what :data:`WORST_RATIO_THREADS` would), or
        :attr:`worst_threads` (:data:`WORST_RATIO_THREADS`, :data:`WORST_RATIO_THREADS_DICTS`
        for dicts); :data:`WORST_RATIO_SIZES` for a size change. A reverted incumbent tried
        again as a candidate (see :meth:`_revert`) has its lowest throughput before the revert
        (its ``floor``) in place of those two assumptions."""
        if arm.rates:
            return max(1e-3, 0.8 * min(arm.rates) / self._base_rate())
        if arm.config.threads != self.incumbent.config.threads:
            lowest = self._lowest.get(arm.config.threads)
            if lowest is not None:
                return max(1e-3, 0.8 * lowest / self._base_rate())
            if arm.floor > 0.0:
                return max(1e-3, 0.8 * arm.floor / self._base_rate())
            return self.worst_threads
        if arm.floor > 0.0:
            return max(1e-3, 0.8 * arm.floor / self._base_rate())
        return WORST_RATIO_SIZES

    def _as_base(self, arm: _Arm, n: int) -> bool:
        """Whether ``arm`` runs the engine as the baseline on ``n`` records (memoized per arm)."""
        if arm.same_n != n:
            arm.same_n = n
            arm.same = arm is self.baseline or effective(arm.config, n, self.cores) == effective(
                DEFAULT_CONFIGURATION, n, self.cores
            )
        return arm.same

    def _base_rate(self) -> float:
        """The baseline's median throughput (memoized until its next throughput)."""
        if self._base_median is None:
            self._base_stats = median_interval(self.baseline.rates)
            self._base_median = self._base_stats[0]
        return self._base_median

    def _base_high(self) -> float:
        """The upper end of the interval of the baseline's median throughput."""
        self._base_rate()
        return self._base_stats[2]

    # -- recording --------------------------------------------------------------------------

    def record(self, arm: _Arm, n: int, seconds: float) -> None:
        """Adds the timing of a call of ``n`` records run with ``arm``; decides."""
        self._quiet = None
        if n > self.n_most:
            self.n_most = n
        if (
            arm is self.incumbent and n == self._fast_n and self._fast_probe
            and self._base_median is not None and self.last is not None
            and len(arm.rates) >= MIN_SAMPLES and n > 0 and MIN_TIMING <= seconds <= MAX_TIMING
        ):
            # The steady state (a verified incumbent that is not the baseline, evidence on
            # both sides): what the general path below does then, in fewer steps.
            arm.rates.append(n / seconds)
            self.records += n
            self.other_records += n
            self.other_seconds += seconds
            if self._since_check >= 3:
                self._verify(n, False)  # the interval is due (_verify counts this call)
                return
            self._since_check += 1
            ratio = self.last[0]
            if self.trial_rates:
                ratio = self._promise_ratio(ratio)
            if ratio < 1.0:
                if self.slack < self.n_most / self._base_median * (1.0 / ratio - 1.0):
                    self._revert(self._spent_ratio(ratio))  # the promise (as in _verify)
            elif n / seconds < self._base_median and self.slack < 0.0:
                self._revert(self._spent_ratio(ratio))
            return
        if n <= 0 or not MIN_TIMING <= seconds <= MAX_TIMING:
            return
        if self.cold_start:
            # The validator's first call that takes part ran its schema, often the process's
            # engine, for the first time: on 10,000 small dicts 469 us against 253-307 for
            # the next calls of either configuration. Alone against one probe it reverted a
            # choice 2% faster than the default, which came back 46 calls later. It counts
            # nothing (no throughput yet to count it against in the slack).
            self.cold_start = False
            self.warmups += 1
            if self._on_pool(arm, n):
                self.pool_cold = False
            return
        base = self.baseline
        as_base = arm.same if arm.same_n == n else self._as_base(arm, n)
        if arm is self._warm_arm:
            # The whole call that warmed the pool before a candidate's trial (see _trial).
            self._warm_arm = None
            if self.baseline.rates and (not self.pool_cold or not self._on_pool(arm, n)):
                rate = n / seconds
                self.spend(arm, n, seconds)
                if (
                    self._warm_next is None
                    or n / self._base_rate() * (1.0 / self._worst(arm) - 1.0) <= self.explore_slack
                ):
                    self.warmups += 1
                    return
                # The slack left does not cover the trial after it: this call is the trial
                # (else a candidate too slow for the slack left after each warm-up would be
                # warmed up again and again, never measured, never dropped).
                self._warm_next = None
                self.trials += 1
                arm.trials += 1
                arm.rates.append(rate)
                self._candidate_rate(arm, rate)
                return
        if (
            self.pool_cold and not as_base
            and (arm is self.incumbent or arm in self.candidates)
            and self._on_pool(arm, n)
        ):
            # The cell's first call on the pool: the pool's threads have not run the schema
            # yet (each keeps its own clones of the schema's patterns, whose match caches grow
            # on first use), while the caller's thread may have. Measured on the held-out
            # long-strings NDJSON cell: the incumbent's first such call 0.38-0.52 times the
            # default's speed, the next ones 0.95-1.56; a candidate's first whole-call trial
            # on 400 records of medium-mixed JSON 0.37. It says nothing of the configuration
            # (any later pool call finds the threads warm), so it counts in the slack as a
            # sliced trial's warm-up does, not as a throughput: alone against one probe it
            # reverted a choice 1.4 times as fast, and dropped a candidate 1.3 times as fast.
            # (Once per cell: the threads keep their clones.)
            self.pool_cold = False
            self.warmups += 1
            self.spend(arm, n, seconds)
            if arm is not self.incumbent and self.baseline.rates:
                # The worst case of its warm calls (see _worst): at least 80% of this cold one
                # (a warm call is faster), else the assumed one; slower than a cold start
                # explains (WORST_RATIO_COLD), the assumed one shrinks alike, so its next
                # trials wait for the slack. (Not 80% of a cold call alone: on the short cell
                # above, 0.37 cold, 1.2-1.3 warm, it made the first measured trial wait
                # another 117 calls.)
                ratio = n / seconds / self._base_rate()
                if ratio < WORST_RATIO_COLD:
                    worst = self.worst_threads * ratio / WORST_RATIO_COLD
                else:
                    worst = max(self.worst_threads, 0.8 * ratio)
                t = arm.config.threads
                lowest = worst * self._base_rate() / 0.8  # _worst takes 80% of it
                self._lowest[t] = min(lowest, self._lowest.get(t, math.inf))
            return
        if arm.cold and self._whole_trial and n < MIN_RECORDS and arm in self.candidates:
            # A candidate's first trial on a short call (a whole call, after the pool's warm-up
            # if any) is one more warm-up: on the held-out 400-record JSON cell of
            # ``eval_live.py``, a second thread's first trial ran 0.51-0.94 times the default's
            # speed and its next ones mostly 1.1-1.6, the sizes candidate's 0.87-0.97 then
            # mostly 0.96-1.0 (6 runs; 11 first trials of 12 below the same candidate's later
            # median): judged on its first three throughputs, the second thread was dropped 5
            # times in 6 (promoted 3 times in 6 with this; on 2,000 records of NDJSON,
            # promoted 1 time in 3, then 3 in 3). (On calls of 10,000 records, whose
            # candidates run on slices after a warm-up of their own, the same rule only made
            # exploration longer: 0.88-0.89 of the oracle after 50 calls, against 0.95-0.99.)
            # It counts in the slack; where 80% of it is below the worst case assumed for the
            # candidate, it sets that worst case as a throughput would (its ``floor``).
            arm.cold = False
            self.warmups += 1
            self.spend(arm, n, seconds)
            self._fast_n = -1
            if self.baseline.rates:
                ratio = n / seconds / self._base_rate()
                if 0.8 * ratio < self._worst(arm):
                    arm.floor = n / seconds
            return
        rate = n / seconds
        arm.rates.append(rate)
        if as_base and (arm is base or arm is self.incumbent):
            self._base_median = None
            if arm is not base:
                base.rates.append(rate)  # the same engine run as the baseline's
        # (Not a candidate's, though it runs as the baseline: on a slice of one chunk that
        # the baseline runs alike, its throughput joined the baseline's window, which is the
        # incumbent's while the cell is reverted, and was paired with itself, then with the
        # candidate's next trial: ratios of exactly 1, which dropped a choice 1.1 times as
        # fast on whole calls.)
        if not base.rates:
            return
        self.records += n
        if not as_base:
            self.other_records += n
            self.other_seconds += seconds
        if arm is self.incumbent or arm is base:
            self._verify(n, arm is base)
        elif arm in self.candidates:
            self._candidate_rate(arm, rate)
        elif arm.kind == SCOUT:
            t = arm.config.threads
            self._lowest[t] = min(rate, self._lowest.get(t, rate))
            self._fast_n = -1
        # (Otherwise a concurrent call ran an arm that has since stopped being tried: its
        # timing counts in the slack and decides nothing.)

    def _candidate_rate(self, arm: _Arm, rate: float) -> None:
        """A candidate's throughput (already in ``arm.rates``, and in no other window: see
        :meth:`record`), paired with the incumbent's latest (the baseline's while the incumbent
        has none): the rest of the same call for a trial on a slice (Live.finish_sliced records
        it first), the call just before for a whole call (no two whole-call trials run in a
        row; with a warm-up, the call before it): a machine whose speed drifts (a shared host)
        moves both sides of a pair alike."""
        ref = self.incumbent.rates or self.baseline.rates
        if ref:
            arm.pairs.append(rate / ref[-1])
        t = arm.config.threads
        self._lowest[t] = min(rate, self._lowest.get(t, rate))
        if len(arm.rates) >= MIN_SAMPLES or self.slack < 0.0:
            self._settle(arm)

    def _verify(self, n: int, probed: bool) -> None:
        inc, base = self.incumbent, self.baseline
        if inc.same if inc.same_n == n else self._as_base(inc, n):
            return
        ni, nb = len(inc.rates), len(base.rates)
        if ni == 0 or nb == 0:
            return
        # The interval is recomputed after a probe, while evidence is short, and every 4th
        # incumbent call; the promise below is checked at every call with the latest ratio.
        since = self._since_check = self._since_check + 1
        last = self.last
        fresh = probed or ni <= MIN_SAMPLES or since >= 4 or last is None
        if fresh:
            # ``ratio_interval(inc.rates, base.rates)``, with the baseline's side memoized.
            self._since_check = 0
            mi, li, hi = median_interval(inc.rates)
            if self._base_median is None:
                self._base_rate()
            mb, lb, hb = self._base_stats
            last = self.last = (mi / mb, li / hb, hi / lb)
        assert last is not None
        ratio, low, high = last
        promise = self._promise_ratio(ratio) if self.trial_rates and not probed else ratio
        if promise < 1.0:
            # The promise: the slack must cover the next call of the incumbent at its ratio
            # (of as many records as the most a call of the cell had).
            call = max(n, self.n_most) / self._base_rate()
            if self.slack < call * (1.0 / promise - 1.0):
                self._revert(self._spent_ratio(promise))
                return
        elif inc.rates[-1] < self._base_rate() and self.slack < 0.0:
            # ... and where the median is ahead, the slack spent by a last call behind: the
            # median lags a sudden slowdown (1.2 times the default's speed for 20 calls, then
            # 0.5: 10 calls ran past a spent slack, 1.22 times the default's time). (Not on a
            # spent slack alone: a choice still ahead, whose calls beside a write of the cache
            # spent it, wins it back sooner than the baseline would.)
            self._revert(self._spent_ratio(promise))
            return
        if not fresh or ni < MIN_SAMPLES or nb < MIN_SAMPLES:
            return
        if high < 1.0:
            self._revert()
            return
        if probed and low > 1.0 + PROMOTE_MARGIN and self.written_reverted and ni >= WINDOW and (
            self.incumbent_source == "online"
        ):
            # The choice the cache holds as reverted, retried, is ahead by the margin of a
            # promotion beyond noise over a full window: learned again.
            self.changed, self.written_reverted = True, False
        if (
            probed and low < 1.0 - self.alpha and ni >= WINDOW and not self.candidates
            and abs(ratio - 1.0) < TIE_MARGIN and high - 1.0 <= 1.0 - low
        ):
            # Tied with the default, and the noise too wide to settle it: its verification
            # decides every few calls in full for a difference within the margin, so the
            # default runs instead (tried again with back-off, as any revert). Not where the
            # interval reaches further above 1 than below (the median may be off), nor while
            # candidates wait: a revert there held back their trials.
            self.ties += 1
            self._revert()
        elif probed and (low >= 1.0 - self.alpha or self._probes_paid(n, ratio, low)):
            # Not behind by more than the allowance, beyond noise (ahead, or tied with the
            # default), or not behind in the median with the slack to pay for its low end:
            # the next probe comes twice as late.
            old, self.probe_every = self.probe_every, min(self.probe_every * 2, MAX_PROBE_EVERY)
            self.next_probe += self.probe_every - old

    def _promise_ratio(self, ratio: float) -> float:
        """The ratio the promise takes for a promoted incumbent's call while its window still
        holds the throughputs of its trials (:attr:`trial_rates`, the first of it): ``ratio``,
        or the ratio of the median of its whole calls since the promotion when lower (once
        there are :data:`MIN_SAMPLES` of them). Trials often ran on slices of calls, whose
        throughputs need not be those of whole calls: on heavy-regex dicts (10,000 a call, a
        machine whose second core was slow for a while) a second thread promoted at 1.12
        [1.04, 1.19] ran 0.85 of the default's speed on whole calls while the window's median,
        holding the slices, went 1.12, 1.02, 1.00; the slack fell to 1.2 calls below zero
        before that median reverted it. Once the window is full (a quiet grant needs a full
        window, so quiet calls still decide as the full path) the rule ends."""
        rates = self.incumbent.rates
        k, m = self.trial_rates, len(rates)
        if m >= WINDOW:
            self.trial_rates = 0
            return ratio
        if m - k < MIN_SAMPLES:
            return ratio
        whole = median_interval(list(rates)[k:])[0] / self._base_rate()
        return whole if whole < ratio else ratio

    def _probes_paid(self, n: int, ratio: float, low: float) -> bool:
        """The incumbent's median is not behind the baseline's, and the slack covers the calls
        until a probe twice as late even if each ran at the low end of the ratio's interval.
        Where calls are noisy the interval's low end stays under ``1 - alpha`` for good: a
        pool's calls on a shared machine have a slow tail (on the held-out long-strings NDJSON
        cell of ``eval_live.py``, ratio 1.5-1.8 with 4 of 15 calls near 0.8), and a probe
        every 4 calls, each at the default's speed, cost that cell 10-15% of its throughput;
        a choice tied with the default (10,000 small dicts a call, low end 0.89-0.97) decided
        every 2-3 calls in full, probes and their verdicts, 20-30 us after each 240 us call.
        (Where the median is behind, the promise reverts the choice before the slack is spent,
        whatever the probes' spacing.)"""
        if ratio < 1.0:
            return False
        call = n / self._base_rate()
        return self.slack >= 2 * self.probe_every * call * max(0.0, 1.0 / max(low, 1e-3) - 1.0)

    def _spent_ratio(self, ratio: float) -> float:
        """The ratio a choice reverted by the promise is retried at (see :meth:`_retry_due`):
        ``ratio``, or its last call's when lower. Its median may still be ahead while its last
        calls spent the slack (a choice 1.2 times the default's speed for 20 calls, then 0.5):
        retried at the median's, it ran again as soon as the slack covered a call at 0.96, and
        lost a whole call."""
        rates = self.incumbent.rates
        if rates:
            last = rates[-1] / self._base_rate()
            if last < ratio:
                return last
        return ratio

    def _revert(self, ratio: Optional[float] = None) -> None:
        """Runs the baseline instead of the incumbent, which is retried later (see
        :meth:`_retry_due`) at ``ratio``, by default the median's."""
        self._fast_n = -1
        self.reverts += 1
        if ratio is None:
            ratio = self.last[0] if self.last is not None else 1.0
        self.retry_ratio = ratio
        arm = self.retry = self.incumbent
        self.retry_source = self.incumbent_source
        self.incumbent, self.incumbent_source = self.baseline, "reverted"
        self.trial_rates = 0
        self.retry_at = self.calls + self._backoff()
        if (
            self.retry_source == "online" and len(arm.rates) >= MIN_SAMPLES
            and self.last is not None and self.last[0] < 1.0 - TIE_MARGIN
        ):
            # What was learned (here or by an earlier process) is reverted, its median behind
            # the baseline's by more than a tie: the cache says so, and the next process starts
            # where this one stands (it started from the choice, and lost to it again, in each
            # process). A choice tied with the default stays cached as learned: started
            # reverted, a cell runs the default, which may be a little slower than the choice.
            self.changed = self.written_reverted = True
        self._fill()
        if self.refines and len(arm.rates) < MIN_SAMPLES:
            # Reverted on thin evidence (a first call, often cold, against one probe): in a
            # refining cell it is tried again as a candidate, on slices paired with the rest
            # of their calls, as soon as the slack covers one, not after the back-off (a
            # second thread's first call alone sent it back for ~30 calls). Its lowest
            # throughput bounds its own worst case only (a scout of its threads may still
            # run: a cold call says little of the others); its back-off retry waits
            # for the verdict of its trials (see :meth:`_settle`).
            arm.floor = min(arm.rates, default=0.0)
            arm.kind = arm.kind or "retry"  # what explain() calls it among the candidates
            arm.rates.clear()
            arm.pairs.clear()
            self.candidates.insert(0, arm)
            self.retry_at = _NEVER

    def _backoff(self) -> int:
        """Calls before a reverted incumbent's retry: 16, doubled at each revert, at most
        :data:`MAX_BACKOFF`; after a tie, at least :data:`FIRST_TIE_BACKOFF`, doubled at
        each tie."""
        calls = _doubled(FIRST_BACKOFF, self.reverts)
        if self.ties:
            calls = max(calls, _doubled(FIRST_TIE_BACKOFF, self.ties))
        return calls

    def _come_back_later(self, arm: _Arm) -> None:
        """Schedules a candidate dropped on its trials to be tried again (see
        :data:`FIRST_RETURN`)."""
        arm.drops += 1
        arm.back_at = self.calls + _doubled(FIRST_RETURN, arm.drops)
        self._returning.append(arm)
        self.next_return = min(self.next_return, arm.back_at)

    def _bring_back(self) -> None:
        """Makes the dropped candidates that are due candidates again, their evidence cleared
        but their lowest throughput kept as their worst case (their ``floor``, see
        :meth:`_worst`); one that is now the incumbent's configuration is not, and one for
        which there is no room (:data:`MAX_CANDIDATES`) comes :data:`FIRST_RETURN` calls
        later."""
        for arm in [a for a in self._returning if a.back_at <= self.calls]:
            if len(self.candidates) >= MAX_CANDIDATES:
                # No room: later (due and waiting, it would end every steady state at once).
                arm.back_at = self.calls + FIRST_RETURN
                continue
            self._returning.remove(arm)
            arm.back_at = 0
            if arm in self.dropped:
                self.dropped.remove(arm)
            if arm.config[:3] == self.incumbent.config[:3]:
                continue
            arm.floor = min(arm.rates, default=arm.floor)
            arm.rates.clear()
            arm.pairs.clear()
            self.candidates.append(arm)
            self.refines = True
        self.next_return = min((a.back_at for a in self._returning), default=_NEVER)

    def drop_untried(self, arms: Sequence[_Arm], why: str) -> None:
        """Drops candidates that no trial could promote (``why`` goes with them to
        :meth:`evidence`)."""
        for arm in arms:
            arm.note = why
            self.candidates.remove(arm)
            self.dropped.append(arm)
        if arms:
            self._fast_n = -1  # the steady state's next look may be due to them

    def _settle(self, arm: _Arm) -> None:
        """A candidate with enough throughputs (or a spent slack) is promoted, dropped, or,
        while the evidence is undecided, tried again (at most :data:`MAX_TRIAL_SAMPLES`, or
        :data:`MAX_AHEAD_TRIAL_SAMPLES` while its paired ratios look well ahead)."""
        self._fast_n = -1
        if len(arm.rates) >= MIN_SAMPLES:
            # Promoted only beyond noise (a median ahead by chance would be cached and start
            # every later process slower): by the sign test of the paired ratios when every
            # throughput has its pair, else the lower end of the interval of the two medians'.
            samples, most = len(arm.rates), MAX_TRIAL_SAMPLES
            if len(arm.pairs) >= samples:  # each throughput paired (the window keeps WINDOW)
                pairs = arm.pairs
                samples = len(pairs)
                ratio = median_interval(pairs)[0]
                # Ahead by more than PROMOTE_MARGIN too: of two configurations that tie, one
                # is ahead in 4 pairs of 4 once in 16 (and more often where the machine's
                # speed drifts), and a tie promoted is an incumbent that costs slack to revert.
                ahead = (
                    samples >= PAIRED_MIN_SAMPLES
                    and sign_test(pairs) <= SIGN_LEVEL
                    and ratio > 1.0 + PROMOTE_MARGIN
                )
                # Pairs well ahead, however few, are tried on (see MAX_AHEAD_TRIAL_SAMPLES):
                # a median below 1 of three pairs, one of them 1.65 times the incumbent's
                # speed, is more likely a slow tail's two draws than a slower candidate's.
                if ratio > 1.0 + AHEAD_MARGIN:
                    most = MAX_AHEAD_TRIAL_SAMPLES
                elif max(pairs) > 1.0 + AHEAD_MARGIN:
                    ratio = max(ratio, 1.0 + AHEAD_MARGIN)
            else:
                ratio, low, _ = ratio_interval(arm.rates, self.incumbent.rates or self.baseline.rates)
                ahead = low > 1.0
            undecided = ratio > 1.0 + PROMOTE_MARGIN and not ahead
            if undecided and samples < most and (self.slack >= 0.0 or ratio > 1.0 + AHEAD_MARGIN):
                return  # tried again (one well ahead once the slack pays for it again)
        else:
            # The slack is spent before MIN_SAMPLES (see _candidate_rate): one whose pairs so far
            # are well ahead waits for the slack to pay its next trial (a second thread on 400
            # records of JSON, 1.35 and 1.16 times the incumbent's speed after warm-ups that
            # cost more than assumed, was dropped, and the cell learned nothing); others go.
            ahead = False
            if arm.pairs and median_interval(arm.pairs)[0] > 1.0 + AHEAD_MARGIN:
                return
        self.candidates.remove(arm)
        if not ahead:
            self.dropped.append(arm)
            if arm is not self.retry:
                self._come_back_later(arm)
        if arm is self.retry and not ahead:
            self.retry_at = self.calls + self._backoff()  # not ahead: the usual retry
        if ahead:
            before = self.incumbent.config.threads
            self.promotions += 1
            self.incumbent = arm
            self.incumbent_source = "online"
            self.trial_rates = len(arm.rates)
            self.retry = None
            self.changed = True
            self.written_reverted = False
            self.next_probe = self.calls + 1
            self.probe_every = FIRST_PROBE_EVERY
            if arm.config.threads > before:
                self._fewer_threads_later(arm.config.threads)

    def _fewer_threads_later(self, threads: int) -> None:
        """A promotion added threads (the incumbent now runs ``threads``): the candidates with
        fewer go, to come back later (:meth:`_come_back_later`). Their trials would pit the old
        number of threads against the one just found faster: in ``eval_live.py`` every cell of
        heavy-regex dicts that learned its second thread went on to try a one-thread sizes
        variant and its reverted one-thread choice, three trials each at 0.75-1.0 of the new
        incumbent's speed (a held-out cell spent 8 of its 10 final calls on them). (Moving
        the sizes variants to the new threads instead cost more: their whole-call trials, dicts
        in chunks of 16,384-20,000 records on two threads, ran at 0.78-1.0 of the incumbent,
        and the worst single run of the unknown-hardware part fell from 0.89-0.92 of the
        default along the way to 0.76-0.78.)"""
        kept: list[_Arm] = []
        for arm in self.candidates:
            if arm.config.threads < threads:
                if not arm.rates:
                    arm.note = f"fewer threads than the incumbent's {threads}"
                self.dropped.append(arm)
                self._come_back_later(arm)
            else:
                kept.append(arm)
        self.candidates = kept

    # -- reporting --------------------------------------------------------------------------

    def release(self) -> None:
        """Drops what refers back to this cell once :class:`Live` lets it go (evicted): its
        leases (each holds the cell; a range lease's fast answer holds the lease), its range
        tickets and its candidates still to be made (a closure over it). Those cycles (and the
        routes', see :meth:`Live._reset_routes`) kept every evicted cell, its arms and its
        timings until a full collection: over 200,000 calls of ever new profiles, memory went
        up and down between 3 and 19 MB where the cells alive held 2.8 MB. A call still
        running on it finishes as before; its timing is replayed nowhere."""
        self._later = None
        for lease in [*self.leases, *self.range_leases.values()]:
            if lease.ranged:
                lease.drop()
        self.leases = []
        self.range_leases.clear()
        del self.range_tickets[:]
        del self.granted[:]

    def evidence(self) -> dict[str, Any]:
        self._fill()
        ratio = None
        if self.last is not None:
            ratio = {"median": self.last[0], "low": self.last[1], "high": self.last[2]}
        return {
            "state": "reverted" if self.reverted else "verifying",
            "incumbent": {**self.incumbent.as_dict(), "source": self.incumbent_source},
            "baseline": self.baseline.as_dict(),
            "selected_source": self.selected_source,
            "calls": self.calls,
            "probes": self.probes,
            "trials": self.trials,
            "scouts": self.scouts,
            "warmups": self.warmups,
            "reverts": self.reverts,
            "ties": self.ties,
            "promotions": self.promotions,
            "retry_at": self.retry_at if self.reverted and self.retry_at < _NEVER else None,
            "cached": self.cached,
            "probe_every": self.probe_every,
            "throughput_ratio": ratio,
            "level": LEVEL,
            "alpha": self.alpha,
            "slack_seconds": self.slack,
            "explore_slack_seconds": self.explore_slack,
            "candidates": [a.as_dict() for a in self.candidates],
            "dropped": [a.as_dict() for a in self.dropped],
            "threads_worst_ratio": {"ratio": self.worst_threads, "from": self.worst_threads_from},
        }


# -- candidates -------------------------------------------------------------------------------


def candidates(
    selected: BatchConfig,
    rep: Sequence[Any],
    n: int,
    cores: int,
    elites: Sequence[BatchConfig] = (),
    *,
    with_selected: bool = False,
) -> list[tuple[BatchConfig, str]]:
    """The small candidate set of online refinement for a cell, without the selector's answer
    and the default configuration (each configuration once, as it runs on ``n`` records);
    ``with_selected``: the selector's answer first (a cell that starts from the default, see
    :func:`starts_from_default`), unless it runs as the default does."""
    out: list[tuple[BatchConfig, str]] = []
    seen = {effective(selected, n, cores), effective(DEFAULT_CONFIGURATION, n, cores)}
    if with_selected and len(seen) == 2:  # (one: the answer runs as the default does)
        out.append((selected, selected.source))
    # Dicts on one thread are read in place: a chunk only adds its own work, so chunks
    # smaller than both the selector's answer's and the default's never ran faster (on 5,000
    # long-strings dicts 1250/32/1 ran 0.999 times 5000/128/1's speed, on 10,000 medium-mixed
    # ones 2500/128/1 0.994 times 10000/512/1's, 150 calls each; 60,000 small dicts in chunks
    # of 2,048 0.984 times one chunk's): such a candidate's trials could only cost. (Before
    # a call's result lists were made once, at the end, its trials on one chunk, which skipped
    # the copy every later chunk paid, read 1.003-1.006 where whole calls ran 0.983-0.985, and
    # promoted it: 0.97 of the default's speed in eval_live.py's held-out part.)
    in_place = rep[4] == "dicts"
    least = min(e[0] for e in seen) if in_place else 0

    def add(b: float, m: float, t: float, kind: str) -> None:
        b_ = max(1, min(int(b), 1 << 20))
        c = BatchConfig(b_, max(1, min(int(m), b_)), max(1, min(int(t), cores)), "online-trial")
        e = effective(c, n, cores)
        if e[2] == 1 and e[0] < least:
            return
        if e not in seen and len(out) < MAX_CANDIDATES:
            seen.add(e)
            out.append((c, kind))

    h = heuristic_config(rep, cores)
    add(h.batch_size, h.micro_batch_size, h.threads, "heuristic")
    b, m, t = selected[:3]
    if cores > 1:
        if t > 1:
            add(b, m, 1, "threads")
        else:
            # Tasks small enough that every thread gets two of a chunk (a short call's one
            # task would run on one thread: no candidate at all); on a call shorter than
            # MIN_RECORDS, of at most SHORT_TASK_RECORDS records.
            task = min(b, n) // (2 * cores)
            if n < MIN_RECORDS:
                task = min(task, SHORT_TASK_RECORDS)
            add(b, min(m, max(MIN_MICRO_BATCH_SIZE, task)), cores, "threads")
    for e in elites:
        add(e.batch_size, e.micro_batch_size, e.threads, "elite")
    add(b * 4, m * 4, t, "sizes")
    add(b / 4, m / 4, t, "sizes")
    if t > 1:
        add(b, m * 4, t, "sizes")
        add(b, m / 4, t, "sizes")
    return out


#: The elites of an archive's cells by input kind, with their points (see :func:`_elite_points`).
_POINTS: dict[tuple[int, str], tuple[Any, list[tuple[tuple[float, ...], BatchConfig]]]] = {}


def _elite_points(archive: Any, kind: str) -> list[tuple[tuple[float, ...], BatchConfig]]:
    """The elites of ``archive``'s cells of input kind ``kind`` with their points in its grid,
    in cell order: made once per archive and kind (every new cell's first call computed them
    all), shared by the validators that share the archive."""
    key = (id(archive), kind)
    found = _POINTS.get(key)
    if found is None or found[0] is not archive:
        from . import archive as _archive

        points = [
            (_archive.point(archive.grid, _archive.as_profile(c.profile)),
             BatchConfig(c.elite.batch_size, c.elite.micro_batch_size, c.elite.threads, "elite"))
            for c in archive.cells
            if c.profile.input_kind == kind and not isinstance(c.elite, str)
        ]  # fmt: skip
        if len(_POINTS) >= 64:
            _POINTS.clear()
        found = _POINTS[key] = (archive, points)
    return found[1]


# -- the cache --------------------------------------------------------------------------------


def fingerprint(here: Optional[_hardware.HardwareClass] = None) -> str:
    """The hardware fingerprint the cache is keyed by: the hardware class and the CPU model."""
    h = here or _hardware.current()
    model = _hardware.cpu_info().get("model", "")
    return "|".join(
        (h.machine, h.cpu_vendor, h.cpu_family, model, f"{h.usable_cores} cores",
         f"Python {h.python}", "GIL" if h.gil_enabled else "no GIL", f"satya-adapt {h.satya_adapt}")
    )


def cache_path() -> str:
    """Where the online cache lives (see the module docstring)."""
    folder = os.environ.get(CACHE_DIR_ENV_VAR)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "satya-adapt")
    return os.path.join(folder, CACHE_NAME)


#: Bounds on a cached cell's numbers (its profile's quantized values, its count's power of
#: two): a huge int there raised `OverflowError` where `archive merge` takes it as a profile.
_MAX_CELL_INT = 1 << 31
_MAX_BUCKET = 64


def _cell_key(entry: Any) -> tuple[Any, ...]:
    fc, qa, cc, qo, kind, bucket = entry
    if (
        isinstance(fc, bool) or not isinstance(fc, int)
        or not isinstance(qa, int) or not isinstance(qo, int)
        or not isinstance(cc, (int, float)) or kind not in ("dicts", "json", "ndjson")
        or not (bucket is None or (isinstance(bucket, int) and not isinstance(bucket, bool)))
    ):
        raise ValueError("a malformed cell")
    if (
        not all(0 <= x < _MAX_CELL_INT for x in (fc, qa, qo))
        or not 0.0 <= cc < _MAX_CELL_INT  # (not NaN either)
        or not (bucket is None or 0 <= bucket <= _MAX_BUCKET)
    ):
        raise ValueError("a cell out of range")
    return (fc, qa, float(cc), qo, kind, bucket)


def _entry_key(e: dict[str, Any]) -> tuple[Any, ...]:
    """What tells a cache entry from another: the hardware, the cell, and whether its calls
    kept errors (absent: they did)."""
    return (e["hardware"], *e["cell"], e.get("errors", True))


def _cache_entry(e: Any) -> dict[str, Any]:
    """An entry of a cache file, checked (``ValueError`` or ``TypeError`` saying what is
    wrong), its cell and configuration as lists."""
    if not isinstance(e, dict) or not isinstance(e.get("hardware"), str):
        raise ValueError("an entry without `hardware`")
    cell = _cell_key(e.get("cell"))
    config = e.get("config")
    if (
        not isinstance(config, list) or len(config) != 3
        or not all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 1 << 32
                   for x in config)
    ):
        raise ValueError("an entry whose `config` is not three positive ints")
    if not isinstance(e.get("errors", True), bool):
        raise ValueError("an entry whose `errors` is not true or false")
    if not isinstance(e.get("reverted", False), bool):
        raise ValueError("an entry whose `reverted` is not true or false")
    for name in ("reverts", "ties"):
        k = e.get(name, 0)
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= 1 << 32:
            raise ValueError(f"an entry whose `{name}` is not a count")
    ratio = e.get("retry_ratio", 1.0)
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0.0 < ratio < math.inf:
        raise ValueError("an entry whose `retry_ratio` is not a positive number")
    return {**e, "cell": list(cell), "config": config}


def _cache_bytes(path: str) -> Optional[bytes]:
    """The bytes of the cache file ``path`` (at most one past :data:`_MAX_CACHE_BYTES`: more
    is corrupt), ``None`` when it does not exist; ``OSError`` when it cannot be read (a FIFO
    is not waited for: it blocked ``open`` for ever)."""
    from .archive import open_regular

    try:
        with open_regular(path) as f:
            data: bytes = f.read(_MAX_CACHE_BYTES + 1)
            return data
    except FileNotFoundError:
        return None


def read_cache(path: str) -> list[dict[str, Any]]:
    """The entries of an online cache file. Raises :class:`ArchiveError` naming what is wrong
    (a missing file is no error: no entries)."""
    try:
        data = _cache_bytes(path)
    except OSError as exc:
        raise ArchiveError(f"online cache {path}: cannot read it: {exc.strerror or exc}") from None
    if data is None:
        return []
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
            raise ValueError(f"not a `{CACHE_FORMAT}` file")
        if doc.get("format_version") != 1:
            raise ValueError(f"unknown `format_version` {str(doc.get('format_version'))[:20]}")
        entries = doc.get("entries")
        if not isinstance(entries, list):
            raise ValueError("`entries` must be a list")
        return [_cache_entry(e) for e in entries[:MAX_CACHE_ENTRIES]]
    except (ValueError, TypeError, RecursionError) as exc:
        raise ArchiveError(f"online cache {path} is corrupt: {str(exc)[:200]}") from None


def _entries_to_keep(path: str) -> list[dict[str, Any]]:
    """What a write of the cache file ``path`` keeps of it: its valid entries (an entry this
    version cannot read is dropped, the others stay). Raises :class:`ArchiveError` where the
    file must not be overwritten: one it cannot read, one that is not an online cache (a
    user's file of that name), one of another ``format_version`` (another version of
    satya-adapt's). Before, a write replaced any of them with its own entries alone."""
    try:
        data = _cache_bytes(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read it ({exc.strerror or exc}), so it is left as it is") from None
    if data is None or not data.strip():
        return []  # (missing; or empty, what a power cut may leave)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
        raise ArchiveError(
            f"it is not a `{CACHE_FORMAT}` file, so it is left as it is (remove it, or set"
            f" {CACHE_DIR_ENV_VAR} to another folder)"
        )
    if doc.get("format_version") != 1:
        raise ArchiveError(
            f"another version of satya-adapt wrote it (`format_version`"
            f" {str(doc.get('format_version'))[:20]}), so it is left as it is"
        )
    entries = doc.get("entries")
    kept = []
    for e in entries[:MAX_CACHE_ENTRIES] if isinstance(entries, list) else ():
        try:
            kept.append(_cache_entry(e))
        except (ValueError, TypeError, RecursionError):
            pass
    return kept


def write_cache(path: str, entries: Sequence[dict[str, Any]]) -> None:
    """Writes ``entries`` (merged over what the file holds, by hardware and cell; the newest
    last, the oldest dropped past :data:`MAX_CACHE_ENTRIES`) atomically, not fsynced: a cache,
    which a power cut may leave empty (then ignored, with a warning, and learned again);
    fsynced, the write slowed 1-5 of the next 10 calls of 2,000 tiny NDJSON records on two
    threads (2026-12-05, Intel VM), 1-3 without (0-1 without a write). Processes that write
    the same file take turns (:func:`_turn`): the read, merge and rename of two at once kept
    only the last one's entries (4 processes learning 20 cells each: 40-51 of 80 left)."""
    from .archive import atomic_write_bytes

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _turn(path):
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for e in _entries_to_keep(path):
            merged[_entry_key(e)] = e
        for e in entries:
            key = _entry_key(e)
            merged.pop(key, None)  # re-learned: the newest, not the first evicted
            merged[key] = e
        keep = list(merged.values())[-MAX_CACHE_ENTRIES:]
        doc = {"format": CACHE_FORMAT, "format_version": 1, "entries": keep}
        atomic_write_bytes(path, json.dumps(doc, indent=1).encode(), durable=False)


#: How long a write waits for another process's turn at the same cache file before it goes
#: on without it (a process stopped in its turn must not stop every other one's writes).
TURN_WAIT = 2.0


@contextlib.contextmanager
def _turn(path: str) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``path + ".lock"`` while the block runs,
    waited for at most :data:`TURN_WAIT` seconds; none where the platform has no ``flock``
    or the lock file cannot be opened (the write then goes on alone, as before)."""
    try:
        import fcntl
    except ImportError:  # (not POSIX)
        yield
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path + ".lock", flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + TURN_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break  # on without it
                time.sleep(0.005)
            except OSError:
                break  # (a file system without locks)
        yield
    finally:
        os.close(fd)  # (releases the lock)


class _Cache:
    """The online cache of this process: read once; what a cell learns is written by a thread
    of its own (a write, merged over the file's entries and fsynced, took 0.8-3 ms: in the
    call that learned it, a dozen calls' worth of 10,000 small dicts; 0.4-0.8 ms since it is
    not fsynced) and, at exit, by :meth:`flush`. The calls that run beside a write are told
    apart by :attr:`busy_until`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: Optional[str] = None
        self.entries: dict[tuple[Any, ...], CacheAnswer] = {}
        self.warned: set[str] = set()
        self.unsaid: list[str] = []  # what is wrong with the file, not yet warned (see load)
        self.pending: list[tuple[str, dict[str, Any]]] = []  # (path, entry) not yet written
        #: The writer thread's failures, warned on the next caller's thread (located at the
        #: user's line, not at ``threading.py``): its next :meth:`put`, or :meth:`flush`.
        self.failures: list[str] = []
        self._writing = threading.Lock()  # one write at a time, the thread's or flush's
        self._wake = threading.Event()
        self._writer: Optional[threading.Thread] = None
        #: While the writer thread writes, ``inf``; after, when the disturbance ends (the
        #: write's end and :data:`WRITE_SETTLE`), for :data:`WRITE_HOLD`; else 0.0. Set by the
        #: writer thread alone, read by :meth:`Live.finish` (a call that began before it was
        #: beside a write).
        self.busy_until = 0.0
        atexit.register(self.flush)  # what the thread has not written yet (nothing: no work)
        self._flush_in_processes()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """In a forked child: fresh locks (the parent's writer may have held one at the fork,
        and the child's flush at exit would wait for it for ever), no thread, nothing pending
        (the parent writes it)."""
        self.lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._writer = None
        self.pending = []
        self.failures = []
        self.busy_until = 0.0
        self._flush_in_processes()

    def _flush_in_processes(self) -> None:
        """A `multiprocessing` child (fork or forkserver) ends with `os._exit`: no `atexit`, so
        what it learned last was never written (10 workers learning a cell each: none cached).
        Its exit runs `multiprocessing.util.Finalize`rs, which it clears as it starts, then
        runs its after-fork hooks: the flush is registered from there (made here, in the parent
        or as the child unpickles its target; none where `multiprocessing` is not in use), or
        at once in a child that imports satya-adapt after its start."""
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.register_after_fork(self, _Cache._flush_at_process_exit)
            process = sys.modules.get("multiprocessing.process")
            if process is not None and process.parent_process() is not None:
                # Made in a `multiprocessing` child that imported satya-adapt itself (after its
                # start, so no after-fork hook runs): its entries were lost at its exit.
                self._flush_at_process_exit()

    def _flush_at_process_exit(self) -> None:
        import multiprocessing.util

        multiprocessing.util.Finalize(self, self.flush, exitpriority=0)

    def load(self, path: str, hw: str, say: bool = True) -> None:
        """Reads the cache file ``path`` (once: another path is read anew). ``say=False`` (a
        validator being made) keeps what is wrong with the file for the next load that says
        it (its first cell's, at the user's call)."""
        with self.lock:
            if self.path != path:
                self.path = path
                self.entries = {}
                self.unsaid = []
                try:
                    found = read_cache(path)
                except ArchiveError as exc:
                    found = []
                    self.unsaid.append(f"{exc}; ignored")
                for e in found:
                    if e["hardware"] == hw:
                        b, m, t = e["config"]
                        key = (tuple(e["cell"]), e.get("errors", True))
                        config = BatchConfig(b, m, t, "online")
                        self.entries[key] = (
                            Reverted(config, e.get("reverts", 1), e.get("ties", 0),
                                     float(e.get("retry_ratio", 1.0)))
                            if e.get("reverted", False) else config
                        )
            if not say or not self.unsaid:
                return
            unsaid, self.unsaid = self.unsaid, []
        for message in unsaid:
            self._warn(message)

    def get(self, key: tuple[Any, ...]) -> Optional[CacheAnswer]:
        return self.entries.get(key)

    def put(self, key: tuple[Any, ...], entry: dict[str, Any], config: CacheAnswer) -> None:
        """Keeps ``config`` for the cell ``key`` and has ``entry`` written soon (not here)."""
        self._report()
        with self.lock:
            self.entries[key] = config
            if self.path is None:
                return
            self.pending.append((self.path, entry))
            writer = self._writer
            if writer is None or not writer.is_alive():  # the first put, or a forked child
                writer = self._writer = threading.Thread(
                    target=self._run, name="satya-adapt-online-cache", daemon=True
                )
                try:
                    writer.start()
                except RuntimeError:  # no new thread (the interpreter is shutting down)
                    writer = None
        if writer is None:
            self.flush()  # here, then
        else:
            self._wake.set()

    def flush(self) -> None:
        """Writes the entries not yet written (each file once, merged over what it holds)."""
        with self._writing:
            with self.lock:
                pending, self.pending = self.pending, []
            by_path: dict[str, list[dict[str, Any]]] = {}
            for path, entry in pending:
                by_path.setdefault(path, []).append(entry)
            for path, entries in by_path.items():
                try:
                    write_cache(path, entries)
                except (ArchiveError, OSError) as exc:
                    self.failures.append(f"online cache {path}: cannot write it: {str(exc)[:200]}")
        if threading.current_thread() is not self._writer:
            self._report()

    def _report(self) -> None:
        while self.failures:
            try:
                message = self.failures.pop(0)
            except IndexError:  # another thread reported it
                return
            self._warn(message)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.busy_until = math.inf
            try:
                self.flush()
            finally:
                self.busy_until = time.perf_counter() + WRITE_SETTLE
            if not self._wake.wait(WRITE_HOLD):  # (a put meanwhile: it writes at once)
                self.busy_until = 0.0

    def _warn(self, message: str) -> None:
        if message in self.warned:
            return
        self.warned.add(message)
        warn_at_user(message)  # never raises, even where warnings are errors


_CACHE = _Cache()


class _NoWrites:
    """The cache's writer as a :class:`Live` without ``real_timings`` sees it: never writing
    (injected timings, as tests give, are evidence whenever they come)."""

    busy_until = 0.0


_NO_WRITES = _NoWrites()


# -- the validator's live state ------------------------------------------------------------------


class _Lease:
    """The answers of one arm for one route: ``slow`` for a call its cell decided, ``fast`` (an
    equal copy, told apart by identity) for a quiet call (see :meth:`Cell.quiet`), whose timing
    waits in ``timings`` until the cell's next decision replays it; a timing above ``ceiling``
    revokes the route's ``tickets`` (the next call is decided), unless it is at most ``hard``
    and one of the ``spare`` such timings is left."""

    __slots__ = (
        "route", "cell", "arm", "n", "source", "slow", "fast", "timings", "ceiling", "hard", "spare",
        "window", "crossed", "skipped", "tickets", "listed",
    )
    ranged = False

    def __init__(self, route: _Route, arm: _Arm, n: int, answer: BatchConfig) -> None:
        self.route = route
        self.cell = route.cell
        self.arm = arm
        self.n = n
        self.source = answer.source
        self.slow = answer
        self.fast = BatchConfig(*answer)
        self.timings: list[float] = []
        self.ceiling = self.hard = 0.0
        #: One item per timing over ``ceiling`` (and at most ``hard``) still allowed (popped:
        #: atomic, as the tickets).
        self.spare: list[None] = []
        #: The grant's :data:`Window` (each such timing must fit it), the positions among
        #: the grant's throughputs of those that did, and one item per timing of the grant
        #: that is none (a call that raised: it adds no throughput to the window).
        self.window: Optional[Window] = None
        self.crossed: list[int] = []
        self.skipped: list[None] = []
        self.tickets = route.tickets
        #: In its cell's ``leases`` (its timings are replayed there); see :func:`_list_leases`.
        self.listed = False


class _Route:
    """Where a profile's calls go: its cell, its leases by arm, the tickets of the quiet
    calls granted to it (fast answers, one per call), and ``n``, the records of its last call
    (a JSON or NDJSON profile's ``n`` is estimated from a sample; its calls report the count:
    the cell decides, and grants quiet calls, for that many)."""

    __slots__ = ("cell", "leases", "tickets", "n", "range_answers")

    def __init__(self, cell: Cell, n: int) -> None:
        self.cell = cell
        self.n = n
        self.leases: dict[_Arm, _Lease] = {}
        self.tickets: list[BatchConfig] = []
        #: Its answers to the quiet calls of range leases: lease -> (count, answer).
        self.range_answers: dict[Any, tuple[int, QuietAnswer]] = {}


class QuietAnswer(BatchConfig):
    """The answer of a quiet call of a grant over a range of record counts (see
    :meth:`Cell.quiet_range`): its configuration fitted to the call, and the lease its timing
    goes to (told apart by its type: one such answer serves every call of its lease whose
    records are at least its ``batch_size``, the others get one made for them)."""

    lease: Any
    #: The route of a call whose count is estimated from bytes (it keeps the count reported).
    route: Any

    def __new__(cls, config: Sequence[Any], source: str, lease: Any, route: Any = None) -> QuietAnswer:
        self = super().__new__(cls, config[0], config[1], config[2], source)
        self.lease = lease
        self.route = route
        return self


class _RangeLease:
    """The lease of ``arm`` for the quiet calls of a grant over the record counts ``lo`` to
    ``hi`` (:meth:`Cell.quiet_range`, computed for ``bound`` records): each call's timing, with
    its count, waits in ``timings`` until the cell's next decision replays it
    (:meth:`Cell.replay_counts`); one whose throughput is below ``floor`` revokes the cell's
    range tickets, unless it is at least ``hard`` and one of the ``spare`` is left."""

    __slots__ = (
        "cell", "arm", "source", "fast", "full", "lo", "hi", "bound", "floor", "hard", "spare",
        "timings", "tickets", "listed",
    )
    ranged = True
    window = None  # (its timings over the floor are counted, not placed: see Cell.quiet_range)

    def __init__(self, cell: Cell, arm: _Arm, source: str) -> None:
        self.cell = cell
        self.arm = arm
        self.source = source
        # The answer of a call of at least ``batch_size`` records (clamping changes nothing).
        self.fast: Optional[QuietAnswer] = QuietAnswer(
            clamp(arm.config, None, cell.cores), source, self
        )
        self.full = arm.config.batch_size
        self.lo = self.hi = self.bound = 0
        self.floor = self.hard = 0.0
        self.spare: list[None] = []
        self.timings: list[tuple[int, float]] = []
        self.tickets = cell.range_tickets
        self.listed = False  # (as _Lease's)

    def drop(self) -> None:
        """Its cell lets it go: its fast answer, which refers back to it, goes (a call still
        holding one finishes as before; later answers are made for their calls)."""
        self.fast = None

    def answer(self, n: int, route: Optional[_Route] = None) -> QuietAnswer:
        """The answer of a call clamped to ``n`` records (as a lease of its own profile's
        would be); with the call's ``route``, one of its own (made once: a JSON profile's
        calls come back with the same count, and making one cost 1-3 us a call)."""
        if route is None:
            fast = self.fast  # (read once: None after its cell let it go, see drop)
            if n >= self.full and fast is not None:
                return fast
            return QuietAnswer(clamp(self.arm.config, n, self.cell.cores), self.source, self)
        made = route.range_answers.get(self)
        if made is None or made[0] != n:
            answer = QuietAnswer(clamp(self.arm.config, n, self.cell.cores), self.source, self, route)
            if len(route.range_answers) >= 4:  # (leases of arms gone)
                route.range_answers.clear()
            made = route.range_answers[self] = (n, answer)
        return made[1]


#: Every :class:`Live` of the process, for :func:`_after_fork_in_child`.
_LIVES: weakref.WeakSet[Live] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for live in list(_LIVES):
        live._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def sharing_worst(ratio: float) -> float:
    """What a second thread gives on dicts at worst (its throughput over one thread's), where
    ``pool_cost`` measured ``ratio``: checking in place over taking apart and checking, ``c / (a
    + c)`` a record. The pool's thread then shares the caller's core, taking turns with it. The
    caller hands a task over only when the pool has none queued, and only where ``a < c``
    (``ratio`` above 1/2). So with fair turns it hands over a share ``c / (2c - a)`` of the tasks,
    and each of those costs ``a`` more than in place: ``1 - (a / c) / 2`` of one thread's speed,
    ``(3 ratio - 1) / (2 ratio)``. Never below ``ratio``, what taking every record apart gave
    (the engine until 2026-12-08; what such a cell assumed until then). Measured on that
    engine's successor, one core for both (``taskset``, 20 alternations on the four dict
    profiles of ``eval_live.py``): 0.97-1.00, where this gives 0.83, 0.46, 0.25, 0.75 (heavy-regex,
    medium-mixed, tiny-plain, long-strings; ``ratio`` 0.75, 0.46, 0.25, 0.67)."""
    if ratio <= 0.5:
        return ratio
    return (3.0 * ratio - 1.0) / (2.0 * ratio)


def _hopeless(candidates: Sequence[_Arm], ratio: float) -> list[_Arm]:
    """The candidates whose threads cannot pay where a second thread gives ``ratio`` of one
    (``pool_cost``'s first time over its second, see :data:`POOL_HOPELESS`)."""
    return [a for a in candidates if a.config.threads > 1 and a.config.threads * ratio < POOL_HOPELESS]


def _over_ceiling(lease: Any, within_hard: bool) -> None:
    """A quiet call's timing beyond its lease's ceiling (the last of its ``timings``): it
    spends one of the ``spare`` when ``within_hard``, one is left and it fits the grant's
    window (if any), else it revokes the rest of the grant (it may decide: the next call is
    decided)."""
    spare = lease.spare
    if within_hard and spare:
        window = lease.window
        if window is None or fits_window(
            window, lease.crossed, len(lease.timings) - len(lease.skipped)
        ):
            try:
                spare.pop()
                return
            except IndexError:  # another thread took the last one
                pass
    del lease.tickets[:]


def _list_leases(cell: Cell, granted: list[Any]) -> None:
    """``cell.leases`` for a new grant (under the lock): the leases still holding timings,
    then ``granted`` (replayed in the order they run). A lease let go is marked unlisted
    before its timings are looked at, so that a timing appended meanwhile is either seen
    here or lists it again (:meth:`Live._list_again`)."""
    if cell.leases == granted:
        return
    kept = []
    for lease in cell.leases:
        if lease in granted:
            continue
        lease.listed = False
        if lease.timings:
            lease.listed = True
            kept.append(lease)
    for lease in granted:
        lease.listed = True
    cell.leases = kept + granted


_get_ident = threading.get_ident
_perf_counter = time.perf_counter
#: :func:`satya_adapt.selector.cell_key`, once imported.
_CELL_KEY: Optional[Callable[[Sequence[Any]], tuple[Any, ...]]] = None
#: The most calls one grant of quiet calls covers (bounds the timings waiting to be replayed).
MAX_QUIET = 256
MAX_ROUTES = 4096


class Live:
    """Live verification (and online refinement when ``refine``) for one validator.

    ``selector``: the :class:`~satya_adapt.selector.Selector` whose answers are verified.
    ``alpha``: the share of the baseline's throughput that may be lost (default 2%).
    ``cache``: a cache file path, ``None`` for :func:`cache_path`, ``False`` for no cache.
    ``first_call_warms``: the first timing of the first cell made is a warm-up, not evidence
    (the validator's first call that takes part: see :meth:`Cell.record`).
    ``pool_cost``: ``pool_cost(records)``, the seconds of checking a sample of a list of dicts
    in place and taken apart for the pool (the binding's ``pool_cost``, ``None`` when it could
    not tell); a cell of dicts takes its worst case for a second thread from it
    (:data:`POOL_COST_MARGIN`), measured on the records of the first call given to
    :meth:`start` with them once the cell may try a candidate (not the call that makes it).
    ``start_pool``: builds the engine's thread pool when the process has none (the binding's
    ``_start_pool``); called before the first answer that runs on more than one thread is
    given, so that the pool's first build (0.24-0.32 ms on 2 cores) lands outside that call's
    timing (in a fresh process it had made a first trial of two threads on 400 records of JSON
    cost more than the cell's slack, and the candidate was dropped at its first trial).
    ``real_timings``: each timing is the engine's own, given as its call ends (the validator's;
    not injected): a decided call that ran beside a write of the online cache is then no
    evidence (see :meth:`finish`).

    A call goes ``config = start(profile, selected)`` (``selected``: the selector's answer,
    or its ``select``, asked only for a profile with no route yet), then
    ``finish(config, n, seconds)`` (or ``cancel(config)`` when it raised). The steady state
    costs no lock: a cell's decision (under the lock) grants its route the next
    :meth:`Cell.quiet` calls as tickets, each a ``list.pop`` of the same fast answer, and each
    of their timings is one ``list.append``; the cell's next decision first replays them in
    turn (:meth:`Cell.replay`), which leaves the state that deciding every call would have
    left. Concurrent calls stay apart because
    each carries its own answer object from ``start`` to ``finish`` (no per-thread state); a
    call still running when its cell decides is counted when its timing comes, and any
    timing is recorded for the arm that ran it.
    """

    def __init__(
        self,
        selector: Any,
        *,
        alpha: float = ALPHA,
        refine: bool = True,
        cache: Any = None,
        cores: Optional[int] = None,
        first_call_warms: bool = False,
        pool_cost: Optional[Callable[[Any], Optional[tuple[float, float]]]] = None,
        start_pool: Optional[Callable[[], None]] = None,
        real_timings: bool = False,
        verdicts_only: bool = False,
    ) -> None:
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"`alpha` must be in [0, 1), got {alpha!r}")
        self.alpha = alpha
        self.refine = refine
        self._selector = selector
        self._cores = cores or _hardware.usable_cores()
        self._lock = threading.Lock()
        self._cells: dict[tuple[Any, ...], Cell] = {}
        self._cache_arg = cache
        self._hw: Optional[str] = None
        # The steady state costs one lookup by the profile itself: its route (emptied whenever
        # a cell goes, bounded).
        self._routes: dict[Any, _Route] = {}
        # Every answer given, by id, to its lease (which holds it, so no id is reused).
        self._issued: dict[int, _Lease] = {}
        # choose/record: the answer of each thread's call.
        self._pending: dict[int, BatchConfig] = {}
        #: The first cell's first timing is a warm-up (see Cell.record) until a cell is made.
        self._first_call_warms = first_call_warms
        self._pool_cost = pool_cost
        self._start_pool = start_pool
        # ``real_timings``: each timing is the engine's, given as its call ends (the validator),
        # so a call that ran beside the online cache's write can be told apart (see finish).
        self._writes: Any = _CACHE if real_timings else _NO_WRITES
        # The calls it verifies keep errors (or, `verdicts_only`, not): their cells learn
        # apart in the online cache (an `errors=False` call runs faster on failing records,
        # and the two wrote over each other's entry).
        self._errors = not verdicts_only
        _LIVES.add(self)

    def _forked(self) -> None:
        """In a forked child: a lock that another thread of the parent held at the fork is
        never released here (that thread is not in the child), so the child's first decision
        waited for ever; and what it guarded may be half changed. Then a fresh lock, and the
        cells start anew (from the online cache, as in a new process)."""
        if self._lock.locked():
            self._lock = threading.Lock()
            self._cells.clear()
            self._routes.clear()
            self._issued.clear()
            self._pending.clear()

    def prepare(self) -> None:
        """Reads the online cache now, if refinement may use it (a validator asks when it is
        made); what is wrong with it is said by the first cell made, as before. Never raises:
        a failure is met again there."""
        if self.refine and self._cache_arg is not False:
            try:
                self._cache(say=False)
            except Exception:
                pass

    def start(
        self,
        profile: Sequence[Any],
        selected: Selected,
        sliceable: bool = False,
        records: Any = None,
    ) -> BatchConfig:
        """The configuration of a call of ``profile`` whose selector answer is ``selected``
        (both clamped to the call); give it back to :meth:`finish` or :meth:`cancel`.
        ``selected`` may be the selector's ``select`` instead, asked only for a profile with no
        route yet: a route's calls never read the selector's answer (its cell has its own), and
        asking cost a lookup by the profile on every call, 5-6 us where the record count
        changes from call to call.
        ``sliceable``: the call's records can be cut in two (not a generator); the answer may then be a
        :class:`SlicedTrial`, which goes back to :meth:`finish_sliced` instead. ``records``:
        the call's list of dicts, for ``pool_cost`` when its cell is due to measure it."""
        route = self._routes.get(profile)
        cell: Optional[Cell]
        if route is not None:
            tickets = route.tickets
            if tickets:
                try:
                    return tickets.pop()  # a quiet call (atomic: no lock)
                except IndexError:  # another thread took the last one
                    pass
            cell, n = route.cell, route.n
        else:
            cell, n = self._cells.get(self._key(profile)), profile[5]
        # No ticket of its own: a ticket of its cell's grant, else the call is decided. A grant
        # over a range of counts (see _range_ticket), or the grant of another profile of the
        # cell for calls of the same count (profiles whose records differ a little, one cell:
        # each profile's calls otherwise revoked the others' grant, and most calls were decided
        # in full). Written out here, not in a method: a call of one costs about 0.2 us once an
        # engine call has left Python's objects out of the CPU's caches.
        if cell is not None:
            if cell.range_tickets:
                ranged = self._range_ticket(profile, route, cell, n)
                if ranged is not None:
                    return ranged
            elif n == cell.granted_n and cell.granted and not (len(profile) > 6 and profile[6]):
                try:
                    return cell.granted.pop()  # answers as this profile's own grant would
                except IndexError:  # another thread took the last one
                    pass
        return self._decide(profile, selected, route, sliceable, records)

    def finish_sliced(
        self,
        trial: SlicedTrial,
        n: int,
        seconds: float,
        rest_n: int,
        rest_seconds: float,
        warm_n: int = 0,
        warm_seconds: float = 0.0,
    ) -> None:
        """The timings of a call answered with ``trial``: after its first ``warm_n`` records
        (``trial.warm``; they warmed the candidate up in ``warm_seconds``, counted in the slack
        only), ``n`` records (the ``trial.records`` asked for, fewer when the call had no more)
        ran the candidate in ``seconds``, the other ``rest_n`` the incumbent in
        ``rest_seconds`` (recorded first: the candidate's throughput is paired with it)."""
        busy = self._writes.busy_until
        if busy and _perf_counter() - (warm_seconds + seconds + rest_seconds) <= busy:
            lease, rest = trial.lease, trial.rest_lease
            cell = lease.cell
            with self._lock:
                self._drain(cell)
                for arm, k, t in ((lease.arm, warm_n, warm_seconds), (rest.arm, rest_n, rest_seconds),
                                  (lease.arm, n, seconds)):
                    cell.spend(arm, k, t)
                learned = self._learned(cell)
            self._write(cell, learned)
            return
        if warm_n > 0:
            lease = trial.lease
            with self._lock:
                self._drain(lease.cell)
                lease.cell.spend(lease.arm, warm_n, warm_seconds)
        if rest_n > 0:
            self._apply(trial.rest_lease, trial.rest, rest_n, rest_seconds)
        self._apply(trial.lease, trial.lease.slow, n, seconds)

    def finish(self, config: BatchConfig, n: int, seconds: float) -> None:
        """The timing of a call answered with ``config`` by :meth:`start` (``n`` records).

        With ``real_timings``, a call its cell decided whose engine ran beside a write of the
        online cache (or just after: :data:`WRITE_SETTLE`) counts, and its seconds count in the
        slack, but its throughput is no evidence: the write slowed it, whatever its
        configuration. (A write follows a promotion, whose next calls are decided. A quiet call
        of a grant of one count is told apart only when its timing is over the grant's
        ceiling, and its grant then ends; within it, it stays as cheap as it was. A quiet call
        of a grant over a range of counts is not told apart, nor a probe, one of the
        baseline's 15.)"""
        lease = self._issued.get(id(config))
        if lease is None:
            if type(config) is QuietAnswer:  # a quiet call of a grant over a range of counts
                ranged, route = config.lease, config.route
                if route is not None and n != route.n:
                    self._recount_ranged(route, n)
                if ranged.lo <= n <= ranged.hi:
                    ranged.timings.append((n, seconds))  # replayed at the cell's next decision
                    if seconds > 0.0 and n / seconds < ranged.floor:
                        _over_ceiling(ranged, n / seconds >= ranged.hard)
                    if not ranged.listed:
                        self._list_again(ranged)
                else:
                    self._replay_ranged(ranged, n, seconds)
            return
        if config is lease.fast and n == lease.n:
            if MIN_TIMING <= seconds <= lease.ceiling:
                lease.timings.append(seconds)  # replayed at the cell's next decision
            elif seconds > lease.ceiling:
                busy = self._writes.busy_until
                if busy and _perf_counter() - seconds <= busy:
                    # Beside a write, over its ceiling: counted, no evidence (as a decided
                    # call, below), and the grant ends (its ceiling bounded what each call
                    # spends). A window still filling was granted calls since 2026-12-07; a
                    # few slowed timings would weigh in it, as in a new incumbent's.
                    del lease.tickets[:]
                    self._spent(lease, config, n, seconds)
                    return
                lease.timings.append(seconds)  # replayed at the cell's next decision
                _over_ceiling(lease, seconds <= lease.hard)
            else:  # no timing (negative, NaN): the call counts, without a throughput
                if lease.window is not None:
                    lease.skipped.append(None)  # (first: a timing placed meanwhile comes earlier)
                lease.timings.append(seconds)
            if not lease.listed:  # (its call ran across a grant of another of its cell's routes)
                self._list_again(lease)
            return
        busy = self._writes.busy_until
        if busy and _perf_counter() - seconds <= busy:
            self._spent(lease, config, n, seconds)
            return
        if n != lease.n:
            self._recount(lease.route, n)
        self._apply(lease, config, n, seconds)

    def cancel(self, config: BatchConfig) -> None:
        """The call answered with ``config`` raised: it counts as a call, without a timing."""
        lease = self._issued.get(id(config))
        if lease is not None and config is lease.fast:
            if lease.window is not None:
                lease.skipped.append(None)  # (see finish)
            lease.timings.append(0.0)  # no timing (Cell.record ignores it)
        elif type(config) is QuietAnswer:
            config.lease.timings.append((0, 0.0))

    def choose(self, profile: Sequence[Any], selected: BatchConfig) -> BatchConfig:
        """:meth:`start`, remembering the answer for :meth:`record` in this thread."""
        config = self.start(profile, selected)
        pending = self._pending
        if len(pending) > 1024:
            pending.clear()
        pending[_get_ident()] = config
        return config

    def record(self, n: int, seconds: float) -> None:
        """:meth:`finish` for this thread's call chosen by :meth:`choose`."""
        config = self._pending.pop(_get_ident(), None)
        if config is not None:
            self.finish(config, n, seconds)

    def forget(self) -> None:
        """:meth:`cancel` for this thread's call chosen by :meth:`choose` (the call raised)."""
        config = self._pending.pop(_get_ident(), None)
        if config is not None:
            self.cancel(config)

    def explain(self, profile: Sequence[Any]) -> Optional[dict[str, Any]]:
        """The live evidence of ``profile``'s cell, ``None`` when it has none."""
        if not takes_part(profile):
            return None
        key = self._key(profile)
        with self._lock:
            cell = self._cells.get(key)
            if cell is None:
                return None
            self._drain(cell)
            learned = self._learned(cell)
            out = {"cell": list(key), **cell.evidence()}
        self._write(cell, learned)
        return out

    # -- internals ------------------------------------------------------------------------------

    def _decide(
        self,
        profile: Sequence[Any],
        selected: Selected,
        route: Optional[_Route] = None,
        sliceable: bool = False,
        records: Any = None,
    ) -> BatchConfig:
        """:meth:`start` when the route has no ticket: the cell decides (under the lock)."""
        n = profile[5]
        if route is None and not isinstance(selected, BatchConfig):
            selected = selected(profile)  # (outside the lock: a first selection loads the archive)
        lock = self._lock
        lock.acquire()  # not `with`: cheaper, and this runs every few calls
        try:
            if route is None:
                route = self._routes.get(profile)
                if route is None:  # (so it was at the top, which asked the selector)
                    route = self._route(profile, cast(BatchConfig, selected), n, records)
            cell, n = route.cell, route.n
            self._drain(cell)
            quiet, ceiling, probe, hard, spare, window = cell.quiet(n, MAX_QUIET)
            if quiet or probe:
                # This call and the next ones need no decision: tickets, and a lock no more.
                tickets = cell.granted = route.tickets
                cell.granted_n = n
                granted = []
                # This call's answer is taken before the others go where other threads pop
                # them without the lock (put there first, a short grant could be emptied by
                # them before this call took its own: IndexError).
                new: list[BatchConfig] = []
                if probe:
                    lease = self._lease(route, cell.baseline, "probe", profile)
                    lease.ceiling = lease.hard = math.inf
                    granted.append(lease)
                    new.append(lease.fast)  # the last call granted (tickets pop from the end)
                if quiet:
                    lease = self._lease(route, cell.incumbent, cell.incumbent_source, profile)
                    lease.ceiling, lease.hard = ceiling, hard
                    lease.window = window
                    if window is not None:
                        lease.crossed, lease.skipped = [], []
                    lease.spare[:] = [None] * spare
                    granted.insert(0, lease)
                    new.extend([lease.fast] * quiet)
                _list_leases(cell, granted)
                answer = new.pop()
                tickets.extend(new)
            elif (ranged := self._range_grant(cell, profile, n)) is not None:
                answer = ranged
            else:
                # (may_try first: it makes the candidates, and so tells pool_cost_due.)
                if records is not None and cell.may_try() and cell.pool_cost_due:
                    self._measure_worst_threads(cell, records)
                arm, source = cell.choose(n, sliceable)
                lease = self._lease(route, arm, source, profile)
                answer = lease.slow
                if cell.slice:
                    rest = self._lease(route, cell.incumbent, cell.incumbent_source, profile)
                    answer = SlicedTrial(lease, cell.slice, rest, cell.warm)
            if not cell.changed:
                return answer
            learned = self._learned(cell)
        finally:
            lock.release()
        self._write(cell, learned)
        return answer

    def _recount(self, route: _Route, n: int) -> None:
        """``route``'s calls have ``n`` records (not as estimated, or no longer): its next
        decisions, leases and quiet calls are for that many. Without this, every call of a
        JSON or NDJSON route whose estimate missed the count was decided in full (10-30 us
        each instead of a ticket)."""
        with self._lock:
            self._drain(route.cell)  # timings waiting were of calls of the old count
            route.n = n
            for lease in route.leases.values():
                lease.n = n

    def _spent(self, lease: _Lease, config: BatchConfig, n: int, seconds: float) -> None:
        """:meth:`finish` of a call that ran beside the cache's write: counted (a quiet call in
        turn, without a timing), its cost in the slack, no throughput."""
        if n != lease.n:
            self._recount(lease.route, n)
        cell = lease.cell
        with self._lock:
            self._drain(cell)
            if config is lease.fast:
                cell.replay(lease.arm, n, [0.0], lease.source == "probe")
            cell.spend_call(lease.arm, n, seconds)
            learned = self._learned(cell)
        self._write(cell, learned)

    def _apply(self, lease: _Lease, config: BatchConfig, n: int, seconds: float) -> None:
        """:meth:`finish` of a call its cell decided (or of a quiet one whose ``n`` differs)."""
        cell = lease.cell
        with self._lock:
            self._drain(cell)
            if config is lease.fast:  # a quiet call, counted with its timing
                cell.replay(lease.arm, n, [seconds], lease.source == "probe")
            else:
                cell.record(lease.arm, n, seconds)
            learned = self._learned(cell)
        self._write(cell, learned)

    def _drain(self, cell: Cell) -> None:
        """Revokes the cell's tickets and replays the timings of its quiet calls (under the
        lock, before anything else touches the cell)."""
        del cell.granted[:]
        for lease in cell.leases:
            del lease.spare[:]  # a late timing of an old grant revokes what comes next
            timings = lease.timings
            if timings:
                batch = timings[:]
                del timings[: len(batch)]  # a timing appended meanwhile stays for the next
                if lease.ranged:
                    cell.replay_counts(lease.arm, lease.bound, batch, lease.source == "probe")
                else:
                    cell.replay(lease.arm, lease.n, batch, lease.source == "probe")

    def _range_ticket(
        self, profile: Sequence[Any], route: Optional[_Route], cell: Cell, n: int
    ) -> Optional[QuietAnswer]:
        """A ticket of ``cell``'s grant over a range of record counts, when the call's count
        ``n`` (its route's, as the cell would decide with) is in its range, else ``None``. A
        count estimated from bytes gets the route a decided call would (its calls keep the
        count they report, as deciding each of them does)."""
        try:
            lease = cell.range_tickets.pop()
        except IndexError:  # another thread took the last one
            return None
        if not lease.lo <= n <= lease.hi:
            return None  # decided (which revokes the rest of the grant)
        # The answer is fitted to the profile's count, as its lease would be; with its route, the
        # call keeps the count it reports there, as deciding it does (a count estimated from
        # bytes gets its route now: its next calls decide with the count it reports. An exact
        # count that the call reports otherwise, which a list never does, is not kept when the
        # profile has no route yet).
        if route is None and len(profile) > 6 and profile[6]:
            with self._lock:
                route = self._routes.get(profile)
                if route is None or route.cell is not cell:
                    if len(self._routes) >= MAX_ROUTES:
                        self._reset_routes()
                    route = self._routes[profile] = _Route(cell, n)
        if route is not None:
            made = route.range_answers.get(lease)
            if made is not None:  # (a route's answers are for its profile's count)
                return made[1]
        answer: QuietAnswer = lease.answer(clamp_n(profile) or 0, route)
        return answer

    def _range_grant(self, cell: Cell, profile: Sequence[Any], n: int) -> Optional[BatchConfig]:
        """Under the lock, where :meth:`Cell.quiet` grants nothing (a count other than the
        steady state's): :meth:`Cell.quiet_range`'s grant as the cell's range tickets, and this
        call's answer, the first of them; ``None`` when it grants nothing."""
        if not cell.n_range[1] or n == cell._fast_n:  # (quiet's grant is at least as long)
            return None
        (quiet, ceiling, probe, hard, spare, _), lo, hi = cell.quiet_range(n, MAX_QUIET)
        if not (quiet or probe):
            return None
        tickets = cell.granted = cell.range_tickets
        cell.granted_n = -1
        granted: list[Any] = []
        new: list[_RangeLease] = []  # (this call's taken first, as in _decide)
        if probe:
            lease = self._range_lease(cell, cell.baseline, "probe", lo, hi)
            lease.floor = lease.hard = 0.0
            granted.append(lease)
            new.append(lease)  # the last call granted (tickets pop from the end)
        if quiet:
            lease = self._range_lease(cell, cell.incumbent, cell.incumbent_source, lo, hi)
            lease.floor, lease.hard = hi / ceiling, hi / hard  # per record (0.0: none)
            lease.spare[:] = [None] * spare
            granted.insert(0, lease)
            new.extend([lease] * quiet)
        _list_leases(cell, granted)
        answer: QuietAnswer = new.pop().answer(clamp_n(profile) or 0, self._routes.get(profile))
        tickets.extend(new)
        return answer

    def _range_lease(self, cell: Cell, arm: _Arm, source: str, lo: int, hi: int) -> _RangeLease:
        """The range lease of ``arm`` reported as ``source`` on ``cell`` (built once), for
        record counts ``lo`` to ``hi``."""
        lease = cell.range_leases.get(arm)
        if lease is None or lease.source != source:
            if lease is not None:
                lease.drop()  # (its timings, if any, are still replayed: cell.leases)
            self._pool_for(arm.config.threads)
            lease = _RangeLease(cell, arm, source)
            if len(cell.range_leases) >= 16:
                for gone in cell.range_leases.values():
                    gone.drop()
                cell.range_leases.clear()
            cell.range_leases[arm] = lease
        lease.lo, lease.hi, lease.bound = lo, hi, hi
        return lease

    def _recount_ranged(self, route: _Route, n: int) -> None:
        """A quiet call of a range grant, of a count estimated from bytes, reported ``n``
        records: the count of its route's next calls (see :meth:`_recount`; its timing waits
        with the others, as the grant's)."""
        with self._lock:
            route.n = n
            for other in route.leases.values():
                other.n = n

    def _replay_ranged(self, lease: _RangeLease, n: int, seconds: float) -> None:
        """A quiet call of ``lease`` whose count is not in its range (the range moved since it
        started): counted call by call."""
        cell = lease.cell
        with self._lock:
            self._drain(cell)
            cell.replay_counts(lease.arm, lease.bound, [(n, seconds)], lease.source == "probe")
            learned = self._learned(cell)
        self._write(cell, learned)

    def _list_again(self, lease: Any) -> None:
        """A quiet call's timing came to a lease its cell no longer lists (a grant to another
        route of the cell, made while the call ran, let it go with no timing yet): listed
        again, its timing is replayed at the cell's next decision (it stayed there until the
        lease was granted again, if ever: the call was never counted)."""
        with self._lock:
            if not lease.listed:
                lease.listed = True
                if lease not in lease.cell.leases:
                    lease.cell.leases.append(lease)

    def _pool_for(self, threads: int) -> None:
        """Before the first answer that runs on ``threads`` > 1: the pool is built (see
        ``start_pool``), once."""
        if threads > 1 and self._start_pool is not None:
            self._start_pool()
            self._start_pool = None

    def _lease(self, route: _Route, arm: _Arm, source: str, profile: Sequence[Any]) -> _Lease:
        """The lease of ``arm`` reported as ``source`` on ``route`` (built once)."""
        lease = route.leases.get(arm)
        if lease is None or lease.source != source:
            c = clamp(arm.config, clamp_n(profile), self._cores)
            self._pool_for(c.threads)
            answer = BatchConfig(c.batch_size, c.micro_batch_size, c.threads, source)
            lease = _Lease(route, arm, route.n, answer)
            if len(route.leases) >= 16:
                route.leases.clear()
            route.leases[arm] = lease
            issued = self._issued
            if len(issued) >= 8 * MAX_ROUTES:
                self._reset_routes()
            issued[id(lease.slow)] = issued[id(lease.fast)] = lease
        return lease

    def _learned(self, cell: Cell) -> Optional[tuple[dict[str, Any], CacheAnswer]]:
        """What the cell learned by online refinement, or of what it had learned, since it was
        last asked (cache it): its choice, or that choice reverted."""
        if not cell.changed:
            return None
        cell.changed = False
        if not cell.written_reverted:
            return self._entry(cell.key, cell), cell.incumbent.config._replace(source="online")
        retry = cell.retry
        if retry is None:  # (retried since: the cache says reverted until it is ahead again)
            return None
        entry = self._entry(cell.key, cell, retry)
        config = retry.config._replace(source="online")
        return entry, Reverted(config, cell.reverts, cell.ties, cell.retry_ratio)

    def _write(self, cell: Cell, learned: Optional[tuple[dict[str, Any], CacheAnswer]]) -> None:
        if learned is not None and self._cache_arg is not False:
            self._cache().put((cell.key, self._errors), *learned)

    def _reset_routes(self) -> None:
        """Forgets every route and answer (their cells keep their state and their leases)."""
        for route in self._routes.values():
            del route.tickets[:]
            # (Each lease and range answer refers back to its route: no cycle left.)
            route.leases.clear()
            route.range_answers.clear()
        self._routes.clear()
        self._issued.clear()

    def _key(self, profile: Sequence[Any]) -> tuple[Any, ...]:
        global _CELL_KEY
        if _CELL_KEY is None:  # (selector is imported when first needed, as elsewhere here)
            from .selector import cell_key

            _CELL_KEY = cell_key
        return _CELL_KEY(profile)

    def _cache(self, say: bool = True) -> _Cache:
        if self._hw is None:
            self._hw = fingerprint()
        path = cache_path() if self._cache_arg is None else os.fspath(self._cache_arg)
        _CACHE.load(path, self._hw, say)
        return _CACHE

    def _route(
        self, profile: Sequence[Any], selected: BatchConfig, n: int, records: Any = None
    ) -> _Route:
        """The route of a profile not looked up since its cell (or the routes) went."""
        key = self._key(profile)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._new_cell(key, profile, selected, n, records)
        if len(self._routes) >= MAX_ROUTES:
            self._reset_routes()
        route = self._routes[profile] = _Route(cell, n)
        return route

    def _new_cell(
        self,
        key: tuple[Any, ...],
        profile: Sequence[Any],
        selected: BatchConfig,
        n: int,
        records: Any = None,
    ) -> Cell:
        from .selector import _rep

        refine = self.refine and selected.source in REFINED_SOURCES
        cached = None
        if refine and self._cache_arg is not False:
            cached = self._cache().get((key, self._errors))

        def later() -> list[tuple[BatchConfig, str]]:
            # When the cell first needs them (see Cell._fill), under the lock.
            rep = _rep(key)
            cands = candidates(selected, rep, n, self._cores, self._elites(rep),
                               with_selected=start is not selected)
            # A dicts cell measures a second thread's worst case on its records (pool_cost),
            # once, when it first may try one (see _decide), not when it is made: 120-135 us,
            # a third of what a new validator's first call spent outside the engine on 10,000
            # heavy-regex dicts.
            cell.pool_cost_due = (
                profile[4] == "dicts" and self._pool_cost is not None and selected.threads == 1
                and any(c.threads != selected.threads for c, _ in cands)
            )
            return cands

        start = selected
        if refine and cached is None and starts_from_default(selected, profile[4]):
            start = DEFAULT_FIRST
        worst = WORST_RATIO_THREADS_DICTS if profile[4] == "dicts" else WORST_RATIO_THREADS
        cell = Cell(
            start, alpha=self.alpha, cores=self._cores, cached=cached, worst_threads=worst,
            first_call_warms=self._first_call_warms, later=later if refine else None,
            selected_source=selected.source,
        )
        self._first_call_warms = False
        cell.key = key
        bucket = key[5]
        if bucket:
            # The counts of this n bucket; for an estimate (whose bucket is that of the count
            # with its margin), the counts its calls report too: the estimate may miss them.
            lo, hi = 1 << (bucket - 1), (1 << bucket) - 1
            if len(profile) > 6 and profile[6]:
                lo = int(lo / ESTIMATE_MARGIN**2)
            cell.n_range = (max(1, lo), hi)
        self._cells[key] = cell
        if len(self._cells) > MAX_CELLS:
            self._cells.pop(next(iter(self._cells))).release()  # the oldest cell goes
            self._reset_routes()  # some may lead to it
        return cell

    def _measure_worst_threads(self, cell: Cell, records: Any) -> None:
        """Sets ``cell``'s worst ratio of a second thread to one (dicts on one thread) to
        :data:`POOL_COST_MARGIN` of ``pool_cost``'s on ``records`` (where that says no threads
        pay, the median of it and two more); where it cannot tell, the assumed one stays. Once
        per cell."""
        cell.pool_cost_due = False
        ratio = self._pool_ratio(records)
        if ratio is None:
            return
        if _hopeless(cell.candidates, ratio):
            # Confirmed before anything is dropped for good (a candidate dropped untried never
            # comes back): the median of three. One measure of 16 records in 2 rounds is tens
            # of microseconds, and an interruption halves it: on heavy-regex dicts (0.72-0.75
            # a measure) one cell in about 50 measured 0.37, dropped its second thread, 1.2
            # times as fast, and ran one thread for the rest of the process.
            again = [self._pool_ratio(records), self._pool_ratio(records)]
            ratio = sorted([ratio, *(r if r is not None else ratio for r in again)])[1]
        cell.worst_threads = max(1e-3, POOL_COST_MARGIN * sharing_worst(ratio))
        cell.worst_threads_from = "measured"
        cell.drop_untried(
            _hopeless(cell.candidates, ratio),
            f"a thread at {ratio:.2f} of in place (pool_cost): no threads pay",
        )

    def _pool_ratio(self, records: Any) -> Optional[float]:
        """``pool_cost``'s first time over its second on ``records`` (at most 1), ``None``
        where it cannot tell."""
        assert self._pool_cost is not None
        try:
            cost = self._pool_cost(records)
        except Exception:  # a record the call itself will refuse, with its own message
            return None
        if not cost or not cost[1] > 0.0 or not cost[0] > 0.0:
            return None
        return min(1.0, cost[0] / cost[1])

    def _elites(self, rep: Sequence[Any]) -> list[BatchConfig]:
        """The configurations of the two nearest elites of the same input kind (the archive's
        hardware class notwithstanding), ``threads`` capped to the cores here."""
        try:
            from . import archive as _archive

            archive = self._selector.archive
            if archive is None:
                return []
            here = _archive.point(archive.grid, rep)
            ranked = sorted(
                (math.dist(p, here), i, e) for i, (p, e) in enumerate(_elite_points(archive, rep[4]))
            )
            return [e for _, _, e in ranked[:2]]
        except Exception:
            return []

    def _entry(self, key: tuple[Any, ...], cell: Cell, reverted: Optional[_Arm] = None) -> dict[str, Any]:
        """The cache entry of ``cell``: its incumbent, or the choice ``reverted`` (with the
        cell's reverts, ties and the ratio it is retried at)."""
        import datetime

        if self._hw is None:
            self._hw = fingerprint()
        inc, base = reverted or cell.incumbent, cell.baseline
        ratio = ratio_interval(inc.rates, base.rates) if inc.rates and base.rates else None
        return {
            "hardware": self._hw,
            "cell": list(key),
            "config": list(inc.config[:3]),
            "items_per_s": median_interval(inc.rates)[0] if inc.rates else None,
            "default_items_per_s": median_interval(base.rates)[0] if base.rates else None,
            "ratio": None if ratio is None else list(ratio),
            "samples": len(inc.rates),
            "calls": cell.calls,
            "date": datetime.date.today().isoformat(),
            # (Written only for calls without errors: a file of earlier versions reads alike.)
            **({} if self._errors else {"errors": False}),
            **({} if reverted is None else {
                "reverted": True, "reverts": cell.reverts, "ties": cell.ties,
                "retry_ratio": cell.retry_ratio,
            }),
        }


#: Signature of the timing hook a validator calls after an engine call.
Recorder = Callable[[int, float], None]
