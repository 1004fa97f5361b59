"""The selector: selection order on synthetic archives with known elites, clamping, hardware
classes, broken archives, thread safety, explain."""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from archive_helpers import HERE, KIND_SIZE_GRID, archive, cell, profile

from satya_adapt import ArchiveWarning, BatchConfig
from satya_adapt import archive as A
from satya_adapt.config import clamp, clamp_n
from satya_adapt.budget import NO_BUDGET
from satya_adapt.selector import Selector

# The known elites. On the object_size axis (log2(1 + size) / 2 grid units) the cells sit at:
# A 4.5 (dicts, 511 B), D 6.5 (dicts, 8191 B), J 4.5 (json, 511 B), K 5.5 (json, 2047 B).
A_ELITE = (4096, 512, 2)
D_ELITE = (1024, 64, 2)
J_ELITE = (16384, 1024, 2)


def known_cells() -> list[A.Cell]:
    g = KIND_SIZE_GRID
    return [
        cell(g, profile(511), A_ELITE, speedup=1.5, ci=(1.3, 1.7), n_measurements=9),
        cell(g, profile(8191), D_ELITE, speedup=1.2, ci=(1.1, 1.3), peak_bytes=999),
        cell(g, profile(511, "json"), J_ELITE),
        cell(g, profile(2047, "json"), "keep_default", speedup=1.01, ci=(0.98, 1.02)),
    ]


def selector(selection: A.Selection | None = None, hardware: Any = HERE, **kw: Any) -> Selector:
    return Selector(archive(known_cells(), selection=selection, **kw), hardware=hardware)


def rep(size: float) -> float:
    return A.quantize(profile(size)).object_size


# -- selection order ------------------------------------------------------------------------------


def test_exact_cell() -> None:
    assert selector().select(profile(600)) == BatchConfig(4096, 512, 2, "archive-exact")
    assert selector().select(profile(600, "json")) == BatchConfig(16384, 1024, 2, "archive-exact")


def test_exact_keep_default_cell() -> None:
    assert selector().select(profile(3000, "json")) == BatchConfig(
        8192, 1024, 1, "archive-keep-default"
    )


def test_nearest_cell_transfers_sizes_in_bytes() -> None:
    s = selector(A.Selection(nearest_radius=0.75))
    # 3500 B: bin 2 (empty); quantized to 2 ** 11.75 - 1, at 5.875: D is 0.625 away, A 1.375.
    size = 2**11.75 - 1
    assert rep(3500) == size
    expected = BatchConfig(round(1024 * 8191 / size), round(64 * 8191 / size), 2, "archive-nearest")
    assert expected == BatchConfig(2436, 152, 2, "archive-nearest")
    assert s.select(profile(3500)) == expected


def test_nearest_cell_in_records() -> None:
    s = selector(A.Selection(nearest_radius=0.75, transfer="records"))
    assert s.select(profile(3500)) == BatchConfig(1024, 64, 2, "archive-nearest")


def test_nearest_keep_default_cell() -> None:
    s = selector(A.Selection(nearest_radius=0.75))
    # json 1500 B: at 5.25, K (keep_default) is 0.25 away, J 0.75.
    assert s.select(profile(1500, "json")) == BatchConfig(8192, 1024, 1, "archive-keep-default")


def test_knn_interpolates_in_log_space_weighted_by_inverse_distance() -> None:
    # dicts 1500 B: bin 2 (empty), at 5.25: A 0.75 and D 1.25 away -> weights 0.625, 0.375.
    size = 2**10.5 - 1
    assert rep(1500) == size
    b = (4096 * 511) ** 0.625 * (1024 * 8191) ** 0.375 / size
    m = (512 * 511) ** 0.625 * (64 * 8191) ** 0.375 / size
    assert (round(b), round(m)) == (2434, 235)
    assert selector().select(profile(1500)) == BatchConfig(2434, 235, 2, "archive-knn")


def test_knn_mixes_keep_default_cells_as_the_default_configuration() -> None:
    # A grid without input_kind: cells answer every kind. 1500 B sits between A (0.75 away)
    # and a keep_default cell at 8191 B (1.25 away), which counts as (8192, 1024, 1).
    g = A.Grid(
        features=[A.GridFeature(name="object_size", scale="log", edges=[255.0, 1023.0, 4095.0])]
    )
    cells = [
        cell(g, profile(511), A_ELITE),
        cell(g, profile(8191), "keep_default"),
    ]
    s = Selector(archive(cells, grid=g), hardware=HERE)
    size = 2**10.5 - 1
    b = (4096 * 511) ** 0.625 * (8192 * 8191) ** 0.375 / size
    m = (512 * 511) ** 0.625 * (1024 * 8191) ** 0.375 / size
    t = 0.625 * 2 + 0.375 * 1
    assert s.select(profile(1500, "ndjson")) == BatchConfig(
        round(b), round(m), round(t), "archive-knn"
    )
    assert (round(b), round(m), round(t)) == (5309, 664, 2)


