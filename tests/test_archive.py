"""Archive format: strict decoding, consistency checks, atomic writes, discovery, descriptors."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import msgspec
import orjson
import pytest
from archive_helpers import DATE, HERE, KIND_SIZE_GRID, archive, cell, profile

from satya_adapt import ArchiveError
from satya_adapt import archive as A
from satya_adapt.hardware import HardwareClass

ROOT = Path(__file__).resolve().parent.parent


def sample() -> A.ArchiveFile:
    return archive(
        [
            cell(KIND_SIZE_GRID, profile(511), (4096, 512, 2)),
            cell(KIND_SIZE_GRID, profile(2047), "keep_default", speedup=1.02, ci=(0.97, 1.06)),
        ]
    )


def sample_doc() -> dict:
    return orjson.loads(A.encode_archive(sample()))


def write_doc(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "archive.json"
    path.write_bytes(orjson.dumps(doc))
    return path


# -- round trip ---------------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    A.write_archive(sample(), path)
    assert A.load_archive(path) == sample()
    assert A.load_archive(str(path)) == sample()


def test_encoded_document_layout() -> None:
    doc = sample_doc()
    assert list(doc) == [
        "format",
        "format_version",
        "provenance",
        "grid",
        "selection",
        "cells",
        "history",
        "optimizer",
    ]
    assert doc["format"] == "satya-adapt-archive"
    assert doc["format_version"] == 2  # written as version 2 (fronts), whatever was read
    assert doc["provenance"]["date"] == "2025-01-02T03:04:05Z"
    assert doc["provenance"]["hardware"] == {
        "cpu_model": "Test CPU",
        "cpu_vendor": "GenuineIntel",
        "cpu_family": "6",
        "machine": "x86_64",
        "usable_cores": 4,
        "os": "Linux",
    }
    assert doc["cells"][0]["index"] == [0, 1]
    assert doc["cells"][0]["elite"] == {"batch_size": 4096, "micro_batch_size": 512, "threads": 2}
    assert doc["cells"][1]["elite"] == "keep_default"
    assert doc["cells"][1]["index"] == [0, 2]
    assert doc["selection"] == {
        "k": 4,
        "nearest_radius": 0.5,
        "confidence_radius": 2.0,
        "transfer": "bytes",
    }
    assert doc["optimizer"] == {
        "generation": 3,
        "evaluations": 42,
        "random_state": {"kind": "none"},
    }


def test_cell_workload_round_trips(tmp_path: Path) -> None:
    a = sample()
    a.cells[0].workload = {"name": "mixed10", "string_length": 12, "fields": [["a", "str"]]}
    path = tmp_path / "a.json"
    A.write_archive(a, path)
    assert A.load_archive(path).cells[0].workload == a.cells[0].workload
    assert orjson.loads(path.read_bytes())["cells"][1]["workload"] is None


def test_keep_default_property() -> None:
    a = sample()
    assert [c.keep_default for c in a.cells] == [False, True]


# -- strict decoding: the message names the field --------------------------------------------------


def error_of(tmp_path: Path, doc: object) -> str:
    path = write_doc(tmp_path, doc)
    with pytest.raises(ArchiveError) as info:
        A.load_archive(path)
    message = str(info.value)
    prefix = f"{path}: "
    assert message.startswith(prefix)
    return message[len(prefix) :]


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["cells"][0]["extra"] = 1
    assert error_of(tmp_path, doc) == "Object contains unknown field `extra` - at `$.cells[0]`"


def test_integers_beyond_floats_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    # Found by a hostile-input hunt: an integer beyond floats passed decoding and raised
    # OverflowError where it became a float (a traceback from `archive show`), and JSON nested
    # 1,000 deep raised msgspec's RecursionError.
    for path, value in (("profile", 10**400), ("peak", 2**53 + 1)):
        doc = sample_doc()
        if path == "profile":
            doc["cells"][0]["profile"]["field_count"] = value
            at = "$.cells[0].profile.field_count"
        else:
            doc["cells"][0]["peak_bytes"] = value
            at = "$.cells[0].peak_bytes"
        (tmp_path / "archive.json").write_text(json.dumps(doc))
        with pytest.raises(ArchiveError) as info:
            A.load_archive(tmp_path / "archive.json")
        assert str(info.value).endswith(f"Expected `int` <= 9007199254740992 - at `{at}`")
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 1000 + "1" + "}" * 1000)
    with pytest.raises(ArchiveError) as info:
        A.load_archive(deep)
    assert str(info.value) == f"{deep}: its JSON nests too deep to be read"


def test_unknown_top_level_field_is_refused(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["comment"] = "hi"
    assert error_of(tmp_path, doc) == "Object contains unknown field `comment`"


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["cells"][0]["elite"]["batch_size"] = "4096"
    assert error_of(tmp_path, doc) == "Expected `int`, got `str` - at `$.cells[0].elite.batch_size`"


def test_out_of_range_value_names_the_field(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["cells"][0]["elite"]["threads"] = 0
    assert error_of(tmp_path, doc) == "Expected `int` >= 1 - at `$.cells[0].elite.threads`"


def test_missing_field_names_it(tmp_path: Path) -> None:
    doc = sample_doc()
    del doc["cells"][1]["n_measurements"]
    assert (
        error_of(tmp_path, doc)
        == "Object missing required field `n_measurements` - at `$.cells[1]`"
    )


def test_bad_elite_string(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["cells"][1]["elite"] = "keep"
    assert error_of(tmp_path, doc) == "Invalid enum value 'keep' - at `$.cells[1].elite`"


def test_wrong_version(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["format_version"] = 3
    assert error_of(tmp_path, doc) == (
        "unsupported `format_version` 3; this satya-adapt reads versions 1 and 2"
        " - at `$.format_version`"
    )


def test_not_an_archive(tmp_path: Path) -> None:
    assert error_of(tmp_path, {"generations": 3}) == (
        "not an archive: no `format`, expected 'satya-adapt-archive' - at `$.format`"
    )
    assert error_of(tmp_path, [1, 2]) == "not an archive: Expected `object`, got `array`"


def test_truncated_file(tmp_path: Path) -> None:
    data = A.encode_archive(sample())
    path = tmp_path / "a.json"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="not valid JSON: Input data was truncated$"):
        A.load_archive(path)


def test_empty_and_binary_files(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"")
    with pytest.raises(ArchiveError, match="not valid JSON: Input data was truncated$"):
        A.load_archive(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(
        ArchiveError, match=r"not valid JSON: JSON is malformed: invalid character \(byte 0\)$"
    ):
        A.load_archive(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ArchiveError) as info:
        A.load_archive(path)
    assert str(info.value) == f"{path}: cannot read the archive: No such file or directory"


def test_archive_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        A.decode_archive(b"{")


# -- consistency checks ----------------------------------------------------------------------------


def check_message(doc: dict) -> str:
    with pytest.raises(ArchiveError) as info:
        A.decode_archive(orjson.dumps(doc), "x.json")
    return str(info.value)


def test_index_must_match_the_profile() -> None:
    doc = sample_doc()
    doc["cells"][0]["index"] = [0, 2]
    assert check_message(doc) == (
        "x.json: `index` [0, 2] is not the descriptor of the cell's profile [0, 1]"
        " - at `$.cells[0].index`"
    )


def test_index_length_must_match_the_grid() -> None:
    doc = sample_doc()
    doc["cells"][0]["index"] = [0]
    assert check_message(doc) == (
        "x.json: `index` has 1 entries, the grid has 2 features - at `$.cells[0].index`"
    )


def test_duplicate_cells_are_refused() -> None:
    doc = sample_doc()
    doc["cells"].append(doc["cells"][0])
    assert check_message(doc) == "x.json: `index` [0, 1] repeats cells[0] - at `$.cells[2].index`"


def test_edges_must_increase() -> None:
    doc = sample_doc()
    doc["grid"]["features"][1]["edges"] = [255.0, 255.0, 4095.0]
    assert check_message(doc) == (
        "x.json: edges must be strictly increasing - at `$.grid.features[1].edges[1]`"
    )


def test_feature_scale_must_fit_the_feature() -> None:
    doc = sample_doc()
    doc["grid"]["features"][1]["scale"] = "category"
    assert check_message(doc) == (
        "x.json: `object_size` is numeric: its scale must be 'log' or 'linear'"
        " - at `$.grid.features[1].scale`"
    )
    doc = sample_doc()
    doc["grid"]["features"][0]["name"] = "object_size"
    assert check_message(doc) == (
        "x.json: `object_size` is numeric: its scale must be 'log' or 'linear'"
        " - at `$.grid.features[0].scale`"
    )


def test_unknown_feature_name() -> None:
    doc = sample_doc()
    doc["grid"]["features"][1]["name"] = "n"
    assert check_message(doc) == "x.json: Invalid enum value 'n' - at `$.grid.features[1].name`"


def test_speedup_must_lie_in_its_interval() -> None:
    doc = sample_doc()
    doc["cells"][0]["speedup_ci_low"] = 1.3
    assert check_message(doc) == (
        "x.json: `speedup` must lie in [`speedup_ci_low`, `speedup_ci_high`] - at `$.cells[0].speedup`"
    )


def test_micro_batch_size_must_not_exceed_batch_size() -> None:
    doc = sample_doc()
    doc["cells"][0]["elite"]["micro_batch_size"] = 8192
    assert check_message(doc) == (
        "x.json: `micro_batch_size` must not exceed `batch_size`"
        " - at `$.cells[0].elite.micro_batch_size`"
    )


def test_cells_need_hardware() -> None:
    doc = sample_doc()
    doc["provenance"]["hardware"] = None
    assert check_message(doc) == (
        "x.json: `hardware` and `software` are required in an archive with cells - at `$.provenance`"
    )


def test_radii_order() -> None:
    doc = sample_doc()
    doc["selection"]["nearest_radius"] = 3.0
    assert check_message(doc) == (
        "x.json: `nearest_radius` must not exceed `confidence_radius` - at `$.selection.nearest_radius`"
    )


def test_date_needs_a_timezone() -> None:
    doc = sample_doc()
    doc["provenance"]["date"] = "2025-01-02T03:04:05"
    assert check_message(doc) == (
        "x.json: Expected `datetime` with a timezone component - at `$.provenance.date`"
    )


def test_non_finite_numbers_are_refused_on_write() -> None:
    a = sample()
    a.cells[0].throughput = float("nan")
    with pytest.raises(
        ArchiveError,
        match=r"^<archive>: `throughput` must be finite - at `\$.cells\[0\].throughput`$",
    ):
        A.encode_archive(a)


# -- writing -------------------------------------------------------------------------------------


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    A.write_archive(sample(), path)
    assert path.read_bytes() == A.encode_archive(sample())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_failed_encoding_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    A.write_archive(sample(), path)
    before = path.read_bytes()
    bad = sample()
    bad.optimizer = A.OptimizerState(generation=1, random_state={"big": 2**70})
    with pytest.raises(ArchiveError) as info:
        A.write_archive(bad, path)
    assert str(info.value) == (
        "cannot encode the archive: Integer exceeds 64-bit range - at `$.optimizer`"
        " (JSON values only; integers within 64 bits)"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_write_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "no" / "a.json"
    with pytest.raises(ArchiveError) as info:
        A.write_archive(sample(), target)
    assert str(info.value) == f"{target}: cannot write the archive: No such file or directory"


def test_write_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    # Found by a hostile-input hunt: the rename replaced a FIFO or a device at the path with a
    # regular file (as root, `archive merge ... -o /dev/full` replaced /dev/full).
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target, kind in ((fifo, "not a regular file"), (folder, "a folder")):
        with pytest.raises(ArchiveError) as info:
            A.write_archive(sample(), target)
        assert str(info.value) == f"{target}: cannot write the archive: {kind}, left as it is"
    assert os.path.exists(fifo) and not os.path.isfile(fifo)
    # Through a symbolic link, its file is written and the link stays.
    (tmp_path / "real.json").write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    A.write_archive(sample(), link)
    assert link.is_symlink()
    assert A.load_archive(tmp_path / "real.json") == A.load_archive(link)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link.json", "out.fifo", "real.json"]


def test_rng_state_round_trip_python() -> None:
    rng = random.Random(5)
    rng.random()
    state = A.rng_state_to_json(rng)
    assert state["kind"] == "python"
    stored = orjson.loads(orjson.dumps(state))
    again = A.rng_from_json(stored)
    assert [again.random() for _ in range(3)] == [rng.random() for _ in range(3)]


def test_rng_state_round_trip_numpy(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(11)
    rng.random()
    a = sample()
    a.optimizer = A.OptimizerState(generation=9, random_state=A.rng_state_to_json(rng))
    path = tmp_path / "a.json"
    A.write_archive(a, path)
    loaded = A.load_archive(path)
    assert loaded.optimizer is not None and loaded.optimizer.generation == 9
    again = A.rng_from_json(loaded.optimizer.random_state)
    assert again.random(3).tolist() == rng.random(3).tolist()


def test_rng_from_json_refuses_other_values() -> None:
    with pytest.raises(ArchiveError, match="not a state written by rng_state_to_json"):
        A.rng_from_json({"kind": "pickle"})


# -- descriptors ----------------------------------------------------------------------------------


def test_quantize_rounds_sampled_features_to_a_quarter_octave() -> None:
    q = A.quantize(profile(600.0, avg_string_length=15.0, n=77))
    # 4 * log2(601) = 36.93 -> 37 steps -> 2 ** 9.25 - 1
    assert q.object_size == 2**9.25 - 1
    assert q.avg_string_length == 15.0  # 4 * log2(16) = 16 steps exactly
    assert (q.field_count, q.constraint_complexity, q.input_kind, q.n) == (8, 0.3, "dicts", 77)


def test_quantize_makes_bad_values_safe() -> None:
    q = A.quantize((-3, float("nan"), 7.0, -1.0, "dicts", None))
    assert tuple(q) == (0, 0.0, 1.0, 1.0, "dicts", None, False)


def test_descriptor_bins() -> None:
    g = KIND_SIZE_GRID
    assert A.descriptor(g, profile(100.0)) == (0, 0)
    assert A.descriptor(g, profile(255.0)) == (0, 1)  # an edge belongs to the bin above it
    assert A.descriptor(g, profile(600.0, "json")) == (1, 1)
    assert A.descriptor(g, profile(3000.0, "ndjson")) == (2, 2)
    assert A.descriptor(g, profile(1e6)) == (0, 3)
    assert A.descriptor(g, profile(600.0, "xml")) is None


def test_feature_unit_and_point() -> None:
    f = KIND_SIZE_GRID.features[1]
    assert A.feature_unit(f) == 2.0  # log2(256), log2(1024), log2(4096): gaps of 2
    assert A.feature_unit(A.GridFeature(name="object_size", scale="log", edges=[7.0])) == 1.0
    assert A.feature_unit(
        A.GridFeature(name="constraint_complexity", scale="linear", edges=[0.2, 0.4, 0.8])
    ) == pytest.approx(0.3)
    assert A.feature_unit(A.GridFeature(name="field_count", scale="log", unit=0.5)) == 0.5
    assert A.point(KIND_SIZE_GRID, profile(511.0)) == (4.5,)


def test_cell_profile_from_a_profile() -> None:
    c = A.cell_profile(profile(300.0, "json", n=5000))
    assert msgspec.to_builtins(c) == {
        "field_count": 8,
        "avg_string_length": 15.0,
        "constraint_complexity": 0.3,
        "object_size": 300.0,
        "input_kind": "json",
        "n": 5000,
    }


def test_provenance_here_describes_this_process() -> None:
    p = A.provenance_here(tool="t", command="c", seed=1, generations=2)
    assert p.hardware is not None and p.software is not None
    assert p.hardware.usable_cores >= 1
    assert p.date.tzinfo is not None
    cls = A.hardware_class(p)
    assert isinstance(cls, HardwareClass)
    assert cls.usable_cores == p.hardware.usable_cores
    assert (
        A.hardware_class(
            A.Provenance(
                tool="t",
                date=DATE,
                command=None,
                seed=None,
                generations=0,
                hardware=None,
                software=None,
            )
        )
        is None
    )


# -- discovery and the shipped archive ----------------------------------------------------------


def test_discovery_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", str(tmp_path / "env.json"))
    assert A.discover_archive(tmp_path / "arg.json") == ("argument", str(tmp_path / "arg.json"))
    assert A.discover_archive() == ("environment", str(tmp_path / "env.json"))
    monkeypatch.setenv("SATYA_ADAPT_ARCHIVE", "")
    origin, location = A.discover_archive()
    assert origin == "shipped"
    assert Path(str(location)).parts[-3:] == ("satya_adapt", "archives", "default.json")


def test_shipped_archive_loads() -> None:
    shipped = A.shipped_archive()
    assert os.path.isfile(shipped)
    a = A.load_archive(shipped)
    assert a.format_version in A.READ_VERSIONS


def test_repository_and_package_archives_are_identical() -> None:
    repo = ROOT / "archives" / "default.json"
    package = ROOT / "satya_adapt" / "archives" / "default.json"
    if not repo.is_file():
        pytest.skip("not a source checkout")
    assert package.read_bytes() == repo.read_bytes(), (
        "satya_adapt/archives/default.json differs from archives/default.json:"
        " run satya_adapt.archive.sync_shipped_archive()"
    )
    A.decode_archive(repo.read_bytes(), str(repo))


def test_sync_shipped_archive_checks_its_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{}")
    with pytest.raises(ArchiveError, match="not an archive"):
        A.sync_shipped_archive(bad)
    with pytest.raises(ArchiveError, match="cannot read the archive"):
        A.sync_shipped_archive(tmp_path / "missing.json")


# -- format version 2: Pareto fronts ------------------------------------------------------------

from satya_adapt.budget import Budget  # noqa: E402
from satya_adapt.config import BatchConfig  # noqa: E402
from satya_adapt.selector import Selector  # noqa: E402


def point(
    b: int,
    speedup: float,
    ci: tuple[float, float],
    peak: int,
    hold: float | None,
    *,
    m: int = 64,
    t: int = 1,
    default: bool = False,
) -> A.FrontPoint:
    return A.FrontPoint(
        config=A.Elite(batch_size=b, micro_batch_size=m, threads=t),
        default=default,
        throughput=1_000_000.0 * speedup,
        speedup=speedup,
        speedup_ci_low=ci[0],
        speedup_ci_high=ci[1],
        peak_bytes=peak,
        max_gil_hold=hold,
    )


# The front of a dicts cell of 511-byte records: batch_size barely moves throughput, but memory
# and pauses grow with it (the default configuration is kept whatever its speedup).
FRONT = [
    point(8192, 1.0, (0.97, 1.03), 74_000, 0.0040, m=1024, default=True),
    point(65536, 1.10, (1.05, 1.15), 590_000, 0.032),
    point(1024, 1.02, (0.99, 1.06), 9_300, 0.0005),
    point(128, 0.80, (0.75, 0.85), 1_200, 0.00007),
]


def front_archive(front: list[A.FrontPoint] = FRONT) -> A.ArchiveFile:
    c = cell(KIND_SIZE_GRID, profile(511), (65536, 64, 1), speedup=1.10, ci=(1.05, 1.15))
    c = msgspec.structs.replace(c, front=front, max_gil_hold=0.032, peak_bytes=590_000)
    return archive([c])


def test_front_round_trips_in_version_2(tmp_path: Path) -> None:
    a = front_archive()
    path = tmp_path / "a.json"
    A.write_archive(a, path)
    doc = orjson.loads(path.read_bytes())
    assert doc["format_version"] == 2
    assert doc["cells"][0]["front"][2] == {
        "config": {"batch_size": 1024, "micro_batch_size": 64, "threads": 1},
        "default": False,
        "throughput": 1_020_000.0,
        "speedup": 1.02,
        "speedup_ci_low": 0.99,
        "speedup_ci_high": 1.06,
        "peak_bytes": 9300,
        "max_gil_hold": 0.0005,
    }
    assert A.load_archive(path).cells[0].front == FRONT


def test_version_1_file_loads_as_one_point_fronts(tmp_path: Path) -> None:
    doc = sample_doc()
    doc["format_version"] = 1
    path = tmp_path / "v1.json"
    path.write_bytes(orjson.dumps(doc))
    a = A.load_archive(path)
    assert a.format_version == 1
    for c in a.cells:
        (only,) = A.cell_front(c)
        assert only.default == c.keep_default
        assert (only.throughput, only.peak_bytes, only.max_gil_hold) == (
            c.throughput, c.peak_bytes, None
        )
        if not c.keep_default:
            assert only.config == c.elite
            assert only.speedup == c.speedup
        else:  # the default configuration against itself
            assert only.config == A.Elite(batch_size=8192, micro_batch_size=1024, threads=1)
            assert (only.speedup, only.speedup_ci_low, only.speedup_ci_high) == (1.0, 1.0, 1.0)


#: The archive shipped before fronts (format version 1, 35 cells), kept as a fixture.
VERSION_1 = Path(__file__).parent / "data" / "archive_version_1.json"


def test_version_1_archive_reads_as_one_point_fronts() -> None:
    a = A.load_archive(VERSION_1)
    assert a.format_version == 1 and len(a.cells) == 35
    fronts = [A.cell_front(c) for c in a.cells]
    assert all(len(f) == 1 for f in fronts)
    assert sum(f[0].default for f in fronts) == sum(c.keep_default for c in a.cells) == 20


def test_shipped_archive_has_fronts() -> None:
    """The shipped archive is version 2: every cell holds its front, the default configuration
    first; some hold several points, and every elite is on its cell's front."""
    a = A.load_archive(A.shipped_archive())
    assert a.format_version == 2
    assert all(c.front and c.front[0].default for c in a.cells)
    assert max(len(c.front) for c in a.cells) > 2
    for c in a.cells:
        if not c.keep_default:
            assert c.elite in [p.config for p in c.front]


