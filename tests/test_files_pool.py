"""The CLI's local process pool (``satya_adapt.cli._files.validate_local``): workers forked
from a server process that imported satya-adapt once, and the summary of one process."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from satya_adapt import Validator
from satya_adapt.cli import _files
from satya_adapt.summary import merge, validate_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_dask import SCHEMA, write_files


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server")
def test_the_pool_forks_from_a_server_that_preloads_satya_adapt() -> None:
    context = _files._pool_context()
    assert context.get_start_method() == "forkserver"
    assert _files._PRELOAD == ["satya_adapt", "satya_adapt.summary", "satya_adapt.cli._files"]


def test_two_pools_in_a_row_give_the_summary_of_one_process(tmp_path: Path) -> None:
    paths = write_files(tmp_path, 5, 60)
    v = Validator(SCHEMA, adapt=False)
    expected = merge(validate_path(v, p, i, 4) for i, p in enumerate(paths))
    for _ in range(2):  # the second pool forks from the server the first one started
        got = _files.validate_local(v, paths, 4, "auto", {}, 2)
        assert got[:6] == expected[:6]
    assert expected.records == 301
    assert [(e.source, e.index) for e in expected.first_errors][:1] == [(paths[0], 0)]


def test_many_files_are_read_by_content_as_one_file_is(tmp_path: Path) -> None:
    """Before: with several files, a pretty-printed JSON document was read as NDJSON (one
    `json` error per line), a folder's `.zst` files were skipped and gzip was told by the
    name. Now each file is read as `satya-adapt validate FILE` reads it."""
    import gzip
    import json

    import zstandard

    record = {"id": 1, "name": "Ada", "tags": ["a"]}
    (tmp_path / "pretty.json").write_text(json.dumps(record, indent=2))
    (tmp_path / "lines.ndjson.zst").write_bytes(
        zstandard.ZstdCompressor().compress(b'{"id": 2, "name": "Bo"}\n{"id": -3, "name": "Cy"}\n')
    )
    (tmp_path / "packed.json").write_bytes(gzip.compress(b'[{"id": 4, "name": "Di"}]'))
    files = _files.expand([str(tmp_path)])
    assert [Path(f).name for f in files] == ["lines.ndjson.zst", "packed.json", "pretty.json"]
    v = Validator(SCHEMA, adapt=False)
    parts = [validate_path(v, f, i, 10) for i, f in enumerate(files)]
    assert [(p.records, p.valid) for p in parts] == [(2, 1), (1, 1), (1, 1)]
    assert [(e.source, e.index, e.keyword) for e in merge(parts).first_errors] == [
        (files[0], 1, "minimum")
    ]


def test_a_file_summary_builds_only_the_errors_it_keeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: each file's call built every error of every record and its summary kept the
    first `max_errors` (on failing records the CLI ran 2-3x slower on many files than on one).
    Now the call builds those and counts the others; the summary is the same."""
    paths = write_files(tmp_path, 3, 200)
    v = Validator(SCHEMA, adapt=False)
    whole = [validate_path(v, p, i, 10**9) for i, p in enumerate(paths)]
    built = []
    validate = Validator.validate

    def spy(self: Validator, *args: object, **kwargs: object) -> object:
        result = validate(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append((len(result.errors), result.errors_omitted))
        return result

    monkeypatch.setattr(Validator, "validate", spy)
    capped = [validate_path(v, p, i, 3) for i, p in enumerate(paths)]
    for w, c in zip(whole, capped):
        assert w.errors_total > 3
        assert (c.records, c.valid, c.errors_total) == (w.records, w.valid, w.errors_total)
        assert c.errors == w.errors[:3]
    assert built == [(3, w.errors_total - 3) for w in whole]
    assert merge(capped)[:6] == merge(validate_path(v, p, i, 3) for i, p in enumerate(paths))[:6]


def test_summaries_of_calls_without_errors_say_so(tmp_path: Path) -> None:
    paths = write_files(tmp_path, 3, 100)
    v = Validator(SCHEMA, adapt=False)
    counted = merge(validate_path(v, p, i, 5) for i, p in enumerate(paths))
    alone = [validate_path(v, p, i, 5, errors=False) for i, p in enumerate(paths)]
    assert [a.errors_counted for a in alone] == [False] * 3
    got = merge(alone)
    assert (got.records, got.valid, got.errors, got.errors_total) == (counted.records, counted.valid, (), 0)
    assert got.errors_counted is False
    assert merge([*alone, counted]).errors_counted is False
    assert counted.errors_counted is True
    assert _files.validate_local(v, paths, 5, "auto", {"errors": False}, 2).errors_counted is False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_pool_stops_at_once_without_a_traceback(tmp_path: Path, sig: int) -> None:
    """Ctrl-C reaches the whole process group. A worker waiting for its next task died of it
    with a traceback, and the pool's shutdown waited for it for ever (killed at the timeout);
    a worker mid-file held the command until its file ended. Here one worker reads a FIFO
    that ends after one record, then waits; the other reads a FIFO no one writes; the group
    gets the signal then (the pause only lets the first worker go back to waiting: with or
    without it, the command must stop at once)."""
    small, endless = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    os.mkfifo(small)
    os.mkfifo(endless)
    (tmp_path / "s.json").write_text('{"type": "object"}')
    env = dict(os.environ)
    env.pop("SATYA_ADAPT_ARCHIVE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "satya_adapt", "validate", "a.ndjson", "b.ndjson",
         "--schema", "s.json", "--workers", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, as a terminal's command has
    )  # fmt: skip
    writer = -1
    try:
        # Opening a FIFO to write returns once a worker opened it to read.
        with open(small, "w") as f:
            f.write('{"id": 1}\n')
        writer = os.open(endless, os.O_WRONLY)
        time.sleep(1.0)
        os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if writer >= 0:
            os.close(writer)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "Traceback" not in err, err
