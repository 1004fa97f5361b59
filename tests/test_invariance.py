"""Invariance: the results of a call are identical for every batch configuration.

Random schemas, records (valid and invalid) and batch configurations, including B=1, M=1,
M>B and T larger than the core count, through every entry point; plus the knob evidence:
``stats`` shows that each knob changes what the engine does, and bad knob values raise.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_strategies import examples, schema_and_records

from satya_adapt import DEFAULT_CONFIGURATION, Schema, Validator

CORES = os.cpu_count() or 1

#: The reference configuration every other one is compared against: single-threaded, one
#: chunk for the whole (small) input.
REFERENCE = {"batch_size": 10_000, "micro_batch_size": 10_000, "threads": 1}

Outcome = tuple[list[bool], list[tuple[int, str, str, str]]]


def configurations() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "batch_size": st.one_of(st.just(1), st.integers(1, 40)),
            "micro_batch_size": st.one_of(st.just(1), st.integers(1, 64)),  # often M > B
            "threads": st.sampled_from([1, 2, 3, CORES + 3]),
        }
    )


def outcome(result: Any) -> Outcome:
    return list(result.valid), [(e.index, e.path, e.keyword, e.message) for e in result.errors]


def concat(results: Any) -> Outcome:
    valid: list[bool] = []
    errors: list[tuple[int, str, str, str]] = []
    for r in results:
        assert r.start == len(valid)
        v, e = outcome(r)
        valid += v
        errors += e
    return valid, errors


def ndjson(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def every_entry_point(
    v: Validator, records: list[Any], tmp: Path, config: dict
) -> Iterator[tuple[str, Outcome]]:
    lines = ndjson(records)
    array = json.dumps(records)
    yield "validate_batch(list)", outcome(v.validate_batch(records, **config))
    yield "validate_batch(tuple)", outcome(v.validate_batch(tuple(records), **config))
    yield "validate_batch(generator)", outcome(v.validate_batch((r for r in records), **config))
    yield "validate_json(bytes)", outcome(v.validate_json(array.encode(), **config))
    yield "validate_json(str)", outcome(v.validate_json(array, **config))
    yield "validate_ndjson(bytes)", outcome(v.validate_ndjson(lines, **config))
    path = tmp / "records.ndjson"
    path.write_bytes(lines)
    yield "validate_ndjson(path)", outcome(v.validate_ndjson(path, **config))
    yield "validate_ndjson(str path)", outcome(v.validate_ndjson(str(path), **config))
    with open(path, "rb") as fh:
        yield "validate_ndjson(file)", outcome(v.validate_ndjson(fh, **config))
    yield "validate_ndjson(BytesIO)", outcome(v.validate_ndjson(io.BytesIO(lines), **config))
    yield "iter_validate(list)", concat(v.iter_validate(records, **config))
    yield "iter_validate(generator)", concat(v.iter_validate((r for r in records), **config))
    yield "iter_validate(json)", concat(v.iter_validate(array.encode(), **config))
    # The kind is named: a guessed file holding one JSON document (`[]` on one line) is that
    # document since issue 11, not one NDJSON record.
    yield "iter_validate(ndjson)", concat(
        v.iter_validate(io.BytesIO(lines), input_kind="ndjson", **config)
    )


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("invariance")


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schema_and_records(max_records=40), st.lists(configurations(), min_size=1, max_size=3))
def test_results_identical_for_every_configuration(
    tmp: Path, case: Any, configs: list[dict]
) -> None:
    schema, records = case
    v = Validator(schema, adapt=False)
    expected = outcome(v.validate_batch(records, **REFERENCE))
    assert len(expected[0]) == len(records)
    for config in configs:
        for name, got in every_entry_point(v, records, tmp, config):
            assert got == expected, f"{name} with {config} differs; schema={json.dumps(schema)}"
    # The verdicts alone are the same verdicts, from every entry point.
    verdicts = {**configs[0], "errors": False}
    for name, got in every_entry_point(v, records, tmp, verdicts):
        assert got == (expected[0], []), f"{name} with {verdicts} differs; schema={json.dumps(schema)}"


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schema_and_records(max_records=12), configurations())
def test_large_inputs_identical_for_every_configuration(case: Any, config: dict) -> None:
    """Many records (the small sample repeated), so that chunks and tasks really split it."""
    schema, sample = case
    records = (sample or [{}]) * (300 // max(1, len(sample)) + 1)
    v = Validator(schema, adapt=False)
    expected = outcome(v.validate_batch(records, **REFERENCE))
    assert outcome(v.validate_batch(records, **config)) == expected
    assert outcome(v.validate_json(json.dumps(records).encode(), **config)) == expected
    assert outcome(v.validate_ndjson(ndjson(records), **config)) == expected
    verdicts = (expected[0], [])
    assert outcome(v.validate_batch(records, errors=False, **config)) == verdicts
    assert outcome(v.validate_json(json.dumps(records).encode(), errors=False, **config)) == verdicts
    assert outcome(v.validate_ndjson(ndjson(records), errors=False, **config)) == verdicts


class _Opaque:
    pass


#: Python values no JSON text can hold: the dict path must still report them alike in every
#: configuration (read in place with T=1, taken apart for the pool with T>1).
_PYTHON_ONLY = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        {1, 2},
        frozenset(),
        _Opaque(),
        b"bytes",
        "\ud800",
        "a\udfffb",
        {1: "int key"},
        {"\ud800": "surrogate key"},
        {None: 1, "a": 1},
        (1, "tuple"),
        2**70,
        -(2**64),
    ]
)


@st.composite
def python_records(draw: Any) -> Any:
    schema, records = draw(schema_and_records(max_records=20))
    records = copy.deepcopy(records)  # values may be shared with the schema (enum, const)
    # `draw` is called in this frame only (not from a nested function or comprehension): a
    # closure over it makes hypothesis believe the composite never draws, and warn.
    stack = [(records, i) for i in range(len(records))]
    while stack:
        container, key = stack.pop()
        value = container[key]
        # Nested only: a top-level record that is not a JSON value raises TypeError.
        if container is not records and draw(st.integers(0, 9)) == 0:
            container[key] = draw(_PYTHON_ONLY)
        elif isinstance(value, dict):
            stack.extend((value, k) for k in value)
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
    return schema, records


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(python_records(), st.lists(configurations(), min_size=1, max_size=3))
def test_python_only_values_identical_for_every_configuration(
    case: Any, configs: list[dict]
) -> None:
    schema, records = case
    v = Validator(schema, adapt=False)
    expected = outcome(v.validate_batch(records, **REFERENCE))
    for config in configs:
        assert outcome(v.validate_batch(records, **config)) == expected, config
        assert outcome(v.validate_batch(iter(records), **config)) == expected, config
        assert concat(v.iter_validate(records, **config)) == expected, config


@st.composite
def records_with_lone_surrogates(draw: Any) -> Any:
    """Random schemas and records whose strings and keys (some of them) hold a lone surrogate:
    JSON text writes it as an escape (``json.dumps``), which ``json.loads`` reads back."""
    schema, records = draw(schema_and_records(max_records=20))
    records = copy.deepcopy(records)
    lone = st.sampled_from(["\ud800", "\udfff", "a\udc00", "\ud83dx"])
    stack = [(records, i) for i in range(len(records))]
    while stack:
        container, key = stack.pop()
        value = container[key]
        if isinstance(value, str) and draw(st.integers(0, 3)) == 0:
            container[key] = value + draw(lone)
        elif isinstance(value, dict):
            for k in list(value):
                if draw(st.integers(0, 7)) == 0:
                    value[k + draw(lone)] = value.pop(k)
            stack.extend((value, k) for k in value)
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
    return schema, records


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(records_with_lone_surrogates(), configurations())
def test_lone_surrogate_escapes_read_as_the_dicts_json_loads_makes(case: Any, config: dict) -> None:
    """JSON text whose escapes write lone surrogates gets the results of the dicts ``json.loads``
    reads from it, errors and verdicts, in every configuration."""
    schema, records = case
    v = Validator(schema, adapt=False)
    text = json.dumps(records)
    dicts = json.loads(text)
    expected = outcome(v.validate_batch(dicts, **REFERENCE))
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in dicts)
    for errors in (True, False):
        want = expected if errors else (expected[0], [])
        got = outcome(v.validate_json(text.encode(), errors=errors, **config))
        assert got == want, f"validate_json with {config} differs; schema={json.dumps(schema)}"
        got = outcome(v.validate_ndjson(lines, errors=errors, **config))
        assert got == want, f"validate_ndjson with {config} differs; schema={json.dumps(schema)}"


@pytest.mark.parametrize("threads", [1, 2])
def test_a_false_schema_shows_the_whole_refused_value(threads: int) -> None:
    """Found by the test above in a busy-machine run: `false` under `prefixItems` printed
    `got []` with the pool (the records taken apart skipped what no keyword reads) and
    `got [null]` on one thread."""
    v = Validator({"properties": {"b": {"prefixItems": [{"type": "boolean"}, False]}}}, adapt=False)
    records = [{"b": [None, [None, {"a": 1}]]}] * 2
    r = v.validate_batch(records, batch_size=1, micro_batch_size=1, threads=threads)
    assert [(e.index, e.path, e.keyword, e.message) for e in r.errors] == [
        (i, path, keyword, message)
        for i in (0, 1)
        for path, keyword, message in [
            ("/b/0", "type", "Expected `boolean`, got `null`"),
            ("/b/1", "false", 'No value is allowed here, got [null, {"a": 1}]'),
        ]
    ]


def test_default_configuration_is_the_reference() -> None:
    v = Validator({"type": "object", "required": ["a"]}, adapt=False)
    records = [{"a": 1}, {}, [], {"a": None}] * 5000
    r = v.validate_batch(records)
    assert r.config == DEFAULT_CONFIGURATION
    assert outcome(r) == outcome(v.validate_batch(records, **REFERENCE))
    assert r.n_valid == 10_000 and r.n_invalid == 10_000
    assert r.errors[0].index == 1 and r.errors[-1].index == 19_998


# -- knob evidence ------------------------------------------------------------------------------

KNOB_SCHEMA = Schema.from_json_schema(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "pattern": "^[a-z]+$"},
            "email": {"type": "string", "format": "email"},
            "n": {"type": "integer", "minimum": 0},
        },
        "required": ["name", "n"],
    }
)


def knob_records(n: int) -> list[Any]:
    return [
        {"name": "abc" if i % 7 else "Bad", "email": f"user{i}@example.com", "n": i - (i % 11 == 0)}
        for i in range(n)
    ]


def expected_tasks(n: int, b: int, m: int) -> int:
    full, rest = divmod(n, b)
    return full * math.ceil(b / m) + (math.ceil(rest / m) if rest else 0)


KNOBS = [
    (1000, 1, 1, 1),
    (1000, 100, 10, 1),
    (1000, 100, 10, 2),
    (1000, 128, 1000, 2),  # M > B
    (1000, 300, 7, 4),
    (1000, 1000, 64, CORES + 3),
    (999, 250, 33, 2),
    (1, 1, 1, 2),
]


@pytest.mark.parametrize(("n", "b", "m", "t"), KNOBS)
@pytest.mark.parametrize("kind", ["dicts", "generator", "json", "ndjson"])
def test_stats_show_chunks_and_tasks(kind: str, n: int, b: int, m: int, t: int) -> None:
    v = Validator(KNOB_SCHEMA)
    records = knob_records(n)
    config = {"batch_size": b, "micro_batch_size": m, "threads": t}
    if kind == "dicts":
        r = v.validate_batch(records, **config)
    elif kind == "generator":
        r = v.validate_batch(iter(records), **config)
    elif kind == "json":
        r = v.validate_json(json.dumps(records).encode(), **config)
    else:
        r = v.validate_ndjson(ndjson(records), **config)
    assert len(r.valid) == n
    assert (r.config.batch_size, r.config.micro_batch_size, r.config.threads) == (b, m, t)
    assert r.config.source == "explicit"
    assert r.stats.chunks == math.ceil(n / b)
    # the pool runs each chunk as tasks of M records; T=1 validates each chunk directly
    assert r.stats.tasks == (expected_tasks(n, b, m) if t > 1 else r.stats.chunks)
    assert r.stats.peak_bytes > 0
    assert r.stats.seconds >= 0


@pytest.mark.parametrize("kind", ["dicts-pool", "json", "ndjson"])
def test_peak_bytes_grows_with_batch_size(kind: str) -> None:
    v = Validator(KNOB_SCHEMA)
    records = knob_records(4000)
    peaks = []
    # With several threads, dicts are taken apart for the pool only where that saves the
    # caller's thread time (measured as the call goes): what a chunk holds then lies between
    # its references (8 bytes a record) and every record taken apart, so only sizes far apart
    # are told apart whatever the timings.
    sizes = (10, 4000) if kind == "dicts-pool" else (10, 100, 1000, 4000)
    for b in sizes:
        if kind == "dicts-pool":
            r = v.validate_batch(records, batch_size=b, micro_batch_size=10, threads=2)
        elif kind == "json":
            r = v.validate_json(
                json.dumps(records).encode(), batch_size=b, micro_batch_size=10, threads=1
            )
        else:
            r = v.validate_ndjson(ndjson(records), batch_size=b, micro_batch_size=10, threads=1)
        peaks.append(r.stats.peak_bytes)
        assert r.stats.peak_bytes >= 8 * b
    assert peaks == sorted(peaks) and len(set(peaks)) == len(peaks), peaks
    assert peaks[-1] > (8 if kind == "dicts-pool" else 50) * peaks[0], peaks


def test_iter_validate_yields_one_result_per_chunk() -> None:
    v = Validator(KNOB_SCHEMA)
    records = knob_records(1001)
    for source in (
        records,
        iter(records),
        json.dumps(records).encode(),
        io.BytesIO(ndjson(records)),
    ):
        chunks = list(v.iter_validate(source, batch_size=100, micro_batch_size=30, threads=2))
        assert [len(c) for c in chunks] == [100] * 10 + [1]
        assert [c.start for c in chunks] == list(range(0, 1001, 100))
        assert [c.stats.chunks for c in chunks] == [1] * 11
        assert [c.stats.tasks for c in chunks] == [4] * 10 + [1]
        assert all(e.index // 100 == c.start // 100 for c in chunks for e in c.errors)


@pytest.mark.parametrize("knob", ["batch_size", "micro_batch_size", "threads"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, 2.0])
def test_invalid_knobs_raise_value_error(knob: str, value: Any) -> None:
    v = Validator({"type": "object"}, adapt=False)
    records = [{}, {}]
    data = b"[{}, {}]"
    calls = [
        lambda **kw: v.validate_batch(records, **kw),
        lambda **kw: v.validate_json(data, **kw),
        lambda **kw: v.validate_ndjson(b"{}\n{}\n", **kw),
        lambda **kw: list(v.iter_validate(records, **kw)),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=f"`{knob}`"):
            call(**{knob: value})


def test_knobs_given_alone_fill_in_from_default() -> None:
    v = Validator({"type": "object"}, adapt=False)
    r = v.validate_batch([{}] * 10, batch_size=3)
    # (the default's micro_batch_size fitted to the batch_size given)
    assert (r.config.batch_size, r.config.micro_batch_size, r.config.threads) == (
        3,
        min(3, DEFAULT_CONFIGURATION.micro_batch_size),
        DEFAULT_CONFIGURATION.threads,
    )
    assert r.stats.chunks == 4


@pytest.mark.parametrize("threads", [1, 2])
def test_streams_are_consumed_chunk_by_chunk(threads: int) -> None:
    """A generator is read B records at a time, an NDJSON stream a buffer at a time: an
    endless source still yields its first chunks."""
    v = Validator({"type": "object", "required": ["a"]}, adapt=False)
    pulled = 0

    def endless() -> Iterator[Any]:
        nonlocal pulled
        i = 0
        while True:
            pulled += 1
            yield {"a": i} if i % 3 else {}
            i += 1

    seen = []
    for k, r in enumerate(
        v.iter_validate(endless(), batch_size=100, micro_batch_size=10, threads=threads)
    ):
        seen.append((len(r), r.start, pulled, r.n_invalid))
        if k == 2:
            break
    assert seen == [(100, 0, 100, 34), (100, 100, 200, 33), (100, 200, 300, 33)]

    class EndlessReader:
        def __init__(self) -> None:
            self.reads = 0

        def read(self, size: int) -> bytes:
            self.reads += 1
            return b'{"a": 1}\n' * max(1, size // 9)

    reader = EndlessReader()
    for k, r in enumerate(
        v.iter_validate(reader, batch_size=50, micro_batch_size=10, threads=threads)
    ):
        assert (len(r), r.start, r.n_invalid) == (50, 50 * k, 0)
        if k == 2:
            break
    assert 1 <= reader.reads <= 4


@pytest.mark.parametrize("threads", [1, 2])
def test_closed_objects_report_alike_from_dicts_and_json(threads: int) -> None:
    """A dict of a closed object (`additionalProperties`) is walked once for its properties
    and again only for the keys left to `additionalProperties`; parsed JSON is looked up.
    Both report the same failures in the same order: properties and missing required names
    in the schema's order, then the other keys in the record's order."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "string"},
            "c": {"type": "object", "properties": {"d": {"type": "integer"}},
                  "required": ["d", "e"], "additionalProperties": False},
        },
        "required": ["a", "b", "z"],
        "additionalProperties": {"type": "boolean"},
    }
    v = Validator(schema, adapt=False)
    records = [
        {"x": 1, "b": 2, "a": "s", "y": True, "c": {"q": 1, "d": "no"}},
        {"c": {"d": 1, "e": 2}, "a": 1, "b": "", "z": 0},
        {"z": False, "b": "x", "a": 1},
        {"a": 1, "b": "x", "z": None, "w": None, "c": {}},
    ] * 3
    from_dicts = v.validate_batch(records, threads=threads, batch_size=3, micro_batch_size=2)
    from_json = v.validate_json(json.dumps(records), threads=threads, batch_size=3,
                                micro_batch_size=2)
    assert outcome(from_dicts) == outcome(from_json)
    assert [(e.path, e.keyword) for e in from_dicts.errors if e.index == 0] == [
        ("/a", "type"), ("/b", "type"), ("/c/d", "type"), ("/c", "required"),
        ("/c", "additionalProperties"), ("", "required"), ("/x", "type"),
    ]
    assert [(e.path, e.keyword) for e in from_dicts.errors if e.index == 1] == [
        ("/c", "additionalProperties"), ("/z", "type"),  # `z` is required, not a property
    ]
    assert from_dicts.valid[2] is True
    assert [(e.path, e.keyword) for e in from_dicts.errors if e.index == 3] == [
        ("/c", "required"), ("/c", "required"), ("/z", "type"), ("/w", "type"),
    ]


