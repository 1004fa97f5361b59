"""Dask: files, bags and DataFrame partitions validated on a LocalCluster of two worker
processes give the counts and errors of one process, also when a worker dies mid-run.

Also: the summary reduction, the local multi-file pool of the CLI, and Validator pickling.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import InputError, Validator
from satya_adapt.summary import ErrorAt, Summary, merge, open_path, summarize, validate_path

SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "name": {"type": "string", "minLength": 1, "maxLength": 12},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    },
}


def make_records(seed: int, n: int) -> list[dict[str, Any]]:
    """Records of which about one in seven is invalid, in a few ways."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        r: dict[str, Any] = {"id": i, "name": "n" * rnd.randint(1, 12), "tags": ["a"] * rnd.randint(0, 3)}
        k = rnd.randrange(21)
        if k == 0:
            r["id"] = -1
        elif k == 1:
            del r["name"]
        elif k == 2:
            r["tags"] = ["a", "b", "c", "d"]
        out.append(r)
    return out


def write_files(folder: Path, n_files: int, per_file: int) -> list[str]:
    """gzip NDJSON files, and one plain NDJSON and one JSON array among them."""
    paths = []
    for f in range(n_files):
        records = make_records(f, per_file)
        if f == 1:
            path = folder / f"part-{f:02d}.json"
            path.write_text(json.dumps(records))
        elif f == 2:
            path = folder / f"part-{f:02d}.ndjson"
            path.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
        else:
            path = folder / f"part-{f:02d}.ndjson.gz"
            with gzip.open(path, "wt") as out:
                out.writelines(json.dumps(r) + "\n" for r in records)
        paths.append(str(path))
    return paths


def single_process(paths: list[str], max_errors: int) -> Summary:
    v = Validator(SCHEMA, adapt=False)
    return merge(validate_path(v, p, i, max_errors) for i, p in enumerate(paths))


# -- summaries and pickling (no engine) -------------------------------------------------------


def test_a_validator_pickles_small_and_is_compiled_once_per_process() -> None:
    v = Validator(SCHEMA, adapt=False, max_record_bytes=1000)
    data = pickle.dumps(v)
    assert len(data) < len(json.dumps(SCHEMA)) + 300
    a, b = pickle.loads(data), pickle.loads(data)
    assert a is b
    assert (a.adapt, a.max_record_bytes, a.schema.json_schema) == (False, 1000, SCHEMA)
    assert a.validate_batch([{"id": 1}]).errors == v.validate_batch([{"id": 1}]).errors
    d4 = Validator({"type": "integer", "exclusiveMaximum": True, "maximum": 3}, draft="4", adapt=False)
    assert pickle.loads(pickle.dumps(d4)).validate_batch([3, 2]).valid == [False, True]


def test_merge_keeps_the_first_errors_in_input_order_whatever_the_grouping() -> None:
    v = Validator(SCHEMA, adapt=False)
    parts = [
        summarize(v.validate_batch(make_records(s, 50)), f"f{s}", s, 4) for s in range(5)
    ]
    whole = merge(parts)
    assert merge([merge(parts[3:]), merge(parts[:3])]) == whole
    assert merge(reversed(parts)) == whole
    assert whole.records == 250 and whole.sources == 5
    assert whole.first_errors == [
        e for p in parts for e in p.first_errors
    ][:4]
    with pytest.raises(ValueError, match="^`parts` must hold at least one summary$"):
        merge([])


def test_validate_path_reads_gzip_ndjson_plain_ndjson_and_arrays(tmp_path: Path) -> None:
    paths = write_files(tmp_path, 4, 30)
    kinds = []
    for p in paths:
        kind, _, opened = open_path(p)
        kinds.append(kind)
        if opened is not None:
            opened.close()
    assert kinds == ["ndjson", "json", "ndjson", "ndjson"]
    v = Validator(SCHEMA, adapt=False)
    s = validate_path(v, paths[2], 2, 100)
    assert s.records == 31
    assert s.first_errors[-1] == ErrorAt(paths[2], 30, "", "json", s.first_errors[-1].message)
    expected = v.validate_batch(make_records(0, 30))
    s0 = validate_path(v, paths[0], 0, 100)
    assert [(e.index, e.path, e.keyword, e.message) for e in s0.first_errors] == [
        (e.index, e.path, e.keyword, e.message) for e in expected.errors
    ]


