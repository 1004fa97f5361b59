"""The `satya-adapt` command line, driven as a subprocess (`python -m satya_adapt ...`)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from satya_adapt import Validator
from satya_adapt import archive as A
from satya_adapt.tuning import workloads as W
from satya_adapt.cli._common import Progress, _rate

DATE = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

#: A small grid of the tests' own (the shipped archive's grid may change).
GRID = A.Grid(
    features=[
        A.GridFeature(name="input_kind", scale="category", categories=["dicts", "json", "ndjson"]),
        A.GridFeature(name="field_count", scale="log", edges=[4.0, 16.0]),
        A.GridFeature(name="object_size", scale="log", edges=[128.0, 1024.0]),
    ]
)


# -- helpers --------------------------------------------------------------------------------------


def run(
    *args: str,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Runs the CLI; checks that no traceback ever reaches the user."""
    full_env = dict(os.environ)
    full_env.pop("SATYA_ADAPT_ARCHIVE", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", *args],
        check=False,
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed command: exactly one line, `satya-adapt: error: ...`."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("satya-adapt: error: "), lines[0]
    return lines[0][len("satya-adapt: error: ") :]


def errors_of(result: Any) -> list[dict[str, Any]]:
    return [
        {"index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}
        for e in result.errors
    ]


def cell_for(
    spec: W.WorkloadSpec,
    kind: str,
    elite: tuple[int, int, int] | str,
    *,
    n: int = 400,
    ci: tuple[float, float] = (1.1, 1.4),
    n_measurements: int = 7,
    store: bool = True,
    grid: A.Grid = GRID,
) -> A.Cell:
    """A cell whose profile is measured on real generated data (so a refresh can regenerate it)."""
    w = W.make_workload(spec, n, seed=0)
    data: Any = {"dicts": w.records, "json": w.json_bytes(), "ndjson": w.ndjson_bytes()}[kind]
    prof = Validator(w.schema, adapt=False).profile(data, input_kind=kind)
    index = A.descriptor(grid, prof)
    assert index is not None
    e: Any = (
        elite
        if isinstance(elite, str)
        else A.Elite(batch_size=elite[0], micro_batch_size=elite[1], threads=elite[2])
    )
    speedup = (ci[0] + ci[1]) / 2
    return A.Cell(
        index=list(index),
        profile=A.cell_profile(prof),
        elite=e,
        throughput=1e6 * speedup,
        default_throughput=1e6,
        speedup=speedup,
        speedup_ci_low=ci[0],
        speedup_ci_high=ci[1],
        peak_bytes=1000,
        n_measurements=n_measurements,
        workload=spec.to_dict() if store else None,
    )


def make_archive(cells: list[A.Cell], *, grid: A.Grid = GRID, tool: str = "tests") -> A.ArchiveFile:
    return A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=A.provenance_here(
            tool=tool, command="pytest", seed=7, generations=3, test_size=400
        ),
        grid=grid,
        cells=cells,
        history=[
            A.Change(date=DATE, action="create", summary="test archive", cells_added=len(cells))
        ],
    )


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """mixed10 records (5% invalid) as NDJSON and a JSON array, an all-valid NDJSON, the schema."""
    d = tmp_path_factory.mktemp("cli")
    w = W.make_workload("mixed10", 600, seed=3)
    (d / "schema.json").write_text(json.dumps(w.schema))
    (d / "mixed.ndjson").write_bytes(w.ndjson_bytes())
    (d / "mixed.json").write_bytes(w.json_bytes())
    good = [r for r, ok in zip(w.records, w.expected_valid) if ok]
    (d / "good.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in good))
    (d / "good.json").write_bytes(orjson.dumps(good))
    return {"dir": d, "workload": w, "good": good, "validator": Validator(w.schema)}


@pytest.fixture(scope="module")
def here_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An archive of this machine's hardware class with no cells: runs that check stderr must not
    depend on whether the shipped archive was measured on this machine's hardware class."""
    path = tmp_path_factory.mktemp("here") / "here.json"
    A.write_archive(make_archive([]), path)
    return {"SATYA_ADAPT_ARCHIVE": str(path)}


# -- validate -------------------------------------------------------------------------------------


def test_validate_all_valid_ndjson_text(files: dict[str, Any], here_env: dict[str, str]) -> None:
    d = files["dir"]
    proc = run("validate", "good.ndjson", "--schema", "schema.json", cwd=d, env=here_env)
    assert proc.returncode == 0
    assert proc.stderr == ""  # piped: no progress bar
    n = len(files["good"])
    lines = proc.stdout.splitlines()
    assert lines[0] == f"good.ndjson: {n} records (ndjson, streamed): all valid"
    here = Validator(files["workload"].schema, archive=here_env["SATYA_ADAPT_ARCHIVE"])
    expected = next(here.iter_validate(str(d / "good.ndjson"), input_kind="ndjson"))
    c = expected.config
    assert lines[2] == (
        f"  configuration  batch_size={c.batch_size} micro_batch_size={c.micro_batch_size}"
        f" threads={c.threads} (source: {c.source})"
    )
    assert "error" not in proc.stdout


def test_validate_ndjson_json_format_exact(files: dict[str, Any]) -> None:
    d, w = files["dir"], files["workload"]
    proc = run(
        "validate",
        "mixed.ndjson",
        "--schema",
        "schema.json",
        "--format",
        "json",
        "--errors",
        "3",
        "--batch-size",
        "128",
        "--micro-batch-size",
        "32",
        "--threads",
        "2",
        cwd=d,
    )
    assert proc.returncode == 1
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    truth = Validator(w.schema).validate_ndjson(w.ndjson_bytes())
    assert truth.valid == w.expected_valid
    seconds = doc.pop("seconds")
    assert seconds > 0
    assert doc.pop("items_per_s") > 0
    assert doc.pop("peak_bytes") > 0
    assert 0 < doc.pop("max_gil_hold") <= seconds
    assert doc == {
        "memory_budget": None,
        "max_pause": None,
        "data": "mixed.ndjson",
        "input_kind": "ndjson",
        "pointer": None,
        "compression": None,
        "document": False,
        "records": 600,
        "valid": 600 - len(w.broken),
        "invalid": len(w.broken),
        "errors_total": len(truth.errors),
        "errors": errors_of(truth)[:3],
        "config": {"batch_size": 128, "micro_batch_size": 32, "threads": 2, "source": "explicit"},
        "chunks": math.ceil(600 / 128),
        "archive": None,
    }


def test_validate_json_array_adaptive(files: dict[str, Any]) -> None:
    d, w = files["dir"], files["workload"]
    proc = run(
        "validate",
        "mixed.json",
        "--schema",
        "schema.json",
        "--format",
        "json",
        "--errors",
        "1000",
        cwd=d,
    )
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    expected = files["validator"].validate_json(w.json_bytes())
    assert doc["input_kind"] == "json"
    assert doc["errors"] == errors_of(expected)
    assert doc["errors_total"] == len(expected.errors)
    assert doc["invalid"] == expected.n_invalid == len(w.broken)
    c = expected.config
    assert doc["config"] == {
        "batch_size": c.batch_size,
        "micro_batch_size": c.micro_batch_size,
        "threads": c.threads,
        "source": c.source,
    }
    assert doc["archive"]["origin"] == "shipped"
    assert doc["archive"]["status"] in ("ok", "empty")


def test_validate_text_lists_the_first_errors(files: dict[str, Any]) -> None:
    d, w = files["dir"], files["workload"]
    proc = run("validate", "mixed.ndjson", "--schema", "schema.json", "--errors", "2", cwd=d)
    assert proc.returncode == 1
    truth = Validator(w.schema).validate_ndjson(w.ndjson_bytes())
    lines = proc.stdout.splitlines()
    n_bad = len(w.broken)
    assert lines[0] == (
        f"mixed.ndjson: 600 records (ndjson, streamed): {600 - n_bad} valid, {n_bad} invalid"
        f" ({len(truth.errors)} errors)"
    )
    at = lines.index(f"first 2 of {len(truth.errors)} errors:")
    assert lines[at + 1].split() == ["record", "path", "keyword", "message"]
    for line, e in zip(lines[at + 2 :], truth.errors[:2]):
        assert line.split(None, 3) == [str(e.index), e.path or "(root)", e.keyword, e.message]
    assert len(lines) == at + 4


def test_another_hardware_class_is_said_in_the_report_not_warned(
    files: dict[str, Any], tmp_path: Path
) -> None:
    """Before (issue 11): every `validate` and `demo` started with a `satya-adapt: warning:` line
    about the archive's hardware class, which the report's archive line repeated."""
    d = files["dir"]
    arch = make_archive([cell_for(W.PROFILES["mixed10"], "ndjson", (256, 64, 1))])
    assert arch.provenance.hardware is not None
    arch.provenance.hardware.cpu_family = "not-this-one"
    path = tmp_path / "other.json"
    A.write_archive(arch, path)
    from satya_adapt import hardware as H

    why = f"CPU family differs: archive 'not-this-one', here {H.current().cpu_family!r}"
    proc = run("validate", "mixed.ndjson", "--schema", "schema.json", "--errors", "0",
               "--archive", str(path), cwd=d)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[3] == (
        f"  archive        {path} (argument; 1 cells, measured on another hardware class ({why}):"
        " not used, the heuristic answers)"
    )
    # Several files validated in this process (one worker) say nothing either.
    proc = run("validate", "mixed.ndjson", "mixed.ndjson", "--schema", "schema.json",
               "--errors", "0", "--workers", "1", "--archive", str(path), cwd=d)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    proc = run("demo", "--records", "50", "--rounds", "1", "--profiles", "plain3",
               "--archive", str(path), cwd=d)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[1] == (
        f"archive: {path} (argument; 1 cells, measured on another hardware class ({why}):"
        " not used, the heuristic answers)"
    )


def test_a_relative_ref_is_read_from_the_schema_folder(tmp_path: Path) -> None:
    """Before (issue 11): a schema whose `$ref` names a sibling file (`b.json#/$defs/x`) could
    not be used from the command line (`cannot resolve $ref`): no way to give `resources`."""
    d = tmp_path / "schemas"
    (d / "sub").mkdir(parents=True)
    (d / "a.json").write_text(json.dumps({
        "type": "object",
        "properties": {"n": {"$ref": "b.json#/$defs/x"}, "s": {"$ref": "sub/c.json"}},
    }))  # fmt: skip
    (d / "b.json").write_text('{"$defs": {"x": {"type": "integer"}}}')
    (d / "sub" / "c.json").write_text('{"properties": {"d": {"$ref": "d.json"}}}')
    (d / "sub" / "d.json").write_text('{"type": "string", "minLength": 2}')
    data = '{"n": 1, "s": {"d": "ab"}}\n{"n": "x", "s": {"d": "a"}}\n'
    (tmp_path / "data.ndjson").write_text(data)
    proc = run("validate", "data.ndjson", "--schema", "schemas/a.json", "--no-adapt", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert [line.split(None, 3) for line in proc.stdout.splitlines()[-2:]] == [
        ["1", "/n", "type", 'Expected `integer`, got `string` "x"'],
        ["1", "/s/d", "minLength", 'String shorter than 2 characters, got "a"'],
    ]
    proc = run("archive", "explain", "--schema", "schemas/a.json", "data.ndjson", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # A missing file is one line; a file outside the schema's folder is never read.
    (d / "b.json").unlink()
    assert one_error_line(
        run("validate", "data.ndjson", "--schema", "schemas/a.json", cwd=tmp_path)
    ) == (
        "invalid schema schemas/a.json: cannot resolve `$ref` `b.json#/$defs/x` (at /properties/n)"
        " (relative references are read from files under schemas/)"
    )
    (tmp_path / "outside.json").write_text('{"type": "integer"}')
    (d / "a.json").write_text('{"$ref": "../outside.json"}')
    assert one_error_line(
        run("validate", "data.ndjson", "--schema", "schemas/a.json", cwd=tmp_path)
    ) == (
        "invalid schema schemas/a.json: cannot resolve `$ref` `../outside.json` (at the root)"
        " (relative references are read from files under schemas/)"
    )


@pytest.mark.parametrize("draft", ["draft-04/schema#", "draft-07/schema#", "draft/2020-12/schema"])
def test_a_relative_ref_beside_the_root_id_is_read_from_the_schema_folder(
    tmp_path: Path, draft: str
) -> None:
    """Before: `{"$id": "https://example.com/a.json", "$ref": "b.json"}` in draft 7 (SchemaStore's
    schema-org-thing, vs-2017.3.host) exited 2 with `cannot resolve $ref b.json`: the file was
    given under its `$id`-resolved URI, while up to draft 7 a `$ref` makes the `$id` beside it
    ignored (the reference resolves against the file's own place)."""
    (tmp_path / "a.json").write_text(json.dumps({
        "$schema": f"http://json-schema.org/{draft}" if "draft-" in draft
        else f"https://json-schema.org/{draft}",
        "id" if draft.startswith("draft-04") else "$id": "https://example.com/a.json",
        "$ref": "b.json",
    }))  # fmt: skip
    (tmp_path / "b.json").write_text('{"type": "integer"}')
    (tmp_path / "d.ndjson").write_text('1\n"x"\n')
    proc = run("validate", "d.ndjson", "--schema", "a.json", "--no-adapt", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "d.ndjson: 2 records (ndjson, streamed): 1 valid, 1 invalid (1 error)"
    )


def test_a_relative_ref_to_an_embedded_resource_reads_no_file(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({
        "$defs": {"b": {"$id": "b.json", "type": "integer"}}, "$ref": "b.json",
    }))  # fmt: skip
    (tmp_path / "d.ndjson").write_text('1\n"x"\n')
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--no-adapt", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "d.ndjson: 2 records (ndjson, streamed): 1 valid, 1 invalid (1 error)"
    )


def test_schema_resources_bounds_and_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from satya_adapt.cli import _input
    from satya_adapt.cli._common import CliError

    (tmp_path / "b.json").write_text('{"type": "integer"}')
    (tmp_path / "c.json").write_text('{"$ref": "b.json"}')
    root = {"$id": "https://example.com/s/a.json", "$ref": "c.json#"}
    assert _input.schema_resources(str(tmp_path / "a.json"), root) == {
        "c.json": {"$ref": "b.json"},
        "https://example.com/s/c.json": {"$ref": "b.json"},
        "b.json": {"type": "integer"},
        "https://example.com/s/b.json": {"type": "integer"},
    }
    assert _input.schema_resources(str(tmp_path / "a.json"), {"$ref": "c.json"}) == {
        "c.json": {"$ref": "b.json"},
        "b.json": {"type": "integer"},
    }
    monkeypatch.setattr(_input, "MAX_RESOURCE_FILES", 1)
    with pytest.raises(CliError, match=r"^the schema .*a\.json references more than 1 files$"):
        _input.schema_resources(str(tmp_path / "a.json"), {"$ref": "c.json"})
    monkeypatch.setattr(_input, "MAX_RESOURCE_BYTES", 10)
    with pytest.raises(CliError, match=r"names .*c\.json, which is over the 10 B limit$"):
        _input.schema_resources(str(tmp_path / "a.json"), {"$ref": "c.json"})


def test_validate_with_a_corrupt_archive_warns_once(files: dict[str, Any]) -> None:
    d = files["dir"]
    (d / "corrupt-archive.json").write_text("{")
    proc = run(
        "validate",
        "good.ndjson",
        "--schema",
        "schema.json",
        "--archive",
        "corrupt-archive.json",
        cwd=d,
    )
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        (
            "satya-adapt: warning: archive unusable, the heuristic chooses batch configurations:"
            f" {d / 'corrupt-archive.json'}: not valid JSON: Input data was truncated"
        )
    ]
    assert "(source: heuristic)" in proc.stdout
    assert (
        f"{d / 'corrupt-archive.json'} (argument; unusable: the heuristic answers)" in proc.stdout
    )


def test_validate_errors_zero_lists_none(files: dict[str, Any]) -> None:
    proc = run(
        "validate", "mixed.json", "--schema", "schema.json", "--errors", "0", cwd=files["dir"]
    )
    assert proc.returncode == 1
    assert "record  path" not in proc.stdout


@pytest.mark.parametrize("data", [["mixed.ndjson"], ["mixed.ndjson", "mixed.json"]])
def test_validate_no_errors_gives_the_verdicts_alone(files: dict[str, Any], data: list[str]) -> None:
    """`--no-errors`: the counts of valid and invalid records, no error built or counted,
    on one file and on many; the exit code still says whether any record is invalid."""
    d, w = files["dir"], files["workload"]
    args = ("validate", *data, "--schema", "schema.json", "--format", "json", "--workers", "1")
    counted = json.loads(run(*args, cwd=d).stdout)
    proc = run(*args, "--no-errors", cwd=d)
    assert proc.returncode == 1
    alone = json.loads(proc.stdout)
    invalid = w.expected_valid.count(False) * len(data)
    assert (alone["records"], alone["invalid"]) == (counted["records"], counted["invalid"]) == (
        len(w.records) * len(data), invalid)
    assert counted["errors_total"] >= invalid
    assert (alone["errors_total"], alone["errors"]) == (None, [])
    text = run(*args[:-4], "--no-errors", cwd=d).stdout
    assert f"{invalid} invalid\n" in text
    assert "error" not in text
    good = run("validate", "good.ndjson", "--schema", "schema.json", "--no-errors", cwd=d)
    assert good.returncode == 0 and "all valid" in good.stdout


@pytest.mark.parametrize("name", ["mixed.ndjson", "mixed.json"])
def test_validate_stdin(files: dict[str, Any], name: str) -> None:
    d, w = files["dir"], files["workload"]
    data = (d / name).read_bytes()
    proc = run("validate", "-", "--schema", "schema.json", "--format", "json", cwd=d, stdin=data)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["data"] == "<stdin>"
    assert doc["input_kind"] == ("json" if name.endswith(".json") else "ndjson")
    assert (doc["records"], doc["invalid"]) == (600, len(w.broken))
    assert doc["errors"] == errors_of(Validator(w.schema).validate_json(w.json_bytes()))[:10]


def test_validate_stdin_all_valid_with_leading_whitespace(files: dict[str, Any]) -> None:
    data = b"\n  \n" + (files["dir"] / "good.json").read_bytes()
    proc = run("validate", "-", "--schema", "schema.json", cwd=files["dir"], stdin=data)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"<stdin>: {len(files['good'])} records (json, held in memory)")


def test_validate_empty_input_is_valid(files: dict[str, Any]) -> None:
    (files["dir"] / "empty.ndjson").write_bytes(b"")
    proc = run(
        "validate", "empty.ndjson", "--schema", "schema.json", "--format", "json", cwd=files["dir"]
    )
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert (doc["records"], doc["valid"], doc["config"]) == (0, 0, None)


def test_truncated_json_array_is_an_input_error(
    files: dict[str, Any], here_env: dict[str, str]
) -> None:
    d = files["dir"]
    (d / "truncated.json").write_bytes((d / "mixed.json").read_bytes()[:5000])
    message = one_error_line(
        run("validate", "truncated.json", "--schema", "schema.json", cwd=d, env=here_env)
    )
    assert message == "truncated.json: invalid JSON array: unexpected end of input at byte 5000"


def test_not_json(files: dict[str, Any], here_env: dict[str, str]) -> None:
    d = files["dir"]
    (d / "notjson.txt").write_text("hello world\n")
    # As NDJSON (auto): a line that is not JSON is an invalid record, keyword `json`.
    proc = run("validate", "notjson.txt", "--schema", "schema.json", "--format", "json", cwd=d)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["errors"] == [
        {
            "index": 0,
            "path": "",
            "keyword": "json",
            "message": "Invalid JSON on line 1: unexpected character 'h' at byte 0",
        }
    ]
    # As a JSON array: the whole input is refused.
    message = one_error_line(
        run(
            "validate",
            "notjson.txt",
            "--schema",
            "schema.json",
            "--input-kind",
            "json",
            cwd=d,
            env=here_env,
        )
    )
    assert message == "notjson.txt: invalid JSON array: expected a JSON array at byte 0"


def test_ndjson_of_arrays_needs_input_kind(tmp_path: Path, here_env: dict[str, str]) -> None:
    (tmp_path / "s.json").write_text('{"type": "array", "items": {"type": "integer"}}')
    (tmp_path / "rows.ndjson").write_text("[1, 2]\n[3]\n")
    message = one_error_line(
        run("validate", "rows.ndjson", "--schema", "s.json", cwd=tmp_path, env=here_env)
    )
    assert message.startswith("rows.ndjson: invalid JSON array: trailing characters at byte 7")
    assert "pass --input-kind ndjson" in message
    proc = run(
        "validate", "rows.ndjson", "--schema", "s.json", "--input-kind", "ndjson", cwd=tmp_path
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("rows.ndjson: 2 records (ndjson, streamed): all valid")


def test_validate_reads_inputs_as_they_come(
    files: dict[str, Any], here_env: dict[str, str]
) -> None:
    """Before (issue 11): a gzip-compressed NDJSON file was one invalid record per line, a
    pretty-printed JSON document 4 invalid records, a Parquet file 242 invalid records, a CSV
    one `json` error per line; all exit 1."""
    import gzip

    d, w = files["dir"], files["workload"]
    (d / "mixed.ndjson.gz").write_bytes(gzip.compress(w.ndjson_bytes()))
    (d / "mixed.data").write_bytes(gzip.compress(w.json_bytes()))  # the content decides
    n_valid, n = sum(w.expected_valid), len(w.records)
    for name, how in (
        ("mixed.ndjson.gz", "gzip, ndjson, streamed"),
        ("mixed.data", "gzip, json, held in memory"),
    ):
        proc = run("validate", name, "--schema", "schema.json", cwd=d, env=here_env)
        assert proc.returncode == 1
        assert proc.stdout.splitlines()[0] == (
            f"{name}: {n} records ({how}): {n_valid} valid, {n - n_valid} invalid"
            f" ({n - n_valid} errors)"
        )
    (d / "one.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(w.records[0], indent=2).encode())
    proc = run("validate", "one.json", "--schema", "schema.json", cwd=d, env=here_env)
    assert proc.returncode == (0 if w.expected_valid[0] else 1)
    assert proc.stdout.splitlines()[0].startswith(
        "one.json: 1 record (json document, streamed as one record): "
    )
    (d / "t.parquet").write_bytes(b"PAR1\x15\x04\x15\x10\x15\x14L")
    (d / "t.csv").write_text("name,age\nAda,36\n")
    (d / "LICENSE").write_text("MIT License\n\nCopyright (c) 2026 Ada\n")
    for name, what in (
        ("t.parquet", "a Parquet file"), ("t.csv", "a CSV file"), ("LICENSE", "plain text")
    ):
        message = one_error_line(run("validate", name, "--schema", "schema.json", cwd=d))
        assert message == f"{name}: this looks like {what}, not NDJSON or JSON"
    # --input-kind still forces a reading: the CSV's lines are records that are not JSON.
    proc = run(
        "validate", "t.csv", "--schema", "schema.json", "--input-kind", "ndjson", "--format",
        "json", cwd=d,
    )  # fmt: skip
    assert proc.returncode == 1
    assert [e["keyword"] for e in json.loads(proc.stdout)["errors"]] == ["json", "json"]


def test_missing_data_file(files: dict[str, Any]) -> None:
    message = one_error_line(
        run("validate", "missing.ndjson", "--schema", "schema.json", cwd=files["dir"])
    )
    assert message == "cannot read missing.ndjson: No such file or directory"


def test_data_is_a_directory(files: dict[str, Any]) -> None:
    # A folder is its data files since issue 14 (tests/test_dask.py); one without any is refused.
    (files["dir"] / "empty").mkdir(exist_ok=True)
    message = one_error_line(run("validate", "empty", "--schema", "schema.json", cwd=files["dir"]))
    assert message == (
        "no data files in folder empty (looked for .ndjson, .jsonl and .json files, plain, .gz"
        " or .zst)"
    )


def test_missing_schema(files: dict[str, Any]) -> None:
    message = one_error_line(
        run("validate", "good.ndjson", "--schema", "nope.json", cwd=files["dir"])
    )
    assert message == "cannot read the schema nope.json: No such file or directory"


def test_schema_not_json(files: dict[str, Any]) -> None:
    (files["dir"] / "broken.json").write_text('{"type":')
    message = one_error_line(
        run("validate", "good.ndjson", "--schema", "broken.json", cwd=files["dir"])
    )
    assert message.startswith("the schema broken.json is not valid JSON: ")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "strin"}, "unknown type `strin`"),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/nope"}}},
            "cannot resolve `$ref` `#/nope` (at /properties/a)",
        ),
        ({"type": "string", "pattern": "("}, None),
    ],
)
def test_bad_schema_is_a_schema_error(
    files: dict[str, Any], schema: Any, message: str | None
) -> None:
    (files["dir"] / "bad.json").write_text(json.dumps(schema))
    got = one_error_line(run("validate", "good.ndjson", "--schema", "bad.json", cwd=files["dir"]))
    assert got.startswith("invalid schema bad.json: ")
    if message is not None:
        assert message in got


