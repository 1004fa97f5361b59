"""Ray: the validity column of `map_batches`, and datasets and files validated on a local Ray
instance, against one process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_dask import SCHEMA, make_records, single_process, write_files

from satya_adapt import Validator

ray = pytest.importorskip("ray")
# Ray Data's DataContext warns about its own deprecated settings when it is built.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def local_ray() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_map_batches_appends_the_validity_column(local_ray: Any) -> None:
    from satya_adapt.ray import ValidityColumn

    flat = [{"id": r["id"], "name": r.get("name", "")} for r in make_records(3, 300)]
    ds = ray.data.from_items(flat, override_num_blocks=4)
    v = Validator(SCHEMA, adapt=False)
    out = ds.map_batches(
        ValidityColumn,
        fn_constructor_args=(v,),
        fn_constructor_kwargs={"errors_column": "errors"},
        batch_format="pyarrow",
        concurrency=2,
    )
    rows = sorted(out.take_all(), key=lambda r: r["id"])
    expected = v.validate_batch([{k: r[k] for k in ("id", "name")} for r in sorted(flat, key=lambda r: r["id"])])
    assert [r["valid"] for r in rows] == expected.valid
    assert sum(len(r["errors"]) for r in rows) == len(expected.errors)
    assert [r["errors"][0]["message"] for r in rows if r["errors"]] == [e.message for e in expected.errors]


def test_validate_dataset_summary(local_ray: Any) -> None:
    from satya_adapt.ray import validate_dataset

    flat = [{"id": r["id"], "name": r.get("name")} for r in make_records(5, 240)]
    table = pa.Table.from_pylist(flat)
    ds = ray.data.from_arrow([table.slice(0, 100), table.slice(100, 140)])
    v = Validator(SCHEMA, adapt=False)
    got = validate_dataset(v, ds, max_errors=1000)
    one = v.validate_batch(table.to_pylist())
    assert (got.records, got.valid, got.errors_total) == (240, one.n_valid, len(one.errors))
    assert [(e.source, e.index, e.message) for e in got.first_errors] == [
        ("block 0", e.index, e.message) if e.index < 100 else ("block 1", e.index - 100, e.message)
        for e in one.errors
    ]


def test_an_empty_dataset_is_an_empty_summary(local_ray: Any) -> None:
    """Before: `from_items([])` (no block) raised "nothing to validate", where a dataset
    filtered down to nothing (empty blocks) and `validate_batch([])` give 0 records."""
    from satya_adapt.ray import validate_dataset

    v = Validator(SCHEMA, adapt=False)
    for errors in (True, False):
        got = validate_dataset(v, ray.data.from_items([]), max_errors=5, errors=errors)
        assert (got.sources, got.records, got.valid, got.errors_total, got.errors) == (0, 0, 0, 0, ())
        assert (got.max_errors, got.errors_counted) == (5, errors)


def test_validate_files_matches_one_process(tmp_path: Path, local_ray: Any) -> None:
    from satya_adapt.ray import validate_files

    paths = write_files(tmp_path, 5, 300)
    got = validate_files(Validator(SCHEMA, adapt=False), paths, max_errors=40)
    assert got[:6] == single_process(paths, 40)[:6]
    assert json.dumps(got.first_errors[0]._asdict())  # plain data, reportable as JSON
