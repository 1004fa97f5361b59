"""The machine and build an archive's measurements hold for: the hardware compatibility class.

An archive records where its elites were measured. At run time the selector compares that with
the current process by *class*, not by exact strings: CPU architecture, vendor and family, usable
cores, Python version and GIL mode, satya-adapt version. The comparison has three outcomes:

- ``"full"``: same class; the archive is used as it is.
- ``"adapted"``: only the usable cores or the Python minor version differ; the archive is used,
  ``threads`` is rescaled to the cores of this process, and one :class:`ArchiveWarning` says so.
- ``"untrusted"``: another CPU architecture, vendor or family, another GIL mode, or another
  satya-adapt minor version; the heuristic answers instead, with one :class:`ArchiveWarning`.

Everything here is cheap and computed once per process (``/proc/cpuinfo`` is read once).

.. note:: :func:`current` caches the usable cores at first use; a process that changes its CPU
   affinity afterwards should call ``current.cache_clear()``.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import NamedTuple

__all__ = [
    "HardwareClass",
    "compare",
    "cpu_info",
    "current",
    "gil_enabled",
    "machine",
    "minor_version",
    "package_version",
    "parse_cpuinfo",
    "usable_cores",
]


class HardwareClass(NamedTuple):
    """The features that decide whether measurements made elsewhere hold here."""

    machine: str
    """CPU architecture as ``platform.machine()`` names it (``x86_64``, ``aarch64``, ``arm64``)."""
    cpu_vendor: str
    """``vendor_id`` of ``/proc/cpuinfo`` (``GenuineIntel``, ``AuthenticAMD``), ``CPU implementer``
    on Arm Linux, else ``platform.processor()``; ``""`` when unknown."""
    cpu_family: str
    """``cpu family`` of ``/proc/cpuinfo`` (x86), ``CPU architecture`` (Arm); ``""`` when unknown."""
    usable_cores: int
    """Cores this process may run on (CPU affinity), at least 1."""
    python: str
    """Python ``major.minor``."""
    gil_enabled: bool
    """False only on a free-threaded build running without the GIL."""
    satya_adapt: str
    """satya-adapt ``major.minor``."""


_CPUINFO_KEYS = {
    "model name": "model",
    "vendor_id": "vendor",
    "cpu family": "family",
    "cpu implementer": "vendor",
    "cpu architecture": "family",
    "hardware": "model",
}


def parse_cpuinfo(text: str) -> dict[str, str]:
    """``model``, ``vendor`` and ``family`` from the text of ``/proc/cpuinfo`` (the first
    value of each; x86 and Arm spellings); missing ones are ``""``."""
    info = {"model": "", "vendor": "", "family": ""}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        field = _CPUINFO_KEYS.get(name.strip().lower()) if sep else None
        if field is not None and not info[field]:
            info[field] = value.strip()
    return info


@functools.cache
def cpu_info() -> dict[str, str]:
    """``model``, ``vendor`` and ``family`` of this CPU, best effort (computed once)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            info = parse_cpuinfo(f.read())
    except OSError:
        info = {"model": "", "vendor": "", "family": ""}
    if not info["model"] or not info["vendor"]:
        import platform  # imported here: ~10 ms, only where /proc/cpuinfo says nothing

        info["model"] = info["model"] or platform.processor()
        info["vendor"] = info["vendor"] or platform.processor()
    return info


def machine() -> str:
    """The CPU architecture, as ``platform.machine()`` names it (without importing platform
    where ``os.uname`` exists)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().machine)
    import platform

    return platform.machine()


def usable_cores() -> int:
    """Cores this process may use: its CPU affinity where the OS has one, else ``os.cpu_count()``."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if process_cpu_count is not None:
        count = process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, int(count or 1))


def gil_enabled() -> bool:
    """Whether the GIL is on (always True before Python 3.13's free-threaded build)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def package_version() -> str:
    """The satya-adapt version: ``satya_adapt.__version__``, else the installed package's
    metadata, else ``"0+unknown"``."""
    package = sys.modules.get("satya_adapt")
    version = getattr(package, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata

    try:
        return metadata.version("satya-adapt")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def minor_version(version: str) -> str:
    """``"3.11.7"`` -> ``"3.11"``; a version with fewer parts is returned whole."""
    return ".".join(version.split(".")[:2])


@functools.cache
def current() -> HardwareClass:
    """The class of this process (computed once)."""
    cpu = cpu_info()
    return HardwareClass(
        machine=machine(),
        cpu_vendor=cpu["vendor"],
        cpu_family=cpu["family"],
        usable_cores=usable_cores(),
        python=f"{sys.version_info[0]}.{sys.version_info[1]}",
        gil_enabled=gil_enabled(),
        satya_adapt=minor_version(package_version()),
    )


def compare(
    recorded: HardwareClass, here: HardwareClass, names: tuple[str, str] = ("archive", "here")
) -> tuple[str, list[str]]:
    """Compares the class an archive was measured on with this one.

    Returns ``(trust, reasons)``: trust is ``"full"``, ``"adapted"`` or ``"untrusted"``; reasons
    lists every difference, sentence case, untrusting ones first, each side named by ``names``
    (two archives: their names).
    """
    one, other = names
    hard: list[str] = []
    soft: list[str] = []
    for name, label in (
        ("machine", "CPU architecture"),
        ("cpu_vendor", "CPU vendor"),
        ("cpu_family", "CPU family"),
        ("gil_enabled", "GIL enabled"),
        ("satya_adapt", "satya-adapt version"),
    ):
        a, b = getattr(recorded, name), getattr(here, name)
        if a != b:
            hard.append(f"{label} differs: {one} {a!r}, {other} {b!r}")
    if recorded.usable_cores != here.usable_cores:
        soft.append(
            f"usable cores differ: {one} {recorded.usable_cores}, {other} {here.usable_cores}"
        )
    if recorded.python != here.python:
        soft.append(f"Python version differs: {one} {recorded.python}, {other} {here.python}")
    if hard:
        return "untrusted", hard + soft
    if soft:
        return "adapted", soft
    return "full", []