def test_usage_errors_are_one_line(files: dict[str, Any]) -> None:
    message = one_error_line(run("validate", "good.ndjson", cwd=files["dir"]))
    assert message == (
        "validate: the following arguments are required: --schema"
        " (see 'satya-adapt validate --help')"
    )
    message = one_error_line(
        run(
            "validate", "good.ndjson", "--schema", "schema.json", "--errors", "-1", cwd=files["dir"]
        )
    )
    assert "argument --errors: expected an integer >= 0, got '-1'" in message
    assert one_error_line(run("archive", cwd=files["dir"])).startswith("archive: choose an action")


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["validate"],
        ["demo"],
        ["archive"],
        ["archive", "show"],
        ["archive", "explain"],
        ["archive", "plot"],
        ["archive", "refresh"],
        ["archive", "merge"],
    ],
)
def test_help_has_an_example(command: list[str], tmp_path: Path) -> None:
    proc = run(*command, "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"usage: satya-adapt {' '.join(command)}".rstrip())
    assert "examples:\n  satya-adapt " in proc.stdout
    # Examples name the user's files, never the repository layout (issue 11: the `archive
    # refresh` example assumed `archives/` in the current folder).
    examples = proc.stdout.split("examples:\n", 1)[1]
    assert "archives/" not in examples and "benchmarks/" not in examples


def test_optimize_writes_under_the_user_data_folder(tmp_path: Path) -> None:
    """Before (issue 11): `satya-adapt optimize` wrote `benchmarks/map_elites_archive.json`
    into the current folder (the repository layout)."""
    pytest.importorskip("satya_adapt.tuning.optimizer")
    cwd, data = tmp_path / "cwd", tmp_path / "data"
    cwd.mkdir()
    env = {"XDG_DATA_HOME": str(data)}
    proc = run("optimize", "--help", cwd=cwd, env=env)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert f"(default {data}/satya-adapt/optimizer_archive.json)" in text.replace("- ", "-")
    assert "benchmarks/" not in proc.stdout
    proc = run(
        "optimize", "--generations", "0", "--test-size", "200", "--verbose", "0",
        "--no-msgspec", "--input-kind", "json", cwd=cwd, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert list(cwd.iterdir()) == []
    assert (data / "satya-adapt").is_dir()
    from satya_adapt.cli.optimize import data_dir

    if not sys.platform.startswith("linux"):
        return
    home = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(os, "environ", {**home, "HOME": str(tmp_path)})
        assert data_dir() == tmp_path / ".local" / "share" / "satya-adapt"


def test_a_mistyped_archive_is_a_usage_error(files: dict[str, Any], tmp_path: Path) -> None:
    """Before (issue 11): only a warning, and the heuristic answered."""
    d = files["dir"]
    for args in (
        ("validate", "good.ndjson", "--schema", "schema.json"),
        ("archive", "explain", "--schema", "schema.json", "good.ndjson"),
        ("demo",),
    ):
        message = one_error_line(run(*args, "--archive", "nope.json", cwd=d))
        command = " ".join(args[:2]) if args[0] == "archive" else args[0]
        assert message == (
            f"{command}: argument --archive: no such file: 'nope.json'"
            f" (see 'satya-adapt {command} --help')"
        )
    # A symbolic link that leads nowhere says where it leads; one in a loop, that it loops.
    (tmp_path / "gone-link.json").symlink_to("gone.json")
    (tmp_path / "loop-a.json").symlink_to("loop-b.json")
    (tmp_path / "loop-b.json").symlink_to("loop-a.json")
    for name, reason in (
        ("gone-link.json", "'gone-link.json' is a symbolic link to 'gone.json', which does not exist"),
        ("loop-a.json", "'loop-a.json': Too many levels of symbolic links"),
    ):
        message = one_error_line(run("demo", "--archive", name, cwd=tmp_path))
        assert message == f"demo: argument --archive: {reason} (see 'satya-adapt demo --help')"


def test_optimize_delegates_to_the_optimizer(tmp_path: Path) -> None:
    pytest.importorskip("satya_adapt.tuning.optimizer")
    proc = run("optimize", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: satya-adapt optimize")
    for flag in (
        "--generations",
        "--test-size",
        "--save-every",
        "--archive",
        "--results",
        "--verbose",
        "--seed",
        "--no-msgspec",
    ):
        assert flag in proc.stdout


def test_optimize_usage_errors_are_one_line_and_bad_paths_fail_before_measuring(tmp_path: Path) -> None:
    """Before: a bad value printed the optimizer's 7-line usage block first; `--memory-budget
    64MB` meant 67,108,864 bytes (64,000,000 everywhere else) and `1.5GiB` was refused; a
    `--results` folder, `--archive ''` and a seed past 64 bits failed only after the whole
    search, the results folder named "the archive"."""
    pytest.importorskip("satya_adapt.tuning.optimizer")
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    for args, message in (
        (["--generations", "-1"], "argument --generations: expected an integer >= 0, got '-1'"),
        (["--memory-budget", "1.5 parsecs"], "argument --memory-budget: expected a number of"
         " bytes from 1 to 2**53, such as 67108864, 64MiB or 512KB, got '1.5 parsecs'"),
        (["--seed", "9" * 30], f"argument --seed: expected an integer within +-2**53, got '{'9' * 30}'"),
    ):  # fmt: skip
        proc = run("optimize", *args, cwd=tmp_path, env=env)
        assert (proc.returncode, proc.stderr) == (
            2, f"satya-adapt: error: optimize: {message} (see 'satya-adapt optimize --help')\n"
        )
    (tmp_path / "adir").mkdir()
    for args, message in (
        (["--results", "adir"], f"{tmp_path / 'adir'}: cannot write the results: a folder"),
        (["--archive", ""], "cannot write the archive: no file named (an empty path)"),
        (["--archive", "adir"], f"{tmp_path / 'adir'}: cannot write the archive: a folder"),
    ):  # fmt: skip
        proc = run("optimize", "--test-size", "200", "--generations", "1", *args,
                   cwd=tmp_path, env=env, timeout=120)  # fmt: skip
        assert (proc.returncode, one_error_line(proc)) == (2, message)
        assert "generation" not in proc.stderr + proc.stdout  # nothing was measured
    from satya_adapt.tuning.optimizer import _bytes

    assert (_bytes("64MB"), _bytes("64MiB"), _bytes("1.5GiB")) == (64_000_000, 64 << 20, 3 << 29)


def test_a_second_optimize_on_one_archive_stops_at_once(tmp_path: Path) -> None:
    """Before: two searches of one archive both said done, and the archive held the last
    writer's search alone."""
    pytest.importorskip("satya_adapt.tuning.optimizer")
    fcntl = pytest.importorskip("fcntl")
    lock = tmp_path / "a.json.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running search holds it
        proc = run("optimize", "--archive", "a.json", "--results", "r.json", "--test-size", "200",
                   cwd=tmp_path, env={"XDG_DATA_HOME": str(tmp_path)}, timeout=120)  # fmt: skip
    assert (proc.returncode, one_error_line(proc)) == (
        2,
        f"a.json: another search is writing this archive (it holds {lock}); wait for it to"
        " end, or choose another --archive",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json.lock"]  # nothing measured


# -- progress bar (in process: it needs a terminal) -----------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_progress_bar_waits_a_second_then_draws_and_erases() -> None:
    out, clock = io.StringIO(), _Clock()
    bar = Progress(out, 1000, enabled=True, clock=clock)
    clock.t = 0.5
    bar.update(100)
    assert out.getvalue() == ""  # inputs faster than a second get no bar
    clock.t = 1.5
    bar.update(600)
    drawn = out.getvalue()
    assert drawn.startswith("\r[############--------]  60%  600/~1,000  ")
    clock.t = 1.55
    bar.update(700)
    assert out.getvalue() == drawn  # at most every 0.1 s
    bar.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_progress_bar_finishes_at_the_real_count() -> None:
    """Before (issue 11): an estimate 28% high left the bar at 75% when the input ended."""
    out, clock = io.StringIO(), _Clock()
    bar = Progress(out, 1000, enabled=True, clock=clock)
    clock.t = 1.5
    bar.update(1200)
    assert out.getvalue().startswith("\r[###################-]  99%  1,200/~1,000  ")
    clock.t = 2.0
    bar.finish(1300)
    assert out.getvalue().endswith(
        "\r[####################] 100%  1,300/1,300  650 items/s\x1b[K\n"
    )
    end = out.getvalue()
    bar.close()  # a finished bar stays
    assert out.getvalue() == end


def test_progress_bar_of_an_exact_total() -> None:
    out, clock = io.StringIO(), _Clock()
    bar = Progress(out, 1000, estimated=False, enabled=True, clock=clock)
    clock.t = 2.0
    bar.update(600)
    assert out.getvalue() == "\r[############--------]  60%  600/1,000  300 items/s  ETA 0:01\x1b[K"
    bar.finish(1000)
    assert out.getvalue().endswith(
        "\r[####################] 100%  1,000/1,000  500 items/s\x1b[K\n"
    )


def test_progress_bar_not_drawn_is_not_finished() -> None:
    out, clock = io.StringIO(), _Clock()
    bar = Progress(out, 1000, enabled=True, clock=clock)
    clock.t = 0.5
    bar.update(1000)
    bar.finish(1000)  # faster than a second: no bar at all
    bar.close()
    assert out.getvalue() == ""


def test_progress_bar_off_when_not_a_terminal() -> None:
    out, clock = io.StringIO(), _Clock()
    bar = Progress(out, None, clock=clock)  # StringIO is not a terminal
    clock.t = 5.0
    bar.update(10)
    bar.close()
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("items_per_s", "text"),
    [(0.5, "0.5"), (999.4, "999"), (999.6, "1k"), (999_600, "1M"), (1_234_567, "1.23M")],
)
def test_rates_round_into_the_next_unit(items_per_s: float, text: str) -> None:
    assert _rate(items_per_s) == text


# -- demo -----------------------------------------------------------------------------------------


def test_demo_quick(tmp_path: Path) -> None:
    proc = run(
        "demo",
        "--records",
        "300",
        "--rounds",
        "1",
        "--profiles",
        "plain3,nested",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(r["profile"], r["input_kind"]) for r in doc["rows"]] == [
        ("plain3", "dicts"),
        ("nested", "json"),
    ]
    for r in doc["rows"]:
        assert r["records"] == 300
        assert r["adaptive_items_per_s"] > 0 and r["default_items_per_s"] > 0
        assert r["config"]["source"] in (
            "archive-exact",
            "archive-nearest",
            "archive-knn",
            "archive-keep-default",
            "heuristic",
        )


def test_demo_text_table(tmp_path: Path) -> None:
    proc = run("demo", "--records", "200", "--rounds", "1", "--profiles", "mixed10", cwd=tmp_path)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("profile"))
    assert lines[header].split("  ")[0] == "profile"
    rows = [line.split()[:3] for line in lines[header + 1 : header + 4]]
    assert rows == [
        ["mixed10", "dicts", "200"],
        ["mixed10", "json", "200"],
        ["mixed10", "ndjson", "200"],
    ]


# -- archive show ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("archive")
    cells = [
        cell_for(W.PROFILES["mixed10"], "json", (256, 64, 1), ci=(1.2, 1.5)),
        cell_for(W.PROFILES["plain3"], "dicts", "keep_default", ci=(0.95, 1.02)),
    ]
    path = d / "small.json"
    A.write_archive(make_archive(cells), path)
    return path


def test_archive_show(small_archive: Path) -> None:
    proc = run("archive", "show", str(small_archive), cwd=small_archive.parent)
    assert proc.returncode == 0
    out = proc.stdout
    lines = out.splitlines()
    assert lines[0] == f"archive      {small_archive} (argument)"
    assert "  tool       tests" in lines
    assert "  here       yes: same hardware class" in lines
    assert "coverage     2 of 27 cells filled (7.4%): 1 elites, 1 keep the default" in lines
    cells = A.load_archive(small_archive).cells
    for c in cells:
        row = next(line for line in lines if line.startswith(f"  {list(c.index)}"))
        assert (c.elite if isinstance(c.elite, str) else "256/64/1") in row
    assert any("create" in line and "test archive" in line for line in lines)


def test_archive_show_never_prints_terminal_controls(tmp_path: Path) -> None:
    # Found by a hostile-input hunt: an escape sequence in the file's strings reached the
    # terminal as it was.
    path = tmp_path / "a.json"
    A.write_archive(make_archive([], tool="evil\x1b[31m\x07\x9b"), path)
    proc = run("archive", "show", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "  tool       evil\\x1b[31m\\x07\\x9b" in proc.stdout.splitlines()
    assert not any(c in proc.stdout for c in "\x1b\x07\x9b")


def test_archive_show_json(small_archive: Path) -> None:
    proc = run("archive", "show", str(small_archive), "--format", "json", cwd=small_archive.parent)
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["coverage"] == {"cells": 27, "filled": 2, "elites": 1, "keep_default": 1}
    assert A.decode_archive(json.dumps(doc["archive"])) == A.load_archive(small_archive)


def test_archive_show_defaults_to_the_archive_in_use(small_archive: Path, tmp_path: Path) -> None:
    proc = run("archive", "show", cwd=tmp_path, env={"SATYA_ADAPT_ARCHIVE": str(small_archive)})
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == f"archive      {small_archive} (environment)"
    shipped = run("archive", "show", cwd=tmp_path)
    assert shipped.returncode == 0
    assert shipped.stdout.splitlines()[0].endswith("default.json (shipped)")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\xffgarbage", "not valid JSON"),
        (b'{"format": "satya-adapt-archive", "format_version": 1, "cells": [', "not valid JSON"),
        (
            b'{"format": "satya-adapt-archive", "format_version": 99}',
            "unsupported `format_version`",
        ),
        (b'{"format": "something-else"}', "not an archive"),
    ],
)
def test_archive_show_corrupt(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "bad.json").write_bytes(content)
    message = one_error_line(run("archive", "show", "bad.json", cwd=tmp_path))
    assert message.startswith("bad.json: ")
    assert expected in message


def test_archive_show_unreadable(tmp_path: Path) -> None:
    message = one_error_line(run("archive", "show", "missing.json", cwd=tmp_path))
    assert message == "missing.json: cannot read the archive: No such file or directory"
    (tmp_path / "dir.json").mkdir()
    message = one_error_line(run("archive", "show", "dir.json", cwd=tmp_path))
    assert message == "dir.json: cannot read the archive: Is a directory"


# -- archive explain ------------------------------------------------------------------------------


def test_archive_explain_exact_cell(files: dict[str, Any], small_archive: Path) -> None:
    d = files["dir"]
    proc = run(
        "archive",
        "explain",
        "--schema",
        "schema.json",
        "mixed.json",
        "--archive",
        str(small_archive),
        cwd=d,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    expected = Validator(files["workload"].schema, archive=small_archive).explain(
        (d / "mixed.json").read_bytes(), input_kind="json"
    )
    assert expected["step"] == "archive-exact"
    index = expected["descriptor"]["index"]
    assert f"cell     {index}: filled" in lines
    step = next(line for line in lines if line.startswith("  2. exact cell"))
    assert step.startswith(f"  2. exact cell {index}: elite 256/64/1, speedup 1.35 [1.20, 1.50]")
    assert step.endswith("<- answers")
    c = expected["config"]
    assert lines[-1] == (
        f"final    batch_size={c['batch_size']} micro_batch_size={c['micro_batch_size']}"
        f" threads={c['threads']} (source: archive-exact)"
    )


def test_archive_explain_marks_n_estimated_only_when_it_is(tmp_path: Path) -> None:
    """Before (issue 11): every NDJSON or JSON input's n was shown as "~" (and 25% high)."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    text = "".join(json.dumps({"id": f"{i:06d}"}) + "\n" for i in range(100_000))
    (tmp_path / "big.ndjson").write_text(text)
    (tmp_path / "small.ndjson").write_text('{"id": "000000"}\n' * 3)
    rows = {}
    for name in ("big", "small"):
        proc = run("archive", "explain", "--schema", "s.json", f"{name}.ndjson", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        rows[name] = next(x for x in proc.stdout.splitlines() if x.startswith("  n "))
    big = "n ~100,000 (records in the call, estimated from bytes; only clamps batch_size)"
    assert rows["big"].split() == big.split()
    assert rows["small"].split() == "n 3 (records in the call; only clamps batch_size)".split()


def test_archive_explain_keep_default_is_not_a_gain(files: dict[str, Any], tmp_path: Path) -> None:
    """Before (issue 11): a keep-default cell read "elite keep_default, speedup 1.43 [...]",
    a gain it is not: its best candidate was not kept."""
    d = files["dir"]
    cell = cell_for(W.PROFILES["mixed10"], "json", "keep_default", ci=(0.98, 1.88))
    path = tmp_path / "keep.json"
    A.write_archive(make_archive([cell]), path)
    proc = run("archive", "explain", "--schema", "schema.json", "mixed.json", "--archive",
               str(path), cwd=d)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    step = next(line for line in proc.stdout.splitlines() if line.startswith("  2. exact cell"))
    assert step == (
        f"  2. exact cell {cell.index}: keep the default configuration (7 measurements): the"
        " best candidate was not kept, its speedup interval [0.98, 1.88] does not clear the bar"
        " (lower bound above 1.03)  <- answers"
    )
    assert "speedup 1.43" not in proc.stdout


def test_archive_explain_heuristic_and_json(files: dict[str, Any], tmp_path: Path) -> None:
    d = files["dir"]
    empty = tmp_path / "empty.json"
    A.write_archive(make_archive([]), empty)
    proc = run(
        "archive",
        "explain",
        "--schema",
        "schema.json",
        "mixed.ndjson",
        "--archive",
        str(empty),
        cwd=d,
    )
    assert proc.returncode == 0
    assert "  2-4. archive cells: skipped, the archive has no cells" in proc.stdout
    assert "  5. heuristic (from the profile alone)  <- answers" in proc.stdout
    proc = run(
        "archive",
        "explain",
        "--schema",
        "schema.json",
        "mixed.ndjson",
        "--archive",
        str(empty),
        "--format",
        "json",
        cwd=d,
    )
    doc = json.loads(proc.stdout)
    expected = Validator(files["workload"].schema, archive=empty).explain(
        str(d / "mixed.ndjson"), input_kind="ndjson"
    )
    assert doc["step"] == "heuristic"
    assert doc["config"] == expected["config"]
    assert doc["profile"] == expected["profile"]


def test_archive_explain_names_a_single_thread_reason_only_when_there_is_one() -> None:
    """Before (issue 11): a heuristic answer on several threads printed
    `single_thread_because  None` (Python's None)."""
    from satya_adapt import Profile
    from satya_adapt.cli.archive import _explain_lines
    from satya_adapt.heuristic import heuristic_rule

    def step5(rule: dict[str, Any]) -> list[str]:
        ex = {
            "profile": {"input_kind": "json", "n": None},
            "archive": {"status": "empty", "location": "a.json", "origin": "argument"},
            "step": "heuristic",
            "heuristic": rule,
            "config": {"batch_size": 1, "micro_batch_size": 1, "threads": 1, "source": "s"},
        }
        lines = _explain_lines(ex, None)
        start = lines.index("  5. heuristic (from the profile alone)  <- answers")
        end = lines.index("clamped  nothing to fit")
        return [" ".join(x.split()) for x in lines[start + 1 : end]]

    assert step5(heuristic_rule(Profile(10, 12.0, 0.0, 600.0, "json", None), 4)) == [
        "work_per_record 600",
        "chunk_records 4096",
        "chunk_work 2.458e+06",
        "tasks_per_chunk 8",
        "batch_size 16384",
        "micro_batch_size 512",
        "threads 4",
    ]
    assert "single_thread_because one usable core" in step5(
        heuristic_rule(Profile(10, 12.0, 0.0, 600.0, "json", None), 1)
    )


def test_archive_explain_missing_data(files: dict[str, Any]) -> None:
    message = one_error_line(
        run("archive", "explain", "--schema", "schema.json", "nope.ndjson", cwd=files["dir"])
    )
    assert message == "cannot read nope.ndjson: No such file or directory"


# -- archive plot ---------------------------------------------------------------------------------


def test_archive_plot_writes_a_png(small_archive: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "archive.png"
    proc = run("archive", "plot", str(small_archive), "-o", str(out), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert proc.stdout.startswith(f"wrote {out}")


def test_archive_plot_names_the_files_it_wrote(small_archive: Path, tmp_path: Path) -> None:
    """Before: `-o out` printed `wrote out` and `wrote out-fronts`; matplotlib wrote out.png
    and out-fronts.png."""
    pytest.importorskip("matplotlib")
    proc = run("archive", "plot", str(small_archive), "-o", "out", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("wrote out.png (") and lines[1].startswith("wrote out-fronts.png (")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [
        "out-fronts.png", "out.png"
    ]


def test_archive_plot_without_matplotlib(small_archive: Path, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # as if it were not installed
        "from satya_adapt.cli import main\n"
        f"sys.exit(main(['archive', 'plot', {str(small_archive)!r}, '-o', 'x.png']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "satya-adapt: error: archive plot needs matplotlib, which is not installed;"
        " install the extra: pip install 'satya-adapt[plot]'\n"
    )
    assert not (tmp_path / "x.png").exists()


def test_archive_plot_corrupt_archive(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b"{")
    message = one_error_line(run("archive", "plot", "bad.json", "-o", "x.png", cwd=tmp_path))
    assert message.startswith("bad.json: not valid JSON")
    assert not (tmp_path / "x.png").exists()


# -- archive refresh ------------------------------------------------------------------------------


def refresh_archive_file(d: Path) -> tuple[Path, list[A.Cell]]:
    cells = [
        # batch_size 1: one chunk per record, far slower than the default configuration.
        cell_for(W.PROFILES["mixed10"], "dicts", (1, 1, 1), ci=(1.3, 1.6)),
        cell_for(W.PROFILES["plain3"], "json", (64, 16, 1), ci=(1.1, 1.2), store=False),
        cell_for(W.PROFILES["nested"], "ndjson", "keep_default", ci=(0.9, 1.01)),
    ]
    path = d / "refresh.json"
    A.write_archive(make_archive(cells), path)
    return path, cells


def test_archive_refresh_demotes_an_elite_that_loses(tmp_path: Path) -> None:
    path, before = refresh_archive_file(tmp_path)
    history = A.load_archive(path).history
    proc = run(
        "archive", "refresh", "refresh.json", "--records", "300", "--rounds", "3", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    after = A.load_archive(path)
    loser = after.cells[0]
    assert loser.elite == "keep_default"
    assert loser.n_measurements == 3
    assert loser.speedup_ci_low <= 1.03
    assert after.cells[2] == before[2]  # keep_default: nothing to re-measure
    assert after.cells[1].n_measurements == 3  # re-measured from its profile (no stored genes)
    last = after.history[-1]
    assert last.action == "refresh"
    assert last.command == "satya-adapt archive refresh refresh.json --records 300 --rounds 3"
    assert str(loser.index) in last.summary
    assert after.history[:-1] == history
    out = proc.stdout
    assert f"cell {loser.index} dicts: elite 1/1/1 demoted to keep_default" in out
    assert f"wrote refresh.json (history: {len(after.history)} entries)" in out


def test_archive_refresh_keeps_elites_that_clear_the_bar(tmp_path: Path) -> None:
    path, before = refresh_archive_file(tmp_path)
    original = path.read_bytes()
    proc = run(
        "archive",
        "refresh",
        "refresh.json",
        "-o",
        "out.json",
        "--records",
        "200",
        "--rounds",
        "3",
        "--min-speedup",
        "1e-9",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == original  # -o: the input is left alone
    after = A.load_archive(tmp_path / "out.json")
    assert [c.elite for c in after.cells] == [c.elite for c in before]
    assert after.history[-1].cells_changed == 0


def test_archive_refresh_refuses_an_output_it_cannot_write_before_measuring(tmp_path: Path) -> None:
    # It measured every cell, then said the folder did not exist.
    path, _ = refresh_archive_file(tmp_path)
    for out, why in (("nope/x.json", f"no folder {tmp_path / 'nope'}"), (".", "a folder")):
        proc = run("archive", "refresh", path.name, "-o", out, cwd=tmp_path)
        assert one_error_line(proc) == f"{out}: cannot write the archive: {why}"
        assert proc.stdout == ""


def test_archive_refresh_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]")
    message = one_error_line(run("archive", "refresh", "x.json", cwd=tmp_path))
    assert message.startswith("x.json: not an archive")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_refresh_leaves_the_file_intact(tmp_path: Path, sig: int) -> None:
    path, _ = refresh_archive_file(tmp_path)
    original = path.read_bytes()
    env = dict(os.environ)
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "satya_adapt",
            "archive",
            "refresh",
            "refresh.json",
            "--records",
            "20000",
            "--rounds",
            "200",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120  # a busy machine starts Python slowly
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "measuring" in line or not line:
                break
        assert "measuring" in line
        time.sleep(2.0)  # past generating the data: inside the timed rounds
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (130 if sig == signal.SIGINT else 143)
    assert err == ""
    assert path.read_bytes() == original
    A.load_archive(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refresh.json"]  # no temporary left


# -- archive merge --------------------------------------------------------------------------------


def test_archive_merge_keeps_the_better_evidenced_cell(tmp_path: Path) -> None:
    mixed, plain, nested = W.PROFILES["mixed10"], W.PROFILES["plain3"], W.PROFILES["nested"]
    a_cells = [
        cell_for(mixed, "json", (256, 64, 1), ci=(1.10, 1.3), n_measurements=9),
        cell_for(plain, "dicts", (512, 64, 1), ci=(1.20, 1.3), n_measurements=5),
        cell_for(nested, "dicts", (128, 32, 1), ci=(1.05, 1.1), n_measurements=5),
    ]
    b_cells = [
        cell_for(mixed, "json", (1024, 128, 2), ci=(1.15, 1.4), n_measurements=5),  # higher low
        cell_for(plain, "dicts", "keep_default", ci=(0.98, 1.02), n_measurements=30),  # lower low
        cell_for(nested, "dicts", (256, 32, 1), ci=(1.05, 1.2), n_measurements=7),  # tie: more n
        cell_for(mixed, "ndjson", (2048, 256, 1), ci=(1.2, 1.3)),  # only in B
    ]
    A.write_archive(make_archive(a_cells), tmp_path / "a.json")
    A.write_archive(make_archive(b_cells, tool="other"), tmp_path / "b.json")
    proc = run("archive", "merge", "a.json", "b.json", "-o", "m.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = A.load_archive(tmp_path / "m.json")
    by_index = {tuple(c.index): c for c in merged.cells}
    assert by_index[tuple(a_cells[0].index)] == b_cells[0]
    assert by_index[tuple(a_cells[1].index)] == a_cells[1]
    assert by_index[tuple(a_cells[2].index)] == b_cells[2]
    assert by_index[tuple(b_cells[3].index)] == b_cells[3]
    assert len(merged.cells) == 4
    assert merged.provenance.tool == "tests"
    last = merged.history[-1]
    assert (last.action, last.cells_added, last.cells_changed) == ("merge", 1, 2)
    assert last.command == "satya-adapt archive merge a.json b.json -o m.json"
    assert proc.stdout.splitlines()[-1] == "wrote m.json"


def test_archive_merge_refuses_other_grids(tmp_path: Path) -> None:
    other = A.Grid(features=[GRID.features[0], GRID.features[1]])
    A.write_archive(make_archive([]), tmp_path / "a.json")
    A.write_archive(make_archive([], grid=other), tmp_path / "b.json")
    message = one_error_line(
        run("archive", "merge", "a.json", "b.json", "-o", "m.json", cwd=tmp_path)
    )
    assert message == (
        "cannot merge a.json and b.json: their grids differ (features, bins or scales);"
        " only archives over the same grid can be merged"
    )
    assert not (tmp_path / "m.json").exists()


def test_archive_merge_refuses_other_hardware(tmp_path: Path) -> None:
    a = make_archive([cell_for(W.PROFILES["plain3"], "dicts", (64, 16, 1))])
    hw = a.provenance.hardware
    assert hw is not None
    other = A.Hardware(
        cpu_model="Other",
        cpu_vendor="OtherVendor",
        cpu_family="99",
        machine=hw.machine,
        usable_cores=hw.usable_cores,
    )
    import msgspec

    b = msgspec.structs.replace(a, provenance=msgspec.structs.replace(a.provenance, hardware=other))
    A.write_archive(a, tmp_path / "a.json")
    A.write_archive(b, tmp_path / "b.json")
    message = one_error_line(
        run("archive", "merge", "a.json", "b.json", "-o", "m.json", cwd=tmp_path)
    )
    # Each side named by its file (before: `archive '..', here '..'`, of two archives).
    assert message.startswith(
        "cannot merge a.json and b.json: they were measured on different hardware classes"
        f" (CPU vendor differs: a.json {hw.cpu_vendor!r}, b.json 'OtherVendor'; CPU family"
        f" differs: a.json {hw.cpu_family!r}, b.json '99'"
    )


# -- what a new user may feed the command line: one line, exit 2 (issue 8) -----------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[1,2]", "an array"), ('"str"', "a string"), ("5", "a number"), ("null", "null")],
)
def test_schema_that_is_not_an_object_or_a_boolean(tmp_path: Path, text: str, kind: str) -> None:
    (tmp_path / "s.json").write_text(text)
    (tmp_path / "d.ndjson").write_text("{}\n")
    message = one_error_line(run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path))
    assert message == f"invalid schema s.json: a JSON Schema is an object or a boolean, got {kind}"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff{}", "the schema s.json is not UTF-8 text: invalid start byte at byte 0"),
        (
            b'{"type": "\xe9"}',
            "the schema s.json is not UTF-8 text: invalid continuation byte at byte 10",
        ),
        (b"", "the schema s.json is empty"),
        (b" \n\t\n", "the schema s.json is empty"),
        (b"\xef\xbb\xbf", "the schema s.json is empty"),
        (
            b'{"items":' * 599 + b"{}" + b"}" * 599,
            "invalid schema s.json: the schema is nested deeper than 100 levels",
        ),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "invalid schema s.json: the schema is nested deeper than 100 levels",
        ),
    ],
    ids=["not-utf8", "latin1", "empty", "blank", "only-bom", "deep-600", "deep-100000"],
)
def test_schema_file_garbage_is_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "s.json").write_bytes(content)
    (tmp_path / "d.ndjson").write_text("{}\n")
    message = one_error_line(run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path))
    assert message == expected


def test_schema_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "d.ndjson").write_text("{}\n")
    message = one_error_line(run("validate", "d.ndjson", "--schema", "sub", cwd=tmp_path))
    assert message == "cannot read the schema sub: Is a directory"


def test_a_utf16_schema_is_named_as_such(tmp_path: Path) -> None:
    # It said "not UTF-8 text: invalid start byte at byte 0".
    (tmp_path / "d.ndjson").write_text("{}\n")
    for encoding in ("utf-16", "utf-16-be"):
        text = '{"type": "object"}'.encode(encoding)
        if not text.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = b"\xfe\xff" + text
        (tmp_path / "s.json").write_bytes(text)
        message = one_error_line(run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path))
        assert message == "the schema s.json is UTF-16 text, not UTF-8: save it as UTF-8"


