"""Budgets: the longest GIL hold a call reports, memory and pause budgets (parsing, errors,
the choice among candidates), and the models that predict ``peak_bytes`` and pauses."""

from __future__ import annotations

import gzip
import io
import json
import os
import platform
import subprocess
import sys
import warnings
from typing import Any

import pytest

import satya_adapt as sa

SCHEMA = {"type": "object", "properties": {"a": {"type": "string", "minLength": 3}}}


def records(n: int, size: int = 200) -> list[dict[str, Any]]:
    return [{"a": "x" * size} for _ in range(n)]


# -- max_gil_hold -------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["dicts", "json", "ndjson"])
def test_max_gil_hold_is_reported_within_the_call(kind: str, threads: int) -> None:
    v = sa.Validator(SCHEMA, adapt=False)
    recs = records(3000)
    data: Any = recs
    if kind == "json":
        data = json.dumps(recs).encode()
    elif kind == "ndjson":
        data = b"".join(json.dumps(r).encode() + b"\n" for r in recs)
    r = v.validate(data, input_kind=kind, batch_size=1000, micro_batch_size=250, threads=threads)
    assert r.stats.chunks == 3
    assert isinstance(r.stats.max_gil_hold, float)
    assert 0.0 < r.stats.max_gil_hold <= r.stats.seconds


def test_max_gil_hold_per_chunk_of_iter_validate() -> None:
    v = sa.Validator(SCHEMA, adapt=False)
    chunks = list(v.iter_validate(records(300), batch_size=100))
    assert [c.stats.chunks for c in chunks] == [1, 1, 1]
    for c in chunks:
        assert 0.0 < c.stats.max_gil_hold <= c.stats.seconds


def _mixed(n: int) -> list[dict[str, Any]]:
    return [{"a": "x" * (i % 7)} if i % 5 else {"a": i} for i in range(n)]


def test_max_hold_gives_the_same_results() -> None:
    """Letting other threads in (``max_hold``, from ``max_pause``) changes no result."""
    v = sa.Validator(SCHEMA, adapt=False)
    recs = _mixed(5000)
    core = v._core
    want = core.validate_objects(recs, 8192, 1024, 1, None)
    for hold in (0.0, 1e-4, 10.0):
        got = core.validate_objects(recs, 8192, 1024, 1, None, False, hold)
        assert got[:2] == want[:2]
        chunks = list(core.validate_objects(recs, 1000, 1024, 1, None, True, hold))
        assert [x for c in chunks for x in c[0]] == list(want[0])
        # The pool hands the GIL over while it takes records apart; a generator too.
        pooled = core.validate_objects(recs, 8192, 100, 2, None, False, hold)
        assert pooled[:2] == want[:2]
        assert core.validate_objects(iter(recs), 3000, 64, 2, None, False, hold)[:2] == want[:2]
    plain = v.validate_batch(recs)
    paused = sa.Validator(SCHEMA, adapt=False, max_pause="1ms").validate_batch(recs)
    assert (paused.valid, paused.errors) == (plain.valid, plain.errors)
    assert paused.n_invalid == sum(1 for i in range(5000) if i % 5 == 0 or i % 7 < 3) == 2716


@pytest.mark.parametrize(
    ("hold", "shown"), [(-1.0, "-1.0"), (float("nan"), "NaN"), (float("inf"), "inf")]
)
def test_max_hold_refuses_what_is_not_seconds(hold: float, shown: str) -> None:
    core = sa.Validator(SCHEMA, adapt=False)._core
    with pytest.raises(ValueError) as e:
        core.validate_objects(records(3), 8192, 1024, 1, None, False, hold)
    assert str(e.value) == f"`max_hold` must be a finite number of seconds >= 0, got {shown}"