def test_heuristic_beyond_the_confidence_radius() -> None:
    # dicts 16 B: at 2.0, A is 2.5 away (> confidence radius 2.0).
    assert selector().select(profile(16)) == BatchConfig(65536, 8192, 1, "heuristic")
    wide = selector(A.Selection(confidence_radius=3.0))
    assert wide.select(profile(16)).source == "archive-knn"


def test_heuristic_for_a_kind_without_cells() -> None:
    assert selector().select(profile(600, "ndjson")) == BatchConfig(16384, 256, 4, "heuristic")


def test_heuristic_for_a_kind_outside_the_grid() -> None:
    g = A.Grid(
        features=[
            A.GridFeature(name="input_kind", scale="category", categories=["dicts"]),
            A.GridFeature(name="object_size", scale="log", edges=[255.0, 1023.0, 4095.0]),
        ]
    )
    s = Selector(archive([cell(g, profile(511), A_ELITE)], grid=g), hardware=HERE)
    assert s.select(profile(600)) == BatchConfig(4096, 512, 2, "archive-exact")
    assert s.select(profile(600, "json")) == BatchConfig(16384, 256, 4, "heuristic")  # json: a pool


def test_empty_archive_uses_the_heuristic_without_warning() -> None:
    s = Selector(archive([]), hardware=HERE)
    assert s.select(profile(600)) == BatchConfig(4096, 256, 1, "heuristic")
    assert s.status == "empty"
    assert s.trust is None
    assert s.messages == []


def test_shipped_archive_is_read_without_warning() -> None:
    s = Selector(A.shipped_archive(), hardware=HERE)
    config = s.select(profile(600))
    assert s.status in ("empty", "ok")
    if s.status == "empty":
        assert config == BatchConfig(4096, 256, 1, "heuristic")


# -- clamping ---------------------------------------------------------------------------------


def test_clamp_to_the_call() -> None:
    s = selector()
    assert s.select(profile(600, n=100)) == BatchConfig(100, 100, 1, "archive-exact")
    assert s.select(profile(600, n=1000)) == BatchConfig(1000, 512, 2, "archive-exact")
    assert s.select(profile(600, n=100000)) == BatchConfig(4096, 512, 2, "archive-exact")
    assert s.select(profile(600, n=0)) == BatchConfig(1, 1, 1, "archive-exact")
    assert s.select(profile(3000, "json", n=50)) == BatchConfig(50, 50, 1, "archive-keep-default")
    assert s.select(profile(16, n=100)) == BatchConfig(100, 100, 1, "heuristic")


def test_estimated_n_is_clamped_with_a_margin() -> None:
    """An n estimated from bytes (unbiased, so possibly short) is rounded up by a quarter
    before batch_size is clamped to it; an exact n is not."""
    s = selector()
    exact = profile(600, n=1000)
    estimated = exact._replace(n_estimated=True)
    assert s.select(exact) == BatchConfig(1000, 512, 2, "archive-exact")
    assert s.select(estimated) == BatchConfig(1250, 512, 2, "archive-exact")
    assert s.select(profile(600, n=3277)._replace(n_estimated=True)) == BatchConfig(
        4096, 512, 2, "archive-exact"
    )
    assert clamp_n(estimated) == 1250
    assert clamp_n(exact) == 1000
    assert clamp_n(tuple(exact)[:6]) == 1000
    assert clamp_n(profile(600)._replace(n_estimated=True)) is None


def test_clamp_function() -> None:
    c = BatchConfig(4096, 512, 8, "x")
    assert clamp(c, None, 16) is c
    assert clamp(c, None, 2) == BatchConfig(4096, 512, 2, "x")
    assert clamp(c, 1024, 16) == BatchConfig(1024, 512, 2, "x")
    assert clamp(BatchConfig(10, 20, 1, "y"), None, 4) == BatchConfig(10, 10, 1, "y")
    assert clamp(c, 0, 4) == BatchConfig(1, 1, 1, "x")