def test_a_utf16_schema_without_a_byte_order_mark_is_named_as_such(tmp_path: Path) -> None:
    """Before: "the schema s.json is not valid JSON: Expecting property name enclosed in
    double quotes: line 1 column 2 (char 1)" (its zero bytes are valid UTF-8)."""
    (tmp_path / "d.ndjson").write_text("{}\n")
    for encoding, name in (("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")):
        (tmp_path / "s.json").write_bytes('{"type": "object"}'.encode(encoding))
        message = one_error_line(run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path))
        assert message == (
            f"the schema s.json is {name} text without a byte order mark, not UTF-8: save it as UTF-8"
        )


def test_terminal_controls_from_the_data_are_shown_as_text(tmp_path: Path) -> None:
    # A key `\x1b[2J` (clear the screen) reached the terminal in the path and message columns,
    # as a file name with one did in the report's head line and in errors.
    (tmp_path / "s.json").write_text(
        '{"additionalProperties": {"type": "integer"}, "propertyNames": {"maxLength": 3}}'
    )
    name = "e\x1b[31m\nx.ndjson"
    (tmp_path / name).write_text('{"\\u001b[2Jk": "x"}\n')
    for args in ([name], [name, name, "--workers", "1"], [name + "z"]):
        proc = run("validate", *args, "--schema", "s.json", cwd=tmp_path)
        assert proc.returncode in (1, 2), proc.stderr
        for out in (proc.stdout, proc.stderr):
            assert "\x1b" not in out and "\nx.ndjson" not in out, out
        assert "e\\x1b[31m" in proc.stdout + proc.stderr  # (an error's line break: a space)
    assert "/\\x1b[2Jk  type" in run("validate", name, "--schema", "s.json", cwd=tmp_path).stdout


