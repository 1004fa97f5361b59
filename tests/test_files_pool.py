"""The CLI's local process pool (``satya_adapt.cli._files.validate_local``): workers forked
from a server process that imported satya-adapt once, and the summary of one process."""

from __future__ import annotations

import multiprocessing
import sys
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