def test_clamp_is_its_definition() -> None:
    """``clamp`` (written out by hand for speed) against its definition with ``min`` and
    ``max``, on random configurations, counts and cores: the same fields, and the
    configuration itself when nothing changes."""
    rng = random.Random(0)
    for _ in range(20000):
        c = BatchConfig(rng.choice([1, 2, 7, 4096, rng.randint(1, 10**6)]),
                        rng.choice([1, 5, 512, rng.randint(1, 10**5)]), rng.randint(1, 70), "s")
        n = rng.choice([None, 0, 1, rng.randint(0, 100), rng.randint(0, 10**6)])
        cores = rng.randint(1, 64)
        b = c.batch_size if n is None or c.batch_size <= n else max(1, n)
        m = min(c.micro_batch_size, b)
        t = max(1, min(c.threads, cores, -(-b // m)))
        got = clamp(c, n, cores)
        assert got == BatchConfig(b, m, t, "s"), (c, n, cores)
        assert (got is c) == ((b, m, t) == tuple(c[:3])), (c, n, cores)


def test_one_core_means_one_thread() -> None:
    one = HERE._replace(usable_cores=1)
    s = selector(hardware=one)
    with pytest.warns(ArchiveWarning, match="usable cores differ: archive 4, here 1"):
        got = s.select(profile(600))
    assert got == BatchConfig(4096, 512, 1, "archive-exact")


# -- hardware classes ---------------------------------------------------------------------------


def test_other_core_count_rescales_threads_and_warns_once() -> None:
    two = HERE._replace(usable_cores=2)
    s = Selector(archive(known_cells(), hardware=two), hardware=HERE)
    with pytest.warns(ArchiveWarning) as record:
        got = [
            s.select(profile(600)),
            s.select(profile(3500, n=10)),
            s.select(profile(600, "json")),
        ]
    assert got == [
        BatchConfig(4096, 512, 4, "archive-exact"),
        BatchConfig(10, 10, 1, "archive-knn"),
        BatchConfig(16384, 1024, 4, "archive-exact"),
    ]
    assert [str(w.message) for w in record] == [
        (
            "archive <ArchiveFile> was measured on a different machine (usable cores differ:"
            " archive 2, here 4); its elites are used with threads adapted"
        )
    ]
    assert s.trust == "adapted"


def test_other_python_minor_is_used_as_is() -> None:
    s = Selector(archive(known_cells(), hardware=HERE._replace(python="3.12")), hardware=HERE)
    with pytest.warns(ArchiveWarning, match=r"Python version differs: archive 3\.12, here 3\.11"):
        assert s.select(profile(600)) == BatchConfig(4096, 512, 2, "archive-exact")


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            {"cpu_vendor": "AuthenticAMD"},
            "CPU vendor differs: archive 'AuthenticAMD', here 'GenuineIntel'",
        ),
        ({"cpu_family": "25"}, "CPU family differs: archive '25', here '6'"),
        ({"machine": "aarch64"}, "CPU architecture differs: archive 'aarch64', here 'x86_64'"),
        ({"gil_enabled": False}, "GIL enabled differs: archive False, here True"),
        ({"satya_adapt": "0.2"}, "satya-adapt version differs: archive '0.2', here '0.1'"),
    ],
)
def test_other_hardware_class_is_not_trusted(change: dict[str, Any], reason: str) -> None:
    s = Selector(archive(known_cells(), hardware=HERE._replace(**change)), hardware=HERE)
    with pytest.warns(ArchiveWarning) as record:
        got = [s.select(profile(600)), s.select(profile(3000, "json"))]
    assert got == [BatchConfig(4096, 256, 1, "heuristic"), BatchConfig(4096, 64, 4, "heuristic")]
    assert [str(w.message) for w in record] == [
        (
            f"archive <ArchiveFile> was measured on another hardware class ({reason});"
            " the heuristic chooses batch configurations"
        )
    ]
    assert s.trust == "untrusted"
    explained = s.explain(profile(600))
    assert explained["archive"]["reasons"] == [reason]
    assert explained["descriptor"] == {
        "features": ["input_kind", "object_size"],
        "index": [0, 1],
        "filled": True,
    }
    assert explained["step"] == "heuristic"


# -- broken archives ------------------------------------------------------------------------------


def good_bytes() -> bytes:
    return A.encode_archive(archive(known_cells()))


def broken_files() -> dict[str, bytes]:
    good = good_bytes()
    doc = orjson.loads(good)
    versioned = dict(doc, format_version=3)
    unknown = orjson.loads(good)
    unknown["cells"][0]["color"] = "red"
    return {
        "truncated": good[: len(good) // 3],
        "empty": b"",
        "garbage": b"\x00\x01not json",
        "wrong-version": orjson.dumps(versioned),
        "unknown-field": orjson.dumps(unknown),
        "results-file": orjson.dumps({"generations": [], "noise_floor": 0.01}),
    }


EXPECTED_PROBLEM = {
    "truncated": "not valid JSON: Input data was truncated",
    "empty": "not valid JSON: Input data was truncated",
    "garbage": "not valid JSON: JSON is malformed: invalid character (byte 0)",
    "wrong-version": "unsupported `format_version` 3; this satya-adapt reads versions 1 and 2"
    " - at `$.format_version`",
    "unknown-field": "Object contains unknown field `color` - at `$.cells[0]`",
    "results-file": "not an archive: no `format`, expected 'satya-adapt-archive' - at `$.format`",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_PROBLEM))