def test_version_1_with_a_front_is_refused(tmp_path: Path) -> None:
    doc = orjson.loads(A.encode_archive(front_archive()))
    doc["format_version"] = 1
    assert error_of(tmp_path, doc) == (
        "`front` and `max_gil_hold` need `format_version` 2 - at `$.cells[0].front`"
    )


def test_dominated_front_point_is_refused(tmp_path: Path) -> None:
    doc = orjson.loads(A.encode_archive(front_archive()))
    worse = dict(doc["cells"][0]["front"][2], peak_bytes=9400, max_gil_hold=0.0006)
    doc["cells"][0]["front"].append(worse)
    assert error_of(tmp_path, doc) == (
        "the point is dominated by front[2] - at `$.cells[0].front[4]`"
    )


def test_a_front_of_more_than_64_points_is_refused(tmp_path: Path) -> None:
    # Checking a front compares every pair of its points: 16,000 points took 38 s to load
    # (a hostile-input hunt); the search keeps 8.
    doc = orjson.loads(A.encode_archive(front_archive()))
    first = doc["cells"][0]["front"][0]
    doc["cells"][0]["front"] = [dict(first, peak_bytes=i) for i in range(A.MAX_FRONT_POINTS + 1)]
    assert error_of(tmp_path, doc) == (
        f"Expected `array` of length <= {A.MAX_FRONT_POINTS} - at `$.cells[0].front`"
    )
    archive = front_archive()
    cell = archive.cells[0]
    many = [msgspec.structs.replace(cell.front[0], peak_bytes=i) for i in range(65)]
    big = msgspec.structs.replace(archive, cells=[msgspec.structs.replace(cell, front=many)])
    with pytest.raises(ArchiveError, match="`front` holds more than 64 points"):
        A.encode_archive(big)  # never written