# -- Dask -------------------------------------------------------------------------------------

distributed = pytest.importorskip("distributed")
dask_bag = pytest.importorskip("dask.bag")


@pytest.fixture(scope="module")
def client() -> Any:
    cluster = distributed.LocalCluster(
        # Not None, which means the default port 8787: a Dask dashboard the user runs holds it.
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_files_on_two_workers_match_one_process(tmp_path: Path, client: Any) -> None:
    from satya_adapt.dask import validate_files

    paths = write_files(tmp_path, 6, 400)
    expected = single_process(paths, 25)
    got = validate_files(Validator(SCHEMA, adapt=False), paths, client=client, max_errors=25)
    assert got[:6] == expected[:6]  # sources, counts, the first errors with file and index
    assert got.records == 6 * 400 + 1
    assert {e.source for e in got.first_errors} == {paths[0]}  # 25 errors fill file 0 first
    # Each worker compiled and ran its own validator: both did work.
    assert len(client.scheduler_info()["workers"]) == 2


def test_a_bag_of_lines_and_a_dataframe(tmp_path: Path, client: Any) -> None:
    from satya_adapt.dask import validate_bag, validate_dataframe

    paths = [p for p in write_files(tmp_path, 5, 200) if p.endswith(".gz")]
    bag = dask_bag.read_text(paths, compression="gzip")
    assert bag.npartitions == len(paths)
    v = Validator(SCHEMA, adapt=False)
    got = validate_bag(v, bag, client=client, max_errors=1000)
    expected = merge(validate_path(v, p, i, 1000, name=f"partition {i}") for i, p in enumerate(paths))
    assert got[:6] == expected[:6]

    pytest.importorskip("pyarrow")
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    flat = [{"id": r["id"], "name": r.get("name")} for r in make_records(9, 120)]
    frame = dd.from_pandas(pd.DataFrame(flat), npartitions=3)
    got = validate_dataframe(v, frame, client=client, max_errors=1000, null_as_absent=True)
    rows = [{k: x for k, x in r.items() if x is not None} for r in flat]
    one = v.validate_batch(rows)
    assert (got.records, got.valid, got.errors_total) == (120, one.n_valid, len(one.errors))
    assert frame.map_partitions(len).compute().tolist() == [40, 40, 40]
    starts = [0, 40, 80]
    assert [(int(e.source.split()[1]), e.index) for e in got.first_errors] == [
        next((k, e.index - starts[k]) for k in (2, 1, 0) if e.index >= starts[k]) for e in one.errors
    ]


def test_partitions_that_are_iterators_mixed_or_not_arrow(client: Any) -> None:
    """Before: a partition that is a generator (legal in Dask) raised "'generator' object is
    not subscriptable"; a str line then a dict, `AttributeError: 'dict' object has no
    attribute 'encode'` (and a dict then a str validated the str as a record); a pandas
    column with no Arrow type, pyarrow's own `ArrowNotImplementedError`, where
    `validate_arrow` says `InputError` with what to do."""
    from satya_adapt.dask import validate_bag, validate_dataframe

    v = Validator(SCHEMA, adapt=False)
    records = make_records(3, 30)
    bag = dask_bag.from_sequence(records, npartitions=3).map_partitions(lambda p: (x for x in p))
    got = validate_bag(v, bag, client=client, max_errors=1000)
    one = v.validate_batch(records)
    assert (got.records, got.valid, got.errors_total) == (30, one.n_valid, len(one.errors))
    for items, kinds in ((['{"id": 1}', {"id": 2}], "item 0 is str, item 1 dict"),
                         ([{"id": 1}, b'{"id": 2}'], "item 0 is dict, item 1 bytes")):  # fmt: skip
        with pytest.raises(InputError) as caught:
            validate_bag(v, dask_bag.from_sequence(items, npartitions=1), client=client)
        assert str(caught.value).startswith(
            f"partition 0 mixes NDJSON lines (str or bytes) and records: {kinds};"
        )
    pytest.importorskip("pyarrow")
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    # (Dask makes an object column strings: a complex one stays, and has no Arrow type.)
    unreadable = pd.DataFrame({"id": [1 + 2j, 3j]})
    with pytest.raises(InputError) as direct:
        v.validate_arrow(unreadable)
    with pytest.raises(InputError) as caught:
        validate_dataframe(v, dd.from_pandas(unreadable, npartitions=1), client=client)
    assert str(caught.value) == f"partition 0: {direct.value}"


def test_a_worker_killed_mid_run_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, client: Any
) -> None:
    from satya_adapt.dask import validate_files

    paths = write_files(tmp_path, 12, 6000)
    expected = single_process(paths, 50)
    v = Validator(SCHEMA, adapt=False)
    future = client.submit(validate_files, v, paths, max_errors=50, pure=False)
    # Wait until a worker is busy with a file task, then kill that worker's process.
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline and not future.done():
        for address, keys in client.processing().items():
            if any("_file_summary" in str(k) for k in keys):
                victim = address
                break
        time.sleep(0.01)
    killed = False
    if victim is not None:
        pid = client.run(os.getpid, workers=[victim]).get(victim)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed = True
    got = future.result(timeout=300)
    assert killed
    assert got[:6] == expected[:6]


