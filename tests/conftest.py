"""Shared pytest hooks for the satya-adapt test suite."""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from typing import Any

# The benchmark code (peer adapters) is not part of the package: tests import it from there.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

#: Node ids of the conformance runner: ``...::test_suite_case[<draft>/<file>#<group>.<test>]``.
_SUITE_CASE = re.compile(
    r"test_conformance\.py::test_suite_case\[(?P<draft>[^/\]]+)/(?P<file>[^#\]]+)#\d+\.\d+\]$"
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Prints how many JSON-Schema-Test-Suite cases passed of those that ran, per draft
    (required and optional cases apart), and the allowed failures (strict xfails)."""
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for outcome, reports in terminalreporter.stats.items():
        for report in reports:
            match = _SUITE_CASE.search(getattr(report, "nodeid", "") or "")
            if match is None or outcome == "deselected":
                continue
            part = "optional" if match["file"].startswith("optional/") else "required"
            counts = tally[(match["draft"], part)]
            when = getattr(report, "when", None)
            if outcome == "skipped":
                counts["skipped"] += 1
            elif outcome == "passed" and when == "call":
                counts["passed"] += 1
            elif outcome == "xfailed":
                counts["allowed"] += 1
            elif outcome == "error" or (outcome in ("failed", "xpassed") and when == "call"):
                counts["failed"] += 1
    _schemastore_summary(terminalreporter)
    if not tally:
        return
    terminalreporter.write_sep("-", "JSON-Schema-Test-Suite: passed/ran per draft")
    for (draft, part) in sorted(tally):
        c = tally[(draft, part)]
        ran = c["passed"] + c["allowed"] + c["failed"]
        share = 100.0 * c["passed"] / ran if ran else 0.0
        terminalreporter.write_line(
            f"{draft:<13} {part:<8}  passed {c['passed']:4d}/{ran:4d} ({share:5.1f}%)  "
            f"allowed failures {c['allowed']:3d}  failed {c['failed']:3d}  skipped {c['skipped']:3d}"
        )


def _schemastore_summary(terminalreporter: Any) -> None:
    """Sums the ``schemastore:*`` properties that tests/test_schemastore.py records."""
    totals: dict[str, int] = defaultdict(int)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if isinstance(key, str) and key.startswith("schemastore:"):
                    totals[key.split(":", 1)[1]] += int(value)
    if not totals:
        return
    terminalreporter.write_sep("-", "SchemaStore corpus")
    compiled, failed = totals["compiled"], totals["compile exceptions"]
    terminalreporter.write_line(f"schemas compiled {compiled}/{compiled + failed} (listed exceptions {failed})")
    terminalreporter.write_line(
        f"instances with their expected verdict {totals['instances agreeing']}/{totals['instances']}"
    )
    terminalreporter.write_line(
        f"agreement with jsonschema-rs (instances and mutated copies) "
        f"{totals['differential agreeing']}/{totals['differential records']}"
    )