def test_point_with_the_grid_units_given_is_the_same() -> None:
    grid = sample().grid
    units = A.feature_units(grid)
    for c in sample().cells:
        profile = A.as_profile(c.profile)
        assert A.point(grid, profile, units) == A.point(grid, profile)


def test_pareto_front_and_dominance() -> None:
    a = point(1024, 1.0, (0.9, 1.1), 100, 0.001)
    b = point(2048, 1.0, (0.9, 1.1), 200, 0.001)  # more memory, same otherwise
    c = point(4096, 1.2, (1.1, 1.3), 400, 0.004)  # faster, costlier
    unmeasured = point(512, 1.0, (0.9, 1.1), 100, None)  # an unmeasured hold counts as worst
    assert A.dominates(a, b) and not A.dominates(b, a)
    assert not A.dominates(a, c) and not A.dominates(c, a)
    assert A.dominates(a, unmeasured)
    assert A.pareto_front([b, a, c, a, unmeasured]) == [a, c]


def test_selector_takes_least_memory_within_noise_from_a_front() -> None:
    s = Selector(front_archive(), hardware=HERE)
    config = s.select(profile(511))
    assert config == BatchConfig(1024, 64, 1, "archive-exact")
    out = s.explain(profile(511))
    assert [p["chosen"] for p in out["front"]] == [False, False, True, False]
    assert out["front_choice"] == (
        "within noise of the highest speedup (1.020 vs 1.100, intervals overlap) with the least"
        " memory in flight (9300 vs 590000 bytes)"
    )
    assert out["budget"] is None


