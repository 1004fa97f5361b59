"""Python records whose containers are shared (a DAG) or hold themselves (a cycle):
their value is the tree expansion, exponential or unbounded in the object graph. The pool
path (two threads) took such a record apart whole, and never finished where one thread
answered at once (a record holding itself, with `uniqueItems` or a recursive schema);
it now checks a record that expands past `MAX_CONVERTED` items, or holds a container
twice, in place, as one thread does: the same results on every path. A container shared
a few times gives the results of its deep copy.

A whole-value keyword (`uniqueItems`, `const`, `enum`: their walks for values JSON cannot
hold, their hashes and comparisons) and a recursive schema that walks every value (`walk`)
visited a DAG once per path, 2**60 times, and so did any schema that descends as deep without
recursion (definitions one after another, `items` nested in `items`). The whole-value walks
now remember what they found of each container (past 4,096 of them); the walk of a Python
record remembers each node's verdict at each container (past 65,536 entries of containers
visited); past a record's first 65,536 errors, one found again at another path is counted
in `errors_omitted` (exactly), not listed."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest

from revisit_helpers import outcomes, remembering_every_visit
from satya_adapt import Validator

TOO_DEEP = "Nesting deeper than 128 levels"

SCHEMAS: dict[str, Any] = {
    "any": {},
    "object": {"type": "object"},
    "unique": {"uniqueItems": True},
    "props": {"properties": {"a": {"type": "object"}}},
    "deep": {"$ref": "#/$defs/n", "$defs": {"n": {"properties": {"a": {"$ref": "#/$defs/n"}}}}},
    "const": {"items": {"const": {"a": 1}}},
    "enum": {"items": {"enum": [1, {"a": 1}]}},
    "walk": {"additionalProperties": {"$ref": "#"}},
    "walk_any": {"type": "object", "additionalProperties": {"anyOf": [{"type": "integer"}, {"$ref": "#"}]}},
    # No recursion: 61 definitions, each naming the next twice; 61 levels written out.
    "chain": {
        "$defs": {
            **{f"d{i}": {"properties": {"a": {"$ref": f"#/$defs/d{i + 1}"},
                                        "b": {"$ref": f"#/$defs/d{i + 1}"}}} for i in range(61)},
            "d61": {"type": "object"},
        },
        "$ref": "#/$defs/d0",
    },
    "nested": json.loads('{"additionalProperties": ' * 61 + '{"type": "object"}' + "}" * 61),
}

# Runs in a child process so that a regression fails on its timeout instead of
# hanging the suite. Prints, for each path, the verdicts and the errors.
CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
kind, name, schema = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if kind == "cycle":
    x = {}; x["a"] = x; x["b"] = x
else:
    x = {}
    for _ in range(60):
        x = {"a": x, "b": x}
record = [x, 1] if name in ("unique", "const", "enum") else x
records = [record] * 3
v = Validator(schema, adapt=False, max_errors=20)
out = {}
for threads in (1, 2):
    r = v.validate_batch(records, threads=threads, micro_batch_size=1)
    out[f"errors{threads}"] = [r.valid, [(e.index, e.path, e.keyword, e.message) for e in r.errors]]
    out[f"omitted{threads}"] = r.errors_omitted
    r = v.validate_batch(records, threads=threads, micro_batch_size=1, errors=False)
    out[f"verdicts{threads}"] = r.valid
out["is_valid"] = [v.is_valid(rec) for rec in records]
out["one"] = [(e.path, e.keyword, e.message) for e in v.validate_one(record)]
print(json.dumps(out))
"""

EXPECTED: dict[tuple[str, str], tuple[bool, list[tuple[str, str, str]]]] = {
    ("cycle", "any"): (True, []),
    ("cycle", "object"): (True, []),
    # The walk for values JSON cannot hold stops at the first value too deep; `x`
    # and `1` differ in kind: never compared further.
    ("cycle", "unique"): (True, []),
    ("cycle", "props"): (True, []),
    # A container inside 128 others is too deep, as in JSON text.
    ("cycle", "deep"): (False, [("/a" * 128, "depth", TOO_DEEP)]),
    ("dag", "any"): (True, []),
    ("dag", "object"): (True, []),
    ("dag", "props"): (True, []),
    ("dag", "deep"): (True, []),
    ("dag", "walk"): (True, []),
    ("dag", "walk_any"): (True, []),
    ("dag", "chain"): (True, []),
    ("dag", "nested"): (True, []),
    ("cycle", "chain"): (True, []),
    ("cycle", "nested"): (True, []),
    # `[x, 1]`: two values of different kinds.
    ("dag", "unique"): (True, []),
}