def test_another_thread_may_change_the_list_while_the_gil_is_let_go() -> None:
    """With ``max_hold=0`` the direct path lets other threads run every 64 records; one that
    replaces, removes and appends records meanwhile never breaks the call: each record is
    checked as the list holds it when the call gets there (no crash, no stale record)."""
    import threading

    core = sa.Validator(SCHEMA, adapt=False)._core
    stop = threading.Event()
    recs = records(20000, 4)

    def churn() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            if recs:
                recs[i % len(recs)] = {"a": i}  # invalid: an int
            if i % 3 == 0 and recs:
                recs.pop()
            if i % 5 == 0:
                recs.append({"a": "abcd"})

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(20):
            valid, errors = core.validate_objects(recs, 8192, 1024, 1, None, False, 0.0)[:2]
            assert len(valid) <= 40000
            assert all(type(x) is bool for x in valid)
            assert [e.index for e in errors] == [i for i, ok in enumerate(valid) if not ok]
            assert all(e.message.startswith("Expected `string`, got `integer` ") for e in errors)
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("path", ["pool", "generator"])
def test_another_thread_may_change_records_while_a_chunk_lets_the_gil_go(path: str) -> None:
    """With ``max_hold=0`` the pool lets other threads run every 64 records while it takes
    them apart, and the direct path while it pulls a generator's records and checks them (it
    held the GIL for the whole chunk: 45-100 ms under ``max_pause="2ms"``); one that changes
    records in place meanwhile never breaks the call: each record is checked whole, as it was
    when taken apart or reached (no Python code runs inside one record)."""
    import threading

    core = sa.Validator(SCHEMA, adapt=False)._core
    stop = threading.Event()
    # (Few records: with the GIL let go at every poll, each call hands it over about 100
    # times to a thread that keeps it for a switch interval, slow on a loaded machine.)
    n, micro, threads = (3000, 128, 2) if path == "pool" else (3000, 1024, 1)
    recs = records(n, 4)

    def churn() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            rec = recs[(i * 7919) % len(recs)]
            rec["a"] = i if i % 2 else "abcd"  # an int is invalid, a string valid
            rec.pop("b", None) if i % 3 == 0 else rec.update(b=[i, "x" * (i % 50)])

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(5):
            source = recs if path == "pool" else iter(recs)
            valid, errors = core.validate_objects(source, n, micro, threads, None, False, 0.0)[:2]
            assert len(valid) == n
            assert [e.index for e in errors] == [i for i, ok in enumerate(valid) if not ok]
            assert all(e.message.startswith("Expected `string`, got `integer` ") for e in errors)
    finally:
        stop.set()
        t.join()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's heap and Linux's page fault counts",
)
def test_the_pool_path_keeps_its_heap_between_calls() -> None:
    """Before: glibc gave back the memory that dicts taken apart for the pool had used at the
    end of each call, and the next call faulted it in again (about 230 pages a call here, 1,000
    to 1,400 on 10,000 dicts of 15 long strings: 8-12% of the call). Counted in a fresh
    process: the first call grows the heap, the next ones reuse it."""
    code = r"""
import resource
from satya_adapt import Validator
props = {f"s{i}": {"type": "string", "pattern": "^a"} for i in range(8)}
v = Validator({"type": "object", "properties": props}, adapt=False)
records = [{f"s{i}": "a" * 40 + str(j) for i in range(8)} for j in range(4000)]
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    r = v.validate_batch(records, batch_size=4000, micro_batch_size=64, threads=2)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    assert all(r.valid)
    del r
print(faults)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    faults = json.loads(out)
    assert sum(faults[1:]) < 100, f"pages faulted in by each call: {faults}"


def test_engine_stats_field_order_keeps_old_positions() -> None:
    stats = sa.EngineStats(1, 2, 3, 4.0)
    assert stats == (1, 2, 3, 4.0, 0.0)
    assert stats._fields == ("chunks", "tasks", "peak_bytes", "seconds", "max_gil_hold")


# -- parsing --------------------------------------------------------------------------------

from satya_adapt.budget import (  # noqa: E402
    Budget,
    Candidate,
    choose,
    fit,
    make_budget,
    max_batch_size,
    parse_max_pause,
    parse_memory_budget,
    predict,
)
from satya_adapt.config import BatchConfig  # noqa: E402
from satya_adapt.heuristic import heuristic_config, heuristic_rule  # noqa: E402
from satya_adapt.profile import Profile  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64MiB", 64 * 1024 * 1024),
        ("64 mib", 64 * 1024 * 1024),
        ("1.5GB", 1_500_000_000),
        ("512KB", 512_000),
        ("512KiB", 524_288),
        ("4096", 4096),
        (" 2 MB ", 2_000_000),
        ("1e3", 1000),
        ("100b", 100),
        ("1TiB", 1 << 40),
        (4096, 4096),
        (1500.7, 1500),
        (None, None),
    ],
)
def test_memory_budget_parsing(text: Any, expected: int | None) -> None:
    assert parse_memory_budget(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5ms", 0.005),
        ("5 ms", 0.005),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        ("0.5", 0.5),
        ("2s", 2.0),
        ("1500ns", 1.5e-6),
        (0.01, 0.01),
        (1, 1.0),
        (None, None),
    ],
)
def test_max_pause_parsing(text: Any, expected: float | None) -> None:
    got = parse_max_pause(text)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("64MiBs", ValueError, "`memory_budget` must be a number of bytes or a str like '64MiB', got '64MiBs'"),
        ("-1", ValueError, "`memory_budget` must be a number of bytes or a str like '64MiB', got '-1'"),
        ("", ValueError, "`memory_budget` must be a number of bytes or a str like '64MiB', got ''"),
        ("0", ValueError, "`memory_budget` must be between 1 byte and 2**62 bytes, got '0'"),
        (0, ValueError, "`memory_budget` must be between 1 byte and 2**62 bytes, got 0"),
        (float("nan"), ValueError, "`memory_budget` must be between 1 byte and 2**62 bytes, got nan"),
        (True, TypeError, "`memory_budget` must be a number of bytes or a str like '64MiB', got bool"),
        ([1], TypeError, "`memory_budget` must be a number of bytes or a str like '64MiB', got list"),
        (
            "9" * 100,
            ValueError,
            "`memory_budget` must be a number of bytes or a str like '64MiB', got"
            " '999999999999999999999999999999999999999... (102 characters)",
        ),
    ],
)
def test_memory_budget_errors(value: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        parse_memory_budget(value)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("5 minutes", ValueError, "`max_pause` must be a number of seconds or a str like '5ms', got '5 minutes'"),
        ("0ms", ValueError, "`max_pause` must be more than 0 and at most 1 day, got '0ms'"),
        (-1, ValueError, "`max_pause` must be more than 0 and at most 1 day, got -1"),
        (90000, ValueError, "`max_pause` must be more than 0 and at most 1 day, got 90000"),
        # Before: a bare `OverflowError` (an int past any float).
        (10**400, ValueError, "`max_pause` must be more than 0 and at most 1 day, got 1000000000000000000000000000000000000000... (401 characters)"),
        (False, TypeError, "`max_pause` must be a number of seconds or a str like '5ms', got bool"),
    ],
)
def test_max_pause_errors(value: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        parse_max_pause(value)
    assert str(info.value) == message


def test_validator_refuses_a_bad_budget_naming_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^`max_pause` must be a number of seconds"):
        sa.Validator(SCHEMA, max_pause="soon")
    v = sa.Validator(SCHEMA)
    with pytest.raises(ValueError, match=r"^`memory_budget` must be a number of bytes"):
        v.validate_batch(records(3), memory_budget="lots")


# -- the model and the cut ------------------------------------------------------------------

DICTS_4K = Profile(3, 1000.0, 0.5, 4000.0, "dicts", None)


def test_model_bytes_and_hold_per_record() -> None:
    # dicts on one thread: 16 result bytes per record (records are read in place).
    assert predict((1000, 100, 1), DICTS_4K) == (16_000.0, pytest.approx(1000 * 1130e-9))
    # with the pool: plus 200 + 100 per field for the records taken apart.
    assert predict((1000, 100, 2), DICTS_4K).peak_bytes == 524_000.0
    json_profile = DICTS_4K._replace(input_kind="json")
    assert predict((1000, 100, 2), json_profile) == (40_000.0, pytest.approx(20e-6))
    ndjson_profile = DICTS_4K._replace(input_kind="ndjson")
    assert predict((1000, 100, 1), ndjson_profile).peak_bytes == 2 * 256 * 1024 + 8_040_000.0
    # n caps the chunk
    assert predict((1000, 100, 1), DICTS_4K._replace(n=10)).peak_bytes == 160.0


def test_max_batch_size_takes_the_tighter_limit() -> None:
    assert max_batch_size((8192, 1024, 1), DICTS_4K, Budget(memory=16_000)) == 1000
    assert max_batch_size((8192, 1024, 1), DICTS_4K, Budget(pause=0.005)) == 4424
    assert max_batch_size((8192, 1024, 1), DICTS_4K, Budget(16_000, 0.005)) == 1000
    assert max_batch_size((8192, 1024, 1), DICTS_4K, Budget(memory=1)) == 1  # at least one record
    assert max_batch_size((8192, 1024, 1), DICTS_4K, Budget()) is None


def test_fit_cuts_batch_size_only_when_needed() -> None:
    default = BatchConfig(8192, 1024, 1, "default")
    assert fit(default, DICTS_4K, Budget()) is default
    assert fit(default, DICTS_4K, Budget(memory=1 << 30)) is default
    assert fit(default, DICTS_4K, Budget(memory=16_000)) == BatchConfig(1000, 1000, 1, "default+budget")
    assert fit(default, DICTS_4K, Budget(memory=1600)) == BatchConfig(100, 100, 1, "default+budget")
    # a call of 50 records already fits
    assert fit(default, DICTS_4K._replace(n=50), Budget(memory=1600)) is default


# -- choosing among candidates --------------------------------------------------------------


def cand(b: int, speedup: float, ci: tuple[float, float], peak: float, hold: float | None) -> Candidate:
    return Candidate(BatchConfig(b, 64, 1, "archive-exact"), speedup, ci[0], ci[1], peak, hold)


FRONT = [
    cand(65536, 1.10, (1.05, 1.15), 1_000_000, 0.080),
    cand(8192, 1.08, (1.04, 1.12), 130_000, 0.010),
    cand(1024, 1.02, (0.99, 1.06), 18_000, 0.0012),
    cand(256, 0.90, (0.85, 0.95), 5_000, 0.0003),
]


def test_choose_without_budget_takes_least_memory_within_noise() -> None:
    chosen, why = choose(FRONT, Budget())
    assert chosen is FRONT[2]
    assert why == (
        "within noise of the highest speedup (1.020 vs 1.100, intervals overlap) with the least"
        " memory in flight (18000 vs 1000000 bytes)"
    )


def test_choose_without_budget_keeps_a_clear_winner() -> None:
    front = [cand(65536, 1.5, (1.4, 1.6), 1_000_000, 0.08), cand(1024, 1.0, (0.95, 1.05), 18_000, 0.001)]
    chosen, why = choose(front, Budget())
    assert chosen is front[0]
    assert why == "the highest speedup, and the least memory among those within noise of it"


def test_choose_with_budgets() -> None:
    assert choose(FRONT, Budget(memory=200_000)) == (
        FRONT[1],
        "the highest speedup within the budget (1.080; the best, 1.100, does not keep within it)",
    )
    assert choose(FRONT, Budget(pause=0.005))[0] is FRONT[2]
    assert choose(FRONT, Budget(memory=10_000, pause=0.005))[0] is FRONT[3]
    assert choose(FRONT, Budget(memory=2_000_000))[0] is FRONT[0]
    assert choose(FRONT, Budget(memory=100)) == (
        None,
        "no measured configuration keeps within the budget; the best one is cut",
    )
    assert choose([], Budget()) == (None, "no candidates")


def test_choose_counts_an_unmeasured_hold_as_within() -> None:
    front = [cand(8192, 1.2, (1.1, 1.3), 100, None)]
    assert choose(front, Budget(pause=1e-6))[0] is front[0]


# -- the validator, the heuristic, explain, the command line --------------------------------


def test_validator_budget_cuts_the_default_configuration() -> None:
    v = sa.Validator(SCHEMA, adapt=False, memory_budget="4KiB")
    r = v.validate_batch(records(1000))
    assert r.config == BatchConfig(256, 256, 1, "default+budget")
    assert r.stats.chunks == 4
    assert r.stats.peak_bytes == 256 <= 4096  # valid records: a bool each, read in place
    # a call's own budget replaces the validator's
    r = v.validate_batch(records(1000), memory_budget=1600)
    assert r.config == BatchConfig(100, 100, 1, "default+budget")
    assert r.stats.peak_bytes == 100
    # explicit batch_size wins
    r = v.validate_batch(records(1000), batch_size=500)
    assert r.config == BatchConfig(500, 500, 1, "explicit+default")  # micro fitted to it


@pytest.mark.parametrize("kind", ["json", "ndjson"])
def test_budget_on_bytes_inputs(kind: str) -> None:
    recs = records(1000)
    data = json.dumps(recs).encode() if kind == "json" else b"".join(
        json.dumps(r).encode() + b"\n" for r in recs
    )
    v = sa.Validator(SCHEMA, adapt=False)
    r = v.validate(data, input_kind=kind, memory_budget=8000)
    # (NDJSON in memory is read in place, as JSON: no read buffers)
    assert r.config == BatchConfig(200, 200, 1, "default+budget")
    assert r.stats.peak_bytes == 200 * 25 <= 8000


def test_budget_with_adaptation_cuts_the_selected_configuration() -> None:
    v = sa.Validator(SCHEMA, max_pause="100us")
    r = v.validate_batch(records(5000, size=4000))
    assert r.config.source.endswith("+budget")
    profile = v.profile(records(5000, size=4000))
    assert r.config.batch_size == max_batch_size(r.config, profile, Budget(pause=0.0001))


def test_iter_validate_and_validate_take_budgets() -> None:
    v = sa.Validator(SCHEMA, adapt=False)
    chunks = list(v.iter_validate(records(1000), memory_budget="4KiB"))
    assert [len(c) for c in chunks] == [256] * 3 + [232]
    r = v.validate(records(1000), memory_budget="4KiB")
    assert r.config.batch_size == 256


def test_explain_shows_the_budget() -> None:
    v = sa.Validator(SCHEMA, adapt=False, memory_budget=1600)
    out = v.explain(records(1000))
    assert out["budget"]["memory_budget"] == 1600
    assert out["budget"]["max_pause"] is None
    assert out["budget"]["max_batch_size"] == 100
    assert out["budget"]["cut"] is True
    assert out["budget"]["predicted_after"]["peak_bytes"] == 1600.0
    assert out["config"] == {
        "batch_size": 100,
        "micro_batch_size": 100,
        "threads": 1,
        "source": out["step"] + "+budget",
    }


def test_heuristic_respects_budgets() -> None:
    p = Profile(3, 100.0, 0.0, 256.0, "dicts", None)
    assert heuristic_config(p, 2) == BatchConfig(8192, 1024, 1, "heuristic")
    assert heuristic_config(p, 2, Budget(memory=16_000)) == BatchConfig(1000, 1000, 1, "heuristic+budget")
    rule = heuristic_rule(p, 2, Budget(memory=16_000))
    assert rule["budget_batch_size"] == 1000
    assert "budget_batch_size" not in heuristic_rule(p, 2)


def test_make_budget() -> None:
    assert make_budget("1KiB", "5ms") == Budget(1024, 0.005)
    assert make_budget() == Budget(None, None)
    assert make_budget().empty


def run_cli(*args: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "satya_adapt", *args], capture_output=True, text=True, check=False
    )


def test_cli_validate_budget_flags(tmp_path: Any) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    data = tmp_path / "d.json"
    data.write_text(json.dumps(records(1000)))
    p = run_cli(
        "validate", str(data), "--schema", str(schema), "--no-adapt",
        "--memory-budget", "8000", "--max-pause", "5ms", "--format", "json",
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["config"] == {
        "batch_size": 200, "micro_batch_size": 200, "threads": 1, "source": "default+budget"
    }
    assert doc["memory_budget"] == 8000
    assert doc["max_pause"] == 0.005
    assert doc["peak_bytes"] == 200 * 25
    assert 0.0 < doc["max_gil_hold"] <= doc["seconds"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--memory-budget", "8 parsecs", "expected bytes such as 64MiB, 512KB or 1000000, got '8 parsecs'"),
        ("--max-pause", "0", "expected a time such as 5ms, 250us or 0.01 (seconds), got '0'"),
    ],
)
def test_cli_validate_budget_flag_errors(tmp_path: Any, flag: str, value: str, message: str) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    p = run_cli("validate", "-", "--schema", str(schema), flag, value)
    assert p.returncode == 2
    assert p.stderr == (
        f"satya-adapt: error: validate: argument {flag}: {message}"
        " (see 'satya-adapt validate --help')\n"
    )


# -- real-data workloads and the benchmark ---------------------------------------------------

from pathlib import Path  # noqa: E402

from satya_adapt.tuning import realdata  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def shared() -> str:
    folder = realdata.shared_dir(str(ROOT))
    if folder is None:
        suite = os.environ.get("SATYA_ADAPT_SUITE")  # <shared>/jsonschema-test-suite
        if suite and os.path.isdir(os.path.join(os.path.dirname(suite), "realdata")):
            return os.path.dirname(suite)
        pytest.skip(f"shared test data not found: realdata beside {ROOT} (set SATYA_ADAPT_SUITE)")
    return folder


def test_realdata_workloads_are_valid_and_split() -> None:
    ws = realdata.workloads(300, shared=shared(), schemastore_limit=12)
    names = [w.name for w in ws]
    assert names[:3] == ["twitter-statuses", "citm-performances", "amazon-products"]
    assert len(ws) == 15
    assert [w.held_out for w in ws[:3]] == [True, False, False]
    assert any(w.held_out for w in ws[3:]) and not all(w.held_out for w in ws[3:])
    for w in ws:
        assert len(w.records) == 300
        assert realdata.check(w), w.name
    assert 4000 < ws[0].object_size < 5000  # Twitter statuses: ~4.6 KB


def test_eval_budgets_quick(tmp_path: Path) -> None:
    import subprocess
    import sys

    out_json, out_md = tmp_path / "e.json", tmp_path / "e.md"
    env = dict(os.environ, SATYA_ADAPT_SHARED=shared())
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "eval_budgets.py"), "--quick",
         "--json", str(out_json), "--markdown", str(out_md)],
        capture_output=True, text=True, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out_json.read_text())
    assert doc["settings"]["profiles"] == ["twitter-statuses"]
    assert [(r["kind"]) for r in doc["memory"]] == ["dicts", "json"]
    assert [(r["kind"], r["budget"]) for r in doc["budgets"]] == [
        (k, b) for k in ("dicts", "json") for b in ("2KiB", "8KiB", "64KiB")
    ]
    for r in doc["budgets"]:  # peak_bytes is the engine's count: the same on any machine
        assert r["within_every_call"] is True
        assert r["max_peak_bytes"] <= r["budget_bytes"]
    assert [r["case"] for r in doc["pauses"]] == [
        "no validation", "default", 'max_pause="5ms"', 'max_pause="5ms", threads=2'
    ]
    assert doc["pauses"][1]["config"] == [8192, 1024, 1, "default"]
    assert doc["pauses"][3]["config"][2:] == [2, f"explicit+{doc['pauses'][2]['config'][3]}"]
    for r in doc["pauses"]:
        assert r["full_collections"] >= 0 and r["longest_full_collection_ms"] >= 0.0
    assert doc["summary"]["stall_with_max_pause_ms"] == max(doc["pauses"][2]["stall_max_ms"])
    assert out_md.read_text().startswith("# Budgets and memory in flight (issue 13)")


# -- a budget no batch_size meets ---------------------------------------------------------------


def test_unmet_says_why_no_batch_size_keeps_within_the_budget() -> None:
    from satya_adapt.budget import unmet

    ndjson = DICTS_4K._replace(input_kind="ndjson")  # one record: 512 KiB + 40 + 8000 bytes
    assert unmet((8192, 1024, 1), ndjson, Budget(memory=64 << 10)) == (
        "memory budget 64.0 KiB cannot be met: by the model one record per chunk keeps about"
        " 519.9 KiB in flight, 512.0 KiB of it the buffers of NDJSON read from a file or stream;"
        " batch_size is cut to 1"
    )
    assert unmet((8192, 1024, 1), ndjson, Budget(memory=1 << 20)) is None
    assert unmet((8192, 1024, 1), DICTS_4K, Budget(memory=10, pause=1e-6)) == (
        "memory budget 10 B cannot be met: by the model one record per chunk keeps about 16 B in"
        " flight; pause budget 1 us cannot be met: by the model one record per chunk holds the"
        " GIL about 1.13 us; batch_size is cut to 1"
    )
    assert unmet((8192, 1024, 1), DICTS_4K, Budget()) is None


def test_an_unmet_budget_warns_once_at_the_users_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before (issue 11): `--memory-budget 64KiB` on NDJSON cut batch_size to 1 and ran with
    512 KiB in flight (the read buffers), with `source: default+budget` and no word of it."""
    import inspect

    import satya_adapt.budget as B

    monkeypatch.setattr(B, "_WARNED", set())
    v = sa.Validator(SCHEMA, adapt=False)
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records(100))
    with pytest.warns(sa.BudgetWarning) as caught:
        first, again = [v.validate(io.BytesIO(data), input_kind="ndjson", memory_budget="64KiB") for _ in "12"]
        here = inspect.stack()[0].lineno - 1  # the line above
    assert first.config == again.config == BatchConfig(1, 1, 1, "default+budget")
    assert [(str(w.message), w.filename, w.lineno) for w in caught] == [
        (
            "memory budget 64.0 KiB cannot be met: by the model one record per chunk keeps about"
            " 512.4 KiB in flight, 512.0 KiB of it the buffers of NDJSON read from a file or"
            " stream; batch_size is cut to 1",
            __file__,
            here,
        )
    ]


