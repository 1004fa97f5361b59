"""``benchmarks/bench_selector.py --quick`` runs and writes its figures (not a measurement:
no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_selector_quick(tmp_path: Path) -> None:
    out = tmp_path / "selector.json"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_selector.py"),
        "--quick",
        "--cells",
        "20",
        "--json",
        str(out),
    ]
    env = dict(os.environ, PYTHONWARNINGS="error")
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    proc = subprocess.run(
        cmd, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["quick"] is True
    assert [s["archive"] for s in result["selection"]] == ["shipped", "synthetic 20 cells"]
    synthetic = result["selection"][1]
    assert (synthetic["status"], synthetic["cells"]) == ("ok", 20)
    for sel in result["selection"]:
        for n in ("1000", "100"):
            figures = sel[n]
            assert figures["profile"]["n"] == int(n)
            assert figures["config"]["batch_size"] <= int(n)
            for key in ("detection_ns", "selection_same_ns", "selection_varying_ns", "call_ns"):
                assert figures[key] > 0, key
    assert result["first_call"][0]["source"] in (
        "heuristic",
        "archive-exact",
        "archive-nearest",
        "archive-knn",
        "archive-keep-default",
    )
    assert result["import"]["median_s"] > 0
    table = (tmp_path / "selector.md").read_text()
    assert table.startswith("# Selector costs")
    assert table in proc.stdout