def test_selector_chooses_within_a_budget_from_a_front() -> None:
    s = Selector(front_archive(), hardware=HERE)
    p = profile(511)
    # loose: the fastest point fits
    assert s.select_within(p, Budget(memory=1 << 20)) == BatchConfig(65536, 64, 1, "archive-exact")
    # a pause budget the default configuration keeps: the best speedup within it
    assert s.select_within(p, Budget(pause=0.005)) == BatchConfig(1024, 64, 1, "archive-exact")
    # tight: only the smallest point fits
    assert s.select_within(p, Budget(memory=2000)) == BatchConfig(128, 64, 1, "archive-exact")
    # tighter than every point: the fastest point, cut by the model (16 bytes a record)
    assert s.select_within(p, Budget(memory=1000)) == BatchConfig(62, 62, 1, "archive-exact+budget")
    out = s.explain(p, Budget(memory=2000))
    assert out["front_choice"] == (
        "the highest speedup within the budget (0.800; the best, 1.100, does not keep within it)"
    )
    assert out["config"]["batch_size"] == 128
    assert out["budget"]["cut"] is False


def test_keep_default_point_answers_keep_default() -> None:
    front = [FRONT[0], FRONT[1]]
    s = Selector(front_archive(front), hardware=HERE)
    # the two intervals do not overlap: the faster point wins without a budget
    assert s.select(profile(511)) == BatchConfig(65536, 64, 1, "archive-exact")
    assert s.select_within(profile(511), Budget(memory=100_000)) == BatchConfig(
        8192, 1024, 1, "archive-keep-default"
    )