def test_a_schema_without_end_is_refused_at_its_bound(tmp_path: Path) -> None:
    # `--schema /dev/zero` was read until memory ran out, then a MemoryError traceback.
    (tmp_path / "d.ndjson").write_text("{}\n")
    message = one_error_line(run("validate", "d.ndjson", "--schema", "/dev/zero", cwd=tmp_path))
    assert message == (
        "the schema /dev/zero is longer than 64 MiB: a schema file, not data, is expected after"
        " --schema"
    )


def test_input_kind_document_reads_a_top_level_array_as_one_record(tmp_path: Path) -> None:
    commands = [{"file": "a.c", "directory": "/x"}, {"file": "b.c"}]
    (tmp_path / "cc.json").write_text(json.dumps(commands, indent=2))
    (tmp_path / "s.json").write_text(
        '{"type": "array", "items": {"type": "object", "required": ["file", "directory"]}}'
    )
    # Read as a JSON array of records, each element fails; the report says what to pass.
    proc = run("validate", "cc.json", "--schema", "s.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == (
        "note: DATA is a JSON array, so each of its elements is a record; the schema describes"
        " an array: --input-kind document validates DATA as one record"
    )
    proc = run("validate", "cc.json", "--schema", "s.json", "--input-kind", "document",
               "--format", "json", cwd=tmp_path)  # fmt: skip
    doc = json.loads(proc.stdout)
    assert (doc["records"], doc["document"]) == (1, True)
    assert doc["errors"] == [
        {"index": 0, "path": "/1", "keyword": "required",
         "message": "Missing required property `directory`"}
    ]  # fmt: skip
    # Compressed, on standard input, and as one of several files, alike.
    gz = gzip.compress((tmp_path / "cc.json").read_bytes())
    (tmp_path / "cc.json.gz").write_bytes(gz)
    text = (tmp_path / "cc.json").read_bytes()
    for args, stdin in ((["cc.json.gz"], None), (["-"], text), (["cc.json", "cc.json.gz"], None)):
        proc = run("validate", *args, "--schema", "s.json", "--input-kind", "document",
                   "--format", "json", cwd=tmp_path, stdin=stdin)  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["records"] == len(args), args
        assert {e["path"] for e in doc["errors"]} == {"/1"}, args
    # A document that is not JSON is one invalid record; with --pointer it is refused.
    (tmp_path / "broken.json").write_text("[1,\n2")
    proc = run("validate", "broken.json", "--schema", "s.json", "--input-kind", "document",
               "--format", "json", cwd=tmp_path)  # fmt: skip
    doc = json.loads(proc.stdout)
    assert (doc["records"], [e["keyword"] for e in doc["errors"]]) == (1, ["json"])
    # Its error is placed in the file (the engine read it as one line), and on standard
    # input too (which cannot be read again: a document of at most 16 MiB is kept as read).
    assert doc["errors"][0]["message"] == (
        "Invalid JSON on line 2, column 2: unexpected end of input at byte 5"
    )
    proc = run("validate", "-", "--schema", "s.json", "--input-kind", "document",
               "--format", "json", cwd=tmp_path, stdin=b"[1,\n2")  # fmt: skip
    assert json.loads(proc.stdout)["errors"][0]["message"] == (
        "Invalid JSON on line 2, column 2: unexpected end of input at byte 5"
    )
    # A document longer than --max-record-bytes is refused as such.
    proc = run("validate", "cc.json", "--schema", "s.json", "--input-kind", "document",
               "--max-record-bytes", "20", cwd=tmp_path)  # fmt: skip
    assert one_error_line(proc) == (
        "cc.json: the document is longer than `max_record_bytes` (20 bytes)"
        " (--max-record-bytes sets it)"
    )
    proc = run("validate", "cc.json", "cc.json.gz", "--schema", "s.json", "--input-kind",
               "document", "--max-record-bytes", "20", cwd=tmp_path)  # fmt: skip
    assert "the document is longer than `max_record_bytes` (20 bytes)" in one_error_line(proc)
    # `archive explain` reads it as `validate` does: one record, streamed.
    proc = run("archive", "explain", "cc.json", "--schema", "s.json", "--input-kind", "document",
               cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "  input_kind             ndjson" in proc.stdout.splitlines()
    proc = run("validate", "cc.json", "--schema", "s.json", "--input-kind", "document",
               "--pointer", "/0", cwd=tmp_path)  # fmt: skip
    assert one_error_line(proc) == (
        "--pointer reads the records of an array in DATA: not with --input-kind document"
    )


def test_draft_option_and_an_unrecognised_meta_schema(tmp_path: Path) -> None:
    # Draft 4 reads `const` as an annotation; 2020-12 (what an unknown `$schema` means) asserts it.
    (tmp_path / "s.json").write_text(
        '{"$schema": "http://json-schema.org/draft-03/schema#", "const": 1}'
    )
    (tmp_path / "d.ndjson").write_text("1\n2\n")
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    assert [e["index"] for e in json.loads(proc.stdout)["errors"]] == [1]
    assert proc.stderr.splitlines() == [
        "satya-adapt: warning: `$schema` `http://json-schema.org/draft-03/schema#` names none of"
        " the drafts satya-adapt implements (4, 6, 7, 2019-09, 2020-12) nor a meta-schema given"
        " in `resources`: the schema is read as draft 2020-12; `draft=` (the command line's"
        " `--draft`) chooses another"
    ]
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--format", "json", "--draft", "4",
               cwd=tmp_path)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout)["invalid"] == 0
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--draft", "3", cwd=tmp_path)
    assert "argument --draft: invalid choice: '3'" in one_error_line(proc)