def test_an_unmet_budget_warns_at_each_line_that_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kept per message alone, the warning of a second line of the user's was never given.
    import satya_adapt.budget as B

    monkeypatch.setattr(B, "_WARNED", set())
    v = sa.Validator(SCHEMA, adapt=False)
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records(100))
    with pytest.warns(sa.BudgetWarning) as caught:
        for _ in range(2):
            v.validate(io.BytesIO(data), input_kind="ndjson", memory_budget="64KiB")
        v.validate(io.BytesIO(data), input_kind="ndjson", memory_budget="64KiB")
    assert len({w.lineno for w in caught}) == len(caught) == 2


def test_ndjson_in_memory_is_charged_no_read_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: NDJSON given as bytes was charged the 512 KiB read buffers of a file or stream,
    so `memory_budget="100KiB"` cut 20,000 small records to batch_size=1 (14 times slower),
    with a BudgetWarning, where 512 of them hold 12.8 KB. A stream or a compressed input still
    is (its buffers are real)."""
    v = sa.Validator(SCHEMA, adapt=False)
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records(20000))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sa.BudgetWarning)
        for source in (data, data.decode()):
            r = v.validate_ndjson(source, memory_budget="100KiB")
            assert r.config.batch_size > 1000 and r.stats.peak_bytes <= 100 << 10
            explained = v.explain(source, input_kind="ndjson", memory_budget="100KiB")
            assert explained["config"] == r.config._asdict()
    import satya_adapt.budget as B

    for source in (io.BytesIO(data), gzip.compress(data)):
        monkeypatch.setattr(B, "_WARNED", set())  # (warned once per line otherwise)
        with pytest.warns(sa.BudgetWarning, match="the buffers of NDJSON read from a file or stream"):
            assert v.validate_ndjson(source, memory_budget="100KiB").config.batch_size == 1


def test_budget_values_beyond_range_are_value_errors_that_name_them() -> None:
    # 10**400 raised a bare OverflowError (through float()); 2**62 + 100 was taken as 2**62.
    for value in (10**400, 2**62 + 100, 10**5000):
        with pytest.raises(ValueError, match="`memory_budget` must be between 1 byte and 2\\*\\*62"):
            sa.Validator(SCHEMA, memory_budget=value)
    with pytest.raises(ValueError, match="`max_pause`"):
        sa.Validator(SCHEMA, max_pause=10**5000)
    assert sa.Validator(SCHEMA, memory_budget=2**53 + 1).budget.memory == 2**53 + 1


def test_a_budget_with_explicit_threads_is_cut_once() -> None:
    # It said `explicit+heuristic+budget+budget`.
    v = sa.Validator(SCHEMA)
    config = v.validate_batch(records(2000), threads=2, memory_budget="10KiB").config
    assert config.threads == 2 and config.source.count("+budget") == 1, config


def test_cli_says_when_the_memory_budget_was_not_met(tmp_path: Any) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    data = tmp_path / "d.ndjson"
    data.write_text("".join(json.dumps(r) + "\n" for r in records(100)))
    p = run_cli("validate", str(data), "--schema", str(schema), "--no-adapt",
                "--memory-budget", "64KiB")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        "satya-adapt: warning: memory budget 64.0 KiB cannot be met: by the model one record per"
        " chunk keeps about 512.4 KiB in flight, 512.0 KiB of it the buffers of NDJSON read from"
        " a file or stream; batch_size is cut to 1"
    ]
    engine = p.stdout.splitlines()[3]
    assert engine.startswith("  engine         100 chunks, at most ")
    assert engine.endswith(" KiB in flight (over the 64.0 KiB memory budget)")