def run_child(kind: str, name: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, name, json.dumps(SCHEMAS[name])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


CASES = [("cycle", name) for name in SCHEMAS if name != "walk_any"] + [
    ("dag", name) for name in SCHEMAS
]


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_hostile_records_finish_alike_on_every_path(kind: str, name: str) -> None:
    out = run_child(kind, name)
    first = out["errors1"]
    valid = first[0]
    errors = [tuple(e) for e in first[1]]
    assert out["errors2"] == first
    assert out["omitted1"] == out["omitted2"]
    assert out["verdicts1"] == valid and out["verdicts2"] == valid
    assert out["is_valid"] == valid
    assert [tuple(e) for e in out["one"]] == [e[1:] for e in errors if e[0] == 0]
    if (kind, name) == ("cycle", "walk"):
        # Each of the 2**128 paths of 128 keys ends too deep (a container inside 128
        # others, as in JSON text): the first 20 listed (in walk order), the rest counted,
        # past what `errors_omitted` can hold.
        assert valid == [False] * 3
        assert errors[0] == (0, "/a" * 128, "depth", TOO_DEEP)
        assert errors[1] == (0, "/a" * 127 + "/b", "depth", TOO_DEEP)
        assert len(errors) == 20 and out["omitted1"] == 2**64 - 1
    elif (kind, name) in EXPECTED:
        ok, one = EXPECTED[(kind, name)]
        assert valid == [ok] * 3
        assert errors == [(i, *e) for i in range(3) for e in one]
    else:
        # `const`, `enum`: `x` equals no literal.
        assert valid == [False] * 3
        assert errors[0][:3] == (0, "/0", name)


def results(v: Validator, records: list[Any]) -> list[Any]:
    out: list[Any] = []
    for threads in (1, 2):
        r = v.validate_batch(records, threads=threads, micro_batch_size=2)
        out.append((r.valid, [(e.index, e.path, e.keyword, e.message) for e in r.errors]))
        out.append(v.validate_batch(records, threads=threads, errors=False).valid)
    out.append([v.is_valid(r) for r in records])
    out.append([[(e.path, e.keyword, e.message) for e in v.validate_one(r)] for r in records])
    return out


@pytest.mark.parametrize(
    "schema",
    [
        {"uniqueItems": True},
        {"properties": {"a": {"uniqueItems": True}, "b": {"const": ["x", "y"]}}},
        {"additionalProperties": {"enum": [["x", "y"], ["x", "z", "z"]]}},
        {"additionalProperties": {"$ref": "#/$defs/t"}, "$defs": {"t": {"items": {"type": "string", "maxLength": 1}}}},
        {
            "$defs": {"n": {"type": ["object", "array", "string"], "maxLength": 1,
                            "additionalProperties": {"$ref": "#/$defs/n"}, "items": {"$ref": "#/$defs/n"}}},
            "$ref": "#/$defs/n",
        },
    ],
)
def test_shared_containers_give_the_results_of_their_deep_copies(schema: Any) -> None:
    tags = ["x", "y"]
    other = ["x", "z", "z"]
    shared = [
        {"a": tags, "b": tags},
        {"a": other, "b": tags, "c": other},
        [tags, tags],
        [tags, other, tags],
        {"a": [tags, tags], "b": [tags, 1]},
    ]
    v = Validator(schema, adapt=False)
    got = results(v, shared)
    assert got == results(v, copy.deepcopy(shared))
    assert got[0] == got[2]  # threads 1 and 2


# A DAG whose every path fails: its innermost value is 1, where the schema wants objects.
FAILING = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
cap = json.loads(sys.argv[1])
x = 1
for _ in range(60):
    x = {"a": x, "b": x}
v = Validator({"type": "object", "additionalProperties": {"$ref": "#"}}, adapt=False, max_errors=cap)
out = {}
for threads in (1, 2):
    r = v.validate_batch([x, x, x], threads=threads, micro_batch_size=1)
    out[f"errors{threads}"] = [r.valid, [(e.index, e.path, e.keyword) for e in r.errors[:50]], len(r.errors), r.errors_omitted]
    out[f"verdicts{threads}"] = v.validate_batch([x, x, x], threads=threads, errors=False).valid
out["is_valid"] = v.is_valid(x)
out["one"] = len(v.validate_one(x))
print(json.dumps(out))
"""


@pytest.mark.parametrize("cap", [None, 5])
def test_a_dag_failing_at_every_path_is_counted_exactly(cap: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FAILING, json.dumps(cap)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    out = json.loads(done.stdout)
    assert out["errors1"] == out["errors2"]
    valid, first, listed, omitted = out["errors1"]
    assert valid == [False] * 3
    assert out["verdicts1"] == out["verdicts2"] == [False] * 3
    assert out["is_valid"] is False
    # Every one of the 2**60 paths of each record, listed or counted.
    assert listed + omitted == 3 * 2**60
    assert first[0] == [0, "/a" * 60, "type"] and first[1] == [0, "/a" * 59 + "/b", "type"]
    if cap is None:
        # Each record's first 65,536 errors listed, path by path; the others counted.
        assert listed == 3 * 2**16
    else:
        assert listed == cap
    assert out["one"] == (2**16 if cap is None else cap)


# A DAG of 100 levels whose keys are 300 characters long: its paths run to 30,000 characters.
LONG_PATHS = r"""
import json, resource, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
x = "x"
for _ in range(100):
    x = {"k" * 300: x, "j" * 300: x}
v = Validator({"additionalProperties": {"$ref": "#"}, "type": ["object", "integer"]}, adapt=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = [len(v.validate_one(x, max_errors=1))]
for threads in (1, 2):
    r = v.validate_batch([x, x], threads=threads, max_errors=1)
    out.append([len(r.errors), r.errors_omitted])
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps([out, grown // 1024]))
"""


def test_errors_past_max_errors_cost_a_count_on_a_dag_of_long_paths() -> None:
    # Before, each walk of a container past the cap kept its path until 65,536 errors were
    # found: 1.4 GB (and 7.9 s) for the first call here, 4.3 GB at keys of 1,000 characters.
    done = subprocess.run(
        [sys.executable, "-c", LONG_PATHS], capture_output=True, text=True, check=True,
    )
    out, grown_mb = json.loads(done.stdout)
    assert out == [1, [1, 2**64 - 1], [1, 2**64 - 1]]
    assert grown_mb < 100, grown_mb  # (now about 10 MB: the paths of the errors listed)


# `allOf` of two references to one definition: each failure is found twice at one path,
# listed once; the walk of a container counted at another path skips the repeats there too.
WALK_TYPED = {"additionalProperties": {"$ref": "#"}, "type": ["object", "integer"]}
TWICE = {"$defs": {"t": WALK_TYPED}, "allOf": [{"$ref": "#/$defs/t"}, {"$ref": "#/$defs/t"}]}


@pytest.mark.parametrize("cap", [None, 0, 1, 3, 40])
def test_a_dag_past_max_errors_counts_what_its_tree_counts(cap: Any) -> None:
    leaf: Any = []
    dag: Any = leaf
    for _ in range(6):
        dag = {"k": dag, "j": dag}
    tree = json.loads(json.dumps(dag))
    for schema in (TWICE, WALK_TYPED):
        v = remembering_every_visit(lambda schema=schema: Validator(schema, adapt=False, max_errors=cap))
        got = [(len(r.errors), r.errors_omitted) for r in (v.validate_batch([x]) for x in (dag, tree))]
        assert got[0] == got[1], (schema, cap)
        assert sum(got[0]) == 2**6


# Whole-value keywords on a DAG whose innermost value is NaN: every path is a `json` error.
NAN_LEAF = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
x = float("nan")
for _ in range(60):
    x = {"a": x, "b": x}
twin = float("nan")
for _ in range(60):
    twin = {"a": twin, "b": twin}
out = {}
for name, schema in (("unique", {"uniqueItems": True}), ("const", {"items": {"const": {"a": 1}}}),
                     ("enum", {"items": {"enum": [1, {"a": 1}]}})):
    v = Validator(schema, adapt=False)
    runs = []
    for threads in (1, 2):
        r = v.validate_batch([[x, 1], [x, twin]], threads=threads, micro_batch_size=1)
        runs.append([r.valid, len(r.errors), r.errors_omitted, [(e.index, e.path, e.keyword) for e in r.errors[:3]]])
        runs.append(v.validate_batch([[x, 1], [x, twin]], threads=threads, errors=False).valid)
    runs.append([v.is_valid([x, 1]), v.is_valid([x, twin])])
    out[name] = runs
print(json.dumps(out))
"""


def test_whole_value_keywords_count_a_dag_failing_at_every_path() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NAN_LEAF], capture_output=True, text=True, timeout=60, check=True,
    )
    out = json.loads(done.stdout)
    for name, runs in out.items():
        errors1, verdicts1, errors2, verdicts2, is_valid = runs
        assert errors1 == errors2, name
        assert verdicts1 == verdicts2 == is_valid == [False, False], name
        _, listed, omitted, first = errors1
        # Each NaN at the end of each of the 2**60 paths of each DAG (one in the first
        # record, two in the second), listed up to 65,536 per keyword's walk, then counted.
        extra = 1 if name == "const" else 0  # `1` is not `{"a": 1}`
        assert listed + omitted == 3 * 2**60 + extra, name
        assert listed <= 3 * 2**16 + 1, name  # (at most one walk per DAG)
        assert first[0] == [0, "/0" + "/a" * 60, "json"], name


# Lists holding one list `width` times, `levels` deep, whose innermost items (1) are not
# strings: every one of the width**levels paths fails, under a schema that descends that deep
# without recursion (nested `items`, or definitions one after another).
WIDE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
form, levels, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = 1
for _ in range(levels):
    x = [x] * width
if form == "items":
    schema = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
else:
    defs = {f"d{i}": {"type": "array", "items": {"$ref": f"#/$defs/d{i + 1}"}} for i in range(levels)}
    schema = {"$defs": {**defs, f"d{levels}": {"type": "string"}}, "$ref": "#/$defs/d0"}
v = Validator(schema, adapt=False)
out = {}
for threads in (1, 2):
    r = v.validate_batch([x, x], threads=threads, micro_batch_size=1)
    out[f"errors{threads}"] = [r.valid, [(e.index, e.path, e.keyword) for e in r.errors[:2]], len(r.errors), r.errors_omitted]
    out[f"verdicts{threads}"] = v.validate_batch([x, x], threads=threads, errors=False).valid
out["is_valid"] = v.is_valid(x)
out["one"] = len(v.validate_one(x))
print(json.dumps(out))
"""


@pytest.mark.parametrize("form", ["items", "definitions"])
@pytest.mark.parametrize(("levels", "width"), [(3, 300), (6, 100), (40, 2)])
def test_wide_shared_lists_under_schemas_without_recursion_are_counted_exactly(
    form: str, levels: int, width: int
) -> None:
    # Before, (3, 300) took 23 s (27 million failures walked) and (6, 100) never finished.
    done = subprocess.run(
        [sys.executable, "-c", WIDE, form, str(levels), str(width)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    out = json.loads(done.stdout)
    assert out["errors1"] == out["errors2"]
    valid, first, listed, omitted = out["errors1"]
    assert valid == [False, False]
    assert out["verdicts1"] == out["verdicts2"] == [False, False]
    assert out["is_valid"] is False
    assert listed + omitted == 2 * width**levels
    # Each record's errors listed until 65,536 of them, the innermost list's walk (``width``
    # failures) finished; the others counted.
    assert 2 * 2**16 <= listed <= 2 * (2**16 + width)
    assert first == [[0, "/0" * levels, "type"], [0, "/0" * (levels - 1) + "/1", "type"]]
    assert 2**16 <= out["one"] <= 2**16 + width


def test_a_large_container_under_a_dag_is_walked_a_bounded_number_of_times() -> None:
    # A list of 20,000 items at the end of 2**40 paths: counted by its entries, the walk
    # starts remembering after a few visits of it, not after 65,536 of them.
    code = r"""
import json, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
x = {"t": list(range(20000))}
for _ in range(40):
    x = {"a": x, "b": x}
schema = {"type": "object", "properties": {"t": {"items": {"type": "integer"}}}}
for _ in range(40):
    schema = {"type": "object", "additionalProperties": schema}
v = Validator(schema, adapt=False)
print(json.dumps([v.validate_batch([x]).valid, v.is_valid(x)]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
    )
    assert json.loads(done.stdout) == [[True], True]


# A dynamic reference resolves by the dynamic scope: `generic` lets any item through, and
# `ints`, which names it, makes its items integers. Reached at one value under both scopes,
# a verdict remembered under one is not the other's.
GENERIC = {"$id": "https://example.com/generic", "type": "array", "items": {"$dynamicRef": "#item"},
           "$defs": {"item": {"$dynamicAnchor": "item"}}}
INTS = {"$id": "https://example.com/ints", "$ref": "generic",
        "$defs": {"item": {"$dynamicAnchor": "item", "type": "integer"}}}
INTS_ERROR = ("/a/0", "type", 'Expected `integer`, got `string` "x"')


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ({"properties": {"a": {"$ref": "ints"}, "b": {"$ref": "generic"}}}, [False, False, True, True]),
        ({"properties": {"b": {"$ref": "generic"}, "a": {"$ref": "ints"}}}, [False, False, True, True]),
        ({"allOf": [{"$ref": "generic"}, {"$ref": "ints"}]}, [False, False, False, True]),
        ({"anyOf": [{"$ref": "ints"}, {"$ref": "generic"}]}, [False, False, True, True]),
    ],
)
def test_a_verdict_remembered_under_one_dynamic_scope_is_not_anothers(
    root: Any, expected: list[bool]
) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://example.com/root", **root, "$defs": {"generic": GENERIC, "ints": INTS}}
    shared = ["x", 1]
    docs = [{"a": shared, "b": shared}, {"b": shared, "a": shared}, shared, [1, 2]]
    every = remembering_every_visit(lambda: Validator(schema, adapt=False))
    plain = Validator(schema, adapt=False)
    assert outcomes(every, docs) == outcomes(plain, docs)
    r = plain.validate_batch(docs)
    assert r.valid == expected
    if "properties" in root:
        assert [(e.index, e.path, e.keyword, e.message) for e in r.errors] == [
            (0, *INTS_ERROR), (1, *INTS_ERROR)
        ]


DYNAMIC = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
form = sys.argv[1]
out = {}
if form == "dag":
    # A recursive schema through a dynamic reference, on a dict held twice at each of 60 levels.
    x = 1
    for _ in range(60):
        x = {"a": x, "b": x}
    v = Validator({"$schema": "https://json-schema.org/draft/2020-12/schema", "$dynamicAnchor": "t",
                   "additionalProperties": {"$dynamicRef": "#t"}, "type": ["object", "integer"]},
                  adapt=False)
    for threads in (1, 2):
        r = v.validate_batch([x, x], threads=threads, micro_batch_size=1)
        out[f"errors{threads}"] = [r.valid, len(r.errors), r.errors_omitted]
    out["is_valid"] = v.is_valid(x)
else:
    # allOf of 6 references to the next definition, 30 deep (6**30 paths), in a schema with a
    # dynamic reference, on JSON text.
    defs = {f"L{i}": {"allOf": [{"$ref": f"#/$defs/L{i + 1}"}] * 6} for i in range(30)}
    defs["L30"] = {"type": "object"}
    v = Validator({"$schema": "https://json-schema.org/draft/2020-12/schema", "$dynamicAnchor": "t",
                   "$defs": defs, "allOf": [{"$ref": "#/$defs/L0"}],
                   "properties": {"x": {"$dynamicRef": "#t"}}}, adapt=False)
    r = v.validate_json(b'[{"x": {"x": {}}}, {"x": 1}]')
    out["errors1"] = [r.valid, len(r.errors), r.errors_omitted]
print(json.dumps(out))
"""


@pytest.mark.parametrize("form", ["dag", "fan_out"])
def test_schemas_with_dynamic_references_remember_too(form: str) -> None:
    # Before, a schema with a dynamic reference remembered nothing: the DAG took 4 s at 22
    # levels (2**22 paths) and the fan-out 82 ms at 8 levels (6**8).
    done = subprocess.run(
        [sys.executable, "-c", DYNAMIC, form], capture_output=True, text=True, timeout=60, check=True,
    )
    out = json.loads(done.stdout)
    if form == "dag":
        assert out["errors1"] == out["errors2"] == [[True, True], 0, 0]
        assert out["is_valid"] is True
    else:
        assert out["errors1"] == [[True, False], 1, 0]


def test_a_dynamic_reference_on_a_dag_resolves_as_a_static_one() -> None:
    # A recursive schema through `$dynamicRef`: the dynamic scope links its resource once
    # however deep the walk (it was linked at each level, and each dynamic reference looked
    # its anchor up in every link: 40 times the time of `$ref` on a dict held twice at each
    # of 127 levels). The outcomes are those of the same schema through `$ref`, on the DAG
    # and, where a tree is small enough to expand, on every path; and an outer resource that
    # declares the anchor too still decides what the reference resolves to at every level.
    def tree(keyword: str, target: str, leaf: Any) -> Any:
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$dynamicAnchor": "node",
                "type": "object", "properties": {"a": {keyword: target}, "b": {keyword: target}, "v": leaf}}  # fmt: skip

    def dag(levels: int, leaf: Any) -> Any:
        x = leaf
        for _ in range(levels):
            x = {"a": x, "b": x}
        return x

    def kept(r: Any) -> Any:
        return r.valid, [(e.index, e.path, e.keyword, e.message) for e in r.errors], r.errors_omitted

    dynamic = Validator(tree("$dynamicRef", "#node", {"type": "integer"}), adapt=False, max_errors=50)
    static = Validator(tree("$ref", "#", {"type": "integer"}), adapt=False, max_errors=50)
    for leaf in ({}, {"v": 1}, {"v": "x"}, 1):
        docs = [dag(127, leaf), dag(3, leaf)]
        assert kept(dynamic.validate_batch(docs)) == kept(static.validate_batch(docs))
        assert [dynamic.is_valid(d) for d in docs] == [static.is_valid(d) for d in docs]
        small = [dag(6, leaf)]
        every = remembering_every_visit(lambda: Validator(tree("$dynamicRef", "#node", {"type": "integer"}), adapt=False))
        plain = Validator(tree("$dynamicRef", "#node", {"type": "integer"}), adapt=False)
        through_ref = Validator(tree("$ref", "#", {"type": "integer"}), adapt=False)
        expected = [(valid, [e[:4] for e in errors]) for valid, errors in outcomes(through_ref, small)]
        assert [(valid, [e[:4] for e in errors]) for valid, errors in outcomes(plain, small)] == expected
        assert outcomes(every, small) == outcomes(plain, small)
    strict = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/strict",
              "$dynamicAnchor": "node", "$ref": "tree", "properties": {"v": {"type": "string"}},
              "$defs": {"tree": {"$id": "tree", **tree("$dynamicRef", "#node", {})}}}  # fmt: skip
    del strict["$defs"]["tree"]["$schema"]
    v = Validator(strict, adapt=False)
    r = v.validate_batch([dag(127, {"v": "s"}), dag(127, {"v": 1})], max_errors=3)
    assert r.valid == [True, False]
    assert [(e.path, e.keyword) for e in r.errors] == [("/a" * 127 + "/v", "type")] + [
        ("/a" * 126 + "/b/v", "type"), ("/a" * 125 + "/b/a/v", "type")]  # fmt: skip


def test_unevaluated_properties_take_a_shared_nodes_annotations_per_dynamic_scope() -> None:
    # `g` evaluates what its dynamic reference resolves to: `a` alone, or `b` when reached
    # through `e`. Its annotations were taken once per value: `b` went unevaluated. (As
    # jsonschema and jsonschema-rs answer.)
    g = {"$id": "https://example.com/g", "$dynamicRef": "#p",
         "$defs": {"p": {"$dynamicAnchor": "p", "properties": {"a": True}}}}
    e = {"$id": "https://example.com/e", "$ref": "g",
         "$defs": {"p": {"$dynamicAnchor": "p", "properties": {"b": True}}}}
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/root",
              "allOf": [{"$ref": "g"}, {"$ref": "e"}], "unevaluatedProperties": False,
              "$defs": {"g": g, "e": e}}
    docs = [{"a": 1, "b": 1}, {"a": 1, "b": 1, "c": 1}, {"a": 1}]
    v = Validator(schema, adapt=False)
    for result in outcomes(v, docs):
        assert result[0] == [True, False, True]


def test_unevaluated_properties_under_a_dynamic_fan_out_finish() -> None:
    # allOf of 6 references to the next definition, 30 deep, with a dynamic reference and
    # `unevaluatedProperties`: 6**30 paths to the last definition's annotations (8 deep took
    # 0.23 s before).
    code = r"""
import json, warnings
warnings.simplefilter("ignore")
from satya_adapt import Validator
defs = {f"L{i}": {"allOf": [{"$ref": f"#/$defs/L{i + 1}"}] * 6} for i in range(30)}
defs["L30"] = {"properties": {"y": True}}
v = Validator({"$schema": "https://json-schema.org/draft/2020-12/schema", "$dynamicAnchor": "t",
               "$defs": defs, "allOf": [{"$ref": "#/$defs/L0"}], "unevaluatedProperties": False,
               "properties": {"x": {"$dynamicRef": "#t"}}}, adapt=False)
docs = [{"y": 1}, {"y": 1, "z": 2}, {"x": {"y": 1}}]
print(json.dumps([v.validate_json(json.dumps(docs).encode()).valid, v.validate_batch(docs).valid]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
    )
    assert json.loads(done.stdout) == [[True, False, True]] * 2