def test_archive_show_lists_fronts(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "front.json"
    A.write_archive(front_archive(), path)
    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", "archive", "show", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    at = lines.index("fronts       non-dominated configurations per cell (* the cell's elite)")
    assert lines[at + 1 : at + 6] == [
        "  index   B/M/T                  speedup [CI]       peak       longest GIL hold",
        "  [0, 1]  8192/1024/1 (default)  1.00 [0.97, 1.03]  72.3 KiB   4.0 ms",
        "          65536/64/1 *           1.10 [1.05, 1.15]  576.2 KiB  32.0 ms",
        "          1024/64/1              1.02 [0.99, 1.06]  9.1 KiB    500 us",
        "          128/64/1               0.80 [0.75, 0.85]  1.2 KiB    70 us",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", "archive", "show", str(path), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    doc = orjson.loads(proc.stdout)
    assert [p["config"]["batch_size"] for p in doc["fronts"][0]["points"]] == [8192, 65536, 1024, 128]


def test_archive_show_of_a_version_1_archive_has_no_fronts_section() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", "archive", "show", str(VERSION_1)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert not any(line.startswith("fronts") for line in proc.stdout.splitlines())


def test_plot_fronts_beside_the_heat_map(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from satya_adapt.tuning.plot import fronts_path, plot_fronts

    assert fronts_path(tmp_path / "a.png") == str(tmp_path / "a-fronts.png")
    out = plot_fronts(front_archive(), tmp_path / "f.png")
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_fronts(archive([]), tmp_path / "empty.svg")
    assert (tmp_path / "empty.svg").read_text().lstrip().startswith("<?xml")
