"""Shared pytest hooks for the satya-adapt test suite."""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from typing import Any

# The benchmark code (peer adapters) is not part of the package: tests import it from there.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

#: Node ids of the conformance runner: ``...::test_suite_case[<file>#<group>.<test>]``.
_SUITE_CASE = re.compile(r"test_conformance\.py::test_suite_case\[(?P<file>[^#\]]+)#\d+\.\d+\]$")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Prints how many JSON-Schema-Test-Suite cases ran, passed and were skipped, per file."""
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for outcome, reports in terminalreporter.stats.items():
        for report in reports:
            match = _SUITE_CASE.search(getattr(report, "nodeid", "") or "")
            if match is None:
                continue
            when = getattr(report, "when", None)
            if outcome == "skipped" or (outcome in ("passed", "xfailed") and when == "call"):
                tally[match["file"]][outcome] += 1
            elif outcome == "error" or (outcome in ("failed", "xpassed") and when == "call"):
                tally[match["file"]]["failed"] += 1
    if not tally:
        return
    terminalreporter.write_sep("-", "JSON-Schema-Test-Suite draft2020-12 (supported keywords)")
    totals: dict[str, int] = defaultdict(int)
    width = max(len(name) for name in tally)
    for name in sorted(tally, key=lambda n: (n.startswith("optional/"), n)):
        counts = tally[name]
        passed, failed = counts["passed"], counts["failed"] + counts["xfailed"]
        ran = passed + failed
        skipped = counts["skipped"]
        for key, value in (
            ("ran", ran),
            ("passed", passed),
            ("failed", failed),
            ("skipped", skipped),
        ):
            totals[key] += value
        terminalreporter.write_line(
            f"{name:<{width}}  ran {ran:4d}  passed {passed:4d}  failed {failed:3d}  skipped {skipped:4d}"
        )
    terminalreporter.write_line(
        f"{'total':<{width}}  ran {totals['ran']:4d}  passed {totals['passed']:4d}  "
        f"failed {totals['failed']:3d}  skipped {totals['skipped']:4d}"
    )