def test_cli_engine_dask_and_the_local_pool_report_alike(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    paths = write_files(folder, 4, 100)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    env = dict(os.environ)

    def run(*extra: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "satya_adapt", "validate", str(folder), "--schema", str(schema),
             "--format", "json", "--no-adapt", "--errors", "5", *extra],
            capture_output=True, text=True, env=env, check=False,
        )
        assert out.returncode == 1, out.stderr
        doc = json.loads(out.stdout)
        for key in ("seconds", "items_per_s", "engine", "chunks", "peak_bytes", "configs"):
            doc.pop(key)
        return doc

    local = run("--workers", "2")
    assert run("--workers", "1") == local
    assert run("--engine", "dask", "--workers", "2") == local
    expected = single_process(sorted(paths), 5)
    assert local["data"] == sorted(paths)
    assert (local["records"], local["valid"], local["errors_total"]) == (
        expected.records, expected.valid, expected.errors_total
    )
    assert local["errors"] == [
        {"file": e.source, "index": e.index, "path": e.path, "keyword": e.keyword, "message": e.message}
        for e in expected.first_errors
    ]


def test_a_local_cluster_starts_while_the_default_dashboard_port_is_taken(tmp_path: Path) -> None:
    """Before: with port 8787 held (a Dask dashboard the user runs, another test run), the
    LocalCluster of `workers=` warned "Port 8787 is already in use", an error under pytest."""
    import socket

    from satya_adapt.dask import validate_files

    path = tmp_path / "a.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_records(3, 20)))
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            held.bind(("", 8787))
            held.listen()
        except OSError:
            pass  # already taken by someone else: the same situation
        summary = validate_files(Validator(SCHEMA), [str(path)], workers=1)
    one = validate_path(Validator(SCHEMA), str(path), 0, 10)
    assert summary.records == 20
    assert summary == one


def test_workers_of_a_cluster_started_for_the_call_do_not_warn_about_the_archive(tmp_path: Path) -> None:
    """Before: with an archive of another hardware class, `satya-adapt validate DIR --engine
    dask --workers 2` printed its ArchiveWarning once per worker on the terminal, beside the
    report and attributed to a line of Dask (the local pool's workers are quiet). Now the
    cluster started for the call is as quiet; the report is the same."""
    import archive_helpers as H

    from satya_adapt import archive as A

    elsewhere = H.archive([H.cell(H.KIND_SIZE_GRID, H.profile(100.0, "ndjson"), (256, 64, 1))],
                          hardware=H.HERE._replace(cpu_family="0"))
    path = tmp_path / "elsewhere.json"
    A.write_archive(elsewhere, path)
    folder = tmp_path / "data"
    folder.mkdir()
    write_files(folder, 3, 50)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    env = dict(os.environ, SATYA_ADAPT_ARCHIVE=str(path))
    out = subprocess.run(
        [sys.executable, "-m", "satya_adapt", "validate", str(folder), "--schema", str(schema),
         "--engine", "dask", "--workers", "2", "--no-progress"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("3 files: 151 records:")
    assert "ArchiveWarning" not in out.stderr and "measured on another hardware class" not in out.stderr
