"""The hardware compatibility class."""

from __future__ import annotations

import os
import sys

from satya_adapt import hardware as hw
from satya_adapt.hardware import HardwareClass, compare

BASE = HardwareClass("x86_64", "AuthenticAMD", "25", 2, "3.11", True, "0.1")

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7763 64-Core Processor

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model name\t: AMD EPYC 7763 64-Core Processor
"""

ARM = """processor\t: 0
BogoMIPS\t: 50.00
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
"""


def test_parse_cpuinfo() -> None:
    assert hw.parse_cpuinfo(X86) == {
        "model": "AMD EPYC 7763 64-Core Processor",
        "vendor": "AuthenticAMD",
        "family": "25",
    }
    assert hw.parse_cpuinfo(ARM) == {"model": "", "vendor": "0x41", "family": "8"}
    assert hw.parse_cpuinfo("") == {"model": "", "vendor": "", "family": ""}


def test_compare_same_class() -> None:
    assert compare(BASE, BASE) == ("full", [])


def test_compare_soft_differences() -> None:
    assert compare(BASE, BASE._replace(usable_cores=8, python="3.12")) == (
        "adapted",
        [
            "usable cores differ: archive 2, here 8",
            "Python version differs: archive 3.11, here 3.12",
        ],
    )


def test_compare_hard_differences_come_first() -> None:
    assert compare(
        BASE, BASE._replace(cpu_vendor="GenuineIntel", cpu_family="6", usable_cores=4)
    ) == (
        "untrusted",
        [
            "CPU vendor differs: archive 'AuthenticAMD', here 'GenuineIntel'",
            "CPU family differs: archive '25', here '6'",
            "usable cores differ: archive 2, here 4",
        ],
    )


def test_current_describes_this_process() -> None:
    here = hw.current()
    assert here is hw.current()  # computed once
    assert here.python == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert here.usable_cores == hw.usable_cores() >= 1
    if hasattr(os, "sched_getaffinity") and not hasattr(os, "process_cpu_count"):
        assert here.usable_cores == len(os.sched_getaffinity(0))
    assert here.gil_enabled is (sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True)
    import satya_adapt

    assert here.satya_adapt == hw.minor_version(satya_adapt.__version__)


def test_minor_version() -> None:
    assert hw.minor_version("3.11.7") == "3.11"
    assert hw.minor_version("0.1.0rc1") == "0.1"
    assert hw.minor_version("2") == "2"
