"""Shared pytest hooks for the satya-adapt test suite."""

from __future__ import annotations

import os
import re
import signal
import sys
from collections import defaultdict
from typing import Any

import pytest

# The online cache of live verification (satya_adapt.live) goes to a folder of this test run,
# never to the user's cache (subprocesses inherit it).
if not os.environ.get("SATYA_ADAPT_CACHE_DIR"):
    import tempfile

    os.environ["SATYA_ADAPT_CACHE_DIR"] = tempfile.mkdtemp(prefix="satya-adapt-cache-")

# The benchmark code (peer adapters) is not part of the package: tests import it from there.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

#: Node ids of the conformance runner: ``...::test_suite_case[<draft>/<file>#<group>.<test>]``.
_SUITE_CASE = re.compile(
    r"test_conformance\.py::test_suite_case\[(?P<draft>[^/\]]+)/(?P<file>[^#\]]+)#\d+\.\d+\]$"
)


def pytest_configure(config: Any) -> None:
    """A test run started where SIGINT is ignored (a background job of a non-interactive shell,
    nohup) passes the ignored disposition on to every subprocess, so the tests that interrupt a
    call with SIGINT would wait for it forever. Python's own handler here means the default
    disposition in subprocesses."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: How a test that needs the shared test data (``<repo>/../shared``: the JSON-Schema-Test-Suite)
#: starts its skip reason when the data is absent.
SHARED_MISSING = "shared test data not found"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """With ``SATYA_ADAPT_REQUIRE_SHARED=1`` (``.ci/run`` sets it), a test skipped because the
    shared test data is absent fails instead: CI always has the data, so every such test runs."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("SATYA_ADAPT_REQUIRE_SHARED") == "1":
        reason = _skip_reason(report)
        if reason.startswith(SHARED_MISSING):
            report.outcome = "failed"
            report.longrepr = f"{reason} (SATYA_ADAPT_REQUIRE_SHARED=1: it must run)"


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    _report_shared_skips(terminalreporter)
    _report_suite_tally(terminalreporter)


def _report_shared_skips(terminalreporter: Any) -> None:
    """A banner when tests that need the shared test data did not run (they skip quietly
    otherwise, and a fresh clone would never run them)."""
    reasons: dict[str, int] = defaultdict(int)
    for report in terminalreporter.stats.get("skipped", []):
        reason = _skip_reason(report)
        if reason.startswith(SHARED_MISSING):
            reasons[reason] += 1
    if not reasons:
        return
    total = sum(reasons.values())
    terminalreporter.write_sep("!", f"{total} test(s) did NOT run: shared test data missing", red=True)
    for reason, n in sorted(reasons.items()):
        terminalreporter.write_line(f"{n:5d} x {reason}", red=True)
    terminalreporter.write_line(
        "Put the data beside the checkout (../shared) or point SATYA_ADAPT_SUITE at it;"
        " .ci/run (SATYA_ADAPT_REQUIRE_SHARED=1) fails instead of skipping.",
        red=True,
    )


def _report_suite_tally(terminalreporter: Any) -> None:
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
