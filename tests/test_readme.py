"""The README's two commands are the ones CI runs and the package provides."""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "the README starts with a sh block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_two_commands() -> None:
    main_job, tests = readme_commands()
    assert main_job == "pip install . && satya-adapt demo"
    assert tests == "pip install -e '.[test]' && python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci
    assert any(line.startswith("cargo test") for line in ci)
    # A failed install stops CI (`set -e` alone lets the `&&` list fail and go on).
    assert ci[ci.index(tests) + 1] == "readme_status=$?"
    assert 'if [ "$readme_status" -ne 0 ]; then exit "$readme_status"; fi' in ci


def test_the_demo_is_a_console_script() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'satya-adapt = "satya_adapt.cli:main"' in pyproject


def usage_block() -> str:
    """The README's usage block: the first ```python block after `## Use`."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Use\n\n```python\n(.*?)```", text, re.S)
    assert block, "the README has a python block under `## Use`"
    return block.group(1)


def checked(code: str) -> tuple[str, int]:
    """``code`` with each line ``EXPR  # VALUE`` (or ``# VALUE: words``), where VALUE is a
    Python literal, followed by ``assert EXPR == VALUE``; and how many such lines."""
    out, n = [], 0
    for line in code.splitlines():
        out.append(line)
        expr, sep, comment = line.partition("  # ")
        if not sep or expr.startswith((" ", "for ", "with ")) or "=" in expr.split("(")[0]:
            continue
        for candidate in (comment, comment.split(": ")[0]):
            try:
                value = ast.literal_eval(candidate)
            except (ValueError, SyntaxError):
                continue
            out.append(f"assert ({expr.strip()}) == {value!r}, {expr.strip()!r}")
            n += 1
            break
    return "\n".join(out) + "\n", n


def test_the_usage_block_runs_as_written(tmp_path: Path) -> None:
    """Before (issue 11): `records` was undefined and `b'[{"name": "a", ...}, ...]'` raised."""
    code, n = checked(usage_block())
    assert n == 8, code  # the values the comments show are asserted
    env = {k: v for k, v in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "0 [True]\n1 [False]\n"


def _pytest_without_suite(require: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(SATYA_ADAPT_SUITE=str(tmp_path / "absent"), SATYA_ADAPT_REQUIRE_SHARED=require)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    node = "tests/test_conformance.py::test_suite_is_present"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", node], cwd=ROOT, env=env,
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_missing_shared_data_is_loud_and_fails_ci(tmp_path: Path) -> None:
    """Before (issue 11): without ../shared the conformance tests skipped silently."""
    reason = (
        f"shared test data not found: JSON-Schema-Test-Suite at {tmp_path / 'absent'}"
        " (set SATYA_ADAPT_SUITE)"
    )
    proc = _pytest_without_suite("", tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert " 1 test(s) did NOT run: shared test data missing " in proc.stdout
    assert f"    1 x {reason}\n" in proc.stdout
    proc = _pytest_without_suite("1", tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert f"{reason} (SATYA_ADAPT_REQUIRE_SHARED=1: it must run)" in proc.stdout
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci.index("export SATYA_ADAPT_REQUIRE_SHARED=1") < ci.index(readme_commands()[1])


def test_missing_schemastore_corpus_is_loud_and_fails_ci(tmp_path: Path) -> None:
    """The SchemaStore corpus is shared test data too: without it its tests skipped quietly,
    and .ci/run passed (found checking issue 11's items)."""
    env = dict(os.environ)
    env.update(SATYA_ADAPT_SCHEMASTORE=str(tmp_path / "absent"), SATYA_ADAPT_REQUIRE_SHARED="")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    node = "tests/test_schemastore.py::test_corpus_is_present_and_the_lists_name_real_entries"
    run = functools.partial(
        subprocess.run, [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", node], cwd=ROOT,
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    reason = f"shared test data not found: SchemaStore corpus at {tmp_path / 'absent'} (set SATYA_ADAPT_SCHEMASTORE)"
    proc = run(env=env)
    assert proc.returncode == 0, proc.stdout
    assert " 1 test(s) did NOT run: shared test data missing " in proc.stdout
    assert f"    1 x {reason}\n" in proc.stdout
    proc = run(env={**env, "SATYA_ADAPT_REQUIRE_SHARED": "1"})
    assert proc.returncode == 1, proc.stdout
    assert f"{reason} (SATYA_ADAPT_REQUIRE_SHARED=1: it must run)" in proc.stdout


def test_the_suite_runs_where_sigint_is_ignored() -> None:
    """A run started as a background job (SIGINT ignored, inherited by every subprocess) timed
    out in the Ctrl-C tests; conftest.py restores the handler."""
    import signal

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    node = "tests/test_bad_input.py::test_ctrl_c_interrupts_a_long_call[json-1]"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", node], cwd=ROOT, env=env,
        capture_output=True, text=True, check=False, timeout=600,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 passed" in proc.stdout


_PASTE = """\
import code, sys
console = code.InteractiveConsole()
for line in sys.stdin.read().splitlines():
    console.push(line)
console.push("")
"""


def test_the_usage_block_pastes_into_the_interactive_interpreter(tmp_path: Path) -> None:
    """Before (issue 11, first hour): pasted into `python`, the line after the `with` block
    was a SyntaxError (the interpreter needs a blank line to end a block)."""
    env = {k: v for k, v in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", _PASTE], input=usage_block(), cwd=tmp_path, env=env,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "SyntaxError" not in proc.stderr, proc.stderr
    shown = proc.stdout.splitlines()
    for value in ("[True, False]", "'maximum'", "(1, 1)", "[False]", "0 [True]", "1 [False]"):
        assert value in shown, (value, proc.stdout)


def test_readme_says_how_long_the_suite_takes() -> None:
    """Before (issue 11): nothing next to `python -m pytest` said it runs for many minutes
    (36 on a busy machine in the first-hour transcript)."""
    text = (ROOT / "README.md").read_text()
    head = text[: text.index("\n## ")]
    assert "then the whole suite (long: minutes)" in head
    assert re.search(r"The whole suite is long: about [\d,]+ tests,\s+\d+ minutes serial", head)
