"""Each benchmark runs with ``--quick`` (tiny sizes), so that none of them rots.

Not a measurement: no timing is asserted, only that the script runs, checks correctness
first, and writes its JSON and markdown. Peers that are not installed are skipped by the
script itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bench_peers_quick(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "peers.json", tmp_path / "peers.md"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_peers.py"),
        "--quick",
        "--n",
        "200",
        "--rounds",
        "2",
        "--memory-n",
        "1000",
        "--stream-n",
        "500,1000",
        "--json",
        str(out_json),
        "--markdown",
        str(out_md),
    ]
    env = dict(os.environ, PYTHONWARNINGS="error")
    proc = subprocess.run(
        cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out_json.read_text())
    assert list(results["profiles"]) == ["plain3", "constrained3", "mixed10", "wide30", "nested"]
    for profile, pr in results["profiles"].items():
        assert pr["workload"]["invalid"] == 10
        assert set(pr["kinds"]) == {"dicts", "json", "ndjson"}
        for kind, group in pr["kinds"].items():
            ours = group["contenders"]["satya-adapt T=1"]
            assert ours["status"] == "ok"
            assert ours["correctness"]["verdict"] == "exact", (profile, kind, ours["correctness"])
            assert ours["timing"]["rounds"] == 2
            for name, entry in group["contenders"].items():
                assert entry["status"] in ("ok", "error", "not installed"), (name, entry)
    assert results["provenance"]["libraries"]["satya-adapt"]
    assert any(t["target"].startswith("dicts T=1") for t in results["targets"])
    batch = results["memory"]["batch"]
    assert any(row["contender"] == "satya-adapt T=1" and "added_bytes" in row for row in batch)
    assert {row["records"] for row in results["memory"]["streaming"]} == {500, 1000}
    table = out_md.read_text()
    for heading in ("## dicts", "## json", "## ndjson", "## Targets (issue 2)", "## Correctness"):
        assert heading in table
    assert table in proc.stdout


def test_compare_builds_runs_on_one_checkout_twice() -> None:
    """The same checkout against itself: every profile and kind gets a row with a ratio."""
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "compare_builds.py"),
        str(ROOT),
        str(ROOT),
        "--rounds", "1", "--n", "200", "--reps", "1",
        "--profiles", "plain3,nested", "--kinds", "dicts,json",
    ]  # fmt: skip
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("plain3", "dicts"), ("plain3", "json"), ("nested", "dicts"), ("nested", "json"),
    ]  # fmt: skip
    assert all(float(r[4]) > 0 for r in rows)


def test_held_out_ab_runs_each_checkouts_own_package(tmp_path: Path) -> None:
    """Each checkout's held-out run of a short profile, seed by seed, with its own package
    (started from this checkout, the other checkout's runs once ran this one's: `-c` puts the
    folder it runs in first on the path): a table row per checkout, and every run's figures
    in ``--json``."""
    other = tmp_path / "other"
    shutil.copytree(ROOT / "satya_adapt", other / "satya_adapt",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (other / "archives").symlink_to(ROOT / "archives")
    out = tmp_path / "runs.json"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "held_out_ab.py"),
        str(ROOT),
        str(other),
        "--quick", "--seeds", "2", "--profiles", "11", "--json", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| tiny-plain ndjson")]
    assert [r.split("|")[2].strip() for r in rows] == ["base", "new"]
    runs = json.loads(out.read_text())["runs"]
    assert sorted((r["checkout"], r["seed"]) for r in runs) == [
        ("base", 1), ("base", 2), ("new", 1), ("new", 2),
    ]  # fmt: skip
    assert {(r["checkout"], r["package"]) for r in runs} == {
        ("base", str(ROOT / "satya_adapt")), ("new", str(other / "satya_adapt")),
    }  # fmt: skip
    assert all(r["adaptive_vs_oracle"] > 0 and r["warmup_vs_default"] > 0 for r in runs)


def test_compare_builds_runs_a_schemastore_schema_and_the_twitter_statuses() -> None:
    """Real records as profiles (``ss:NAME``, ``twitter``), the verdicts alone."""
    if not (ROOT.parent / "shared" / "schemastore").is_dir() and not os.environ.get("SATYA_ADAPT_SCHEMASTORE"):
        pytest.skip("no SchemaStore corpus (../shared/schemastore)")
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "compare_builds.py"),
        str(ROOT),
        str(ROOT),
        "--rounds", "1", "--n", "100", "--reps", "1", "--errors", "no",
        "--profiles", "ss:cloudbuild,twitter", "--kinds", "dicts,ndjson",
    ]  # fmt: skip
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "errors=no" in proc.stdout.splitlines()[0]
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("ss:cloudbuild", "dicts"), ("ss:cloudbuild", "ndjson"), ("twitter", "dicts"), ("twitter", "ndjson"),
    ]  # fmt: skip
    assert all(float(r[4]) > 0 and len(r) == 7 for r in rows)  # no "valid records differ"


def test_bench_realworld_quick(tmp_path: Path) -> None:
    """Three SchemaStore schemas and the Twitter statuses, every input kind, two rounds."""
    out_json, out_md = tmp_path / "realworld.json", tmp_path / "realworld.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_realworld.py"), "--quick", "--iter-errors",
           "--json", str(out_json), "--markdown", str(out_md)]  # fmt: skip
    env = dict(os.environ, PYTHONWARNINGS="error")
    proc = subprocess.run(cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out_json.read_text())
    assert results["settings"] == {"n": 200, "rounds": 2, "seed": 0, "schemas": 3}
    workloads = sorted({row["workload"] for row in results["rows"]} | {s["workload"] for s in results["skipped"]})
    assert len(workloads) == 4 and "twitter" in workloads
    twitter = [row for row in results["rows"] if row["workload"] == "twitter"]
    assert [row["kind"] for row in twitter] == ["dicts", "json", "ndjson"]
    for row in twitter:
        assert row["records"] == 200 and row["invalid"] == 0 and "disagree" not in row
        assert row["speedup"] > 0 and row["ci"][0] <= row["speedup"] <= row["ci"][1]
        # Ours with errors=False too (the verdicts alone), timed in the same rounds.
        low, high = row["verdicts_ci"]
        assert row["verdicts_speedup"] > 0 and low <= row["verdicts_speedup"] <= high
        assert row["verdicts_items_per_s"] > 0
        assert 4000 < row["record_bytes"] < 5500
    # The default call on dicts against jsonschema-rs building every error, same rounds.
    assert "errors_peer_speedup" in twitter[0] and "errors_peer_speedup" not in twitter[1]
    low, high = twitter[0]["errors_peer_ci"]
    assert 0 < low <= twitter[0]["errors_peer_speedup"] <= high and twitter[0]["their_errors_items_per_s"] > 0
    kinds = ("dicts", "json", "ndjson")
    assert set(results["summary"]) == {*kinds, *(f"{k}, errors=False" for k in kinds), "dicts, default call vs iter_errors"}
    table = out_md.read_text()
    for heading in ("## Summary", "## Per workload", "| twitter | dicts |", "## The default call against jsonschema-rs"):
        assert heading in table
    assert table in proc.stdout


def test_learn_rate_quick_against_itself(tmp_path: Path) -> None:
    """benchmarks/learn_rate.py with --quick and --against the same checkout: a batch of fresh
    validators per side, each run's outcome, a summary per side (structure only, no timing)."""
    out_json, out_md = tmp_path / "learn_rate.json", tmp_path / "learn_rate.md"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "learn_rate.py"), "--quick",
           "--against", str(ROOT), "--json", str(out_json), "--markdown", str(out_md)]  # fmt: skip
    env = dict(os.environ, PYTHONWARNINGS="error")
    proc = subprocess.run(cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out_json.read_text())
    assert doc["settings"]["n"] == 5000 and doc["settings"]["calls"] == 6
    assert set(doc["summary"]) == {"this", "against"}
    for side, summary in doc["summary"].items():
        runs = [r for r in doc["runs"] if r["side"] == side]
        assert summary["runs"] == len(runs) == 2
        assert {r["seed"] for r in runs} == {100, 101}  # the same data on both sides
        # 5,000 dicts take part in live verification: every run ends with a cell.
        assert all(r["end"] and r["end_source"] for r in runs), runs
        assert sum(summary["ends"].values()) == 2
        assert 0 <= summary["learned"] <= 2
    table = out_md.read_text()
    assert "| this |" in table and "| against |" in table
    assert table in proc.stdout
    for r in doc["runs"]:
        assert isinstance(r["dropped"], list)