def test_schema_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_bytes(b'\xef\xbb\xbf{"type": "object"}')
    (tmp_path / "d.ndjson").write_text("{}\n[]\n")
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["errors"] == [
        {"index": 1, "path": "", "keyword": "type", "message": "Expected `object`, got `array`"}
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--batch-size", "1" + "0" * 23],
            "argument --batch-size: expected an integer from 1 to 4294967296,"
            " got '100000000000000000000000'",
        ),
        (
            ["--batch-size", "1e23"],
            "argument --batch-size: expected an integer from 1 to 4294967296, got '1e23'",
        ),
        (
            ["--threads", "1" + "0" * 23],
            "argument --threads: expected an integer from 1 to 4294967296,"
            " got '100000000000000000000000'",
        ),
        (
            ["--threads", "4294967297"],
            "argument --threads: expected an integer from 1 to 4294967296, got '4294967297'",
        ),
        (
            ["--threads", "0"],
            "argument --threads: expected an integer from 1 to 4294967296, got '0'",
        ),
        (
            ["--micro-batch-size", "-3"],
            "argument --micro-batch-size: expected an integer from 1 to 4294967296, got '-3'",
        ),
        (
            ["--batch-size", "9" * 100],
            "argument --batch-size: expected an integer from 1 to 4294967296,"
            f" got {'9' * 40!r}... (100 characters)",
        ),
        (["--errors", "-1"], "argument --errors: expected an integer >= 0, got '-1'"),
    ],
)
def test_knobs_out_of_range_are_usage_errors(
    files: dict[str, Any], args: list[str], expected: str
) -> None:
    proc = run("validate", "good.ndjson", "--schema", "schema.json", *args, cwd=files["dir"])
    assert one_error_line(proc) == f"validate: {expected} (see 'satya-adapt validate --help')"


