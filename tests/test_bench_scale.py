"""benchmarks/bench_scale.py runs with ``--quick`` and writes its tables (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bench_scale_quick(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out_json, out_md = tmp_path / "scale.json", tmp_path / "scale.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"), "--quick",
         "--json", str(out_json), "--markdown", str(out_md)],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out_json.read_text())
    assert doc["arrow"]["records"] == 2000
    assert set(doc["arrow"]["median_s"]) == {
        "validate_arrow(table)", "validate_batch(table.to_pylist())",
        "validate_batch(dicts) (no conversion)", "table.to_pylist() alone",
    }
    engines = [(r["engine"], r["workers"]) for r in doc["files"]["rows"]]
    assert engines[:3] == [("single process", 1), ("local pool", 1), ("local pool", 2)]
    assert doc["files"]["records"] == 900
    assert "## Many files" in out_md.read_text()