def test_learn_rate_says_which_candidates_the_cells_dropped() -> None:
    """Each run keeps its cell's dropped candidates; a side's summary counts them by
    configuration, with the median of their paired ratios over the runs (none: untried), and
    the table says so."""
    import learn_rate

    base = {"batch": 0, "first_source": "default-first", "end": [8192, 1024, 1],
            "end_source": "default-first", "promoted_at": None, "cumulative_min": 0.99,
            "cumulative_final": 1.0, "side": "this"}
    runs = [
        {**base, "run": 0, "dropped": [
            {"config": [5000, 128, 2], "candidate": "threads", "paired_ratios": [0.8, 0.9, 1.0]}]},
        {**base, "run": 1, "dropped": [
            {"config": [5000, 128, 2], "candidate": "threads", "paired_ratios": [0.7, 0.75]},
            {"config": [2500, 32, 2], "candidate": "sizes", "paired_ratios": []}]},
        {**base, "run": 2, "dropped": []},
    ]
    summary = learn_rate.summarize(runs)
    assert summary["dropped"] == {
        "5000/128/2 (threads)": {"runs": 2, "paired_ratio_median": 0.8, "pairs": 5},
        "2500/32/2 (sizes)": {"runs": 1, "paired_ratio_median": None, "pairs": 0},
    }
    doc = {"settings": {"bursty": False, "profile": "long-strings", "kind": "dicts", "n": 5000,
                        "archive": "shipped", "batches": 1, "runs": 3, "calls": 100},
           "provenance": {"git": None, "cpu": "cpu", "usable_cores": 2, "load_average": [0, 0, 0],
                          "date": "today"},
           "sides": {"this": "/here"}, "summary": {"this": summary}}
    text = learn_rate.markdown(doc)
    assert ("5000/128/2 (threads) in 2 runs, paired ratio 0.800 in the median of 5;"
            " 2500/32/2 (sizes) in 1 run, untried.") in text


