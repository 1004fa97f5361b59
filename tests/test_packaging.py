"""A non-editable install: the wheel built from this tree, installed into a fresh folder and
imported from outside the source tree, carries the extension, the type stubs and the shipped
archive, and finds that archive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Reuses the release build of the editable install (same cargo target folder). On a cold
    # target folder of a busy machine a fat-LTO build takes over 15 minutes: the timeout only
    # stops a hung build, it is not a speed check.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=3600,
    )
    (built,) = out.glob("satya_adapt-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "satya_adapt/archives/default.json" in names
    assert "satya_adapt/py.typed" in names
    assert "satya_adapt/_validator.pyi" in names
    assert any(n.startswith("satya_adapt/_validator.") and n.endswith(".so") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "crates/")) for n in names)
    # Offline tuning ships (``satya-adapt optimize``); the benchmark's peer adapters do not.
    assert "satya_adapt/tuning/optimizer.py" in names
    assert {"satya_adapt/cli/__init__.py", "satya_adapt/cli/validate.py"} <= names
    assert not any(n.endswith("peers.py") for n in names)



def _dependency_names(package: str) -> set[str]:
    out = subprocess.run(
        ["cargo", "tree", "--offline", "-p", package, "--prefix", "none", "-e", "normal,build"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=300,
    )
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_only_the_binding_crate_depends_on_pyo3() -> None:
    """The Rust core is plain Rust: PyO3 is a dependency of the binding crate alone."""
    core = _dependency_names("satya-adapt-core")
    binding = _dependency_names("satya-adapt-python")
    assert "satya-adapt-core" in core
    assert not {name for name in core if name.startswith("pyo3")}
    assert {"pyo3", "satya-adapt-core"} <= binding


_RUNTIME_MODULES = [
    "satya_adapt",
    "satya_adapt._inputs",
    "satya_adapt._validator",
    "satya_adapt.budget",
    "satya_adapt.config",
    "satya_adapt.errors",
    "satya_adapt.profile",
    "satya_adapt.result",
    "satya_adapt.schema",
    "satya_adapt.validator",
]
_SELECTION_MODULES = [
    "satya_adapt.archive",
    "satya_adapt.hardware",
    "satya_adapt.heuristic",
    "satya_adapt.selector",
]
#: An adaptive validator with live verification (the default) reads its archive and the online
#: cache when it is made, not in its first call (see ``Validator._prepare_adaptation``).
_LIVE_MODULES = ["satya_adapt.live"]


def test_import_loads_the_runtime_only() -> None:
    """``import satya_adapt``, an adaptive validator and its first call load no tuning and no
    CLI module."""
    probe = (
        "import sys, json, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import satya_adapt\n"
        "first = sorted(m for m in sys.modules if m.startswith('satya_adapt'))\n"
        "satya_adapt.Validator({'type': 'object'}).validate_batch([{}])\n"
        "after = sorted(m for m in sys.modules if m.startswith('satya_adapt'))\n"
        "print(json.dumps([first, after]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env,
        timeout=120,
    )
    first, after = json.loads(out.stdout)
    assert first == _RUNTIME_MODULES
    assert after == sorted(_RUNTIME_MODULES + _SELECTION_MODULES + _LIVE_MODULES)


def test_installed_wheel_finds_the_shipped_archive(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    probe = """
import json, satya_adapt
from satya_adapt import Validator
from satya_adapt.archive import shipped_archive, load_archive
from satya_adapt.selector import Selector
v = Validator({"type": "object", "properties": {"a": {"type": "integer"}}})
r = v.validate_batch([{"a": 1}, {"a": "x"}])
sel = Selector.shared(None)
print(json.dumps({
    "file": satya_adapt.__file__,
    "archive": shipped_archive(),
    "cells": len(load_archive(shipped_archive()).cells),
    "status": sel.status,
    "valid": r.valid,
    "source": r.config.source,
}))
"""
    env = {k: v for k, v in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    env["PYTHONPATH"] = str(target)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["file"].startswith(str(target))
    assert got["archive"] == str(target / "satya_adapt" / "archives" / "default.json")
    shipped = json.loads((ROOT / "archives" / "default.json").read_text())
    assert got["cells"] == len(shipped["cells"])
    assert got["status"] == ("ok" if shipped["cells"] else "empty")
    assert got["valid"] == [True, False]
    assert got["source"].startswith(("archive-", "heuristic"))