def test_broken_archive_warns_once_and_uses_the_heuristic(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "archive.json"
    path.write_bytes(broken_files()[kind])
    s = Selector(path, hardware=HERE)
    with pytest.warns(ArchiveWarning) as record:
        got = [
            s.select(profile(600)),
            s.select(profile(600, n=10)),
            s.explain(profile(600))["step"],
        ]
    assert got == [
        BatchConfig(4096, 256, 1, "heuristic"),
        BatchConfig(10, 10, 1, "heuristic"),
        "heuristic",
    ]
    assert [str(w.message) for w in record] == [
        (
            "archive unusable, the heuristic chooses batch configurations:"
            f" {path}: {EXPECTED_PROBLEM[kind]}"
        )
    ]
    assert s.status == "corrupt"
    assert s.archive is None


def test_missing_archive_warns_once(tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    s = Selector(path, hardware=HERE)
    with pytest.warns(ArchiveWarning) as record:
        got = [s.select(profile(600)), s.select(profile(700))]
    assert got == [BatchConfig(4096, 256, 1, "heuristic")] * 2
    assert [str(w.message) for w in record] == [
        f"archive {path} not found; the heuristic chooses batch configurations"
    ]
    assert s.status == "missing"


def test_a_symbolic_link_to_no_archive_says_why(tmp_path: Path) -> None:
    # Found by a hostile-input hunt: a link that leads nowhere, or round in a loop, was "not
    # found", which hid why.
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    (tmp_path / "dangling").symlink_to("gone.json")
    for name, reason in (("loop1", "Too many levels of symbolic links"),
                         ("dangling", "No such file or directory")):  # fmt: skip
        s = Selector(tmp_path / name, hardware=HERE)
        with pytest.warns(ArchiveWarning) as record:
            s.select(profile(600))
        assert [str(w.message) for w in record] == [
            "archive unusable, the heuristic chooses batch configurations:"
            f" {tmp_path / name}: cannot read the archive: {reason}"
        ]
        assert s.status == "corrupt"


def test_warnings_as_errors_never_escape_select(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "archive.json"
    path.write_bytes(b"{")
    s = Selector(path, hardware=HERE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert s.select(profile(600)) == BatchConfig(4096, 256, 1, "heuristic")
    assert s.messages == [
        (
            f"archive unusable, the heuristic chooses batch configurations: {path}:"
            " not valid JSON: Input data was truncated"
        )
    ]


def test_nonsense_profiles_never_raise() -> None:
    s = selector()
    assert s.select((8, float("nan"), 0.3, float("inf"), "dicts", None)).source == "heuristic"
    assert s.select((8, 15.0, 0.3, -5.0, "dicts", 10)) == BatchConfig(10, 10, 1, "heuristic")
    with pytest.warns(ArchiveWarning, match=r"^selection failed \(ValueError: "):
        assert s.select(("x",)) == BatchConfig(8192, 1024, 1, "default")
    assert s.select((8, 15.0, 0.3, 600.0, "dicts", "many")) == BatchConfig(8192, 1024, 1, "default")


def test_unknown_knn_backend() -> None:
    with pytest.raises(
        ValueError, match="`knn_backend` must be 'python' or 'sklearn', got 'faiss'"
    ):
        Selector(None, knn_backend="faiss")


def test_unknown_knn_backend_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATYA_ADAPT_KNN", "faiss")
    with pytest.raises(ValueError) as info:
        Selector(None)
    assert str(info.value) == (
        "the environment variable SATYA_ADAPT_KNN must be 'python' or 'sklearn', got 'faiss'"
    )
    assert Selector(None, knn_backend="python")._backend == "python"  # the argument wins


# -- sharing and caching ----------------------------------------------------------------------


def test_shared_selector_per_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert Selector.shared(a) is Selector.shared(str(a))
    assert Selector.shared(a) is not Selector.shared(b)
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(a))
    assert Selector.shared(None) is not Selector.shared(a)  # origins differ: explain tells
    assert Selector.shared(None) is Selector.shared(None)
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(b))
    env_b = Selector.shared(None)
    assert env_b is not Selector.shared(a)
    with pytest.warns(ArchiveWarning, match="not found"):
        assert env_b.explain(profile(600))["archive"]["origin"] == "environment"
    assert env_b.location == str(b)


def test_answers_are_cached() -> None:
    s = selector()
    p = profile(1500)
    first = s.select(p)
    assert s.select(p) is first
    assert s.select(profile(1500)) is first  # equal profile, same answer object
    assert s.select(profile(1510)) is first  # same quantized profile: cached by its key
    s.clear_cache()
    assert s.select(p) == first and s.select(p) is not first


def test_concurrent_selects_share_one_cache(tmp_path: Path) -> None:
    path = tmp_path / "archive.json"
    two = HERE._replace(usable_cores=2)
    A.write_archive(archive(known_cells(), hardware=two), path)
    rng = random.Random(3)
    profiles = [
        profile(
            rng.choice([16, 300, 600, 1500, 3000, 3500, 9000, 40000]) * rng.uniform(0.9, 1.1),
            rng.choice(["dicts", "json", "ndjson"]),
            n=rng.choice([None, 1, 100, 5000, 10**6]),
        )
        for _ in range(300)
    ]
    reference = Selector(archive(known_cells(), hardware=two), hardware=HERE)
    with pytest.warns(ArchiveWarning):
        expected = [reference.select(p) for p in profiles]

    shared = Selector(path, hardware=HERE)
    barrier = threading.Barrier(8)
    results: list[list[BatchConfig]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                results[k] = [shared.select(p) for p in profiles]
        except BaseException as exc:
            errors.append(exc)

    def run_all() -> None:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    with pytest.warns(ArchiveWarning) as record:
        run_all()
    assert errors == []
    assert all(r == expected for r in results)
    assert len(record) == 1
    assert len(shared.messages) == 1
    assert {c.source for c in expected} >= {"archive-exact", "archive-knn", "heuristic"}


# -- explain ------------------------------------------------------------------------------------


def test_explain_knn() -> None:
    s = selector()
    p = profile(1500, n=3000)
    out = s.explain(p)
    assert out["config"] == {
        "batch_size": 2434,
        "micro_batch_size": 235,
        "threads": 2,
        "source": "archive-knn",
    }
    assert out["unclamped"] == out["config"]
    assert out["clamped"] == []
    assert out["step"] == "archive-knn"
    assert out["profile"] == {
        "field_count": 8,
        "avg_string_length": 15.0,
        "constraint_complexity": 0.3,
        "object_size": 1500,
        "input_kind": "dicts",
        "n": 3000,
        "n_estimated": False,
    }
    assert out["quantized_profile"]["object_size"] == 2**10.5 - 1
    assert out["quantized_profile"]["n"] == 2048
    assert out["descriptor"] == {
        "features": ["input_kind", "object_size"],
        "index": [0, 2],
        "filled": False,
    }
    assert out["elite"] is None
    assert out["heuristic"] is None
    nbs = out["neighbours"]
    assert [(nb["index"], nb["distance"]) for nb in nbs] == [([0, 1], 0.75), ([0, 3], 1.25)]
    assert [nb["weight"] for nb in nbs] == pytest.approx([0.625, 0.375], rel=1e-12)
    assert nbs[0] == {
        "index": [0, 1],
        "input_kind": "dicts",
        "distance": 0.75,
        "weight": nbs[0]["weight"],
        "elite": {"batch_size": 4096, "micro_batch_size": 512, "threads": 2},
        "measured_object_size": 511.0,
        "throughput": 1_500_000.0,
        "default_throughput": 1_000_000.0,
        "speedup": 1.5,
        "speedup_ci": [1.3, 1.7],
        "peak_bytes": 123456,
        "n_measurements": 9,
    }
    assert nbs[1]["peak_bytes"] == 999
    assert out["archive"] == {
        "origin": "argument",
        "location": "<ArchiveFile>",
        "status": "ok",
        "problem": None,
        "trust": "full",
        "reasons": [],
        "cells": 4,
        "knn_backend": "python",
        "warnings": [],
    }
    orjson.dumps(out)  # JSON-ready


def test_explain_exact_and_clamped() -> None:
    out = selector().explain(profile(600, n=100))
    assert out["step"] == "archive-exact"
    assert out["elite"]["speedup_ci"] == [1.3, 1.7]
    assert out["elite"]["n_measurements"] == 9
    assert out["neighbours"] == []
    assert out["unclamped"] == {
        "batch_size": 4096,
        "micro_batch_size": 512,
        "threads": 2,
        "source": "archive-exact",
    }
    assert out["config"] == {
        "batch_size": 100,
        "micro_batch_size": 100,
        "threads": 1,
        "source": "archive-exact",
    }
    assert out["clamped"] == [
        "batch_size: 4096 -> 100",
        "micro_batch_size: 512 -> 100",
        "threads: 2 -> 1",
    ]


def test_explain_nearest_and_heuristic() -> None:
    s = selector(A.Selection(nearest_radius=0.75))
    near = s.explain(profile(3500))
    assert near["step"] == "archive-nearest"
    assert [(nb["index"], nb["distance"]) for nb in near["neighbours"]] == [([0, 3], 0.625)]
    assert near["elite"]["index"] == [0, 3]
    far = s.explain(profile(16))
    assert far["step"] == "heuristic"
    assert [(nb["index"], nb["distance"], nb["weight"]) for nb in far["neighbours"]] == [
        ([0, 1], 2.5, 0.0),
        ([0, 3], 4.5, 0.0),
    ]
    assert far["heuristic"] == {
        "work_per_record": 28.5,
        "chunk_records": 65536,
        "chunk_work": 1867776.0,
        "tasks_per_chunk": 8,
        "single_thread_because": "dicts are taken apart under the GIL",
        "batch_size": 65536,
        "micro_batch_size": 8192,
        "threads": 1,
    }


def test_explain_of_a_validator_that_does_not_adapt_says_the_default() -> None:
    """Before: `explain` asked the selector whatever `adapt` said (step `heuristic`, a
    configuration of 10 records), where every call ran the default configuration."""
    from satya_adapt import Validator

    v = Validator(SCHEMA, adapt=False)
    for recs, budget in ((records(10), None), (records(5000), "4KiB")):
        explained = v.explain(recs, memory_budget=budget)
        ran = v.validate_batch(recs, memory_budget=budget).config
        assert explained["config"] == ran._asdict()
        assert explained["step"] == "default"
        assert ran.source == ("default" if budget is None else "default+budget")
        assert explained["live"] is None and (explained["budget"] is None) == (budget is None)


def test_explain_agrees_with_select() -> None:
    s = selector(A.Selection(nearest_radius=0.75))
    for size in (16, 100, 300, 600, 1500, 3000, 3500, 9000, 10**6):
        for kind in ("dicts", "json", "ndjson"):
            for n in (None, 7, 100, 5000):
                p = profile(size, kind, n=n)
                assert BatchConfig(**s.explain(p)["config"]) == s.select(p)


# -- the k-NN against scikit-learn -------------------------------------------------------------


def random_archive(seed: int) -> A.ArchiveFile:
    rng = random.Random(seed)
    g = A.Grid(
        features=[
            A.GridFeature(name="field_count", scale="log", edges=[4.0, 8.0, 16.0, 32.0, 64.0]),
            A.GridFeature(
                name="object_size", scale="log", edges=[2.0**k - 1 for k in range(6, 15)]
            ),
        ]
    )
    cells: dict[Any, A.Cell] = {}
    for _ in range(25):
        p = profile(2 ** rng.uniform(5.3, 15.3), field_count=round(2 ** rng.uniform(0, 6.9)))
        b = 2 ** rng.randint(6, 15)
        elite: Any = "keep_default"
        if rng.random() < 0.8:
            elite = (b, 2 ** rng.randint(4, int(math.log2(b))), rng.randint(1, 4))
        c = cell(g, p, elite)
        cells.setdefault(tuple(c.index), c)
    selection = A.Selection(k=3, nearest_radius=0.0, confidence_radius=50.0)
    return archive(list(cells.values()), grid=g, selection=selection)


def test_knn_matches_scikit_learn() -> None:
    """The python k-NN, the sklearn backend and KNeighborsRegressor(weights="distance") agree."""
    pytest.importorskip("sklearn")
    from sklearn.neighbors import KNeighborsRegressor

    a = random_archive(1)
    python = Selector(a, hardware=HERE)
    sk = Selector(a, hardware=HERE, knn_backend="sklearn")
    X, y = [], []
    for c in a.cells:
        size = c.profile.object_size
        X.append(list(A.point(a.grid, profile(size, field_count=c.profile.field_count))))
        e = c.elite
        b, m, t = (
            (8192, 1024, 1) if isinstance(e, str) else (e.batch_size, e.micro_batch_size, e.threads)
        )
        y.append([math.log2(b * size), math.log2(m * size), t])
    model = KNeighborsRegressor(n_neighbors=3, weights="distance", algorithm="brute").fit(X, y)
    rng = random.Random(2)
    queries = [
        profile(2 ** rng.uniform(4.3, 16.3), field_count=round(2 ** rng.uniform(0, 7.6)))
        for _ in range(80)
    ]
    got = [python.select(p) for p in queries]
    assert [sk.select(p) for p in queries] == got  # (scikit-learn costs ~10 ms a query)
    for p in queries[:20]:
        mine, theirs = python.explain(p)["neighbours"], sk.explain(p)["neighbours"]
        assert [nb["index"] for nb in mine] == [nb["index"] for nb in theirs]
        assert [nb["distance"] for nb in mine] == pytest.approx([nb["distance"] for nb in theirs])
    knn = [(A.quantize(p), g) for p, g in zip(queries, got) if g.source == "archive-knn"]
    predicted = model.predict([list(A.point(a.grid, q)) for q, _ in knn])
    for (q, g), (lb, lm, t) in zip(knn, predicted):
        batch = round(2**lb / q.object_size)
        micro = min(round(2**lm / q.object_size), batch)
        threads = min(math.floor(t + 0.5), -(-batch // micro))
        assert g == BatchConfig(batch, micro, threads, "archive-knn")
    assert len(knn) > 40, len(knn)


# -- through the Validator --------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "name": {"type": "string", "minLength": 2},
    },
    "required": ["id", "name"],
}


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": i if i % 7 else -i - 1, "name": "ab" if i % 5 else "a"} for i in range(n)]


def archive_for(tmp_path: Path, prof: Any, elite: Any, hardware: Any = None) -> Path:
    """An archive file with one cell: ``elite`` at the descriptor of ``prof`` (this machine)."""
    from satya_adapt.hardware import current

    path = tmp_path / "archive.json"
    grid = KIND_SIZE_GRID
    A.write_archive(archive([cell(grid, prof, elite)], hardware=hardware or current()), path)
    return path


def test_validator_uses_the_archive(tmp_path: Path) -> None:
    from satya_adapt import Validator

    recs = records(3000)
    prof = Validator(SCHEMA).profile(recs)
    path = archive_for(tmp_path, prof, (512, 128, 1))
    v = Validator(SCHEMA, archive=path)
    result = v.validate_batch(recs)
    assert result.config == BatchConfig(512, 128, 1, "archive-exact")
    assert result.stats.chunks == 6  # 3000 records in chunks of 512
    reference = Validator(SCHEMA, adapt=False).validate_batch(recs)
    assert result.valid == reference.valid
    assert result.errors == reference.errors
    explained = v.explain(recs)
    assert explained["step"] == "archive-exact"
    assert explained["config"] == {
        "batch_size": 512,
        "micro_batch_size": 128,
        "threads": 1,
        "source": "archive-exact",
    }
    assert v.validate_batch(recs, batch_size=1000).config == BatchConfig(
        1000, 128, 1, "explicit+archive-exact"
    )
    # The knobs chosen are fitted to those given: the chosen micro_batch_size to a smaller
    # batch_size (it showed 128 under batch_size=100), and with threads given, a task for each.
    r = v.validate_batch(recs, batch_size=100)
    assert r.config == BatchConfig(100, 100, 1, "explicit+archive-exact")
    assert r.stats.tasks == 30  # one per chunk, as the config says
    r = v.validate_batch(recs, batch_size=100, threads=2)
    assert r.config == BatchConfig(100, 50, 2, "explicit+archive-exact")
    assert r.stats.tasks == 60  # two per chunk: one for each thread
    # What is given is run and shown as given.
    assert v.validate_batch(recs, batch_size=100, micro_batch_size=400).config == BatchConfig(
        100, 400, 1, "explicit+archive-exact"
    )


@pytest.mark.parametrize("kind", ["truncated", "wrong-version", "unknown-field"])
def test_validator_with_a_broken_archive_warns_once_and_stays_correct(
    tmp_path: Path, kind: str
) -> None:
    from satya_adapt import Validator

    path = tmp_path / "archive.json"
    path.write_bytes(broken_files()[kind])
    recs = records(500)
    reference = Validator(SCHEMA, adapt=False).validate_batch(recs)
    v = Validator(SCHEMA, archive=path)
    with pytest.warns(ArchiveWarning) as record:
        results = [v.validate_batch(recs) for _ in range(3)]
    assert len(record) == 1
    assert str(record[0].message).endswith(EXPECTED_PROBLEM[kind])
    for r in results:
        assert r.config.source == "heuristic"
        assert r.config.batch_size == 500  # clamped to the call
        assert (r.valid, r.errors) == (reference.valid, reference.errors)
    data = orjson.dumps(recs)
    assert Validator(SCHEMA, archive=path).validate_json(data).valid == reference.valid


def test_environment_variable_names_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from satya_adapt import Validator

    recs = records(3000)
    prof = Validator(SCHEMA).profile(recs)
    path = archive_for(tmp_path, prof, (1024, 256, 1))
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(path))
    assert Validator(SCHEMA).validate_batch(recs).config == BatchConfig(
        1024, 256, 1, "archive-exact"
    )
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(tmp_path / "missing.json"))
    with pytest.warns(ArchiveWarning, match="not found"):
        got = Validator(SCHEMA).validate_batch(recs).config.source
    assert got == "heuristic"


def test_validators_in_threads_share_the_selector(tmp_path: Path) -> None:
    from satya_adapt import Validator

    recs = records(2000)
    prof = Validator(SCHEMA).profile(recs)
    path = archive_for(tmp_path, prof, (256, 64, 1))
    reference = Validator(SCHEMA, adapt=False).validate_batch(recs)
    validators = [Validator(SCHEMA, archive=path) for _ in range(4)]
    out: list[Any] = [None] * 8
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        v = validators[k % 4]
        out[k] = [v.validate_batch(recs[: 500 + 100 * j]) for j in range(16)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Selector.shared(path)._fast  # one shared cache filled by all
    for results in out:
        assert [r.valid for r in results] == [reference.valid[: 500 + 100 * j] for j in range(16)]
        assert results[-1].config.source in ("archive-exact", "archive-nearest", "archive-knn")


# -- where the warning points ---------------------------------------------------------------------


def test_archive_warning_points_at_the_users_call(tmp_path: Path) -> None:
    """Before (issue 11): the warning pointed at library lines (`selector.py:174`,
    `validator.py:525`), whatever line of the user's called the validator."""
    import inspect

    from satya_adapt import Validator
    from satya_adapt import hardware as H

    other = H.current()._replace(cpu_family="not-this-one")
    for name, budget in (("select.json", None), ("budget.json", "64MiB")):
        path = tmp_path / name
        A.write_archive(archive(known_cells(), hardware=other), path)
        v = Validator({"type": "object"}, archive=path)
        with pytest.warns(ArchiveWarning) as record:
            v.validate_batch([{"a": 1}], memory_budget=budget)
            here = inspect.stack()[0].lineno - 1  # the line above
        assert [(w.filename, w.lineno) for w in record] == [(__file__, here)], name


def test_a_validator_reads_its_archive_when_made_and_warns_at_the_first_call(
    tmp_path: Path,
) -> None:
    """The archive is read when the validator is made (a first call spent 0.1-0.6 ms outside
    the engine on it), and what is wrong with it is still said at the user's first call, not
    where the validator was made. Before: read at the first call, so an archive removed
    meanwhile was reported missing."""
    import inspect
    import warnings

    from satya_adapt import Validator
    from satya_adapt import hardware as H

    path = tmp_path / "other.json"
    A.write_archive(archive(known_cells(), hardware=H.current()._replace(cpu_family="x")), path)
    with warnings.catch_warnings(record=True) as made:
        warnings.simplefilter("always")
        v = Validator({"type": "object"}, archive=path)
    assert made == []
    path.unlink()
    with pytest.warns(ArchiveWarning) as record:
        v.validate_batch([{"a": 1}])
        here = inspect.stack()[0].lineno - 1  # the line above
    assert [str(w.message) for w in record] == [
        f"archive {path} was measured on another hardware class (CPU family differs: archive"
        f" 'x', here '{H.current().cpu_family}'); the heuristic chooses batch configurations"
    ]
    assert [(w.filename, w.lineno) for w in record] == [(__file__, here)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v.validate_batch([{"a": 1}])  # said once


def test_the_heuristic_answer_is_fitted_to_the_call_with_even_chunks() -> None:
    """The heuristic's chunks on a call whose last chunk would be short are made equal (its
    rule sees the cell's ``n``, a power of two); an elite keeps the chunks it was measured
    with, clamped as before."""
    s = Selector(archive([], hardware=HERE), hardware=HERE)
    assert s.select(profile(600, n=16384)) == BatchConfig(4096, 256, 1, "heuristic")
    assert s.select(profile(600, n=5000)) == BatchConfig(5000, 256, 1, "heuristic")
    explained = s.explain(profile(600, n=5000))
    assert explained["config"]["batch_size"] == 5000
    assert explained["clamped"] == ["batch_size: 4096 -> 5000"]
    assert s.select_within(profile(600, n=5000), NO_BUDGET) == s.select(profile(600, n=5000))
    elite = Selector(archive([cell(KIND_SIZE_GRID, profile(511), A_ELITE)]), hardware=HERE)
    assert elite.select(profile(511, n=5000)) == BatchConfig(4096, 512, 2, "archive-exact")


def test_threads_given_by_the_caller_get_the_chunks_of_that_many() -> None:
    """A heuristic answer for a pool has chunks four times as large; a caller who gives one
    thread gets the one-thread chunks (and the other way round); an elite keeps its own."""
    s = Selector(archive([], hardware=HERE), hardware=HERE)
    call = profile(600, "json", n=65536)
    pooled = s.select(call)
    assert pooled.threads > 1 and pooled.batch_size == 16384
    assert s.select_for_threads(call, 1) == BatchConfig(4096, 256, 1, "heuristic")
    assert s.select_for_threads(call, 2) == pooled
    tiny = profile(20, "ndjson", n=65536)  # too small for a pool by the rule (w 38 < 64)
    assert s.select(tiny).threads == 1
    assert s.select_for_threads(tiny, 1) == s.select(tiny)
    assert s.select_for_threads(tiny, 2) == BatchConfig(65536, 8192, 2, "heuristic")
    elite = Selector(archive([cell(KIND_SIZE_GRID, profile(511), A_ELITE)]), hardware=HERE)
    assert elite.select_for_threads(profile(511, n=65536), 1) == elite.select(
        profile(511, n=65536)
    )


def test_a_call_given_one_thread_runs_the_one_thread_chunks(tmp_path: Path) -> None:
    from satya_adapt import Validator

    empty = tmp_path / "empty.json"
    A.write_archive(archive([], hardware=HERE), empty)
    schema = {"type": "object", "properties": {"s": {"type": "string", "minLength": 1}}}
    data = b"".join(b'{"s": "%s"}\n' % (b"x" * 580) for _ in range(20000))
    v = Validator(schema, archive=str(empty))
    pooled = v.validate_ndjson(data).config
    alone = v.validate_ndjson(data, threads=1).config
    assert alone.threads == 1 and alone.source == "explicit+heuristic"
    if pooled.threads > 1:  # a machine of one core has no pool to size for
        assert alone.batch_size * 3 < pooled.batch_size


def test_answer_caches_stay_small_over_calls_of_ever_new_counts() -> None:
    """Calls whose record count is new every time (20,000 counts) keep the answers fitted to
    one count within 4,096 entries of each cache (65,536 before: 16 MB), and answer as a fresh
    selector does."""
    sel = Selector(None)
    for n in range(1, 20001):
        sel.select((2, 3.0, 0.1, 30.0, "dicts", n))
    assert len(sel._fast) <= 4096
    assert len(sel._clamped) <= 4096
    fresh = Selector(None)
    for n in (1, 777, 4096, 19999, 20000):
        assert sel.select((2, 3.0, 0.1, 30.0, "dicts", n)) == fresh.select((2, 3.0, 0.1, 30.0, "dicts", n))
