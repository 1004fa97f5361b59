"""The README's two commands are the ones CI runs and the package provides."""

from __future__ import annotations

import re
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


def test_the_demo_is_a_console_script() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'satya-adapt = "satya_adapt.cli:main"' in pyproject