def test_knobs_at_their_bounds_are_accepted(files: dict[str, Any]) -> None:
    proc = run(
        "validate", "good.ndjson", "--schema", "schema.json", "--format", "json",
        "--batch-size", "4294967296", "--micro-batch-size", "4294967296", "--threads", "4294967296",
        cwd=files["dir"],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)["config"]
    assert (config["batch_size"], config["micro_batch_size"], config["threads"]) == (
        4294967296,
        4294967296,
        4294967296,
    )


def test_a_fifo_is_read_as_a_stream(files: dict[str, Any], tmp_path: Path) -> None:
    """Before: "no such NDJSON file" (and a FIFO's data was read twice: once lost)."""
    d = files["dir"]
    data = (d / "mixed.ndjson").read_bytes()
    fifo = tmp_path / "records.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    import threading

    writer = threading.Thread(target=write)
    writer.start()
    try:
        proc = run("validate", str(fifo), "--schema", "schema.json", "--format", "json", cwd=d)
    finally:
        writer.join(timeout=60)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    w = files["workload"]
    assert (doc["data"], doc["input_kind"]) == (str(fifo), "ndjson")
    assert (doc["records"], doc["invalid"]) == (600, len(w.broken))
    assert doc["errors"] == errors_of(Validator(w.schema).validate_ndjson(data))[:10]


