"""Generated workloads: deterministic, and every broken record breaks exactly the rule it says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from satya_adapt import Validator
from satya_adapt.tuning import workloads as w

PARAMETRIC = [
    w.WorkloadSpec(
        name="p-nested",
        field_count=12,
        nesting=2,
        list_length=4,
        constrained=0.6,
        costly=0.5,
        string_length=5,
    ),
    w.WorkloadSpec(
        name="p-costly", field_count=40, nesting=1, constrained=1.0, costly=1.0, string_length=30
    ),
    w.WorkloadSpec(
        name="p-plain", field_count=3, list_length=10, constrained=0.0, costly=0.0, string_length=2
    ),
    w.WorkloadSpec(name="p-one", field_count=1, constrained=1.0, costly=1.0, string_length=1),
]
ALL_SPECS = list(w.PROFILES.values()) + PARAMETRIC


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def test_same_seed_same_workload() -> None:
    a = w.make_workload("mixed10", 300, seed=9)
    b = w.make_workload("mixed10", 300, seed=9)
    assert a.records == b.records
    assert a.broken == b.broken
    assert a.json_bytes() == b.json_bytes()
    c = w.make_workload("mixed10", 300, seed=10)
    assert c.records != a.records


def test_known_first_record_of_plain3() -> None:
    # Pins the generator: a change here changes every stored benchmark result.
    wl = w.make_workload("plain3", 3, seed=0)
    assert wl.schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "score": {"type": "number"},
        },
        "required": ["name", "count", "score"],
    }
    assert list(wl.records[0]) == ["name", "count", "score"]
    assert wl.records == w.make_workload(w.PROFILES["plain3"], 3, seed=0).records


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_invalid_share_and_truth(spec: w.WorkloadSpec) -> None:
    wl = w.make_workload(spec, 2000, seed=3)
    assert len(wl.invalid) == 100  # 5% exactly
    assert wl.invalid == sorted(wl.broken)
    assert wl.expected_valid.count(False) == 100
    assert all(wl.broken[i].index == i for i in wl.invalid)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_each_broken_record_breaks_exactly_its_rule_jsonschema_rs(spec: w.WorkloadSpec) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    wl = w.make_workload(spec, 2000, seed=5)
    v = jsonschema_rs.validator_for(wl.schema, validate_formats=True)
    for i, record in enumerate(wl.records):
        errors = [(_pointer(e.instance_path), e.schema_path[-1]) for e in v.iter_errors(record)]
        b = wl.broken.get(i)
        assert errors == ([] if b is None else [(b.path, b.keyword)]), (i, record, b)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_each_broken_record_breaks_exactly_its_rule_satya_adapt(spec: w.WorkloadSpec) -> None:
    wl = w.make_workload(spec, 2000, seed=6)
    result = Validator(wl.schema, adapt=False).validate_batch(wl.records)
    assert result.valid == wl.expected_valid
    got: dict[int, list[tuple[str, str]]] = {}
    for e in result.errors:
        got.setdefault(e.index, []).append((e.path, e.keyword))
    assert got == {i: [(b.path, b.keyword)] for i, b in wl.broken.items()}


def test_every_kind_and_every_break_is_exercised() -> None:
    spec = w.WorkloadSpec(fields=tuple((k, k) for k in w.KINDS), list_length=5, invalid_rate=1.0)
    wl = w.make_workload(spec, 3000, seed=1)
    seen = {
        (b.path.split("/")[1], b.keyword, b.detail)
        for b in wl.broken.values()
        if b.keyword != "required"
    }
    for kind_name, kind in w.KINDS.items():
        for keyword, detail, _ in kind.breaks:
            assert (kind_name, keyword, detail) in seen, (kind_name, keyword, detail)
    assert {b.keyword for b in wl.broken.values()} >= {
        "required",
        "type",
        "pattern",
        "format",
        "enum",
    }


def test_named_profiles() -> None:
    leaves = {name: w.make_workload(name, 10).summary()["leaf_fields"] for name in w.PROFILES}
    assert leaves == {"plain3": 3, "constrained3": 3, "mixed10": 10, "wide30": 30, "nested": 5}
    c3 = w.schema_for(w.PROFILES["constrained3"])["properties"]
    assert c3["email"] == {"type": "string", "pattern": w.EMAIL_PATTERN}
    assert c3["age"] == {"type": "integer", "minimum": 0, "maximum": 150}
    assert c3["name"] == {"type": "string", "minLength": 1, "maxLength": 28}
    m10 = w.schema_for(w.PROFILES["mixed10"])["properties"]
    assert m10["created"] == {"type": "string", "format": "date"}
    assert m10["status"]["enum"] == list(w.ENUM_WORDS)
    nested = w.schema_for(w.PROFILES["nested"])["properties"]["meta"]["properties"]["scores"]
    assert nested == {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 100},
        "minItems": 1,
        "maxItems": 8,
    }
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        w.profile_spec("nope")


def test_parametric_layout() -> None:
    spec = w.WorkloadSpec(field_count=12, nesting=2, list_length=4, constrained=0.5, costly=0.4)
    layout = w.layout_of(spec)
    assert layout == w.layout_of(spec)  # a pure function of the spec
    leaves = w._leaves(layout)
    assert len(leaves) == 12
    kinds = [k for _, k in leaves]
    assert kinds.count("int_list") == 1
    costly = [k for k in kinds if w.KINDS[k].costly]
    constrained = [k for k in kinds if w.KINDS[k].constrained and k != "int_list"]
    assert len(constrained) == round(0.5 * 11) == 6
    assert len(costly) == round(0.4 * 6) == 2
    assert max(len(path) for path, _ in leaves) == 3  # n1 / n2 / leaf
    schema = w.schema_for(spec)
    assert schema["properties"]["n1"]["properties"]["n2"]["type"] == "object"


def test_string_length_moves_record_size() -> None:
    short = w.make_workload(w.WorkloadSpec(field_count=8, constrained=0.0, string_length=4), 200)
    long = w.make_workload(w.WorkloadSpec(field_count=8, constrained=0.0, string_length=64), 200)
    # two of the eight leaves are free text (str, int, float, bool, ...)
    assert long.summary()["json_bytes_per_record"] > 2 * short.summary()["json_bytes_per_record"]


def test_json_and_ndjson_encodings(tmp_path: Path) -> None:
    wl = w.make_workload("nested", 500, seed=2)
    assert json.loads(wl.json_bytes()) == wl.records
    lines = wl.ndjson_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 501
    assert [json.loads(x) for x in lines[:-1]] == wl.records
    path = tmp_path / "nested.ndjson"
    invalid = w.write_ndjson(path, "nested", 500, seed=2)
    assert path.read_bytes() == wl.ndjson_bytes()
    assert invalid == wl.invalid


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="`field_count` must be at least 1, got 0"):
        w.WorkloadSpec(field_count=0)
    with pytest.raises(ValueError, match=r"`costly` must be in \[0, 1\], got 1.5"):
        w.WorkloadSpec(costly=1.5)
    with pytest.raises(ValueError, match="`n` must be >= 0"):
        list(w.iter_records(w.WorkloadSpec(), -1))
    assert w.make_workload("plain3", 0).records == []
    assert w.with_params(w.PROFILES["plain3"], string_length=3).string_length == 3
