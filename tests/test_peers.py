"""Peer adapters: the baselines answer exactly right, so that ratios against them mean something."""

from __future__ import annotations

import pytest

import peers
from satya_adapt.tuning import workloads as w

PROFILES = list(w.PROFILES)


def _exact_peers(library: str) -> list[peers.Adapter]:
    return [a for a in peers.adapters(include_self=False) if a.library == library]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("library", ["msgspec", "pydantic", "jsonschema-rs", "fastjsonschema"])
def test_baseline_peers_answer_exactly(profile: str, library: str) -> None:
    group = _exact_peers(library)
    if not group[0].available():
        pytest.skip(f"{library} is not installed")
    wl = w.make_workload(profile, 600, seed=4)
    for adapter in group:
        assert adapter.prepare(wl)() == wl.expected_valid, adapter.name


@pytest.mark.parametrize("profile", PROFILES)
def test_satya_adapt_adapters_answer_exactly(profile: str) -> None:
    wl = w.make_workload(profile, 600, seed=4)
    for adapter in peers.adapters((1, 2), batch_size=64, micro_batch_size=16):
        if adapter.role == "self":
            assert adapter.prepare(wl)() == wl.expected_valid, (adapter.kind, adapter.name)


def test_orjson_reference_returns_no_answer() -> None:
    pytest.importorskip("orjson")
    wl = w.make_workload("plain3", 50)
    refs = [a for a in peers.adapters(include_self=False) if a.role == "reference"]
    assert [a.kind for a in refs] == ["json", "ndjson"]
    assert all(a.prepare(wl)() is None for a in refs)


def test_msgspec_type_mirrors_the_schema() -> None:
    msgspec = pytest.importorskip("msgspec")
    struct = peers.msgspec_type(w.schema_for(w.PROFILES["constrained3"]))
    ok = {"name": "ann", "age": 3, "email": "a@b.io"}
    assert msgspec.convert(ok, struct).age == 3
    for bad in ({"age": 151}, {"name": ""}, {"email": "a@b"}, {"age": True}):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(dict(ok, **bad), struct)


def test_translators_refuse_what_they_cannot_express() -> None:
    pytest.importorskip("msgspec")
    with pytest.raises(ValueError, match=r"do not support \['multipleOf'\]"):
        peers.msgspec_type({"type": "integer", "multipleOf": 3})
    with pytest.raises(ValueError, match="no msgspec equivalent for format 'ipv4'"):
        peers.msgspec_type({"type": "string", "format": "ipv4"})


def test_satya_substitutes_are_reported() -> None:
    pytest.importorskip("satya")
    notes = peers.satya_notes(w.schema_for(w.PROFILES["nested"]))
    assert notes == [peers.SATYA_SUBSTITUTES["items"]]
    assert peers.satya_notes(w.schema_for(w.PROFILES["plain3"])) == []