@pytest.mark.parametrize("name", ["mixed.ndjson", "mixed.json"])
def test_dev_stdin_is_read_as_a_stream(files: dict[str, Any], name: str) -> None:
    d, w = files["dir"], files["workload"]
    data = (d / name).read_bytes()
    proc = run(
        "validate", "/dev/stdin", "--schema", "schema.json", "--format", "json", cwd=d, stdin=data
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["data"] == "/dev/stdin"
    assert doc["input_kind"] == ("json" if name.endswith(".json") else "ndjson")
    assert (doc["records"], doc["invalid"]) == (600, len(w.broken))


@pytest.mark.parametrize("name", ["good.ndjson", "good.json"])
def test_a_byte_order_mark_is_skipped_as_validate_json_skips_it(
    files: dict[str, Any], tmp_path: Path, name: str
) -> None:
    """Before: the CLI accepted a BOM-prefixed JSON array that `validate_json` refused."""
    data = b"\xef\xbb\xbf" + (files["dir"] / name).read_bytes()
    (tmp_path / name).write_bytes(data)
    schema = str(files["dir"] / "schema.json")
    proc = run("validate", name, "--schema", schema, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["records"] == len(files["good"])
    v = files["validator"]
    result = v.validate_json(data) if name.endswith(".json") else v.validate_ndjson(data)
    assert (len(result.valid), result.n_invalid) == (len(files["good"]), 0)


def test_an_archive_too_large_is_refused_by_its_size(tmp_path: Path) -> None:
    with open(tmp_path / "big.json", "wb") as f:
        f.truncate(A.MAX_ARCHIVE_BYTES + 1)  # sparse: costs no disk
    message = one_error_line(run("archive", "show", "big.json", cwd=tmp_path))
    assert message == "big.json: the archive is larger than 64 MiB (67108865 bytes)"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--erors", "3"),
            "validate: unrecognized arguments: --erors 3; did you mean --errors?"
            " (see 'satya-adapt validate --help')",
        ),
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--batchsize=5"),
            "validate: unrecognized arguments: --batchsize=5; did you mean --batch-size?"
            " (see 'satya-adapt validate --help')",
        ),
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--zzz"),
            "validate: unrecognized arguments: --zzz (see 'satya-adapt validate --help')",
        ),
        (
            ("archive", "show", "--formt", "json"),
            "archive show: unrecognized arguments: --formt; did you mean --format?"
            " (see 'satya-adapt archive show --help')",
        ),
        (
            ("archive", "explain", "--schema", "s.json", "d.ndjson", "more.ndjson"),
            "archive explain: unrecognized arguments: more.ndjson"
            " (see 'satya-adapt archive explain --help')",
        ),
        (("--verbose",), "unrecognized arguments: --verbose (see 'satya-adapt --help')"),
    ],
    ids=["validate-typo", "typo-with-value", "validate-unknown", "archive-show", "positional", "top"],
)
def test_a_mistyped_option_names_the_command_and_the_closest_option(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """Before (issue 11, first hour): `validate ... --erors 3` said `unrecognized arguments:
    --erors 3 (see 'satya-adapt --help')`, the top-level help, with no hint."""
    (tmp_path / "s.json").write_text("{}")
    (tmp_path / "d.ndjson").write_text("{}\n")
    assert one_error_line(run(*args, cwd=tmp_path)) == expected


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--erro", "3"),
            "validate: unrecognized arguments: --erro 3; did you mean --errors?"
            " (see 'satya-adapt validate --help')",
        ),
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--err=3"),
            "validate: unrecognized arguments: --err=3; did you mean --errors?"
            " (see 'satya-adapt validate --help')",
        ),
        (
            ("validate", "d.ndjson", "--schema", "s.json", "--m", "3"),
            "validate: unrecognized arguments: --m 3; did you mean --max-pause or"
            " --max-record-bytes or --memory-budget? (see 'satya-adapt validate --help')",
        ),
        (
            ("demo", "--record", "5"),
            "demo: unrecognized arguments: --record 5; did you mean --records?"
            " (see 'satya-adapt demo --help')",
        ),
        (
            ("archive", "explain", "--sch", "s.json", "d.ndjson"),
            "archive explain: the following arguments are required: --schema"
            " (see 'satya-adapt archive explain --help')",
        ),
        (
            ("optimize", "--gen", "3"),
            "optimize: unrecognized arguments: --gen 3; did you mean --generations?"
            " (see 'satya-adapt optimize --help')",
        ),
    ],
    ids=["prefix", "prefix-equals", "ambiguous", "demo", "required", "optimize"],
)
def test_an_abbreviated_option_is_refused(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """Before (issue 11): argparse took any unambiguous prefix (`--err 3` ran as `--errors 3`,
    `demo --record 5` as `--records 5`), so a new option could change an old command's meaning."""
    (tmp_path / "s.json").write_text("{}")
    (tmp_path / "d.ndjson").write_text("{}\n")
    assert one_error_line(run(*args, cwd=tmp_path)) == expected


def test_archive_show_puts_a_kept_defaults_speedup_in_parentheses(small_archive: Path) -> None:
    """Before (issue 11, first hour): a keep_default row printed its best rejected candidate's
    speedup as an elite's (`keep_default  1.45 [0.99, 1.65]`), which reads as a gain."""
    lines = run("archive", "show", str(small_archive), cwd=small_archive.parent).stdout.splitlines()
    rows = {line.split()[3]: line for line in lines if line.startswith("  [")}
    assert rows["dicts"].split("keep_default")[1].split()[:3] == ["(0.98", "[0.95,", "1.02])"]
    assert rows["json"].split("256/64/1")[1].split()[:3] == ["1.35", "[1.20,", "1.50]"]
    assert (
        "  keep_default: (in parentheses) the best candidate's speedup, not kept (its lower"
        " bound is not above 1.03); the cell runs the default configuration"
    ) in lines


def test_validate_max_record_bytes_sets_the_longest_line(tmp_path: Path) -> None:
    """Before: a line over 64 MiB stopped with exit 2 naming `max_record_bytes`, which the
    command line had no way to set."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "d.ndjson").write_text('{"a": "' + "x" * 200 + '"}\n{}\n')
    line = one_error_line(run("validate", "d.ndjson", "--schema", "s.json",
                              "--max-record-bytes", "100", cwd=tmp_path))  # fmt: skip
    assert line == (
        "d.ndjson: NDJSON line 1 is longer than `max_record_bytes` (100 bytes)"
        " (--max-record-bytes sets it)"
    )
    proc = run("validate", "d.ndjson", "--schema", "s.json", "--max-record-bytes", "1KiB",
               cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "d.ndjson: 2 records (ndjson, streamed): all valid"
    bad = one_error_line(run("validate", "d.ndjson", "--schema", "s.json",
                             "--max-record-bytes", "lots", cwd=tmp_path))  # fmt: skip
    assert bad == (
        "validate: argument --max-record-bytes: expected bytes such as 256MiB or 100000000,"
        " got 'lots' (see 'satya-adapt validate --help')"
    )


# -- standard output, odd file names, files that change ------------------------------------------


def _to(stdout: Any, *args: str, cwd: Path, buffered: bool) -> subprocess.CompletedProcess[str]:
    """Runs the CLI with its standard output on ``stdout`` (a file or a pipe's end), Python's
    own buffering on or off (``PYTHONUNBUFFERED``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SATYA_ADAPT_ARCHIVE", "PYTHONUNBUFFERED")}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "satya_adapt", *args],
        check=False, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_a_full_standard_output_is_one_error_line_naming_it(tmp_path: Path, buffered: bool) -> None:
    """Before: `validate ... > /dev/full` said "satya-adapt: error: No space left on device"
    (no word of what could not be written) when Python wrote at once, and "Exception ignored
    in: <_io.TextIOWrapper name='<stdout>'...>" with exit code 120 when it buffered (as it
    does by default); `--help > /dev/full` exited 0, writing nothing."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "d.ndjson").write_text('{"a": 1}\n')
    for args in (
        ("validate", "d.ndjson", "--schema", "s.json"),
        ("validate", "d.ndjson", "--schema", "s.json", "--format", "json"),
        ("validate", "d.ndjson", "d.ndjson", "--schema", "s.json", "--workers", "1"),
        ("--help",),
        ("validate", "--help"),
        ("--version",),
    ):
        with open("/dev/full", "w") as full:
            proc = _to(full, *args, cwd=tmp_path, buffered=buffered)
        assert (proc.returncode, proc.stderr) == (
            2, "satya-adapt: error: cannot write to standard output: No space left on device\n"
        ), args


def test_output_to_a_reader_gone_before_it_is_written_exits_141_quietly(tmp_path: Path) -> None:
    """Before: buffered output to a pipe whose reader had gone (`| true`) was written as
    Python exited: "Exception ignored ... BrokenPipeError" and exit code 120."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "d.ndjson").write_text('{"a": 1}\n')
    read, write = os.pipe()
    os.close(read)
    try:
        proc = _to(write, "validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path, buffered=True)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_a_data_file_named_with_a_leading_dash(tmp_path: Path) -> None:
    """Before: `validate -dash.ndjson --schema s.json` said "the following arguments are
    required: DATA", no word of why (argparse reads a word that starts with `-` as an option)
    nor of how to name the file."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "-dash.ndjson").write_text('{"a": 1}\n')
    (tmp_path / "-s.json").write_text('{"type": "object"}')
    hint = "-dash.ndjson is read as an option: name the file ./-dash.ndjson, or put it last, after --"
    for args, expected in (
        (("validate", "-dash.ndjson", "--schema", "s.json"),
         f"validate: the following arguments are required: DATA; {hint}"),
        (("validate", "--schema", "s.json", "-dash.ndjson"),
         f"validate: the following arguments are required: DATA; {hint}"),
        (("validate", "s.json", "-dash.ndjson", "--schema", "s.json"),
         f"validate: unrecognized arguments: -dash.ndjson; {hint}"),
        (("validate", "./-dash.ndjson", "--schema", "-s.json"),
         "validate: argument --schema: expected one argument; -s.json is read as an option:"
         " name the file ./-s.json"),
        (("archive", "show", "-dash.ndjson"),
         f"archive show: unrecognized arguments: -dash.ndjson; {hint}"),
        # No such file: no hint.
        (("validate", "-nothere.ndjson", "--schema", "s.json"),
         "validate: the following arguments are required: DATA"),
    ):  # fmt: skip
        where = " ".join(args[:2]) if args[0] == "archive" else args[0]
        assert one_error_line(run(*args, cwd=tmp_path)) == (
            f"{expected} (see 'satya-adapt {where} --help')"
        ), args
    proc = run("validate", "--schema", "s.json", "--no-adapt", "--", "-dash.ndjson", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "-dash.ndjson: 1 record (ndjson, streamed): all valid"
    proc = run("validate", "./-dash.ndjson", "--schema=-s.json", "--no-adapt", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "./-dash.ndjson: 1 record (ndjson, streamed): all valid"


_CUT_WHILE_READ = """
import os, sys
from satya_adapt import Validator, summary
from satya_adapt.cli import main

def cut():
    with open("d.ndjson", "r+b") as f:
        f.truncate(int(os.environ["CUT_AT"]))

first = Validator.iter_validate
def iter_validate(self, source, **kwargs):
    for i, chunk in enumerate(first(self, source, **kwargs)):
        if i == 0:
            cut()
        yield chunk
Validator.iter_validate = iter_validate

whole = summary.validate_path
def validate_path(validator, path, *args, **kwargs):
    result = whole(validator, path, *args, **kwargs)
    if path == "d.ndjson":
        cut()
    return result
summary.validate_path = validate_path
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("many", [False, True], ids=["one-file", "many-files"])
def test_a_file_that_changes_while_it_is_read_is_a_warning(tmp_path: Path, many: bool) -> None:
    """Before: a log truncated while `validate` read it was reported on what was read,
    silently (2,000,000 records at the start, "1,000,000 records: all valid" and exit 0):
    the size the file had when it was opened is now checked again once it is read."""
    (tmp_path / "s.json").write_text('{"type": "object"}')
    line = '{"a": 1}\n'
    (tmp_path / "d.ndjson").write_text(line * 1000)
    args = ["validate", "d.ndjson", "--schema", "s.json", "--no-adapt", "--batch-size", "10"]
    if many:
        (tmp_path / "e.ndjson").write_text(line)
        args[2:2] = ["e.ndjson"]
        args += ["--workers", "1"]
    env = {**os.environ, "CUT_AT": str(len(line) * 10)}
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    proc = subprocess.run(
        [sys.executable, "-c", _CUT_WHILE_READ, *args],
        check=False, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        "satya-adapt: warning: d.ndjson shrank from 9,000 to 90 bytes while it was read: the"
        " records that were cut off are not in the report\n"
    )
    # Grown (appended to) is said too; unchanged, nothing.
    from satya_adapt.cli._input import changed

    assert changed(str(tmp_path / "d.ndjson"), 90) is None
    assert changed(str(tmp_path / "d.ndjson"), 80) == (
        f"{tmp_path / 'd.ndjson'} grew from 80 to 90 bytes while it was read: records written"
        " meanwhile may be missing from the report, or the last one cut short (a `json` error)"
    )
    assert changed(str(tmp_path / "gone.ndjson"), 80) is None


def test_an_absolute_ref_names_what_can_be_done_for_a_uri(tmp_path: Path) -> None:
    """Before: "cannot resolve `$ref` `https://example.com/s.json` (at the root) (relative
    references are read from files under ./)": a hint about files, for a URI."""
    (tmp_path / "d.ndjson").write_text("1\n")
    for schema, hint in (
        ({"$ref": "https://example.com/s.json"},
         'embed the schema it names in `$defs` with "$id": "https://example.com/s.json"'),
        ({"$schema": "http://json-schema.org/draft-04/schema#",
          "properties": {"a": {"$ref": "urn:example:s#/definitions/x"}}},
         'embed the schema it names in `definitions` with "id": "urn:example:s"'),
        ({"$ref": "https://example.com/" + "x" * 100},
         "embed the schema it names in `$defs` with its URI as `$id`"),
    ):  # fmt: skip
        (tmp_path / "s.json").write_text(json.dumps(schema))
        ref = next(v for v in _input_refs(schema))
        where = "the root" if "$ref" in schema else "/properties/a"
        assert one_error_line(run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path)) == (
            f"invalid schema s.json: cannot resolve `$ref` `{ref}` (at {where}) (absolute URIs are"
            f" never fetched: {hint}, or save it as a file under ./ and `$ref` that file; in"
            " Python, pass it in `Validator(resources=...)`)"
        )
    # What the hint says works: the schema embedded under its URI.
    (tmp_path / "s.json").write_text(json.dumps({
        "$ref": "https://example.com/s.json",
        "$defs": {"s": {"$id": "https://example.com/s.json", "type": "integer"}},
    }))  # fmt: skip
    assert run("validate", "d.ndjson", "--schema", "s.json", cwd=tmp_path).returncode == 0


def _input_refs(schema: Any) -> list[str]:
    from satya_adapt.cli._input import _refs

    return _refs(schema)