def test_cache_reverts_prints_what_later_processes_run() -> None:
    """benchmarks/cache_reverts.py: a choice that became slower is cached as reverted, and the
    processes after it run the default; fast again, it is learned again."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cache_reverts.py")],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line.split(" | ")[0].strip("| "): line for line in proc.stdout.splitlines()[2:]}
    assert "(reverted, " in rows["1st at 0.7"]
    assert "| 300 | 1.0000 (reverted, " in rows["4th at 0.7"]
    assert rows["the next"].endswith("(learned) |")


def test_live_trace_compares_evidence_on_the_keys_both_versions_report() -> None:
    """A key one version of live.py adds to ``explain`` is named, not taken for answers that
    differ; a value that differs on a shared key is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_live_trace_keys", ROOT / "benchmarks" / "live_trace.py")
    assert spec is not None and spec.loader is not None
    trace = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trace)
    row = {"digest": "d", "sources": {"online": 3}, "evidence": {"calls": 3, "reverts": 0}}
    added = {**row, "evidence": {**row["evidence"], "cached": None}}
    assert trace.new_keys([row], [added]) == ["cached"]
    assert trace.differences([row], [added]) == []
    other = {**added, "evidence": {**added["evidence"], "reverts": 1}}
    assert trace.differences([row], [other]) == [0]
    assert trace.differences([row, {**row, "evidence": None}], [row, {**row, "evidence": None}]) == []


@pytest.mark.parametrize(("needle", "wrong", "scenarios"), [
    # A grant of one count that outlasts the calls that cannot decide (three more timings
    # below the baseline's low end allowed).
    ("below[m + 1] + m + 1 <= rank:", "below[m + 1] + m + 1 <= rank + 3:", ("0", "216")),
    # Calls of JSON text answered from a range ticket that do not keep the count they report
    # in their route (as deciding each of them does).
    ("        if route is not None and n != route.n:\n", "        if False:\n", ("216", "330")),
    # A call that takes another profile's ticket of the cell whatever its count.
    ("            elif n == cell.granted_n and cell.granted and", "            elif cell.granted and",
     ("216", "330")),
])
def test_live_trace_tells_a_wrong_live_py_from_a_faithful_copy(
    tmp_path: Path, needle: str, wrong: str, scenarios: tuple[str, str]
) -> None:
    """benchmarks/live_trace.py compares live.py's answers on injected timings: a copy of
    live.py gives the same answers (exit 0); a wrong one answers differently somewhere (exit
    1), so it can vouch for a change meant to cost less alone."""
    source = (ROOT / "satya_adapt" / "live.py").read_text()
    copy, mutant = tmp_path / "copy.py", tmp_path / "mutant.py"
    copy.write_text(source)
    assert source.count(needle) == 1
    mutant.write_text(source.replace(needle, wrong))
    script = str(ROOT / "benchmarks" / "live_trace.py")
    start, stop = scenarios
    runs = {}
    for name, other in (("copy", copy), ("mutant", mutant)):
        cmd = [sys.executable, script, "--against-live", str(other), "--start", start, "--scenarios", stop]
        runs[name] = subprocess.run(cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert runs["copy"].returncode == 0, runs["copy"].stdout + runs["copy"].stderr[-3000:]
    assert f"answers the same in all {int(stop) - int(start)} scenarios" in runs["copy"].stdout
    assert runs["mutant"].returncode == 1, runs["mutant"].stdout + runs["mutant"].stderr[-3000:]
    assert "answers differ in" in runs["mutant"].stdout