def test_a_call_of_many_chunks_makes_its_result_lists_whole() -> None:
    """A call's result lists are made once, at the end, and past 65,536 items with the GIL let
    go on the way (the list kept from the garbage collector until it is whole): 150,000
    records in chunks of 8,192, a third of them invalid, give the verdicts and errors of one
    chunk, with the pause budget (lists grown chunk by chunk) or without, from lists, JSON and
    NDJSON, while another thread collects garbage and walks every object it tracks."""
    import gc
    import threading

    import orjson

    schema = {"type": "object", "properties": {"a": {"type": "integer", "maximum": 99}}}
    records = [{"a": i % 150} for i in range(150_000)]
    v = Validator(schema, adapt=False)
    want = v.validate_batch(records, batch_size=200_000, micro_batch_size=200_000, threads=1)
    assert want.n_valid == 100_000 and len(want.errors) == 50_000
    stop = threading.Event()

    def collect() -> None:
        while not stop.is_set():
            gc.collect()
            for obj in gc.get_objects():
                if type(obj) is list:
                    len(obj) and obj[-1]  # every tracked list is whole

    walker = threading.Thread(target=collect)
    walker.start()
    try:
        payloads = {"dicts": records, "json": orjson.dumps(records),
                    "ndjson": b"".join(orjson.dumps(r) + b"\n" for r in records)}
        for kind, payload in payloads.items():
            for pause in (None, "1ms"):
                got = v.validate(payload, input_kind=kind, batch_size=8192, threads=1,
                                 max_pause=pause)
                assert got.stats.chunks == 19
                assert got.valid == want.valid, (kind, pause)
                assert [(e.index, e.message) for e in got.errors] == [
                    (e.index, e.message) for e in want.errors], (kind, pause)
    finally:
        stop.set()
        walker.join()
